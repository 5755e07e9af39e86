"""What a hostile new user hit (issue 9), case by case: each is one clear line, loses no data and
leaves no temp file behind. Real processes for the CLI; mocked write errors for a full disk."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys

import pytest
import torch
from test_cli import SMALL, assert_clean_error, dcgan, digits, env, images, output, trained  # noqa: F401

from dcgan_core import files, pretrained
from dcgan_core.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from dcgan_core.figures import save_figure
from dcgan_core.files import RunDir, WriteError, atomic_write, remove_stale_temps, write_json
from dcgan_core.models import build_models, eval_mode
from dcgan_core.results import Result
from dcgan_core.sample import save_grid
from dcgan_core.train import TrainConfig


def dead_pid() -> int:
    """The PID of a process that has exited (and been reaped)."""
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def temps(folder) -> list[str]:
    return [p.name for p in folder.iterdir() if files.TEMP_RE.match(p.name)]


# --- the atomic writer ---------------------------------------------------------------------------


def test_stale_temps_of_dead_writers_are_removed_live_ones_kept(tmp_path):
    stale = tmp_path / f".last.pt.tmp-{dead_pid()}-abcd1234"
    stale.write_bytes(b"x" * 1000)  # a checkpoint killed mid-write
    stale_dir = tmp_path / f".cifar10.tmp-{dead_pid()}-ffff0000"  # an extraction killed mid-way
    stale_dir.mkdir()
    (stale_dir / "a.jpg").write_bytes(b"y")
    live = tmp_path / f".other.tmp-{os.getppid()}-00000000"  # our parent is alive
    live.write_bytes(b"z")
    atomic_write(tmp_path / "last.pt", lambda tmp: open(tmp, "wb").write(b"new"))
    assert not stale.exists() and not stale_dir.exists() and live.exists()
    assert (tmp_path / "last.pt").read_bytes() == b"new"
    assert remove_stale_temps(tmp_path) == []


def test_a_checkpoint_killed_mid_write_leaves_a_temp_the_next_run_removes(tmp_path):
    """kill -9 mid-checkpoint (before its fsync and rename): last.pt is the old one, and the next
    save removes the temp file the killed process left."""
    target = tmp_path / "last.pt"
    save_checkpoint({"generator": {}, "config": {}, "v": 1}, target)
    script = (
        f"import os; from dcgan_core.checkpoint import save_checkpoint\n"
        f"os.fsync = lambda fd: os.kill(os.getpid(), 9)\n"
        f"save_checkpoint({{'v': 2}}, {str(target)!r})\n"
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert r.returncode == -signal.SIGKILL
    assert len(temps(tmp_path)) == 1  # what kill -9 leaves
    assert torch.load(target, weights_only=True)["v"] == 1
    save_checkpoint({"generator": {}, "config": {}, "v": 3}, target)
    assert temps(tmp_path) == [] and load_checkpoint(target)["v"] == 3


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_a_failed_write_is_one_line_keeps_the_old_file_and_no_temp(tmp_path, code):
    target = tmp_path / "eval.csv"
    target.write_text("old")

    def fail(tmp):
        open(tmp, "w").write("half")
        raise OSError(code, os.strerror(code))

    with pytest.raises(WriteError) as e:
        atomic_write(target, fail)
    assert str(target) in str(e.value) and "\n" not in str(e.value)
    assert target.read_text() == "old" and temps(tmp_path) == []


class Half(Result):
    pass


@pytest.mark.parametrize("writer", ["figure", "grid", "json", "result"])
def test_each_writer_is_atomic(tmp_path, monkeypatch, writer):
    """A crash mid-write of a figure, a sample grid, a JSON file or a results file keeps the old
    file whole and leaves no temp file."""
    import matplotlib.pyplot as plt

    target = tmp_path / ("out.png" if writer in ("figure", "grid") else "out.json")
    target.write_bytes(b"previous")
    real_fsync = os.fsync

    def crash(fd):
        raise KeyboardInterrupt("killed mid-write")

    monkeypatch.setattr(files.os, "fsync", crash)
    with pytest.raises(KeyboardInterrupt):
        if writer == "figure":
            save_figure(plt.figure(), target)
        elif writer == "grid":
            save_grid(torch.zeros(4, 3, 8, 8), target)
        elif writer == "json":
            write_json(target, {"a": 1})
        else:
            Result().save(target)
    monkeypatch.setattr(files.os, "fsync", real_fsync)
    assert target.read_bytes() == b"previous" and temps(tmp_path) == []


def test_disk_full_during_a_checkpoint_is_one_line(tmp_path, monkeypatch):
    from pathlib import Path

    def full(self, data):
        open(self, "wb").write(bytes(data)[:100])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(WriteError, match=r"cannot write .*last\.pt: the disk is full"):
        save_checkpoint({"v": 1}, tmp_path / "checkpoints" / "last.pt")
    assert temps(tmp_path / "checkpoints") == []


def test_disk_full_under_a_file_size_limit_in_a_real_process(tmp_path):
    """RLIMIT_FSIZE as a small disk: the write fails with EFBIG, the CLI-level error is one line."""
    script = (
        "import resource, signal\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "import torch\nfrom dcgan_core.checkpoint import save_checkpoint\n"
        f"save_checkpoint({{'w': torch.zeros(10000)}}, {str(tmp_path / 'last.pt')!r})\n"
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert r.returncode != 0 and "the disk is full" in r.stderr.splitlines()[-1]
    assert not (tmp_path / "last.pt").exists() and temps(tmp_path) == []


# --- bad checkpoints through the CLI: one line each ----------------------------------------------


@pytest.fixture
def checkpoint(trained, tmp_path):
    path = tmp_path / "last.pt"
    shutil.copy(RunDir(trained).last, path)
    return path


def edit(path, change):
    state = torch.load(path, weights_only=True)
    change(state)
    torch.save(state, path)


@pytest.mark.parametrize(
    "case, needle",
    [
        ("size mismatch", "do not fit the networks its config describes"),
        ("no discriminator", "has no discriminator weights"),
        ("config as a string", "damaged config"),
    ],
)
def test_damaged_checkpoints_are_one_line(checkpoint, env, tmp_path, case, needle):
    if case == "size mismatch":
        edit(checkpoint, lambda s: s["config"].update(g_width=16))
    elif case == "no discriminator":
        edit(checkpoint, lambda s: s.pop("discriminator"))
    else:
        edit(checkpoint, lambda s: s.update(config=" a string"))
    r = dcgan("sample", "--checkpoint", checkpoint, "--out", tmp_path / "s.png", env=env)
    assert_clean_error(r, needle, str(checkpoint))


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_a_refused_pickle_says_so_in_our_own_line(env, tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"generator": Evil(), "config": {}}, path)
    r = dcgan("sample", "--checkpoint", path, "--out", tmp_path / "s.png", env=env)
    line = assert_clean_error(r, "refused to load", "could run code")
    assert "weights_only=False" not in output(r) and "\x1b[" not in output(r) and "pwned" not in output(r)
    assert len(line) < 400


# --- bad output folders and devices ---------------------------------------------------------------


def test_out_naming_a_regular_file(images, env, tmp_path):
    out = tmp_path / "a-file"
    out.write_text("keep me")
    r = dcgan("train", "--dataset", f"folder:{images}", *SMALL, "--max-steps", 1, "--out", out, env=env)
    assert_clean_error(r, "is a file, not a folder")
    assert out.read_text() == "keep me"


def test_out_on_a_read_only_file_system(tmp_path, monkeypatch):
    monkeypatch.setattr(files.os, "access", lambda path, mode: False)
    monkeypatch.setattr(files, "_read_only", lambda path: True)
    with pytest.raises(WriteError, match="read-only file system"):
        RunDir(tmp_path / "run").check_writable()
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("device, needle", [("cuda", "no CUDA GPU"), ("tpu", "unknown device 'tpu'")])
def test_devices_this_machine_lacks(images, env, tmp_path, device, needle):
    if device == "cuda" and torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    r = dcgan(
        "train",
        "--dataset",
        f"folder:{images}",
        *SMALL,
        "--max-steps",
        1,
        "--device",
        device,
        "--out",
        tmp_path / "run",
        env=env,
    )
    assert_clean_error(r, needle)
    assert not (tmp_path / "run").exists()


# --- resuming -------------------------------------------------------------------------------------


def test_resume_with_the_default_width_spelled_out(mirror, tmp_path):
    """A run saved with g_width None (the family default, 64) resumes under --g-width 64."""
    from dcgan_core.data import load_dataset
    from dcgan_core.train import train

    data = load_dataset("mnist", 32, limit=32, mirror=mirror, cache_dir=tmp_path / "c", progress=False)
    cfg = TrainConfig(
        dataset="mnist",
        arch="torch",
        image_size=32,
        batch_size=16,
        max_steps=1,
        device="cpu",
        out=str(tmp_path / "run"),
        progress=False,
    )
    train(cfg, data=data)
    t = train(cfg.replace(g_width=64, d_width=64, max_steps=2), resume=True, data=data)
    assert t.step == 2
    with pytest.raises(CheckpointError, match="g_width: checkpoint 64 vs config 32"):
        train(cfg.replace(g_width=32, max_steps=3), resume=True, data=data)


def test_resume_on_other_data_needs_change_data(trained, images, env, tmp_path, digits):  # noqa: F811
    from test_cli import write_folder

    other = tmp_path / "other"
    write_folder(other, digits, 40, seed=1)
    out = tmp_path / "run"
    shutil.copytree(trained, out)
    r = dcgan(
        "train", "--out", out, "--resume", "--max-steps", 7, "--dataset", f"folder:{other}", "--no-progress", env=env
    )
    assert_clean_error(r, "trained on other data", "--change-data")
    r = dcgan(
        "train",
        "--out",
        out,
        "--resume",
        "--max-steps",
        7,
        "--dataset",
        f"folder:{other}",
        "--change-data",
        "--no-progress",
        env=env,
    )
    assert r.returncode == 0 and "trained to step 7" in r.stdout, output(r)


# --- the zoo --------------------------------------------------------------------------------------


def test_a_truncated_zoo_json_names_the_file(tmp_path):
    (tmp_path / "zoo.json").write_text('{"celeba64": {"file": "cel')
    with pytest.raises(CheckpointError, match=r"zoo\.json"):
        pretrained.load("celeba64", tmp_path)


def test_export_writes_identical_bytes_for_identical_weights(tmp_path):
    cfg = TrainConfig(arch="torch", image_size=32, g_width=8, d_width=8, channels=1)
    G, D = build_models(cfg, seed=0)
    path = tmp_path / "ckpt.pt"
    save_checkpoint(dict(generator=G.state_dict(), discriminator=D.state_dict(), step=3, config=cfg.to_dict()), path)
    digests = [pretrained.sha256(pretrained.export(path, "tiny", tmp_path / f"zoo{i}")) for i in range(3)]
    assert len(set(digests)) == 1
    assert json.loads((tmp_path / "zoo0" / "zoo.json").read_text())["tiny"]["sha256"] == digests[0]


def test_eval_mode_restores_each_nets_mode_also_on_error():
    G, D = build_models(TrainConfig(arch="torch", image_size=32, g_width=8, d_width=8))
    G.train()
    D.eval()
    with pytest.raises(RuntimeError):
        with eval_mode(G, D):
            assert not G.training and not D.training
            raise RuntimeError
    assert G.training and not D.training
