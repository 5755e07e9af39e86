"""
# Semantic hashing: §4.1.1's de-duplication method

Radford, Metz & Chintala (2015), [arXiv 1511.06434](https://arxiv.org/abs/1511.06434), §4.1.1:

> "To further decrease the likelihood of the generator memorizing input examples (Fig. 2) we
> perform a simple image de-duplication process. We fit a 3072-128-3072 de-noising dropout
> regularized RELU autoencoder on 32x32 downsampled center-crops of training examples. The
> resulting code layer activations are then binarized via thresholding the ReLU activation which
> has been shown to be an effective information preserving technique (Srivastava et al., 2014)
> and provides a convenient form of semantic-hashing, allowing for linear time de-duplication.
> Visual inspection of hash collisions showed high precision with an estimated false positive
> rate of less than 1 in 100. Additionally, the technique detected and removed approximately
> 275,000 near duplicates, suggesting a high recall."

The paper leaves these open; our choices are `dedup.DedupConfig` fields (the `dedup` command's
flags, notebook 02's parameters):

- **noise** — additive Gaussian noise of σ = 0.2 on pixels in [-1, 1] (`noise="mask"` instead
  zeroes a fraction of the inputs, the classic de-noising autoencoder corruption).
- **dropout** — p = 0.2 on the 128 code units, during training only. It matters: without it,
  longer training makes most units active on every image and unrelated images collide (measured
  on 5,800 CIFAR-10 images after 30 epochs: precision 0.02 without dropout, 1.00 with it).
- **threshold** — 0: bit j is 1 where ReLU unit j is active at all. This is the literal reading
  of "thresholding the ReLU activation", and it does not depend on the scale the codes happen to
  train to. Thresholds up to ~0.3 measure the same; higher ones set too few bits, and images
  whose codes are mostly small collide.
- **training** — Adam (lr 1e-3), batch 128, mean squared error to the clean image; 3 epochs at
  `smoke`, 10 at `cpu` and `paper`. The decoder is linear.
- **radius** — 0 is the paper's method: images collide when all 128 bits are equal, found with one
  dict in linear time. R > 0 also joins hashes within Hamming distance R, found by multi-index
  hashing (split the bits into R + 1 chunks: two hashes within distance R agree exactly on at least
  one chunk), and takes connected components. That is linear while chunk buckets stay small and
  quadratic in a bucket's size otherwise.

This module sits below `dedup` and does not import it: the functions take the config duck-typed.
`train_autoencoder` reads `cfg.code_bits`, `dropout`, `noise`, `noise_level`, `epochs`,
`batch_size`, `lr`, `seed` and `progress`; `deduplicate` those and `threshold` and `radius`;
`run_dedup` those and `dataset`, `limit` and `to_dict()`.

`run_dedup` is the `dedup` command: it de-duplicates a dataset for training (`train --keep
OUT/kept.json`) and draws the largest groups with `collisions_figure`. `dedup.py` measures the
method where the truth is known (injected near-duplicates, three baselines, the time against N).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .data import load_dataset, to_unit_range
from .files import write_json

_POPCOUNT = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1).sum(1, dtype=np.uint8)  # bits set per byte


# ---------------------------------------------------------------------------------------------
# The autoencoder: 3072 → 128 ReLU → 3072


class HashAutoencoder(nn.Module):
    """§4.1.1's "3072-128-3072 … RELU autoencoder": one ReLU code layer whose units become hash bits."""

    def __init__(self, n_in: int = 3 * 32 * 32, n_code: int = 128, dropout: float = 0.2):
        super().__init__()
        self.encoder = nn.Linear(n_in, n_code)  # N×3072 → N×128
        self.dropout = nn.Dropout(dropout)  # "dropout regularized": drops code units while training
        self.decoder = nn.Linear(n_code, n_in)  # N×128 → N×3072

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.encoder(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.dropout(self.encode(x)))


def pixel_vectors(images: torch.Tensor) -> torch.Tensor:
    """uint8 N×3×32×32 → float32 N×3072 in [-1, 1]: the 32×32 center crops, flattened."""
    return to_unit_range(images).flatten(1)


def check_images(images: torch.Tensor) -> None:
    if images.dtype != torch.uint8 or images.ndim != 4 or tuple(images.shape[1:]) != (3, 32, 32):
        raise ValueError(
            f"dedup hashes uint8 N×3×32×32 images (load_dataset(name, 32, channels=3)), "
            f"got {images.dtype} {tuple(images.shape)}"
        )
    if len(images) == 0:
        raise ValueError("there are no images to de-duplicate")


def corrupt(x: torch.Tensor, noise: str, level: float, gen: torch.Generator) -> torch.Tensor:
    """The de-noising autoencoder's input: x with Gaussian noise added, or a fraction of it zeroed."""
    if noise == "gaussian":
        return x + level * torch.randn(x.shape, generator=gen)
    if noise == "mask":
        return x * (torch.rand(x.shape, generator=gen) >= level)
    return x


def train_autoencoder(images: torch.Tensor, cfg: Any) -> tuple[HashAutoencoder, list[float]]:
    """Fit the autoencoder to `images` (uint8 N×3×32×32); returns it (in eval mode) and each
    epoch's mean training loss. Seeded: the same images and config give the same weights."""
    check_images(images)
    batch = min(cfg.batch_size, len(images))  # a dataset smaller than a batch is one batch
    gen = torch.Generator().manual_seed(cfg.seed)
    losses = []
    with torch.random.fork_rng(devices=[]):  # seed init and dropout without touching the caller's RNG
        torch.manual_seed(cfg.seed)
        model = HashAutoencoder(3 * 32 * 32, cfg.code_bits, cfg.dropout)
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        for _ in tqdm(range(cfg.epochs), desc="autoencoder", unit="epoch", disable=not cfg.progress):
            order, total = torch.randperm(len(images), generator=gen), 0.0
            for start in range(0, len(images), batch):
                x = pixel_vectors(images[order[start : start + batch]])
                # Minimise ‖decoder(dropout(encode(x + noise))) − x‖²: reconstruct the clean image.
                loss = F.mse_loss(model(corrupt(x, cfg.noise, cfg.noise_level, gen)), x)
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += loss.item() * len(x)
            losses.append(total / len(images))
    return model.eval(), losses


@torch.no_grad()
def reconstruction_loss(model: HashAutoencoder, images: torch.Tensor) -> float:
    """Mean squared error of the clean reconstruction (no noise, no dropout)."""
    x = pixel_vectors(images)
    return F.mse_loss(model.eval()(x), x).item()


@torch.no_grad()
def encode(
    model: HashAutoencoder, images: torch.Tensor, index: torch.Tensor | None = None, batch: int = 4096
) -> torch.Tensor:
    """The code layer's ReLU activations of `images[index]` (all by default), float32 N×128."""
    model.eval()
    index = torch.arange(len(images)) if index is None else index
    return torch.cat([model.encode(pixel_vectors(images[index[s : s + batch]])) for s in range(0, len(index), batch)])


# ---------------------------------------------------------------------------------------------
# Hashing and grouping


def hash_codes(codes: torch.Tensor | np.ndarray, threshold: float) -> np.ndarray:
    """§4.1.1's binarization: bit j is [activation j > threshold], packed 8 to a byte (N×16 uint8)."""
    return np.packbits(np.asarray(codes) > threshold, axis=1)


def hash_keys(hashes: np.ndarray) -> list[bytes]:
    """Each row of a packed-bit array as one `bytes` (a dict key)."""
    hashes = np.ascontiguousarray(hashes, dtype=np.uint8)
    return hashes.view(np.dtype((np.void, hashes.shape[1]))).ravel().tolist()


def group_hashes(hashes: np.ndarray, radius: int = 0) -> list[list[int]]:
    """Groups (size ≥ 2, each sorted, in order of their first image) of rows whose hashes are equal,
    or for `radius` > 0 linked by chains of hashes at most `radius` bits apart."""
    buckets = defaultdict(list)  # one pass over the hashes: linear time (§4.1.1)
    for i, key in enumerate(hash_keys(hashes)):
        buckets[key].append(i)
    members = list(buckets.values())
    if radius > 0:
        members = [
            list(itertools.chain.from_iterable(members[u] for u in part))
            for part in _near_hashes(list(buckets), radius)
        ]
    return sorted((sorted(m) for m in members if len(m) > 1), key=lambda m: m[0])


def _near_hashes(keys: list[bytes], radius: int) -> list[list[int]]:
    """Connected components of the distinct hashes `keys` under Hamming distance ≤ radius
    (multi-index hashing: candidates share one of radius + 1 chunks exactly; then checked)."""
    codes = np.frombuffer(b"".join(keys), np.uint8).reshape(len(keys), -1)
    bits = np.unpackbits(codes, axis=1)
    parent = list(range(len(keys)))  # union-find over the distinct hashes

    def root(u):
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        return u

    for chunk in np.array_split(np.arange(bits.shape[1]), radius + 1):
        same_chunk = defaultdict(list)
        for u, key in enumerate(hash_keys(np.packbits(bits[:, chunk], axis=1))):
            same_chunk[key].append(u)
        for bucket in map(np.array, same_chunk.values()):
            for s in range(0, len(bucket) - 1, 64):  # blocks of rows: memory stays small in a big bucket
                rows = bucket[s : s + 64]
                near = _POPCOUNT[codes[rows, None, :] ^ codes[None, bucket, :]].sum(2) <= radius
                for a, b in zip(*np.nonzero(np.triu(near, s + 1))):  # each pair once: b after a
                    ra, rb = root(rows[a]), root(bucket[b])
                    if ra != rb:
                        parent[ra] = rb
    components = defaultdict(list)
    for u in range(len(keys)):
        components[root(u)].append(u)
    return list(components.values())


# ---------------------------------------------------------------------------------------------
# De-duplicating a dataset (the CLI): report.json, collisions.png, kept.json


@dataclasses.dataclass
class DedupResult:
    groups: list[list[int]]  # duplicate groups, as indices into the dataset
    kept: list[int]  # one image per group (its first) and every image in no group
    losses: list[float]  # the autoencoder's training loss per epoch
    bits_set: float  # mean fraction of hash bits that are 1


def deduplicate(images: torch.Tensor, cfg: Any) -> DedupResult:
    """Train the autoencoder on `images`, hash them, group equal hashes; keep one per group."""
    model, losses = train_autoencoder(images, cfg)
    codes = encode(model, images)
    groups = group_hashes(hash_codes(codes, cfg.threshold), cfg.radius)
    removed = {i for g in groups for i in g[1:]}
    kept = [i for i in range(len(images)) if i not in removed]
    return DedupResult(groups, kept, losses, float((codes > cfg.threshold).float().mean()))


def run_dedup(cfg: Any, out: str | Path) -> dict[str, Path]:
    """`python -m dcgan_core dedup`: write OUT/report.json, OUT/collisions.png and OUT/kept.json
    (for `train --keep`). Reads the dataset only; nothing in it is changed or deleted. Each file is
    written atomically (files.atomic_write): a crash leaves the previous one whole, never half of it."""
    import matplotlib.pyplot as plt

    from .figures import save_figure

    data = load_dataset(cfg.dataset, 32, channels=3, limit=cfg.limit, progress=cfg.progress)
    result = deduplicate(data.images, cfg)
    out = Path(out)
    # Folders are named by file (paths relative to the folder); named datasets by index.
    named = (lambda i: data.ids[i]) if data.name.startswith("folder:") else (lambda i: i)
    report = {
        "dataset": data.name,
        "n_total": len(data),
        "n_groups": len(result.groups),
        "n_removed": len(data) - len(result.kept),
        "n_kept": len(result.kept),
        "groups": [[named(i) for i in g] for g in result.groups],
        "skipped": [list(s) for s in data.skipped],
        "train_loss": result.losses,
        "bits_set": result.bits_set,
        "config": cfg.to_dict(),
    }
    paths = {"report": out / "report.json", "collisions": out / "collisions.png", "kept": out / "kept.json"}
    write_json(paths["report"], report, indent=1)
    fig = collisions_figure(
        data.images,
        result.groups,
        labels=data.ids,
        title=f"{len(result.groups)} duplicate groups in {data.name} (largest first)",
    )
    try:
        save_figure(fig, paths["collisions"])  # atomic too
    finally:
        plt.close(fig)
    write_json(paths["kept"], {"dataset": data.name, "n_total": len(data), "kept": result.kept}, indent=None)
    return paths


# ---------------------------------------------------------------------------------------------
# The figure (matplotlib): the largest groups, as the paper inspected them


def collisions_figure(
    images: torch.Tensor, groups: list[list[int]], labels=None, max_groups: int = 8, per_group: int = 8, title: str = ""
):
    """The largest groups, one row each: what the paper inspected by eye."""
    import matplotlib.pyplot as plt

    shown = sorted(groups, key=len, reverse=True)[:max_groups]
    cols = max(min(per_group, max((len(g) for g in shown), default=1)), 2)
    fig, axes = plt.subplots(max(len(shown), 1), cols, figsize=(1.3 * cols, 1.45 * max(len(shown), 1)), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for row, group in zip(axes, shown):
        for ax, i in zip(row, group):
            ax.imshow(images[i].permute(1, 2, 0).numpy())
            text = str(labels[i] if labels is not None else i)
            ax.set_title(text if len(text) <= 16 else "…" + text[-15:], fontsize=7)
        if len(group) > cols:
            row[-1].set_title(f"+{len(group) - cols + 1} more", fontsize=7)
    if not shown:
        axes[0, 0].text(0, 0.5, "no collisions", fontsize=12)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
