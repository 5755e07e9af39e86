"""
# The MNIST appendix: a class-conditional DCGAN judged by nearest neighbours (§8.1, Table 3, Figure 9)

Radford, Metz & Chintala (2015), [arXiv 1511.06434](https://arxiv.org/abs/1511.06434), supplement §8.1:

> "We propose to apply standard classification metrics to a conditional version of our model,
> evaluating the conditional distributions learned. We trained a DCGAN on MNIST (splitting off a
> 10K validation set) as well as a permutation invariant GAN baseline and evaluated the models using
> a nearest neighbor classifier comparing real data to a set of generated conditional samples. We
> found that removing the scale and bias parameters from batchnorm produced better results for both
> models. [...] The DCGAN model achieves the same test error as a nearest neighbor classifier fitted
> on the training dataset."

Table 3 ("Nearest neighbor classification results"), test error at 50K / 10M generated samples, as
published in the paper's supplement: AlignMNIST – / 1.4 %, InfiMNIST – / 2.6 %, Real Data 3.1 % / –,
GAN 6.28 % / 5.65 %, DCGAN (ours) 2.98 % / 1.48 % (`PAPER_TABLE3`).

What we do, and where the paper left things open (`# ours:` in the code):

- **Split** — `validation_split`: a permutation of MNIST's 60k training digits seeded by `seed`
  (numpy's default_rng), the last 10k of it held out as validation, the first 50k kept (the authors'
  code shuffled and cut at 50,000 too). `write_split` writes the 50k as an index file that
  `train --keep FILE` reads, so the zoo's `mnist-conditional` trains on exactly these 50k.
- **Nets** — the conditional DCGAN is `models.Generator`/`Discriminator` with `conditional=True`
  (the one-hot label concatenated to z and, as constant maps, to every layer's input) and
  `bn_affine=False`. `arch="mnist"` is the authors' own conditional MNIST nets at 28×28 (fully
  connected layers of 1024 in G and D; models.py); the zoo's `mnist-conditional`, the default, is one
  (G only). Any G is evaluated at its own image size. The permutation-invariant baseline is
  `arch="fc"` (`conditional.FCGenerator`, two hidden layers of 1024), also conditional and without BN's
  scale and bias, trained here by the same `Trainer` for the same budget: the DCGAN's steps and batch
  size, on the same 50k.
- **1-NN evaluation** (`nn_errors`) — `n` generated samples per class, labelled by the class they were
  drawn for, classify the real test digits by their nearest neighbour (Euclidean, on the pixels of the
  size G draws: 28×28 for `arch="mnist"`; 32×32 for pytorch/examples' nets, real digits resized the same way).
  Samples are stored as uint8, like the real images, and the search runs in chunks of fp32 matrix products (‖a − b‖² = ‖a‖² − 2a·b + ‖b‖²), keeping
  each test digit's best distance so far: nested sample sizes cost one pass. 1M samples × 10k test
  digits is 2·10¹³ flops, a couple of minutes of CPU matrix products; generating them takes longer.
- **Real-data reference** — the same 1-NN fitted on the 50k real training digits (Table 3's "Real
  Data", 3.1 % at 50K), and on class-balanced subsets of them for the curve.
- **Noise draws** (ours) — one draw of 50K samples gives an error that varies by ~0.1 points from draw
  to draw (std over 5 draws of the zoo model: 0.12–0.15), as much as the gap to the real data that §8.1 judges.
  The headline (`AppendixResult.headline`) is therefore the mean over `draws` independent draws of the
  samples at that size (draw 0 is the curve's), with their standard deviation; the real-data 1-NN is
  one fixed classifier.

Table 3's 50K are 5,000 samples per class; its 10M are 1M per class (a GPU's job; the `cpu` profile
stops earlier). `run(cfg)` returns an `AppendixResult`; notebook 08 draws it.
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from .config import Config, option, resolve_device
from .data import ImageData, load_dataset, to_uint8
from .files import write_json
from .models import Generator, TrainConfig, eval_mode, sample_z
from .pretrained import load_models, manifest
from .results import Result, artifact

N_TRAIN, N_VALIDATION = 50_000, 10_000

# Table 3 of the paper's supplement, as published: test error (%) at 50K and 10M generated samples.
PAPER_TABLE3 = {
    "AlignMNIST": {"50K": None, "10M": 1.4},
    "InfiMNIST": {"50K": None, "10M": 2.6},
    "Real Data": {"50K": 3.1, "10M": None},
    "GAN": {"50K": 6.28, "10M": 5.65},
    "DCGAN (ours)": {"50K": 2.98, "10M": 1.48},
}


def validation_split(n: int = N_TRAIN + N_VALIDATION, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) indices into MNIST's 60k training digits: a permutation seeded by `seed`,
    its last 10k held out (§8.1: "splitting off a 10K validation set"). Both sorted."""
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[: n - N_VALIDATION]), np.sort(order[n - N_VALIDATION :])


def write_split(path: str | Path, seed: int = 0) -> Path:
    """The 50k training part of `validation_split` as an index file for `train --keep PATH`
    (the format of `dedup`'s kept.json: {"dataset", "n_total", "kept"})."""
    train, _ = validation_split(seed=seed)
    return write_json(
        path,
        {
            "dataset": "mnist",
            "n_total": N_TRAIN + N_VALIDATION,
            "kept": train.tolist(),
            "what": f"MNIST train minus a 10k validation split (mnist_appendix, seed {seed})",
        },
        indent=None,
    )


@dataclasses.dataclass
class AppendixConfig(Config):
    """§8.1's measurement: which DCGAN, the FC baseline's budget, the sample sizes, the test digits."""

    dcgan: str = option("zoo:mnist-conditional", "the conditional DCGAN: zoo:NAME or a checkpoint path")
    fc: str = option(
        "zoo:mnist-fc",
        "the FC GAN baseline: zoo:NAME or a checkpoint path (zoo mnist-fc: trained "
        "by this section for the DCGAN's steps, zoo/train.sh), or 'train': train it here "
        "(in runs/) for fc_steps",
    )
    fc_steps: int | None = option(
        None, "with fc 'train': training steps of the FC GAN baseline (None = the DCGAN's: the same budget)", min=1
    )
    per_class: tuple[int, ...] = option(
        (100, 300, 1000, 3000, 5000, 10000),
        "generated samples per class at which the 1-NN test error is measured "
        "(Table 3: 5,000 = '50K', 1,000,000 = '10M')",
        flag=False,
    )
    test_n: int | None = option(None, "real test digits to classify (None = all 10,000; fewer: a seeded draw)", min=1)
    chunk: int = option(4096, "generated samples per matrix product of the 1-NN search", min=1, flag=False)
    draws: int = option(
        5,
        "independent noise draws of the samples at Table 3's 50K (or the largest size "
        "measured): the headline is their mean",
        min=1,
    )
    seed: int = option(0, "seed of the split, the noise and the draws")
    device: str = option("cpu", "cpu, cuda or auto: where samples are drawn and distances computed")
    runs: str = option("runs/mnist-appendix", "where the FC baseline trains (re-running continues it)")
    progress: bool = option(True, "tqdm progress bars")

    PROFILES: ClassVar[dict[str, dict]] = {
        # CI, ≤ 3 minutes on 2 cores: 2,000 test digits, up to 300 samples per class, a short FC run
        # (200 steps: a sanity check of the pipeline, not the same budget).
        "smoke": dict(per_class=(10, 30, 100, 300), test_n=2000, fc="train", fc_steps=200, draws=2),
        # A CPU: all 10k test digits, up to 10,000 samples per class (100k samples, twice Table 3's 50K).
        "cpu": dict(),
        # One GPU: up to Table 3's 10M (1M per class).
        "paper": dict(per_class=(100, 1000, 5000, 10_000, 100_000, 1_000_000), device="auto", chunk=16384),
    }

    def check(self) -> None:
        if not self.per_class or min(self.per_class) < 1 or list(self.per_class) != sorted(set(self.per_class)):
            raise ValueError(f"per_class must be increasing positive sample counts, got {self.per_class!r}")


# ---------------------------------------------------------------------------------------------
# The 1-NN classifier, fitted on labelled samples chunk by chunk


class NearestNeighbour:
    """A 1-nearest-neighbour classifier of fixed query images (the real test digits), fitted on
    labelled reference images that arrive in chunks (generated samples or real training digits):
    `add(chunk, labels)` updates each query's nearest distance and label so far, `error(truth)`
    is the test error of the classifier fitted on everything added. Images are uint8 N×C×H×W;
    each chunk is cast to fp32 for one matrix product (exact on 0..255 pixels, sums in fp32)."""

    def __init__(self, queries: torch.Tensor, device: str | torch.device = "cpu", chunk: int = 4096):
        self.device, self.chunk = torch.device(device), chunk
        self.q = queries.reshape(len(queries), -1).to(self.device).float()
        self.best = torch.full((len(queries),), math.inf, device=self.device)
        self.label = torch.full((len(queries),), -1, dtype=torch.long, device=self.device)
        self.n = 0

    @torch.no_grad()
    def add(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        if images.dtype != torch.uint8:
            raise TypeError(f"NearestNeighbour.add expects uint8 images, got {images.dtype}")
        images, labels = images.reshape(len(images), -1), torch.as_tensor(labels)
        for i in range(0, len(images), self.chunk):
            r = images[i : i + self.chunk].to(self.device).float()
            # ‖q − r‖² − ‖q‖² = ‖r‖² − 2 q·r: the query's own norm does not change its nearest neighbour
            d = torch.addmm((r * r).sum(1)[None], self.q, r.T, alpha=-2)
            m, j = d.min(1)
            better = m < self.best
            self.best = torch.where(better, m, self.best)
            self.label = torch.where(better, labels[i : i + self.chunk].to(self.device)[j], self.label)
        self.n += len(images)

    def error(self, truth: torch.Tensor) -> float:
        """The fraction of queries whose nearest neighbour has another label than `truth`."""
        return (self.label.cpu() != torch.as_tensor(truth)).float().mean().item()


@torch.no_grad()
def class_samples(
    G: Generator,
    n_per_class: int,
    n_classes: int = 10,
    seed: int = 0,
    block: int = 0,
    chunk: int = 4096,
    device: str | torch.device = "cpu",
    draw: int = 0,
):
    """`n_per_class` samples of each class from a conditional G (eval mode), as uint8, in chunks of
    `chunk`: yields (images, labels). Block `block` of a seed is its own noise stream, so nested
    sample sizes are made of blocks (the samples of size n are a prefix of those of size 2n);
    `draw` d > 0 is another independent set of such streams."""
    from .hardware import resolve_precision
    from .train import seeded

    device = torch.device(device)
    bf16 = resolve_precision("auto", device) == "bf16"  # ours: bf16 sampling, then rounded to uint8 anyway
    labels = torch.arange(n_classes).repeat_interleave(n_per_class)
    with eval_mode(G):
        for c, i in enumerate(range(0, len(labels), chunk)):
            y = labels[i : i + chunk]
            z = sample_z(len(y), G.nz, seeded(seed, 8, block, c, *([draw] if draw else [])), device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                x = G(z, labels=y.to(device))
            yield to_uint8(x).cpu(), y


def nested_samples(
    G: Generator, per_class, seed: int = 0, chunk: int = 4096, device: str | torch.device = "cpu", draw: int = 0
):
    """The blocks `nn_curve` takes: block k brings G's samples from per_class[k - 1] to
    per_class[k] per class (its own noise stream, `class_samples`), so each size extends the last."""
    return (
        class_samples(G, hi - lo, G.n_classes, seed, k, chunk, device, draw)
        for k, (lo, hi) in enumerate(zip((0, *per_class), per_class))
    )


def nn_curve(
    queries: torch.Tensor,
    truth: torch.Tensor,
    blocks,
    per_class,
    device="cpu",
    chunk: int = 4096,
    progress: bool = False,
    desc: str = "",
) -> list[float]:
    """1-NN test error after each block of (images, labels) chunks: `blocks[k]` brings the samples
    from per_class[k - 1] to per_class[k] per class; returns one error per entry of per_class."""
    from tqdm.auto import tqdm

    nn_, errors = NearestNeighbour(queries, device, chunk), []
    for _, block in tqdm(zip(per_class, blocks), total=len(per_class), desc=desc, disable=not progress):
        for images, labels in block:
            nn_.add(images, labels)
        errors.append(nn_.error(truth))
    return errors


def balanced_blocks(data: ImageData, per_class, seed: int = 0):
    """Class-balanced prefixes of real labelled images: block k holds images per_class[k-1]..per_class[k]
    of each class in a seeded order (fewer where a class runs out)."""
    gen = torch.Generator().manual_seed(seed)
    order = [torch.nonzero(data.labels == c).view(-1) for c in range(int(data.labels.max()) + 1)]
    order = [o[torch.randperm(len(o), generator=gen)] for o in order]
    for lo, hi in zip((0, *per_class), per_class):
        index = torch.cat([o[lo:hi] for o in order])
        yield [(data.images[index], data.labels[index])]


# ---------------------------------------------------------------------------------------------
# The FC baseline, trained by the same Trainer for the same budget


def fc_config(
    dcgan_cfg: TrainConfig,
    steps: int,
    split_file: str | Path,
    out: str | Path,
    *,
    seed: int = 0,
    device: str = "cpu",
    progress: bool = False,
    dcgan_steps: int | None = None,
) -> TrainConfig:
    """§8.1's permutation-invariant GAN: `arch="fc"`, conditional, BN without scale and bias, on the
    same 50k digits, with the DCGAN's batch size, image size and optimiser, for `steps` steps. A
    learning-rate decay of the DCGAN (trained `dcgan_steps`) starts at the same fraction of the run."""
    decay = dcgan_cfg.lr_decay_from
    if decay is not None:
        decay = decay * steps // (dcgan_steps or steps)
    return dcgan_cfg.replace(
        arch="fc",
        g_width=None,
        d_width=None,
        conditional=True,
        n_classes=None,
        lr_decay_from=decay,
        bn_affine=False,
        keep=str(split_file),
        limit=None,
        max_steps=steps,
        seed=seed,
        out=str(out),
        grid_every=None,
        eval_every=None,
        ckpt_every=max(steps, 1),
        n_grid=100,
        device=resolve_device(device).type,
        progress=progress,
        diffaugment=None,
        flip=False,
    )


def train_fc_baseline(
    cfg: AppendixConfig, dcgan_cfg: TrainConfig, steps: int, data: ImageData, dcgan_steps: int | None = None
):
    """Train (or continue, or reuse) the FC GAN in cfg.runs/fc-STEPS; returns its G."""
    from .train import train

    runs = Path(cfg.runs)
    split = write_split(runs / f"mnist-train50k-seed{cfg.seed}.json", seed=cfg.seed)
    trainer = train(
        fc_config(
            dcgan_cfg,
            steps,
            split,
            runs / f"fc-{steps}",
            seed=cfg.seed,
            device=cfg.device,
            progress=cfg.progress,
            dcgan_steps=dcgan_steps,
        ),
        resume="auto",
        data=data,
    )
    return trainer.G.eval(), trainer.cfg


def load_conditional(source: str, device: str | torch.device = "cpu") -> tuple[Generator, TrainConfig]:
    """G and its training config from zoo:NAME or a checkpoint; one clear error unless it is a
    class-conditional MNIST G."""
    G, _, cfg = load_models(source, map_location=device)
    if not G.n_classes or cfg.dataset != "mnist":
        raise ValueError(
            f"{source} is not a class-conditional MNIST DCGAN (dataset {cfg.dataset!r}, "
            f"conditional {cfg.conditional}); train one with --dataset mnist --conditional"
        )
    return G, cfg


def validation_errors(
    source: str,
    per_class=(1000, 5000),
    *,
    seed: int = 0,
    draws: int = 1,
    chunk: int = 4096,
    device: str | torch.device = "cpu",
) -> list[float]:
    """The 1-NN error on the 10k VALIDATION digits (held out of training by `validation_split(seed)`)
    of the conditional G at `source`, at each number of samples per class (nested, as in `run`), the
    mean over `draws` noise draws (draw 0 first, as in `run`'s headline): how zoo/train.sh chooses
    mnist-conditional's checkpoint without looking at the test digits."""
    device = resolve_device(str(device))
    G, cfg = load_conditional(source, device)
    everything = load_dataset("mnist", cfg.image_size, split="train", channels=1, progress=False)
    val = everything.subset(validation_split(len(everything), seed)[1])
    curves = [
        nn_curve(
            val.images,
            val.labels,
            nested_samples(G, per_class, seed, chunk, device, draw),
            list(per_class),
            device,
            chunk,
        )
        for draw in range(draws)
    ]
    return np.mean(curves, axis=0).tolist()


def dcgan_steps(source: str) -> int:
    """Training steps of a zoo model or checkpoint: the FC baseline gets as many."""
    if source.startswith("zoo:"):
        return int(manifest()[source[4:]]["steps"])
    from .checkpoint import load_checkpoint

    return int(load_checkpoint(source)["step"])


# ---------------------------------------------------------------------------------------------
# The section: config → run → result


@dataclasses.dataclass
class AppendixResult(Result):
    """Table 3 on our nets: 1-NN test error (a fraction) per model at each number of samples per class."""

    config: dict
    dcgan: str  # where the conditional DCGAN came from (zoo:NAME or a path)
    dcgan_config: dict
    dcgan_steps: int  # the DCGAN's training steps
    fc: str  # where the FC GAN came from (zoo:NAME, a path, or "train": trained here)
    fc_steps: int  # the FC baseline's: the same, unless cfg.fc_steps says otherwise
    fc_config: dict
    n_test: int  # real test digits classified
    n_train: int  # real training digits (60k minus the 10k validation split)
    n_validation: int
    per_class: list  # generated samples per class
    errors: dict  # {"dcgan", "fc", "real"}: error per entry of per_class (real: None past a class's count)
    real_all: float  # 1-NN fitted on all 50k real training digits: Table 3's "Real Data" at 50K
    headline: dict  # at 5,000 per class (Table 3's 50K), else the largest size measured:
    # dcgan and fc are the means over cfg.draws noise draws
    paper: dict  # PAPER_TABLE3
    controls: dict  # what the claims' checks must get wrong: real_small, dcgan_minus_dcgan
    seconds: dict
    G: Generator = artifact()
    G_fc: torch.nn.Module = artifact()
    real: ImageData = artifact()  # the 50k real training digits

    def rebuild(self) -> AppendixResult:
        """The conditional DCGAN again (after `read`), from where it came from (`dcgan`)."""
        if self.G is None:
            self.G = load_conditional(self.dcgan)[0]
        return self

    def table(self) -> str:
        """Markdown: error (%) vs samples per class, with Table 3's rows as published."""
        pct = lambda v: "–" if v is None else f"{100 * v:.2f} %"  # noqa: E731
        rows = ["| samples per class (total) | DCGAN (ours) | FC GAN (ours) | real data (ours) |", "|---|---|---|---|"]
        for i, n in enumerate(self.per_class):
            rows.append(
                f"| {n:,} ({10 * n:,}) | {pct(self.errors['dcgan'][i])} | {pct(self.errors['fc'][i])} | "
                f"{pct(self.errors['real'][i])} |"
            )
        h = self.headline
        if h.get("draws", 1) > 1:  # results saved before the draws had none
            mean = lambda k: f"{100 * h[k]:.2f} ± {100 * h[k + '_std']:.2f} %"  # noqa: E731
            rows.append(
                f"| {h['per_class']:,} ({h['total']:,}): mean ± std of {h['draws']} noise draws | "
                f"{mean('dcgan')} | {mean('fc')} | |"
            )
        rows.append(f"| all 50k real training digits | | | {pct(self.real_all)} |")
        rows += [
            "",
            "Table 3 of the paper (as published), test error at 50K / 10M generated samples:",
            "",
            "| model | 50K | 10M |",
            "|---|---|---|",
        ]
        published = lambda v: "–" if v is None else f"{v} %"  # noqa: E731
        rows += [f"| {m} | {published(v['50K'])} | {published(v['10M'])} |" for m, v in self.paper.items()]
        return "\n".join(rows)

    def findings(self) -> str:
        """What this run measured, in words with its numbers (notebook 08 shows it under the table)."""
        h = self.headline
        se = (h["dcgan_std"] / np.sqrt(h["draws"])) if h.get("dcgan_std") is not None else None
        paper = self.paper
        return (
            f"At {h['total']:,} generated samples ({h['per_class']:,} per class) the DCGAN's 1-NN test error is "
            f"{h['dcgan']:.2%} (mean of {h['draws']} noise draws"
            + (
                f"; a draw moves it by {h['dcgan_std']:.2%}, the mean's standard error {se:.2%})"
                if se is not None
                else ")"
            )
            + f" against {h['real']:.2%} for the 1-NN on the real training digits"
            + (" (all 50k)" if h["real_is_all_50k"] else " (as many real digits)")
            + f": {abs(h['dcgan_minus_real']):.2%} {'above' if h['dcgan_minus_real'] > 0 else 'below or at'} it. "
            f"The FC GAN ({self.fc}, {self.fc_steps:,} steps): {h['fc']:.2%}, so the DCGAN is "
            f"{abs(h['dcgan_minus_fc']):.2%} {'better' if h['dcgan_minus_fc'] < 0 else 'worse'}. Table 3 at 50K: DCGAN "
            f"{paper['DCGAN (ours)']['50K']} %, GAN {paper['GAN']['50K']} %, real data {paper['Real Data']['50K']} %. "
            f"More samples per class help every model: at {self.per_class[-1]:,} per class the DCGAN reaches "
            f"{self.errors['dcgan'][-1]:.2%}. How the zoo's nets got here (architectures, epochs, checkpoint choice on "
            f"the validation digits) is recorded in zoo/train.sh and on the model cards."
        )


def run(cfg: AppendixConfig) -> AppendixResult:
    """Load the conditional DCGAN, train the FC baseline for the same budget, and measure the 1-NN
    test error of each (and of real training digits) at each number of samples per class."""
    t0, seconds = time.perf_counter(), {}
    device = resolve_device(cfg.device)
    G, dcgan_cfg = load_conditional(cfg.dcgan, device)
    g_steps = dcgan_steps(cfg.dcgan)
    steps = cfg.fc_steps or g_steps
    size, progress = dcgan_cfg.image_size, cfg.progress
    everything = load_dataset("mnist", size, split="train", channels=1, progress=progress)
    train_index, val_index = validation_split(len(everything), cfg.seed)
    real = everything.subset(train_index)
    test = load_dataset("mnist", size, split="test", channels=1, progress=progress)
    if cfg.test_n is not None and cfg.test_n < len(test):
        test = test.subset(torch.randperm(len(test), generator=torch.Generator().manual_seed(cfg.seed))[: cfg.test_n])
    seconds["data"] = time.perf_counter() - t0

    t = time.perf_counter()
    if cfg.fc == "train":
        G_fc, fc_cfg = train_fc_baseline(cfg, dcgan_cfg, steps, everything, g_steps)
    else:
        (G_fc, fc_cfg), steps = load_conditional(cfg.fc, device), dcgan_steps(cfg.fc)
    G_fc.to(device)
    seconds["fc_training"] = time.perf_counter() - t

    per_class, K = list(cfg.per_class), G.n_classes
    errors = {}
    for name, net in (("dcgan", G), ("fc", G_fc)):
        t = time.perf_counter()
        blocks = nested_samples(net, per_class, cfg.seed, cfg.chunk, device)
        errors[name] = nn_curve(test.images, test.labels, blocks, per_class, device, cfg.chunk, progress, name)
        seconds[name] = time.perf_counter() - t

    t = time.perf_counter()
    counts = torch.bincount(real.labels, minlength=K)
    real_sizes = [n for n in per_class if n <= counts.min()]
    real_curve = nn_curve(
        test.images, test.labels, balanced_blocks(real, real_sizes, cfg.seed), real_sizes, device, cfg.chunk
    )
    errors["real"] = real_curve + [None] * (len(per_class) - len(real_sizes))
    all_real = NearestNeighbour(test.images, device, cfg.chunk)
    all_real.add(real.images, real.labels)
    real_all = all_real.error(test.labels)
    seconds["real"] = time.perf_counter() - t

    # Table 3's comparison: 50K generated samples (5,000 per class) against the 1-NN on all 50k real digits,
    # ours: each model's error the mean over cfg.draws noise draws of the samples (draw 0: the curve's).
    t = time.perf_counter()
    at = max((i for i, n in enumerate(per_class) if n <= 5000), default=0)
    n = per_class[at]
    ref = real_all if n == 5000 else errors["real"][at]
    headline = dict(per_class=n, total=n * K, draws=cfg.draws, real=ref, real_is_all_50k=n == 5000)
    for name, net in (("dcgan", G), ("fc", G_fc)):
        draws = [errors[name][at]] + [
            nn_curve(
                test.images,
                test.labels,
                nested_samples(net, [n], cfg.seed, cfg.chunk, device, draw=d),
                [n],
                device,
                cfg.chunk,
            )[0]
            for d in range(1, cfg.draws)
        ]
        headline.update(
            {
                name: float(np.mean(draws)),
                f"{name}_std": float(np.std(draws, ddof=1)) if cfg.draws > 1 else None,
                f"{name}_draws": draws,
            }
        )
    headline.update(dcgan_minus_real=headline["dcgan"] - ref, dcgan_minus_fc=headline["dcgan"] - headline["fc"])
    # Controls: the 1-NN on the fewest real digits per class (not 'about 3.1 %'), and the DCGAN against itself
    # (its first half of noise draws minus its second half: not 'below the FC GAN' by a margin).
    d, half = headline["dcgan_draws"], len(headline["dcgan_draws"]) // 2
    controls = dict(
        real_small=errors["real"][0],
        real_small_per_class=per_class[0],
        dcgan_minus_dcgan=float(np.mean(d[:half]) - np.mean(d[half : 2 * half])) if half else None,
    )
    seconds["draws"] = time.perf_counter() - t
    seconds["total"] = time.perf_counter() - t0
    return AppendixResult(
        config=cfg.to_dict(),
        dcgan=cfg.dcgan,
        dcgan_config=dcgan_cfg.to_dict(),
        dcgan_steps=g_steps,
        fc=cfg.fc,
        fc_steps=steps,
        fc_config=fc_cfg.to_dict(),
        n_test=len(test),
        n_train=len(real),
        n_validation=len(val_index),
        per_class=per_class,
        errors=errors,
        real_all=real_all,
        headline=headline,
        paper=PAPER_TABLE3,
        controls=controls,
        seconds=seconds,
        G=G,
        G_fc=G_fc,
        real=real,
    )
