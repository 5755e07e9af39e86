"""§6.3.2's figures (notebook 07): Figure 7 (an equation drawn by `vector_arithmetic.arithmetic_figure`, which
the `arithmetic` command also saves), the exemplars, the success rates against their controls, and Figure 8's
turn. Each takes the section's result (vector_arithmetic.run); the notebook saves them with figures.save_figure.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from .concepts import equation
from .misalignment import Misalignment
from .turn import turn_figure
from .vector_arithmetic import ArithmeticResult, arithmetic_figure


def exemplars_figure(images: torch.Tensor, indices: list[int], title: str = "", values=None):
    """A row of pool faces (e.g. the turn's exemplars), captioned with a value each."""

    from .figures import grid_image

    fig, axes = plt.subplots(1, len(indices), figsize=(1.2 * len(indices), 1.5), squeeze=False)
    for ax, i, v in zip(axes[0], indices, values if values is not None else [None] * len(indices)):
        ax.imshow(grid_image(images[i][None]))
        ax.set_title(f"#{i}" + ("" if v is None else f" {v:+.1f}"), fontsize=7)
        ax.axis("off")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def figure7(result: ArithmeticResult, name: str):
    """Figure 7 for equation `name` on the result's exemplars (`choices`), with the pixel control
    jittered by the measured misalignment."""
    r, cfg = result.rebuild(), result.config
    pool_ = r.choice_pool
    return arithmetic_figure(
        r.generator,
        pool_.z,
        pool_.images,
        r.choices.picks(name),
        equation(name),
        cfg.noise,
        cfg.seed,
        misalignment=Misalignment(**r.misalignment),
    )


def turn_exemplars_figure(result: ArithmeticResult):
    """Figure 8's exemplars: the faces looking one way and the other, each with its measured pose."""
    t, pool_ = result.turn, result.rebuild().choice_pool
    title = "turn exemplars: looking one way (left 4), the other (right 4)"
    return exemplars_figure(pool_.images, t.left + t.right, title, pool_.pose[t.left + t.right])


def figure8(result: ArithmeticResult):
    """Figure 8: the turn vector added to random samples (`turn.turn_figure`)."""
    r = result.rebuild()
    return turn_figure(r.generator, r.choice_pool.z, r.turn, r.config)


def success_figure(result: ArithmeticResult):
    """Success rates (a)–(d) per equation, with standard errors."""

    keys = ("mean3", "single", "pixel", "pixel_jittered", "random")
    labels = (
        "(a) mean of 3, Z",
        "(b) single, Z",
        "(c) pixels, aligned",
        "(c′) pixels, detector-jittered",
        "(d) random z",
    )
    from .figures import readable_labels

    names = list(result.equations)
    fig, ax = plt.subplots(figsize=(max(8, 2.6 * len(names)), 4))
    width = 0.8 / len(keys)
    for j, (k, lab) in enumerate(zip(keys, labels)):
        vals = [getattr(result.equations[n], "success_" + k) for n in names]
        errs = [result.equations[n].stderr[k] for n in names]
        ax.bar(np.arange(len(names)) + j * width, vals, width, yerr=errs, label=lab, capsize=3)
    ax.set_xticks(np.arange(len(names)) + 0.4 - width / 2, [result.equations[n].text for n in names], fontsize=8)
    ax.set_ylabel("fraction read as the target")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    return readable_labels(fig)  # each equation wrapped to its group's width (they ran into each other)
