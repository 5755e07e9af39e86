"""
# One classification: a labelled dataset's rows, a features spec on them, the linear SVM (§5)

`classify(cfg)` is the CLI's `python -m dcgan_core classify` (its flags are `ClassifyConfig`'s fields), one row of
Table 1 on any dataset; `representation.run` builds every table from the same pieces: `make_split` (which rows are train / val / test) and `features_for` (a
features spec's (train, val, test) `Features` on a split).
"""

from __future__ import annotations

import dataclasses
import time
from typing import ClassVar

import numpy as np
import torch

from .config import Config, option
from .data import DataError, ImageData, held_out_split, load_dataset
from .features import Features, KMeansRecipe, extract, fit_kmeans, image_size_for, parse_features, parse_recipe
from .svm import draw_labels, evaluate

DEFAULT_RECIPE = KMeansRecipe()  # our k-means recipe (a frozen dataclass: one shared default is safe)


@dataclasses.dataclass
class SVMProtocol(Config):
    """§5's protocol for one set of features, shared by `classify` and notebook 03 (RepresentationConfig):
    the split sizes, the C grid chosen on the validation split, and how D's layers become features."""

    n_train: int | None = option(None, "training images (random, seeded; None: all but the validation split)", min=1)
    n_val: int = option(5000, "validation images held out of the training split to choose C", min=10)
    n_test: int | None = option(None, "test images (random, seeded; None: the whole test split)", min=10)
    c_grid: tuple[float, ...] = option(
        (1e-5, 1e-4, 1e-3, 1e-2, 1e-1),
        "SVM C values tried (on standardised features), chosen on the validation split",
        flag=False,
    )
    c_stop: float | None = option(
        None,
        "end the C sweep at the first C whose validation accuracy is this far below the best so far (None: every C, "
        "as results saved before it was added; every profile sets 0.02)",
        flag=False,
    )
    pool: int = option(4, "max-pool each layer to pool×pool (§5.1: 4×4)", min=1)
    bn: str = option("eval", "BN in D: eval (running statistics) or batch (each batch's)", choices=("eval", "batch"))


@dataclasses.dataclass
class ClassifyConfig(SVMProtocol):
    """One row of Table 1 on any labelled dataset (`python -m dcgan_core classify`); the sizes, bounds and SVM
    protocol are §5's (`representation.RepresentationConfig`)."""

    features: str = option(
        "zoo:cifar32", "zoo:NAME, random:NAME (NAME's D, fresh weights), a checkpoint path, kmeans or pixels"
    )
    dataset: str = option("cifar10", "a labelled dataset (cifar10, mnist, …) or folder:PATH")
    labels_per_class: int | None = option(None, "train on N random labelled images per class (default: all)", min=1)
    kmeans_stride: int = option(1, "k-means feature stride (Coates & Ng: 1)", min=1)
    kmeans_recipe: str = option(
        "",
        "with --features kmeans: changes to our recipe, e.g. 'iters=50,patches=400000,empty=zero' "
        "(features.KMeansRecipe)",
    )
    seed: int = option(0, "seed of the split, the label draw, a random D and k-means")
    progress: bool = option(False, "tqdm progress bars", flag=False)

    PROFILES: ClassVar[dict[str, dict]] = {
        "smoke": dict(n_train=1000, n_val=500, n_test=1000, kmeans_stride=4, c_stop=0.02),  # notebook 03's smoke sizes
        "cpu": dict(c_stop=0.02),
        "paper": dict(c_stop=0.02),
    }

    def check(self) -> None:
        self.recipe()  # a bad --kmeans-recipe is refused before any work

    def recipe(self) -> KMeansRecipe:
        return parse_recipe(self.kmeans_recipe, stride=self.kmeans_stride)


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


def classify(cfg: ClassifyConfig) -> dict:
    """`python -m dcgan_core classify`: features + linear L2-SVM (C on a validation split) on one
    dataset; with `labels_per_class`, trained on that many random labelled images per class."""
    size, channels = image_size_for(cfg.features, cfg.dataset)
    split = make_split(
        cfg.dataset,
        size,
        channels,
        n_train=cfg.n_train,
        n_val=cfg.n_val,
        n_test=cfg.n_test,
        seed=cfg.seed,
        progress=cfg.progress,
    )
    start = time.perf_counter()
    kmeans = cfg.recipe()
    tr, va, te = features_for(
        cfg.features, split, pool=cfg.pool, bn=cfg.bn, seed=cfg.seed, kmeans=kmeans, progress=cfg.progress
    )
    if cfg.labels_per_class is not None:
        rows = draw_labels(tr.y, cfg.labels_per_class, np.random.default_rng(cfg.seed))
        tr = Features(tr.spec, tr.x[rows], tr.y[rows], tr.layer_dims)
    r = evaluate(tr, va, te, cfg.c_grid, stop_below=cfg.c_stop)
    return dict(
        features=cfg.features,
        dataset=split.train_data.name,
        accuracy=r["accuracy"],
        se=r["se"],
        C=r["C"],
        feature_dim=r["feature_dim"],
        n_train=r["n_train"],
        n_val=r["n_val"],
        n_test=r["n_test"],
        labels_per_class=cfg.labels_per_class,
        seed=cfg.seed,
        pool=cfg.pool,
        bn=cfg.bn,
        kmeans=dataclasses.asdict(kmeans) if cfg.features == "kmeans" else None,
        val_accuracy={str(k): v for k, v in r["val_accuracy"].items()},
        seconds=round(time.perf_counter() - start, 1),
    )
