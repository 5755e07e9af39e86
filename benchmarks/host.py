"""This host's speed in one JSON file: the README's "Performance" table is generated from it.

    python benchmarks/host.py                      # results/bench/HOSTTAG.json, FID at n = 5,000 included
    python benchmarks/host.py --fid-n 0            # without the FID wall time
    python benchmarks/host.py --quality 1000       # and bf16's FID against fp32's on the same images
    python benchmarks/host.py --quick --json /tmp/host.json    # tiny sizes: checks that it runs (the test)

What it measures, each on this host, in one process (the functions of train_speed.py and
inception_speed.py, not copies):

1. the CPU model and the flags that decide speed (AVX-512, AVX-512 BF16, AMX: record.machine);
2. the fp32 and bf16 GEMM throughput (2048² matmuls), per wall second and per CPU-second;
3. training images/s of our trainer against the pytorch/examples loop (train_speed.Baseline),
   alternated A B C A B C, on the same net, batch and data, with the step's achieved GFLOP/s; ours
   runs with precision "auto" (bf16 only where its GEMM measures faster), C in the other precision;
4. Inception (FID's features) images/s and CPU seconds per image, fp32 against the bf16 path,
   alternated on the same CIFAR-10 test images with the GEMM peaks measured in the same rounds;
5. the wall time of one `metrics.evaluate` of a zoo model at n samples against the training set,
   generation included, with the real features cached (their first computation is timed apart);
6. with `--quality N`: FID(CIFAR-10 train, test) of N images each, fp32 against bf16.

Run it with nothing else on the machine where the wall times matter; the CPU-seconds columns are
what sharing the machine changes least. `python -m dcgan_core readme` then renders every
results/bench/*.json into the README, each number beside the host that measured it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from inception_speed import alternate, cifar10, quality  # noqa: E402
from train_speed import FAST, NETS, Baseline, Ours, gemm_gflops, images_per_s, step_flops  # noqa: E402

from dcgan_core.data import cache_root, load_dataset  # noqa: E402
from dcgan_core.hardware import cpu_bf16_kernels, resolve_precision  # noqa: E402
from dcgan_core.record import git_state, machine  # noqa: E402
from dcgan_core.train import TrainConfig  # noqa: E402

BENCH = ROOT / "results" / "bench"


def host_tag(m: dict) -> str:
    """A file name for the host: CPU model, cores, matrix units ('intel-xeon-processor-2c-avx512bf16')."""
    cpu = re.sub(r"\((r|tm)\)|cpu|@.*", "", m["cpu"].lower())
    units = "amx" if m["amx"] else "avx512bf16" if m["avx512_bf16"] else "avx512" if m["avx512"] else "noavx512"
    return "-".join([re.sub(r"[^a-z0-9]+", "-", cpu).strip("-"), f"{m['cores']}c", units])


def gemm(size: int, reps: int, bf16_size: int | None = None) -> dict:
    """fp32 and bf16 matmul GFLOP/s, per wall second and per CPU-second (bf16 at `bf16_size`, 2 reps,
    where given)."""
    sizes = {"fp32": (torch.float32, size, reps), "bf16": (torch.bfloat16, bf16_size or size, 2 if bf16_size else reps)}
    out = {
        f"{name}_{clock}": gemm_gflops(dtype, n, r, clock=fn)
        for name, (dtype, n, r) in sizes.items()
        for clock, fn in (("wall", time.perf_counter), ("cpu", time.process_time))
    }
    return out | {"size": size, "bf16_size": sizes["bf16"][1]}


def training(net: str, batch: int, rounds: int, steps: int, warmup: int, limit: int | None, bf16: bool) -> dict:
    """Ours vs pytorch/examples' loop on `net` (train_speed.NETS), alternated, medians of img/s; ours in
    the other precision too where `bf16` (the host has bf16 kernels)."""
    fields, folder = NETS[net]
    cfg = TrainConfig(**fields, **FAST, batch_size=batch, limit=limit, progress=False, out="/tmp/bench")
    data = load_dataset(cfg.dataset, cfg.image_size, limit=limit, progress=False)
    flops = step_flops(cfg, data)
    base = Baseline(cache_root() / folder, cfg.image_size, batch)
    # ours runs as a user's run does: precision "auto" (bf16 only where it measures faster); the other
    # precision beside it shows what that choice is worth on this host
    auto = resolve_precision("auto", torch.device("cpu"))
    other = ("fp32" if auto == "bf16" else "bf16") if bf16 else None
    ours = Ours(cfg.replace(precision="auto"), data)
    ours_other = Ours(cfg.replace(precision=other), data) if other else None
    a, b, c = [], [], []
    for r in range(rounds):
        w = warmup if r == 0 else 1
        a.append(images_per_s(base, steps, w, batch))
        b.append(images_per_s(ours, steps, w, batch))
        if ours_other:
            c.append(images_per_s(ours_other, steps, w, batch))
    ma, mb = statistics.median(a), statistics.median(b)
    return {
        "net": net,
        "batch": batch,
        "rounds": rounds,
        "steps": steps,
        "ours": {**FAST, "precision": "auto"},  # the settings ours ran with ("auto": ours_precision says what it took)
        "baseline_img_per_s": ma,
        "ours_img_per_s": mb,
        "ratio": mb / ma,
        "step_gflop": flops / 1e9,
        "ours_gflop_per_s": mb / batch * flops / 1e9,
        "ours_precision": auto,
        "ours_other_precision": other,
        "ours_other_img_per_s": statistics.median(c) if c else None,
        "baseline_runs": a,
        "ours_runs": b,
        "ours_other_runs": c,
    }


def inception(n: int, batch: int, rounds: int, gemm_size: int, bf16: bool) -> dict:
    """Inception fp32 vs bf16 (metrics.inception_features) on n CIFAR-10 test images, alternated (fp32
    alone without `bf16`)."""
    paths = {"fp32": {}, "bf16": dict(precision="bf16")} if bf16 else {"fp32": {}}
    r = alternate(paths, cifar10("test", n), batch, rounds, gemm_size, dtypes=tuple(paths))
    f = r.pop("features")
    if bf16:
        r["rel_l2_bf16_vs_fp32"] = float(((f["bf16"] - f["fp32"]) ** 2).sum() ** 0.5 / (f["fp32"] ** 2).sum() ** 0.5)
    return r


def fid_time(checkpoint: str, n: int, precision: str, batch: int) -> dict:
    """Wall and CPU seconds of one metrics.evaluate of `checkpoint` at n samples against as many training
    images (generation, features, FID and KID), the real features cached first (timed apart)."""
    from dcgan_core.metrics import evaluate, real_features
    from dcgan_core.pretrained import load_models

    G, _, cfg = load_models(checkpoint)
    t, c = time.perf_counter(), time.process_time()
    real_features(cfg.dataset, "train", n, G.image_size, channels=G.channels, batch_size=batch)
    real = {"wall_s": time.perf_counter() - t, "cpu_s": time.process_time() - c}
    t, c = time.perf_counter(), time.process_time()
    scores = evaluate(G, cfg.dataset, n=n, split="train", precision=precision, batch_size=batch)
    return {
        "checkpoint": checkpoint,
        "n": n,
        "split": "train",
        "precision": precision,
        "batch": batch,
        "wall_s": time.perf_counter() - t,
        "cpu_s": time.process_time() - c,
        "fid": scores.fid,
        "real_features_first": real,
    }


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", help=f"where to write the results (default: {BENCH.relative_to(ROOT)}/HOSTTAG.json)")
    p.add_argument("--quick", action="store_true", help="tiny sizes: a check that everything runs, not a measurement")
    p.add_argument("--net", choices=list(NETS), help="training net (default torch64; --quick: cifar32)")
    p.add_argument("--fid-n", type=int, help="samples for the FID wall time (default 5000; --quick 16; 0 skips it)")
    p.add_argument("--fid-checkpoint", default="zoo:cifar32")
    p.add_argument("--fid-precision", default="fp32", choices=["fp32", "bf16"])
    p.add_argument(
        "--quality",
        type=int,
        default=0,
        metavar="N",
        help="also FID(CIFAR-10 train, test) of N images each in fp32 and bf16 (inception_speed.quality; 1000: issue 30's check)",
    )
    p.add_argument("--skip-train", action="store_true", help="leave out the training comparison")
    args = p.parse_args(argv)
    q = args.quick
    size = dict(
        gemm=(256, 2) if q else (2048, 10),
        train=dict(batch=4, rounds=1, steps=1, warmup=0, limit=128)
        if q
        else dict(batch=64, rounds=3, steps=10, warmup=2, limit=None),
        inception=dict(n=4, batch=4, rounds=1, gemm_size=256) if q else dict(n=64, batch=64, rounds=3, gemm_size=2048),
    )
    fid_n = args.fid_n if args.fid_n is not None else 16 if q else 5000
    m = machine()
    print(f"host: {m['cpu']}, {m['cores']} cores, avx512_bf16 {m['avx512_bf16']}, amx {m['amx']}", flush=True)
    torch.manual_seed(0)
    out = {
        "host": m,
        "tag": host_tag(m),
        "date": datetime.date.today().isoformat(),
        **git_state(),
        "quick": q,
        "load_average": os.getloadavg(),
        "bf16_native": (native := cpu_bf16_kernels()),
        "gemm_gflops": gemm(*size["gemm"], bf16_size=None if native else min(512, size["gemm"][0])),
    }
    g = out["gemm_gflops"]
    print(
        f"GEMM GFLOP/s: fp32 {g['fp32_wall']:.0f}, bf16 {g['bf16_wall']:.2f} (per CPU-second {g['fp32_cpu']:.0f} / {g['bf16_cpu']:.2f})"
    )
    if not native:
        print(f"no bf16 kernels on this host (bf16 GEMM at {g['bf16_size']}²): bf16 runs left out", flush=True)
    if not args.skip_train:
        t = out["training"] = training(args.net or ("cifar32" if q else "torch64"), **size["train"], bf16=native)
        other = f"; in {t['ours_other_precision']} {t['ours_other_img_per_s']:.1f} img/s" if native else ""
        print(
            f"training {t['net']}: pytorch/examples {t['baseline_img_per_s']:.1f} img/s, ours {t['ours_img_per_s']:.1f} img/s, {t['ratio']:.2f}× (ours in {t['ours_precision']}{other})",
            flush=True,
        )
    i = out["inception"] = inception(**size["inception"], bf16=native)
    print(
        "Inception img/s: "
        + ", ".join(f"{k} {v['img_per_s']:.2f} ({v['cpu_s_per_img']:.3f} CPU s/img)" for k, v in i["paths"].items()),
        flush=True,
    )
    if args.quality and native:
        qq = out["quality"] = quality(args.quality)
        print(f"FID(CIFAR-10 train, test), n = {args.quality}: fp32 {qq['fid_fp32']:.3f}, bf16 {qq['fid_bf16']:.3f}")
    if fid_n:
        f = out["fid"] = fid_time(args.fid_checkpoint, fid_n, args.fid_precision, size["inception"]["batch"])
        print(f"FID of {f['checkpoint']} at n = {fid_n} vs train: {f['fid']:.2f} in {f['wall_s'] / 60:.1f} min wall")
    path = Path(args.json) if args.json else BENCH / f"{out['tag']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")
    return out


if __name__ == "__main__":
    main()
