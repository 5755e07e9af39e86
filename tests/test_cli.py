"""The command line, as a user runs it: real processes, real image folders, real files.

The training folder is made of real MNIST digits from the offline mirror, pasted onto canvases
of mixed sizes and saved in mixed modes and formats (gray/RGB/RGBA, PNG/JPEG/GIF), in nested
folders, so the CLI meets images it has never seen in a shape it was never told about.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import small_net
from PIL import Image

from dcgan_core.data import load_dataset

ROOT = Path(__file__).resolve().parents[1]
SMALL = [
    *small_net(batch_size=16),
]
GRID_4x4_32PX = 4 * 32 + 5 * 2  # torchvision's make_grid: padding 2 around and between images


def start(*args, env, cwd=None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "dcgan_core", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=cwd or ROOT,
    )


def finish(p: subprocess.Popen, timeout=300) -> subprocess.CompletedProcess:
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


def dcgan(*args, env, cwd=None, timeout=300) -> subprocess.CompletedProcess:
    return finish(start(*args, env=env, cwd=cwd), timeout)


def output(r: subprocess.CompletedProcess) -> str:
    return r.stdout + r.stderr


def assert_clean_error(r: subprocess.CompletedProcess, *needles: str) -> str:
    """Non-zero exit, exactly one `error: …` line containing every needle, no traceback."""
    text = output(r)
    assert r.returncode != 0, text
    assert "Traceback" not in text, text
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, text
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


@pytest.fixture(scope="module")
def env(mirror, tmp_path_factory):
    e = dict(os.environ)
    e.update(DCGAN_MIRROR=str(mirror), DCGAN_DATA_DIR=str(tmp_path_factory.mktemp("cli-cache")))
    e.pop("PYTHONWARNINGS", None)  # warnings shown as a user sees them
    e["OMP_NUM_THREADS"] = "1"  # tiny nets; several processes share 2 cores
    return e


@pytest.fixture(scope="module")
def digits(mirror, tmp_path_factory) -> np.ndarray:
    """200 real 28×28 MNIST test digits (uint8)."""
    data = load_dataset(
        "mnist",
        28,
        split="test",
        limit=200,
        mirror=mirror,
        cache_dir=tmp_path_factory.mktemp("digits-cache"),
        progress=False,
    )
    return data.images[:, 0].numpy()


def make_image(rng: random.Random, digits: np.ndarray, mode: str) -> Image.Image:
    """A canvas of 40–90 × 40–60 px with 1–3 real digits pasted at random places, in `mode`."""
    w, h = rng.randint(40, 90), rng.randint(40, 60)
    canvas = Image.new("L", (w, h), rng.randint(0, 60))
    for _ in range(rng.randint(1, 3)):
        d = Image.fromarray(digits[rng.randrange(len(digits))])
        s = rng.randint(20, min(w, h))
        canvas.paste(d.resize((s, s)), (rng.randint(0, w - s), rng.randint(0, h - s)))
    if mode == "L":
        return canvas
    color = tuple(rng.randint(100, 255) for _ in range(3))
    rgb = Image.merge("RGB", [canvas.point(lambda v, c=c: v * c // 255) for c in color])
    if mode == "RGBA":
        rgb.putalpha(canvas.point(lambda v: max(v, 40)))
    return rgb if mode != "P" else rgb.convert("P", palette=Image.Palette.ADAPTIVE)


def write_folder(folder: Path, digits: np.ndarray, n: int, seed: int) -> list[Path]:
    rng = random.Random(seed)
    kinds = [("L", "png"), ("RGB", "jpg"), ("RGBA", "png"), ("RGB", "png"), ("P", "gif"), ("L", "jpeg")]
    paths = []
    for i in range(n):
        mode, ext = kinds[i % len(kinds)]
        sub = folder / ("nested/deeper" if i % 5 == 0 else "")
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"img_{i:03d}.{ext}"
        make_image(rng, digits, mode).save(path)
        paths.append(path)
    (folder / "notes.txt").write_text("not an image; must be ignored\n")
    return paths


@pytest.fixture(scope="module")
def images(digits, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("my-images")
    write_folder(folder, digits, 80, seed=0)
    return folder


@pytest.fixture(scope="module")
def trained(images, env, tmp_path_factory) -> Path:
    """`train --max-steps 6` on the folder: the run folder."""
    out = tmp_path_factory.mktemp("runs") / "digits"
    r = dcgan("train", "--dataset", f"folder:{images}", *SMALL, "--max-steps", 6, "--seed", 0, "--out", out, env=env)
    assert r.returncode == 0, output(r)
    assert "Traceback" not in output(r) and "skipped" not in output(r)
    assert "trained to step 6" in r.stdout
    return out


# --- help -------------------------------------------------------------------------------------
def test_help(env):
    r = dcgan("--help", env=env)
    assert r.returncode == 0 and "train" in r.stdout and "sample" in r.stdout
    r = dcgan("train", "--help", env=env)
    assert r.returncode == 0
    for option in (
        "--dataset",
        "--arch",
        "--image-size",
        "--batch-size",
        "--epochs",
        "--max-steps",
        "--seed",
        "--out",
        "--resume",
    ):
        assert option in r.stdout, option
    r = dcgan("sample", "--help", env=env)
    assert r.returncode == 0
    for option in ("--checkpoint", "--n", "--seed", "--out"):
        assert option in r.stdout, option


# --- flags come from the configs ------------------------------------------------------------------
# Subcommands that build no config (their flags are their own); every other one derives its flags from its
# config's fields (cli._add_config_options), so a bound or a help text lives in one place.
CONFIG_FREE = {"sample", "evaluate", "export", "notebooks", "record", "readme", "report", "run"}


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices


def hand_declared_duplicates(command: str, parser: argparse.ArgumentParser) -> list[str]:
    """What breaks "flags from the config" in one subcommand: a flag declared by hand with the name of a field
    of a config the subcommand derives flags from, or a subcommand that builds a config with none derived."""
    derived = [a for a in parser._actions if hasattr(a, "config_field")]
    configs = {a.config_field[0] for a in derived}
    if not configs:
        return [] if command in CONFIG_FREE else [f"{command}: no flag derived from a config"]
    fields = {f"--{f.name.replace('_', '-')}": cls for cls in configs for f in dataclasses.fields(cls)}
    return [
        f"{command} {flag}: declared by hand, duplicates {fields[flag].__name__}.{flag[2:].replace('-', '_')}"
        for a in parser._actions
        if not hasattr(a, "config_field")
        for flag in a.option_strings
        if flag in fields
    ]


def test_config_flags_are_derived_not_declared_by_hand():
    from dcgan_core.cli import _parser

    commands = subcommands(_parser())
    assert [c for c in commands if c not in CONFIG_FREE], "no subcommand derives flags from a config"
    assert [d for c, p in commands.items() for d in hand_declared_duplicates(c, p)] == []
    # the old names still parse: --equation is --equations' second name, classify's bounds are its config's
    args = commands["arithmetic"].parse_args(["--equation", "glasses-woman", "--trials", "10"])
    assert args.equations == ("glasses-woman",) and args.trials == 10
    assert commands["classify"].parse_args(["--features", "pixels", "--n-val", "20"]).n_val == 20


def test_a_hand_declared_duplicate_is_found():
    """The check can fail: a config flag declared again by hand, and a config-building command without derived
    flags (how `arithmetic` and part of `classify` were written before), are each named."""
    from dcgan_core.cli import _add_config_options
    from dcgan_core.vector_arithmetic import ArithmeticConfig

    p = argparse.ArgumentParser()
    _add_config_options(p, ArithmeticConfig, only=("model", "seed"))
    p.add_argument("--trials", type=int, default=200)
    assert hand_declared_duplicates("arithmetic", p) == [
        "arithmetic --trials: declared by hand, duplicates ArithmeticConfig.trials"
    ]
    bare = argparse.ArgumentParser()
    bare.add_argument("--model", default="zoo:celeba64")
    assert hand_declared_duplicates("arithmetic", bare) == ["arithmetic: no flag derived from a config"]
    assert hand_declared_duplicates("sample", bare) == []


# --- train, resume, sample --------------------------------------------------------------------
def test_train_on_a_folder_writes_a_checkpoint(trained):
    ckpt = trained / "checkpoints" / "last.pt"
    state = torch.load(ckpt, weights_only=True)
    assert {"generator", "discriminator"} <= set(state)
    assert state["step"] == 6
    assert state["config"]["channels"] == 3 and state["config"]["image_size"] == 32
    rows = [line.split(",") for line in (trained / "metrics.csv").read_text().splitlines()]
    assert rows[0] == ["step", "epoch", "loss_d", "loss_g", "d_x", "d_g_z", "time"]
    # all 80 images used (the .txt ignored, nested folders found): 80 / 16 = 5 steps per epoch
    assert [(int(r[0]), int(r[1])) for r in rows[1:]] == [(1, 1), (2, 1), (3, 1), (4, 1), (5, 1), (6, 2)]
    assert (trained / "samples" / "epoch_001.png").is_file()


def test_resume_continues_to_the_new_max_steps(trained, env, tmp_path):
    out = tmp_path / "resumed"
    shutil.copytree(trained, out)
    r = dcgan("train", "--out", out, "--resume", "--max-steps", 8, "--no-progress", env=env)
    assert r.returncode == 0, output(r)
    assert "trained to step 8" in r.stdout
    state = torch.load(out / "checkpoints" / "last.pt", weights_only=True)
    assert state["step"] == 8
    assert state["config"]["g_width"] == 8 and state["config"]["arch"] == "torch"  # kept from the run
    steps = [int(line.split(",")[0]) for line in (out / "metrics.csv").read_text().splitlines()[1:]]
    assert steps == list(range(1, 9))


def test_resume_with_more_epochs_lifts_the_old_step_cap(trained, env, tmp_path):
    out = tmp_path / "more_epochs"
    shutil.copytree(trained, out)  # trained with --max-steps 6 (5 steps per epoch)
    r = dcgan("train", "--out", out, "--resume", "--epochs", 3, "--no-progress", env=env)
    assert r.returncode == 0, output(r)
    assert torch.load(out / "checkpoints" / "last.pt", weights_only=True)["step"] == 15


def test_sample_writes_a_reproducible_grid(trained, env, tmp_path):
    ckpt = trained / "checkpoints" / "last.pt"
    a, b = tmp_path / "a.png", tmp_path / "again" / "b.png"
    runs = [start("sample", "--checkpoint", ckpt, "--n", 16, "--seed", 3, "--out", path, env=env) for path in (a, b)]
    for path, r in zip((a, b), map(finish, runs)):
        assert r.returncode == 0, output(r)
        assert str(path) in r.stdout and "Traceback" not in output(r)
    with Image.open(a) as im:
        assert im.format == "PNG"
        assert im.size == (GRID_4x4_32PX, GRID_4x4_32PX)
        pixels = np.asarray(im.convert("RGB")).astype(int)
    assert a.read_bytes() == b.read_bytes()
    # 16 different samples: the tiles (inside the 2-px padding) are not all the same picture
    tiles = [pixels[2 + 34 * i : 34 + 34 * i, 2 + 34 * j : 34 + 34 * j] for i in range(4) for j in range(4)]
    assert len({t.tobytes() for t in tiles}) == 16
    assert (pixels[:2] == pixels[0, 0]).all()  # the padding row is uniform


# --- damaged inputs ---------------------------------------------------------------------------
def test_unreadable_files_are_skipped_and_named(digits, env, tmp_path):
    folder = tmp_path / "mixed"
    good = write_folder(folder, digits, 40, seed=1)
    jpeg = next(p for p in good if p.suffix == ".jpg").read_bytes()
    (folder / "cut_short.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    (folder / "zero_bytes.png").write_bytes(b"")
    (folder / "nested" / "fake.png").write_bytes(b"<html>not really a png</html>")
    r = dcgan("train", "--dataset", f"folder:{folder}", *SMALL, "--max-steps", 2, "--out", tmp_path / "out", env=env)
    text = output(r)
    assert r.returncode == 0, text
    assert "Traceback" not in text
    for name in ("cut_short.jpg", "zero_bytes.png", "nested/fake.png"):
        assert name in text, name
    assert "skipped 3" in text
    assert any(line.startswith("warning: skipped 3") for line in r.stderr.splitlines()), text
    assert torch.load(tmp_path / "out" / "checkpoints" / "last.pt", weights_only=True)["step"] == 2


@pytest.mark.parametrize("flag", [["--batch-size", 0], ["--ckpt-every", 0], ["--epochs", -1]])
def test_impossible_sizes_are_clean_errors(images, env, tmp_path, flag):
    r = dcgan(
        "train", "--dataset", f"folder:{images}", *SMALL, *flag, "--max-steps", 2, "--out", tmp_path / "o", env=env
    )
    assert_clean_error(r, f"argument {flag[0]}: must be ≥")


@pytest.fixture(scope="module")
def bad_runs(env, tmp_path_factory) -> dict:
    """The CLI on bad input, all started at once (each is a fresh process importing torch)."""
    tmp = tmp_path_factory.mktemp("bad")
    empty = tmp / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("no images here")
    (empty / ".hidden.png").write_bytes(b"")
    paths = dict(missing_folder=tmp / "no-such-folder", empty=empty, missing_ckpt=tmp / "missing.pt")
    common = (*SMALL, "--max-steps", 1, "--out", tmp / "out")
    procs = dict(
        missing_folder=start("train", "--dataset", f"folder:{paths['missing_folder']}", *common, env=env),
        empty=start("train", "--dataset", f"folder:{empty}", *common, env=env),
        unknown=start("train", "--dataset", "imagenet21k", *common, env=env),
        missing_ckpt=start("sample", "--checkpoint", paths["missing_ckpt"], "--out", tmp / "x.png", env=env),
    )
    runs = {k: finish(p) for k, p in procs.items()}
    assert not (tmp / "out" / "checkpoints").exists() and not (tmp / "x.png").exists()
    return dict(runs=runs, paths=paths)


def test_nonexistent_folder(bad_runs):
    assert_clean_error(bad_runs["runs"]["missing_folder"], str(bad_runs["paths"]["missing_folder"]), "does not exist")


def test_empty_folder(bad_runs):
    assert_clean_error(bad_runs["runs"]["empty"], str(bad_runs["paths"]["empty"]), "no images")


def test_unknown_dataset(bad_runs):
    assert_clean_error(bad_runs["runs"]["unknown"], "unknown dataset 'imagenet21k'", "mnist", "folder:PATH")


def test_sample_with_a_missing_checkpoint(bad_runs):
    assert_clean_error(bad_runs["runs"]["missing_ckpt"], str(bad_runs["paths"]["missing_ckpt"]), "no checkpoint")


def test_train_refuses_to_overwrite_a_run(trained, images, env):
    ckpt = trained / "checkpoints" / "last.pt"
    before = ckpt.read_bytes()
    metrics = (trained / "metrics.csv").read_bytes()
    r = dcgan("train", "--dataset", f"folder:{images}", *SMALL, "--max-steps", 2, "--out", trained, env=env)
    assert_clean_error(r, "--resume", str(trained))
    assert ckpt.read_bytes() == before
    assert (trained / "metrics.csv").read_bytes() == metrics
