"""§6.2's figures (notebook 05): Figure 5 (each feature's top images over their guided-backprop maps, random
filters beside trained ones), the selectivity distributions and the summary table. Each takes the section's
result (guided_backprop.run); the notebook saves them with figures.save_figure.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from .figures import grid_image
from .guided_backprop import GuidedBackpropResult, maps_row


def figure5(result: GuidedBackpropResult, name: str):
    """Figure 5 for model `name`: per feature, its top images over their guided-backprop maps (scaled at the
    config's percentile, over the images where `overlay`); the random filter baseline on the left, the
    trained D on the right (as in the paper). The maps are not saved: it needs the result `run` returned."""
    m, percentile, over = result.models[name], result.config.percentile, result.config.overlay
    if m.shown is None:
        raise ValueError("Figure 5's images and maps are not saved with the result: pass the one run(cfg) returned")
    n_feat = m.shown["trained"][0].shape[0]
    fig, axes = plt.subplots(
        n_feat, 2, figsize=(2 * 1.1 * m.shown["trained"][0].shape[1] + 1, 2.3 * n_feat), squeeze=False
    )
    for col, kind in enumerate(("random", "trained")):
        imgs, sal = m.shown[kind]
        for f in range(n_feat):
            ax = axes[f, col]
            ax.imshow(
                grid_image(
                    torch.cat([imgs[f], maps_row(imgs[f], sal[f], m.gray, percentile, over)]), nrow=imgs.shape[1]
                )
            )
            ax.set_xticks([])
            ax.set_yticks([])
            if col == 0:
                ax.set_ylabel(f"feature {f}")
        axes[0, col].set_title(
            f"{'random filters' if kind == 'random' else 'trained D'}\n"
            f"top images / guided backprop{' (overlay)' if over else ''}"
        )
    fig.suptitle(
        f"{m.model}: D's conv layer {m.layer} ({'×'.join(map(str, m.layer_shape))}), the first {n_feat} features", y=1.0
    )
    fig.tight_layout()
    return fig


def selectivity_figure(result: GuidedBackpropResult):
    """Per model: distributions over the layer's features of class selectivity (KL to the prior)
    and saliency concentration, trained vs random D."""
    names = list(result.models)
    fig, axes = plt.subplots(len(names), 2, figsize=(10, 3.2 * len(names)), squeeze=False)
    for row, name in enumerate(names):
        m = result.models[name]
        for col, (key, label) in enumerate(
            (("kl", "KL(top-k label mix ‖ prior), nats"), ("concentration", "saliency mass in the top 10 % of pixels"))
        ):
            ax = axes[row, col]
            values = [getattr(m.random, key), getattr(m.trained, key)]
            hi = max(max(v) for v in values)
            bins = np.linspace(min(min(v) for v in values), hi if hi > 0 else 1, 30)
            for v, kind, color in zip(values, ("random", "trained"), ("tab:gray", "tab:blue")):
                ax.hist(v, bins=bins, alpha=0.6, color=color, label=f"{kind} D (mean {np.mean(v):.3f})")
            if key == "kl":
                ax.axvline(m.kl_chance, color="k", ls="--", lw=1, label=f"random top-k ({m.kl_chance:.3f})")
            ax.set_xlabel(label)
            ax.set_ylabel("features")
            ax.set_title(
                f"{name}: {m.layer_shape[0]} features of layer {m.layer}, labels {', '.join(m.labels)}", fontsize=9
            )
            ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def summary_table(result: GuidedBackpropResult) -> str:
    """One line per model: the summary numbers, trained vs random."""
    rows = [
        "| model | layer | features | images | mean KL trained / random / chance | KL beyond brightness trained / "
        "random | saliency top-10 % trained / random | in window boxes trained / random / area |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, m in result.models.items():
        b = m.boxes
        boxes = f"{b['trained']:.3f} / {b['random']:.3f} / {b['area']:.3f}" if b else "no annotations"
        rows.append(
            f"| {name} | {m.layer} | {m.layer_shape[0]} | {m.n_images} | {m.trained.mean_kl:.3f} / "
            f"{m.random.mean_kl:.3f} / {m.kl_chance:.3f} | {m.trained.mean_kl_beyond_brightness:.3f} / "
            f"{m.random.mean_kl_beyond_brightness:.3f} | {m.trained.mean_concentration:.3f} / "
            f"{m.random.mean_concentration:.3f} | {boxes} |"
        )
    return "\n".join(rows)
