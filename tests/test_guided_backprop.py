"""§6.2 guided backpropagation (guided_backprop.py) on the zoo's trained D and real 15-Scene rooms."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dcgan_core import pretrained
from dcgan_core.data import load_dataset
from dcgan_core.guided_backprop import (GuidedBackpropConfig, GuidedLeakyReLU, concentration, guided_saliency,
                                        kl_to_prior, layer_output, random_discriminator, responses, selectivity)
from dcgan_core.widgets import guided_backprop_explorer


@pytest.fixture(scope="module")
def rooms(mirror):
    _, D, _ = pretrained.load("scenes64")
    D = D.float().to(memory_format=torch.contiguous_format)
    return D, load_dataset("scenes", 64, progress=False).subset(list(range(0, 715, 7)))    # all three classes


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
        top = responses(net, data.images, -1).argmax(0)[:32]            # each feature's best image
        return float(concentration(guided_saliency(net, data.images[top], -1, torch.arange(len(top)))).mean())

    _, _, cfg = pretrained.load("scenes64")
    trained, random0, random1 = (mean_concentration(net) for net in
                                 (D, random_discriminator(cfg, 0), random_discriminator(cfg, 1)))
    assert trained / random0 > 1.1, (trained, random0)
    assert random1 / random0 < 1.1, (random1, random0)


def test_selectivity_and_concentration_by_hand():
    labels = F.one_hot(torch.tensor([0] * 6 + [1] * 3 + [2] * 3), 3).numpy()[:, None, :].astype(float)
    top = np.array([[0, 1, 2], [0, 6, 9]])          # all class 0; one of each class
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
    (model, layer, feature), label, images, saliency = box.children[0].children, *box.children[1:]
    first = bytes(images.value)
    assert first.startswith(b"\x89PNG") and bytes(saliency.value).startswith(b"\x89PNG")
    assert feature.max == D.layers[-1][0].out_channels - 1
    feature.value = 5
    assert bytes(images.value) != first and "feature 5" in label.value
    layer.value = 0
    assert feature.max == D.layers[0][0].out_channels - 1
