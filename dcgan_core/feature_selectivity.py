"""
# Which images excite a feature, and whether that means anything (§6.2)

§6.2 says the trained D's features "activate on typical parts of a bedroom" while random filters are "not
activated on anything that is semantically relevant". A feature's top images (`distinct_top`: its largest
maximal responses, near-copies skipped) carry a label mix; `selectivity` measures how far it is from the
dataset's prior (KL, nats) and `chance_kl` what k random images give. Random conv features follow global
brightness, and room types differ in it, so `brightness_matched_kl` asks what images of the same brightness
give: only the KL beyond that is evidence of something else. `guided_backprop` measures every feature so.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .data import ImageData


def kl_to_prior(counts: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """KL(p ‖ prior) in nats for each row of class counts (0 log 0 = 0)."""
    p = counts / counts.sum(-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(p / prior), 0.0)
    return terms.sum(-1)


def label_table(data: ImageData, attributes: tuple[str, ...]) -> tuple[np.ndarray, list[str]]:
    """N×G×K one-hot labels: G label groups of K classes. Scenes: one group of its 3 classes;
    CelebA: one two-class group (no, yes) per attribute."""
    if data.labels is not None and data.classes:
        return F.one_hot(data.labels, len(data.classes)).numpy()[:, None, :].astype(float), list(data.classes)
    if data.attributes is not None:
        missing = [a for a in attributes if a not in data.attribute_names]
        if missing:
            raise ValueError(f"unknown CelebA attribute(s) {missing}")
        cols = data.attributes[:, [data.attribute_names.index(a) for a in attributes]].long()
        return F.one_hot(cols, 2).numpy().astype(float), list(attributes)
    raise ValueError(f"{data.name} has neither class labels nor attributes: nothing to measure selectivity on")


def selectivity(top: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For top-image indices F×k and one-hot labels N×G×K: per feature, the KL of its top-k label
    mix to the prior (mean over the G groups) and the best share (max over groups and classes of
    the top-k share; for two-class groups, the share of 'yes')."""
    prior = labels.mean(0)  # G×K
    counts = labels[top].sum(1)  # F×G×K
    kl = kl_to_prior(counts, prior).mean(-1)
    shares = counts / top.shape[1]
    best = shares[..., 1].max(-1) if labels.shape[2] == 2 else shares.max(-1).max(-1)
    return kl, best


def thumbnails(images: torch.Tensor) -> torch.Tensor:
    """N×(16·16·C) pixel means (of 255): what `distinct_top` compares to spot near-copies."""
    return F.adaptive_avg_pool2d(images.float(), 16).flatten(1)


def distinct_top(r: torch.Tensor, thumbs: torch.Tensor, k: int, tol: float = 4.0) -> np.ndarray:
    """F×k: per feature (column of the N×F responses `r`), the k images with the largest responses, best
    first, skipping near-copies of one already taken (mean |Δ| of 16×16 thumbnails < `tol` of 255). # ours,
    measured: 43 of the 715 scenes lie within 2 of another image (exact or re-saved copies), the next nearest at
    ~30, so a feature's top images showed one room three times."""
    k = min(k, len(r))
    cand = r.topk(min(len(r), 4 * k), dim=0).indices.T  # F×4k, best first
    out = np.empty((r.shape[1], k), dtype=np.int64)
    for f, row in enumerate(cand.tolist()):
        keep = []
        for i in row:
            if not keep or (thumbs[keep] - thumbs[i]).abs().mean(1).min() >= tol:
                keep.append(i)
            if len(keep) == k:
                break
        keep += [i for i in row if i not in keep][: k - len(keep)]  # (all near-copies: fill in order)
        out[f] = keep
    return out


def brightness_matched_kl(
    top: np.ndarray, labels: np.ndarray, brightness: np.ndarray, n_draws: int = 64, window: int = 10, seed: int = 0
) -> np.ndarray:
    """Per feature: the mean KL to the prior of the label mix of k images matched in brightness to its top-k
    (each top image replaced by a random one among its `window` nearest in mean brightness on each side).
    What brightness alone gives: a feature that follows global brightness gets as much from its top images."""
    order = np.argsort(brightness, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    rng = np.random.default_rng(seed)
    step = rng.integers(-window, window + 1, size=(n_draws, *top.shape))
    matched = order[np.clip(rank[top][None] + step, 0, len(order) - 1)]  # draws×F×k
    prior = labels.mean(0)
    return kl_to_prior(labels[matched].sum(2), prior).mean(-1).mean(0)


def chance_kl(labels: np.ndarray, k: int, n_draws: int, seed: int) -> float:
    """Mean KL to the prior of the label mix of k images drawn at random (n_draws draws)."""
    rng = np.random.default_rng(seed)
    top = np.stack([rng.choice(len(labels), size=min(k, len(labels)), replace=False) for _ in range(n_draws)])
    return float(selectivity(top, labels)[0].mean())
