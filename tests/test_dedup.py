"""§4.1.1 de-duplication by autoencoder hashing, on real CIFAR-10 images from the offline mirror:
the 3072-128-3072 autoencoder, hashing, linear-time grouping, the injected-duplicate measurement,
the widget, and the `dedup` command on a folder of images it has never seen (real processes)."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from dcgan_core.claims import claims_for
from dcgan_core.data import load_dataset
from dcgan_core.dedup import (
    KINDS,
    DedupConfig,
    DedupEvaluation,
    Injected,
    compare,
    inject_duplicates,
    run,
    scaling,
    score,
)
from dcgan_core.files import WriteError
from dcgan_core.results import Result, lookup
from dcgan_core.semantic_hash import (
    HashAutoencoder,
    encode,
    group_hashes,
    hash_codes,
    reconstruction_loss,
    run_dedup,
    train_autoencoder,
)

ROOT = Path(__file__).resolve().parents[1]
SMALL = DedupConfig.from_profile("smoke", epochs=3, progress=False)


@pytest.fixture(scope="module")
def cifar(mirror, shared_cache_dir) -> torch.Tensor:
    """2,000 real CIFAR-10 training images (the first ones: airplanes, much sky — a hard case)."""
    return load_dataset("cifar10", 32, limit=2000, mirror=mirror, cache_dir=shared_cache_dir, progress=False).images


@pytest.fixture(scope="module")
def trained(cifar):
    return train_autoencoder(cifar, SMALL)


def test_autoencoder_is_3072_128_3072_and_training_lowers_reconstruction_loss(cifar, trained):
    model, losses = trained
    assert model.encoder.weight.shape == (128, 3072) and model.decoder.weight.shape == (3072, 128)
    x = cifar[:5].float().flatten(1) / 127.5 - 1
    assert model(x).shape == (5, 3072)
    codes = encode(model, cifar[:5])
    assert codes.shape == (5, 128) and codes.min() >= 0  # ReLU codes
    with torch.random.fork_rng():
        torch.manual_seed(SMALL.seed)
        untrained = HashAutoencoder(3072, 128, SMALL.dropout)
    assert reconstruction_loss(model, cifar) < 0.5 * reconstruction_loss(untrained, cifar)
    assert len(losses) == SMALL.epochs and losses[-1] < losses[0]


def test_training_and_hashing_are_deterministic(cifar, trained):
    model, _ = trained
    torch.rand(3)  # the caller's RNG state is no input ...
    state = torch.random.get_rng_state()
    again, _ = train_autoencoder(cifar, SMALL)
    assert torch.equal(torch.random.get_rng_state(), state)  # ... and training leaves it alone
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))
    h = hash_codes(encode(model, cifar), SMALL.threshold)
    assert h.shape == (len(cifar), 16) and h.dtype == np.uint8  # 128 bits, packed
    assert np.array_equal(h, hash_codes(encode(again, cifar), SMALL.threshold))
    other, _ = train_autoencoder(cifar, dataclasses.replace(SMALL, seed=1))
    assert not torch.equal(model.encoder.weight, other.encoder.weight)


def test_exact_duplicates_always_collide(cifar, trained):
    model, _ = trained
    picked = torch.randperm(len(cifar), generator=torch.Generator().manual_seed(0))[:300]
    images = torch.cat([cifar, cifar[picked]])
    for threshold, radius in itertools.product([0.0, SMALL.threshold, 2.0], [0, 1]):
        groups = group_hashes(hash_codes(encode(model, images), threshold), radius)
        group_of = {i: g for g, members in enumerate(groups) for i in members}
        for k, i in enumerate(picked.tolist()):
            assert group_of[i] == group_of[len(cifar) + k]


def test_grouping_puts_equal_hashes_together_and_nothing_else():
    rng = np.random.default_rng(0)
    distinct = rng.integers(0, 256, (500, 16), dtype=np.uint8)
    rows = rng.integers(0, 500, 3000)  # many repeats of 500 hashes
    groups = group_hashes(distinct[rows])
    expected = {}
    for i, r in enumerate(rows):
        expected.setdefault(r, []).append(i)
    assert sorted(groups) == sorted(g for g in expected.values() if len(g) > 1)
    assert groups == sorted(groups, key=lambda g: g[0]) and all(g == sorted(g) for g in groups)
    assert group_hashes(distinct) == []


def _components(bits: np.ndarray, radius: int) -> list[list[int]]:
    """Brute force: connected components of all pairs within `radius` bits."""
    d = (bits[:, None, :] != bits[None, :, :]).sum(2)
    label = list(range(len(bits)))
    for a, b in zip(*np.nonzero(d <= radius)):
        la, lb = label[a], label[b]
        label = [la if x == lb else x for x in label]
    comps = {}
    for i, x in enumerate(label):
        comps.setdefault(x, []).append(i)
    return sorted(c for c in comps.values() if len(c) > 1)


def test_radius_joins_hashes_bits_apart():
    a = np.zeros(128, bool)
    one, two = a.copy(), a.copy()
    one[3] = True  # 1 bit from a
    two[[70, 100]] = True  # 2 bits from a, 3 from `one`
    far = np.ones(128, bool)
    bits = np.stack([a, one, two, far])
    packed = np.packbits(bits, axis=1)
    assert group_hashes(packed, 0) == []
    assert group_hashes(packed, 1) == [[0, 1]]
    assert group_hashes(packed, 2) == [[0, 1, 2]]
    # Against brute force, on clusters of hashes a few bits apart.
    rng = np.random.default_rng(1)
    base = rng.integers(0, 2, (40, 128), dtype=np.uint8).astype(bool)
    bits = np.repeat(base, 4, axis=0)
    for i in range(len(bits)):
        bits[i, rng.choice(128, rng.integers(0, 4), replace=False)] ^= True
    for radius in (0, 1, 2, 3):
        assert sorted(group_hashes(np.packbits(bits, axis=1), radius)) == _components(bits, radius), radius


def test_score_counts_pairs_as_defined():
    # 4 originals (0 and 3 pixel-identical: one source), copies 4 (of 1, jpeg) and 5 (of 2, exact).
    inj = Injected(
        images=torch.zeros(6, 3, 32, 32, dtype=torch.uint8),
        source=np.array([0, 1, 2, 0, 1, 2]),
        kind=np.array(["original"] * 4 + ["jpeg", "exact"]),
        original=np.array([-1, -1, -1, -1, 1, 2]),
    )
    s = score([[0, 3], [1, 2, 4]], inj)
    assert s.precision == 2 / 4  # pairs (0,3) and (1,4) are true; (1,2), (2,4) are not
    assert s.fp_rate == 0.5
    assert s.false_grouped == 3 / 6  # 1, 2 and 4 are grouped with an image that is no copy of theirs
    assert s.recall["jpeg"] == 1.0 and s.recall["exact"] == 0.0 and s.recall["all"] == 0.5
    assert s.kind_precision["jpeg"] == 1 / 2  # copy 4 is grouped with 1 (true) and 2 (false)
    assert s.n_groups == 2 and s.n_removed == 3
    assert np.isnan(score([], inj).precision)


def test_injected_duplicates_are_measured_per_kind_against_baselines(cifar, trained):
    model, _ = trained
    inj = inject_duplicates(cifar, per_kind=20, seed=0)
    n = len(cifar)
    assert len(inj.images) == n + 20 * len(KINDS) and list(inj.kind[n : n + 20]) == ["exact"] * 20
    copies, originals = inj.images[n:], inj.images[inj.original[n:]]
    changed = (copies != originals).flatten(1).any(1).numpy()
    assert not changed[:20].any() and changed[20:].mean() > 0.9  # exact copies are exact; the rest differ
    scores = list(compare(encode(model, inj.images), inj, SMALL).values())
    assert [s.method.split(" ")[0] for s in scores] == ["autoencoder", "random", "perceptual", "SHA-1"]
    for s in scores:
        assert set(s.recall) == {*KINDS, "all"} and s.recall["exact"] == 1.0
        assert all(0 <= v <= 1 for v in s.recall.values())
    sha1 = scores[-1]
    assert sha1.precision == 1.0 and sha1.recall["noise"] == 0.0  # pixel hashes find exact copies only
    ae = scores[0]
    assert ae.recall["all"] > sha1.recall["all"]  # the semantic hash finds near-copies too
    assert ae.false_grouped < 0.02


def test_a_dataset_smaller_than_a_batch_trains_and_the_timing_runs(cifar, trained):
    model, losses = train_autoencoder(cifar[:3], dataclasses.replace(SMALL, epochs=2))
    assert len(losses) == 2 and all(np.isfinite(losses))
    with pytest.raises(ValueError, match="N×3×32×32"):
        train_autoencoder(cifar[:3, :1], SMALL)
    with pytest.raises(ValueError, match="per_kind can be at most 1"):
        inject_duplicates(cifar[:12], per_kind=2)
    s = scaling(trained[0], cifar, [1000, 4000], SMALL.threshold)
    assert s.n == [1000, 4000] and np.isfinite(s.exponent) and s.images_per_s > 0


def test_widget_regroups_as_the_threshold_and_radius_move(cifar, trained):
    from dcgan_core.widgets import dedup_explorer

    model, _ = trained
    inj = inject_duplicates(cifar[:800], per_kind=10, seed=1)
    codes = encode(model, inj.images)
    box = dedup_explorer(codes, inj, threshold=SMALL.threshold)
    (t_slider, r_slider), table, (bucket, caption), image = (
        box.children[0].children,
        box.children[1],
        box.children[2].children,
        box.children[3],
    )
    first = table.value
    assert "<table>" in first and "autoencoder" in first and bytes(image.value).startswith(b"\x89PNG")
    assert bucket.max + 1 == len(group_hashes(hash_codes(codes, SMALL.threshold), 0))
    r_slider.value = 2  # regrouped at radius 2
    assert bucket.max + 1 == len(group_hashes(hash_codes(codes, SMALL.threshold), 2))
    shown = bytes(image.value)
    if bucket.max > 0:
        bucket.value = 1
        assert bytes(image.value) != shown and caption.value.startswith("group 2 of")
    t_slider.value = t_slider.max  # all bits 0: everything collides
    assert bucket.max == 0 and f"{len(inj.images)} images" in caption.value


# ---------------------------------------------------------------------------------------------
# The section's pattern: DedupConfig profiles → run(cfg) → a Result saved as JSON


def test_config_profiles_and_one_line_validation():
    assert set(DedupConfig.PROFILES) == {"smoke", "cpu", "paper"}
    assert DedupConfig.from_profile("cpu") == DedupConfig.from_profile("paper") == DedupConfig()  # all of CIFAR-10
    smoke = DedupConfig.from_profile("smoke", radius=None, epochs=2)  # None keeps the profile's value
    assert smoke.eval_images == 5000 and smoke.epochs == 2 and smoke.radius == 0
    assert DedupConfig.from_dict(json.loads(json.dumps(smoke.to_dict()))) == smoke
    for bad, needle in [
        (dict(threshold=-1.0), "threshold must be"),
        (dict(radius=9), "radius must be"),
        (dict(noise="salt"), "noise must be one of"),
        (dict(dropout=1.0), "dropout must be"),
        (dict(noise="mask", noise_level=1.0), "noise_level must be"),
        (dict(scaling_sizes=(10, 0)), "scaling_sizes must be"),
        (dict(epochs=0), "epochs must be"),
    ]:
        with pytest.raises(ValueError, match=needle):
            DedupConfig.from_profile("smoke", **bad)
    with pytest.raises(ValueError, match="unknown profile 'full'"):
        DedupConfig.from_profile("full")


def test_run_returns_a_result_whose_json_round_trips_with_the_claim_keys(
    mirror, shared_cache_dir, tmp_path, monkeypatch
):
    monkeypatch.setenv("DCGAN_MIRROR", str(mirror))
    monkeypatch.setenv("DCGAN_DATA_DIR", str(shared_cache_dir))  # the `cifar` fixture's cache: limit 2000
    cfg = DedupConfig.from_profile(
        "smoke", limit=2000, eval_images=600, per_kind=20, epochs=2, scaling_sizes=(1000, 2000), progress=False
    )
    result = run(cfg)
    assert isinstance(result, DedupEvaluation) and isinstance(result, Result)
    assert result.n_originals == 600 and result.n_injected == 20 * len(KINDS) == len(result.injected.images) - 600
    assert list(result.scores) == ["autoencoder", "random projection", "phash", "SHA-1"]
    assert result.scores["SHA-1"].precision == 1.0 and result.scores["autoencoder"].recall["exact"] == 1.0
    assert result.codes.shape == (600 + 20 * len(KINDS), 128) and len(result.losses) == 2
    assert result.n_groups == len(result.groups) and result.n_false_groups == len(result.false_groups)
    assert len(result.sweep) == 10 * 3 and (result.best is None or result.best["fp_rate"] < 0.01)

    path = result.save(tmp_path / "results" / "02_dedup.json")
    saved = Result.load(path)
    assert saved == json.loads(json.dumps({"result": "DedupEvaluation", **result.to_dict()}))
    assert not {"injected", "codes", "groups", "false_groups", "model"} & set(saved)  # artifacts stay in memory
    assert DedupConfig.from_dict(saved["config"]) == cfg
    assert saved["scores"]["autoencoder"]["recall"]["all"] == result.scores["autoencoder"].recall["all"]
    assert saved["scaling"]["n"] == [1000, 2000] and saved["scaling"]["exponent"] == result.scaling.exponent
    keys = [c.key for c in claims_for("02_dedup")]
    assert {
        "02_dedup.scores.autoencoder.fp_rate",
        "02_dedup.scores.autoencoder.recall.all",
        "02_dedup.scaling.exponent",
    } <= set(keys)
    for key in keys:
        assert isinstance(lookup({"02_dedup": saved}, key), float), key


@pytest.mark.parametrize("name", ["report.json", "collisions.png", "kept.json"])
def test_a_crash_while_run_dedup_writes_leaves_the_previous_files_whole(tmp_path, cifar, monkeypatch, name):
    import dcgan_core.figures
    import dcgan_core.files

    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(40):
        Image.fromarray(cifar[i % 30].permute(1, 2, 0).numpy()).save(folder / f"img{i:02d}.png")  # 10 copies
    monkeypatch.setenv("DCGAN_DATA_DIR", str(tmp_path / "cache"))
    cfg = DedupConfig.from_profile("smoke", dataset=f"folder:{folder}", progress=False)
    out = tmp_path / "dedup"
    paths = run_dedup(cfg, out)
    assert sorted(paths) == ["collisions", "kept", "report"] and all(p.parent == out for p in paths.values())
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert sorted(before) == ["collisions.png", "kept.json", "report.json"]

    real = dcgan_core.files.atomic_write

    def crash_midway(path, write):
        if Path(path).name != name:
            return real(path, write)

        def half(tmp):  # the real bytes, cut short as by a crash
            write(tmp)
            os.truncate(tmp, os.path.getsize(tmp) // 2)
            raise RuntimeError("crashed while writing")

        return real(path, half)

    monkeypatch.setattr(dcgan_core.files, "atomic_write", crash_midway)  # behind files.write_json
    monkeypatch.setattr(dcgan_core.figures, "atomic_write", crash_midway)  # behind figures.save_figure
    with pytest.raises(RuntimeError, match="crashed while writing"):
        run_dedup(cfg.replace(seed=1, threshold=0.5), out)  # another report, if it got written
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert sorted(after) == sorted(before)  # no temp file left behind
    assert after[name] == before[name]  # the previous file, whole
    json.loads((out / "report.json").read_text())


def test_run_dedup_on_a_full_disk_is_one_line_and_leaves_no_temp(tmp_path, cifar, monkeypatch):
    import dcgan_core.files

    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(20):
        Image.fromarray(cifar[i].permute(1, 2, 0).numpy()).save(folder / f"img{i:02d}.png")
    monkeypatch.setenv("DCGAN_DATA_DIR", str(tmp_path / "cache"))
    real = Path.write_text

    def disk_full(self, text, *args, **kwargs):
        if self.name.startswith(".report.json.tmp-"):
            real(self, text[:10])
            raise OSError(28, "No space left on device")
        return real(self, text, *args, **kwargs)

    monkeypatch.setattr(dcgan_core.files.Path, "write_text", disk_full)
    out = tmp_path / "dedup"
    with pytest.raises(WriteError, match=r"cannot write .*report.json: the disk is full"):
        run_dedup(DedupConfig.from_profile("smoke", dataset=f"folder:{folder}", progress=False), out)
    assert list(out.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# The command line, on a folder of images it has never seen


def dedup(*args, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dcgan_core", "dedup", *map(str, args), "--no-progress"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )


def _fingerprint(folder: Path) -> dict[str, tuple[str, int]]:
    return {
        p.relative_to(folder).as_posix(): (hashlib.sha1(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def env(cache_dir):
    return {**os.environ, "DCGAN_DATA_DIR": str(cache_dir)}


def test_cli_finds_injected_copies_in_a_folder_and_changes_nothing(tmp_path, cifar, env, cache_dir):
    # 60 real CIFAR images saved at mixed sizes and formats, in a folder and a subfolder.
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i, k in enumerate(rng.choice(len(cifar), 60, replace=False)):
        img = Image.fromarray(cifar[k].permute(1, 2, 0).numpy()).resize((int(rng.integers(40, 90)),) * 2)
        img.save(folder / ("sub" if i % 3 == 0 else ".") / f"img{i:02d}.{'png' if i % 2 else 'jpg'}")
    # The injected copies: a byte copy into the subfolder, and the same pixels saved as a BMP.
    shutil.copy(folder / "img01.png", folder / "sub" / "copy_of_img01.png")
    Image.open(folder / "img05.png").save(folder / "img05_again.bmp")
    Image.open(folder / "img07.png").convert("P").save(folder / "palette.gif")  # a mixed-mode image
    (folder / "empty.jpg").write_bytes(b"")  # unreadable: skipped
    before = _fingerprint(folder)

    out = tmp_path / "dedup"
    r = dedup("--dataset", f"folder:{folder}", "--out", out, "--profile", "smoke", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "warning: skipped 1 unreadable image" in r.stderr and "Traceback" not in r.stderr
    assert _fingerprint(folder) == before  # nothing changed or deleted

    report = json.loads((out / "report.json").read_text())
    assert report["n_total"] == 63 and report["skipped"] == [["empty.jpg", "empty file"]]
    groups = [set(g) for g in report["groups"]]
    for pair in ({"img01.png", "sub/copy_of_img01.png"}, {"img05.png", "img05_again.bmp"}):
        assert any(pair <= g for g in groups), (pair, report["groups"])
    assert report["n_removed"] == sum(len(g) - 1 for g in groups) and report["config"]["threshold"] == SMALL.threshold
    assert Image.open(out / "collisions.png").size[0] > 100

    kept = json.loads((out / "kept.json").read_text())
    with pytest.warns(UserWarning, match="skipped 1 unreadable"):
        data = load_dataset(f"folder:{folder}", 32, cache_dir=cache_dir, progress=False)
    assert kept["dataset"] == data.name and kept["n_total"] == len(data) == 63
    deduped = data.keep(out / "kept.json")  # what `train --keep` reads
    assert len(deduped) == report["n_kept"] == 63 - report["n_removed"]
    assert not {"img01.png", "sub/copy_of_img01.png"} <= set(deduped.ids)  # one of each pair is left out


@pytest.mark.parametrize(
    "case, needle",
    [
        ("missing", "does not exist"),
        ("unreadable", "could be read"),
        ("threshold", "--threshold: must be ≥ 0.0, got -1.0"),
        ("radius", "radius must be"),
    ],
)
def test_cli_bad_input_is_one_error_line(tmp_path, env, case, needle):
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "broken.png").write_bytes(b"")
    args = {
        "missing": ["--dataset", f"folder:{tmp_path / 'nope'}"],
        "unreadable": ["--dataset", f"folder:{folder}"],
        "threshold": ["--dataset", f"folder:{folder}", "--threshold", "-1"],
        "radius": ["--dataset", f"folder:{folder}", "--radius", "99"],
    }[case]
    r = dedup(*args, "--out", tmp_path / "out", env=env)
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert r.returncode != 0 and "Traceback" not in r.stderr and len(errors) == 1, r.stderr
    assert needle in errors[0], errors[0]
    assert not (tmp_path / "out" / "kept.json").exists()
