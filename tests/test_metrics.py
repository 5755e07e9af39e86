"""FID and KID (dcgan_core.metrics): the formulas on random features (no Inception), then the
offline Inception model on a few real images, the real-feature cache and the `evaluate` CLI."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import small_net
from scipy import linalg

from dcgan_core import metrics
from dcgan_core.data import load_dataset
from dcgan_core.metrics import (
    MetricsError,
    fid_from_features,
    frechet_distance,
    gaussian_stats,
    inception_features,
    kid_from_features,
    real_features,
)

REPO_ROOT = Path(__file__).resolve().parents[1]


def _gaussian(rng, n, d, shift=0.0, scale=1.0):
    mix = np.random.default_rng(d).normal(size=(d, d)) / np.sqrt(d)  # correlated features; the same for each d
    return (rng.normal(size=(n, d)) @ mix) * scale + shift


# --- formulas, no Inception ----------------------------------------------------------------------


def test_frechet_distance_matches_a_direct_computation():
    rng = np.random.default_rng(0)
    a, b = _gaussian(rng, 400, 48), _gaussian(rng, 300, 48, shift=0.3, scale=1.5)
    mu1, s1 = a.mean(0), np.cov(a, rowvar=False)
    mu2, s2 = b.mean(0), np.cov(b, rowvar=False)
    # Directly, as pytorch-fid does: scipy's matrix square root of S1 S2.
    direct = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(linalg.sqrtm(s1 @ s2).real)
    assert fid_from_features(a, b) == pytest.approx(direct, rel=1e-6, abs=1e-6)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(direct, rel=1e-6, abs=1e-6)
    assert fid_from_features(b, a) == pytest.approx(direct, rel=1e-6)
    assert abs(fid_from_features(a, a)) < 1e-6
    # 1-d sanity: (m1 - m2)^2 + (s1 - s2)^2 for N(m, s^2)
    assert frechet_distance([0.0], [[4.0]], [1.0], [[1.0]]) == pytest.approx(1 + 1)


def test_kid_of_two_halves_of_one_distribution_is_zero_within_its_std():
    feats = _gaussian(np.random.default_rng(1), 2000, 64)
    mean, std = kid_from_features(feats[:1000], feats[1000:], subset_size=200)
    assert std > 0
    assert abs(mean) <= std
    # with subsets as large as the sets each subset is the whole set: the same value, std 0
    assert kid_from_features(feats[:50], feats[50:100])[1] < 1e-12


def test_fid_and_kid_of_different_distributions_are_large():
    rng = np.random.default_rng(2)
    a, b = _gaussian(rng, 600, 64), _gaussian(rng, 600, 64, shift=1.0, scale=2.0)
    same = _gaussian(rng, 600, 64)
    assert fid_from_features(a, b) > 50 * fid_from_features(a, same)
    kid, std = kid_from_features(a, b, subset_size=200)
    kid_same, _ = kid_from_features(a, same, subset_size=200)
    assert kid > 10 * std and kid > 20 * abs(kid_same)


def test_bad_features_and_images_are_refused():
    with pytest.raises(MetricsError, match="dimensions differ"):
        fid_from_features(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(MetricsError, match="N×D"):
        kid_from_features(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(MetricsError, match="C 1 or 3"):
        inception_features(torch.zeros(2, 4, 8, 8, dtype=torch.uint8))
    with pytest.raises(MetricsError, match="uint8 pixels or floats"):
        inception_features(torch.zeros(2, 3, 8, 8, dtype=torch.int32))


# --- the Inception model, offline ---------------------------------------------------------------


def test_inception_loads_offline_from_the_package_and_gives_pool3_features(mirror, shared_cache_dir, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(metrics, "_models", {})  # load it again, here, without a network
    data = load_dataset("cifar10", 32, split="test", limit=4, cache_dir=shared_cache_dir, mirror=mirror, progress=False)
    feats = inception_features(data.images, batch_size=4)
    assert feats.shape == (4, 2048) and np.isfinite(feats).all()
    assert feats.min() >= 0 and feats.std() > 0  # average-pooled ReLU outputs, not constant
    # floats in [-1, 1] (the generator's range) go through the same uint8 path as the cache's pixels
    same = inception_features(data.batch(torch.arange(2)), batch_size=2)
    np.testing.assert_allclose(same, feats[:2], rtol=1e-4, atol=1e-4)
    # bf16 (not the default) moves features by a few percent (benchmarks/inception_speed.py --quality)
    bf16 = inception_features(data.images, batch_size=4, precision="bf16", channels_last=True)
    assert 0 < np.linalg.norm(bf16 - feats) / np.linalg.norm(feats) < 0.1
    # grayscale (MNIST) is repeated to 3 channels
    gray = inception_features(data.images[:1, :1])
    np.testing.assert_allclose(gray, inception_features(data.images[:1, :1].expand(-1, 3, -1, -1)), atol=1e-5)


def test_real_features_are_cached_atomically(mirror, cache_dir, monkeypatch):
    first = real_features("mnist", "test", 6, 32, cache_dir=cache_dir, mirror=mirror)
    assert first["features"].shape == (6, 2048)
    mu, sigma = gaussian_stats(first["features"])
    np.testing.assert_allclose(first["mu"], mu)
    np.testing.assert_allclose(first["sigma"], sigma)
    files = list((cache_dir / "cache").glob("fid-*"))
    assert [f.name.startswith("fid-mnist-test-32px-1ch-n6-") and f.suffix == ".npz" for f in files] == [True]

    def no_inception(*args, **kwargs):
        raise AssertionError("recomputed cached features")

    monkeypatch.setattr(metrics, "inception_features", no_inception)
    again = real_features("mnist", "test", 6, 32, cache_dir=cache_dir, mirror=mirror)
    np.testing.assert_array_equal(again["features"], first["features"])
    with pytest.raises(MetricsError, match="has only 10000 images"):
        real_features("mnist", "test", 10001, 32, cache_dir=cache_dir, mirror=mirror)


# --- the CLI ------------------------------------------------------------------------------------


def _cli(*args, env):
    return subprocess.run(
        [sys.executable, "-m", "dcgan_core", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_evaluate_cli_prints_one_json_object(mirror, tmp_path):
    env = {**os.environ, "DCGAN_MIRROR": str(mirror), "DCGAN_DATA_DIR": str(tmp_path / "data")}
    out = tmp_path / "run"
    r = _cli(
        "train",
        "--dataset",
        "mnist",
        "--limit",
        "128",
        *small_net(batch_size=32),
        "--max-steps",
        "2",
        "--out",
        str(out),
        env=env,
    )
    assert r.returncode == 0, r.stderr
    ckpt = str(out / "checkpoints" / "last.pt")

    r = _cli("evaluate", "--checkpoint", ckpt, "--dataset", "mnist", "--n", "16", env=env)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert {"fid", "kid_mean", "kid_std", "n"} <= set(result)
    assert result["n"] == 16 and result["fid"] > 0 and np.isfinite(result["kid_mean"]) and result["kid_std"] >= 0
    assert list((tmp_path / "data" / "cache").glob("fid-mnist-test-32px-1ch-n16-*.npz"))

    for args, message in [
        (["--checkpoint", "zoo:dcgan-celeba"], "no zoo model 'dcgan-celeba'"),
        (["--checkpoint", str(tmp_path / "missing.pt")], "no checkpoint at"),
        (["--checkpoint", ckpt, "--n", "20000"], "has only 10000 images"),
    ]:
        r = _cli("evaluate", *args, env=env)
        assert r.returncode == 2 and r.stdout == ""
        errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and message in errors[0] and "Traceback" not in r.stderr, r.stderr
