"""
# De-duplication by autoencoder hashing, measured (§4.1.1)

Radford, Metz & Chintala (2015), [arXiv 1511.06434](https://arxiv.org/abs/1511.06434), §4.1.1, fit a
3072-128-3072 de-noising dropout ReLU autoencoder and binarize its code layer into a semantic hash
("linear time de-duplication"); they report "an estimated false positive rate of less than 1 in 100"
from looking at collisions, and "approximately 275,000 near duplicates" removed, "suggesting a high
recall". The method itself, with the choices the paper leaves open, is `semantic_hash.py`; this
module is the section: its config (`DedupConfig`, the method's fields and the measurement's) and
the measurement.

The paper estimated precision by looking at collisions. We measure it: `inject_duplicates` adds
known near-copies (JPEG re-encodes, 1–2 px shifts and crops, brightness, contrast, noise, resize
round trips) to a real dataset, `score` counts precision and recall of the detected pairs per kind
of change, and `compare` puts three baselines beside the autoencoder on the same images.

The section's pattern (results.py): `DedupConfig.from_profile(profile, …)` → `run(cfg)`, the whole
measurement, returns a `DedupEvaluation` whose numbers are saved as JSON and checked against the
paper's claims (claims.py); the figure functions below (the groups through
`semantic_hash.collisions_figure`) and `widgets.dedup_widget` take it and draw it. Notebook 02 and benchmarks/dedup_eval.py both call `run`.
`semantic_hash.run_dedup` is the `dedup` command: it de-duplicates a dataset for training
(`train --keep OUT/kept.json`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import time
from collections import defaultdict
from typing import ClassVar

import numpy as np
import torch
from PIL import Image, ImageEnhance

from .config import Config, option
from .data import load_dataset
from .results import Laps, Result, artifact
from .semantic_hash import (
    HashAutoencoder,
    check_images,
    encode,
    group_hashes,
    hash_codes,
    hash_keys,
    pixel_vectors,
    train_autoencoder,
)

KINDS = ("exact", "jpeg", "shift", "crop", "brightness", "contrast", "noise", "resize")


@dataclasses.dataclass
class DedupConfig(Config):
    """§4.1.1's de-duplication: the method (the CLI's `dedup` flags) and, below it, the measurement
    that notebook 02 and benchmarks/dedup_eval.py make of it (`run`)."""

    dataset: str = option("cifar10", "what to de-duplicate: a dataset name (e.g. cifar10) or folder:PATH")
    limit: int | None = option(None, "use only the first N images (as train --limit N reads them)", min=1)
    code_bits: int = option(128, "code units = hash bits (§4.1.1: '3072-128-3072')", min=1)
    noise: str = option(
        "gaussian",
        "the de-noising corruption (ours; §4.1.1 says only 'de-noising'): gaussian, mask or none",
        choices=("gaussian", "mask", "none"),
    )
    noise_level: float = option(0.2, "Gaussian σ on pixels in [-1, 1], or the fraction of inputs masked", min=0.0)
    dropout: float = option(
        0.2, "dropout on the code units while training (ours; §4.1.1: 'dropout regularized')", min=0.0
    )
    threshold: float = option(
        0.0, "a hash bit is 1 where the ReLU activation exceeds this (ours: 0, any activity)", min=0.0
    )
    radius: int = option(0, "also group hashes this many bits apart, 0..8 (0 = exact collisions, the paper)", min=0)
    epochs: int = option(10, "autoencoder training epochs (ours: the loss flattens after ~5 on CIFAR-10)", min=1)
    batch_size: int = option(128, "autoencoder mini-batch size", min=1)
    lr: float = option(1e-3, "Adam learning rate of the autoencoder")
    seed: int = option(0, "seed of the autoencoder's init, data order and noise (and of the measurement)")
    progress: bool = option(True, "tqdm progress bars")
    # --- the measurement (`run`: notebook 02, the benchmark), not the method --------------------
    eval_images: int | None = option(
        None, "draw this many images at random to inject copies into (None = all)", min=1, flag=False
    )
    per_kind: int = option(500, "injected copies per kind of change (KINDS)", min=1, flag=False)
    scaling_sizes: tuple[int, ...] = option(
        (25_000, 50_000, 100_000, 200_000, 400_000),
        "numbers of codes N at which hashing and grouping are timed",
        flag=False,
    )

    PROFILES: ClassVar[dict[str, dict]] = {
        # CI: under two minutes on 2 CPU cores. 5,000 CIFAR-10 images, a short training.
        "smoke": dict(
            eval_images=5000, epochs=3, per_kind=100, scaling_sizes=(12_500, 25_000, 50_000, 100_000, 200_000)
        ),
        # All 50,000 CIFAR-10 training images, 10 epochs: a few minutes on a CPU. The measurement
        # is small enough that a GPU adds nothing, so `paper` is the same.
        "cpu": dict(),
        "paper": dict(),
    }

    def check(self) -> None:
        if self.noise == "mask" and not self.noise_level < 1:
            raise ValueError(
                f"noise_level must be < 1 when masking (the fraction of inputs zeroed), got {self.noise_level!r}"
            )
        if not self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if self.radius > 8:
            raise ValueError(f"radius must be an integer in 0..8, got {self.radius!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in self.scaling_sizes):
            raise ValueError(f"scaling_sizes must be positive integers, got {self.scaling_sizes!r}")


# ---------------------------------------------------------------------------------------------
# Measuring it: injected near-duplicates as ground truth, three baselines


def _change(img: Image.Image, kind: str, rng: np.random.Generator) -> Image.Image:
    """A near-copy of a 32×32 RGB image: one kind of change from KINDS, mild and random."""
    if kind == "exact":
        return img.copy()
    if kind == "jpeg":  # re-encoded at another quality
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=int(rng.integers(50, 96)))
        return Image.open(buf).convert("RGB")
    if kind == "shift":  # moved 1–2 px, the edge pixels repeated
        a, (dy, dx) = np.asarray(img), map(int, rng.choice([-2, -1, 1, 2], size=2))
        a = np.pad(a, ((2, 2), (2, 2), (0, 0)), mode="edge")
        return Image.fromarray(a[2 + dy : 34 + dy, 2 + dx : 34 + dx])
    if kind == "crop":  # 1–2 px cut from each side, resized back
        left, top, right, bottom = map(int, rng.integers(1, 3, size=4))
        return img.resize((32, 32), Image.Resampling.LANCZOS, box=(left, top, 32 - right, 32 - bottom))
    if kind == "brightness":
        return ImageEnhance.Brightness(img).enhance(rng.choice([0.9, 0.95, 1.05, 1.1]))
    if kind == "contrast":
        return ImageEnhance.Contrast(img).enhance(rng.choice([0.9, 0.95, 1.05, 1.1]))
    if kind == "noise":  # Gaussian, σ = 4 of 255
        a = np.asarray(img, dtype=np.float32) + rng.normal(0, 4, (32, 32, 3))
        return Image.fromarray(np.clip(a, 0, 255).round().astype(np.uint8))
    if kind == "resize":  # down to 16–24 px and back up
        s = int(rng.integers(16, 25))
        return img.resize((s, s), Image.Resampling.BILINEAR).resize((32, 32), Image.Resampling.BILINEAR)
    raise ValueError(f"unknown kind of change {kind!r}; kinds: {', '.join(KINDS)}")


@dataclasses.dataclass
class Injected:
    """A dataset with known duplicates: the N originals, then one changed copy each of K of them."""

    images: torch.Tensor  # uint8 (N + K)×3×32×32
    source: np.ndarray  # per image: the picture it shows (pixel-identical originals share one)
    kind: np.ndarray  # per image: "original" or the change (KINDS) that made it
    original: np.ndarray  # per image: the original a copy was made from; -1 for originals


def inject_duplicates(images: torch.Tensor, per_kind: int, seed: int = 0) -> Injected:
    """Copy `per_kind` distinct random originals with each kind of change and append the copies."""
    check_images(images)
    n = len(images)
    if n < len(KINDS) * per_kind:
        raise ValueError(
            f"{n} images are too few to copy {per_kind} different ones for each of the "
            f"{len(KINDS)} kinds of change: per_kind can be at most {n // len(KINDS)}"
        )
    rng = np.random.default_rng(seed)
    picked = rng.choice(n, size=len(KINDS) * per_kind, replace=False)
    copies = [
        _change(Image.fromarray(images[i].permute(1, 2, 0).numpy()), KINDS[j // per_kind], rng)
        for j, i in enumerate(picked)
    ]
    copies = torch.from_numpy(np.stack([np.asarray(c).transpose(2, 0, 1) for c in copies]))
    first = {}  # originals that are already pixel-identical are one source
    source = np.array([first.setdefault(key, i) for i, key in enumerate(hash_keys(sha1_hashes(images)))])
    return Injected(
        images=torch.cat([images, copies]),
        source=np.concatenate([source, source[picked]]),
        kind=np.array(["original"] * n + [k for k in KINDS for _ in range(per_kind)]),
        original=np.concatenate([np.full(n, -1), picked]),
    )


def sha1_hashes(images: torch.Tensor) -> np.ndarray:
    """Baseline: the SHA-1 of each image's pixels (N×20 uint8): finds exact copies only."""
    return np.array([np.frombuffer(hashlib.sha1(img.numpy().tobytes()).digest(), np.uint8) for img in images])


def phash_hashes(images: torch.Tensor) -> np.ndarray:
    """Baseline: imagehash's perceptual hash (64 bits of the image's low DCT frequencies), N×8 uint8."""
    import imagehash

    return np.array(
        [np.packbits(imagehash.phash(Image.fromarray(img.permute(1, 2, 0).numpy())).hash.ravel()) for img in images]
    )


@torch.no_grad()
def random_projection_hashes(images: torch.Tensor, bits: int = 128, seed: int = 0) -> np.ndarray:
    """Baseline with no learning: the signs of `bits` random projections of the centered pixels."""
    mean = sum(pixel_vectors(images[s : s + 4096]).sum(0) for s in range(0, len(images), 4096)) / len(images)
    w = torch.randn(3 * 32 * 32, bits, generator=torch.Generator().manual_seed(seed))
    return np.concatenate(
        [
            np.packbits(((pixel_vectors(images[s : s + 4096]) - mean) @ w > 0).numpy(), axis=1)
            for s in range(0, len(images), 4096)
        ]
    )


@dataclasses.dataclass
class Score:
    """How well one method's groups match the injected ground truth. A detected pair is two images
    in one group (after de-duplication all but one of them would go); it is true when both show
    the same source picture."""

    method: str
    precision: float  # true pairs / detected pairs (nan when nothing was detected)
    fp_rate: float  # 1 − precision: the paper's "false positive rate" of collisions
    false_grouped: float  # fraction of all images grouped with an image that is no copy of theirs
    recall: dict[str, float]  # per kind, and "all": fraction of (original, copy) pairs sharing a group
    kind_precision: dict[
        str, float
    ]  # per kind: of the images grouped with such a copy, the fraction that are its duplicates
    n_groups: int
    n_removed: int


def score(groups: list[list[int]], inj: Injected, method: str = "") -> Score:
    n = len(inj.source)
    group_of = np.arange(n)  # singletons: a group of their own
    size, same = np.ones(n), np.ones(n)  # per image: its group's size, and how many there show its source
    detected = true = 0
    for g, members in enumerate(groups):
        members = np.asarray(members)
        _, where, counts = np.unique(inj.source[members], return_inverse=True, return_counts=True)
        group_of[members], size[members], same[members] = n + g, len(members), counts[where]
        detected += len(members) * (len(members) - 1) // 2
        true += int((counts * (counts - 1) // 2).sum())
    precision = true / detected if detected else float("nan")
    recall, kind_precision = {}, {}
    for kind in (*KINDS, "all"):
        copies = np.nonzero(inj.kind != "original" if kind == "all" else inj.kind == kind)[0]
        if len(copies):
            recall[kind] = float(np.mean(group_of[copies] == group_of[inj.original[copies]]))
            grouped_with = (size[copies] - 1).sum()
            kind_precision[kind] = (same[copies] - 1).sum() / grouped_with if grouped_with else float("nan")
    return Score(
        method,
        precision,
        1 - precision,
        float(np.mean(size > same)),
        recall,
        kind_precision,
        len(groups),
        sum(len(g) - 1 for g in groups),
    )


def compare(codes: torch.Tensor, inj: Injected, cfg: DedupConfig) -> dict[str, Score]:
    """The autoencoder hash beside three baselines on the same images, the same radius for the
    bit hashes (SHA-1 is exact only). Keyed by method: autoencoder, random projection, phash, SHA-1."""
    methods = {
        "autoencoder": (f"autoencoder ({cfg.code_bits} bits)", hash_codes(codes, cfg.threshold), cfg.radius),
        "random projection": (
            f"random projection ({cfg.code_bits} bits)",
            random_projection_hashes(inj.images, cfg.code_bits, cfg.seed),
            cfg.radius,
        ),
        "phash": ("perceptual hash (phash, 64 bits)", phash_hashes(inj.images), cfg.radius),
        "SHA-1": ("SHA-1 of the pixels", sha1_hashes(inj.images), 0),
    }
    return {key: score(group_hashes(h, r), inj, label) for key, (label, h, r) in methods.items()}


def sweep(codes: torch.Tensor, inj: Injected, thresholds, radii=(0, 1, 2)) -> list[dict]:
    """Recall (all kinds) and false-positive rate of the autoencoder hash at each threshold and radius."""
    rows = []
    for radius in radii:
        for t in thresholds:
            s = score(group_hashes(hash_codes(codes, t), radius), inj)
            rows.append(
                dict(
                    threshold=float(t),
                    radius=radius,
                    recall=s.recall["all"],
                    fp_rate=s.fp_rate,
                    false_grouped=s.false_grouped,
                )
            )
    return rows


def best_row(rows: list[dict], max_fp_rate: float = 0.01) -> dict | None:
    """The sweep's row with the highest recall among those whose FP rate is under `max_fp_rate`."""
    return max((r for r in rows if r["fp_rate"] < max_fp_rate), key=lambda r: r["recall"], default=None)


def scores_table(scores: dict[str, Score] | list[Score], html: bool = False) -> str:
    """A table, one row per method: precision and FP rate overall, recall per kind (markdown or HTML)."""
    scores = list(scores.values()) if isinstance(scores, dict) else scores
    fmt = lambda v: "n/a" if v != v else f"{v:.3f}"  # noqa: E731  (nan: nothing detected)
    head = (
        ["method", "precision", "FP rate", "falsely grouped"] + [f"recall {k}" for k in (*KINDS, "all")] + ["removed"]
    )
    rows = [
        [s.method, fmt(s.precision), fmt(s.fp_rate), fmt(s.false_grouped)]
        + [fmt(s.recall.get(k, float("nan"))) for k in (*KINDS, "all")]
        + [str(s.n_removed)]
        for s in scores
    ]
    if html:
        cells = lambda tag, r: "<tr>" + "".join(f"<{tag}>{c}</{tag}>" for c in r) + "</tr>"  # noqa: E731
        return "<table>" + cells("th", head) + "".join(cells("td", r) for r in rows) + "</table>"
    return "\n".join("| " + " | ".join(r) + " |" for r in [head, ["---"] * len(head), *rows])


@dataclasses.dataclass
class Scaling:
    """Hashing (encode + threshold + pack) and grouping time for N codes."""

    n: list[int]
    hash_s: list[float]
    group_s: list[float]
    total_s: list[float] = dataclasses.field(init=False)
    exponent: float = dataclasses.field(init=False)  # slope of log(time) against log(N): 1 is linear time
    images_per_s: float = dataclasses.field(init=False)  # at the largest N

    def __post_init__(self):
        self.total_s = [h + g for h, g in zip(self.hash_s, self.group_s)]
        fit = np.polyfit(np.log(self.n), np.log(self.total_s), 1) if len(self.n) > 1 else [float("nan")]
        self.exponent = float(fit[0])
        self.images_per_s = self.n[-1] / self.total_s[-1]


def scaling(
    model: HashAutoencoder, images: torch.Tensor, sizes, threshold: float, radius: int = 0, repeats: int = 2
) -> Scaling:
    """Time hashing and grouping N images for each N in `sizes` (the dataset repeated as needed);
    the best of `repeats` runs, so that a pause of the machine does not bend the curve."""
    hash_s, group_s = [], []
    for n in sizes:
        best = (float("inf"), float("inf"))
        for _ in range(repeats):
            start = time.perf_counter()
            hashes = hash_codes(encode(model, images, torch.arange(n) % len(images)), threshold)
            middle = time.perf_counter()
            group_hashes(hashes, radius)
            best = min(best, (middle - start, time.perf_counter() - middle), key=sum)
        hash_s.append(best[0])
        group_s.append(best[1])
    return Scaling(list(sizes), hash_s, group_s)


def pairwise_groups(hashes: np.ndarray, block: int = 256) -> list[list[int]]:
    """`group_hashes` (radius 0) the quadratic way: every hash compared with every other. The
    control of the linear-time claim: its time grows as N², and the check must see that."""
    h = np.ascontiguousarray(hashes)
    first = np.empty(len(h), np.int64)  # per row, the first row with an equal hash
    for s in range(0, len(h), block):
        first[s : s + block] = (h[s : s + block, None, :] == h[None, :, :]).all(2).argmax(1)
    members = defaultdict(list)
    for i, f in enumerate(first):
        members[f].append(i)
    return sorted((m for m in members.values() if len(m) > 1), key=lambda m: m[0])


def pairwise_scaling(hashes: np.ndarray, sizes, repeats: int = 2) -> dict:
    """Time `pairwise_groups` on the first N hashes (repeated as needed) for each N; the fitted
    exponent of time against N (2: quadratic)."""
    seconds = []
    for n in sizes:
        rows = hashes[np.arange(n) % len(hashes)]
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            pairwise_groups(rows)
            best = min(best, time.perf_counter() - start)
        seconds.append(best)
    return dict(n=list(sizes), seconds=seconds, exponent=float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0]))


# ---------------------------------------------------------------------------------------------
# The measurement as one function: notebook 02 and benchmarks/dedup_eval.py call `run`

CONTROL_BITS = 16  # a hash this short must collide for tens of thousands of images
PAIRWISE_SIZES = (1000, 2000, 4000, 8000)

SWEEP_RADII = (0, 1, 2)  # the radii the threshold sweep compares: exact, then 1 and 2 bits apart


@dataclasses.dataclass
class DedupEvaluation(Result):
    """What `run` measured: its numbers are saved as build/PROFILE/results/02_dedup.json, and
    `claims.py` reads "scores.autoencoder.fp_rate", "scores.autoencoder.recall.all",
    "scaling.exponent" and their controls from them. The images, codes, groups and model stay in memory only."""

    config: DedupConfig
    dataset: str
    n_originals: int  # images drawn from the dataset
    n_injected: int  # changed copies added (per_kind × len(KINDS))
    losses: list[float]  # the autoencoder's training loss per epoch
    bits_set: float  # mean fraction of hash bits that are 1
    distinct_hashes: int
    n_groups: int  # groups of the autoencoder hash (cfg.threshold, cfg.radius)
    n_false_groups: int  # of them, those that mix different pictures
    scores: dict[str, Score]  # `compare`: autoencoder, random projection, phash, SHA-1
    sweep: list[dict]  # `sweep` over thresholds and SWEEP_RADII
    best: dict | None  # the sweep's best recall at an FP rate under 1 in 100
    scaling: Scaling  # hash + group time against N
    controls: dict  # what the claims' checks must get wrong: fp_rate_16_bits, pairwise_exponent
    seconds: dict[str, float]  # wall time of each step of `run`
    injected: Injected = artifact()
    codes: torch.Tensor = artifact()  # the ReLU code of every image, N×code_bits
    groups: list = artifact()  # the autoencoder hash's groups
    false_groups: list = artifact()  # those of them that mix different pictures
    model: HashAutoencoder = artifact()

    def findings(self) -> str:
        """What this run measured, in words with its numbers (notebook 02 shows it under the scores)."""
        ae, sha, ph = self.scores["autoencoder"], self.scores["SHA-1"], self.scores["phash"]
        kinds = sorted(KINDS, key=lambda k: -ae.recall.get(k, 0))
        best = self.best
        return (
            f"This run: {self.n_originals:,} {self.dataset} images + {self.n_injected:,} injected copies, radius "
            f"{self.config.radius}. The autoencoder hash's precision is {ae.precision:.4f} (FP rate {ae.fp_rate:.4f}; "
            f"the paper: below 0.01); {self.n_false_groups} of its {self.n_groups} groups mix different pictures — "
            f"look at them above: CIFAR-10 holds near-duplicates of its own (the same photo in another tone), which "
            f"count as false here, so this FP rate is an upper bound. Recall by kind of change: "
            + ", ".join(f"{k} {ae.recall[k]:.2f}" for k in kinds)
            + f"; all kinds {ae.recall['all']:.2f}, against "
            f"SHA-1 {sha.recall['all']:.2f} and phash {ph.recall['all']:.2f}. A 3072-128 encoder on pixels is not "
            f"shift invariant and all 128 bits must agree, so shifted, cropped and re-scaled copies rarely collide: "
            f"that is where the paper's 'suggesting a high recall' does not hold up. "
            + (
                f"The sweep's best recall at an FP rate under 1 in 100: {best['recall']:.2f} (threshold "
                f"{best['threshold']:g}, radius {best['radius']}, FP rate {best['fp_rate']:.4f})."
                if best
                else "No threshold and radius of the sweep keeps the FP rate under 1 in 100."
            )
        )

    def summary(self) -> str:
        """The numbers as text (the benchmark prints it)."""
        return "\n".join(
            [
                f"{self.dataset}: {self.n_originals:,} originals + {self.n_injected:,} injected copies; "
                f"data {self.seconds['data']:.0f} s, training {self.seconds['train']:.0f} s",
                "training loss per epoch: " + " ".join(f"{v:.4f}" for v in self.losses),
                f"bits set: {self.bits_set:.1%} on average; {self.distinct_hashes:,} distinct hashes for "
                f"{self.n_originals + self.n_injected:,} images; {self.n_groups} groups, {self.n_false_groups} "
                f"of them mixing different pictures",
                scores_table(self.scores),
                f"best recall with an FP rate under 1%: {self.best}",
                *(
                    f"N = {n:>9,}: hash {h:6.2f} s, group {g:5.2f} s"
                    for n, h, g in zip(self.scaling.n, self.scaling.hash_s, self.scaling.group_s)
                ),
                f"fitted exponent {self.scaling.exponent:.2f}; {self.scaling.images_per_s:,.0f} images/s "
                f"at N = {self.scaling.n[-1]:,}",
            ]
        )


def run(cfg: DedupConfig) -> DedupEvaluation:
    """Measure §4.1.1's de-duplication where the truth is known: draw `eval_images` images of
    `cfg.dataset` at random, append `per_kind` changed copies for each kind of change, train the
    autoencoder on them all, hash and group, score the groups beside three baselines, sweep the
    threshold and the radius, and time hashing + grouping against N (the paper's "linear time")."""
    lap = Laps()

    data = load_dataset(cfg.dataset, 32, channels=3, limit=cfg.limit, progress=cfg.progress)
    index = torch.randperm(len(data), generator=torch.Generator().manual_seed(cfg.seed))[: cfg.eval_images]
    inj = inject_duplicates(data.images[index.sort().values], cfg.per_kind, cfg.seed)
    lap("data")
    model, losses = train_autoencoder(inj.images, cfg)
    codes = encode(model, inj.images)
    lap("train")
    hashes = hash_codes(codes, cfg.threshold)
    groups = group_hashes(hashes, cfg.radius)
    false_groups = [g for g in groups if len(set(inj.source[g])) > 1]
    scores = compare(codes, inj, cfg)
    lap("compare")
    # Thresholds from 0 (the paper's reading) up to the 90th percentile of the activations.
    thresholds = np.round(np.linspace(0, float(np.quantile(codes.numpy(), 0.9)), 10), 3)
    rows = sweep(codes, inj, thresholds, SWEEP_RADII)
    lap("sweep")
    timing = scaling(model, inj.images, cfg.scaling_sizes, cfg.threshold)
    lap("scaling")
    # The controls: a hash too short to tell images apart, and grouping by comparing every pair.
    pairwise = pairwise_scaling(hashes, PAIRWISE_SIZES)
    controls = dict(
        fp_rate_16_bits=score(group_hashes(hash_codes(codes[:, :CONTROL_BITS], cfg.threshold)), inj).fp_rate,
        pairwise_exponent=pairwise["exponent"],
        pairwise=pairwise,
    )
    lap("controls")
    n_originals = int((inj.kind == "original").sum())
    return DedupEvaluation(
        config=cfg,
        dataset=data.name,
        n_originals=n_originals,
        n_injected=len(inj.images) - n_originals,
        losses=losses,
        bits_set=float((codes > cfg.threshold).float().mean()),
        distinct_hashes=len(set(hash_keys(hashes))),
        n_groups=len(groups),
        n_false_groups=len(false_groups),
        scores=scores,
        sweep=rows,
        best=best_row(rows),
        scaling=timing,
        controls=controls,
        seconds=dict(lap),
        injected=inj,
        codes=codes,
        groups=groups,
        false_groups=false_groups,
        model=model,
    )
