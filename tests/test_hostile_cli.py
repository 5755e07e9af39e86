"""Hostile input (issue 29): each is answered in one line on stderr and a non-zero exit, writes nothing
outside its target and leaves nothing half-written. Real processes where the behaviour is the CLI's own
(the parser's one line, a damaged mirror, a text file as a checkpoint, Ctrl-C), started together;
`cli.main` in this process where the refusal comes before any work; direct calls for the zoo and the report.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
from pathlib import Path

import nbformat
import pytest
import torch
from conftest import small_net
from test_cli import ROOT, assert_clean_error, finish, output, start  # noqa: E402  (tests/ is on sys.path under pytest)

from dcgan_core import cards, notebooks, pretrained
from dcgan_core import train as train_module
from dcgan_core.checkpoint import CheckpointError, load_checkpoint
from dcgan_core.cli import main
from dcgan_core.config import resolve_device
from dcgan_core.data import DataError, load_dataset
from dcgan_core.features import parse_features
from dcgan_core.files import RunDir, write_json
from dcgan_core.pretrained import PretrainedError, model_sha256, sha256
from dcgan_core.report import build_report
from dcgan_core.sample import MAX_GRID
from dcgan_core.train import TrainConfig, train

TINY = [
    "--dataset",
    "mnist",
    "--limit",
    "64",
    *small_net(batch_size=16),
]


def cli(capsys, *argv) -> tuple[int, list[str]]:
    """`python -m dcgan_core ARGV` in this process: the exit code and the lines on stderr."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as e:  # the parser's refusal
        code = e.code
    return code, capsys.readouterr().err.splitlines()


def one_line(code: int, lines: list[str], *needles: str) -> str:
    assert code != 0 and len(lines) == 1, lines
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


@pytest.fixture(scope="module")
def env(mirror, tmp_path_factory) -> dict:
    e = {
        **os.environ,
        "DCGAN_MIRROR": str(mirror),
        "DCGAN_DATA_DIR": str(tmp_path_factory.mktemp("cache")),
        "OMP_NUM_THREADS": "1",
    }
    e.pop("PYTHONWARNINGS", None)
    return e


@pytest.fixture(scope="module")
def run(mirror, tmp_path_factory) -> Path:
    """A tiny training run's folder (2 steps on 64 digits)."""
    data = load_dataset(
        "mnist", 32, limit=64, mirror=mirror, cache_dir=tmp_path_factory.mktemp("run-cache"), progress=False
    )
    out = tmp_path_factory.mktemp("runs") / "tiny"
    train(
        TrainConfig(
            dataset="mnist",
            arch="torch",
            image_size=32,
            g_width=8,
            d_width=8,
            batch_size=16,
            limit=64,
            max_steps=2,
            device="cpu",
            progress=False,
            out=str(out),
        ),
        data=data,
    )
    return out


@pytest.fixture(scope="module")
def processes(env, mirror, run, tmp_path_factory) -> dict:
    """The CLI on hostile input, every process started at once (each imports torch)."""
    tmp = tmp_path_factory.mktemp("hostile")
    damaged, cache = tmp / "mirror", tmp / "cache"  # a truncated copy of the mirror's smallest archive
    damaged.mkdir()
    cache.mkdir()
    archive = (mirror / "scenes15-indoor.tar.gz").read_bytes()
    (damaged / "scenes15-indoor.tar.gz").write_bytes(archive[: len(archive) // 3])
    (tmp / "x.pt").write_text("these are my notes, not a checkpoint\n")
    procs = dict(
        parser=start("classify", "--features", "pixels", "--n-train", 0, env=env),
        truncated=start(
            "train",
            "--dataset",
            "scenes",
            *TINY[2:],
            "--max-steps",
            1,
            "--out",
            tmp / "out",
            env={**env, "DCGAN_MIRROR": str(damaged), "DCGAN_DATA_DIR": str(cache)},
        ),
        text_file=start("sample", "--checkpoint", tmp / "x.pt", "--out", tmp / "a.png", env=env),
        run_folder=start("sample", "--checkpoint", run, "--n", 4, "--out", tmp / "b.png", env=env),
    )
    return dict(runs={k: finish(p) for k, p in procs.items()}, tmp=tmp, cache=cache)


# --- 1. sizes out of bounds: the parser checks every flag made from a config field -----------------
def test_classify_sizes_are_refused_by_the_parser(processes, capsys):
    assert_clean_error(processes["runs"]["parser"], "argument --n-train: must be ≥ 1, got 0", "classify --help")
    assert processes["runs"]["parser"].stdout == ""
    for flag, bound in [("--n-val", 10), ("--n-test", 10), ("--pool", 1), ("--kmeans-stride", 1)]:
        one_line(
            *cli(capsys, "classify", "--features", "pixels", flag, 0), f"argument {flag}: must be ≥ {bound}, got 0"
        )
    one_line(*cli(capsys, "classify", "--features", "pixels", "--bn", "both"), "must be one of 'eval', 'batch'")
    one_line(*cli(capsys, "dedup", "--out", "x", "--epochs", 0), "argument --epochs: must be ≥ 1")  # every command


# --- 2. one resolve_device for every command --------------------------------------------------------
def test_a_device_this_machine_lacks_is_one_line(capsys, tmp_path):
    assert train_module.resolve_device is resolve_device
    one_line(
        *cli(capsys, "evaluate", "--checkpoint", "zoo:mnist", "--device", "tpu"),
        "error: unknown device 'tpu': use --device auto, cpu or cuda",
    )
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        train(TrainConfig(device="tpu", progress=False, out=str(tmp_path / "r")))
    if torch.cuda.is_available():
        return
    why = "error: --device cuda: this machine has no CUDA GPU that torch can use; use --device cpu (or auto)"
    one_line(*cli(capsys, "evaluate", "--checkpoint", "zoo:mnist", "--device", "cuda"), why)
    one_line(*cli(capsys, "mnist-appendix", "--device", "cuda", "--out", tmp_path / "m"), why)
    one_line(*cli(capsys, "mnist-appendix", "--device", "cuda", "--validate", "zoo:mnist-conditional"), why)
    assert files_under(tmp_path) == []


# --- 3. a grid too large to hold ---------------------------------------------------------------------
def test_sample_refuses_more_than_a_grid_holds(capsys, tmp_path):
    one_line(
        *cli(capsys, "sample", "--checkpoint", "zoo:mnist", "--n", 10_000_000, "--out", tmp_path / "s.png"),
        f"--n must be 1 to {MAX_GRID} (a grid of at most 64×64 images), got 10000000",
    )
    assert files_under(tmp_path) == []


def test_fid_refuses_more_samples_than_it_can_hold(capsys, tmp_path):
    # (export: a new name and a run folder with no checkpoint, so a check that came late could write nothing)
    for command in (("evaluate", "--checkpoint", "zoo:mnist"), ("export", "--run", tmp_path, "--name", "new-entry")):
        one_line(
            *cli(capsys, *command, "--n", 10_000_000),
            "n must be an integer from 2 to 50,000 (FID's usual 50k; the samples are held in memory at once), "
            "got 10000000",
        )
    assert files_under(tmp_path) == []


# --- 4. notebooks: a file as the build folder, no notebook to run -------------------------------------
def test_notebooks_refuse_before_making_anything(capsys, tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    one_line(
        *cli(capsys, "notebooks", "--build", tmp_path / "a-file"),
        f"{tmp_path / 'a-file'} is a file, not a folder; choose a folder (--build)",
    )
    one_line(
        *cli(capsys, "notebooks", "--build", tmp_path / "build", "--only", "99"),
        "no notebooks matching ['99']",
        "--only takes prefixes of 01_training",
    )
    assert files_under(tmp_path) == ["a-file"]


# --- 5. a damaged or empty mirror ---------------------------------------------------------------------
def test_a_truncated_mirror_archive_is_one_line_and_extracts_nothing(processes):
    assert_clean_error(
        processes["runs"]["truncated"], "scenes15-indoor.tar.gz: it is damaged or truncated", "SHA256SUMS"
    )
    assert files_under(processes["cache"]) == [] and not (processes["tmp"] / "out").exists()


def test_a_failed_download_leaves_no_empty_folder(tmp_path, monkeypatch):
    import torchvision.datasets.mnist as tv_mnist

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(tv_mnist, "download_and_extract_archive", offline)  # torchvision made MNIST/raw first
    (tmp_path / "mirror").mkdir()
    with pytest.raises(DataError, match="mnist is not available offline.*the download failed"):
        load_dataset("mnist", 28, mirror=tmp_path / "mirror", cache_dir=tmp_path / "cache", progress=False)
    assert files_under(tmp_path) == ["mirror"]


# --- 6. export: names, an existing entry, Ctrl-C ------------------------------------------------------
@pytest.fixture
def zoo(run, tmp_path) -> Path:
    """A temporary zoo holding one entry, 'taken'."""
    pretrained.export(RunDir(run).last, "taken", tmp_path / "zoo")
    return tmp_path / "zoo"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@pytest.mark.parametrize("name", ["../../out/x", "", ".hidden", "a/b"])
def test_export_refuses_a_name_that_is_not_one_file_name(run, zoo, name):
    before, around = snapshot(zoo), files_under(zoo.parent.parent)
    with pytest.raises(PretrainedError, match="cannot be a zoo name: use letters, digits"):
        cards.export_run(run, name, zoo_dir=zoo)
    assert snapshot(zoo) == before and files_under(zoo.parent.parent) == around  # ../../out/x: nothing there


def test_export_replaces_an_entry_only_with_force_and_ctrl_c_leaves_the_zoo_as_it_was(run, zoo, monkeypatch):
    before = snapshot(zoo)
    with pytest.raises(PretrainedError, match=r"the zoo already has 'taken' .*taken\.safetensors\): pass --force"):
        cards.export_run(run, "taken", zoo_dir=zoo)

    def ctrl_c(*args, **kwargs):  # after the weights, curves and zoo.json were written (staged)
        raise KeyboardInterrupt

    monkeypatch.setattr(cards, "save_grid", ctrl_c)
    for name, force in [("taken", True), ("new", False)]:
        with pytest.raises(KeyboardInterrupt):
            cards.export_run(run, name, zoo_dir=zoo, force=force)
        assert snapshot(zoo) == before  # no half-written entry, no temp folder left
    with pytest.raises(KeyboardInterrupt):
        cards.score("taken", zoo_dir=zoo)
    assert snapshot(zoo) == before


# --- 7. Ctrl-C: one line, exit 130, how to resume -----------------------------------------------------
def test_ctrl_c_during_training_says_how_to_resume(env, tmp_path):
    out = tmp_path / "run"
    # SIGINT as in a terminal, even where pytest itself runs with SIGINT ignored (a background job)
    p = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dcgan_core",
            "train",
            *TINY,
            "--max-steps",
            "100000",
            "--ckpt-every",
            "1",
            "--out",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while not RunDir(out).last.is_file() and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    p.send_signal(signal.SIGINT)
    r = finish(p, timeout=60)
    assert r.returncode == 130, output(r)
    assert r.stderr.splitlines() == [f"interrupted; resume with: python -m dcgan_core train --out {out} --resume"]
    step = load_checkpoint(RunDir(out).last)["step"]  # whole
    r = finish(start("train", "--out", out, "--resume", "--max-steps", step + 1, env=env))
    assert r.returncode == 0 and f"trained to step {step + 1}" in r.stdout, output(r)


def test_ctrl_c_in_any_other_command_is_one_line(capsys, monkeypatch, tmp_path):
    """Ctrl-C in a command that cannot resume, and while the package is still loading: one line, exit 130."""
    import runpy

    from dcgan_core import sample, sections

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sample, "sample_grid", ctrl_c)
    monkeypatch.setattr(sections, "run", ctrl_c)
    for argv in (("sample", "--checkpoint", "zoo:mnist", "--out", tmp_path / "s.png"), ("run", "latent_walk")):
        assert cli(capsys, *argv) == (130, ["interrupted; run the command again"]), argv

    class Interrupted:  # Ctrl-C while `python -m dcgan_core` imports torch (before main's own handler)
        def find_spec(self, name, path=None, target=None):
            if name == "dcgan_core.cli":
                raise KeyboardInterrupt

    monkeypatch.setattr(sys, "meta_path", [Interrupted(), *sys.meta_path])
    monkeypatch.delitem(sys.modules, "dcgan_core.cli")
    with pytest.raises(SystemExit) as e:
        runpy.run_module("dcgan_core.__main__", run_name="__main__")
    assert e.value.code == 130 and capsys.readouterr().err.splitlines() == [
        "interrupted while loading; run the command again"
    ]
    assert files_under(tmp_path) == []


# --- 8. naming a model: a run folder, a text file, one sha256 -----------------------------------------
def test_a_run_folder_names_its_checkpoint_and_a_text_file_is_called_one(processes, run, tmp_path):
    r = processes["runs"]["run_folder"]
    assert r.returncode == 0 and (processes["tmp"] / "b.png").is_file(), output(r)
    assert_clean_error(processes["runs"]["text_file"], "x.pt: it is a text file, not the zip archive torch.save writes")
    assert "pickled" not in processes["runs"]["text_file"].stderr
    assert parse_features(str(run)) == ("path", str(RunDir(run).last))
    assert model_sha256(run) == model_sha256(RunDir(run).last) == sha256(RunDir(run).last)
    assert model_sha256("zoo:mnist") == pretrained.manifest()["mnist"]["sha256"]
    (tmp_path / "empty-run").mkdir()
    with pytest.raises(CheckpointError, match=r"empty-run is a folder without a checkpoint \(.*last\.pt is missing\)"):
        load_checkpoint(tmp_path / "empty-run")


# --- 9. the report: a notebook cut short is incomplete, its claims not judged -------------------------
def dedup_notebook(path: Path, interrupted: bool) -> None:
    """An executed notebook 02 as papermill leaves it: complete, or after Ctrl-C in its second cell (as
    papermill 2.7 writes it: every cell "completed", an end time, the second cell's KeyboardInterrupt
    and a third cell never started)."""
    cells = [
        nbformat.v4.new_markdown_cell("# 02 — De-duplication"),
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("y = 2"),
    ]
    for i, cell in enumerate(cells):
        never = interrupted and i == 2
        cell.metadata["papermill"] = dict(
            status="completed", exception=None if never else False, start_time=None if never else "2026-01-01T00:00:00"
        )
    if interrupted:
        cells[1].outputs = [nbformat.v4.new_output("error", ename="KeyboardInterrupt", evalue="", traceback=[])]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["papermill"] = dict(exception=None, end_time="2026-01-01T00:00:01")
    nbformat.write(nb, path)


def test_an_interrupted_notebook_is_incomplete_in_the_report(tmp_path, monkeypatch):
    build = tmp_path / "smoke"
    write_json(
        build / "results" / "02_dedup.json",
        {
            "result": "DedupEvaluation",
            "scores": {"autoencoder": {"fp_rate": 0.001, "recall": {"all": 1.0, "exact": 1.0}}},
            "scaling": {"exponent": 1.0},
            "controls": {"fp_rate_16_bits": 0.5, "pairwise_exponent": 2.0},
        },
    )
    dedup_notebook(build / "02_dedup.ipynb", interrupted=False)
    assert 'class="holds"' in build_report(build).read_text().split('id="claim-dedup-fp-rate"')[1].split("</tr>")[0]
    dedup_notebook(build / "02_dedup.ipynb", interrupted=True)
    page = build_report(build).read_text()
    row = page.split('id="claim-dedup-fp-rate"')[1].split("</tr>")[0]
    assert 'class="not-measured"' in row and "was interrupted" in row
    assert "INCOMPLETE</strong>: interrupted at cell 2" in page and "0 executed notebooks, 1 incomplete" in page

    # make figures cut short leaves no run.json or claims.json of an earlier run (record refuses it)
    write_json(build / "run.json", {"notebooks": []})
    write_json(build / "claims.json", [])
    monkeypatch.setattr(notebooks, "run_notebooks", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        notebooks.make_figures("smoke", build=tmp_path, only=["02"], echo=lambda s: None)
    assert not (build / "run.json").exists() and not (build / "claims.json").exists()
