"""The memorization check on real MNIST digits: a "generator" that replays training images is
caught, one that draws noise is not; the figure shows each sample beside its neighbours."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dcgan_core.data import load_dataset, to_unit_range
from dcgan_core.memorization import leave_one_out, memorization, memorization_figure, neighbours


class Replay(torch.nn.Module):
    """Looks like a Generator to `generate`: returns training images (copies) or noise."""

    def __init__(self, images: torch.Tensor, copy: bool):
        super().__init__()
        self.nz, self.image_size, self.channels = 4, images.shape[-1], images.shape[1]
        self.images, self.copy = to_unit_range(images), copy  # [-1, 1], like G's tanh
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, z):
        n = len(z)
        if self.copy:
            return self.images[torch.arange(n) * 7 % len(self.images)]
        return (
            torch.rand(n, self.channels, self.image_size, self.image_size, generator=torch.Generator().manual_seed(0))
            * 2
            - 1
        )


@pytest.fixture(scope="module")
def digits(mirror, tmp_path_factory):
    return load_dataset(
        "mnist", 32, limit=2000, mirror=mirror, cache_dir=tmp_path_factory.mktemp("cache"), progress=False
    )


def test_neighbours_and_leave_one_out():
    ref = np.array([[0.0], [1.0], [3.0], [3.0]])
    dist, idx = neighbours(np.array([[0.9]]), ref, 2)
    assert idx.tolist() == [[1, 0]] and np.allclose(dist, [[0.1, 0.9]])
    # each row's nearest *other* row; the duplicate pair is at distance 0
    assert leave_one_out(ref, np.arange(4)).tolist() == [1.0, 1.0, 0.0, 0.0]


def test_copies_are_caught_and_noise_is_not(digits):
    copied = memorization(Replay(digits.images, copy=True), "mnist", n=50, data=digits, spaces=("pixel",))
    pixel = copied.spaces["pixel"]
    assert pixel.ratio < 1e-3 and pixel.copies == 1
    assert (pixel.indices[:, 0] == np.arange(50) * 7 % 2000).all()  # found the very images
    assert pixel.distances[:, 0].max() < 1e-3  # in one pixel scale: [0, 1]

    noise = memorization(Replay(digits.images, copy=False), "mnist", n=50, data=digits, spaces=("pixel",))
    assert noise.spaces["pixel"].ratio > 2 and noise.spaces["pixel"].copies == 0

    fig = memorization_figure(copied, digits, rows=4)
    assert "ratio 0.00" in fig.axes[0].get_title()


def test_unknown_space_is_refused(digits):
    with pytest.raises(ValueError, match="unknown space"):
        memorization(Replay(digits.images, copy=True), "mnist", n=4, data=digits, spaces=("clip",))


def test_inception_space_uses_the_cached_training_subset(digits, mirror, tmp_path, monkeypatch):
    monkeypatch.setenv("DCGAN_MIRROR", str(mirror))
    monkeypatch.setenv("DCGAN_DATA_DIR", str(tmp_path))
    result = memorization(
        Replay(digits.images, copy=True), "mnist", n=6, reference=30, data=digits, spaces=("inception",)
    )
    space = result.spaces["inception"]
    assert space.reference == 30 and space.indices.shape == (6, 3)
    assert list(tmp_path.glob("cache/fid-mnist-train-32px-1ch-n30-*.npz"))
