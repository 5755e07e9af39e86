"""benchmarks/host.py runs end to end with --quick (tiny sizes, a real process) and writes the JSON
that the README's performance table is rendered from; the table names the host beside its numbers."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dcgan_core.record import host_name, performance_table, readme_blocks

REPO_ROOT = Path(__file__).resolve().parents[1]


def run_benchmark(script: str, *args: str, mirror, cache, tmp_path) -> dict:
    """benchmarks/SCRIPT as a real process on the offline mirror; the JSON it writes."""
    out = tmp_path / "bench.json"
    env = {**os.environ, "DCGAN_MIRROR": str(mirror), "DCGAN_DATA_DIR": str(cache)}
    done = subprocess.run(
        [sys.executable, f"benchmarks/{script}", *args, "--json", str(out)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


def test_quick_run_writes_every_measurement_and_the_readme_table_renders_it(mirror, shared_cache_dir, tmp_path):
    b = run_benchmark("host.py", "--quick", "--fid-n", "8", mirror=mirror, cache=shared_cache_dir, tmp_path=tmp_path)
    assert {"host", "tag", "date", "commit", "quick", "gemm_gflops", "training", "inception", "fid"} <= set(b)
    assert b["quick"] is True
    assert {"cpu", "cores", "avx512_bf16", "amx"} <= set(b["host"])
    gemm = b["gemm_gflops"]
    assert {"fp32_wall", "fp32_cpu", "bf16_wall", "bf16_cpu"} <= set(gemm) and min(gemm.values()) > 0
    t = b["training"]
    assert t["ratio"] == t["ours_img_per_s"] / t["baseline_img_per_s"] and t["net"] == "cifar32"
    table = performance_table([b]).splitlines()
    assert len(table) == 3 and table[2].startswith(f"| {host_name(b['host'])}") and f"{t['ratio']:.2f}×" in table[2]
    if b["bf16_native"]:  # oneDNN has bf16 kernels (AVX-512 and up): each bf16 path beside fp32
        assert t["ours_other_img_per_s"] > 0 and {t["ours_precision"], t["ours_other_precision"]} == {"fp32", "bf16"}
        assert set(b["inception"]["paths"]) == {"fp32", "bf16"}
        assert 0 < b["inception"]["rel_l2_bf16_vs_fp32"] < 0.1  # bf16 weights move features a little, not a lot
        assert f"{b['inception']['paths']['bf16']['cpu_s_per_img']:.3f}" in table[2]
    else:  # AVX2 only: bf16 is emulated, hundreds of times slower; the GEMM says so, the bf16 runs are left out
        assert t["ours_precision"] == "fp32" and t["ours_other_precision"] is None
        assert set(b["inception"]["paths"]) == {"fp32"} and "no bf16 kernels" in table[2]
    assert b["fid"]["n"] == 8 and b["fid"]["wall_s"] > 0 and b["fid"]["fid"] > 0

    # readme_blocks renders results/bench/*.json, leaving out --quick runs
    bench = tmp_path / "root" / "results" / "bench"
    bench.mkdir(parents=True)
    (bench / "quick.json").write_text(json.dumps(b))
    assert "performance" not in readme_blocks(tmp_path / "root")
    (bench / "full.json").write_text(json.dumps(b | {"quick": False, "fid": None}))
    block = readme_blocks(tmp_path / "root")["performance"].splitlines()
    assert len(block) == 3 and block[2].endswith("| — |")  # no FID measured: a dash, not a number


def test_jpeg_slope_quick_run_regresses_accuracy_on_each_passes_distortion(mirror, shared_cache_dir, tmp_path):
    """benchmarks/jpeg_slope.py (issue 27's JPEG question) as a real process at tiny sizes: one row per quality
    plus the mirror as it is, lower quality distorting more, and the slope the least-squares line of those rows."""
    b = run_benchmark(
        "jpeg_slope.py", "--quick", "--qualities", "75", "30", mirror=mirror, cache=shared_cache_dir, tmp_path=tmp_path
    )
    rows = b["rows"]
    assert [r["quality"] for r in rows] == [None, 75, 30] and rows[0]["distortion"] == 0
    assert 0 < rows[1]["distortion"] < rows[2]["distortion"] == max(r["distortion"] for r in rows)
    assert b["q75_distortion"] == rows[1]["distortion"] and b["recipe_from"] == "quick"
    d, a = [r["distortion"] for r in rows], [r["accuracy"] for r in rows]
    slope, intercept = np.polyfit(d, a, 1)
    assert b["slope_per_distortion"] == pytest.approx(slope) and b["intercept"] == pytest.approx(intercept)
