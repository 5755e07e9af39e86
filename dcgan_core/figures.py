"""Static figures for the notebooks: built with matplotlib from models and logs, saved with a
fixed dpi so CI regenerates the same files. Widgets (widgets.py) only add interaction on top."""

from __future__ import annotations

import io
import math
import textwrap
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import FancyArrowPatch, Polygon
from matplotlib.text import Text
from torchvision.utils import make_grid

from .files import atomic_write
from .models import Generator, layer_table

DPI = 120


def save_figure(fig, path: str | Path) -> Path:
    """Save at the project's fixed dpi (figures are artifacts of CI), atomically."""
    path = Path(path)
    return atomic_write(
        path, lambda tmp: fig.savefig(tmp, format=path.suffix.lstrip(".") or "png", dpi=DPI, bbox_inches="tight")
    )


# ---------------------------------------------------------------------------------------------
# Labels readable at the saved size (issue 28): tick labels that do not run into each other and
# texts the figure's edge does not cut, measured on the drawn figure at DPI.


def _shown_tick_labels(axis) -> list[Text]:
    """The tick labels an axis draws: inside its view, visible, not empty."""
    lo, hi = sorted(axis.get_view_interval())
    eps = 1e-9 * (hi - lo)
    return [
        label
        for t in axis.get_major_ticks() + axis.get_minor_ticks()
        if lo - eps <= t.get_loc() <= hi + eps
        for label in (t.label1, t.label2)
        if label.get_visible() and label.get_text().strip()
    ]


def _overlap(a, b, slack: float = 0.5) -> bool:
    """Two display boxes share more than `slack` px in both directions."""
    return min(a.x1, b.x1) - max(a.x0, b.x0) > slack and min(a.y1, b.y1) - max(a.y0, b.y0) > slack


def _colliding(axis, renderer) -> list[tuple[Text, Text]]:
    labels = _shown_tick_labels(axis)
    boxes = [t.get_window_extent(renderer) for t in labels]
    return [
        (labels[i], labels[j])
        for i in range(len(labels))
        for j in range(i + 1, len(labels))
        if _overlap(boxes[i], boxes[j])
    ]


def label_problems(fig) -> list[str]:
    """What keeps a figure's labels from being read at its saved size (`DPI`): two tick labels of one
    axis that overlap, or a text (tick label, title, legend, annotation) the figure's edge cuts.
    Empty when every label reads."""
    shown_dpi = fig.dpi  # measured at the saved dpi, shown (inline) at its own
    fig.set_dpi(DPI)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    problems = []
    for k, ax in enumerate(fig.axes):
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            problems += [
                f"axes {k} {name}: {a.get_text()!r} overlaps {b.get_text()!r}" for a, b in _colliding(axis, renderer)
            ]
    edge = fig.bbox
    ticks = {
        id(label)
        for ax in fig.axes
        for axis in (ax.xaxis, ax.yaxis)
        for t in axis.get_major_ticks() + axis.get_minor_ticks()
        for label in (t.label1, t.label2)
    }
    texts = [
        t
        for t in fig.findobj(Text)
        if id(t) not in ticks and t.get_visible() and t.get_text().strip() and (t.axes is None or t.axes.get_visible())
    ]  # ticks outside the view are not drawn:
    texts += [
        t
        for ax in fig.axes
        if ax.get_visible()  # only the shown ones count
        for axis in (ax.xaxis, ax.yaxis)
        for t in _shown_tick_labels(axis)
    ]
    for t in texts:
        box = t.get_window_extent(renderer)
        if box.x0 < edge.x0 - 1 or box.y0 < edge.y0 - 1 or box.x1 > edge.x1 + 1 or box.y1 > edge.y1 + 1:
            problems.append(f"{t.get_text()!r} is cut by the figure's edge")
    fig.set_dpi(shown_dpi)
    return problems


def _wrap(text: str, chars: int) -> str:
    """Each line of `text` wrapped at `chars` characters, words kept whole."""
    return "\n".join(textwrap.fill(line, chars, break_long_words=False) or line for line in text.split("\n"))


def _relayout(fig):
    """Tight layout, drawn; the renderer to measure with (a new one when the size changed)."""
    fig.tight_layout()
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def readable_labels(fig):
    """Lay `fig` out so its labels read at the saved size (`label_problems` finds none): tight
    layout; a title or x label that runs past the figure's edge wrapped; then on each axis whose
    tick labels run into each other: x labels wrapped to the space between their ticks, then
    turned 30°, then 90°; y labels given room by a taller figure. Returns `fig`; a figure function
    calls it where it would call `fig.tight_layout()`."""
    shown_dpi = fig.dpi
    fig.set_dpi(DPI)
    renderer = _relayout(fig)
    for t in [getattr(fig, "_suptitle", None)] + [t for ax in fig.axes for t in (ax.title, ax.xaxis.label)]:
        box = t.get_window_extent(renderer) if t is not None and t.get_text() else None
        room = box and 2 * min(box.x0 + box.width / 2 - fig.bbox.x0, fig.bbox.x1 - box.x0 - box.width / 2)
        if box and box.width > room - 2:  # centred text past the edge: wrapped to fit
            t.set_text(_wrap(t.get_text(), max(12, int(0.9 * room / (0.6 * t.get_fontsize() * DPI / 72)))))
            renderer = _relayout(fig)
    for ax in fig.axes:
        if _colliding(ax.xaxis, renderer):
            lo, hi = sorted(ax.get_xlim())
            ticks = [t for t in ax.xaxis.get_major_ticks() if lo <= t.get_loc() <= hi]
            centres = sorted(ax.transData.transform((t.get_loc(), 0))[0] for t in ticks)
            gap = min((b - a for a, b in zip(centres, centres[1:]) if b > a), default=fig.bbox.width)
            size = ticks[0].label1.get_fontsize()
            chars = max(6, int(0.9 * gap / (0.6 * size * DPI / 72)))  # 0.6 em: a character's mean width
            ax.set_xticks(
                [t.get_loc() for t in ticks], [_wrap(t.label1.get_text(), chars) for t in ticks], fontsize=size
            )
            renderer = _relayout(fig)
            for angle in (30, 90):
                if not _colliding(ax.xaxis, renderer):
                    break
                ax.tick_params(axis="x", labelrotation=angle)
                plt.setp(ax.get_xticklabels(), ha="right", rotation_mode="anchor")
                renderer = _relayout(fig)
        pairs = _colliding(ax.yaxis, renderer)
        if pairs:  # rows too close: a taller figure
            need = max(t.get_window_extent(renderer).height for pair in pairs for t in pair)
            ys = sorted(ax.transData.transform((0, t.get_loc()))[1] for t in ax.yaxis.get_major_ticks())
            gap = min((b - a for a, b in zip(ys, ys[1:]) if b > a), default=need)
            w, h = fig.get_size_inches()
            fig.set_size_inches(w, h * min(4.0, 1.15 * need / gap))
            renderer = _relayout(fig)
    fig.set_dpi(shown_dpi)
    return fig


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
    ax.text(
        x, 0.1, f"z\n{G.nz}", ha="center", va="center", fontsize=10, bbox=dict(boxstyle="round", fc="#eeeeee", ec="0.3")
    )
    prev_right = x + 0.35
    x += 1.2
    max_hw = max(r["shape"][1] for r in rows)
    for i, r in enumerate(rows):
        c, h, w = r["shape"]
        side = 0.5 + 2.6 * math.log2(h) / math.log2(max_hw)  # spatial extent
        depth = 0.15 + 0.12 * math.log2(c)  # number of feature maps
        y0 = -side / 2
        face = [(x, y0), (x + depth, y0), (x + depth, y0 + side), (x, y0 + side)]
        top = [
            (x, y0 + side),
            (x + depth, y0 + side),
            (x + depth + 0.35, y0 + side + 0.35),
            (x + 0.35, y0 + side + 0.35),
        ]
        right = [
            (x + depth, y0),
            (x + depth + 0.35, y0 + 0.35),
            (x + depth + 0.35, y0 + side + 0.35),
            (x + depth, y0 + side),
        ]
        color = "#f4b183" if i == 0 else ("#a9d18e" if i == len(rows) - 1 else "#9dc3e6")
        for poly, shade in ((face, 1.0), (top, 0.85), (right, 0.7)):
            rgb = np.array(matplotlib.colors.to_rgb(color)) * shade
            ax.add_patch(Polygon(poly, closed=True, fc=rgb, ec="0.25", lw=0.8))
        ax.text(x + depth / 2, y0 - 0.35, f"{h}×{w}×{c}", ha="center", va="top", fontsize=9)
        ax.text(
            x + depth / 2,
            y0 + side + 0.6,
            r["name"] if i else "project and\nreshape",
            ha="center",
            va="bottom",
            fontsize=9,
        )
        ax.add_patch(
            FancyArrowPatch((prev_right, 0.1), (x - 0.05, 0.1), arrowstyle="-|>", mutation_scale=12, color="0.3")
        )
        if i:
            ax.text((prev_right + x) / 2, -0.25, f"{k}×{k}\nstride 2", ha="center", va="top", fontsize=7, color="0.3")
        prev_right = x + depth + 0.4
        x += depth + 1.6
    ax.set_xlim(-0.6, x)
    ax.set_ylim(-2.4, 2.6)
    ax.set_aspect("equal")
    ax.axis("off")
    total = sum(r["params"] for r in rows)
    ax.set_title(
        f"Generator ({G.arch}, {G.image_size}×{G.image_size}): {total:,} parameters — shapes from a forward pass",
        fontsize=10,
    )
    return fig


def metrics_figure(metrics: dict[str, list[float]], title: str = "", smooth: int = 25, evals: list[dict] | None = None):
    """Loss curves and D's outputs per step (from runlog.read_metrics), raw and smoothed; with
    `evals` (runlog.read_evals), a third panel: FID during training, the best step marked."""

    def smoothed(v):
        v = np.asarray(v, dtype=float)
        n = max(1, min(smooth, len(v) // 5 or 1))
        return np.convolve(v, np.ones(n) / n, mode="valid"), n

    fig, axes = plt.subplots(1, 3 if evals else 2, figsize=(16 if evals else 11, 3.6))
    step = np.asarray(metrics["step"])
    for ax, keys, labels in (
        (axes[0], ("loss_d", "loss_g"), ("loss D", "loss G")),
        (axes[1], ("d_x", "d_g_z"), ("D(x)", "D(G(z))")),
    ):
        for key, label in zip(keys, labels):
            (line,) = ax.plot(step, metrics[key], alpha=0.25, lw=0.8)
            s, n = smoothed(metrics[key])
            ax.plot(step[n - 1 :], s, color=line.get_color(), label=label)
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
