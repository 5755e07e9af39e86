"""
# Dropping G's feature maps: the probe that picks them (§6.3.1)

Radford, Metz & Chintala (2015), [arXiv 1511.06434](https://arxiv.org/abs/1511.06434), §6.3.1:

> "On the second highest convolution layer features, logistic regression was fit to predict whether
> a feature activation was on a window (or not), by using the criterion that activations inside the
> drawn bounding boxes are positives and random samples from the same images are negatives. Using
> this simple model, all feature maps with weights greater than zero (200 in total) were dropped
> from all spatial locations."

The mechanism, apart from the experiment (`forgetting.py` runs it on windows and eyeglasses, says
which layer and why, and measures the result):

- **activations** — `layer_activations(G, seeds, layer)`: G's hidden layer `layer` for the noise of
  each seed (`check_layer` refuses a layer G does not have).
- **boxes → positions** — `box_mask`: the positions of an h×w layer whose centre lies inside a box
  drawn in image pixels; `position_samples` takes every positive position and as many random
  negatives per image (ours: at least 4 in an image without boxes).
- **the probe** — `fit_probe`: scikit-learn's L2 logistic regression on standardized activation
  vectors (`logistic_model`; standardizing does not change a weight's sign), held-out balanced
  accuracy by k-fold cross-validation over *images* (`folds_of`), weights fitted on all images.
  `Probe.maps` are the maps the paper drops: every one with a weight > 0.
- **dropping** — `G(z, drop={layer: maps})` zeroes those maps at every position (`models.py`);
  `DroppingGenerator` is such a G for code that calls G(z). `random_maps` draws as many random maps
  of the same layer: the control every measurement is held against (ours: the paper shows samples).
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

import numpy as np
import torch
from torch import nn

from .data import DataError
from .models import Generator, eval_mode, sample_z


class ProbeSettings(Protocol):
    """What `fit_probe` reads of a config (`forgetting.ForgettingConfig` has them)."""

    folds: int  # cross-validation folds over images
    reg: float  # inverse L2 strength C
    seed: int  # seed of the negatives and the folds


# ---------------------------------------------------------------------------------------------
# G's activations at a layer


def check_layer(G: Generator, layer: int) -> None:
    """Refuses a layer that is not one of G's hidden layers (the image is the last)."""
    hidden = len(G.layers) - 1
    if not 0 <= layer < hidden:
        raise ValueError(f"layer must be one of G's hidden layers 0..{hidden - 1}, got {layer}")


@torch.no_grad()
def layer_activations(G: Generator, seeds, layer: int) -> torch.Tensor:
    """N×C×h×w: G's layer `layer` for the noise of each seed (`annotations.sample_for_seed`'s z), on the CPU."""
    device = next(G.parameters()).device
    z = torch.cat([sample_z(1, G.nz, torch.Generator().manual_seed(int(s))) for s in seeds]).to(device)
    with eval_mode(G):
        return G.activations(z)[layer].float().cpu()


# ---------------------------------------------------------------------------------------------
# Boxes → positions, and the probe


def box_mask(boxes_per_image: list[list], size: int, image_size: int) -> torch.Tensor:
    """N×size×size bool: positions of a size×size layer whose centre lies inside one of the image's
    boxes (given in pixels of image_size×image_size)."""
    centre = (torch.arange(size) + 0.5) * image_size / size
    mask = torch.zeros(len(boxes_per_image), size, size, dtype=torch.bool)
    for i, boxes in enumerate(boxes_per_image):
        for x0, y0, x1, y1 in boxes:
            ys = (centre >= y0) & (centre < y1)
            xs = (centre >= x0) & (centre < x1)
            mask[i] |= ys[:, None] & xs[None, :]
    return mask


def position_samples(
    pos: torch.Tensor, neg_pool: torch.Tensor, seed: int, extra_neg: torch.Tensor | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(image, y, x) positions and labels: every positive position, and per image as many random
    positions from `neg_pool` (at least 4 in images without positives); `extra_neg` adds every
    position it marks as a negative."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(len(pos)):
        p = pos[i].nonzero().numpy()
        pool = neg_pool[i].nonzero().numpy()
        n = min(len(pool), max(len(p), 4))
        neg = pool[rng.choice(len(pool), n, replace=False)] if n else pool[:0]
        rows += [(i, y, x, 1) for y, x in p] + [(i, y, x, 0) for y, x in neg]
        if extra_neg is not None:
            rows += [(i, y, x, 0) for y, x in extra_neg[i].nonzero().numpy()]
    a = np.array(rows, dtype=np.int64).reshape(-1, 4)
    return a[:, 0], a[:, 1], a[:, 2], a[:, 3]


def vectors_at(acts: torch.Tensor, img, ys, xs) -> np.ndarray:
    """The C-dim activation vector at each (image, y, x) position."""
    return acts[torch.from_numpy(img), :, torch.from_numpy(ys), torch.from_numpy(xs)].numpy()


def logistic_model(reg: float):
    """Standardize, then L2 logistic regression (inverse strength `reg`), classes balanced."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=reg, max_iter=2000, class_weight="balanced"))


def folds_of(n_images: int, folds: int, seed: int) -> np.ndarray:
    """The fold of each image (a seeded permutation)."""
    return np.random.default_rng(seed).permutation(n_images) % folds


@dataclasses.dataclass
class Probe:
    """A fitted window (or glasses) regression at one G layer."""

    layer: int
    n_maps: int
    accuracy: float  # held out, by image folds: balanced accuracy at p > 0.5
    weights: np.ndarray  # C weights (standardized features), fitted on all images
    n_positive: int  # positions used
    n_negative: int

    @property
    def maps(self) -> list[int]:
        """The maps the paper drops: every one with a weight > 0."""
        return [int(i) for i in np.flatnonzero(self.weights > 0)]

    def strongest(self, m: int) -> list[int]:
        return [int(i) for i in np.argsort(-self.weights)[:m] if self.weights[i] > 0]


def fit_probe(
    acts: torch.Tensor,
    pos: torch.Tensor,
    neg_pool: torch.Tensor,
    cfg: ProbeSettings,
    layer: int,
    extra_neg: torch.Tensor | None = None,
) -> Probe:
    """Logistic regression on the activations `acts` (N×C×h×w) at positions inside (pos) vs outside."""
    from sklearn.metrics import balanced_accuracy_score

    img, ys, xs, y = position_samples(pos, neg_pool, cfg.seed, extra_neg)
    if y.sum() == 0 or (1 - y).sum() == 0:
        raise DataError("no positive (or no negative) positions at this layer: draw boxes first")
    X = vectors_at(acts, img, ys, xs)
    fold = folds_of(len(acts), cfg.folds, cfg.seed)[img]
    pred = np.zeros(len(y))
    for k in range(cfg.folds):
        train, test = fold != k, fold == k
        if not test.any() or len(set(y[train])) < 2:
            continue
        pred[test] = logistic_model(cfg.reg).fit(X[train], y[train]).predict(X[test])
    model = logistic_model(cfg.reg).fit(X, y)
    return Probe(
        layer=layer,
        n_maps=acts.shape[1],
        accuracy=float(balanced_accuracy_score(y, pred)),
        weights=model[-1].coef_[0].copy(),
        n_positive=int(y.sum()),
        n_negative=int((1 - y).sum()),
    )


# ---------------------------------------------------------------------------------------------
# Dropping maps


def random_maps(n_maps: int, m: int, repeats: int, seed: int) -> list[list[int]]:
    """`repeats` draws of m random maps out of n_maps (the control)."""
    gen = torch.Generator().manual_seed(seed + 1)
    return [torch.randperm(n_maps, generator=gen)[:m].sort().values.tolist() for _ in range(repeats)]


class DroppingGenerator(nn.Module):
    """G with some feature maps dropped, for code that calls G(z) (metrics.evaluate, sample.generate)."""

    def __init__(self, G: Generator, drop: dict[int, list[int]]):
        super().__init__()
        self.G, self.drop = G, drop
        self.nz, self.image_size, self.channels = G.nz, G.image_size, G.channels
        self.n_classes, self.arch = getattr(G, "n_classes", 0), G.arch

    def forward(self, z: torch.Tensor, labels=None) -> torch.Tensor:
        return self.G(z, drop=self.drop, labels=labels)
