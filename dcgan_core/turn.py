"""
# The turn vector: pose, measured (§6.3.2, Figure 8)

Radford, Metz & Chintala (2015), [arXiv 1511.06434](https://arxiv.org/abs/1511.06434), §6.3.2,
Figure 8: "A 'turn' vector was created from four averaged samples of faces looking left vs looking
right. By adding interpolations along this axis to random samples we were able to reliably
transform their pose."

The paper picked the left- and right-looking faces by eye and showed the result. We also measure it:

- **Pose** (ours) — `pose.pose`: how far a face is turned, from where the skin and the nostrils and
  mouth lie relative to the eyes (CelebA's crops are aligned on the eyes), checked against real
  CelebA faces sorted by eye (`pose.validate`; the result's `validation` holds ρ and n). It is
  antisymmetric under mirroring and 0 for a mirror-symmetric face.
- **Turn vector** (`turn_vector`) = mean z of the 4 faces of the pool with the largest pose − mean
  z of the 4 with the smallest (`turn_exemplars`), unless the exemplars are given (a choices file,
  `choices.Choices`).
- **Measured** (`measure_turn`) — along z + α·turn (`turn_frames`), pose must change
  monotonically: per random sample, Spearman ρ between α and pose, whether pose never goes down
  (monotone) and whether it never goes down by more than a tenth of the pool's pose spread
  (near-monotone; ours, as pose is read from pixels and jitters); at `turn_scale` and, to see
  whether a longer walk turns further, at the larger α ranges of SCALES (`TurnResult`; `claims.py`
  checks the median ρ; its control: the same along random directions as long as the turn vector,
  one per row, `random_turns`). `turn_figure` draws Figure 8.

`vector_arithmetic.py` (the section) measures it in `run` and saves it with its result.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from .pose import MEASURES, PoseValidation, pose, spearman, validate
from .sample import render, seed_points

__all__ = [
    "pose",
    "spearman",
    "turn_exemplars",
    "TurnResult",
    "turn_vector",
    "turn_frames",
    "measure_turn",
    "turn_figure",
]

NEAR_MONOTONE = 0.1  # ours: a near-monotone row never drops by more than this × the pool's pose spread
SCALES = (1.0, 2.0, 3.0)  # ours: the α ranges (× turn_scale) measured besides turn_scale itself


def turn_exemplars(poses: np.ndarray, k: int) -> tuple[list[int], list[int]]:
    """The k faces with the smallest and the k with the largest pose."""
    order = np.argsort(np.asarray(poses), kind="stable")
    return order[:k].tolist(), order[::-1][:k].tolist()


@dataclasses.dataclass
class TurnResult:
    """Figure 8, measured: the pose along z + α·turn for `rows` random samples."""

    left: list[int]  # pool indices of the left-looking exemplars (smallest pose)
    right: list[int]
    pose_left: float  # their mean pose
    pose_right: float
    alphas: list[float]
    poses: list[list[float]]  # per row, the pose at each α
    spearman: list[float]  # per row, ρ(α, pose)
    spearman_median: float  # of ρ(α, pose) over rows
    cues_spearman_median: dict[str, float]  # the same for each of pose's two cues alone
    monotone_fraction: float  # rows whose pose never goes down as α grows
    near_monotone_fraction: float  # rows whose pose never drops by more than NEAR_MONOTONE × the pool's spread
    pose_change: float  # median over rows of pose(α max) − pose(α min)
    by_scale: dict[str, dict]  # per α range (SCALES × turn_scale): spearman_median, the fractions, pose_change
    controls: dict[str, float]  # the same along a random direction as long as the turn, one per row
    validation: PoseValidation | None = None  # the pose measure against hand-sorted real faces (pose.validate)


def turn_vector(z: torch.Tensor, left: list[int], right: list[int]) -> torch.Tensor:
    """Figure 8's "turn" vector: mean z of the right-looking exemplars − mean z of the left-looking."""
    return z[torch.as_tensor(right)].mean(0) - z[torch.as_tensor(left)].mean(0)


def turn_frames(G, base: torch.Tensor, turn: torch.Tensor, steps: int, scale: float) -> torch.Tensor:
    """G(z + α·turn) for each base z (rows) and α from −scale to +scale (columns): (rows·steps) images.
    `turn`: one direction for every row, or one per row (rows×nz)."""
    alphas = torch.linspace(-scale, scale, steps).view(-1, 1)
    turns = turn.expand(len(base), -1) if turn.ndim == 1 else turn
    return render(G, torch.cat([zb + alphas * t for zb, t in zip(base, turns)]))


def random_turns(turn: torch.Tensor, rows: int, seed: int) -> torch.Tensor:
    """The control: per row, a random direction as long as `turn` (rows×nz)."""
    r = torch.randn(rows, turn.shape[-1], generator=torch.Generator().manual_seed(seed))
    return r / r.norm(dim=1, keepdim=True) * turn.norm()


def _along(G, base: torch.Tensor, turn: torch.Tensor, steps: int, scale: float, tolerance: float) -> dict:
    """The pose of G(z + α·turn) per row and α, and its scores; and each cue's median ρ alone."""
    alphas = np.linspace(-scale, scale, steps)
    frames = turn_frames(G, base, turn, steps, scale)
    along = pose(frames).reshape(len(base), steps)
    rho = [spearman(alphas, row) for row in along]
    steps_down = np.diff(along, axis=1)
    cues = {
        name: float(np.nanmedian([spearman(alphas, row) for row in MEASURES[name](frames).reshape(len(base), steps)]))
        for name in ("face_offset", "nose_offset")
    }
    return dict(
        alphas=alphas.tolist(),
        poses=along.tolist(),
        spearman=rho,
        cues_spearman_median=cues,
        spearman_median=float(np.nanmedian(rho)) if not np.all(np.isnan(rho)) else float("nan"),
        monotone_fraction=float(np.mean(np.all(steps_down >= 0, axis=1))),
        near_monotone_fraction=float(np.mean(np.all(steps_down >= -tolerance, axis=1))),
        pose_change=float(np.median(along[:, -1] - along[:, 0])),
    )


def measure_turn(
    G, z: torch.Tensor, poses: np.ndarray, cfg, left=None, right=None, validation: PoseValidation | None | bool = True
) -> TurnResult:
    """Pick the exemplars by pose (unless given), build the turn vector, add it along α to
    `cfg.turn_rows` random samples and measure the pose of every frame. `cfg` is a
    `vector_arithmetic.ArithmeticConfig` (duck-typed: its turn_exemplars, turn_rows, turn_steps,
    turn_scale and seed are read). `validation`: True checks the pose measure on the hand-sorted
    real faces (`pose.validate`, seconds), a PoseValidation is stored as given, False leaves it out."""
    auto_left, auto_right = turn_exemplars(poses, cfg.turn_exemplars)
    left = list(left) if left is not None else auto_left
    right = list(right) if right is not None else auto_right
    turn = turn_vector(z, left, right)
    base = seed_points(cfg.turn_rows, z.shape[1], cfg.seed + 21)
    tolerance = NEAR_MONOTONE * float(np.std(poses))
    main = _along(G, base, turn, cfg.turn_steps, cfg.turn_scale, tolerance)
    by_scale = {}
    for k in SCALES:
        scale = k * cfg.turn_scale
        got = main if scale == cfg.turn_scale else _along(G, base, turn, cfg.turn_steps, scale, tolerance)
        by_scale[f"{scale:g}"] = {
            key: got[key] for key in ("spearman_median", "monotone_fraction", "near_monotone_fraction", "pose_change")
        }
    control = _along(G, base, random_turns(turn, len(base), cfg.seed + 22), cfg.turn_steps, cfg.turn_scale, tolerance)
    if validation is True:
        validation = validate()
    return TurnResult(
        left=left,
        right=right,
        pose_left=float(poses[left].mean()),
        pose_right=float(poses[right].mean()),
        by_scale=by_scale,
        controls={
            key: control[key]
            for key in ("spearman_median", "monotone_fraction", "near_monotone_fraction", "pose_change")
        },
        validation=validation or None,
        **main,
    )


# ---------------------------------------------------------------------------------------------
# Figure 8


def turn_figure(G, z: torch.Tensor, turn: TurnResult, cfg, rows: int = 6):
    """Figure 8: random samples (rows) with the turn vector added along α (columns), each frame's
    pose below; and the pose against α for every row. `cfg`: as `measure_turn`'s (an
    `ArithmeticConfig`, duck-typed)."""
    import matplotlib.pyplot as plt

    from .figures import grid_image

    rows = min(rows, cfg.turn_rows)
    base = seed_points(cfg.turn_rows, z.shape[1], cfg.seed + 21)[:rows]
    frames = turn_frames(G, base, turn_vector(z, turn.left, turn.right), cfg.turn_steps, cfg.turn_scale)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(14, 0.95 * rows + 0.8), gridspec_kw=dict(width_ratios=[2.2, 1]))
    ax.imshow(grid_image(frames, nrow=cfg.turn_steps))
    ax.set_title(
        f"z + α·turn, α from {-cfg.turn_scale:g} to {cfg.turn_scale:g} "
        f"(turn: {len(turn.right)} right-looking − {len(turn.left)} left-looking, mean z)",
        fontsize=9,
    )
    ax.axis("off")
    for row in turn.poses:
        ax2.plot(turn.alphas, row, color="C0", alpha=0.5)
    ax2.plot(turn.alphas, np.median(turn.poses, axis=0), color="k", lw=2, label="median")
    ax2.axhline(turn.pose_left, color="C3", ls="--", lw=0.8, label="left exemplars")
    ax2.axhline(turn.pose_right, color="C2", ls="--", lw=0.8, label="right exemplars")
    ax2.set_xlabel("α")
    ax2.set_ylabel("pose (+ = turned towards the image's right)")
    checked = (
        f"\npose against {turn.validation.n} real faces sorted by eye: Spearman ρ {turn.validation.rho:.2f}"
        if turn.validation
        else ""
    )
    ax2.set_title(
        f"Spearman ρ(α, pose): median {turn.spearman_median:.2f}; monotone rows "
        f"{turn.monotone_fraction:.0%}, near-monotone {turn.near_monotone_fraction:.0%}{checked}",
        fontsize=9,
    )
    ax2.legend(fontsize=7)
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    return fig
