"""§8.1, the MNIST appendix: class-conditional nets (trained, resumed and rebuilt like the plain
ones), the 50k/10k split, and the chunked 1-NN evaluation, on real MNIST digits from the mirror."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from dcgan_core.checkpoint import load_checkpoint
from dcgan_core.data import DataError, load_dataset
from dcgan_core.mnist_appendix import (
    N_TRAIN,
    N_VALIDATION,
    NearestNeighbour,
    balanced_blocks,
    class_samples,
    fc_config,
    nn_curve,
    to_uint8,
    validation_errors,
    validation_split,
    write_split,
)
from dcgan_core.models import build_models, sample_z
from dcgan_core.pretrained import load_models
from dcgan_core.train import TrainConfig, Trainer, train
from dcgan_core.widgets import class_explorer

N_IMAGES, BATCH = 128, 16


from test_train import mnist, one_thread  # noqa: E402,F401  (the same 128 digits, one thread)


@pytest.fixture(scope="module")
def mnist_test(mirror, tmp_path_factory):
    return load_dataset(
        "mnist",
        32,
        split="test",
        limit=500,
        mirror=mirror,
        cache_dir=tmp_path_factory.mktemp("data-cache"),
        progress=False,
    )


@pytest.fixture
def cfg(tmp_path):
    return TrainConfig(
        dataset="mnist",
        arch="torch",
        image_size=32,
        g_width=8,
        d_width=8,
        batch_size=BATCH,
        max_steps=20,
        seed=0,
        out=str(tmp_path / "run"),
        n_grid=20,
        ckpt_every=500,
        device="cpu",
        progress=False,
        conditional=True,
        bn_affine=False,
    )


def same_state(a: dict, b: dict) -> bool:
    return set(a) == set(b) and all(torch.equal(a[k], b[k]) for k in a)


# --- conditional nets ---------------------------------------------------------------------------
@pytest.mark.parametrize("arch", ["torch", "paper", "fc"])
def test_the_label_changes_the_image_and_is_required(arch):
    cfg = TrainConfig(
        arch=arch, image_size=32, g_width=8, d_width=8, channels=1, conditional=True, n_classes=10, bn_affine=False
    )
    G, D = build_models(cfg, seed=0)
    G.eval(), D.eval()
    z = sample_z(4, G.nz, torch.Generator().manual_seed(0)).repeat(2, 1)
    y = torch.tensor([0, 1, 2, 3, 4, 5, 6, 7])
    x = G(z, labels=y)
    assert x.shape == (8, 1, 32, 32) and not torch.allclose(x[:4], x[4:])  # same z, other class
    assert D(x, labels=y).shape == (8,) and not torch.allclose(D(x, labels=y), D(x, labels=(y + 1) % 10))
    assert not any(n.endswith(("bias", "weight")) and "." in n and p.dim() == 1 for n, p in G.named_parameters())
    with pytest.raises(ValueError, match="class-conditional"):
        G(z)
    with pytest.raises(ValueError, match=r"labels must be in 0\.\.9"):
        G(z, labels=torch.full((8,), 10))


def test_the_authors_mnist_nets_have_their_shapes_and_train_on_28px_digits(mirror, tmp_path):
    """arch "mnist", the authors' conditional MNIST code: G z → FC 1024 → 7×7×128 → 14×14×64 → 28×28;
    D 14×14×64 → 7×7×128 → FC 1024 → 1; the label at every layer; 28×28 only."""
    cfg = TrainConfig(
        dataset="mnist",
        arch="mnist",
        image_size=28,
        batch_size=BATCH,
        max_steps=2,
        seed=0,
        out=str(tmp_path / "run"),
        n_grid=20,
        device="cpu",
        progress=False,
        conditional=True,
        bn_affine=False,
        limit=64,
    )
    t = train(
        cfg, data=load_dataset("mnist", 28, limit=64, mirror=mirror, cache_dir=tmp_path / "cache", progress=False)
    )
    G, D, saved = load_models(t.ckpt_path)
    z, y = sample_z(4, 100, torch.Generator().manual_seed(0)), torch.arange(4)
    acts = G.eval().activations(z, labels=y)
    assert [tuple(a.shape[1:]) for a in acts] == [(1024,), (128, 7, 7), (64, 14, 14), (1, 28, 28)]
    assert [tuple(f.shape[1:]) for f in D.eval().features(acts[-1], labels=y)] == [(64, 14, 14), (128, 7, 7), (1024,)]
    assert G.layers[0][0].in_features == 110 and D.layers[0][0].in_channels == 11 and D.head.in_features == 1034
    with pytest.raises(ValueError, match="arch mnist.*28×28.*--image-size 28"):
        TrainConfig(arch="mnist", image_size=32)
    # its FC baseline (§8.1: the same digits, the same budget) at 28×28 too
    fc = fc_config(cfg.replace(n_classes=10), 4, tmp_path / "split.json", tmp_path / "fc")
    assert (fc.arch, fc.image_size) == ("fc", 28)
    fc_G, _ = build_models(fc.replace(n_classes=10, channels=1), seed=0)
    assert fc_G.eval()(z, labels=y).shape == (4, 1, 28, 28)


def test_unconditional_nets_refuse_labels_and_keep_their_parameters():
    plain, _ = build_models(TrainConfig(arch="torch", image_size=32, channels=1), seed=0)
    cond, _ = build_models(TrainConfig(arch="torch", image_size=32, channels=1, conditional=True, n_classes=10), seed=0)
    with pytest.raises(ValueError, match="not conditional"):
        plain(torch.zeros(2, 100), labels=torch.zeros(2, dtype=torch.long))
    # BN keeps γ, β by default; the conditional G's first layer takes z and the one-hot label
    assert plain.layers[0][1].weight.shape == (100, 256, 4, 4) and cond.layers[0][1].weight.shape == (110, 256, 4, 4)
    assert plain.layers[0][2].affine and cond.layers[0][2].affine


def test_conditional_training_resumes_exactly_and_the_checkpoint_rebuilds(cfg, mnist, tmp_path):
    straight = train(cfg.replace(out=str(tmp_path / "straight")), data=mnist)
    assert straight.cfg.n_classes == 10 and straight.cfg.conditional
    half = cfg.replace(out=str(tmp_path / "halves"), max_steps=10)
    train(half, data=mnist)
    second = train(half.replace(max_steps=20), resume=True, data=mnist)
    for key in ("generator", "discriminator"):
        assert same_state(second.state_dict()[key], straight.state_dict()[key]), key
    assert (tmp_path / "halves" / "samples" / "epoch_002.png").read_bytes() == (
        tmp_path / "straight" / "samples" / "epoch_002.png"
    ).read_bytes()

    G, D, saved = load_models(straight.ckpt_path)
    assert saved.conditional and saved.n_classes == 10 and not saved.bn_affine
    z, y = sample_z(10, saved.nz, torch.Generator().manual_seed(1)), torch.arange(10)
    straight.G.eval(), straight.D.eval()
    with torch.no_grad():
        assert torch.equal(G(z, labels=y), straight.G(z, labels=y))
        assert torch.equal(D(G(z, labels=y), labels=y), straight.D(straight.G(z, labels=y), labels=y))
    # the fixed grid: one row per class, the same z down each column
    t = straight
    assert t.grid_columns == 2 and t.fixed_labels.tolist() == [k for k in range(10) for _ in range(2)]
    assert torch.equal(t.fixed_z[0], t.fixed_z[2]) and not torch.equal(t.fixed_z[0], t.fixed_z[1])


def test_conditional_batches_carry_their_images_labels(cfg, mnist):
    t = Trainer(cfg, mnist)
    x, z, y = t.batch(3)
    index = t._order[1][3 * BATCH : 4 * BATCH]
    assert torch.equal(x, mnist.batch(index)) and torch.equal(y, mnist.labels[index])
    plain = Trainer(cfg.replace(conditional=False, out=cfg.out + "-plain"), mnist)
    assert len(plain.batch(3)) == 2 and plain.cfg.n_classes is None


def test_conditional_needs_class_labels(cfg, mnist):
    with pytest.raises(DataError, match="no class labels.*mnist"):
        Trainer(cfg, dataclasses.replace(mnist, labels=None, classes=None))


def test_resuming_a_conditional_run_as_unconditional_names_the_field(cfg, mnist):
    train(cfg.replace(max_steps=2), data=mnist)
    from dcgan_core.checkpoint import CheckpointError

    with pytest.raises(CheckpointError, match="n_classes"):
        train(cfg.replace(max_steps=4, conditional=False), resume=True, data=mnist)


def test_the_fc_baseline_trains_and_rebuilds(cfg, mnist):
    t = train(cfg.replace(arch="fc", g_width=64, d_width=64, max_steps=4), data=mnist)
    G, _, saved = load_models(t.ckpt_path)
    assert saved.arch == "fc" and type(G).__name__ == "FCGenerator"
    assert load_checkpoint(t.ckpt_path)["step"] == 4


def test_the_fc_baseline_gets_the_dcgans_schedule_at_its_own_length(cfg, tmp_path):
    """The same budget: a DCGAN whose lr decays over its second half gives an FC run whose lr
    decays over its own second half (a shorter smoke run too); no decay stays no decay."""
    dcgan = cfg.replace(conditional=True, bn_affine=False, max_steps=None, epochs=40, lr_decay_from=7800)
    same = fc_config(dcgan, 15600, tmp_path / "split.json", tmp_path / "fc", dcgan_steps=15600)
    assert (same.arch, same.max_steps, same.lr_decay_from, same.lr) == ("fc", 15600, 7800, dcgan.lr)
    assert fc_config(dcgan, 200, tmp_path / "split.json", tmp_path / "fc", dcgan_steps=15600).lr_decay_from == 100
    assert fc_config(cfg, 200, tmp_path / "split.json", tmp_path / "fc", dcgan_steps=20).lr_decay_from is None


# --- the split and the 1-NN evaluation ------------------------------------------------------------
def test_validation_split_is_seeded_disjoint_and_readable_by_train_keep(tmp_path, mnist):
    a, va = validation_split()
    assert len(a) == N_TRAIN and len(va) == N_VALIDATION
    assert len(set(a.tolist()) | set(va.tolist())) == N_TRAIN + N_VALIDATION
    assert (a == validation_split()[0]).all() and not (a == validation_split(seed=1)[0]).all()
    path = write_split(tmp_path / "split.json")
    assert json.loads(path.read_text())["kept"] == a.tolist()
    with pytest.raises(DataError, match="60000"):  # made for the 60k, not for a 128-image subset
        mnist.keep(path)


def test_nearest_neighbour_matches_brute_force_in_any_chunking(mnist, mnist_test):
    ref, queries = mnist.images, mnist_test.images[:200]
    d = torch.cdist(queries.flatten(1).double(), ref.flatten(1).double())
    want = mnist.labels[d.argmin(1)]
    for chunk in (7, 128, 4096):
        nn_ = NearestNeighbour(queries, chunk=chunk)
        nn_.add(ref[:50], mnist.labels[:50])
        nn_.add(ref[50:], mnist.labels[50:])
        assert torch.equal(nn_.label, want), chunk
        assert nn_.error(mnist_test.labels[:200]) == (want != mnist_test.labels[:200]).float().mean().item()


def test_real_digits_classify_test_digits_and_more_help(mirror, mnist_test, tmp_path):
    train_digits = load_dataset("mnist", 32, limit=3000, mirror=mirror, cache_dir=tmp_path, progress=False)
    errors = nn_curve(mnist_test.images, mnist_test.labels, balanced_blocks(train_digits, [5, 200]), [5, 200])
    assert errors[1] < 0.2 < errors[0] < 0.8, errors  # chance is 0.9; 200 per class is far better than 5


def test_class_samples_are_labelled_nested_blocks_of_uint8():
    cfg = TrainConfig(arch="torch", image_size=32, g_width=8, d_width=8, channels=1, conditional=True, n_classes=10)
    G, _ = build_models(cfg, seed=0)
    chunks = list(class_samples(G, 3, 10, seed=0, block=0, chunk=7))
    images, labels = torch.cat([c[0] for c in chunks]), torch.cat([c[1] for c in chunks])
    assert images.dtype == torch.uint8 and images.shape == (30, 1, 32, 32)
    assert labels.tolist() == [k for k in range(10) for _ in range(3)]
    again = torch.cat([c[0] for c in class_samples(G, 3, 10, seed=0, block=0, chunk=7)])
    other = torch.cat([c[0] for c in class_samples(G, 3, 10, seed=0, block=1, chunk=7)])
    assert torch.equal(images, again) and not torch.equal(images, other)
    drawn = [torch.cat([c[0] for c in class_samples(G, 3, 10, seed=0, block=0, chunk=7, draw=1)]) for _ in range(2)]
    assert torch.equal(*drawn) and not torch.equal(images, drawn[0])  # another draw: its own, repeatable noise
    assert torch.equal(to_uint8(torch.tensor([-1.0, 0.0, 1.0])), torch.tensor([0, 128, 255], dtype=torch.uint8))


def test_validation_errors_score_the_zoo_model_on_the_held_out_digits(mirror):
    """How zoo/train.sh picks mnist-conditional's checkpoint: 1-NN on the 10k validation digits."""
    errors = validation_errors("zoo:mnist-conditional", per_class=(10, 100))
    assert errors[1] < errors[0] and errors[1] < 0.2, errors  # chance: 0.9
    mean = validation_errors("zoo:mnist-conditional", per_class=(10, 100), draws=2)  # draw 0 and draw 1
    second = [2 * m - e for m, e in zip(mean, errors)]  # draw 1's own error, a count of 10k digits
    assert mean != errors and all(abs(x * 10_000 - round(x * 10_000)) < 1e-3 for x in second), (mean, errors)
    assert 0 < second[1] < second[0] < 0.7 and second[1] < 0.2, second
    with pytest.raises(ValueError, match="not a class-conditional MNIST DCGAN"):
        validation_errors("zoo:mnist")


def test_class_explorer_shows_the_picked_class():
    cfg = TrainConfig(arch="torch", image_size=32, g_width=8, d_width=8, channels=1, conditional=True, n_classes=10)
    G, _ = build_models(cfg, seed=0)
    box = class_explorer(G, n=10)
    (digit, _seed), image = box.children[0].children, box.children[1]
    first = bytes(image.value)
    digit.value = 7
    assert bytes(image.value) != first
    digit.value = 0
    assert bytes(image.value) == first
    plain, _ = build_models(TrainConfig(arch="torch", image_size=32, g_width=8, channels=1), seed=0)
    assert "not class-conditional" in class_explorer(plain).children[0].value
