"""§4.1.1's figures (notebook 02): the injected changes, the autoencoder hash's groups, recall and FP rate
per method, the threshold sweep and the scaling. Each takes the section's result (dedup.run); the groups
are drawn by semantic_hash.collisions_figure; the notebook saves them with figures.save_figure.
"""

from __future__ import annotations

import numpy as np

from .dedup import KINDS, DedupEvaluation, Injected
from .semantic_hash import collisions_figure


def injected_examples_figure(result: DedupEvaluation):
    """For each kind of change, one original beside its changed copy (the images: the result `run` returned)."""
    inj = injected(result)
    examples = [[int(inj.original[i]), int(i)] for k in KINDS for i in np.nonzero(inj.kind == k)[0][:1]]
    return collisions_figure(
        inj.images,
        examples,
        labels=inj.kind,
        per_group=2,
        max_groups=len(KINDS),
        title="each kind of change: original, copy",
    )


def injected(result: DedupEvaluation) -> Injected:
    """The result's images and what each is; they are not saved (a result `read` back has none)."""
    if result.injected is None:
        raise ValueError("the images are not saved with the result: pass the one run(cfg) returned")
    return result.injected


def groups_figure(result: DedupEvaluation, false: bool = False):
    """The autoencoder hash's groups, largest first (`false`: only those that mix different pictures)."""
    inj = injected(result)
    title = (
        f"{result.n_false_groups} groups that mix different pictures"
        if false
        else f"autoencoder hash: {result.n_groups} groups (largest first)"
    )
    return collisions_figure(inj.images, result.false_groups if false else result.groups, labels=inj.kind, title=title)


def scores_figure(result: DedupEvaluation):
    """Recall per kind of change (bars, one colour per method) and each method's FP rate."""
    import matplotlib.pyplot as plt

    from .figures import readable_labels

    scores = list(result.scores.values())
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 3.8), gridspec_kw=dict(width_ratios=[4, 1.3]))
    width = 0.8 / len(scores)
    for j, s in enumerate(scores):
        ax.bar(np.arange(len(KINDS)) + j * width, [s.recall.get(k, 0) for k in KINDS], width, label=s.method)
        fp = 0.0 if s.fp_rate != s.fp_rate else s.fp_rate  # nan: nothing detected
        ax2.bar(j, fp)
        ax2.text(j, fp, f"{fp:.3f}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(np.arange(len(KINDS)) + 0.4 - width / 2, KINDS)
    ax.set_ylabel("recall of injected pairs")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8)
    ax2.set_xticks(range(len(scores)), [s.method.split(" (")[0] for s in scores], fontsize=8)
    ax2.axhline(0.01, color="k", ls="--", lw=0.8, label="paper: < 1 in 100")
    ax2.set_ylim(0, max([0.02] + [1.25 * s.fp_rate for s in scores if s.fp_rate == s.fp_rate]))
    ax2.set_ylabel("FP rate (1 − precision)")
    ax2.legend(fontsize=8)
    return readable_labels(fig)


def sweep_figure(result: DedupEvaluation):
    """Recall against false-positive rate as the threshold moves, one line per radius (the config's threshold marked)."""
    import matplotlib.pyplot as plt

    rows, threshold = result.sweep, result.config.threshold
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 3.6))
    for radius in sorted({r["radius"] for r in rows}):
        rs = [r for r in rows if r["radius"] == radius]
        t = [r["threshold"] for r in rs]
        (line,) = ax.plot(t, [r["recall"] for r in rs], marker=".", label=f"recall, radius {radius}")
        ax.plot(t, [r["fp_rate"] for r in rs], ls="--", color=line.get_color(), label=f"FP rate, radius {radius}")
        ax2.plot([r["false_grouped"] for r in rs], [r["recall"] for r in rs], marker=".", label=f"radius {radius}")
    ax.axvline(threshold, color="0.5", lw=0.8)
    ax.set_xlabel("threshold on the ReLU activation")
    ax.legend(fontsize=7)
    ax2.set_xscale("symlog", linthresh=1e-4)
    ax2.set_xlabel("fraction of images falsely grouped")
    ax2.set_ylabel("recall")
    ax2.legend(fontsize=8)
    for a in (ax, ax2):
        a.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def scaling_figure(result: DedupEvaluation):
    """Hash + group time against N on log-log axes, with the fitted exponent."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    from .figures import readable_labels

    s = result.scaling
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    ax.loglog(s.n, s.total_s, "o-", label=f"hash + group (slope {s.exponent:.2f})")
    ax.loglog(s.n, s.hash_s, ".--", label="hash (encode, threshold, pack)")
    ax.loglog(s.n, s.group_s, ".--", label="group (one dict)")
    ax.set_xticks(s.n, [f"{n:,}" for n in s.n], minor=False)  # the measured Ns, not log's crowded minor labels
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("images N")
    ax.set_ylabel("seconds")
    ax.set_title(f"{s.images_per_s:,.0f} images/s at N = {s.n[-1]:,}", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return readable_labels(fig)
