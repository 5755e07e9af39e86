"""
# One classification: a labelled dataset's rows, a features spec on them, the linear SVM (§5)

`classify` is the CLI's `python -m dcgan_core classify`, one row of Table 1 on any dataset; `representation.run`
builds every table from the same pieces: `make_split` (which rows are train / val / test) and `features_for` (a
features spec's (train, val, test) `Features` on a split).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import torch

from .data import DataError, ImageData, held_out_split, load_dataset
from .features import Features, KMeansRecipe, extract, fit_kmeans, image_size_for, parse_features
from .svm import draw_labels, evaluate

DEFAULT_RECIPE = KMeansRecipe()  # our k-means recipe (a frozen dataclass: one shared default is safe)


@dataclasses.dataclass
class Split:
    """One dataset at one resolution, and which rows are train / val / test."""

    train_data: ImageData
    test_data: ImageData
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def folder_labels(data: ImageData) -> ImageData:
    """A folder dataset's labels from its sub-folder names (the first part of each file's path)."""
    names = [i.split("/", 1)[0] if "/" in i else "" for i in data.ids]
    classes = sorted(set(names))
    if "" in classes or len(classes) < 2:
        raise DataError(
            f"{data.name} needs its images in at least two sub-folders, one per class "
            f"(found {len(classes) - ('' in classes)} sub-folder(s){' and images at the top' if '' in classes else ''})"
        )
    index = {c: i for i, c in enumerate(classes)}
    return dataclasses.replace(data, labels=torch.tensor([index[n] for n in names]), classes=classes)


def make_split(
    dataset: str,
    image_size: int,
    channels: int,
    *,
    n_train=None,
    n_val=5000,
    n_test=None,
    test_fraction: float = 0.2,
    seed: int = 0,
    progress: bool = False,
) -> Split:
    """Random (seeded, in random order) train / val rows of the training split and test rows of the test split; a
    dataset without a test split (a folder) holds out `test_fraction` of its images as the test set."""
    data = load_dataset(dataset, image_size, split="train", channels=channels, progress=progress)
    if dataset.startswith("folder:"):
        data = folder_labels(data)
    if data.labels is None:
        raise DataError(f"{dataset} has no class labels to classify")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(data))
    if held_out_split(dataset) == "test":
        test_data = load_dataset(dataset, image_size, split="test", channels=channels, progress=progress)
        test = rng.permutation(len(test_data))[:n_test]
    else:
        n_hold = max(1, int(round(test_fraction * len(data))))
        test_data, test, order = data, order[:n_hold], order[n_hold:]
    n_val = min(n_val, len(order) // 5) if len(order) < 2 * n_val else n_val
    # Random order, not sorted: the first n rows of each are a random subset (class-sorted folders).
    val, train = order[:n_val], order[n_val:][:n_train]
    return Split(data, test_data, train, val, test)


def features_for(
    spec: str,
    split: Split,
    *,
    pool=4,
    bn="eval",
    seed=0,
    batch_size=250,
    kmeans: KMeansRecipe = DEFAULT_RECIPE,
    progress=False,
) -> tuple[Features, Features, Features]:
    """Train, val and test features of `spec` on a split (k-means: `kmeans` fitted on the training rows)."""
    km = None
    if parse_features(spec)[0] == "kmeans":
        km = fit_kmeans(split.train_data.images[torch.from_numpy(split.train)], kmeans, seed)
    kw = dict(pool=pool, bn=bn, seed=seed, batch_size=batch_size, kmeans=km, progress=progress)
    return (
        extract(spec, split.train_data, split.train, **kw),
        extract(spec, split.train_data, split.val, **kw),
        extract(spec, split.test_data, split.test, **kw),
    )


def classify(
    features: str,
    dataset: str,
    *,
    labels_per_class: int | None = None,
    seed: int = 0,
    n_train: int | None = None,
    n_val: int = 5000,
    n_test: int | None = None,
    pool: int = 4,
    bn: str = "eval",
    c_grid=(1e-5, 1e-4, 1e-3, 1e-2, 1e-1),
    kmeans: KMeansRecipe = DEFAULT_RECIPE,
    progress: bool = False,
) -> dict:
    """`python -m dcgan_core classify`: features + linear L2-SVM (C on a validation split) on one
    dataset; with `labels_per_class`, trained on that many random labelled images per class."""
    size, channels = image_size_for(features, dataset)
    split = make_split(
        dataset, size, channels, n_train=n_train, n_val=n_val, n_test=n_test, seed=seed, progress=progress
    )
    start = time.perf_counter()
    tr, va, te = features_for(features, split, pool=pool, bn=bn, seed=seed, kmeans=kmeans, progress=progress)
    if labels_per_class is not None:
        rows = draw_labels(tr.y, labels_per_class, np.random.default_rng(seed))
        tr = Features(tr.spec, tr.x[rows], tr.y[rows], tr.layer_dims)
    r = evaluate(tr, va, te, c_grid)
    return dict(
        features=features,
        dataset=split.train_data.name,
        accuracy=r["accuracy"],
        se=r["se"],
        C=r["C"],
        feature_dim=r["feature_dim"],
        n_train=r["n_train"],
        n_val=r["n_val"],
        n_test=r["n_test"],
        labels_per_class=labels_per_class,
        seed=seed,
        pool=pool,
        bn=bn,
        kmeans=dataclasses.asdict(kmeans) if features == "kmeans" else None,
        val_accuracy={str(k): v for k, v in r["val_accuracy"].items()},
        seconds=round(time.perf_counter() - start, 1),
    )
