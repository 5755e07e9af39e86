"""SVHN (§5.2, Table 2) offline: a small synthetic copy in SVHN's exact .mat format (X: 32×32×3×N uint8,
y: N×1 labels 1..10, 10 = digit 0) read by the loader, a malformed one refused, and Table 2's few-label
protocol run end to end by `representation.run` on it; without the files the run records why.

No test touches the network: `urllib.request.urlopen` (which torchvision downloads through) refuses."""

import urllib.error
import urllib.request

import numpy as np
import pytest
from PIL import Image

scipy_io = pytest.importorskip("scipy.io")

from dcgan_core import classify as C  # noqa: E402
from dcgan_core import representation as R  # noqa: E402
from dcgan_core.data import DataError, load_dataset, svhn_available  # noqa: E402
from dcgan_core.results import lookup  # noqa: E402

N = {"train": 300, "test": 200}
# One colour per digit class (learnable), each image that colour plus noise.
PALETTE = np.array(
    [
        [230, 25, 75],
        [60, 180, 75],
        [255, 225, 25],
        [0, 130, 200],
        [245, 130, 48],
        [145, 30, 180],
        [70, 240, 240],
        [240, 50, 230],
        [128, 128, 0],
        [40, 40, 40],
    ]
)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    tried = []

    def refuse(*args, **kwargs):
        tried.append(args)
        raise urllib.error.URLError("the tests never use the network")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    return tried


def svhn_mat(split: str, seed: int = 0) -> dict:
    """X: 32×32×3×N uint8 (H×W×C×N, as SVHN's files), y: N×1 in 1..10 (10 is digit 0)."""
    rng = np.random.default_rng(seed + (split == "test"))
    n = N[split]
    digits = np.arange(n) % 10
    rng.shuffle(digits)
    x = PALETTE[digits][:, None, None, :] + rng.normal(0, 25, (n, 32, 32, 3))
    x = np.clip(x, 0, 255).astype(np.uint8)
    x[0, 0, 31] = (255, 0, 0)  # a marker at row 0, column 31 of image 0: orientation
    y = np.where(digits == 0, 10, digits).astype(np.uint8)[:, None]
    return {"X": np.ascontiguousarray(x.transpose(1, 2, 3, 0)), "y": y}


@pytest.fixture(scope="module")
def svhn_cache(tmp_path_factory):
    """A cache folder holding svhn/train_32x32.mat and svhn/test_32x32.mat (synthetic)."""
    cache = tmp_path_factory.mktemp("svhn-cache")
    (cache / "svhn").mkdir()
    for split in N:
        scipy_io.savemat(cache / "svhn" / f"{split}_32x32.mat", svhn_mat(split))
    return cache


def test_load_svhn_mat(svhn_cache):
    assert svhn_available(svhn_cache)
    for split in N:
        d = load_dataset("svhn", 32, split=split, cache_dir=svhn_cache, progress=False)
        m = svhn_mat(split)
        assert d.images.shape == (N[split], 3, 32, 32) and len(d.labels) == N[split]
        assert d.labels.tolist() == (m["y"][:, 0] % 10).tolist()  # 10 -> digit 0
        assert sorted(set(d.labels.tolist())) == list(range(10)) and d.classes == [str(i) for i in range(10)]
        assert np.array_equal(d.images.numpy(), m["X"].transpose(3, 2, 0, 1))  # H×W×C×N -> N×C×H×W, exactly
    assert d.images[0, :, 0, 31].tolist() == [255, 0, 0] and d.images[0, :, 31, 0].tolist() != [255, 0, 0]


def test_svhn_available_needs_both_splits(tmp_path):
    assert not svhn_available(tmp_path)
    (tmp_path / "svhn").mkdir()
    scipy_io.savemat(tmp_path / "svhn" / "train_32x32.mat", svhn_mat("train"))
    assert not svhn_available(tmp_path) and svhn_available(tmp_path, splits=("train",))


@pytest.mark.parametrize("bad", ["no y", "28×28", "float X", "label 11", "not a .mat"])
def test_malformed_mat_is_one_data_error(bad, tmp_path):
    (tmp_path / "svhn").mkdir()
    path = tmp_path / "svhn" / "test_32x32.mat"
    m = svhn_mat("test")
    if bad == "not a .mat":
        path.write_bytes(b"MATLAB, not really" * 10)
    else:
        m = (
            {"X": m["X"]}
            if bad == "no y"
            else {"X": m["X"][2:30, 2:30], "y": m["y"]}
            if bad == "28×28"
            else {"X": m["X"].astype(np.float64), "y": m["y"]}
            if bad == "float X"
            else {"X": m["X"], "y": m["y"] + 1}
        )
        scipy_io.savemat(path, m)
    says = "cannot read" if bad == "not a .mat" else r"not an SVHN test_32x32.mat: expected X, uint8 32×32×3×N"
    with pytest.raises(DataError, match=says) as error:
        load_dataset("svhn", 32, split="test", cache_dir=tmp_path, progress=False)
    assert str(path) in str(error.value)


# ---------------------------------------------------------------------------------------------
# Table 2 through representation.run: Table 1 on a tiny folder dataset, Table 2 on SVHN


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Two classes of 30 images each in class folders: a quick Table 1 beside Table 2."""
    root = tmp_path_factory.mktemp("two-colours")
    m = svhn_mat("train")
    for c in (1, 2):
        (root / str(c)).mkdir()
        for j, i in enumerate(np.nonzero(m["y"][:, 0] == c)[0]):
            Image.fromarray(m["X"][..., i]).save(root / str(c) / f"{j}.png")
    return root


def tiny_run(folder, **table2):
    cfg = R.RepresentationConfig.from_profile(
        "smoke",
        dataset=f"folder:{folder}",
        n_train=None,
        n_val=10,
        n_test=None,
        labels_per_class=2,
        kmeans_k=20,
        kmeans_patches=2000,
        pool=1,
        max_iter=20,
        ablations=False,
        ablation_n_train=20,
        progress=False,
        **table2,
    )
    return R.run(cfg)


def test_table2_on_svhn(svhn_cache, folder, monkeypatch):
    """§5.2's protocol on SVHN: few labels per class, C on a validation split of the train split (10,000
    where there is room: 60 here), the DCGAN row's error in table2_error["svhn"], below chance."""
    monkeypatch.setenv("DCGAN_DATA_DIR", str(svhn_cache))
    calls = []
    make_split = C.make_split
    monkeypatch.setattr(R, "make_split", lambda ds, *a, **k: calls.append((ds, k["n_val"])) or make_split(ds, *a, **k))
    result = tiny_run(
        folder,
        table2_datasets=("svhn",),
        table2_models=("zoo:cifar32",),
        table2_per_class=10,
        table2_draws=2,
        cnn_draws=1,
        cnn_epochs=1,
    )
    assert ("svhn", 10_000) in calls and result.table2_missing == {}
    error = lookup({"03_representation": result.to_dict()}, "03_representation.table2_error.svhn")  # the claim's key
    assert isinstance(error, float) and error == result.table2_error["svhn"] < 0.9 - 0.4  # chance: 90% error
    rows = [r for r in result.table2 if r["dataset"] == "svhn"]
    assert [r["spec"] for r in rows] == ["zoo:cifar32", "random:cifar32", "kmeans", "pixels", "cnn:cifar32"]
    assert rows[0]["error"] == error and rows[0]["labels"] == 100 and rows[0]["draws"] == 2


def test_table2_without_svhn_is_none_and_says_why(tmp_path, folder, monkeypatch, no_network):
    monkeypatch.setenv("DCGAN_DATA_DIR", str(tmp_path))
    result = tiny_run(folder, table2_datasets=("svhn",), table2_models=("zoo:cifar32",), cnn_draws=0)
    assert result.table2_error == {"svhn": None} and result.table2 == []
    why = result.table2_missing["svhn"]
    assert "train_32x32.mat" in why and str(tmp_path / "svhn") in why
    assert result.to_dict()["table2_missing"] == result.table2_missing and no_network == []  # no download tried


def test_paper_profile_measures_svhn_with_a_transfer_d():
    cfg = R.RepresentationConfig.from_profile("paper")
    assert dict(zip(cfg.table2_datasets, cfg.table2_models))["svhn"] == "zoo:cifar32-d128"
    assert "svhn" not in R.RepresentationConfig.from_profile("cpu").table2_datasets


def test_table2_without_svhn_among_its_datasets_says_so(folder, tmp_path, monkeypatch):
    monkeypatch.setenv("DCGAN_DATA_DIR", str(tmp_path))
    result = tiny_run(folder, table2_datasets=(), table2_models=())
    assert result.table2_error == {"svhn": None} and "not among table2_datasets" in result.table2_missing["svhn"]
