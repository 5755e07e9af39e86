"""Training speed: our trainer vs a faithful re-implementation of pytorch/examples' DCGAN loop.

    python benchmarks/train_speed.py                  # the three nets, A B A B … rounds
    python benchmarks/train_speed.py --levers         # the per-lever table (torch-style 64×64)

Both loops run on the same real data (CelebA-10k from the mirror; CIFAR-10 for the 32×32 net),
same model and batch size, in one process, alternating baseline (A) and ours (B) so that machine
noise hits both alike. Reported: median images/s over the rounds, the ratio, and achieved
GFLOP/s (FLOPs of one training step counted by torch's FlopCounterMode) against this machine's
fp32 and bf16 GEMM throughput, measured in the same run.

The baseline is pytorch/examples `dcgan/main.py`: `ImageFolder` + PIL transforms (Resize,
CenterCrop, ToTensor, Normalize) in 2 DataLoader workers, Sigmoid + BCELoss, Adam 2e-4 / 0.5,
its own nets (defined below, as in that file), fp32, NCHW.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn
import torchvision.datasets as dset
import torchvision.transforms as T
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dcgan_core.data import load_dataset  # noqa: E402
from dcgan_core.train import TrainConfig, Trainer  # noqa: E402


# --- pytorch/examples dcgan/main.py, as it is there (for 64×64; 32×32 drops one block) ---------
class ExamplesG(nn.Module):
    def __init__(self, nz=100, ngf=64, nc=3, size=64):
        super().__init__()
        mult = size // 8
        layers = [nn.ConvTranspose2d(nz, ngf * mult, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * mult), nn.ReLU(True)]
        while mult > 1:
            layers += [
                nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ngf * mult // 2),
                nn.ReLU(True),
            ]
            mult //= 2
        layers += [nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, x):
        return self.main(x)


class ExamplesD(nn.Module):
    def __init__(self, ndf=64, nc=3, size=64):
        super().__init__()
        layers, mult = [nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)], 1
        while mult < size // 8:
            layers += [
                nn.Conv2d(ndf * mult, ndf * mult * 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ndf * mult * 2),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            mult *= 2
        layers += [nn.Conv2d(ndf * mult, 1, 4, 1, 0, bias=False), nn.Sigmoid()]
        self.main = nn.Sequential(*layers)

    def forward(self, x):
        return self.main(x).view(-1, 1).squeeze(1)


def weights_init(m):
    name = m.__class__.__name__
    if name.find("Conv") != -1:
        torch.nn.init.normal_(m.weight, 0.0, 0.02)
    elif name.find("BatchNorm") != -1:
        torch.nn.init.normal_(m.weight, 1.0, 0.02)
        torch.nn.init.zeros_(m.bias)


class Baseline:
    """pytorch/examples' training loop, step by step as in main.py."""

    def __init__(self, root: Path, size: int, batch: int):
        dataset = dset.ImageFolder(
            root=str(root),
            transform=T.Compose(
                [T.Resize(size), T.CenterCrop(size), T.ToTensor(), T.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))]
            ),
        )
        self.loader = torch.utils.data.DataLoader(
            dataset, batch_size=batch, shuffle=True, num_workers=2, drop_last=True, persistent_workers=True
        )
        self.it = iter(self.loader)
        self.netG, self.netD = ExamplesG(size=size), ExamplesD(size=size)
        self.netG.apply(weights_init)
        self.netD.apply(weights_init)
        self.criterion = nn.BCELoss()
        self.optD = torch.optim.Adam(self.netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.optG = torch.optim.Adam(self.netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.nz, self.batch = 100, batch

    def next_batch(self):
        try:
            return next(self.it)
        except StopIteration:
            self.it = iter(self.loader)
            return next(self.it)

    def step(self):
        netD, netG, criterion = self.netD, self.netG, self.criterion
        netD.zero_grad()
        real_cpu = self.next_batch()[0]
        batch_size = real_cpu.size(0)
        label = torch.full((batch_size,), 1.0, dtype=real_cpu.dtype)
        output = netD(real_cpu)
        errD_real = criterion(output, label)
        errD_real.backward()
        output.mean().item()
        noise = torch.randn(batch_size, self.nz, 1, 1)
        fake = netG(noise)
        label.fill_(0.0)
        output = netD(fake.detach())
        errD_fake = criterion(output, label)
        errD_fake.backward()
        output.mean().item()
        self.optD.step()
        netG.zero_grad()
        label.fill_(1.0)
        output = netD(fake)
        errG = criterion(output, label)
        errG.backward()
        output.mean().item()
        self.optG.step()


class Ours:
    """Our trainer, one `train_step` on the next batch of its preloaded data per step."""

    def __init__(self, cfg: TrainConfig, data):
        self.trainer = Trainer(cfg, data)
        self.i = 0

    def step(self):
        t = self.trainer
        t.train_step(*t.batch(self.i))
        self.i += 1


def images_per_s(loop, steps: int, warmup: int, batch: int) -> float:
    for _ in range(warmup):
        loop.step()
    _sync()
    t0 = time.perf_counter()
    for _ in range(steps):
        loop.step()
    _sync()
    return steps * batch / (time.perf_counter() - t0)


def _sync():
    """Wait for queued CUDA work, so that a timer measures it (a no-op on CPU)."""
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def step_flops(cfg: TrainConfig, data) -> int:
    """FLOPs of one training step (forward and backward of both nets), counted by torch."""
    ours = Ours(cfg.replace(compile=False, precision="fp32"), data)
    with FlopCounterMode(display=False) as counter:
        ours.step()
    return counter.get_total_flops()


def gemm_gflops(dtype: torch.dtype, n: int = 2048, reps: int = 10, device="cpu", clock=time.perf_counter) -> float:
    """Measured n×n matrix-multiply throughput in GFLOP/s: the hardware limit a step is compared with.
    `clock=time.process_time`: GFLOP per CPU-second of this process (all its threads), what a
    machine shared with other jobs changes least."""
    a, b = torch.randn(n, n, dtype=dtype, device=device), torch.randn(n, n, dtype=dtype, device=device)
    for _ in range(2):
        a @ b
    _sync()
    t0 = clock()
    for _ in range(reps):
        a @ b
    _sync()
    return 2 * n**3 * reps / (clock() - t0) / 1e9


NETS = {  # name: (config fields, image folder for the baseline relative to the cache)
    "torch64": (dict(dataset="celeba", arch="torch", image_size=64), "celeba"),
    "paper64": (dict(dataset="celeba", arch="paper", image_size=64), "celeba"),
    "cifar32": (dict(dataset="cifar10", arch="torch", image_size=32), "cifar10/train"),
}
# Our trainer's defaults (channels_last, precision "auto" = bf16 on this CPU); each lever below
# is measured on top of the previous ones.
FAST = dict(channels_last=True, precision="bf16")
LEVERS = [
    ("fp32, NCHW (preloaded uint8 data, no D weight grads in G's step)", dict(channels_last=False, precision="fp32")),
    ("+ channels_last", dict(channels_last=True, precision="fp32")),
    ("+ bf16 autocast", dict(channels_last=True, precision="bf16")),
    ("+ torch.compile", dict(channels_last=True, precision="bf16", compile=True)),
]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nets", nargs="*", default=list(NETS), choices=list(NETS))
    p.add_argument("--batch", type=int, default=64, help="batch size of both loops (pytorch/examples: 64)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--steps", type=int, default=10, help="timed steps per round and loop")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--levers", action="store_true", help="per-lever table on torch64 instead")
    p.add_argument("--json", help="also write the results here")
    args = p.parse_args()
    torch.manual_seed(0)
    cache = Path(os.environ.get("DCGAN_DATA_DIR", Path(__file__).resolve().parents[1] / "data"))

    peak = {"fp32": gemm_gflops(torch.float32), "bf16": gemm_gflops(torch.bfloat16)}
    print(
        f"GEMM peak here: fp32 {peak['fp32']:.0f} GFLOP/s, bf16 {peak['bf16']:.0f} GFLOP/s, "
        f"{torch.get_num_threads()} threads, torch {torch.__version__}"
    )
    results = {"peak_gflops": peak, "batch": args.batch, "nets": {}}

    if args.levers:
        fields, _ = NETS["torch64"]
        base = TrainConfig(**fields, batch_size=args.batch, progress=False, out="/tmp/bench")
        data = load_dataset(base.dataset, base.image_size, progress=False)
        flops = step_flops(base, data)
        loops = {name: Ours(base.replace(**kw), data) for name, kw in LEVERS}
        speeds = {name: [] for name in loops}
        for r in range(args.rounds):
            for name, loop in loops.items():
                speeds[name].append(images_per_s(loop, args.steps, args.warmup if r == 0 else 1, args.batch))
        print(f"\n| lever (torch-style 64×64, batch {args.batch}) | img/s | GFLOP/s |\n|---|---|---|")
        for name, v in speeds.items():
            m = statistics.median(v)
            print(f"| {name} | {m:.1f} | {m / args.batch * flops / 1e9:.0f} |")
        results["levers"] = {k: statistics.median(v) for k, v in speeds.items()}
    else:
        print(
            "\n| net | baseline img/s | ours img/s | ratio | GFLOP/s ours (base) | % of bf16 peak |\n|---|---|---|---|---|---|"
        )
        for net in args.nets:
            fields, folder = NETS[net]
            cfg = TrainConfig(**fields, **FAST, batch_size=args.batch, progress=False, out="/tmp/bench")
            data = load_dataset(cfg.dataset, cfg.image_size, progress=False)
            flops = step_flops(cfg, data)
            base = Baseline(cache / folder, cfg.image_size, args.batch)
            if net == "paper64":  # the baseline loop, on the paper's nets (same model for both)
                from dcgan_core.models import build_models

                G, D = build_models(cfg, seed=0)
                base.netG = _FlatZ(G)
                base.netD = nn.Sequential(D, nn.Sigmoid())
                base.optD = torch.optim.Adam(base.netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
                base.optG = torch.optim.Adam(base.netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
            ours = Ours(cfg, data)
            a, b = [], []
            for r in range(args.rounds):
                w = args.warmup if r == 0 else 1
                a.append(images_per_s(base, args.steps, w, args.batch))
                b.append(images_per_s(ours, args.steps, w, args.batch))
            ma, mb = statistics.median(a), statistics.median(b)
            ga, gb = ma / args.batch * flops / 1e9, mb / args.batch * flops / 1e9
            print(
                f"| {net} | {ma:.1f} | {mb:.1f} | {mb / ma:.2f}× | {gb:.0f} ({ga:.0f}) | {100 * gb / peak['bf16']:.0f}% |"
            )
            results["nets"][net] = dict(baseline=a, ours=b, ratio=mb / ma, step_gflop=flops / 1e9)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


class _FlatZ(nn.Module):
    """Our G taking pytorch/examples' z (N×nz×1×1 normal) — for the paper64 baseline."""

    def __init__(self, G):
        super().__init__()
        self.G = G

    def forward(self, z):
        return self.G(z.flatten(1))


if __name__ == "__main__":
    main()
