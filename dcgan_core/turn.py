"""
# The turn vector: pose, measured (§6.3.2, Figure 8)

Radford, Metz & Chintala (2015), [arXiv 1511.06434](https://arxiv.org/abs/1511.06434), §6.3.2,
Figure 8: "A 'turn' vector was created from four averaged samples of faces looking left vs looking
right. By adding interpolations along this axis to random samples we were able to reliably
transform their pose."

The paper picked the left- and right-looking faces by eye and showed the result. We also measure it:

- **Pose** (ours) — `pose` is the horizontal offset, in pixels, of the face's mirror
  symmetry axis from the image centre: the shift s (within ±20 px) that best aligns the face's
  centre band with its own mirror image is twice the axis offset. CelebA's crops are aligned on the eyes, so a turned
  head moves nose, mouth and jaw — and with them the axis — sideways. It is antisymmetric by
  construction (a mirrored face gets −pose), 0 for a symmetric face, and it recovers a known axis
  offset (tests/test_vector_arithmetic.py).
- **Turn vector** (`turn_vector`) = mean z of the 4 faces of the pool with the largest pose − mean
  z of the 4 with the smallest (`turn_exemplars`: among faces whose best shift is not at the edge of
  the search, `pose_found`), unless the exemplars are given (a choices file, `vector_arithmetic.Choices`).
- **Measured** (`measure_turn`) — along z + α·turn (`turn_frames`), pose must change
  monotonically: Spearman ρ between α and pose, per random sample (`TurnResult`; `claims.py`
  checks its median). `turn_figure` draws Figure 8.

`vector_arithmetic.py` (the section) measures it in `run` and saves it with its result.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from .sample import render, seed_points

POSE_ROWS = (20, 60)      # ours: eyes to chin in CelebA's eye-aligned 64×64 crops
POSE_COLS = (20, 44)      # the central columns compared with the mirror image (shifted by up to ±20)
POSE_MAX_SHIFT = 20       # pixels: the symmetry axis is searched within ±10 px of the centre


def pose(images: torch.Tensor) -> np.ndarray:
    """The horizontal offset (pixels, + = to the image's right) of each face's mirror-symmetry axis
    from the image centre: half the shift s that best aligns the face's centre band with its mirror
    (normalised correlation, sub-pixel by a parabola through the best three shifts)."""
    x = torch.as_tensor(images)
    x = x.float() / 127.5 - 1 if x.dtype == torch.uint8 else x.float()
    gray = x.mean(1)[:, POSE_ROWS[0]:POSE_ROWS[1]]                          # N×rows×64
    mirror = gray.flip(-1)
    c0, c1 = POSE_COLS
    a = gray[..., c0:c1]
    a = a - a.mean((-2, -1), keepdim=True)
    shifts = range(-POSE_MAX_SHIFT, POSE_MAX_SHIFT + 1)
    scores = []
    for s in shifts:      # the mirror's column c − s against the face's column c
        b = mirror[..., c0 - s:c1 - s]
        b = b - b.mean((-2, -1), keepdim=True)
        scores.append((a * b).sum((-2, -1)) / (a.norm(dim=(-2, -1)) * b.norm(dim=(-2, -1)) + 1e-8))
    scores = torch.stack(scores, 1).numpy()                                  # N×shifts
    # (a best shift at the edge of the search, ±POSE_MAX_SHIFT, is no peak: `pose_found` is False there)
    best = scores.argmax(1)
    inner = np.clip(best, 1, len(shifts) - 2)
    left, mid, right = (scores[np.arange(len(best)), inner + d] for d in (-1, 0, 1))
    denom = left - 2 * mid + right
    frac = np.where((best == inner) & (denom < 0), 0.5 * (left - right) / np.where(denom == 0, -1, denom), 0.0)
    return (best - POSE_MAX_SHIFT + frac) / 2.0


def pose_found(poses: np.ndarray) -> np.ndarray:
    """Where `pose` found a peak inside its search range (not stuck at ±POSE_MAX_SHIFT / 2)."""
    return np.abs(poses) < POSE_MAX_SHIFT / 2 - 1e-6


def turn_exemplars(poses: np.ndarray, k: int) -> tuple[list[int], list[int]]:
    """The k faces with the smallest and the k with the largest pose, among those where a peak was found."""
    found = np.nonzero(pose_found(poses))[0]
    order = found[np.argsort(poses[found], kind="stable")]
    return order[:k].tolist(), order[::-1][:k].tolist()


def spearman(x, y) -> float:
    """Spearman's rank correlation (NaN where y is constant)."""
    from scipy.stats import spearmanr
    if np.ptp(np.asarray(y, dtype=float)) == 0:
        return float("nan")
    return float(spearmanr(x, y).statistic)


@dataclasses.dataclass
class TurnResult:
    """Figure 8, measured: the pose along z + α·turn for `rows` random samples."""
    left: list[int]                 # pool indices of the left-looking exemplars (smallest pose)
    right: list[int]
    pose_left: float                # their mean pose (pixels)
    pose_right: float
    alphas: list[float]
    poses: list[list[float]]        # per row, the pose at each α
    spearman_median: float          # of ρ(α, pose) over rows
    monotone_fraction: float        # rows whose pose never goes down as α grows
    pose_change: float              # median over rows of pose(α max) − pose(α min)


def turn_vector(z: torch.Tensor, left: list[int], right: list[int]) -> torch.Tensor:
    """Figure 8's "turn" vector: mean z of the right-looking exemplars − mean z of the left-looking."""
    return z[torch.as_tensor(right)].mean(0) - z[torch.as_tensor(left)].mean(0)


def turn_frames(G, base: torch.Tensor, turn: torch.Tensor, steps: int, scale: float) -> torch.Tensor:
    """G(z + α·turn) for each base z (rows) and α from −scale to +scale (columns): (rows·steps) images."""
    alphas = torch.linspace(-scale, scale, steps).view(-1, 1)
    return render(G, torch.cat([zb + alphas * turn for zb in base]))


def measure_turn(G, z: torch.Tensor, poses: np.ndarray, cfg, left=None, right=None) -> TurnResult:
    """Pick the exemplars by pose (unless given), build the turn vector, add it along α to
    `cfg.turn_rows` random samples and measure the pose of every frame. `cfg` is a
    `vector_arithmetic.ArithmeticConfig` (duck-typed: its turn_exemplars, turn_rows, turn_steps,
    turn_scale and seed are read)."""
    auto_left, auto_right = turn_exemplars(poses, cfg.turn_exemplars)
    left = list(left) if left is not None else auto_left
    right = list(right) if right is not None else auto_right
    turn = turn_vector(z, left, right)
    base = seed_points(cfg.turn_rows, z.shape[1], cfg.seed + 21)
    frames = turn_frames(G, base, turn, cfg.turn_steps, cfg.turn_scale)
    along = pose(frames).reshape(cfg.turn_rows, cfg.turn_steps)
    alphas = np.linspace(-cfg.turn_scale, cfg.turn_scale, cfg.turn_steps)
    rho = [spearman(alphas, row) for row in along]
    return TurnResult(left=left, right=right, pose_left=float(poses[left].mean()),
                      pose_right=float(poses[right].mean()), alphas=alphas.tolist(), poses=along.tolist(),
                      spearman_median=float(np.nanmedian(rho)),
                      monotone_fraction=float(np.mean([np.all(np.diff(r) >= 0) for r in along])),
                      pose_change=float(np.median(along[:, -1] - along[:, 0])))


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
    ax.set_title(f"z + α·turn, α from {-cfg.turn_scale:g} to {cfg.turn_scale:g} "
                 f"(turn: {len(turn.right)} right-looking − {len(turn.left)} left-looking, mean z)", fontsize=9)
    ax.axis("off")
    for row in turn.poses:
        ax2.plot(turn.alphas, row, color="C0", alpha=0.5)
    ax2.plot(turn.alphas, np.median(turn.poses, axis=0), color="k", lw=2, label="median")
    ax2.axhline(turn.pose_left, color="C3", ls="--", lw=0.8, label="left exemplars")
    ax2.axhline(turn.pose_right, color="C2", ls="--", lw=0.8, label="right exemplars")
    ax2.set_xlabel("α")
    ax2.set_ylabel("pose: symmetry-axis offset (px)")
    ax2.set_title(f"Spearman ρ(α, pose): median {turn.spearman_median:.2f}; "
                  f"monotone rows {turn.monotone_fraction:.0%}", fontsize=9)
    ax2.legend(fontsize=7)
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    return fig
