"""§8.1's figures (notebook 08): Figure 9 (real digits beside the FC GAN's and the DCGAN's, one row per
class) and the 1-NN test error against generated samples per class beside Table 3's published rows. Each
takes the section's result (mnist_appendix.run); the notebook saves them with figures.save_figure.
"""

from __future__ import annotations

import torch

from .data import ImageData
from .mnist_appendix import AppendixResult, balanced_blocks


def class_rows(G: torch.nn.Module, per_class: int = 10, n_classes: int = 10, seed: int = 0) -> torch.Tensor:
    """per_class samples of each class from a conditional G, class k in row k, in [-1, 1]."""
    from .sample import generate

    return generate(G, n_classes * per_class, seed, labels=torch.arange(n_classes).repeat_interleave(per_class))


def real_rows(data: ImageData, per_class: int = 10, seed: int = 0) -> torch.Tensor:
    """per_class real digits of each class (a seeded draw), class k in row k, in [-1, 1]."""
    from .data import to_unit_range

    [(images, _)] = next(balanced_blocks(data, [per_class], seed))
    return to_unit_range(images)


def figure9(result: AppendixResult, per_class: int = 10, seed: int = 0):
    """Figure 9: real digits | the FC GAN's | the DCGAN's, one row per class (0 at the top)."""
    import matplotlib.pyplot as plt

    from .figures import grid_image

    panels = [
        ("real MNIST (50k training digits)", real_rows(result.real, per_class, seed)),
        (f"FC GAN (ours, {result.fc_steps:,} steps)", class_rows(result.G_fc, per_class, seed=seed)),
        (f"DCGAN (ours, {result.dcgan_steps:,} steps)", class_rows(result.G, per_class, seed=seed)),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.8))
    for ax, (title, images) in zip(axes, panels):
        ax.imshow(grid_image(images, nrow=per_class))
        ax.set_title(title)
        ax.axis("off")
    fig.suptitle("Figure 9: class-conditional samples, one class per row (§8.1)")
    fig.tight_layout()
    return fig


def error_figure(result: AppendixResult):
    """1-NN test error vs generated samples per class (log x) for our DCGAN, FC GAN and real data,
    with Table 3's published points at 5,000 (50K) and 1,000,000 (10M) per class."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    x = result.per_class
    styles = {"dcgan": ("DCGAN (ours)", "C0"), "fc": ("FC GAN (ours)", "C1"), "real": ("real data (ours)", "C2")}
    for key, (label, color) in styles.items():
        pts = [(n, 100 * e) for n, e in zip(x, result.errors[key]) if e is not None]
        ax.plot(*zip(*pts), "o-", color=color, label=label)
    ax.plot([5000], [100 * result.real_all], "s", color="C2", mfc="none", ms=9, label="all 50k real digits (ours)")
    h = result.headline
    if h.get("draws", 1) > 1:  # the headline: mean ± std over the noise draws, drawn a little to the right
        for key, (label, color) in list(styles.items())[:2]:
            ax.errorbar(
                [1.15 * h["per_class"]],
                [100 * h[key]],
                [100 * h[f"{key}_std"]],
                fmt="D",
                color=color,
                mfc="none",
                capsize=4,
                label=f"{label}, mean ± std of {h['draws']} draws",
            )
    paper = {"DCGAN (ours)": "C0", "GAN": "C1", "Real Data": "C2", "InfiMNIST": "C7", "AlignMNIST": "C5"}
    for name, color in paper.items():
        for at, n in (("50K", 5000), ("10M", 1_000_000)):
            v = result.paper[name][at]
            if v is not None:
                ax.plot([n], [v], "*", color=color, ms=12, label=f"paper: {name} @{at}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("generated (or real) samples per class")
    ax.set_ylabel("1-NN test error on real test digits (%)")
    ax.set_title("§8.1 / Table 3: nearest-neighbour classification")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig
