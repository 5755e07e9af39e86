"""
# Is the window gone? The judge and the darkness control (§6.3.1, Figure 6)

Radford, Metz & Chintala (2015), [arXiv 1511.06434](https://arxiv.org/abs/1511.06434), §6.3.1:

> "Then, random new samples were generated with and without the feature map removal."

The paper shows those samples; `forgetting.py` measures them, and this module holds what it
measures with (ours):

- **The judge** (`WindowJudge`) — the window probability of each position inside the annotated
  boxes. It must not be the regression that chose the maps (dropping its positive-weight inputs
  lowers its output by construction), so it is a second logistic regression on the **trained D's
  features** of the image (`judge_layer`): it sees only pixels. Positives are the positions inside
  the boxes, negatives as many random positions outside them (`drop_maps.position_samples`); it is
  cross-fitted by image folds (`drop_maps.folds_of`), so image i is scored by the regression fitted
  on the other folds, and its held-out balanced accuracy is `accuracy`.
- **Brightness** (`box_brightness`) — the mean pixel value inside the boxes (windows in the
  15-Scene photos are bright).
- **The darkness control** (`darken`) — dark boxes may read as "no window", so the samples as drawn
  are darkened inside their boxes to a given brightness (that of the samples with the maps dropped)
  and judged alike: a uniform shift of the pixels, so that the window's shape stays.
- **The curve** (`windows_curve`) — all three as the m strongest maps are dropped, against m random
  maps: the paper's regime drops a small share of a layer's maps.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch

from .annotations import sample_for_seed
from .drop_maps import box_mask, folds_of, logistic_model, position_samples, random_maps, vectors_at
from .models import eval_mode


class JudgeSettings(Protocol):
    """What `WindowJudge` reads of a config (`forgetting.ForgettingConfig` has them)."""

    judge_layer: int  # the trained D's conv layer the judge reads
    folds: int  # cross-fitting folds over images
    reg: float  # inverse L2 strength C
    seed: int  # seed of the negatives and the folds


class CurveSettings(Protocol):
    """What `windows_curve` reads of a config (`forgetting.ForgettingConfig` has them)."""

    curve: tuple[int, ...]  # numbers of maps dropped, strongest weight first
    random_repeats: int  # draws of as many random maps
    seed: int  # seed of the random maps


class WindowJudge:
    """Window probability of each position of an image, read from the trained D's features of the
    pixels alone (layer `judge_layer`), cross-fitted: image i is scored by the regression fitted
    on the other folds."""

    def __init__(self, D, images: torch.Tensor, boxes: list, cfg: JudgeSettings):
        from sklearn.metrics import balanced_accuracy_score

        self.D, self.layer, self.cfg = D, cfg.judge_layer, cfg
        if not 0 <= self.layer < len(D.layers):
            raise ValueError(f"judge_layer must be in 0..{len(D.layers) - 1}, got {self.layer}")
        acts = self.features(images)
        pos = box_mask(boxes, acts.shape[-1], images.shape[-1])
        img, ys, xs, y = position_samples(pos, ~pos, cfg.seed)
        X = vectors_at(acts, img, ys, xs)
        self.fold = folds_of(len(images), cfg.folds, cfg.seed)
        self.models = [
            logistic_model(cfg.reg).fit(X[self.fold[img] != k], y[self.fold[img] != k]) for k in range(cfg.folds)
        ]
        pred = np.zeros(len(y))
        for k, m in enumerate(self.models):
            pred[self.fold[img] == k] = m.predict(X[self.fold[img] == k])
        self.accuracy = float(balanced_accuracy_score(y, pred))
        self.pos = pos

    @torch.no_grad()
    def features(self, images: torch.Tensor) -> torch.Tensor:
        with eval_mode(self.D):
            return self.D.features(images)[self.layer].float()

    def mean_inside(self, images: torch.Tensor, index=None) -> float:
        """Mean window probability over the positions inside the boxes of the same samples (`images[j]` is
        annotated sample `index[j]`; None: all of them, in order)."""
        acts = self.features(images)
        index = np.arange(len(images)) if index is None else np.asarray(index)
        probs = []
        for j, i in enumerate(index):
            ys, xs = self.pos[i].nonzero(as_tuple=True)
            if len(ys):
                v = acts[j][:, ys, xs].T.numpy()
                probs.append(self.models[self.fold[i]].predict_proba(v)[:, 1])
        return float(np.concatenate(probs).mean())


def box_brightness(images: torch.Tensor, boxes: list) -> float:
    """Mean pixel value in [-1, 1] (over channels) inside the boxes of the images."""
    mask = box_mask(boxes, images.shape[-1], images.shape[-1])
    return float(images.mean(1)[mask].mean())


def darken(images: torch.Tensor, boxes: list, brightness: float, steps: int = 40) -> torch.Tensor:
    """The images with the pixels inside their boxes shifted down by one amount (all channels, clipped to
    [-1, 1]) so that the boxes' mean brightness is `brightness` (ours: a shift keeps the window's edges
    and shape; the amount is found by bisection because clipping makes it nonlinear)."""
    pixels = box_mask(boxes, images.shape[-1], images.shape[-1])
    mask = pixels[:, None].expand_as(images)
    inside = images.permute(1, 0, 2, 3)[:, pixels]  # C × (pixels in boxes): as `box_brightness` reads them
    if not inside.numel() or float(inside.mean()) <= brightness:  # already as dark: nothing to do
        return images.clone()
    lo, hi = 0.0, 2.0
    for _ in range(steps):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if float((inside - mid).clamp(-1, 1).mean()) > brightness else (lo, mid)
    return torch.where(mask, (images - (lo + hi) / 2).clamp(-1, 1), images)


def windows_curve(G, seeds, boxes, judge: WindowJudge, probe, before, cfg: CurveSettings, seen: dict) -> dict:
    """The chosen layer's measures as the m strongest positive-weight maps are dropped (m in `cfg.curve`,
    up to all of them) vs m random maps (mean over `random_repeats` draws): `selected`/`random` the
    window probability in the boxes, `darkened` that of the before samples darkened to the selected
    maps' brightness, `brightness_selected`/`brightness_random`, and `brightness_gap` (selected − random)."""
    has_box = [i for i, b in enumerate(boxes) if b]  # only these count: draw only them
    bx, boxed = [boxes[i] for i in has_box], [seeds[i] for i in has_box]

    def measure(drop: list[int]) -> tuple[float, float]:
        key = tuple(sorted(drop))
        if key not in seen:  # dropped maps → (window prob., brightness)
            x = sample_for_seed(G, boxed, {probe.layer: drop} if drop else None)
            seen[key] = (judge.mean_inside(x, has_box), box_brightness(x, bx))
        return seen[key]

    maps = probe.maps
    counts = sorted({m for m in cfg.curve if m < len(maps)} | {len(maps)})
    p0, b0 = measure([])
    curve = dict(
        maps=[0] + counts, selected=[p0], random=[p0], darkened=[p0], brightness_selected=[b0], brightness_random=[b0]
    )
    for m in counts:
        p, b = measure(probe.strongest(m))
        # the same draws as the layer's control at m = all of them (seed + layer), so the curve ends on it
        draws = random_maps(probe.n_maps, m, cfg.random_repeats, cfg.seed + probe.layer + (0 if m == len(maps) else m))
        rs = [measure(r) for r in draws]
        curve["selected"].append(p)
        curve["brightness_selected"].append(b)
        curve["random"].append(float(np.mean([r[0] for r in rs])))
        curve["brightness_random"].append(float(np.mean([r[1] for r in rs])))
        curve["darkened"].append(judge.mean_inside(darken(before[has_box], bx, b), has_box))
    curve["brightness_gap"] = [s - r for s, r in zip(curve["brightness_selected"], curve["brightness_random"])]
    return curve
