"""Multi-process training with a real `torchrun` on CPU (gloo, 2 processes, a few steps)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import small_net

ROOT = Path(__file__).resolve().parents[1]
SMALL = [
    "--dataset",
    "mnist",
    "--limit",
    "256",
    *small_net(batch_size=32),
]
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]


@pytest.fixture(scope="module")
def env(mirror, tmp_path_factory):
    return {
        **os.environ,
        "DCGAN_MIRROR": str(mirror),
        "OMP_NUM_THREADS": "1",
        "DCGAN_DATA_DIR": str(tmp_path_factory.mktemp("ddp-data")),
    }


def run(cmd, env, cwd):
    r = subprocess.run([str(c) for c in cmd], env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    return r


def params(state):
    return {
        f"{net}.{k}": v
        for net in ("generator", "discriminator")
        for k, v in state[net].items()
        if "running" not in k and "num_batches" not in k
    }


@pytest.mark.slow
def test_both_ranks_hold_identical_weights(env, tmp_path):
    run([*TORCHRUN, ROOT / "tests" / "_ddp_ranks.py", tmp_path, 3], env, tmp_path)
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert r0["world"] == r1["world"] == 2
    p0, p1 = params(r0), params(r1)
    assert p0.keys() == p1.keys()
    for k in p0:
        assert torch.equal(p0[k], p1[k]), k
    # only rank 0 wrote the run's files
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "checkpoints",
        "config.json",
        "metrics.csv",
        "rank0.pt",
        "rank1.pt",
    ]
    assert len((tmp_path / "metrics.csv").read_text().splitlines()) == 1 + 3


@pytest.mark.slow
def test_ddp_checkpoint_resumes_in_one_process_and_back(env, tmp_path):
    dcgan = ["-m", "dcgan_core", "train"]
    run([*TORCHRUN, *dcgan, *SMALL, "--max-steps", 3, "--out", "run"], env, tmp_path)
    ckpt = tmp_path / "run" / "checkpoints" / "last.pt"
    assert torch.load(ckpt, weights_only=True)["step"] == 3
    run([sys.executable, *dcgan, "--out", "run", "--resume", "--max-steps", 5, "--no-progress"], env, tmp_path)
    assert torch.load(ckpt, weights_only=True)["step"] == 5
    run([*TORCHRUN, *dcgan, "--out", "run", "--resume", "--max-steps", 7, "--no-progress"], env, tmp_path)
    state = torch.load(ckpt, weights_only=True)
    assert state["step"] == 7
    steps = [int(line.split(",")[0]) for line in (tmp_path / "run" / "metrics.csv").read_text().splitlines()[1:]]
    assert steps == list(range(1, 8))
    # BN running averages were averaged over the ranks and are finite
    assert all(torch.isfinite(v).all() for k, v in state["discriminator"].items() if "running" in k)
