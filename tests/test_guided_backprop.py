"""§6.2 guided backpropagation (guided_backprop.py) on the zoo's trained D and real 15-Scene rooms."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dcgan_core import pretrained
from dcgan_core.data import load_dataset
from dcgan_core.feature_selectivity import brightness_matched_kl, distinct_top, kl_to_prior, selectivity, thumbnails
from dcgan_core.guided_backprop import (
    GuidedBackpropConfig,
    GuidedLeakyReLU,
    box_saliency,
    concentration,
    guided_saliency,
    is_gray,
    layer_output,
    random_discriminator,
    responses,
    saliency_image,
)
from dcgan_core.widgets import guided_backprop_explorer


@pytest.fixture(scope="module")
def rooms(mirror):
    _, D, _ = pretrained.load("scenes64")
    D = D.float().to(memory_format=torch.contiguous_format)
    return D, load_dataset("scenes", 64, progress=False).subset(list(range(0, 715, 7)))  # all three classes


def test_guided_leaky_relu_forward_is_leaky_relu_and_backward_is_guided():
    x = torch.tensor([-2.0, -1.0, 0.5, 1.0, 3.0], requires_grad=True)
    y = GuidedLeakyReLU.apply(x, 0.2)
    assert torch.equal(y, F.leaky_relu(x.detach(), 0.2))
    (grad,) = torch.autograd.grad(y, x, torch.tensor([1.0, 1.0, 1.0, -1.0, 2.0]))
    # passes only where the input > 0 and the incoming gradient > 0 (the 0.2 slope passes nothing back)
    assert grad.tolist() == [0.0, 0.0, 1.0, 0.0, 2.0]


def test_layer_output_is_ds_own_forward(rooms):
    D, data = rooms
    x = data.batch(torch.arange(4))
    with torch.no_grad():
        feats = D.features(x)
        for layer in range(len(D.layers)):
            assert torch.allclose(layer_output(D, x, layer), feats[layer], atol=1e-5)
            assert torch.allclose(layer_output(D, x, layer, guided=True), feats[layer], atol=1e-5)
    with pytest.raises(ValueError, match="layer must be in"):
        layer_output(D, x, len(D.layers))


def test_saliency_of_a_first_layer_response_stays_in_its_receptive_field(rooms):
    """A layer-0 unit (4×4 kernel, stride 2, padding 1) sees a 4×4 patch: its guided gradient is zero
    outside that patch, around the position of the maximal response."""
    D, data = rooms
    images = data.images[:6]
    r = responses(D, images, 0)
    feature = int(r.mean(0).argmax())
    sal = guided_saliency(D, images, 0, [feature] * len(images))
    with torch.no_grad():
        a = layer_output(D, data.batch(torch.arange(6)), 0)[:, feature]
    for i in range(len(images)):
        y, x = divmod(int(a[i].flatten().argmax()), a.shape[-1])
        support = sal[i].abs().sum(0).nonzero()
        assert len(support) > 0
        assert support[:, 0].min() >= 2 * y - 1 and support[:, 0].max() <= 2 * y + 2
        assert support[:, 1].min() >= 2 * x - 1 and support[:, 1].max() <= 2 * x + 2


def test_saliency_concentrates_for_the_trained_last_layer_and_not_for_random_filters(rooms):
    """gbp-structure-rooms in small: on the same images, the trained D's last-layer maps put more of
    their mass in the top tenth of pixels than a random D's; a second random D does not beat the first."""
    D, data = rooms

    def mean_concentration(net):
        top = responses(net, data.images, -1).argmax(0)[:32]  # each feature's best image
        return float(concentration(guided_saliency(net, data.images[top], -1, torch.arange(len(top)))).mean())

    _, _, cfg = pretrained.load("scenes64")
    trained, random0, random1 = (
        mean_concentration(net) for net in (D, random_discriminator(cfg, 0), random_discriminator(cfg, 1))
    )
    assert trained / random0 > 1.1, (trained, random0)
    assert random1 / random0 < 1.1, (random1, random0)


def test_selectivity_and_concentration_by_hand():
    labels = F.one_hot(torch.tensor([0] * 6 + [1] * 3 + [2] * 3), 3).numpy()[:, None, :].astype(float)
    top = np.array([[0, 1, 2], [0, 6, 9]])  # all class 0; one of each class
    kl, best = selectivity(top, labels)
    assert kl[0] == pytest.approx(np.log(2)) and best[0] == 1.0
    assert kl[1] == pytest.approx(kl_to_prior(np.array([1.0, 1, 1]), np.array([0.5, 0.25, 0.25])))
    assert best[1] == pytest.approx(1 / 3)
    flat = torch.ones(1, 3, 10, 10)
    spike = torch.zeros(1, 3, 10, 10)
    spike[0, :, 4, 4] = 1
    assert concentration(flat)[0] == pytest.approx(0.1) and concentration(spike)[0] == pytest.approx(1.0)


def test_config_rejects_more_saliency_images_than_top_images():
    with pytest.raises(ValueError, match="saliency_k"):
        GuidedBackpropConfig(top_k=3, saliency_k=5)


def test_explorer_shows_a_features_top_images_and_saliency(rooms):
    D, data = rooms
    box = guided_backprop_explorer({"scenes64 trained": (D, data)}, k=4)
    (_model, layer, feature), (percentile, over) = box.children[0].children, box.children[1].children
    label, images, saliency = box.children[2:]
    first = bytes(images.value)
    assert first.startswith(b"\x89PNG") and bytes(saliency.value).startswith(b"\x89PNG")
    assert images.width == str(4 * 128)  # each image 128 px wide, not squeezed
    assert images.layout.min_width == saliency.layout.min_width == f"{4 * 128}px"  # not by a narrow notebook
    assert feature.max == D.layers[-1][0].out_channels - 1
    feature.value = 5
    assert bytes(images.value) != first and "feature 5" in label.value
    maps = bytes(saliency.value)
    percentile.value = 100.0  # scaled by each map's maximum: fainter
    assert bytes(saliency.value) != maps
    maps = bytes(saliency.value)
    over.value = True  # the maps over the images
    assert bytes(saliency.value) != maps
    layer.value = 0
    assert feature.max == D.layers[0][0].out_channels - 1


def test_top_images_skip_near_copies():
    """Three copies of one image (one re-saved: ±1 per pixel) respond most; a feature's top 3 take one of
    them and the next two distinct images."""
    rng = np.random.default_rng(0)
    images = torch.from_numpy(rng.integers(0, 256, size=(8, 3, 32, 32), dtype=np.uint8))
    images[1] = images[0]
    images[2] = (images[0].int() + 1).clamp(0, 255).byte()
    r = torch.tensor([9.0, 8.5, 8.0, 1, 2, 7, 6, 0])[:, None]
    assert distinct_top(r, thumbnails(images), 3)[0].tolist() == [0, 5, 6]
    assert distinct_top(r, thumbnails(images), 3, tol=0)[0].tolist() == [0, 1, 2]  # no tolerance: copies kept


def test_brightness_matched_kl_explains_a_feature_that_follows_brightness():
    """Class 0 images have brightness 50…200, class 1 0…150. A feature whose top images are the brightest
    (all class 0, above 150) is as class-skewed as brightness-matched stand-ins: nothing beyond brightness.
    One that picks class 0 where the classes overlap (50…150) is not explained by brightness."""
    n = 200
    brightness = np.concatenate([np.linspace(50, 200, n // 2), np.linspace(0, 150, n // 2)])
    labels = F.one_hot(torch.tensor([0] * (n // 2) + [1] * (n // 2)), 2).numpy()[:, None, :].astype(float)
    brightest = np.argsort(-brightness)[:9]
    overlap = np.arange(10, 60, 6)[:9]  # class 0, brightness 57…140
    top = np.stack([brightest, overlap])
    kl = selectivity(top, labels)[0]
    matched = brightness_matched_kl(top, labels, brightness, window=5)
    assert kl[0] == pytest.approx(kl[1]) == pytest.approx(np.log(2))  # both top-9's: all class 0
    assert kl[0] - matched[0] < 0.05
    assert kl[1] - matched[1] > 0.4


def test_saliency_images_are_robust_and_gray_for_gray_data():
    sal = torch.zeros(1, 3, 8, 8)
    sal[0, :, :4] = 0.01
    sal[0, :, 0, 0] = 10.0  # one extreme pixel
    robust, by_max = saliency_image(sal, percentile=90), saliency_image(sal, percentile=100)
    assert robust[0, 0, 2, 2] == pytest.approx(1.0) and by_max[0, 0, 2, 2] == pytest.approx(0.001)
    assert saliency_image(sal, gray=True).shape == (1, 1, 8, 8)
    assert is_gray(torch.full((2, 3, 4, 4), 7, dtype=torch.uint8)) and not is_gray(torch.rand(2, 3, 4, 4))


def test_box_saliency_of_a_layer0_unit_inside_its_box(rooms):
    """A first-layer unit's map lies within 4×4 pixels of its maximal response; a box around that
    position holds all of the map's mass, one far away none."""
    D, data = rooms
    images = data.batch(torch.arange(2))
    with torch.no_grad():
        a = layer_output(D, images, 0)[:, 3]
    boxes_in, boxes_out = [], []
    for i in range(2):
        y, x = divmod(int(a[i].flatten().argmax()), a.shape[-1])
        boxes_in.append([[max(0, 2 * x - 1), max(0, 2 * y - 1), 2 * x + 3, 2 * y + 3]])
        boxes_out.append([[0, 0, 1, 1]] if (x > 2 or y > 2) else [[60, 60, 64, 64]])
    inside, area = box_saliency(D, images, boxes_in, 0, [3])
    assert inside == pytest.approx(1.0) and 0 < area < 0.01
    assert box_saliency(D, images, boxes_out, 0, [3])[0] == pytest.approx(0.0)
