"""§5 representation learning (representation.py): the SVM solver against scikit-learn's LinearSVC,
D's features (layers, pooling, BN mode, cache), k-means features, the protocol and the CLI, on real
images from the mirror."""

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from dcgan_core import feature_ablations as A
from dcgan_core import features as F
from dcgan_core import pretrained as P
from dcgan_core import representation as R
from dcgan_core import svm as S
from dcgan_core.data import load_dataset


@pytest.fixture(scope="module")
def env(mirror, tmp_path_factory):
    cache = tmp_path_factory.mktemp("repr-cache")
    old = {k: os.environ.get(k) for k in ("DCGAN_MIRROR", "DCGAN_DATA_DIR")}
    os.environ.update(DCGAN_MIRROR=str(mirror), DCGAN_DATA_DIR=str(cache))
    yield cache
    for k, v in old.items():
        os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)


@pytest.fixture(scope="module")
def mnist_pixels(env):
    """800 MNIST digits at 16×16 as float32 pixels, and their labels."""
    data = load_dataset("mnist", 16, limit=800, progress=False)
    return F.pixel_features(data.images).astype(np.float32), data.labels.numpy()


@pytest.mark.parametrize("C", [1e-3, 1e-1])
def test_svm_matches_linearsvc(mnist_pixels, C):
    """Same objective (LinearSVC's primal, intercept penalised) and the same predictions."""
    from sklearn.svm import LinearSVC

    x, y = mnist_pixels
    xt, xs = S.standardise(x[:600], x[600:])
    ref = LinearSVC(C=C, loss="squared_hinge", penalty="l2", dual=True, tol=1e-8, max_iter=200_000).fit(
        xt.numpy(), y[:600]
    )
    W, b = S.fit_svm(xt, torch.as_tensor(y[:600]), C, 10, max_iter=500)
    ours = S.svm_objective(xt, y[:600], W, b, C)
    theirs = S.svm_objective(xt, y[:600], ref.coef_.T, ref.intercept_, C)
    assert ours <= theirs * (1 + 1e-3), (ours, theirs)
    assert abs(ours - theirs) / theirs < 1e-2, (ours, theirs)
    agree = (S.predict(xs, W, b).numpy() == ref.predict(xs.numpy())).mean()
    assert agree >= 0.99, agree


def test_covariance_directions_are_the_top_eigenpairs(mnist_pixels):
    """Exact where the rank covers the rows (all eigenpairs), randomised below it (the top ones)."""
    x, _ = mnist_pixels
    xt = S.standardise(x[:600])[0]
    ref = np.linalg.eigvalsh(np.cov(xt.numpy().T.astype(np.float64), bias=True))[::-1]
    V, sig = S.covariance_directions(xt, rank=300)  # 300 ≥ 256 features: exact
    np.testing.assert_allclose(sig.numpy(), ref, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose((V.T @ V).numpy(), np.eye(256), atol=1e-4)
    V, sig = S.covariance_directions(xt, rank=40)
    assert V.shape == (256, 40)
    np.testing.assert_allclose(sig[:10].numpy(), ref[:10], rtol=2e-2)


def test_preconditioning_is_what_makes_large_c_converge(mnist_pixels):
    """At C = 1, 50 preconditioned iterations land within 2 % of LinearSVC's optimum; the same 50
    without the preconditioner (no directions) are far from it: the preconditioner does the work."""
    from sklearn.svm import LinearSVC

    x, y = mnist_pixels
    xt = S.standardise(x[:600])[0]
    ref = LinearSVC(C=1.0, dual=True, tol=1e-8, max_iter=200_000).fit(xt.numpy(), y[:600])
    best = S.svm_objective(xt, y[:600], ref.coef_.T, ref.intercept_, 1.0)
    fit = S.fit_svm(xt, torch.as_tensor(y[:600]), 1.0, 10, max_iter=50)
    plain = S.fit_svm(
        xt, torch.as_tensor(y[:600]), 1.0, 10, max_iter=50, directions=(torch.zeros(256, 0), torch.zeros(0))
    )
    assert S.svm_objective(xt, y[:600], *fit, 1.0) < best * 1.02
    assert S.svm_objective(xt, y[:600], *plain, 1.0) > best * 2


def test_bfloat16_features_reach_the_same_optimum(mnist_pixels):
    """Big fits multiply bfloat16 features (products rounded to 8 bits): the fit still lands within
    2 % of LinearSVC's objective on the same (bf16-rounded) values; predictions agree on ≥ 95 % (96.5 here)."""
    from sklearn.svm import LinearSVC

    x, y = mnist_pixels
    xt, xs = (a.to(torch.bfloat16) for a in S.standardise(x[:600], x[600:]))
    ref = LinearSVC(C=1.0, dual=True, tol=1e-8, max_iter=200_000).fit(xt.float().numpy(), y[:600])
    fit = S.fit_svm(xt, torch.as_tensor(y[:600]), 1.0, 10)
    ours, theirs = (S.svm_objective(xt.float(), y[:600], *w, 1.0) for w in (fit, (ref.coef_.T, ref.intercept_)))
    assert ours < theirs * 1.02, (ours, theirs)
    assert (S.predict(xs, *fit).numpy() == ref.predict(xs.float().numpy())).mean() >= 0.95


def test_big_features_go_bfloat16_only_where_the_cpu_has_bf16_kernels(mnist_pixels, monkeypatch):
    """Above `bf16_above` GB the features are stored in bfloat16, but only on a CPU with bf16 kernels:
    without them (AVX2 only) bf16 products are emulated, far slower than float32."""
    x, _ = mnist_pixels
    for kernels, dtype in ((True, torch.bfloat16), (False, torch.float32)):
        monkeypatch.setattr(S, "cpu_bf16_kernels", lambda k=kernels: k)
        big = S.standardise(x[:600], x[600:], bf16_above=0)
        assert [a.dtype for a in big] == [dtype, dtype]
        assert S.standardise(x[:600], bf16_above=1)[0].dtype == torch.float32  # small: float32 anyway
    assert torch.allclose(big[0], S.standardise(x[:600])[0])  # the same values


def test_select_c_picks_the_best_validation_accuracy(mnist_pixels):
    x, y = mnist_pixels
    sel = S.select_c(x[:500], y[:500], x[500:], y[500:], (1e-6, 1e-3, 1e-1))
    assert sel["val_accuracy"][sel["C"]] == max(sel["val_accuracy"].values())
    assert sel["val_accuracy"][1e-6] < sel["val_accuracy"][sel["C"]]  # far too much regularisation loses
    assert sel["val_accuracy"][sel["C"]] > 0.6  # far above chance (0.1)


def test_select_c_ends_the_sweep_where_validation_accuracy_falls_away(mnist_pixels):
    """`stop_below`: the sweep stops at the first C more than that below the best so far, and chooses what the full
    sweep chooses; the fits after it are not made."""
    x, y = mnist_pixels
    grid = (1e-6, 1e-4, 1e-2, 1.0, 1e2)
    full = S.select_c(x[:500], y[:500], x[500:], y[500:], grid)
    acc = [full["val_accuracy"][c] for c in grid]
    ends = next(i for i in range(len(grid)) if acc[i] < max(acc[: i + 1]) - 0.02)  # the rule, on the full sweep
    assert ends < len(grid) - 1  # the test grid reaches past the peak, so the rule cuts something
    cut = S.select_c(x[:500], y[:500], x[500:], y[500:], grid, stop_below=0.02)
    assert list(cut["val_accuracy"]) == list(grid[: ends + 1]) and cut["C"] == full["C"]
    assert cut["val_accuracy"] == {c: full["val_accuracy"][c] for c in grid[: ends + 1]}  # same fits, warm starts


def test_d_features_layers_pooling_and_bn_mode(env):
    data = load_dataset("cifar10", 32, split="test", limit=64, progress=False)
    D, _ = F.load_discriminator("zoo:cifar32")
    x, dims = F.d_features(D, data.images, pool=4, batch_size=20)
    assert dims == [64 * 16, 128 * 16, 256 * 16] and x.shape == (64, 7168) and x.dtype == np.float16
    # the first block is layer 1 max-pooled from 16×16 to 4×4
    h = D.features(data.images[:3].float() / 127.5 - 1)[0]
    ref = torch.nn.functional.max_pool2d(h, 4).flatten(1)
    assert torch.allclose(torch.from_numpy(x[:3, :1024].astype(np.float32)), ref, atol=1e-2)
    x2, dims2 = F.d_features(D, data.images, pool=2)
    assert dims2 == [64 * 4, 128 * 4, 256 * 4]
    xb, _ = F.d_features(D, data.images, bn="batch", batch_size=64)
    assert not np.allclose(xb, x, atol=1e-2)  # batch statistics differ
    assert not D.training  # the caller's D is untouched
    x1, _ = F.d_features(D, data.images, batch_size=7)
    assert np.allclose(x1.astype(np.float32), x.astype(np.float32), atol=1e-2)  # batching changes nothing in eval mode


def test_extract_caches_and_random_d_differs(env):
    data = load_dataset("cifar10", 32, split="test", progress=False)
    index = np.arange(0, 10000, 250)
    a = F.extract("zoo:cifar32", data, index)
    assert list((env / "cache").glob("repr-*.npz"))
    b = F.extract("zoo:cifar32", data, index)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.y, data.labels[index].numpy())
    r = F.extract("random:cifar32", data, index)
    assert r.x.shape == a.x.shape and not np.allclose(r.x, a.x)
    assert a.layers([0]).shape[1] == 1024 and a.layers([1, 2]).shape[1] == 128 * 16 + 256 * 16


def test_kmeans_features(env):
    data = load_dataset("cifar10", 32, split="test", limit=200, progress=False)
    km = F.fit_kmeans(data.images, F.KMeansRecipe(k=16, patches=2000, stride=2))
    f = F.kmeans_features(km, data.images[:10])
    assert f.shape == (10, 64) and (f >= 0).all() and f.sum() > 0
    # each centroid is nearest to some patch of the images (no dead centroids on the data they came from)
    assert km.centroids.shape == (16, 108) and torch.isfinite(km.centroids).all()
    # against the definition written out: distances, triangle activation, a sum over each quadrant
    # (stride 1: 27 positions a side, quadrants of 13 and 14)
    for stride, side in ((1, 27), (2, 14)):
        p = torch.nn.functional.unfold(data.images[:2].float(), 6, stride=stride).transpose(1, 2).reshape(-1, 108)
        z = torch.cdist((F.normalise_patches(p) - km.mean) @ km.whiten, km.centroids)
        act = (z.mean(1, keepdim=True) - z).clamp(min=0).view(2, side, side, 16)
        h = side // 2
        ref = torch.cat([q.sum((1, 2)) for q in (act[:, :h, :h], act[:, :h, h:], act[:, h:, :h], act[:, h:, h:])], 1)
        at = dataclasses.replace(km, recipe=dataclasses.replace(km.recipe, stride=stride))
        got = torch.from_numpy(F.kmeans_features(at, data.images[:2])).float()
        torch.testing.assert_close(got, ref, rtol=2e-3, atol=1e-2)
        if stride == 1:  # max instead of sum over each quadrant
            at = dataclasses.replace(at, recipe=dataclasses.replace(at.recipe, pool="max"))
            ref = torch.cat(
                [q.amax((1, 2)) for q in (act[:, :h, :h], act[:, :h, h:], act[:, h:, :h], act[:, h:, h:])], 1
            )
            torch.testing.assert_close(
                torch.from_numpy(F.kmeans_features(at, data.images[:2])).float(), ref, rtol=2e-3, atol=1e-2
            )


def test_draw_labels_and_too_few():
    y = np.repeat(np.arange(3), 5)
    rows = S.draw_labels(y, 2, np.random.default_rng(0))
    assert np.bincount(y[rows]).tolist() == [2, 2, 2]
    with pytest.raises(ValueError, match="fewer than 6 per class"):
        S.draw_labels(y, 6, np.random.default_rng(0))


def _cli(*args, env_extra=None, cwd=None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "dcgan_core", "classify", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=600,
    )


def test_cli_classify_folder_dataset(env, tmp_path):
    """Labels from sub-folder names; no test split, so a seeded fraction is held out."""
    data = load_dataset("cifar10", 32, split="test", progress=False)
    for cls in (0, 1):  # airplanes and automobiles
        (tmp_path / "imgs" / data.classes[cls]).mkdir(parents=True)
        for j, i in enumerate(np.nonzero(data.labels.numpy() == cls)[0][:60]):
            Image.fromarray(data.images[i].permute(1, 2, 0).numpy()).save(
                tmp_path / "imgs" / data.classes[cls] / f"{j}.png"
            )
    p = _cli("--features", "pixels", "--dataset", f"folder:{tmp_path / 'imgs'}", "--seed", "1", "--n-val", "20")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["n_test"] == 24 and out["n_train"] + out["n_val"] == 96 and out["feature_dim"] == 3072
    assert 0.5 < out["accuracy"] <= 1.0 and out["C"] in (1e-5, 1e-4, 1e-3, 1e-2, 1e-1)
    p2 = _cli("--features", "pixels", "--dataset", f"folder:{tmp_path / 'imgs'}", "--seed", "1", "--n-val", "20")
    assert json.loads(p2.stdout)["accuracy"] == out["accuracy"]  # seeded


def test_cli_classify_bad_input_is_one_line(env, tmp_path):
    (tmp_path / "flat").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "flat" / "a.png")
    for args, words in [
        (["--features", "zoo:nope", "--dataset", "cifar10"], "unknown zoo model"),
        (["--features", "what", "--dataset", "cifar10"], "--features must be"),
        (["--features", "pixels", "--dataset", f"folder:{tmp_path / 'flat'}"], "sub-folders"),
        (["--features", "pixels", "--dataset", "nope"], "unknown dataset"),
        (["--features", "kmeans", "--kmeans-stride", "0"], "argument --kmeans-stride: must be ≥ 1"),
        (["--features", "kmeans", "--kmeans-recipe", "iters=many"], "'many' is not an int"),
        (["--features", "kmeans", "--kmeans-recipe", "pool=avg"], "pool sum or max"),
    ]:
        p = _cli(*args)
        assert p.returncode == 2 and words in p.stderr and "Traceback" not in p.stderr, (args, p.stderr)


def test_representation_explorer_updates_from_cached_features(mnist_pixels):
    """The widget's layer boxes and label budget change the accuracy it shows."""
    from dcgan_core.widgets import representation_explorer

    x, y = mnist_pixels
    dims = [128, 128]  # two "layers": the top and bottom halves of the digits
    f = lambda rows: F.Features("pixels", x[rows].astype(np.float16), y[rows], dims)  # noqa: E731
    sets = {"pixels": (f(slice(0, 500)), f(slice(500, 650)), f(slice(650, 800)))}
    box = representation_explorer(sets, c_grid=(1e-2,), per_class_choices=(5, 20))
    (_features, per_class), layers, out = box.children[0].children, box.children[1], box.children[2]
    assert len(layers.children) == 2 and "500" not in out.value and "%" in out.value
    few = out.value
    per_class.value = None  # all 500 labels
    assert "500 training images" in out.value and out.value != few
    layers.children[0].value = False
    assert "128 features" in out.value
    layers.children[1].value = False
    assert out.value == "pick at least one layer"


def test_representation_explorer_says_it_is_fitting_while_it_fits(mnist_pixels, monkeypatch):
    """The labels/class callback fits an SVM (seconds on D's features): its output says so before the fit
    starts, and the fit keeps a small preconditioner (`subset_accuracy`'s rank) that reaches the tables' C."""
    from dcgan_core import representation
    from dcgan_core.widgets import representation_explorer

    x, y = mnist_pixels
    f = lambda rows: F.Features("pixels", x[rows].astype(np.float16), y[rows], [256])  # noqa: E731
    sets = {"pixels": (f(slice(0, 500)), f(slice(500, 650)), f(slice(650, 800)))}
    seen, built = [], {}

    def fit(*args, **kwargs):  # what the output shows while the SVM fits
        seen.append(built["box"].children[2].value if built else None)
        return dict(accuracy=0.5, n_train=1, feature_dim=1, C=1.0)

    monkeypatch.setattr(representation, "subset_accuracy", fit)
    built["box"] = box = representation_explorer(sets, c_grid=(1e-2,), per_class_choices=(5, 20))
    box.children[0].children[1].value = None
    assert seen[-1] == "<i>fitting the SVM on pixels's features (labels/class: all) …</i>", seen
    assert "50.0%" in box.children[2].value
    monkeypatch.undo()
    full = representation.subset_accuracy(sets, "pixels", [0], None, (1e-2,), rank=2048)
    small = representation.subset_accuracy(sets, "pixels", [0], None, (1e-2,))
    assert small["C"] == full["C"] and abs(small["accuracy"] - full["accuracy"]) <= 0.02, (small, full)


def test_training_length_and_width_ablations_read_the_checkpoints_kept_along_runs(env, tmp_path):
    """run(): the training-length ablation has random init (step 0), each step_*.pt of each of
    `training_runs` (train --keep-every; any D width) and the zoo D at its final step; the width
    ablation adds each run's last checkpoint as a trained D of its width; the figure draws them."""
    import matplotlib

    matplotlib.use("Agg")
    from dcgan_core.train import TrainConfig, train

    for w in (8, 16):
        train(
            TrainConfig(
                dataset="cifar10",
                arch="torch",
                image_size=32,
                g_width=8,
                d_width=w,
                batch_size=16,
                limit=64,
                max_steps=4,
                keep_every=2,
                device="cpu",
                progress=False,
                out=str(tmp_path / f"run{w}"),
            )
        )
    runs = (str(tmp_path / "run8"), str(tmp_path / "run16"))
    cfg = R.RepresentationConfig.from_profile(
        "smoke",
        progress=False,
        training_runs=runs,
        n_train=300,
        n_val=100,
        n_test=200,
        ablation_n_train=200,
        table2_datasets=(),
        table2_models=(),
        few_draws=1,
        kmeans_k=20,
        ablation_grid_bn=False,
    )
    result = R.run(cfg)
    assert "pool" not in result.ablations and "bn" not in result.ablations
    # the k-means ablation ran first, one row per change, and chose Table 1's recipe on validation accuracy
    from dcgan_core.kmeans_ablation import CHANGES

    ka = result.kmeans_ablation
    assert len(ka["rows"]) == len(CHANGES) and ka["default"]["recipe"]["k"] == 20 and ka["best"]["k"] == 20
    assert ka["best_row"] is None or ka["best_row"]["val"] > ka["default"]["val"]
    steps = [(r["step"], r["run"], r["width"]) for r in result.ablations["training"]]
    zoo_steps = P.manifest(P.ZOO_DIR)["cifar32"]["steps"]
    assert steps == [
        (0, "zoo:cifar32", 64),
        (2, runs[0], 8),
        (4, runs[0], 8),
        (2, runs[1], 16),
        (4, runs[1], 16),
        (zoo_steps, "zoo:cifar32", 64),
    ]
    assert all(0 <= r["accuracy"] <= 1 for r in result.ablations["training"])
    width = [(r["width"], r["trained"]) for r in result.ablations["width"]]
    assert width == [(32, False), (64, False), (128, False), (8, True), (16, True), (64, True)]
    trained16 = next(r for r in result.ablations["width"] if r["width"] == 16)
    assert trained16["accuracy"] == next(
        r["accuracy"] for r in result.ablations["training"] if r["run"] == runs[1] and r["step"] == 4
    )
    A.ablation_figure(result)
