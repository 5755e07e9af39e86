"""Memorization check: does G copy its training images?

The paper argues against memorization by eye (§4.1: samples after one epoch, "before it
could memorize"; §6.1: smooth latent walks). Here it is measured. For each of n generated
samples we find its k nearest training images

* in pixel space — L2 distance of [0, 1] pixels, against every training image;
* in feature space — L2 distance of Inception pool3 features (metrics.py), against a seeded
  subset of `reference` training images (Inception on all of CIFAR-10 takes over an hour on
  a CPU; the subset's features are cached with the FID statistics).

and compare its nearest distance with what real images give: the distance from a training image
to its nearest *other* training image in the same reference set (leave-one-out). The statistic

    ratio = median NN distance of samples / median leave-one-out NN distance of training images

is ≈ 1 or more when samples sit no closer to the training set than training images sit to each
other, and falls towards 0 as G reproduces training images. `copies` is the fraction of samples
nearer to a training image than 99% of training images are to their nearest neighbour.

Read the pixel numbers with the figure: L2 on pixels favours smooth, low-contrast images, so a
blurry sample can sit nearer to the training set than sharp real images sit to each other
without copying anything (the zoo's cifar32: pixel ratio 0.87, Inception 1.06, and its "nearest"
pairs are plainly different pictures). Inception features are far less sensitive to it.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from sklearn.neighbors import NearestNeighbors

from .data import ImageData, load_dataset, to_unit_range
from .metrics import inception_features, real_features
from .models import Generator
from .results import Result, artifact
from .sample import generate

SPACES = ("pixel", "inception")


def _flat(images: torch.Tensor) -> np.ndarray:
    """Images (uint8, or float in [-1, 1] as G makes them) → rows of [0, 1] pixels, float32."""
    x = images.float() / 255 if images.dtype == torch.uint8 else (images.float() + 1) / 2
    return x.reshape(len(x), -1).numpy().astype(np.float32)


def neighbours(queries: np.ndarray, reference: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(distances, indices), each n×k: the k nearest rows of `reference` to each query row (L2)."""
    return NearestNeighbors(n_neighbors=k, algorithm="brute").fit(reference).kneighbors(queries)


def leave_one_out(reference: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each reference[row], the distance to its nearest *other* row of `reference` (an exact
    duplicate counts, at distance 0)."""
    dist, idx = neighbours(reference[rows], reference, 2)
    return np.where(idx[:, 0] == rows, dist[:, 1], dist[:, 0])


@dataclasses.dataclass
class Neighbours:
    """One space's answer: the statistic, and each sample's k nearest training images."""

    ratio: float  # median sample→train NN distance / median train→other-train
    copies: float  # fraction of samples nearer than 99% of the training images' own NNs
    sample_median: float
    train_median: float
    reference: int  # training images searched
    indices: np.ndarray = artifact()  # n×k, into the training split
    distances: np.ndarray = artifact()  # n×k

    @classmethod
    def measure(cls, dist: np.ndarray, idx: np.ndarray, real_nn: np.ndarray, reference: int) -> Neighbours:
        sample_nn = dist[:, 0]
        return cls(
            ratio=float(np.median(sample_nn) / np.median(real_nn)),
            copies=float(np.mean(sample_nn < np.percentile(real_nn, 1))),
            sample_median=float(np.median(sample_nn)),
            train_median=float(np.median(real_nn)),
            reference=reference,
            indices=idx,
            distances=dist,
        )


@dataclasses.dataclass
class Memorization(Result):
    """`memorization`'s result: per space ("pixel", "inception") its `Neighbours`."""

    dataset: str
    n: int
    k: int
    spaces: dict[str, Neighbours]
    samples: torch.Tensor = artifact()  # the n samples, in [-1, 1]


def memorization(
    G: Generator,
    dataset: str,
    *,
    n: int = 200,
    k: int = 3,
    reference: int = 2000,
    n_real: int = 500,
    seed: int = 0,
    spaces=SPACES,
    data: ImageData | None = None,
    limit: int | None = None,
    progress: bool = False,
) -> dict:
    """Nearest training images of n samples of G in each space, and the statistic above.
    Returns a `Memorization` (its `spaces` hold each space's `Neighbours`); `n_real` training
    images give the leave-one-out baseline. With `limit` (a run trained on the first N images),
    the training set searched is those N, also when `data` is passed in."""
    unknown = set(spaces) - set(SPACES)
    if unknown:
        raise ValueError(f"unknown space(s) {sorted(unknown)}; choose from {SPACES}")
    data = data or load_dataset(dataset, G.image_size, channels=G.channels, limit=limit, progress=progress)
    samples = generate(G, n, seed)
    rng = np.random.default_rng(seed)
    out = Memorization(dataset=dataset, n=n, k=k, spaces={}, samples=samples)
    if "pixel" in spaces:
        train = _flat(data.images)
        dist, idx = neighbours(_flat(samples), train, k)
        real_nn = leave_one_out(train, rng.choice(len(train), size=min(n_real, len(train)), replace=False))
        out.spaces["pixel"] = Neighbours.measure(dist, idx, real_nn, len(train))
    if "inception" in spaces:
        ref = real_features(
            dataset,
            "train",
            min(reference, len(data)),
            G.image_size,
            channels=G.channels,
            limit=limit,
            progress=progress,
        )
        dist, idx = neighbours(inception_features(samples), ref["features"], k)
        real_nn = leave_one_out(ref["features"], np.arange(len(ref["features"])))
        out.spaces["inception"] = Neighbours.measure(dist, ref["index"][idx], real_nn, len(ref["index"]))
    return out


def memorization_figure(result: Memorization, data: ImageData, rows: int = 8, order: str = "closest"):
    """One row per sample: the sample | its k nearest training images in each space. `order`
    "closest" shows the samples nearest to the training set in pixel space (the likeliest copies)."""
    import matplotlib.pyplot as plt

    from .figures import grid_image

    spaces = list(result.spaces)
    first = result.spaces[spaces[0]].distances[:, 0]
    chosen = np.argsort(first)[:rows] if order == "closest" else np.arange(rows)
    real = lambda i: to_unit_range(data.images[torch.as_tensor(i)])  # noqa: E731  [-1, 1], as G's
    tiles = []
    for i in chosen:
        tiles.append(result.samples[i : i + 1].float())
        for space in spaces:
            tiles.append(real(result.spaces[space].indices[i]))
    k = result.k
    images = torch.cat([t.expand(-1, 3, -1, -1) if t.shape[1] == 1 else t for t in tiles])
    fig, ax = plt.subplots(figsize=(1.1 * (1 + k * len(spaces)), 1.1 * len(chosen) + 0.6))
    ax.imshow(grid_image(images, nrow=1 + k * len(spaces)))
    stats = "; ".join(f"{s}: ratio {result.spaces[s].ratio:.2f}, copies {result.spaces[s].copies:.1%}" for s in spaces)
    ax.set_title(f"sample | {k} nearest training images in " + " | ".join(spaces) + f"\n{stats}", fontsize=9)
    ax.axis("off")
    return fig
