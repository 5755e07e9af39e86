"""Inception-v3 (FID features) throughput on this machine, and reference FID/KID numbers.

    python benchmarks/inception_speed.py --fid 1000 --batch 32   # the table: reference vs fast Inception
    python benchmarks/inception_speed.py                    # img/s: fp32, channels_last, bf16 weights
    python benchmarks/inception_speed.py --reference 300    # FID(train, test), FID(test, noise), KID(test halves)
    python benchmarks/inception_speed.py --frechet 500      # our Fréchet distance vs pytorch-fid's scipy sqrtm
    python benchmarks/inception_speed.py --quality 1000     # FID(CIFAR-10 train, test): fp32 vs the bf16 path
    python benchmarks/inception_speed.py --profile fp32 --batch 32   # per-op table (torch.profiler)

The table (`--fid N`): the reference TorchScript vs the fast module (inception.py) and the fast one
with bf16 weights (precision="bf16"), all through `metrics.inception_features` on the same `--batch` CIFAR-10 test
images, alternated A B C A B C for `--rounds` rounds after a warm-up call each; medians of wall
images/s and of CPU seconds per image (process time: what the machine being shared by other jobs
changes least), ratios to the reference; feature error = relative L2 against the reference's
features of the same images; FID(CIFAR-10 train, test) with N images each through each path.

Speed: each variant runs `--rounds` times on the same batch of random 32×32 images (alternated,
medians), after one warm-up call each; bf16's feature error is the relative L2 vs fp32.
The reference mode needs the data mirror (DCGAN_MIRROR) and writes nothing but caches.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_speed import gemm_gflops  # noqa: E402

from dcgan_core.metrics import fid_from_features, inception_features, inception_model, kid_from_features, real_features  # noqa: E402


def speed(batch: int, rounds: int) -> dict:
    x = torch.randint(0, 256, (batch, 3, 32, 32), dtype=torch.uint8)
    variants = {
        "fp32": dict(),
        "fp32 channels_last": dict(channels_last=True),
        "bf16 weights + channels_last": dict(precision="bf16", channels_last=True),
    }
    feats, times = {}, {k: [] for k in variants}
    for name, kw in variants.items():
        feats[name] = inception_features(x, batch_size=batch, **kw)  # warm-up (TorchScript profiling runs)
    for _ in range(rounds):
        for name, kw in variants.items():
            t = time.perf_counter()
            inception_features(x, batch_size=batch, **kw)
            times[name].append(time.perf_counter() - t)
    ref = feats["fp32"]
    return {
        name: {
            "img_per_s": round(batch / statistics.median(times[name]), 2),
            "rel_l2_vs_fp32": float(np.linalg.norm(feats[name] - ref) / np.linalg.norm(ref)),
        }
        for name in variants
    } | {"threads": torch.get_num_threads(), "batch": batch, "rounds": rounds}


def alternate(
    paths: dict[str, dict], x: torch.Tensor, batch: int, rounds: int, gemm_size: int = 2048, dtypes=("fp32", "bf16")
) -> dict:
    """Each path (keywords of metrics.inception_features) on the images `x`, alternated A B C … for
    `rounds` rounds after a warm-up call each, with the GEMM throughput of each of `dtypes` measured
    in every round too (the machine is shared): medians of wall images/s and of CPU seconds per image
    (process time), GEMM GFLOP/s per wall second and per CPU-second; the features of the warm-up."""
    feats, wall, cpu = {}, {k: [] for k in paths}, {k: [] for k in paths}
    dtypes = {d: {"fp32": torch.float32, "bf16": torch.bfloat16}[d] for d in dtypes}
    gemm = {f"{d}_{clock}": [] for d in dtypes for clock in ("wall", "cpu")}
    for name, kw in paths.items():
        feats[name] = inception_features(x, batch_size=batch, **kw)  # warm-up
    for _ in range(rounds):
        for d, dtype in dtypes.items():
            gemm[f"{d}_wall"].append(gemm_gflops(dtype, gemm_size))
            gemm[f"{d}_cpu"].append(gemm_gflops(dtype, gemm_size, clock=time.process_time))
        for name, kw in paths.items():
            t, c = time.perf_counter(), time.process_time()
            inception_features(x, batch_size=batch, **kw)
            wall[name].append(time.perf_counter() - t)
            cpu[name].append(time.process_time() - c)
    n = len(x)
    return {
        "images": n,
        "batch": batch,
        "rounds": rounds,
        "threads": torch.get_num_threads(),
        "gemm_gflops": {k: statistics.median(v) for k, v in gemm.items()},
        "paths": {
            name: {
                "img_per_s": n / statistics.median(wall[name]),
                "cpu_s_per_img": statistics.median(cpu[name]) / n,
                "wall_s": wall[name],
                "cpu_s": cpu[name],
            }
            for name in paths
        },
        "features": feats,
    }


PATHS = {
    "reference (TorchScript, fp32)": dict(inception="reference"),
    "fast (inception.py, fp32)": dict(inception="fast"),
    "fast + bf16 weights": dict(inception="fast", precision="bf16"),
}


def cifar10(split: str, n: int) -> torch.Tensor:
    """The n CIFAR-10 images of `split` that metrics.real_features picks (seed 0), uint8."""
    from dcgan_core.data import load_dataset

    images = load_dataset("cifar10", 32, split=split, progress=False).images
    return images[torch.from_numpy(np.sort(np.random.default_rng(0).permutation(len(images))[:n]))]


def table(batch: int, rounds: int, fid_n: int) -> dict:
    """Reference vs fast Inception, measured side by side: the README's table, with the achieved
    GFLOP/s against this machine's fp32 matrix-multiply throughput (measured in the same run)."""
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        inception_model()(torch.zeros(1, 3, 299, 299))
    flops, peaks = counter.get_total_flops(), []
    x = cifar10("test", batch)
    feats, wall, cpu = {}, {k: [] for k in PATHS}, {k: [] for k in PATHS}
    for name, kw in PATHS.items():
        feats[name] = inception_features(x, batch_size=batch, **kw)  # warm-up
    for _ in range(rounds):
        peaks.append(gemm_gflops(torch.float32))  # in the alternation too: the machine is shared
        for name, kw in PATHS.items():
            t, c = time.perf_counter(), time.process_time()
            inception_features(x, batch_size=batch, **kw)
            wall[name].append(time.perf_counter() - t)
            cpu[name].append(time.process_time() - c)
    ref, peak = next(iter(PATHS)), statistics.median(peaks)
    rel = lambda a, b: float(np.linalg.norm(a - b) / np.linalg.norm(b))  # noqa: E731
    rows = {
        name: {
            "img_per_s": batch / statistics.median(wall[name]),
            "gflop_per_s": batch / statistics.median(wall[name]) * flops / 1e9,
            "cpu_s_per_img": statistics.median(cpu[name]) / batch,
            "speedup_wall": statistics.median(wall[ref]) / statistics.median(wall[name]),
            "speedup_cpu": statistics.median(cpu[ref]) / statistics.median(cpu[name]),
            "rel_l2": rel(feats[name], feats[ref]),
            "wall_s": wall[name],
            "cpu_s": cpu[name],
        }
        for name in PATHS
    }
    if fid_n:
        real = {split: cifar10(split, fid_n) for split in ("train", "test")}
        for name, kw in PATHS.items():
            if "precision" in kw:  # bf16's FID: --quality measures it
                continue
            f = {split: inception_features(images, **kw) for split, images in real.items()}
            rows[name]["fid"] = fid_from_features(f["train"], f["test"])
            rows[name]["features"] = np.concatenate([f["train"], f["test"]])
        for name in PATHS:
            if "features" in rows[name] and name != ref:
                rows[name]["rel_l2_fid_images"] = rel(rows[name].pop("features"), rows[ref]["features"])
        rows[ref].pop("features")
    print(
        f"\n{torch.get_num_threads()} threads, batch {batch}, {rounds} rounds, torch {torch.__version__}, "
        f"load average {' '.join(open('/proc/loadavg').read().split()[:3])}; {flops / 1e9:.2f} GFLOP per image; "
        f"fp32 GEMM peak here {peak:.0f} GFLOP/s\n"
    )
    print(
        "| Inception | img/s (wall) | GFLOP/s (% of fp32 peak) | CPU s / img | speed-up wall / CPU | "
        f"feature rel. L2 vs reference | FID train vs test, n = {fid_n} | ΔFID |\n|---|---|---|---|---|---|---|---|"
    )
    for name, r in rows.items():
        err = r.get("rel_l2_fid_images", r["rel_l2"])
        fid = f"{r['fid']:.3f}" if "fid" in r else "—"
        dfid = (
            f"{r['fid'] - rows[ref]['fid']:+.4f} ({100 * (r['fid'] / rows[ref]['fid'] - 1):+.4f} %)"
            if "fid" in r
            else "—"
        )
        print(
            f"| {name} | {r['img_per_s']:.1f} | {r['gflop_per_s']:.0f} ({100 * r['gflop_per_s'] / peak:.0f} %) | "
            f"{r['cpu_s_per_img']:.3f} | {r['speedup_wall']:.2f}× / "
            f"{r['speedup_cpu']:.2f}× | {err:.1e} | {fid} | {dfid} |"
        )
    return {
        "threads": torch.get_num_threads(),
        "batch": batch,
        "rounds": rounds,
        "fid_n": fid_n,
        "gflop_per_image": flops / 1e9,
        "fp32_gemm_peak_gflops": peak,
        "paths": rows,
    }


def reference(n: int) -> dict:
    t0 = time.perf_counter()
    test = real_features("cifar10", "test", n)["features"]
    train = real_features("cifar10", "train", n)["features"]
    noise = inception_features(
        torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    )
    # bf16 (+ channels_last) on the same real images: how far does FID move?
    from dcgan_core.data import load_dataset

    bf16 = {}
    for split in ("train", "test"):
        images = load_dataset("cifar10", 32, split=split, progress=False).images
        index = np.sort(np.random.default_rng(0).permutation(len(images))[:n])  # real_features' pick
        bf16[split] = inception_features(images[torch.from_numpy(index)], precision="bf16", channels_last=True)
    half = n // 2  # even and odd rows: real_features' rows follow the class-sorted file order
    kid_halves = kid_from_features(test[0 : 2 * half : 2], test[1 : 2 * half : 2])
    return {
        "n": n,
        "fid_train_vs_test": fid_from_features(train, test),
        "fid_test_vs_uniform_noise": fid_from_features(test, noise),
        "fid_train_vs_test_bf16": fid_from_features(bf16["train"], bf16["test"]),
        "feature_rel_l2_bf16_vs_fp32": float(np.linalg.norm(bf16["test"] - test) / np.linalg.norm(test)),
        "kid_test_halves": {"n_each": half, "mean": kid_halves[0], "std": kid_halves[1]},
        "kid_train_vs_test": dict(zip(("mean", "std"), kid_from_features(train, test))),
        "kid_test_vs_uniform_noise": dict(zip(("mean", "std"), kid_from_features(test, noise))),
        "seconds": round(time.perf_counter() - t0, 1),
    }


def profile(batch: int, precision: str) -> dict:
    """torch.profiler's per-op table of one forward of the fast module on `batch` random images: where
    the time goes (convolutions, ReLU when it is not fused, concatenations, pooling)."""
    from torch.profiler import profile as profiler

    from dcgan_core.metrics import _inception_input

    model = inception_model(precision=precision)
    x = _inception_input(torch.randint(0, 256, (batch, 3, 32, 32), dtype=torch.uint8), "cpu")
    x = x.contiguous(memory_format=torch.channels_last).to(next(model.parameters()).dtype)
    with torch.inference_mode():
        model(x)  # warm-up
        with profiler() as prof:
            model(x)
    ops = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in ops)
    print(ops.table(sort_by="self_cpu_time_total", row_limit=10))
    return {
        "batch": batch,
        "precision": precision,
        "self_cpu_share": {e.key: e.self_cpu_time_total / total for e in ops if e.self_cpu_time_total > 0.01 * total},
    }


def quality(n: int) -> dict:
    """FID(CIFAR-10 train, test) of n images each in fp32 (metrics.real_features: cached) and through
    the bf16 path on the same images; the feature error of bf16 on the test images."""
    fp32 = {split: real_features("cifar10", split, n)["features"] for split in ("train", "test")}
    bf16 = {split: inception_features(cifar10(split, n), precision="bf16") for split in ("train", "test")}
    fid32, fid16 = fid_from_features(fp32["train"], fp32["test"]), fid_from_features(bf16["train"], bf16["test"])
    return {
        "n": n,
        "fid_fp32": fid32,
        "fid_bf16": fid16,
        "fid_bf16_minus_fp32": fid16 - fid32,
        "feature_rel_l2_bf16_vs_fp32": float(
            np.linalg.norm(bf16["test"] - fp32["test"]) / np.linalg.norm(fp32["test"])
        ),
    }


def frechet(n: int) -> dict:
    """FID(CIFAR-10 train, test) from n cached features each: metrics.frechet_distance (two eigh)
    against pytorch-fid's formula (scipy.linalg.sqrtm of S1 S2), values and seconds."""
    from scipy import linalg

    from dcgan_core.metrics import frechet_distance, gaussian_stats

    a, b = (gaussian_stats(real_features("cifar10", split, n)["features"]) for split in ("train", "test"))
    t = time.perf_counter()
    ours = frechet_distance(*a, *b)
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    covmean = linalg.sqrtm(a[1] @ b[1]).real
    scipy_fid = float(np.sum((a[0] - b[0]) ** 2) + np.trace(a[1]) + np.trace(b[1]) - 2 * np.trace(covmean))
    t_scipy = time.perf_counter() - t
    return {
        "n": n,
        "fid_ours": ours,
        "fid_scipy_sqrtm": scipy_fid,
        "seconds_ours": round(t_ours, 2),
        "seconds_scipy_sqrtm": round(t_scipy, 2),
    }


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--reference", type=int, metavar="N", help="reference FID/KID on CIFAR-10, N images each")
    p.add_argument("--profile", choices=["fp32", "bf16"], help="torch.profiler's per-op table of the fast module")
    p.add_argument("--quality", type=int, metavar="N", help="FID(CIFAR-10 train, test) of N images each, fp32 vs bf16")
    p.add_argument("--frechet", type=int, metavar="N", help="time the Fréchet distance on N CIFAR-10 features each")
    p.add_argument(
        "--fid",
        type=int,
        metavar="N",
        help="the reference-vs-fast table, with FID(CIFAR-10 train, test) of N images each (0: speed only)",
    )
    args = p.parse_args()
    result = (
        reference(args.reference)
        if args.reference
        else profile(args.batch, args.profile)
        if args.profile
        else quality(args.quality)
        if args.quality
        else frechet(args.frechet)
        if args.frechet
        else table(args.batch, args.rounds, args.fid)
        if args.fid is not None
        else speed(args.batch, args.rounds)
    )
    print(json.dumps(result, indent=1))
