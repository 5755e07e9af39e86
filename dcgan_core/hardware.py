"""Where a run computes: its precision (bf16 only where the hardware measures faster) and, under
torchrun, its process group. `train` and the sampling of §8 read these."""

from __future__ import annotations

import contextlib
import functools
import os
import time

import numpy as np
import torch
import torch.distributed as dist


def resolve_precision(precision: str, device: torch.device) -> str:
    """ "auto" → "bf16" where the hardware computes bf16 faster than fp32: CUDA with bf16, or a CPU
    with bf16 instructions whose bf16 matrix multiplies measure clearly faster (`cpu_bf16_pays`),
    else "fp32"."""
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if cpu_bf16_kernels() and cpu_bf16_pays() else "fp32"


def cpu_bf16_kernels() -> bool:
    """Whether oneDNN has bf16 kernels for this CPU (AVX-512 and up). Without them (AVX2 only) bf16 is
    emulated, hundreds of times slower than fp32, and oneDNN's fused ops refuse it."""
    return torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()


@functools.cache
def cpu_bf16_pays(n: int = 1024, rounds: int = 5, margin: float = 1.3) -> bool:
    """Whether this CPU multiplies bf16 matrices at least `margin` times faster than fp32, timed once
    per process (n×n GEMMs alternated fp32, bf16 for `rounds` rounds, medians; about a tenth of a second).
    The flags do not tell: AMX runs bf16 ~6× fp32 and AMD's AVX512-BF16 ~2.3×, but Intel hosts that
    show AVX512-BF16 without AMX run bf16 slower than fp32 (benchmarks/host.py measures both peaks)."""
    mats = {dt: (torch.randn(n, n).to(dt), torch.randn(n, n).to(dt)) for dt in (torch.float32, torch.bfloat16)}
    times = {dt: [] for dt in mats}
    for _ in range(rounds + 1):  # the first round warms up
        for dt, (a, b) in mats.items():
            start = time.perf_counter()
            a @ b
            times[dt].append(time.perf_counter() - start)
    fp32, bf16 = (float(np.median(times[dt][1:])) for dt in mats)
    return fp32 >= margin * bf16


def rank_and_world() -> tuple[int, int]:
    """(rank, number of processes): (0, 1) unless torch.distributed is initialised (torchrun)."""
    return (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)


@contextlib.contextmanager
def distributed():
    """Under torchrun (WORLD_SIZE > 1): join the process group — NCCL with one GPU per rank,
    else gloo on CPU — and leave it afterwards. A no-op in a single process."""
    if int(os.environ.get("WORLD_SIZE", 1)) <= 1 or dist.is_initialized():
        yield
        return
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
    dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    try:
        yield
    finally:
        dist.destroy_process_group()
