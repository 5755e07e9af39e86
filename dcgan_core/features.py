"""§5's features: D's conv layers max-pooled to a grid, and the baselines (pixels, a random-weight D,
1-layer k-means), computed in batches and cached. `representation` classifies them (see its docstring)."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .checkpoint import checkpoint_file
from .data import ImageData, cache_root
from .files import atomic_write
from .models import Discriminator, build_models, init_weights
from .pretrained import ZOO_DIR, load_models, manifest, require_discriminator, sha256

_FEATURE_VERSION = 2  # bump when extraction changes, so old caches are not reused

# ---------------------------------------------------------------------------------------------
# Features


def parse_features(spec: str) -> tuple[str, str]:
    """ "zoo:cifar32" → ("zoo", "cifar32"); "random:cifar32"; "pixels"; "kmeans"; a checkpoint file or a run
    folder → ("path", its checkpoint file)."""
    spec = str(spec).strip()
    if spec in ("pixels", "kmeans"):
        return spec, ""
    kind, colon, arg = spec.partition(":")
    if colon and kind in ("zoo", "random"):
        if arg not in manifest(ZOO_DIR):
            raise ValueError(
                f"unknown zoo model {arg!r} in --features {spec!r}; the zoo has {sorted(manifest(ZOO_DIR))}"
            )
        return kind, arg
    if Path(spec).exists():  # a checkpoint file, or a run folder: its checkpoint
        return "path", str(checkpoint_file(spec))
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
def d_features(
    D: Discriminator,
    images: torch.Tensor,
    *,
    pool: int = 4,
    bn: str = "eval",
    batch_size: int = 250,
    seed: int = 0,
    progress: bool = False,
) -> tuple[np.ndarray, list[int]]:
    """§5.1: every conv layer of D on uint8 `images`, each max-pooled to pool×pool, flattened and
    concatenated: float16 N×dim, and each layer's width in that vector (layer_dims)."""
    D = copy.deepcopy(D).float().to(memory_format=torch.contiguous_format)
    if bn == "batch":  # batch statistics, the running ones left untouched (momentum 0)
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
        idx = order[s : s + batch_size]
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


@dataclasses.dataclass(frozen=True)
class KMeansRecipe:
    """Every choice of the 1-layer k-means baseline, Coates & Ng's value beside ours where they differ
    (their kmeans_demo.m). Notebook 03 changes each alone (`representation.kmeans_ablation`)."""

    k: int = 1600  # centroids; 4·k features
    patches: int = 100_000  # random 6×6 patches to fit on (Coates & Ng: 400,000)
    iters: int = 20  # Lloyd iterations (Coates & Ng: 50)
    whiten_eps: float = 0.1  # ZCA: eigenvalues + ε (Coates & Ng: 0.1)
    norm_eps: float = 10.0  # per patch: (p − mean) / sqrt(var + ε), pixels 0..255 (Coates & Ng: 10)
    empty: str = "reseed"  # an empty cluster becomes a random patch; "zero": a zero centroid (Coates & Ng)
    pool: str = "sum"  # per quadrant: "sum" (Coates & Ng) or "max"
    stride: int = 1  # feature stride (Coates & Ng: 1)
    patch: int = 6  # receptive field (Coates & Ng: 6)

    def __post_init__(self):
        if self.empty not in ("reseed", "zero") or self.pool not in ("sum", "max"):
            raise ValueError(
                f"k-means empty must be reseed or zero and pool sum or max, got {self.empty!r}, {self.pool!r}"
            )
        if min(self.k, self.patches, self.iters, self.stride, self.patch) < 1:
            raise ValueError(f"k-means k, patches, iters, stride and patch must be at least 1: {self}")


def parse_recipe(text: str, **defaults) -> KMeansRecipe:
    """ "iters=50,patches=400000,empty=zero" → that KMeansRecipe (the fields not named: `defaults`, else ours)."""
    fields = {f.name: f.type for f in dataclasses.fields(KMeansRecipe)}
    changes = dict(defaults)
    for item in filter(None, (t.strip() for t in text.split(","))):
        name, eq, value = item.partition("=")
        if not eq or name.strip() not in fields:
            raise ValueError(f"k-means recipe item {item!r} must be NAME=VALUE with NAME one of {', '.join(fields)}")
        kind = {"int": int, "float": float}.get(fields[name.strip()], str)
        try:
            changes[name.strip()] = kind(value.strip())
        except ValueError:
            raise ValueError(
                f"k-means recipe item {item!r}: {value.strip()!r} is not a{'n' * (kind is int)} {kind.__name__}"
            ) from None
    return KMeansRecipe(**changes)


@dataclasses.dataclass
class KMeans:
    """6×6 patches, each brightness/contrast normalised, ZCA-whitened; K centroids."""

    mean: torch.Tensor  # of the normalised patches, (p,)
    whiten: torch.Tensor  # ZCA matrix, p×p
    centroids: torch.Tensor  # K×p
    recipe: KMeansRecipe = KMeansRecipe()

    def key(self) -> str:
        """What the features depend on (the feature cache's key)."""
        h = hashlib.sha1()
        for t in (self.mean, self.whiten, self.centroids):
            h.update(t.numpy().tobytes())
        return f"{h.hexdigest()}-{self.recipe.norm_eps}-{self.recipe.pool}-{self.recipe.stride}"


def normalise_patches(p: torch.Tensor, eps: float = 10.0) -> torch.Tensor:
    """Per patch: subtract its mean, divide by sqrt(var + eps) (pixels 0..255; Coates & Ng: eps = 10)."""
    return (p - p.mean(1, keepdim=True)) / (p.var(1, keepdim=True) + eps).sqrt()


def fit_kmeans(images: torch.Tensor, recipe: KMeansRecipe = KMeansRecipe(), seed: int = 0) -> KMeans:
    """Random patches of uint8 `images`, normalised and ZCA-whitened, then Lloyd's k-means (`recipe`)."""
    r, g = recipe, torch.Generator().manual_seed(seed)
    n, c, h, w = images.shape
    i = torch.randint(n, (r.patches,), generator=g)
    y = torch.randint(h - r.patch + 1, (r.patches,), generator=g)
    x = torch.randint(w - r.patch + 1, (r.patches,), generator=g)
    rows = torch.arange(r.patch)
    p = images[
        i[:, None, None, None],
        torch.arange(c)[None, :, None, None],
        (y[:, None] + rows)[:, None, :, None],
        (x[:, None] + rows)[:, None, None, :],
    ].float()
    p = normalise_patches(p.reshape(r.patches, -1), r.norm_eps)
    mean = p.mean(0)
    e, v = torch.linalg.eigh(torch.cov((p - mean).T))
    whiten = v @ torch.diag(1 / (e + r.whiten_eps).sqrt()) @ v.T
    p = (p - mean) @ whiten
    cent = p[torch.randperm(r.patches, generator=g)[: r.k]].clone()
    for _ in range(r.iters):
        # nearest centroid: argmin_k ‖c_k‖² − 2 p·c_k (‖p‖² is the same for every k), 50k patches at a time
        c2, ct = (cent * cent).sum(1), cent.T.contiguous()
        assign = torch.cat(
            [torch.addmm(c2, p[s : s + 50_000], ct, alpha=-2).argmin(1) for s in range(0, r.patches, 50_000)]
        )
        sums = torch.zeros_like(cent).index_add_(0, assign, p)
        counts = torch.bincount(assign, minlength=r.k).float()
        refill = p[torch.randint(r.patches, (r.k,), generator=g)] if r.empty == "reseed" else torch.zeros_like(cent)
        cent = torch.where((counts == 0)[:, None], refill, sums / counts.clamp(min=1)[:, None])
    return KMeans(mean, whiten, cent, recipe)


@torch.no_grad()
def kmeans_features(km: KMeans, images: torch.Tensor, batch_size: int = 50, progress: bool = False) -> np.ndarray:
    """Coates & Ng's features: the "triangle" activation f_k = max(0, mean_j(z_j) − z_k), z_k the
    distance of a whitened patch to centroid k, at every position (the recipe's stride), pooled
    (sum, or max) over the four quadrants: float16 N×4K."""
    r = km.recipe
    k, out = len(km.centroids), np.empty((len(images), 4 * len(km.centroids)), np.float16)
    # ‖p − c‖² = ‖p‖² − 2 p·c + ‖c‖² as one product: [p, ‖p‖², 1] · [−2cᵀ; 1; ‖c‖²] (# ours: a separate
    # (B·L)×K bias for addmm was one more full pass over the largest array; 1.45× on this step, same values)
    cent = km.centroids
    ct = torch.cat([-2 * cent.T, torch.ones(1, k), (cent**2).sum(1)[None]]).contiguous()
    pool = (lambda t: t.sum(1)) if r.pool == "sum" else (lambda t: t.amax(1))
    for s in tqdm(range(0, len(images), batch_size), desc="k-means features", disable=not progress):
        x = images[s : s + batch_size].float()
        p = F.unfold(x, r.patch, stride=r.stride)  # B×p×L
        b, _, L = p.shape
        side = int(math.isqrt(L))
        p = (normalise_patches(p.transpose(1, 2).reshape(b * L, -1), r.norm_eps) - km.mean) @ km.whiten
        p = torch.cat([p, (p * p).sum(1, keepdim=True), torch.ones(len(p), 1)], 1)
        # (B·L)×K distances and activations, in place: at stride 1 the time goes to these passes
        z = (p @ ct).clamp_(min=0).sqrt_()
        f = torch.sub(z.mean(1, keepdim=True), z, out=z).clamp_(min=0).view(b, side, side, k)
        half = side // 2
        top, bottom = pool(f[:, :half]), pool(f[:, half:])  # B×side×K: rows first
        out[s : s + b] = torch.cat(
            [pool(top[:, :half]), pool(top[:, half:]), pool(bottom[:, :half]), pool(bottom[:, half:])], 1
        ).numpy()
    return out


# --- one entry point, cached ------------------------------------------------------------------


@dataclasses.dataclass
class Features:
    """Features of some images of one dataset split, with their labels."""

    spec: str
    x: np.ndarray  # float16 N×dim
    y: np.ndarray  # int64 N
    layer_dims: list[int]  # widths of the blocks of x, input side first (one block for pixels, k-means)

    @property
    def dim(self) -> int:
        return self.x.shape[1]

    def layers(self, which) -> np.ndarray:
        """The columns of the chosen layers (indices into layer_dims)."""
        edges = np.cumsum([0] + self.layer_dims)
        return np.concatenate([self.x[:, edges[i] : edges[i + 1]] for i in sorted(which)], 1)


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


def extract(
    spec: str,
    data: ImageData,
    index: np.ndarray,
    *,
    pool: int = 4,
    bn: str = "eval",
    seed: int = 0,
    batch_size: int = 250,
    kmeans: KMeans | None = None,
    cache: bool = True,
    progress: bool = False,
) -> Features:
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
        what = [kmeans.key()]
    else:
        what = []
    key = json.dumps(
        [_FEATURE_VERSION, spec, data.name, tuple(data.images.shape), *what, hashlib.sha1(index.tobytes()).hexdigest()]
    )
    slug = "".join(ch if ch.isalnum() else "-" for ch in f"{spec}-{data.name}")[-60:]
    path = cache_root() / "cache" / f"repr-{slug}-{len(index)}-{hashlib.sha1(key.encode()).hexdigest()[:12]}.npz"
    if cache and path.is_file():
        with np.load(path) as z:
            return Features(spec, z["x"], z["y"], z["layer_dims"].tolist())
    images = data.images[torch.from_numpy(index)]
    if kind == "pixels":
        x, dims = pixel_features(images), [int(np.prod(images.shape[1:]))]
    elif kind == "kmeans":
        x = kmeans_features(kmeans, images, progress=progress)
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


def spec_name(spec: str) -> str:
    """A features spec as a table's method name: "zoo:cifar32" → "D of cifar32 (trained)"."""
    kind, arg = parse_features(spec)
    return {
        "zoo": f"D of {arg} (trained)",
        "random": f"D of {arg}, random weights",
        "path": f"D of {spec}",
        "kmeans": "1-layer k-means (Coates & Ng 2011)",
        "pixels": "raw pixels",
    }[kind]


def random_twin(spec: str) -> str:
    """A zoo D's architecture with fresh weights: "zoo:cifar32" → "random:cifar32" (the trained D's control)."""
    kind, arg = parse_features(spec)
    if kind not in ("zoo", "random"):
        raise ValueError(f"{spec!r}: the random twin needs a zoo model")
    return f"random:{arg}"
