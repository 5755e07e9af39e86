"""Sampling from a trained generator: G(z) for z ~ U[-1, 1]^nz drawn from a given seed."""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torchvision.utils import save_image

from .files import atomic_write
from .models import Generator, eval_mode, sample_z
from .pretrained import load_models


@torch.no_grad()
def generate(G: Generator, n: int, seed: int = 0) -> torch.Tensor:
    """n images in [-1, 1] from G in eval mode (BN running statistics; G's mode is restored);
    the same seed gives the same images."""
    device = next(G.parameters()).device
    with eval_mode(G):
        return G(sample_z(n, G.nz, torch.Generator().manual_seed(seed), device)).float().cpu()


def save_grid(images: torch.Tensor, path: str | Path, nrow: int | None = None) -> Path:
    """Images in [-1, 1] as one PNG grid, written atomically."""
    nrow = nrow or math.ceil(math.sqrt(len(images)))
    return atomic_write(path, lambda tmp: save_image(images, tmp, format="png", nrow=nrow, normalize=True,
                                                     value_range=(-1, 1)))


def sample_grid(checkpoint: str | Path, *, n: int = 64, seed: int = 0, out: str | Path) -> Path:
    """Write a grid of n samples of the checkpoint's (or "zoo:NAME"'s) generator to the PNG `out`."""
    if n < 1:
        raise ValueError(f"--n must be at least 1, got {n}")
    G, _, _ = load_models(checkpoint)
    return save_grid(generate(G, n, seed), out)
