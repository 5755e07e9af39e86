"""
# Figure 6 and the tables of §6.3.1

Radford, Metz & Chintala (2015), [arXiv 1511.06434](https://arxiv.org/abs/1511.06434), §6.3.1:

> "Then, random new samples were generated with and without the feature map removal."

What `forgetting.run` measured, drawn (notebook 06 shows each): the hand-drawn boxes
(`boxes_figure`), Figure 6's rows of the same noise with and without the maps and with as many
random maps dropped (`figure6`, its rows drawn by `rows_figure`), what replaces the windows beside the darkness control
(`replaced_figure`), the concept's rate as more maps are dropped (`curve_figure`), and the tables
of each concept (`windows_table`, `windows_cost_table`, `eyeglasses_table`).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from matplotlib.patches import Rectangle

from .figures import grid_image
from .forgetting import EyeglassesResult, WindowsResult


def boxes_figure(result: WindowsResult, n: int = 24, cols: int = 8):
    """The annotated samples with their hand-drawn boxes."""
    images, boxes, seeds = result.images_before, result.boxes, result.seeds
    n = min(n, len(images))
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 1.75 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i in range(n):
        ax = axes.flat[i]
        ax.imshow(grid_image(images[i : i + 1], 1)[2:-2, 2:-2])
        for x0, y0, x1, y1 in boxes[i]:
            ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, ec="red", lw=1.5))
        ax.set_title(f"seed {seeds[i]}", fontsize=7)
    fig.suptitle(f"{sum(len(b) for b in boxes[:n])} window boxes on {n} samples (drawn by hand)")
    fig.tight_layout()
    return fig


def figure6(result: WindowsResult | EyeglassesResult, n: int = 10):
    """Figure 6 for one concept: the same noise with and without its maps dropped, and with as many random maps dropped."""
    if isinstance(result, WindowsResult):
        c = result.chosen
        first, concept = "samples", "window"
        title = f"{result.model}: G layer {c.layer} ({'×'.join(map(str, c.layer_shape))}), {c.maps_dropped} of {c.n_maps} maps"
    else:
        c, first, concept = result, "most glasses-like\nsamples", "glasses"
        title = f"{result.model}: G layer {c.layer}, {c.maps_dropped} of {c.n_maps} maps"
    rows = [
        (first, result.images_before),
        (f"{c.maps_dropped} {concept} maps\ndropped", c.images_after),
        (f"{c.maps_dropped} random maps\ndropped", c.images_random),
    ]
    return rows_figure(rows, n, title)


def rows_figure(rows: list[tuple[str, torch.Tensor]], n: int = 8, title: str = ""):
    """Rows of images, each labelled on its left (Figure 6's layout)."""
    fig, axes = plt.subplots(len(rows), 1, figsize=(1.4 * n, 1.6 * len(rows)), squeeze=False)
    for ax, (label, images) in zip(axes[:, 0], rows):
        ax.imshow(grid_image(images[:n], nrow=n))
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def replaced_figure(result: WindowsResult, n: int = 10):
    """What replaces the windows: samples that have boxes (red), as drawn, with the selected maps dropped,
    with as many random maps dropped, and as drawn with the boxes darkened as much (the darkness control)."""
    c = result.chosen
    idx = [i for i, b in enumerate(result.boxes) if b][:n]
    rows = [
        ("samples\n(with boxes)", result.images_before),
        (f"{c.maps_dropped} window maps\ndropped", c.images_after),
        (f"{c.maps_dropped} random maps\ndropped", c.images_random),
        ("boxes darkened,\nno map dropped", c.images_darkened),
    ]
    fig, axes = plt.subplots(len(rows), len(idx), figsize=(1.3 * len(idx), 1.45 * len(rows)), squeeze=False)
    for r, (label, images) in enumerate(rows):
        for j, i in enumerate(idx):
            ax = axes[r, j]
            ax.imshow(grid_image(images[i : i + 1], 1)[2:-2, 2:-2])
            for x0, y0, x1, y1 in result.boxes[i]:
                ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, ec="red", lw=0.8))
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    fig.suptitle(f"{result.model}: what replaces the windows (G layer {c.layer}, {c.maps_dropped} of {c.n_maps} maps)")
    fig.tight_layout()
    return fig


def windows_table(result: WindowsResult) -> str:
    rows = [
        "| G layer | shape | held-out accuracy | maps dropped | window prob. in boxes before / after / random "
        "| brightness in boxes before / after / random |",
        "|---|---|---|---|---|---|",
    ]
    for layer, r in result.layers.items():
        rows.append(
            f"| {layer}{' (chosen)' if layer == result.config.layer else ''} | "
            f"{'×'.join(map(str, r.layer_shape))} | {r.accuracy:.3f} | {r.maps_dropped} of {r.n_maps} | "
            f"{r.window_prob_before:.3f} / {r.window_prob_after:.3f} / {r.window_prob_after_random:.3f} | "
            f"{r.brightness_before:.3f} / {r.brightness_after:.3f} / {r.brightness_after_random:.3f} |"
        )
    return "\n".join(rows)


def eyeglasses_table(result: EyeglassesResult) -> str:
    r = result
    return "\n".join(
        [
            "| | before | after (selected maps) | after (as many random maps) |",
            "|---|---|---|---|",
            f"| eyeglasses rate (n = {r.n}) | {r.rate_before:.4f} | {r.rate_after:.4f} | {r.rate_after_random:.4f} |",
            f"| FID (n = {r.fid_n}) | {r.fid_before:.1f} | {r.fid_after:.1f} | {r.fid_after_random:.1f} |",
            f"| maps dropped | 0 | {r.maps_dropped} of {r.n_maps} | {r.maps_dropped} of {r.n_maps} |",
        ]
    )


def curve_figure(result: EyeglassesResult | WindowsResult):
    """The concept's rate as more maps are dropped (strongest weight first) vs as many random maps; for
    windows also the darkened control and, beside it, the boxes' brightness."""
    c, windows = result.curve, isinstance(result, WindowsResult)
    layer, n_maps = (result.chosen.layer, result.chosen.n_maps) if windows else (result.layer, result.n_maps)
    fig, axes = plt.subplots(1, 2 if windows else 1, figsize=(11 if windows else 5.5, 3.5), squeeze=False)
    ax = axes[0, 0]
    ax.plot(c["maps"], c["selected"], "o-", label="selected maps (largest weight first)")
    ax.plot(c["maps"], c["random"], "s--", color="gray", label=f"random maps (mean of {result.config.random_repeats})")
    if windows:
        ax.plot(c["maps"], c["darkened"], "^:", color="black", label="no maps: boxes darkened as the selected maps do")
    ax.set_ylabel("window probability in the boxes (judge on D)" if windows else "eyeglasses rate (classifier)")
    ax.set_title(f"{result.model}: forgetting {'windows' if windows else 'eyeglasses'}")
    if windows:
        ax2 = axes[0, 1]
        ax2.plot(c["maps"], c["brightness_selected"], "o-", label="selected maps")
        ax2.plot(c["maps"], c["brightness_random"], "s--", color="gray", label="random maps")
        ax2.set_ylabel("mean brightness in the boxes ([-1, 1])")
        ax2.set_title("is the window gone, or only dark?")
    for a in axes.flat:
        a.set_xscale("symlog", linthresh=1)
        a.set_xlabel(f"maps dropped at G layer {layer} (of {n_maps})")
        a.legend(fontsize=8)
    fig.tight_layout()
    return fig


def windows_cost_table(result: WindowsResult) -> str:
    """The chosen layer: window probability, the darkness controls and the image-quality cost."""
    r, c = result, result.chosen
    return "\n".join(
        [
            "| | before | after (selected maps) | after (as many random maps) | before, boxes darkened as after |",
            "|---|---|---|---|---|",
            f"| window prob. in boxes | {c.window_prob_before:.3f} | {c.window_prob_after:.3f} | "
            f"{c.window_prob_after_random:.3f} | {c.window_prob_darkened:.3f} |",
            f"| brightness in boxes | {c.brightness_before:.3f} | {c.brightness_after:.3f} | "
            f"{c.brightness_after_random:.3f} | {c.brightness_after:.3f} |",
            f"| FID (n = {r.fid_n}) | {r.fid_before:.1f} | {r.fid_after:.1f} | {r.fid_after_random:.1f} | — |",
            f"| KID (n = {r.fid_n}) | {r.kid_before:.4f} | {r.kid_after:.4f} | {r.kid_after_random:.4f} | — |",
            f"| maps dropped | 0 | {c.maps_dropped} of {c.n_maps} | {c.maps_dropped} of {c.n_maps} | 0 |",
        ]
    )
