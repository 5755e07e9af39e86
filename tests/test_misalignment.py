"""§6.3.2's pixel control on its mechanism: the misalignment of a face detector's crops, measured with
OpenCV's Haar cascade on real CelebA faces (misalignment.py), the jitter that applies it, and the
jittered control (c′) in vector_arithmetic's success rates."""

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from dcgan_core import misalignment as M
from dcgan_core.concepts import EQUATIONS
from dcgan_core.data import DataError, load_dataset
from dcgan_core.models import Generator, init_weights
from dcgan_core.vector_arithmetic import ArithmeticConfig, EquationResult, success_rates

AMOUNTS = M.Misalignment(
    shift_x=0.05,
    shift_y=0.03,
    log_scale=0.1,
    roll_max=20.0,
    face_fraction=0.6,
    faces=1,
    detected=1,
    roll_rates={},
    source="test",
)
NONE = dataclasses.replace(AMOUNTS, shift_x=0.0, shift_y=0.0, log_scale=0.0, roll_max=0.0)


@pytest.fixture(scope="module")
def faces_128(mirror):
    """The first 120 of the mirror's CelebA aligned faces at 128×128, uint8."""
    return load_dataset("celeba", 128, limit=120, progress=False).images


def test_jitter_moves_each_image_by_its_own_seeded_draw():
    x = torch.rand(8, 3, 32, 32) * 2 - 1
    a = M.jitter(x, AMOUNTS, torch.Generator().manual_seed(3))
    assert torch.equal(a, M.jitter(x, AMOUNTS, torch.Generator().manual_seed(3)))  # seeded: reproducible
    assert not torch.allclose(a, M.jitter(x, AMOUNTS, torch.Generator().manual_seed(4)))
    assert ((a - x).abs().flatten(1).mean(1) > 0.05).all()  # every image moved
    assert torch.allclose(M.jitter(x, NONE, torch.Generator().manual_seed(3)), x, atol=1e-5)  # no jitter: as is
    assert a.min() >= x.min() - 1e-6 and a.max() <= x.max() + 1e-6  # the edge repeats: no new (black) values


@pytest.mark.parametrize("axis, std", [(1, 0.05), (0, 0.03)])  # x: the last dim, y: the one before it
def test_jitter_shifts_by_the_measured_std_of_the_face_size(axis, std):
    """A bright dot's displacement over many draws has std = shift × the face's size in pixels."""
    n, size = 2000, 64
    x = -torch.ones(n, 1, size, size)
    x[:, :, 30:34, 30:34] = 1
    only_shift = dataclasses.replace(AMOUNTS, log_scale=0.0, roll_max=0.0)
    y = (M.jitter(x, only_shift, torch.Generator().manual_seed(0))[:, 0] + 1).clamp(min=0)
    coords = torch.arange(size, dtype=torch.float32)
    com = (y.sum(2 - axis) * coords).sum(1) / y.sum((1, 2))
    assert com.std().item() == pytest.approx(std * 0.6 * size, rel=0.1)


def test_the_detector_measures_real_celeba_faces(faces_128):
    m = M.measure(faces_128, roll_faces=60, source="test")
    assert m.detected >= 0.8 * m.faces  # the cascade finds (almost) every aligned face
    assert 0.4 < m.face_fraction < 0.8  # the face fills most of CelebA's square crop
    # aligned faces: the box moves by a few per cent of its size, its size by some per cent; never zero
    assert 0.003 < m.shift_x < 0.1 and 0.003 < m.shift_y < 0.1 and 0.01 < m.log_scale < 0.3
    # upright faces are found; rolled far, they are lost: the range is where most still are
    assert 10 <= m.roll_max <= 40 and min(m.roll_rates.values()) <= 0.5 < m.roll_rates[str(int(m.roll_max))]
    rates = list(m.roll_rates.values())
    assert rates[0] > rates[-1] + 0.3
    # the control: the same pixels scrambled hold no face, and the detector finds (almost) none
    g = torch.Generator().manual_seed(0)
    scrambled = faces_128.flatten(2)[:, :, torch.randperm(128 * 128, generator=g)].view_as(faces_128)
    with pytest.raises(DataError, match="too few"):
        M.measure(scrambled[:60], roll_faces=10)


def test_the_measurement_is_cached(faces_128, tmp_path, monkeypatch):
    monkeypatch.setattr(M, "load_dataset", lambda *a, **k: SimpleNamespace(images=faces_128[:40]))
    monkeypatch.setattr(M, "measure", lambda images, **k: dataclasses.replace(AMOUNTS, faces=len(images)))
    first = M.measure_misalignment(n=40, cache_dir=tmp_path)
    assert first.faces == 40 and len(list((tmp_path / "cache").glob("misalignment-*.json"))) == 1
    monkeypatch.setattr(M, "measure", lambda *a, **k: pytest.fail("measured again"))
    assert M.measure_misalignment(n=40, cache_dir=tmp_path) == first


def test_the_jittered_control_is_the_pixel_control_on_jittered_exemplars():
    """(c′) = (c) where the jitter is none; with jitter the rates are still fractions of the draws."""
    G = Generator(arch="torch", image_size=64, width=8)
    init_weights(G, torch.Generator().manual_seed(0))
    names = ["Smiling", "Male"]
    # a stand-in judge that reads the images' layout: smiling = top half brighter, male = left half
    clf = SimpleNamespace(
        names=names,
        scores=SimpleNamespace(auc={n: 1.0 for n in names}),
        predict=lambda x: np.stack(
            [
                torch.sigmoid(20 * (x[..., :32, :].mean((1, 2, 3)) - x[..., 32:, :].mean((1, 2, 3)))).numpy(),
                torch.sigmoid(20 * (x[..., :32].mean((1, 2, 3)) - x[..., 32:].mean((1, 2, 3)))).numpy(),
            ],
            1,
        ),
    )
    images = torch.rand(40, 3, 64, 64) * 2 - 1
    p = clf.predict(images)
    z = torch.rand(40, 100) * 2 - 1
    cfg = ArithmeticConfig(trials=30, candidates=5, noise=0.25, seed=1, classifier="smoke")
    still, _ = success_rates(G, clf, z, images, p, EQUATIONS["smiling-man"], cfg, NONE)
    assert isinstance(still, EquationResult)
    assert still.success_pixel_jittered == pytest.approx(still.success_pixel)
    assert still.mean3_minus_pixel_jittered == pytest.approx(still.mean3_minus_pixel)
    moved, _ = success_rates(G, clf, z, images, p, EQUATIONS["smiling-man"], cfg, AMOUNTS)
    assert moved.success_pixel == still.success_pixel  # (c) does not depend on the jitter
    assert (moved.success_pixel_jittered * 30) == pytest.approx(round(moved.success_pixel_jittered * 30))
    assert set(moved.stderr) >= {"pixel", "pixel_jittered"} and np.isfinite(moved.stderr["pixel_jittered"])
