"""
# Representation learning: D's features and a linear L2-SVM (§5, Tables 1 and 2)

Radford, Metz & Chintala (2015), [arXiv 1511.06434](https://arxiv.org/abs/1511.06434), §5.1:

> "To evaluate the quality of the representations learned by DCGANs for supervised tasks, we train
> on Imagenet-1k and then use the discriminator's convolutional features from all layers,
> maxpooling each layers representation to produce a 4 × 4 spatial grid. These features are then
> flattened and concatenated to form a 28672 dimensional vector and a regularized linear L2-SVM
> classifier is trained on top of them. This achieves 82.8% accuracy, out performing all K-means
> based approaches."

and §5.2 (SVHN, 1000 labels): "DCGAN + L2-SVM 22.48% (± 0.20)" error against "a purely
supervised CNN with the same architecture on the same data … 28.87% validation error".

What this module does, each step a function:

- **features** (`extract`): every conv layer of D (`Discriminator.features`), each max-pooled to a
  `pool`×`pool` grid (adaptive max pooling; 4×4 in the paper), flattened and concatenated. BN runs
  in **eval mode** by default: the running statistics D kept while training (`bn="batch"` uses
  each extraction batch's statistics instead, batches drawn in a seeded random order so that a
  class-sorted dataset does not give class-pure batches). The same for the baselines: `pixels`
  (the image, flattened), `random:NAME` (zoo model NAME's D with fresh N(0, 0.02) weights) and
  `kmeans` (one layer of k-means features, Coates & Ng 2011). Features are computed in batches and
  cached as float16 `.npz` under the data cache (`<cache>/cache/repr-….npz`, written atomically).
- **the classifier** (`fit_svm`): the one-vs-rest L2-regularised squared-hinge linear SVM of
  scikit-learn's `LinearSVC` (liblinear; intercept regularised like a feature of value 1),
  solved by full-batch L-BFGS in torch, preconditioned with the features' top covariance
  directions. The same objective: tests check objective and predictions against `LinearSVC` on a
  small case. # ours: LinearSVC took 80–200 s per C on 5,000 × 7,168 (single-threaded liblinear)
  and 23 min at C = 1e-2 on 45,000 × 6,400 k-means rows without converging (objective 556); this
  solver reaches 557 there in 40 s. (Unpreconditioned, 100 iterations left it at 749: the
  k-means baseline lost 2.5 points to the solver at large C.)
- **the protocol** (`evaluate`): features standardised with the training rows' mean and std
  (# ours: the paper does not say; it makes one C grid fit every feature type and helps L-BFGS),
  C chosen on a validation split held out of the training split (the C grid from the strongest
  regularisation up, each fit warm-started from the last), test accuracy of that fit.
  # ours: the final SVM is the one trained without the validation rows (no refit on train+val).
- **few labels** (`few_labels`): `per_class` labelled images per class drawn from the training
  rows (`draws` times, seeded), C chosen on the same validation split, mean ± 1.96·std over the
  draws as in the authors' SVHN script (Table 2) and Table 1's 400-per-class column.
- **the supervised baseline** (`train_cnn`): Table 2's "supervised CNN with the same
  architecture": D's conv layers from random init and a linear 10-way head on the last one,
  trained with Adam on the same labelled images (# ours: lr 2e-4, β1 0.5 as D's training, batch
  64, the epoch with the best validation accuracy kept; no augmentation).

`run(cfg)` makes Tables 1 and 2 and the ablations; notebook 03 and the `classify` command call
these functions. Offline there is no SVHN, so Table 2's protocol runs on CIFAR-10 and
Fashion-MNIST as stand-ins; CIFAR-10 here is the mirror's JPEG (q75) copy.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import math
import time
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .config import Config, TrainConfig, option
from .data import DataError, ImageData, cache_root, load_dataset
from .files import RunDir, atomic_write
from .models import Discriminator, build_models, init_weights
from .pretrained import ZOO_DIR, load_models, manifest, require_discriminator, sha256
from .results import Result, artifact

_FEATURE_VERSION = 1        # bump when extraction changes, so old caches are not reused

# The paper's rows (accuracy on CIFAR-10, Table 1; error on SVHN with 1000 labels, Table 2).
PAPER_TABLE1 = {
    "1 Layer K-means": 0.806, "3 Layer K-means Learned RF": 0.820, "View Invariant K-means": 0.819,
    "Exemplar CNN": 0.843, "DCGAN (ours) + L2-SVM": 0.828}
PAPER_TABLE1_400 = {"1 Layer K-means": (0.636, 0.007), "3 Layer K-means Learned RF": (0.701, 0.006),
                    "View Invariant K-means": (0.729, 0.007), "Exemplar CNN": (0.770, 0.006),
                    "DCGAN (ours) + L2-SVM": (0.738, 0.004)}
PAPER_TABLE2 = {"DCGAN (ours) + L2-SVM": 0.2248, "Supervised CNN with the same architecture": 0.2887}


@dataclasses.dataclass
class RepresentationConfig(Config):
    """§5's measurement: which features, which data, the SVM protocol, the baselines, the ablations."""
    dataset: str = option("cifar10", "Table 1's dataset (the paper: CIFAR-10)")
    models: tuple[str, ...] = option(("zoo:cifar32-d128", "zoo:cifar32", "zoo:celeba64"),
                                     "trained D's: in-domain first (the ablations study it), then others: a narrower "
                                     "one, a transfer D trained on other data", flag=False)
    n_train: int | None = option(None, "training images (random, seeded; None: all but the validation split)", min=1)
    n_val: int = option(5000, "validation images held out of the training split to choose C", min=10)
    n_test: int | None = option(None, "test images (random, seeded; None: the whole test split)", min=10)
    c_grid: tuple[float, ...] = option((1e-5, 1e-4, 1e-3, 1e-2, 1e-1), "SVM C values tried (on standardised "
                                       "features), chosen on the validation split", flag=False)
    pool: int = option(4, "max-pool each layer to pool×pool (§5.1: 4×4)", min=1)
    bn: str = option("eval", "BN in D: eval (running statistics) or batch (each batch's)", choices=("eval", "batch"))
    max_iter: int = option(300, "L-BFGS iterations per SVM fit (at most; it stops when converged)", min=1)
    labels_per_class: int = option(400, "Table 1's few-label column (the paper: 400 per class)", min=1)
    few_draws: int = option(10, "random label sets for Table 1's few-label column", min=1)
    table2_datasets: tuple[str, ...] = option(("cifar10", "fashion-mnist"), "Table 2's 1000-label protocol "
                                              "(SVHN needs a download; offline stand-ins)", flag=False)
    table2_models: tuple[str, ...] = option(("zoo:cifar32", "zoo:mnist"), "the trained D for each Table 2 "
                                            "dataset (same order)", flag=False)
    table2_per_class: int = option(100, "Table 2: 1000 labels = 100 per class", min=1)
    table2_draws: int = option(100, "Table 2: random label sets (the authors' script: 100)", min=1)
    cnn_draws: int = option(3, "label sets the supervised CNN is trained on (it is slow)", min=0)
    cnn_epochs: int = option(40, "epochs of the supervised CNN", min=1)
    kmeans_k: int = option(1600, "k-means centroids (Coates & Ng 2011: 1600)", min=2)
    kmeans_stride: int = option(1, "k-means feature stride (Coates & Ng: 1)", min=1)
    kmeans_patches: int = option(100_000, "random 6×6 patches to fit k-means", min=100)
    ablation_n_train: int = option(10_000, "training images for the ablations", min=10)
    ablation_n_eval: int | None = option(None, "validation and test images for the ablations and the random-init "
                                               "control (the first N of each; None: all)", min=10)
    training_runs: tuple[str, ...] = option((), "training runs of D's architecture (any D width) whose checkpoints "
                                            "kept along the way (train --keep-every) the training-length and width "
                                            "ablations read; none: random init and the final D only", flag=False)
    ablations: bool = option(True, "run the ablations (layers, pooling grid, BN mode, width, training length)")
    batch_size: int = option(250, "images per feature batch", min=1)
    seed: int = option(0, "seed of the splits, label draws, random D's and k-means")
    progress: bool = option(True, "tqdm progress bars")

    PROFILES: ClassVar[dict[str, dict]] = {
        # CI, ≤ 3 min on 2 cores: a few thousand images, a small k-means, 2 CNN epochs.
        "smoke": dict(models=("zoo:cifar32",), n_train=1000, n_val=500, n_test=1000, c_grid=(1e-3, 1e-2), max_iter=40,
                      few_draws=1, labels_per_class=20, table2_datasets=("cifar10",), table2_models=("zoo:cifar32",),
                      table2_per_class=10, table2_draws=2, cnn_draws=1, cnn_epochs=2, kmeans_k=50, kmeans_stride=4,
                      kmeans_patches=5000, ablation_n_train=500),
        # The record, within the companion's hour on 2 cores: the in-domain D (its random twin, k-means and
        # pixels beside it) on 10k training rows (every C of a grid around the Cs these features choose,
        # fitted on all of them), Table 2's protocol on CIFAR-10 with the same D, fewer label draws, a shorter
        # CNN (one draw), ablations on 2k rows. The full 45k rows, the narrower and the transfer D (cifar32, celeba64)
        # and Fashion-MNIST: `paper` (or `classify` for one row).
        "cpu": dict(models=("zoo:cifar32-d128",), n_train=10_000, c_grid=(1e-4, 1e-3, 1e-2), few_draws=3,
                    table2_datasets=("cifar10",), table2_models=("zoo:cifar32-d128",), table2_draws=10, cnn_draws=1,
                    cnn_epochs=10, ablation_n_train=2000, ablation_n_eval=2000),
        "paper": dict(),
    }

    def check(self) -> None:
        if len(self.table2_models) != len(self.table2_datasets):
            raise ValueError(f"table2_models must name one D per table2_datasets entry, got {self.table2_models!r}")
        if not self.c_grid or not all(c > 0 for c in self.c_grid):
            raise ValueError(f"c_grid must hold positive values, got {self.c_grid!r}")


# ---------------------------------------------------------------------------------------------
# Features

def parse_features(spec: str) -> tuple[str, str]:
    """"zoo:cifar32" → ("zoo", "cifar32"); "random:cifar32"; "pixels"; "kmeans"; a checkpoint path → ("path", p)."""
    spec = str(spec).strip()
    if spec in ("pixels", "kmeans"):
        return spec, ""
    kind, colon, arg = spec.partition(":")
    if colon and kind in ("zoo", "random"):
        if arg not in manifest(ZOO_DIR):
            raise ValueError(f"unknown zoo model {arg!r} in --features {spec!r}; the zoo has {sorted(manifest(ZOO_DIR))}")
        return kind, arg
    if Path(spec).is_file():
        return "path", spec
    raise ValueError(f"--features must be zoo:NAME, random:NAME, a checkpoint file, kmeans or pixels; got {spec!r}")


def load_discriminator(spec: str, seed: int = 0) -> tuple[Discriminator, str]:
    """D (eval mode) for "zoo:NAME", "random:NAME" (NAME's D with fresh N(0, 0.02) weights) or a
    checkpoint path, and a string identifying its weights (for the feature cache)."""
    kind, arg = parse_features(spec)
    if kind == "zoo":
        _, D, _ = load_models(f"zoo:{arg}")
        return require_discriminator(D, spec), manifest(ZOO_DIR)[arg]["sha256"]
    if kind == "path":
        _, D, _ = load_models(arg)
        return D.eval(), sha256(arg)
    if kind == "random":
        _, _, cfg = load_models(f"zoo:{arg}")
        _, D = build_models(cfg)
        init_weights(D, torch.Generator().manual_seed(seed))
        return D.eval(), f"random-{seed}"
    raise ValueError(f"{spec!r} is not a discriminator")


@torch.no_grad()
def d_features(D: Discriminator, images: torch.Tensor, *, pool: int = 4, bn: str = "eval", batch_size: int = 250,
               seed: int = 0, progress: bool = False) -> tuple[np.ndarray, list[int]]:
    """§5.1: every conv layer of D on uint8 `images`, each max-pooled to pool×pool, flattened and
    concatenated: float16 N×dim, and each layer's width in that vector (layer_dims)."""
    D = copy.deepcopy(D).float().to(memory_format=torch.contiguous_format)
    if bn == "batch":         # batch statistics, the running ones left untouched (momentum 0)
        D.train()
        for m in D.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.momentum = 0.0
        order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
    else:
        D.eval()
        order = torch.arange(len(images))
    out, dims = None, None
    for s in tqdm(range(0, len(images), batch_size), desc="D features", disable=not progress):
        idx = order[s:s + batch_size]
        x = images[idx].float().div_(127.5).sub_(1.0)
        maps = [F.adaptive_max_pool2d(h, min(pool, h.shape[-1])).flatten(1) for h in D.features(x)]
        if out is None:
            dims = [m.shape[1] for m in maps]
            out = np.empty((len(images), sum(dims)), np.float16)
        out[idx.numpy()] = torch.cat(maps, 1).numpy()
    return out, dims


def pixel_features(images: torch.Tensor) -> np.ndarray:
    """Baseline: the raw pixels in [-1, 1], flattened."""
    return (images.reshape(len(images), -1).float() / 127.5 - 1).numpy().astype(np.float16)


# --- 1-layer k-means (Coates, Lee & Ng 2011, "An analysis of single-layer networks …") ---------

@dataclasses.dataclass
class KMeans:
    """6×6 patches, each brightness/contrast normalised, ZCA-whitened; K centroids."""
    mean: torch.Tensor          # of the normalised patches, (p,)
    whiten: torch.Tensor        # ZCA matrix, p×p
    centroids: torch.Tensor     # K×p
    patch: int = 6


def _normalise_patches(p: torch.Tensor) -> torch.Tensor:
    """Per patch: subtract its mean, divide by sqrt(var + 10) (pixels 0..255, Coates & Ng's constant)."""
    return (p - p.mean(1, keepdim=True)) / (p.var(1, keepdim=True) + 10).sqrt()


def fit_kmeans(images: torch.Tensor, k: int, n_patches: int, seed: int = 0, iters: int = 20, patch: int = 6) -> KMeans:
    """Random patches of uint8 `images`, normalised and ZCA-whitened (ε = 0.1), then Lloyd's k-means."""
    g = torch.Generator().manual_seed(seed)
    n, c, h, w = images.shape
    i = torch.randint(n, (n_patches,), generator=g)
    y = torch.randint(h - patch + 1, (n_patches,), generator=g)
    x = torch.randint(w - patch + 1, (n_patches,), generator=g)
    rows = torch.arange(patch)
    p = images[i[:, None, None, None], torch.arange(c)[None, :, None, None],
               (y[:, None] + rows)[:, None, :, None], (x[:, None] + rows)[:, None, None, :]].float()
    p = _normalise_patches(p.reshape(n_patches, -1))
    mean = p.mean(0)
    cov = torch.cov((p - mean).T)
    e, v = torch.linalg.eigh(cov)
    whiten = v @ torch.diag(1 / (e + 0.1).sqrt()) @ v.T
    p = (p - mean) @ whiten
    cent = p[torch.randperm(n_patches, generator=g)[:k]].clone()
    for _ in range(iters):
        d = (p * p).sum(1, keepdim=True) - 2 * p @ cent.T + (cent * cent).sum(1)
        assign = d.argmin(1)
        sums = torch.zeros_like(cent).index_add_(0, assign, p)
        counts = torch.bincount(assign, minlength=k).float()
        empty = counts == 0
        cent = torch.where(empty[:, None], p[torch.randint(n_patches, (k,), generator=g)], sums / counts.clamp(min=1)[:, None])
    return KMeans(mean, whiten, cent, patch)


@torch.no_grad()
def kmeans_features(km: KMeans, images: torch.Tensor, stride: int = 1, batch_size: int = 50,
                    progress: bool = False) -> np.ndarray:
    """Coates & Ng's features: the "triangle" activation f_k = max(0, mean_j(z_j) − z_k), z_k the
    distance of a whitened patch to centroid k, at every position (stride), sum-pooled over the
    four quadrants: float16 N×4K."""
    k, out = len(km.centroids), np.empty((len(images), 4 * len(km.centroids)), np.float16)
    c2, ct = (km.centroids ** 2).sum(1), km.centroids.T.contiguous()
    for s in tqdm(range(0, len(images), batch_size), desc="k-means features", disable=not progress):
        x = images[s:s + batch_size].float()
        p = F.unfold(x, km.patch, stride=stride)                        # B×p×L
        b, _, L = p.shape
        side = int(math.isqrt(L))
        p = (_normalise_patches(p.transpose(1, 2).reshape(b * L, -1)) - km.mean) @ km.whiten
        # (B·L)×K distances and activations, in place: at stride 1 the time goes to these passes
        z = torch.addmm(c2 + (p * p).sum(1, keepdim=True), p, ct, alpha=-2).clamp_(min=0).sqrt_()
        f = torch.sub(z.mean(1, keepdim=True), z, out=z).clamp_(min=0).view(b, side, side, k)
        half = side // 2
        top, bottom = f[:, :half].sum(1), f[:, half:].sum(1)              # B×side×K: rows first
        out[s:s + b] = torch.cat([top[:, :half].sum(1), top[:, half:].sum(1),
                                  bottom[:, :half].sum(1), bottom[:, half:].sum(1)], 1).numpy()
    return out


# --- one entry point, cached ------------------------------------------------------------------

@dataclasses.dataclass
class Features:
    """Features of some images of one dataset split, with their labels."""
    spec: str
    x: np.ndarray               # float16 N×dim
    y: np.ndarray               # int64 N
    layer_dims: list[int]       # widths of the blocks of x, input side first (one block for pixels, k-means)

    @property
    def dim(self) -> int:
        return self.x.shape[1]

    def layers(self, which) -> np.ndarray:
        """The columns of the chosen layers (indices into layer_dims)."""
        edges = np.cumsum([0] + self.layer_dims)
        return np.concatenate([self.x[:, edges[i]:edges[i + 1]] for i in sorted(which)], 1)


def image_size_for(spec: str, dataset: str) -> tuple[int, int]:
    """(image size, channels) the features of `spec` read: D's own; 32 and the dataset's channels otherwise."""
    kind, arg = parse_features(spec)
    if kind in ("zoo", "random"):
        e = manifest(ZOO_DIR)[arg]
        return e["image_size"], (1 if e["dataset"] in ("mnist", "fashion-mnist") else 3)
    if kind == "path":
        D, _ = load_discriminator(spec)
        return D.image_size, D.channels
    from .data import default_channels
    return 32, default_channels(dataset)


def extract(spec: str, data: ImageData, index: np.ndarray, *, pool: int = 4, bn: str = "eval", seed: int = 0,
            batch_size: int = 250, kmeans: KMeans | None = None, kmeans_stride: int = 1,
            cache: bool = True, progress: bool = False) -> Features:
    """The features `spec` gives for data.images[index] (see `parse_features`), cached as float16
    in <cache>/cache/repr-….npz keyed by everything that changes them."""
    kind, _ = parse_features(spec)
    index = np.asarray(index, np.int64)
    if kind in ("zoo", "random", "path"):
        D, weights = load_discriminator(spec, seed)
        what = [weights, pool, bn, seed if bn == "batch" else 0]
    elif kind == "kmeans":
        if kmeans is None:
            raise ValueError("k-means features need fitted centroids (fit_kmeans)")
        what = [hashlib.sha1(kmeans.centroids.numpy().tobytes()).hexdigest(), kmeans_stride]
    else:
        what = []
    key = json.dumps([_FEATURE_VERSION, spec, data.name, tuple(data.images.shape), *what,
                      hashlib.sha1(index.tobytes()).hexdigest()])
    slug = "".join(ch if ch.isalnum() else "-" for ch in f"{spec}-{data.name}")[-60:]
    path = cache_root() / "cache" / f"repr-{slug}-{len(index)}-{hashlib.sha1(key.encode()).hexdigest()[:12]}.npz"
    if cache and path.is_file():
        with np.load(path) as z:
            return Features(spec, z["x"], z["y"], z["layer_dims"].tolist())
    images = data.images[torch.from_numpy(index)]
    if kind == "pixels":
        x, dims = pixel_features(images), [int(np.prod(images.shape[1:]))]
    elif kind == "kmeans":
        x = kmeans_features(kmeans, images, kmeans_stride, progress=progress)
        dims = [x.shape[1]]
    else:
        x, dims = d_features(D, images, pool=pool, bn=bn, batch_size=batch_size, seed=seed, progress=progress)
    y = data.labels[torch.from_numpy(index)].numpy() if data.labels is not None else np.zeros(len(index), np.int64)
    if cache:
        def write(tmp):
            with open(tmp, "wb") as f:
                np.savez(f, x=x, y=y, layer_dims=np.array(dims))
        atomic_write(path, write)
    return Features(spec, x, y, dims)


# ---------------------------------------------------------------------------------------------
# The linear L2-SVM: LinearSVC's objective, solved by L-BFGS

def _split(A: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """A (float32, d×K) as [hi, lo] (d×2K) in `dtype`, hi + lo = A to ~16 bits: a bfloat16 W alone
    (8 bits) made the objective a staircase in W and stalled L-BFGS's line search."""
    hi = A.to(dtype)
    return torch.cat([hi, (A - hi.float()).to(dtype)], 1)


def _scores(X: torch.Tensor, W: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """X W + b in float32; a bfloat16 X is multiplied in bfloat16 (fp32 accumulation) by W's hi
    and lo parts in one product (X is read once)."""
    if X.dtype == torch.float32:
        return X @ W.float() + b
    S = (X @ _split(W.float(), X.dtype)).float()
    return S[:, :W.shape[1]] + S[:, W.shape[1]:] + b


def _xt_times(X: torch.Tensor, G: torch.Tensor) -> torch.Tensor:
    """Xᵀ G as (Gᵀ X)ᵀ: row-major friendly, several times faster than X.T @ G on CPU (hi + lo
    parts of G for a bfloat16 X, as in `_scores`)."""
    if X.dtype == torch.float32:
        return (G.T @ X).T
    P = (_split(G, X.dtype).T @ X).float()
    return (P[:G.shape[1]] + P[G.shape[1]:]).T


def svm_objective(X, y, W, b, C: float) -> float:
    """LinearSVC's primal, summed over the one-vs-rest classes: Σ_k ½(‖w_k‖² + b_k²) + C Σ_i max(0, 1 − y_ik s_ik)²."""
    X, W, b = (torch.as_tensor(np.asarray(a, np.float32)) if not torch.is_tensor(a) else a for a in (X, W, b))
    Y = -torch.ones(len(y), W.shape[1])
    Y[torch.arange(len(y)), torch.as_tensor(y)] = 1
    m = (1 - Y * _scores(X if X.dtype == torch.bfloat16 else X.float(), W.float(), b.float())).clamp(min=0)
    return float(0.5 * ((W.float() ** 2).sum() + (b.float() ** 2).sum()) + C * (m ** 2).sum())


def covariance_directions(X: torch.Tensor, rank: int = 2048, rows: int = 8192, seed: int = 0
                          ) -> tuple[torch.Tensor, torch.Tensor]:
    """The top `rank` eigenvectors (d×r, orthonormal) and eigenvalues of X's covariance (X standardised:
    its rows have mean zero), from at most `rows` random rows: exact where the rows are fewer than
    `rank`, else randomised (`torch.svd_lowrank`, seeded). `fit_svm`'s preconditioner."""
    g = torch.Generator().manual_seed(seed)
    S = X[torch.randperm(len(X), generator=g)[:rows]].float()
    if min(S.shape) <= rank:
        _, s, Vh = torch.linalg.svd(S, full_matrices=False)
        V = Vh.T
    else:
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            _, s, V = torch.svd_lowrank(S, q=rank, niter=2)
    return V.contiguous(), s ** 2 / len(S)


def fit_svm(X: torch.Tensor, y: torch.Tensor, C: float, n_classes: int, *, init=None, max_iter: int = 300,
            directions=None) -> tuple[torch.Tensor, torch.Tensor]:
    """One-vs-rest linear L2-SVM (squared hinge, L2 penalty, intercept penalised): LinearSVC's
    problem, minimised by full-batch L-BFGS. X: N×d float32, or bfloat16 for big N×d (# ours: the
    products are memory-bound; bf16 halves the bytes and runs ~5× faster on this CPU). Returns W
    (d×K) and b (K). The objective is divided by C·N (the same minimiser).

    # ours: preconditioned. The Hessian is about λI + 2Σ (λ = 1/(C·N), Σ the features'
    covariance): at large C it is ill-conditioned along Σ's top directions (k-means features:
    eigenvalues up to ~900 against λ ≈ 2e-3). L-BFGS runs on U with W = M U,
    M = λ^-½ (I + V diag(√(λ/(λ + 2σ)) − 1) Vᵀ) for Σ's top eigenpairs (V, σ) (`directions`, else
    `covariance_directions(X)`), which makes those directions' curvature ~1. On 45k k-means rows
    at C = 1e-2: plain L-BFGS stalled after ~700 iterations at an objective of 560, this reaches
    557.4 in 75 (LinearSVC: 556 after 23 min, unconverged). The fit stops at `max_iter` or when the
    line search can improve no further."""
    n, d = X.shape
    y = torch.as_tensor(y)
    Y = -torch.ones(n, n_classes)
    Y[torch.arange(n), y] = 1
    lam = 1.0 / (C * n)
    V, sig = covariance_directions(X) if directions is None else directions
    f = (lam / (lam + 2 * sig)).sqrt() - 1

    def M(A, inverse=False):                      # M A, or M⁻¹ A (V's columns are orthonormal)
        g = 1 / (1 + f) - 1 if inverse else f
        return (A + V @ (g[:, None] * (V.T @ A))) * lam ** (0.5 if inverse else -0.5)

    U = torch.zeros(d, n_classes) if init is None else M(init[0].float(), inverse=True)
    b = torch.zeros(n_classes) if init is None else init[1].clone().float()
    U.requires_grad_(True)
    b.requires_grad_(True)
    opt = torch.optim.LBFGS([U, b], lr=1, max_iter=max_iter, history_size=20, line_search_fn="strong_wolfe",
                            tolerance_grad=1e-9, tolerance_change=1e-12)

    def closure():
        with torch.no_grad():
            W = M(U)
            m = (1 - Y * _scores(X, W, b)).clamp(min=0)
            # Minimise ½λ(‖W‖² + ‖b‖²) + (1/N) Σ max(0, 1 − y s)²; its gradient, by hand (no graph over N×d).
            loss = 0.5 * lam * ((W ** 2).sum() + (b ** 2).sum()) + (m ** 2).sum() / n
            gs = -2 * Y * m / n
            U.grad, b.grad = M(lam * W + _xt_times(X, gs)), lam * b + gs.sum(0)
        return loss

    opt.step(closure)
    return M(U.detach()), b.detach()


def predict(X: torch.Tensor, W: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return _scores(X, W, b).argmax(1)


def _standardise(train: np.ndarray, *others: np.ndarray, bf16_above: float = 0.1) -> list[torch.Tensor]:
    """z-score every array with the training rows' mean and std (# ours); float32, or bfloat16
    where the training rows take more than `bf16_above` GB in float32."""
    t = torch.from_numpy(train)
    mean = torch.zeros(t.shape[1], dtype=torch.float64)
    sq = torch.zeros(t.shape[1], dtype=torch.float64)
    for s in range(0, len(t), 8192):
        xs = t[s:s + 8192].double()
        mean += xs.sum(0)
        sq += (xs ** 2).sum(0)
    mean /= len(t)
    std = (sq / len(t) - mean ** 2).clamp(min=0).sqrt().clamp(min=1e-3).float()
    mean = mean.float()
    dtype = torch.bfloat16 if train.size * 4 / 1e9 > bf16_above else torch.float32
    out = []
    for a in (train, *others):
        a = torch.from_numpy(a)
        z = torch.empty(a.shape, dtype=dtype)
        for s in range(0, len(a), 8192):
            z[s:s + 8192] = ((a[s:s + 8192].float() - mean) / std).to(dtype)
        out.append(z)
    return out


def select_c(x_train, y_train, x_val, y_val, c_grid, *, n_classes: int | None = None, max_iter: int = 300
             ) -> dict:
    """Fit the SVM at each C (strongest regularisation first, warm-started) on standardised
    features; keep the C with the best validation accuracy. Returns C, the fit and the validation
    accuracy per C (the first best on a tie)."""
    n_classes = n_classes or int(max(y_train.max(), y_val.max())) + 1
    xt, xv = _standardise(x_train, x_val)
    yt = torch.as_tensor(y_train)
    fit, best, val = None, None, {}
    directions = covariance_directions(xt)                   # one preconditioner for every C
    for C in sorted(c_grid):
        fit = fit_svm(xt, yt, C, n_classes, init=fit, max_iter=max_iter, directions=directions)
        val[C] = float((predict(xv, *fit).numpy() == y_val).mean())
        if best is None or val[C] > val[best[0]]:
            best = (C, fit)
    return dict(C=best[0], fit=best[1], val_accuracy=val)


def evaluate(train: Features, val: Features, test: Features, c_grid, *, max_iter: int = 300,
             columns=None) -> dict:
    """Train on `train` at every C of `c_grid`, choose C on `val`, report test accuracy (the
    protocol of Table 1). `columns`: layer indices to use (all by default)."""
    pick = (lambda f: f.x) if columns is None else (lambda f: f.layers(columns))
    xt, xv, xs = pick(train), pick(val), pick(test)
    n_classes = int(max(train.y.max(), val.y.max(), test.y.max())) + 1
    sel = select_c(xt, train.y, xv, val.y, c_grid, n_classes=n_classes, max_iter=max_iter)
    zs = _standardise(xt, xs)[1]
    acc = float((predict(zs, *sel["fit"]).numpy() == test.y).mean())
    return dict(accuracy=acc, C=sel["C"], val_accuracy=sel["val_accuracy"], feature_dim=int(xt.shape[1]),
                n_train=len(xt), n_val=len(xv), n_test=len(xs))


def draw_labels(y: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """`per_class` random rows of each class (sorted)."""
    rows = []
    for c in np.unique(y):
        where = np.nonzero(y == c)[0]
        if len(where) < per_class:
            raise DataError(f"class {c} has only {len(where)} training images, fewer than {per_class} per class")
        rows.append(rng.choice(where, per_class, replace=False))
    return np.sort(np.concatenate(rows))


def few_labels(train: Features, val: Features, test: Features, per_class: int, draws: int, c_grid, *,
               seed: int = 0, max_iter: int = 300, columns=None) -> dict:
    """§5.2's protocol: `draws` random label sets of `per_class` per class, test accuracy; mean,
    std and the ±1.96·std the authors report. C is chosen on `val` with the first draw and kept
    for the others (# ours: one choice instead of one per draw, for speed)."""
    rng = np.random.default_rng(seed)
    accs, C = [], None
    for _ in range(draws):
        rows = draw_labels(train.y, per_class, rng)
        sub = Features(train.spec, train.x[rows], train.y[rows], train.layer_dims)
        r = evaluate(sub, val, test, c_grid if C is None else (C,), max_iter=max_iter, columns=columns)
        accs.append(r["accuracy"])
        C = r["C"]
    accs = np.array(accs)
    return dict(mean=float(accs.mean()), std=float(accs.std()), pm=float(1.96 * accs.std()),
                accuracies=accs.tolist(), C=C, per_class=per_class, draws=draws)


# ---------------------------------------------------------------------------------------------
# Table 2's supervised baseline: a CNN of D's architecture trained on the same labels

class Classifier(nn.Module):
    """D's conv layers (random init, N(0, 0.02)) and a linear n-way head on the last one."""

    def __init__(self, D: Discriminator, n_classes: int):
        super().__init__()
        self.layers = D.layers
        c = D.layers[-1][0].out_channels
        self.head = nn.Linear(c * 4 * 4, n_classes)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return self.head(x.flatten(1))


def train_cnn(spec: str, images: torch.Tensor, labels: torch.Tensor, val_images: torch.Tensor,
              val_labels: torch.Tensor, *, epochs: int = 40, seed: int = 0, batch_size: int = 64) -> Classifier:
    """The supervised CNN with D's architecture (of `spec`'s D) trained on uint8 `images`;
    the epoch with the best validation accuracy is kept."""
    D, _ = load_discriminator(spec, seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        _, fresh = build_models_like(D)
        init_weights(fresh, torch.Generator().manual_seed(seed))
        net = Classifier(fresh, int(max(labels.max(), val_labels.max())) + 1)
        opt = torch.optim.Adam(net.parameters(), lr=2e-4, betas=(0.5, 0.999))
        g = torch.Generator().manual_seed(seed)
        best, best_state = -1.0, None
        for _ in range(epochs):
            net.train()
            order = torch.randperm(len(images), generator=g)
            for s in range(0, len(images), batch_size):
                i = order[s:s + batch_size]
                # Minimise the cross-entropy of the true class.
                loss = F.cross_entropy(net(images[i].float() / 127.5 - 1), labels[i])
                opt.zero_grad()
                loss.backward()
                opt.step()
            acc = cnn_accuracy(net, val_images, val_labels)
            if acc > best:
                best, best_state = acc, copy.deepcopy(net.state_dict())
        net.load_state_dict(best_state)
    return net.eval()


def build_models_like(D: Discriminator, width: int | None = None):
    """A fresh G, D pair with `D`'s architecture (and another first width, if given)."""
    cfg = TrainConfig(arch=D.arch, image_size=D.image_size, d_width=width or D.layers[0][0].out_channels,
                      channels=D.channels)
    return build_models(cfg)


@torch.no_grad()
def cnn_accuracy(net: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 500) -> float:
    net.eval()
    pred = torch.cat([net(images[s:s + batch_size].float() / 127.5 - 1).argmax(1)
                      for s in range(0, len(images), batch_size)])
    return float((pred == labels).float().mean())


# ---------------------------------------------------------------------------------------------
# Splits and one classification (the CLI's `classify`)

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
        raise DataError(f"{data.name} needs its images in at least two sub-folders, one per class "
                        f"(found {len(classes) - ('' in classes)} sub-folder(s){' and images at the top' if '' in classes else ''})")
    index = {c: i for i, c in enumerate(classes)}
    return dataclasses.replace(data, labels=torch.tensor([index[n] for n in names]), classes=classes)


def make_split(dataset: str, image_size: int, channels: int, *, n_train=None, n_val=5000, n_test=None,
               test_fraction: float = 0.2, seed: int = 0, progress: bool = False) -> Split:
    """Random (seeded, in random order) train / val rows of the training split and test rows of the test split; a
    dataset without a test split (a folder) holds out `test_fraction` of its images as the test set."""
    from .data import held_out_split
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


def features_for(spec: str, split: Split, *, pool=4, bn="eval", seed=0, batch_size=250, kmeans_k=1600,
                 kmeans_stride=1, kmeans_patches=100_000, progress=False) -> tuple[Features, Features, Features]:
    """Train, val and test features of `spec` on a split (k-means fitted on the training rows)."""
    km = None
    if parse_features(spec)[0] == "kmeans":
        km = fit_kmeans(split.train_data.images[torch.from_numpy(split.train)], kmeans_k, kmeans_patches, seed)
    kw = dict(pool=pool, bn=bn, seed=seed, batch_size=batch_size, kmeans=km, kmeans_stride=kmeans_stride,
              progress=progress)
    return (extract(spec, split.train_data, split.train, **kw), extract(spec, split.train_data, split.val, **kw),
            extract(spec, split.test_data, split.test, **kw))


def classify(features: str, dataset: str, *, labels_per_class: int | None = None, seed: int = 0,
             n_train: int | None = None, n_val: int = 5000, n_test: int | None = None, pool: int = 4,
             bn: str = "eval", c_grid=(1e-5, 1e-4, 1e-3, 1e-2, 1e-1), kmeans_k: int = 1600, kmeans_stride: int = 1,
             progress: bool = False) -> dict:
    """`python -m dcgan_core classify`: features + linear L2-SVM (C on a validation split) on one
    dataset; with `labels_per_class`, trained on that many random labelled images per class."""
    if kmeans_stride < 1:
        raise ValueError(f"kmeans_stride must be at least 1 (Coates & Ng: 1), got {kmeans_stride}")
    size, channels = image_size_for(features, dataset)
    split = make_split(dataset, size, channels, n_train=n_train, n_val=n_val, n_test=n_test, seed=seed,
                       progress=progress)
    start = time.perf_counter()
    tr, va, te = features_for(features, split, pool=pool, bn=bn, seed=seed, kmeans_k=kmeans_k,
                              kmeans_stride=kmeans_stride, progress=progress)
    if labels_per_class is not None:
        rows = draw_labels(tr.y, labels_per_class, np.random.default_rng(seed))
        tr = Features(tr.spec, tr.x[rows], tr.y[rows], tr.layer_dims)
    r = evaluate(tr, va, te, c_grid)
    return dict(features=features, dataset=split.train_data.name, accuracy=r["accuracy"], C=r["C"],
                feature_dim=r["feature_dim"], n_train=r["n_train"], n_val=r["n_val"], n_test=r["n_test"],
                labels_per_class=labels_per_class, seed=seed, pool=pool, bn=bn,
                val_accuracy={str(k): v for k, v in r["val_accuracy"].items()},
                seconds=round(time.perf_counter() - start, 1))


# ---------------------------------------------------------------------------------------------
# Tables 1 and 2 and the ablations, as one function: notebook 03 calls `run`

@dataclasses.dataclass
class RepresentationResult(Result):
    """What `run` measured (saved as build/PROFILE/results/03_representation.json; claims.py reads
    "accuracy.*", "trained_minus_random", "trained_minus_kmeans"). Features stay in memory only."""
    config: RepresentationConfig
    table1: list[dict]              # one row per method: accuracy, few-label mean ± 1.96·std, C, dim, paper
    table2: list[dict]              # one row per (dataset, method): error mean ± 1.96·std over draws, paper
    accuracy: dict[str, float]      # Table 1's full-data accuracy by features spec ("zoo:cifar32", "kmeans", …)
    trained_minus_random: float     # in-domain trained D − the same D with random weights
    trained_minus_kmeans: float     # in-domain trained D − 1-layer k-means
    table2_cnn_minus_dcgan: dict[str, float]   # per dataset: supervised CNN error − DCGAN + SVM error
    table2_error: dict[str, float | None]      # Table 2 itself: DCGAN + SVM error on SVHN (None: SVHN not available)
    controls: dict[str, float]      # what the claims' checks must get wrong (random_minus_random, random_minus_kmeans)
    ablations: dict[str, list[dict]]
    seconds: dict[str, float]
    sets: dict = artifact()         # spec → (train, val, test) Features of Table 1, for the widget


def _spec_name(spec: str) -> str:
    kind, arg = parse_features(spec)
    return {"zoo": f"D of {arg} (trained)", "random": f"D of {arg}, random weights", "path": f"D of {spec}",
            "kmeans": "1-layer k-means (Coates & Ng 2011)", "pixels": "raw pixels"}[kind]


def _zoo_name(spec: str) -> str:
    return parse_features(spec)[1]


def _random_twin(spec: str) -> str:
    kind, arg = parse_features(spec)
    if kind not in ("zoo", "random"):
        raise ValueError(f"{spec!r}: the random twin needs a zoo model")
    return f"random:{arg}"


def run(cfg: RepresentationConfig) -> RepresentationResult:
    """Table 1 (CIFAR-10: full training set and `labels_per_class`), Table 2's 1000-label
    protocol on `table2_datasets`, and the ablations; every features type on the same rows."""
    seconds, clock = {}, time.perf_counter()

    def lap(step, row=None):
        nonlocal clock
        seconds[step], clock = round(time.perf_counter() - clock, 1), time.perf_counter()
        if cfg.progress:      # each row as it is measured (a long run shows what it has)
            print(f"[{seconds[step]:.0f} s] {step}: {json.dumps(row)}", flush=True)

    kw = dict(pool=cfg.pool, bn=cfg.bn, seed=cfg.seed, batch_size=cfg.batch_size, kmeans_k=cfg.kmeans_k,
              kmeans_stride=cfg.kmeans_stride, kmeans_patches=cfg.kmeans_patches, progress=cfg.progress)
    fit_kw = dict(max_iter=cfg.max_iter)
    splits: dict[tuple, Split] = {}

    def split_for(dataset, spec):
        size, channels = image_size_for(spec, dataset)
        if (dataset, size, channels) not in splits:
            splits[dataset, size, channels] = make_split(dataset, size, channels, n_train=cfg.n_train, n_val=cfg.n_val,
                                                         n_test=cfg.n_test, seed=cfg.seed, progress=cfg.progress)
        return splits[dataset, size, channels]

    # --- Table 1 ------------------------------------------------------------------------------
    in_domain = cfg.models[0]
    specs = [*cfg.models, _random_twin(in_domain), "kmeans", "pixels"]
    sets, table1, accuracy = {}, [], {}
    for spec in specs:
        sets[spec] = features_for(spec, split_for(cfg.dataset, spec), **kw)
        full = evaluate(*sets[spec], cfg.c_grid, **fit_kw)
        few = few_labels(*sets[spec], cfg.labels_per_class, cfg.few_draws, cfg.c_grid, seed=cfg.seed, **fit_kw)
        accuracy[spec] = full["accuracy"]
        paper = ("DCGAN (ours) + L2-SVM" if parse_features(spec)[0] in ("zoo", "path") else
                 "1 Layer K-means" if spec == "kmeans" else None)
        table1.append(dict(spec=spec, method=_spec_name(spec), accuracy=full["accuracy"], C=full["C"],
                           feature_dim=full["feature_dim"], n_train=full["n_train"], n_test=full["n_test"],
                           few_mean=few["mean"], few_pm=few["pm"], few_per_class=cfg.labels_per_class,
                           few_draws=cfg.few_draws, paper_row=paper, paper=PAPER_TABLE1.get(paper),
                           paper_few=PAPER_TABLE1_400.get(paper, (None, None))[0]))
        lap(f"table1 {spec}", table1[-1])

    # --- Table 2: 1000 labels, many draws; the supervised CNN of D's architecture --------------
    table2, cnn_gap = [], {}
    for dataset, model in zip(cfg.table2_datasets, cfg.table2_models):
        errors = {}
        for spec in (model, _random_twin(model), "kmeans", "pixels"):
            split = split_for(dataset, spec)
            fs = sets[spec] if dataset == cfg.dataset and spec in sets else features_for(spec, split, **kw)
            few = few_labels(*fs, cfg.table2_per_class, cfg.table2_draws, cfg.c_grid, seed=cfg.seed, **fit_kw)
            errors[spec] = 1 - few["mean"]
            table2.append(dict(dataset=dataset, spec=spec, method=_spec_name(spec) + " + L2-SVM", error=1 - few["mean"],
                               pm=few["pm"], draws=cfg.table2_draws, labels=cfg.table2_per_class * len(np.unique(fs[0].y)),
                               paper=PAPER_TABLE2["DCGAN (ours) + L2-SVM"] if spec == model else None))
            lap(f"table2 {dataset} {spec}", table2[-1])
        if cfg.cnn_draws:
            split = split_for(dataset, model)
            tr_imgs, tr_y = split.train_data.images, split.train_data.labels
            val_imgs, val_y = tr_imgs[torch.from_numpy(split.val)], tr_y[torch.from_numpy(split.val)]
            test_imgs = split.test_data.images[torch.from_numpy(split.test)]
            test_y = split.test_data.labels[torch.from_numpy(split.test)]
            rng, accs = np.random.default_rng(cfg.seed), []
            for draw in range(cfg.cnn_draws):
                rows = torch.from_numpy(split.train[draw_labels(tr_y[torch.from_numpy(split.train)].numpy(),
                                                                cfg.table2_per_class, rng)])
                net = train_cnn(model, tr_imgs[rows], tr_y[rows], val_imgs, val_y, epochs=cfg.cnn_epochs,
                                seed=cfg.seed + draw)
                accs.append(cnn_accuracy(net, test_imgs, test_y))
            err = 1 - float(np.mean(accs))
            cnn_gap[dataset] = err - errors[model]
            table2.append(dict(dataset=dataset, spec=f"cnn:{_zoo_name(model)}", method="supervised CNN, D's architecture",
                               error=err, pm=float(1.96 * np.std(accs)), draws=cfg.cnn_draws,
                               labels=cfg.table2_per_class * len(np.unique(tr_y.numpy())),
                               paper=PAPER_TABLE2["Supervised CNN with the same architecture"]))
            lap(f"table2 {dataset} cnn", table2[-1])

    # --- Ablations, on `ablation_n_train` training rows ------------------------------------------
    ablations = {}
    if cfg.ablations:
        small = ablation_rows

        def row(fs, **extra):
            r = evaluate(*small(fs, cfg), cfg.c_grid, **fit_kw)
            return dict(extra, accuracy=r["accuracy"], C=r["C"], feature_dim=r["feature_dim"])

        split = split_for(cfg.dataset, in_domain)
        n_layers = len(sets[in_domain][0].layer_dims)
        ablations["layers"] = [dict(row(sets[s], layers="all"), spec=s) for s in (in_domain, _random_twin(in_domain))]
        for s in (in_domain, _random_twin(in_domain)):
            for i in range(n_layers):
                tr, va, te = small(sets[s], cfg)
                r = evaluate(tr, va, te, cfg.c_grid, columns=[i], **fit_kw)
                ablations["layers"].append(dict(layers=str(i + 1), spec=s, accuracy=r["accuracy"], C=r["C"],
                                                feature_dim=r["feature_dim"]))
        lap("ablation layers", ablations["layers"])
        sub = ablation_split(split, cfg)
        ablations["pool"] = [row(features_for(in_domain, sub, **{**kw, "pool": p}), pool=p) for p in (1, 2, 4)]
        lap("ablation pool", ablations["pool"])
        ablations["bn"] = [row(features_for(s, sub, **{**kw, "bn": b}), bn=b, spec=s)
                           for s in (in_domain, _random_twin(in_domain)) for b in ("eval", "batch")]
        lap("ablation bn", ablations["bn"])
        # Training length: random init (step 0), the checkpoints kept along each of `training_runs` (runs of
        # D's architecture, train --keep-every, any width), and the in-domain D at its final step.
        D0, _ = load_discriminator(in_domain)
        w0 = D0.layers[0][0].out_channels
        ablations["training"] = [dict(row(sets[_random_twin(in_domain)]), step=0, run=in_domain, width=w0)]
        for run_dir in cfg.training_runs:
            for path in RunDir(run_dir).step_checkpoints():
                D, _ = load_discriminator(str(path))
                ablations["training"].append(dict(row(features_for(str(path), sub, **kw)), run=run_dir,
                                                  step=int(path.stem.split("_")[1]), width=D.layers[0][0].out_channels))
        ablations["training"].append(dict(row(sets[in_domain]), step=manifest(ZOO_DIR)[_zoo_name(in_domain)]["steps"],
                                          run=in_domain, width=w0))
        lap("ablation training", ablations["training"])
        # Width: random D's of each width show what width alone gives; trained: the in-domain D and the last
        # checkpoint of each training run.
        ablations["width"] = []
        for w in (32, 64, 128):
            _, Dw = build_models_like(D0, width=w)
            init_weights(Dw, torch.Generator().manual_seed(cfg.seed))
            ablations["width"].append(row(_direct(Dw.eval(), sub, cfg, f"random width {w}"), width=w, trained=False))
        last = {r["run"]: r for r in ablations["training"][1:]}       # each run's last step (the zoo D's too)
        ablations["width"] += [dict(r, trained=True) for r in sorted(last.values(), key=lambda r: r["width"])]
        lap("ablation width", ablations["width"])

    # Controls: a second random init against the random twin (on the ablations' rows: "trained" must beat
    # random by more than two random inits differ), and the random D in place of the trained one against k-means.
    twin = _random_twin(in_domain)
    D1, _ = load_discriminator(twin, cfg.seed + 1)
    other = _direct(D1, ablation_split(split_for(cfg.dataset, in_domain), cfg), cfg, f"{twin} (seed {cfg.seed + 1})")
    controls = dict(random_minus_random=evaluate(*other, cfg.c_grid, **fit_kw)["accuracy"]
                    - evaluate(*ablation_rows(sets[twin], cfg), cfg.c_grid, **fit_kw)["accuracy"],
                    random_minus_kmeans=accuracy[twin] - accuracy["kmeans"])
    lap("controls", controls)

    trained, rand = accuracy[in_domain], accuracy[twin]
    return RepresentationResult(
        config=cfg, table1=table1, table2=table2, accuracy=accuracy, trained_minus_random=trained - rand,
        trained_minus_kmeans=trained - accuracy["kmeans"], table2_cnn_minus_dcgan=cnn_gap,
        table2_error={"svhn": None}, controls=controls, ablations=ablations, seconds=seconds, sets=sets)


def ablation_split(split: Split, cfg: RepresentationConfig) -> Split:
    """The ablations' rows: the first `ablation_n_train` training rows and `ablation_n_eval` of the
    validation and test rows (the order is random: a random subset)."""
    m = cfg.ablation_n_eval
    return dataclasses.replace(split, train=split.train[:cfg.ablation_n_train], val=split.val[:m], test=split.test[:m])


def ablation_rows(fs: tuple[Features, Features, Features], cfg: RepresentationConfig):
    """The same subset of already extracted (train, val, test) features."""
    m = cfg.ablation_n_eval
    return tuple(Features(f.spec, f.x[:n], f.y[:n], f.layer_dims)
                 for f, n in zip(fs, (cfg.ablation_n_train, m, m)))


def _direct(D: Discriminator, split: Split, cfg: RepresentationConfig, name: str):
    """(train, val, test) Features of an in-memory D on a split's rows (no cache: such a D has no file)."""
    out = []
    for data, rows in ((split.train_data, split.train), (split.train_data, split.val), (split.test_data, split.test)):
        x, dims = d_features(D, data.images[torch.from_numpy(rows)], pool=cfg.pool, bn=cfg.bn,
                             batch_size=cfg.batch_size, seed=cfg.seed)
        out.append(Features(name, x, data.labels[torch.from_numpy(rows)].numpy(), dims))
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# Tables and figures

def _pct(v):
    return "—" if v is None else f"{100 * v:.1f}%"


def table1_markdown(result: RepresentationResult) -> str:
    """Table 1 with the paper's rows beside ours: accuracy on all labels and on a few per class."""
    cfg = result.config
    rows = ["| method | paper | ours | Δ vs paper | paper, 400/class | ours, "
            f"{cfg.labels_per_class}/class (mean ± 1.96·std, {cfg.few_draws} draws) | dim | C |",
            "|---|---|---|---|---|---|---|---|"]
    ours_rows = {r["paper_row"] for r in result.table1}
    for name, acc in PAPER_TABLE1.items():
        if name not in ours_rows:
            rows.append(f"| {name} | {_pct(acc)} | not run | | {_pct(PAPER_TABLE1_400[name][0])} | | | |")
    for r in result.table1:
        delta = "" if r["paper"] is None else f"{100 * (r['accuracy'] - r['paper']):+.1f}"
        rows.append(f"| {r['method']} | {_pct(r['paper'])} | {_pct(r['accuracy'])} | {delta} | {_pct(r['paper_few'])} | "
                    f"{_pct(r['few_mean'])} ± {100 * r['few_pm']:.1f} | {r['feature_dim']:,} | {r['C']:g} |")
    return "\n".join(rows)


def table2_markdown(result: RepresentationResult) -> str:
    """Table 2's protocol: test error with 1000 labels, mean ± 1.96·std over draws (stand-in datasets)."""
    rows = ["| dataset | method | paper (SVHN) | ours (error) | Δ vs paper | draws |", "|---|---|---|---|---|---|"]
    for r in result.table2:
        delta = "" if r["paper"] is None else f"{100 * (r['error'] - r['paper']):+.1f}"
        rows.append(f"| {r['dataset']} (stand-in) | {r['method']} | {_pct(r['paper'])} | {_pct(r['error'])} ± "
                    f"{100 * r['pm']:.1f} | {delta} | {r['draws']} |")
    return "\n".join(rows)


def ablation_figure(result: RepresentationResult):
    """Accuracy per layer, pooling grid, BN mode, width and training length (one panel each)."""
    import matplotlib.pyplot as plt
    ab = result.ablations
    fig, axes = plt.subplots(1, 5, figsize=(17, 3.4))
    ax = axes[0]
    for spec in dict.fromkeys(r["spec"] for r in ab["layers"]):
        rs = [r for r in ab["layers"] if r["spec"] == spec]
        ax.plot([r["layers"] for r in rs], [r["accuracy"] for r in rs], "o-", label=_spec_name(spec))
    ax.set_title("layers used")
    ax.legend(fontsize=7)
    axes[1].bar([f"{r['pool']}×{r['pool']}" for r in ab["pool"]], [r["accuracy"] for r in ab["pool"]])
    axes[1].set_title("max-pool grid per layer")
    axes[2].bar([f"{'trained' if r['spec'].startswith('zoo') else 'random'}\n{r['bn']}" for r in ab["bn"]],
                [r["accuracy"] for r in ab["bn"]], color=["C0", "C0", "C1", "C1"])
    axes[2].set_title("BN: running vs batch statistics")
    # trained bars named by their run (or zoo entry): two of one width stay two bars
    axes[3].bar([f"{r['width']}\n{Path(r['run']).name}" if r["trained"] else str(r["width"]) for r in ab["width"]],
                [r["accuracy"] for r in ab["width"]], color=["C0" if r["trained"] else "C1" for r in ab["width"]])
    axes[3].set_title("D's first width (random; trained)")
    axes[3].tick_params(axis="x", labelsize=7, labelrotation=35)
    zoo_run = ab["training"][0]["run"]
    ends = [r for r in ab["training"] if r["run"] == zoo_run]                    # random init, the zoo's D
    axes[4].plot([r["step"] for r in ends], [r["accuracy"] for r in ends], "s--", color="C1", label="zoo D (step 0: random)")
    for i, run_dir in enumerate(dict.fromkeys(r["run"] for r in ab["training"] if r["run"] != zoo_run)):
        along = [r for r in ab["training"] if r["run"] == run_dir]
        axes[4].plot([r["step"] for r in along], [r["accuracy"] for r in along], "o-", color=f"C{i + 2}",
                     label=f"kept along {Path(run_dir).name} (width {along[0]['width']})")
    axes[4].legend(fontsize=7)
    axes[4].set_title("training steps of D")
    axes[4].set_xlabel("step")
    lo = min(r["accuracy"] for rs in ab.values() for r in rs)
    for a in axes:
        a.set_ylim(max(0, lo - 0.05), None)
        a.grid(alpha=0.3)
    axes[0].set_ylabel(f"test accuracy ({result.config.ablation_n_train:,} training images)")
    fig.tight_layout()
    return fig


def table1_figure(result: RepresentationResult):
    """Table 1 as bars: ours (all labels, few labels) beside the paper's rows."""
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(9, 3.8))
    rows = result.table1
    x = np.arange(len(rows))
    ax.bar(x - 0.2, [r["accuracy"] for r in rows], 0.4, label="ours, all labels")
    ax.bar(x + 0.2, [r["few_mean"] for r in rows], 0.4, yerr=[r["few_pm"] for r in rows],
           label=f"ours, {result.config.labels_per_class}/class")
    for i, r in enumerate(rows):
        if r["paper"] is not None:
            ax.plot([i - 0.4, i], [r["paper"]] * 2, "k--", lw=1.2)
    ax.plot([], [], "k--", label="paper (its row)")
    ax.set_xticks(x, [r["method"].replace(" (", "\n(") for r in rows], fontsize=7)
    ax.set_ylabel(f"{result.config.dataset} test accuracy")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return fig


def table2_figure(result: RepresentationResult):
    """Table 2's protocol: error with 1000 labels per method and dataset (bars ± 1.96·std)."""
    import matplotlib.pyplot as plt
    datasets = list(dict.fromkeys(r["dataset"] for r in result.table2))
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.5 * len(datasets), 3.6), squeeze=False)
    for ax, ds in zip(axes[0], datasets):
        rs = [r for r in result.table2 if r["dataset"] == ds]
        ax.bar(range(len(rs)), [r["error"] for r in rs], yerr=[r["pm"] for r in rs])
        ax.set_xticks(range(len(rs)), [r["method"].replace(" + ", "\n+ ").replace(", ", ",\n") for r in rs], fontsize=6)
        ax.axhline(PAPER_TABLE2["DCGAN (ours) + L2-SVM"], color="k", ls="--", lw=1, label="paper SVHN: DCGAN 22.48%")
        ax.axhline(PAPER_TABLE2["Supervised CNN with the same architecture"], color="r", ls=":", lw=1,
                   label="paper SVHN: CNN 28.87%")
        ax.set_title(f"{ds} (stand-in for SVHN), {rs[0]['labels']} labels")
        ax.set_ylabel("test error")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def subset_accuracy(sets: dict, spec: str, layers, per_class: int | None, c_grid, seed: int = 0,
                    max_iter: int = 100) -> dict:
    """Accuracy of `spec`'s cached features using only `layers`, trained on `per_class` random labels
    per class (None: all): what the notebook's widget shows."""
    tr, va, te = sets[spec]
    if per_class is not None:
        rows = draw_labels(tr.y, per_class, np.random.default_rng(seed))
        tr = Features(tr.spec, tr.x[rows], tr.y[rows], tr.layer_dims)
    return evaluate(tr, va, te, c_grid, max_iter=max_iter, columns=list(layers))
