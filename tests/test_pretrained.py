"""The zoo: export → safetensors + sha256 → load, the checks that refuse a damaged file, and the
committed zoo models themselves (they must load from a fresh clone and match their cards)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
import torch

from dcgan_core import cards, pretrained
from dcgan_core.checkpoint import CheckpointError, save_checkpoint
from dcgan_core.models import build_models
from dcgan_core.pretrained import PretrainedError
from dcgan_core.pretrained import load_models as models_from_checkpoint
from dcgan_core.sample import generate
from dcgan_core.train import TrainConfig

ZOO_NAMES = ("celeba64", "scenes64", "cifar32", "cifar32-d128", "mnist", "mnist-conditional")


@pytest.fixture
def tiny_checkpoint(tmp_path):
    cfg = TrainConfig(dataset="mnist", arch="torch", image_size=32, g_width=8, d_width=8, channels=1)
    G, D = build_models(cfg, seed=0)
    return (
        save_checkpoint(
            dict(generator=G.state_dict(), discriminator=D.state_dict(), step=7, config=cfg.to_dict()),
            tmp_path / "run" / "checkpoints" / "last.pt",
        ),
        G,
        D,
    )


def test_export_then_load_round_trips_in_fp16(tiny_checkpoint, tmp_path):
    path, G, D = tiny_checkpoint
    zoo = tmp_path / "zoo"
    weights = pretrained.export(path, "tiny", zoo)
    entry = json.loads((zoo / "zoo.json").read_text())["tiny"]
    assert entry["file"] == weights.name and entry["sha256"] == pretrained.sha256(weights) and entry["steps"] == 7
    G2, D2, cfg = pretrained.load("tiny", zoo)
    assert cfg.g_width == 8 and cfg.channels == 1 and not G2.training
    for a, b in ((G, G2), (D, D2)):
        for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
            assert y.dtype == x.dtype, name  # fp32 again after loading
            torch.testing.assert_close(y, x, rtol=1e-3, atol=1e-4)  # fp16 storage: 3 digits
    G.eval()
    torch.testing.assert_close(generate(G2, 4), generate(G, 4), rtol=0, atol=2e-2)


def test_a_generator_only_entry_loads_g_and_says_so_where_d_is_needed(tiny_checkpoint, tmp_path):
    path, G, D = tiny_checkpoint
    zoo = tmp_path / "zoo"
    full, alone = pretrained.export(path, "both", zoo), pretrained.export(path, "alone", zoo, generator_only=True)
    assert alone.stat().st_size < full.stat().st_size - sum(p.numel() for p in D.parameters())  # ≥ 2 bytes a weight
    assert json.loads((zoo / "zoo.json").read_text())["alone"]["generator_only"] is True
    G2, D2, _ = pretrained.load("alone", zoo)
    assert D2 is None
    G.eval()
    torch.testing.assert_close(generate(G2, 4), generate(G, 4), rtol=0, atol=2e-2)
    with pytest.raises(PretrainedError, match="holds G only.*needs its D"):
        pretrained.require_discriminator(D2, "zoo:alone")


def test_a_damaged_or_missing_file_or_unknown_name_is_one_clear_error(tiny_checkpoint, tmp_path):
    path, _, _ = tiny_checkpoint
    zoo = tmp_path / "zoo"
    weights = pretrained.export(path, "tiny", zoo)
    data = bytearray(weights.read_bytes())
    data[-3] ^= 0xFF  # one flipped byte
    weights.write_bytes(bytes(data))
    with pytest.raises(PretrainedError, match="sha256 .* but zoo.json records"):
        pretrained.load("tiny", zoo)
    weights.unlink()
    with pytest.raises(PretrainedError, match="is missing"):
        pretrained.load("tiny", zoo)
    with pytest.raises(PretrainedError, match=r"no zoo model 'nope'.*\['tiny'\]"):
        pretrained.load("nope", zoo)


def test_wall_time_sums_the_segments_of_a_resumed_run(tmp_path):
    csv = tmp_path / "metrics.csv"
    csv.write_text("step,time\n1,1.0\n2,2.5\n3,0.5\n4,1.5\n")  # resumed after step 2
    assert cards.wall_time(csv) == pytest.approx(2.5 + 1.5)


def test_train_command_rebuilds_the_config():
    cfg = TrainConfig(dataset="cifar10", arch="torch", image_size=32, max_steps=6000, eval_every=1000)
    assert cards.train_command(cfg) == (
        "python -m dcgan_core train --dataset cifar10 --arch torch --image-size 32 --max-steps 6000 --eval-every 1000"
    )


# --- the committed zoo ---------------------------------------------------------------------------


def test_the_zoo_has_its_models_within_60_mb():
    entries = pretrained.manifest()
    assert set(ZOO_NAMES) <= set(entries)
    total = sum((pretrained.ZOO_DIR / e["file"]).stat().st_size for e in entries.values())
    assert total <= 60e6, f"zoo weights {total / 1e6:.1f} MB"


@pytest.mark.parametrize("name", ZOO_NAMES)
def test_each_zoo_model_loads_samples_and_has_its_card(name):
    G, D, cfg = models_from_checkpoint(f"zoo:{name}")  # verifies the sha256
    x = generate(G, 4)
    assert x.shape == (4, G.channels, cfg.image_size, cfg.image_size) and x.abs().max() <= 1
    labels = torch.arange(4) % G.n_classes if G.n_classes else None  # generate drew classes 0, 1, 2, 3
    entry = pretrained.manifest()[name]
    assert (D is None) == bool(entry.get("generator_only"))  # G-only entries: D is not in the zoo
    assert D is None or D(x, labels=labels).shape == (4,)
    card = (pretrained.ZOO_DIR / f"{name}.md").read_text()
    assert f"**{entry['fid']:.1f}**" in card and entry["sha256"][:16] in card
    for suffix in (".png", "-memorization.png", "-metrics.csv"):
        assert (pretrained.ZOO_DIR / f"{name}{suffix}").is_file()


def test_a_zoo_checkpoint_copied_elsewhere_still_verifies(tmp_path):
    shutil.copytree(pretrained.ZOO_DIR, tmp_path / "zoo", ignore=shutil.ignore_patterns("*.png", "*.csv", "*.md"))
    G, _, _ = pretrained.load("mnist", tmp_path / "zoo")
    assert G.channels == 1


def test_evaluate_cli_on_a_zoo_model(mirror, tmp_path):
    env = {**os.environ, "DCGAN_MIRROR": str(mirror), "DCGAN_DATA_DIR": str(tmp_path / "data")}
    r = subprocess.run(
        [sys.executable, "-m", "dcgan_core", "evaluate", "--checkpoint", "zoo:mnist", "--n", "10"],
        cwd=pretrained.REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["n"] == 10 and result["dataset"] == "mnist" and result["split"] == "test" and result["fid"] > 0


def test_export_run_writes_a_card_with_its_numbers(mirror, tmp_path, monkeypatch):
    """A real (tiny) run → a zoo entry: weights, grid, curves, FID/KID, memorization, card."""
    from dcgan_core.train import train

    monkeypatch.setenv("DCGAN_MIRROR", str(mirror))
    monkeypatch.setenv("DCGAN_DATA_DIR", str(tmp_path / "data"))
    cfg = TrainConfig(
        dataset="mnist",
        arch="torch",
        image_size=32,
        g_width=8,
        d_width=8,
        batch_size=16,
        limit=64,
        max_steps=4,
        keep_every=2,
        diffaugment="translation",
        flip=True,
        device="cpu",
        progress=False,
        out=str(tmp_path / "run"),
    )
    train(cfg)
    card = cards.export_run(tmp_path / "run", "tiny", n=16, large_n=24, memorization_n=8, zoo_dir=tmp_path / "zoo")
    text = card.read_text()
    entry = pretrained.manifest(tmp_path / "zoo")["tiny"]
    assert entry["steps"] == 4 and entry["eval_n"] == 16 and entry["fid"] > 0
    # FID at a larger n beside it (the lead's re-export: --large-n 5000); both on the card
    assert entry["eval_n_large"] == 24 and entry["fid_large"] > 0 and entry["fid_large"] != entry["fid"]
    assert f"**{entry['fid_large']:.1f}**" in text and "at n = 24" in text
    assert set(entry["memorization"]) == {"pixel", "inception"}
    assert f"**{entry['fid']:.1f}**" in text and "DiffAugment `translation`" in text and "not in the paper" in text
    for suffix in (".png", "-metrics.csv", "-memorization.png", ".safetensors"):
        assert (tmp_path / "zoo" / f"tiny{suffix}").is_file()
    assert "drawn by hand" not in text and not (tmp_path / "zoo" / "tiny-windows.png").exists()

    # Window boxes drawn on this model file's samples (forgetting's annotation file) → counted on the card
    from dcgan_core import annotations

    ann = dict(
        concept="windows",
        model="zoo:tiny",
        sha256=entry["sha256"],
        image_size=32,
        samples={"0": [[1, 2, 10, 12], [20, 2, 30, 12]], "1": [], "2": [[0, 0, 8, 8]]},
    )
    annotations.save_annotations(ann, tmp_path / "annotations")
    card = cards.export_run(
        tmp_path / "run",
        "tiny",
        n=16,
        large_n=0,
        memorization_n=8,
        zoo_dir=tmp_path / "zoo",
        annotations_dir=tmp_path / "annotations",
        force=True,
    )
    assert "drawn by hand in **2 of 3** samples (seeds 0–2, 3 boxes" in card.read_text()
    assert (tmp_path / "zoo" / "tiny-windows.png").is_file()

    # G alone, of a checkpoint kept along the run (`export --generator-only --checkpoint step_0000002.pt`)
    card = cards.export_run(
        tmp_path / "run",
        "tiny-g",
        n=16,
        large_n=0,
        memorization_n=8,
        zoo_dir=tmp_path / "zoo",
        generator_only=True,
        checkpoint="step_0000002.pt",
    )
    entry = pretrained.manifest(tmp_path / "zoo")["tiny-g"]
    assert entry["steps"] == 2 and entry["checkpoint"] == "step_0000002.pt" and entry["generator_only"]
    assert "not exported: this entry holds G only" in card.read_text()
    with pytest.raises(CheckpointError, match=r"no checkpoint .*step_9\.pt; the run has: .*last\.pt, step_0000002\.pt"):
        cards.export_run(tmp_path / "run", "tiny-g", zoo_dir=tmp_path / "zoo", checkpoint="step_9.pt")

    # Re-scored from the zoo alone (`export --name tiny`, no run folder): the run's steps, wall time
    # and curves stay; the large-n score comes back; a run folder that is gone is not needed.
    before = pretrained.manifest(tmp_path / "zoo")["tiny"]
    shutil.rmtree(tmp_path / "run")
    card = cards.score("tiny", n=16, large_n=24, memorization_n=8, zoo_dir=tmp_path / "zoo")
    after = pretrained.manifest(tmp_path / "zoo")["tiny"]
    for key in ("steps", "wall_time_s", "machine", "checkpoint", "sha256", "fid", "n_train"):
        assert after[key] == before[key], key
    assert after["eval_n_large"] == 24 and f"**{after['fid_large']:.1f}**" in card.read_text()
    assert "4 steps" in card.read_text() and (tmp_path / "zoo" / "tiny-metrics.csv").is_file()


def test_export_without_run_of_an_unknown_name_says_what_to_do(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "dcgan_core", "export", "--name", "no-such-model"],
        cwd=pretrained.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 2 and r.stdout == ""
    assert "no entry 'no-such-model' to re-score" in r.stderr and "cifar32" in r.stderr and "--run" in r.stderr
