"""Static figures for the notebooks: built with matplotlib from models and logs, saved with a
fixed dpi so CI regenerates the same files. Widgets (widgets.py) only add interaction on top."""

from __future__ import annotations

import io
import math
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import FancyArrowPatch, Polygon
from torchvision.utils import make_grid

from .files import atomic_write
from .models import Generator, layer_table

DPI = 120


def save_figure(fig, path: str | Path) -> Path:
    """Save at the project's fixed dpi (figures are artifacts of CI), atomically."""
    path = Path(path)
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format=path.suffix.lstrip(".") or "png", dpi=DPI,
                                                      bbox_inches="tight"))


def grid_image(images: torch.Tensor, nrow: int | None = None) -> np.ndarray:
    """Images in [-1, 1] (N×C×H×W) → one H×W×3 uint8 grid."""
    nrow = nrow or math.ceil(math.sqrt(len(images)))
    grid = make_grid(images.detach().float().cpu(), nrow=nrow, normalize=True, value_range=(-1, 1), pad_value=1)
    return (grid.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def png_bytes(images: torch.Tensor, nrow: int | None = None) -> bytes:
    """A grid as PNG bytes (for ipywidgets.Image)."""
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(grid_image(images, nrow)).save(buf, format="PNG")
    return buf.getvalue()


def show_grid(images: torch.Tensor, title: str = "", nrow: int | None = None, size: float = 6.0):
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(grid_image(images, nrow))
    ax.set_title(title)
    ax.axis("off")
    return fig


def architecture_figure(G: Generator):
    """Figure 1, drawn from the model object: one box per layer, its size from the real
    activation shapes of a forward pass (height ∝ spatial size, depth ∝ log2 channels)."""
    z = torch.zeros(2, G.nz, device=next(G.parameters()).device)
    was_training = G.training
    G.eval()
    rows = layer_table(G, z)
    G.train(was_training)
    convs = [m for m in G.modules() if isinstance(m, torch.nn.ConvTranspose2d) and m.stride == (2, 2)]
    k = convs[0].kernel_size[0]

    fig, ax = plt.subplots(figsize=(13, 4.2))
    x = 0.0
    ax.text(x, 0.1, f"z\n{G.nz}", ha="center", va="center", fontsize=10,
            bbox=dict(boxstyle="round", fc="#eeeeee", ec="0.3"))
    prev_right = x + 0.35
    x += 1.2
    max_hw = max(r["shape"][1] for r in rows)
    for i, r in enumerate(rows):
        c, h, w = r["shape"]
        side = 0.5 + 2.6 * math.log2(h) / math.log2(max_hw)      # spatial extent
        depth = 0.15 + 0.12 * math.log2(c)                         # number of feature maps
        y0 = -side / 2
        face = [(x, y0), (x + depth, y0), (x + depth, y0 + side), (x, y0 + side)]
        top = [(x, y0 + side), (x + depth, y0 + side), (x + depth + 0.35, y0 + side + 0.35), (x + 0.35, y0 + side + 0.35)]
        right = [(x + depth, y0), (x + depth + 0.35, y0 + 0.35), (x + depth + 0.35, y0 + side + 0.35), (x + depth, y0 + side)]
        color = "#f4b183" if i == 0 else ("#a9d18e" if i == len(rows) - 1 else "#9dc3e6")
        for poly, shade in ((face, 1.0), (top, 0.85), (right, 0.7)):
            rgb = np.array(matplotlib.colors.to_rgb(color)) * shade
            ax.add_patch(Polygon(poly, closed=True, fc=rgb, ec="0.25", lw=0.8))
        ax.text(x + depth / 2, y0 - 0.35, f"{h}×{w}×{c}", ha="center", va="top", fontsize=9)
        ax.text(x + depth / 2, y0 + side + 0.6, r["name"] if i else "project and\nreshape",
                ha="center", va="bottom", fontsize=9)
        ax.add_patch(FancyArrowPatch((prev_right, 0.1), (x - 0.05, 0.1), arrowstyle="-|>",
                                     mutation_scale=12, color="0.3"))
        if i:
            ax.text((prev_right + x) / 2, -0.25, f"{k}×{k}\nstride 2", ha="center", va="top", fontsize=7, color="0.3")
        prev_right = x + depth + 0.4
        x += depth + 1.6
    ax.set_xlim(-0.6, x)
    ax.set_ylim(-2.4, 2.6)
    ax.set_aspect("equal")
    ax.axis("off")
    total = sum(r["params"] for r in rows)
    ax.set_title(f"Generator ({G.arch}, {G.image_size}×{G.image_size}): {total:,} parameters — shapes from a forward pass",
                 fontsize=10)
    return fig


def metrics_figure(metrics: dict[str, list[float]], title: str = "", smooth: int = 25, evals: list[dict] | None = None):
    """Loss curves and D's outputs per step (from train.read_metrics), raw and smoothed; with
    `evals` (train.read_evals), a third panel: FID during training, the best step marked."""
    def smoothed(v):
        v = np.asarray(v, dtype=float)
        n = max(1, min(smooth, len(v) // 5 or 1))
        return np.convolve(v, np.ones(n) / n, mode="valid"), n

    fig, axes = plt.subplots(1, 3 if evals else 2, figsize=(16 if evals else 11, 3.6))
    step = np.asarray(metrics["step"])
    for ax, keys, labels in ((axes[0], ("loss_d", "loss_g"), ("loss D", "loss G")),
                             (axes[1], ("d_x", "d_g_z"), ("D(x)", "D(G(z))"))):
        for key, label in zip(keys, labels):
            line, = ax.plot(step, metrics[key], alpha=0.25, lw=0.8)
            s, n = smoothed(metrics[key])
            ax.plot(step[n - 1:], s, color=line.get_color(), label=label)
        ax.set_xlabel("step")
        ax.legend()
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("BCE loss")
    axes[1].set_ylim(0, 1)
    if evals:
        steps, fids = [r["step"] for r in evals], [r["fid"] for r in evals]
        best = int(np.argmin(fids))
        axes[2].plot(steps, fids, "o-", label="FID (small n: biased high)")
        axes[2].plot(steps[best], fids[best], "r*", markersize=14, label=f"best.pt: step {steps[best]}")
        axes[2].set_xlabel("step")
        axes[2].set_ylabel("FID")
        axes[2].legend()
        axes[2].grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
