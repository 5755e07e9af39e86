"""DiffAugment (Zhao et al. 2020) as a training option: gradients reach G through every transform,
real and fake get the same transform family, and with the option off training is the plain
DCGAN step, bit for bit."""

from __future__ import annotations

import pytest
import torch
from test_train import assert_same  # noqa: E402  (tests/ is on sys.path under pytest)

from dcgan_core import diffaugment
from dcgan_core.data import load_dataset
from dcgan_core.diffaugment import POLICIES, diff_augment, flip_images, parse_policy
from dcgan_core.models import build_models, sample_z
from dcgan_core.train import TrainConfig, Trainer, gan_loss, seeded


@pytest.fixture(scope="module")
def mnist(mirror, tmp_path_factory):
    return load_dataset("mnist", 32, limit=64, mirror=mirror, cache_dir=tmp_path_factory.mktemp("c"), progress=False)


@pytest.fixture
def cfg(tmp_path):
    return TrainConfig(
        dataset="mnist",
        arch="torch",
        image_size=32,
        g_width=8,
        d_width=8,
        batch_size=16,
        max_steps=6,
        seed=0,
        out=str(tmp_path / "run"),
        n_grid=4,
        device="cpu",
        progress=False,
    )


@pytest.mark.parametrize("name", POLICIES)
def test_gradient_reaches_the_generator_through_each_transform(name):
    G, D = build_models(TrainConfig(arch="torch", image_size=32, g_width=8, d_width=8), seed=0)
    fake = G(sample_z(8, G.nz, torch.Generator().manual_seed(0)))
    augmented = diff_augment(fake, (name,), torch.Generator().manual_seed(1))
    assert augmented.shape == fake.shape and not torch.equal(augmented, fake)
    gan_loss(D(augmented), True).backward()
    grads = [p.grad for p in G.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(g.abs().sum() for g in grads) > 0


def test_transforms_do_what_they_say():
    x = torch.rand(4, 3, 32, 32) * 2 - 1
    gen = lambda: torch.Generator().manual_seed(5)  # noqa: E731
    cut = diffaugment.cutout(x, gen())
    zeroed = (cut == 0).flatten(1).float().mean(1)  # a 16×16 square at most: ≤ 1/4 of the image
    assert ((zeroed > 0) & (zeroed <= 0.25 + 1e-6)).all()
    shifted = diffaugment.translation(x, gen())
    assert not torch.equal(shifted, x) and set(shifted.unique().tolist()) <= set(x.unique().tolist()) | {0.0}
    assert torch.equal(diff_augment(x, (), gen()), x)
    assert torch.equal(diff_augment(x, ("color",), gen()), diff_augment(x, ("color",), gen()))  # seeded
    flipped = flip_images(x, torch.Generator().manual_seed(0))
    assert all(torch.equal(f, o) or torch.equal(f, o.flip(2)) for f, o in zip(flipped, x))


def test_policy_names_are_checked():
    assert parse_policy("color, cutout") == ("color", "cutout") and parse_policy(None) == ()
    with pytest.raises(ValueError, match="unknown DiffAugment transform.*'zoom'"):
        TrainConfig(diffaugment="color,zoom")


def test_real_and_fake_get_the_same_transform_family_in_both_steps(cfg, mnist, monkeypatch):
    seen = []
    real = diffaugment.diff_augment

    def spy(x, policy, gen):
        seen.append(policy)
        return real(x, policy, gen)

    monkeypatch.setattr("dcgan_core.train.diff_augment", spy)
    t = Trainer(cfg.replace(diffaugment="color,translation,cutout", max_steps=2), mnist)
    t.train()
    assert seen == [("color", "translation", "cutout")] * 6  # D: real, fake; G: fake — per step


def test_with_diffaugment_runs_are_reproducible_and_differ_from_plain(cfg, mnist):
    runs = [
        Trainer(cfg.replace(diffaugment=p, flip=f, out=f"{cfg.out}{i}"), mnist)
        for i, (p, f) in enumerate([("color,translation,cutout", True)] * 2 + [(None, False)])
    ]
    for t in runs:
        t.train()
    assert_same(runs[0].G.state_dict(), runs[1].G.state_dict())
    assert not torch.equal(next(runs[0].G.parameters()), next(runs[2].G.parameters()))


def test_option_off_is_the_plain_dcgan_step_bit_for_bit(cfg, mnist):
    """The trainer without DiffAugment against the §4 step written out here (as the trainer was
    before the option existed): same init, same batches, same z → identical weights."""
    t = Trainer(cfg.replace(channels_last=False, precision="fp32"), mnist)
    t.train()
    G, D = build_models(t.cfg, seed=cfg.seed)
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))
    ref = Trainer(cfg.replace(out=cfg.out + "-ref"), mnist)  # only for batch(step)
    for step in range(cfg.max_steps):
        x, z = ref.batch(step)
        fake = G(z)
        loss_d = gan_loss(D(x), True) + gan_loss(D(fake.detach()), False)
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        D.requires_grad_(False)
        loss_g = gan_loss(D(fake), True)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        D.requires_grad_(True)
    assert_same(t.G.state_dict(), G.state_dict(), "G")
    assert_same(t.D.state_dict(), D.state_dict(), "D")


def test_cli_flags_reach_the_config(cfg, mnist, tmp_path):
    from dcgan_core.cli import _parser, _train_config

    args = _parser().parse_args(
        ["train", "--dataset", "mnist", "--diffaugment", "color,cutout", "--flip", "--out", str(tmp_path / "x")]
    )
    built, _ = _train_config(args)
    assert built.diffaugment == "color,cutout" and built.flip is True
    assert seeded(0, 3, 1, 0).initial_seed() != seeded(0, 4, 1, 0).initial_seed()
