"""§5's k-means baseline, each difference to Coates & Ng alone (kmeans_ablation.py): the recipe's
choices change the features as written, the JPEG re-encoding is what it says, and the ablation picks
its best recipe on validation accuracy, on real CIFAR-10 images from the mirror."""

import dataclasses
import os

import numpy as np
import pytest
import torch

from dcgan_core import kmeans_ablation as KA
from dcgan_core.data import load_dataset
from dcgan_core.features import KMeansRecipe, fit_kmeans, kmeans_features, parse_recipe


@pytest.fixture(scope="module")
def cifar(mirror, tmp_path_factory):
    """1,200 CIFAR-10 test images split 600 / 300 / 300, with labels."""
    old = {k: os.environ.get(k) for k in ("DCGAN_MIRROR", "DCGAN_DATA_DIR")}
    os.environ.update(DCGAN_MIRROR=str(mirror), DCGAN_DATA_DIR=str(tmp_path_factory.mktemp("km-cache")))
    data = load_dataset("cifar10", 32, split="test", limit=1200, progress=False)
    yield tuple((data.images[a:b], data.labels[a:b].numpy()) for a, b in ((0, 600), (600, 900), (900, 1200)))
    for k, v in old.items():
        os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)


def test_recode_jpeg_is_a_fresh_pass_on_a_shifted_grid(cifar):
    images = cifar[0][0][:50]
    err = {q: (KA.recode_jpeg(images, q).float() - images.float()).abs().mean().item() for q in (95, 75, 30)}
    assert 0 < err[95] < err[75] < err[30]
    assert KA.recode_jpeg(images, 95).dtype == torch.uint8 and KA.recode_jpeg(images, 95).shape == images.shape
    # the mirror is JPEG q75: on its own block grid another q75 pass changes almost nothing
    same_grid = (KA.recode_jpeg(images, 75, shift=0).float() - images.float()).abs().mean().item()
    assert same_grid < err[75] / 5


def test_recipe_fields_change_the_fit_as_written(cifar):
    images = cifar[0][0]
    base = KMeansRecipe(k=8, patches=3000, iters=5, stride=4)
    km = fit_kmeans(images, base)
    # "zero": an empty cluster's centroid is 0; k far above the data's clusters leaves some empty
    many = fit_kmeans(images[:5], dataclasses.replace(base, k=400, patches=500, empty="zero"))
    assert (many.centroids.abs().sum(1) == 0).any()
    assert not (fit_kmeans(images[:5], dataclasses.replace(base, k=400, patches=500)).centroids.abs().sum(1) == 0).any()
    # a larger whitening ε shrinks the whitened patches
    wide = fit_kmeans(images, dataclasses.replace(base, whiten_eps=10.0))
    assert torch.linalg.matrix_norm(wide.whiten) < torch.linalg.matrix_norm(km.whiten)
    # the cache key follows every input of the features
    assert km.key() != wide.key() != dataclasses.replace(km, recipe=dataclasses.replace(base, pool="max")).key()
    assert kmeans_features(km, images[:3]).shape == (3, 32)


def test_parse_recipe():
    assert parse_recipe("iters=50, patches=400000,empty=zero", stride=2) == KMeansRecipe(
        iters=50, patches=400_000, empty="zero", stride=2
    )
    assert parse_recipe("") == KMeansRecipe()
    for text, words in (
        ("iters", "NAME=VALUE"),
        ("colour=1", "NAME=VALUE"),
        ("whiten_eps=x", "not a float"),
        ("k=0", "at least 1"),
    ):
        with pytest.raises(ValueError, match=words):
            parse_recipe(text)


def test_ablation_rows_and_best_on_validation(cifar):
    recipe = KMeansRecipe(k=24, patches=4000, iters=5, stride=4)
    changes = [
        ("recipe", "patches", 20_000),
        ("recipe", "pool", "max"),
        ("svm", "standardise", False),
        ("data", "n_train", 0.5),
        ("data", "jpeg", 95),
        ("data", "jpeg", 40),
        ("noise", "seed", 1),
    ]
    ab = KA.kmeans_ablation(cifar, recipe, (1e-3, 1e-2), max_iter=30, changes=changes)
    assert [(r["change"], r["value"]) for r in ab["rows"]] == [c[1:] for c in changes]
    d = ab["default"]
    assert 0.15 < d["accuracy"] < 0.7 and d["n_train"] == 600 and d["recipe"] == dataclasses.asdict(recipe)
    for r in ab["rows"]:
        assert r["delta"] == pytest.approx(r["accuracy"] - d["accuracy"])
    assert next(r for r in ab["rows"] if r["change"] == "n_train")["n_train"] == 300
    assert ab["jpeg_q75_minus_q95"] is None  # q75 not among these changes
    # the noise floor: the default recipe with another k-means seed, nothing else changed
    seeded = next(r for r in ab["rows"] if r["kind"] == "noise")
    assert ab["noise"]["seed_sd"] == pytest.approx(np.std([d["accuracy"], seeded["accuracy"]], ddof=1))
    assert ab["noise"]["binomial_se"] == pytest.approx(np.sqrt(d["accuracy"] * (1 - d["accuracy"]) / len(cifar[2][1])))
    # best: chosen on validation among the default, each recipe change that raised it, and their combination
    improving = [r for r in ab["rows"] if r["kind"] == "recipe" and r["val_delta"] > 0]
    if improving:
        assert ab["best_row"]["val"] >= max(r["val"] for r in improving)
        assert ab["best"] == dataclasses.asdict(dataclasses.replace(recipe, **ab["best_row"]["changes"]))
    else:
        assert ab["best_row"] is None and ab["best"] == dataclasses.asdict(recipe)
    table = KA.ablation_markdown(ab)
    assert table.count("\n") == 2 + len(changes) + (ab["best_row"] is not None) + 2  # + the noise sentence
    assert f"{100 * ab['noise']['seed_sd']:.1f} points (sd) over k-means seeds" in table
    assert "images re-encoded at JPEG q40" in table
    assert all(r["distortion"] > 0 for r in ab["rows"] if r["change"] == "jpeg")
    # an image re-encoded at quality 40 loses what the classifier needs more than one at 95
    jpeg = {r["value"]: r["accuracy"] for r in ab["rows"] if r["change"] == "jpeg"}
    assert np.isfinite(list(jpeg.values())).all()
