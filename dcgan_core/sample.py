"""Sampling from a trained generator: G(z) for z ~ U[-1, 1]^nz drawn from a given seed."""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torchvision.utils import save_image

from .checkpoint import models_from_checkpoint
from .models import Generator, sample_z


@torch.no_grad()
def generate(G: Generator, n: int, seed: int = 0) -> torch.Tensor:
    """n images in [-1, 1] from G in eval mode; the same seed gives the same images."""
    G.eval()
    device = next(G.parameters()).device
    return G(sample_z(n, G.nz, torch.Generator().manual_seed(seed), device)).cpu()


def sample_grid(checkpoint: str | Path, *, n: int = 64, seed: int = 0, out: str | Path) -> Path:
    """Write a grid of n samples of the checkpoint's generator to the PNG `out`."""
    if n < 1:
        raise ValueError(f"--n must be at least 1, got {n}")
    G, _, _ = models_from_checkpoint(checkpoint)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_image(generate(G, n, seed), out, nrow=math.ceil(math.sqrt(n)), normalize=True, value_range=(-1, 1))
    return out
