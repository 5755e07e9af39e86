"""Sampling from a trained generator: G(z) for z ~ U[-1, 1]^nz drawn from a given seed."""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torchvision.utils import save_image

from .files import atomic_write
from .models import Generator, eval_mode, sample_z
from .pretrained import load_models


def seed_points(n: int, nz: int, seed: int) -> torch.Tensor:
    """n points z ~ U[-1, 1]^nz from one seed (`generate`'s noise for the same seed)."""
    return sample_z(n, nz, torch.Generator().manual_seed(seed))


@torch.no_grad()
def render(G: Generator, z: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """G(z) in eval mode, in batches, on the CPU."""
    device = next(G.parameters()).device
    with eval_mode(G):
        return torch.cat([G(z[i : i + batch_size].to(device)).float().cpu() for i in range(0, len(z), batch_size)])


@torch.no_grad()
def generate(G: Generator, n: int, seed: int = 0, labels: torch.Tensor | None = None) -> torch.Tensor:
    """n images in [-1, 1] from G in eval mode (BN running statistics; G's mode is restored);
    the same seed gives the same images. A class-conditional G (§8.1) draws `labels` (n class
    indices), by default every class in turn (image i of class i mod n_classes)."""
    device = next(G.parameters()).device
    if getattr(G, "n_classes", 0) and labels is None:
        labels = torch.arange(n) % G.n_classes
    if labels is not None:
        labels = torch.as_tensor(labels).to(device)
    z = sample_z(n, G.nz, torch.Generator().manual_seed(seed), device)
    with eval_mode(G):
        return (G(z) if labels is None else G(z, labels=labels)).float().cpu()


def save_grid(images: torch.Tensor, path: str | Path, nrow: int | None = None) -> Path:
    """Images in [-1, 1] as one PNG grid, written atomically."""
    nrow = nrow or math.ceil(math.sqrt(len(images)))
    return atomic_write(
        path, lambda tmp: save_image(images, tmp, format="png", nrow=nrow, normalize=True, value_range=(-1, 1))
    )


# The most images one grid holds (64×64 tiles): G's n images are made at once, in memory (4096 at 64×64 RGB
# are 200 MB of fp32), and a bigger picture is not one anybody looks at.
MAX_GRID = 4096


def sample_grid(checkpoint: str | Path, *, n: int = 64, seed: int = 0, out: str | Path) -> Path:
    """Write a grid of n samples (1 to MAX_GRID) of the checkpoint's (or "zoo:NAME"'s) generator to the PNG `out`."""
    if not 1 <= n <= MAX_GRID:
        raise ValueError(f"--n must be 1 to {MAX_GRID} (a grid of at most 64×64 images), got {n}")
    G, _, _ = load_models(checkpoint)
    return save_grid(generate(G, n, seed), out)
