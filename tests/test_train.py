"""Training (§4) on real MNIST digits from the offline mirror: reproducibility, exact resume,
checkpoints that survive crashes, divergence handling and the metrics log.

Networks are tiny (width 8, 32×32, batch 16) so each run of 20 steps takes about a second.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path

import pytest
import torch
from PIL import Image

import dcgan_core.checkpoint as checkpoint_module
from dcgan_core.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from dcgan_core.data import DataError, load_dataset
from dcgan_core.files import RunDir
from dcgan_core.models import sample_z
from dcgan_core.pretrained import load_models as models_from_checkpoint
from dcgan_core.runlog import METRICS, read_metrics
from dcgan_core.train import TrainConfig, Trainer, TrainingDiverged, train

N_IMAGES, BATCH = 128, 16  # 8 steps per epoch: 20 steps cross two epoch boundaries
STEPS_PER_EPOCH = N_IMAGES // BATCH
CKPT_KEYS = {"generator", "discriminator", "opt_g", "opt_d", "step", "epoch", "rng", "config"}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny nets: one intra-op thread is as fast, and far faster when other jobs share the cores."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def mnist(mirror, tmp_path_factory):
    data = load_dataset(
        "mnist", 32, limit=N_IMAGES, mirror=mirror, cache_dir=tmp_path_factory.mktemp("data-cache"), progress=False
    )
    assert data.images.shape == (N_IMAGES, 1, 32, 32) and data.images.dtype == torch.uint8
    return data


@pytest.fixture
def cfg(tmp_path):
    return TrainConfig(
        dataset="mnist",
        arch="torch",
        image_size=32,
        g_width=8,
        d_width=8,
        batch_size=BATCH,
        max_steps=20,
        seed=0,
        out=str(tmp_path / "run"),
        n_grid=16,
        ckpt_every=500,
        device="cpu",
        progress=False,
    )


def assert_same(a, b, where="state"):
    """Recursive bit-for-bit equality of state dicts (tensors, dicts, lists, numbers)."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape, where
        assert torch.equal(a, b), f"{where} differs"
    elif isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), f"{where}: keys {sorted(a)} vs {sorted(b)}"
        for k in a:
            assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} vs {b!r}"


def training_state(t: Trainer) -> dict:
    s = t.state_dict()
    return {k: s[k] for k in ("generator", "discriminator", "opt_g", "opt_d", "step", "epoch")}


def metric_rows(path, drop=("time",)) -> list[dict]:
    with open(path, newline="") as f:
        return [{k: v for k, v in r.items() if k not in drop} for r in csv.DictReader(f)]


# --- reproducibility ----------------------------------------------------------------------------
def test_same_seed_is_bit_identical_different_seed_is_not(cfg, mnist, tmp_path):
    a = train(cfg.replace(out=str(tmp_path / "a")), data=mnist)
    b = train(cfg.replace(out=str(tmp_path / "b")), data=mnist)
    c = train(cfg.replace(out=str(tmp_path / "c"), seed=1), data=mnist)
    assert a.step == b.step == c.step == 20
    assert_same(training_state(a), training_state(b))
    assert metric_rows(tmp_path / "a" / "metrics.csv") == metric_rows(tmp_path / "b" / "metrics.csv")
    differ = [
        k for k, v in a.G.state_dict().items() if v.is_floating_point() and not torch.equal(v, c.G.state_dict()[k])
    ]
    assert len(differ) > len(a.G.state_dict()) // 2
    assert not torch.equal(a.D.head[0].weight, c.D.head[0].weight)


def test_resume_is_exact(cfg, mnist, tmp_path):
    straight = train(cfg.replace(out=str(tmp_path / "straight")), data=mnist)

    half = cfg.replace(out=str(tmp_path / "halves"), max_steps=10)  # stops mid-epoch 2
    first = train(half, data=mnist)
    assert first.step == 10 and load_checkpoint(first.ckpt_path)["step"] == 10
    del first
    second = train(half.replace(max_steps=20), resume=True, data=mnist)  # a new Trainer, same process

    assert second.step == 20
    assert_same(training_state(second), training_state(straight))
    # The checkpoints agree too (but for `out` in the config, and the process-global torch RNG).
    a, b = load_checkpoint(second.ckpt_path), load_checkpoint(straight.ckpt_path)
    for state in (a, b):
        state["config"].pop("out"), state.pop("rng")
    assert_same(a, b)
    rows = metric_rows(tmp_path / "halves" / "metrics.csv")
    assert rows == metric_rows(tmp_path / "straight" / "metrics.csv")
    assert [int(r["step"]) for r in rows] == list(range(1, 21))
    # The fixed-noise grids of the epochs after the resume point are the same pictures.
    for name in ("epoch_001.png", "epoch_002.png"):
        assert (tmp_path / "halves" / "samples" / name).read_bytes() == (
            tmp_path / "straight" / "samples" / name
        ).read_bytes()


# --- checkpoints ---------------------------------------------------------------------------------
def test_checkpoint_contents_and_rebuild(cfg, mnist):
    t = train(cfg, data=mnist)
    path = t.ckpt_path
    assert path == t.out / "checkpoints" / "last.pt" and path.is_file()
    raw = torch.load(path, weights_only=True)
    assert set(raw) == CKPT_KEYS
    assert raw["step"] == 20 and raw["epoch"] == 20 // STEPS_PER_EPOCH
    assert raw["config"] == t.cfg.to_dict() and raw["config"]["channels"] == 1
    assert set(raw["rng"]) == {"torch"}
    assert_same(raw["generator"], t.G.state_dict())
    assert_same(raw["discriminator"], t.D.state_dict())

    G, D, saved_cfg = models_from_checkpoint(path)
    assert saved_cfg == t.cfg
    assert not G.training and not D.training
    z = sample_z(8, t.cfg.nz, torch.Generator().manual_seed(4))
    t.G.eval(), t.D.eval()
    with torch.no_grad():
        images = G(z)
        assert images.shape == (8, 1, 32, 32)
        assert torch.equal(images, t.G(z))
        assert torch.equal(D(images), t.D(images))


def test_keep_every_keeps_the_checkpoints_along_the_run(cfg, mnist, tmp_path):
    """--keep-every K: step_NNNNNNN.pt every K steps, each the state of that step (a shorter run
    with the same seed ends in the same weights)."""
    t = train(cfg.replace(keep_every=8), data=mnist)
    kept = RunDir(t.out).step_checkpoints()
    assert [p.name for p in kept] == ["step_0000008.pt", "step_0000016.pt"]
    assert [torch.load(p, weights_only=True)["step"] for p in kept] == [8, 16]
    short = train(cfg.replace(max_steps=8, out=str(tmp_path / "short")), data=mnist)
    assert_same(torch.load(kept[0], weights_only=True)["generator"], short.G.state_dict())
    assert not RunDir(short.out).step_checkpoints()


def test_lr_decay_falls_linearly_to_zero_and_resumes_exactly(cfg, mnist, tmp_path, monkeypatch):
    """--lr-decay-from S (the authors' MNIST code): lr until step S, then linearly to zero at the
    last step; the lr each step used is recorded by spying on Adam. A run trained to S with
    a constant lr and then resumed with the decay equals one run with the decay from the start
    (how the zoo's mnist-conditional was extended). Off, the lr never changes."""
    used = []
    step = torch.optim.Adam.step

    def spy(opt, *args, **kwargs):
        used.append(opt.param_groups[0]["lr"])
        return step(opt, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", spy)

    train(cfg, data=mnist)
    assert set(used) == {cfg.lr}

    decay = cfg.replace(lr_decay_from=12, out=str(tmp_path / "decay"))
    used.clear()
    straight = train(decay, data=mnist)
    per_step = used[::2]  # D's and G's Adam step share each step's lr
    assert used[1::2] == per_step and len(per_step) == 20
    assert per_step[:12] == [cfg.lr] * 12
    assert per_step[12:] == pytest.approx([cfg.lr * (20 - s) / 8 for s in range(12, 20)])
    assert per_step[-1] == pytest.approx(cfg.lr / 8) and per_step[-1] > 0

    first = train(cfg.replace(max_steps=12, out=str(tmp_path / "extended")), data=mnist)
    del first
    resumed = train(decay.replace(out=str(tmp_path / "extended")), resume=True, data=mnist)
    assert_same(training_state(resumed), training_state(straight))

    with pytest.raises(ValueError, match="lr_decay_from .* must come before the last step"):
        Trainer(cfg.replace(lr_decay_from=20), data=mnist)
    with pytest.raises(ValueError, match="lr_decay_from .* must come before the last step"):
        Trainer(cfg.replace(max_steps=None, epochs=1, lr_decay_from=STEPS_PER_EPOCH), data=mnist)


def test_interrupted_save_leaves_previous_checkpoint_intact(cfg, mnist, monkeypatch):
    t = train(cfg.replace(max_steps=4), data=mnist)
    before = t.ckpt_path.read_bytes()
    real_save = torch.save
    t.train_step(*t.batch(t.step))  # change the weights, so a save would differ
    t.step += 1

    def crash(obj, f, *args, **kwargs):  # a crash halfway through writing
        real_save({"generator": {}}, f)
        f.write(b"\0" * 1000)
        raise OSError("simulated crash: disk full")

    monkeypatch.setattr(checkpoint_module.torch, "save", crash)
    with pytest.raises(OSError, match="simulated crash"):
        t.save()
    monkeypatch.undo()

    assert t.ckpt_path.read_bytes() == before
    assert load_checkpoint(t.ckpt_path)["step"] == 4
    assert [p.name for p in t.ckpt_path.parent.iterdir()] == ["last.pt"]  # no temp file left


def test_crash_while_checkpointing_in_training_then_resume(cfg, mnist, monkeypatch, tmp_path):
    """Killed (KeyboardInterrupt) while writing the second checkpoint: the first survives,
    and resuming from it reproduces the uninterrupted run."""
    calls = []
    real_save = torch.save

    def save_then_die(obj, f, *args, **kwargs):
        calls.append(obj["step"])
        if len(calls) == 2:
            f.write(b"PK\x03\x04 half a zip")
            raise KeyboardInterrupt
        real_save(obj, f, *args, **kwargs)

    run = cfg.replace(ckpt_every=5, max_steps=12)
    monkeypatch.setattr(checkpoint_module.torch, "save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        train(run, data=mnist)
    monkeypatch.undo()
    assert calls == [5, 8]
    ckpt_dir = tmp_path / "run" / "checkpoints"
    assert [p.name for p in ckpt_dir.iterdir()] == ["last.pt"]
    assert load_checkpoint(ckpt_dir / "last.pt")["step"] == 5

    resumed = train(run, resume=True, data=mnist)
    straight = train(run.replace(out=str(tmp_path / "straight")), data=mnist)
    assert_same(training_state(resumed), training_state(straight))
    assert metric_rows(tmp_path / "run" / "metrics.csv") == metric_rows(tmp_path / "straight" / "metrics.csv")


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_damaged_checkpoint_is_a_checkpoint_error_naming_the_file(cfg, mnist, damage):
    t = train(cfg.replace(max_steps=2), data=mnist)
    good = t.ckpt_path.read_bytes()
    t.ckpt_path.write_bytes(
        {"truncated": good[: len(good) // 2], "garbage": b"this is not a checkpoint\n" * 20, "empty": b""}[damage]
    )
    with pytest.raises(CheckpointError, match="damaged or not a dcgan_core checkpoint") as e:
        load_checkpoint(t.ckpt_path)
    assert str(t.ckpt_path) in str(e.value)
    with pytest.raises(CheckpointError) as e:
        train(cfg.replace(max_steps=4), resume=True, data=mnist)
    assert str(t.ckpt_path) in str(e.value)


class _NotATensor:
    """Something a pickle could carry; weights_only loading must refuse it."""


def test_checkpoint_with_arbitrary_objects_or_foreign_dict_is_refused(tmp_path):
    evil = tmp_path / "evil.pt"
    torch.save({"generator": {}, "config": {}, "payload": _NotATensor()}, evil)
    with pytest.raises(CheckpointError, match="evil.pt"):
        load_checkpoint(evil)
    foreign = save_checkpoint({"state_dict": {"w": torch.zeros(2)}}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match=r"not a dcgan_core checkpoint \(missing \['config', 'generator'\]\)"):
        load_checkpoint(foreign)
    with pytest.raises(CheckpointError, match="no checkpoint at .*missing.pt"):
        load_checkpoint(tmp_path / "missing.pt")


# --- divergence -----------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_loss_stops_and_keeps_last_good_checkpoint(cfg, mnist, monkeypatch, bad):
    real_step = Trainer.train_step

    def diverging_step(self, x, z):
        stats = real_step(self, x, z)
        if self.step + 1 == 7:  # the 7th step's loss blows up
            stats["loss_d"] = bad
        return stats

    monkeypatch.setattr(Trainer, "train_step", diverging_step)
    run = cfg.replace(ckpt_every=5)
    with pytest.raises(TrainingDiverged, match="non-finite at step 7") as e:
        train(run, data=mnist)
    ckpt = cfg.out + "/checkpoints/last.pt"
    assert ckpt in str(e.value)
    assert load_checkpoint(ckpt)["step"] == 5


def test_divergence_before_any_checkpoint_says_so(cfg, mnist, monkeypatch):
    real_step = Trainer.train_step
    monkeypatch.setattr(Trainer, "train_step", lambda self, x, z: {**real_step(self, x, z), "loss_g": math.nan})
    with pytest.raises(TrainingDiverged, match="step 1 .*none written yet"):
        train(cfg, data=mnist)
    assert not (Path(cfg.out) / "checkpoints" / "last.pt").exists()


# --- refusing to lose work ------------------------------------------------------------------------
def test_refuses_to_overwrite_a_run(cfg, mnist):
    t = train(cfg.replace(max_steps=3), data=mnist)
    before = t.ckpt_path.read_bytes()
    with pytest.raises(CheckpointError, match="--resume"):
        train(cfg, data=mnist)
    assert t.ckpt_path.read_bytes() == before


@pytest.mark.parametrize("field,value", [("g_width", 16), ("d_width", 16), ("nz", 32), ("arch", "paper")])
def test_resume_with_other_networks_names_the_field(cfg, mnist, field, value):
    t = train(cfg.replace(max_steps=3), data=mnist)
    before = t.ckpt_path.read_bytes()
    with pytest.raises(CheckpointError, match=rf"{field}: checkpoint .* vs config {value!r}"):
        train(cfg.replace(**{field: value}), resume=True, data=mnist)
    assert t.ckpt_path.read_bytes() == before


def test_resume_may_change_training_length(cfg, mnist):
    train(cfg.replace(max_steps=3), data=mnist)
    t = train(cfg.replace(max_steps=5, ckpt_every=100), resume=True, data=mnist)
    assert t.step == 5 and load_checkpoint(t.ckpt_path)["step"] == 5


# --- outputs --------------------------------------------------------------------------------------
def test_metrics_and_sample_grids(cfg, mnist):
    t = train(cfg.replace(grid_every=6), data=mnist)
    path = t.out / "metrics.csv"
    assert path.read_text().splitlines()[0] == ",".join(METRICS)
    m = read_metrics(path)
    assert m["step"] == list(range(1, 21))
    assert m["epoch"] == [s // STEPS_PER_EPOCH + 1 for s in range(20)]
    for k in ("loss_d", "loss_g"):
        assert all(math.isfinite(v) and v > 0 for v in m[k]), k
    for k in ("d_x", "d_g_z"):
        assert all(0 <= v <= 1 for v in m[k]), k
    assert all(b >= a for a, b in zip(m["time"], m["time"][1:]))

    samples = t.out / "samples"
    assert sorted(p.name for p in samples.iterdir()) == [
        "epoch_001.png",
        "epoch_002.png",
        "step_0000006.png",
        "step_0000012.png",
        "step_0000018.png",
    ]
    with Image.open(samples / "epoch_002.png") as im:
        assert im.size == (4 * 32 + 5 * 2, 4 * 32 + 5 * 2)  # 16 images, 4×4, torchvision's padding 2
    assert (samples / "epoch_001.png").read_bytes() != (samples / "epoch_002.png").read_bytes()
    assert json.loads((t.out / "config.json").read_text()) == t.cfg.to_dict()


def test_resume_drops_metric_rows_written_after_the_checkpoint(cfg, mnist, tmp_path):
    run = cfg.replace(max_steps=10)
    train(run, data=mnist)
    path = tmp_path / "run" / "metrics.csv"
    kept = metric_rows(path, drop=())
    assert [int(r["step"]) for r in kept] == list(range(1, 11))
    with open(path, "a", newline="") as f:  # a crash after step 13, before its checkpoint
        w = csv.writer(f)
        for step in (11, 12, 13):
            w.writerow([step, 2, 999.0, 999.0, 0.5, 0.5, 1e6])

    train(run.replace(max_steps=12), resume=True, data=mnist)
    rows = metric_rows(path, drop=())
    assert [int(r["step"]) for r in rows] == list(range(1, 13))
    assert rows[:10] == kept
    assert not any(r["loss_d"] == "999.0" or r["loss_d"] == "999" for r in rows)


def test_dataset_smaller_than_one_batch(cfg, mnist):
    with pytest.raises(
        DataError, match=rf"{N_IMAGES} usable images, fewer than one batch of {N_IMAGES + 1}.*--batch-size"
    ):
        train(cfg.replace(batch_size=N_IMAGES + 1), data=mnist)
    assert not Path(cfg.out).exists()


def test_image_size_must_match_data(cfg, mnist):
    with pytest.raises(DataError, match="image_size is 64"):
        Trainer(cfg.replace(image_size=64), mnist)


def test_copied_run_resumes_in_its_new_folder(cfg, mnist, tmp_path):
    """A run folder moved elsewhere resumes there (the checkpoint's own `out` is not trusted)."""
    train(cfg.replace(max_steps=4), data=mnist)
    shutil.copytree(tmp_path / "run", tmp_path / "moved")
    t = train(cfg.replace(out=str(tmp_path / "moved"), max_steps=6), resume=True, data=mnist)
    assert t.step == 6
    assert load_checkpoint(tmp_path / "moved" / "checkpoints" / "last.pt")["step"] == 6
    assert load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")["step"] == 4


# --- speed levers keep the numerics where they matter ---------------------------------------------
def test_bf16_autocast_keeps_weights_bn_statistics_and_loss_in_fp32(cfg, mnist, monkeypatch):
    import dcgan_core.train as train_module

    seen = []
    real_loss = train_module.gan_loss
    monkeypatch.setattr(
        train_module, "gan_loss", lambda logits, real: seen.append(logits.dtype) or real_loss(logits, real)
    )
    t = Trainer(cfg.replace(precision="bf16", channels_last=True), mnist)
    conv_out = []
    t.D.layers[1][0].register_forward_hook(lambda m, i, o: conv_out.append(o.dtype))
    stats = t.train_step(*t.batch(0))
    assert all(math.isfinite(v) for v in stats.values())
    assert conv_out and set(conv_out) == {torch.bfloat16}  # the convolutions did run in bf16 ...
    assert set(seen) == {torch.float32}  # ... the loss did not
    for net in (t.G, t.D):  # master weights, BN γ/β and statistics
        assert {p.dtype for p in net.parameters()} == {torch.float32}
        assert {b.dtype for b in net.buffers() if b.is_floating_point()} == {torch.float32}


def test_fp32_and_bf16_runs_stay_close_over_a_few_steps(cfg, mnist):
    runs = {p: train(cfg.replace(precision=p, max_steps=8, out=f"{cfg.out}-{p}"), data=mnist) for p in ("fp32", "bf16")}
    a, b = (read_metrics(Path(r.out) / "metrics.csv") for r in runs.values())
    assert max(abs(x - y) for x, y in zip(a["loss_d"], b["loss_d"])) < 0.1


def test_channels_last_changes_layout_not_results(cfg, mnist):
    """The same numbers in either layout, up to the kernels' rounding. The first step's losses (before
    any update) agree to 1e-5. After it, Adam moves each weight by about ±lr whatever its gradient's
    size, so rounding that flips a near-zero gradient's sign moves that weight by 2·lr (on the AVX2-only
    AMD host ~1 % of conv weights, up to 8e-4 after 3 steps): later losses agree to 2e-3, and the
    weights on average to 5e-5 (a layout mix-up moves them by their own size, ~1e-2)."""
    a = train(cfg.replace(precision="fp32", channels_last=False, max_steps=3, out=cfg.out + "-a"), data=mnist)
    b = train(cfg.replace(precision="fp32", channels_last=True, max_steps=3, out=cfg.out + "-b"), data=mnist)
    assert b.G.layers[1][0].weight.is_contiguous(memory_format=torch.channels_last)
    ma, mb = (read_metrics(Path(r.out) / "metrics.csv") for r in (a, b))
    for key in ("loss_d", "loss_g", "d_x", "d_g_z"):
        assert ma[key][0] == pytest.approx(mb[key][0], abs=1e-5), key
        assert ma[key] == pytest.approx(mb[key], abs=2e-3), key
    wa, wb = a.G.state_dict(), b.G.state_dict()
    diff = torch.cat([(wa[k] - wb[k]).abs().flatten() for k in wa if wa[k].is_floating_point()])
    assert diff.mean() < 5e-5


# --- a dedup index (§4.1.1) restricts the training set -------------------------------------------
def test_training_on_the_images_a_dedup_index_kept(cfg, mnist, tmp_path):
    kept = list(range(0, N_IMAGES, 2))
    index = tmp_path / "kept.json"
    index.write_text(json.dumps({"dataset": "mnist", "n_total": N_IMAGES, "kept": kept}))
    t = Trainer(cfg.replace(keep=str(index)), mnist)
    assert len(t.data) == len(kept) and t.data.ids == [mnist.ids[i] for i in kept]
    assert torch.equal(t.data.images, mnist.images[kept]) and torch.equal(t.data.labels, mnist.labels[kept])
    assert t.steps_per_epoch == len(kept) // BATCH

    index.write_text(json.dumps({"dataset": "mnist", "n_total": 999, "kept": kept}))
    with pytest.raises(DataError, match="made for 'mnist' with 999 images"):
        Trainer(cfg.replace(keep=str(index)), mnist)
    with pytest.raises(DataError, match="cannot read the dedup index"):
        Trainer(cfg.replace(keep=str(tmp_path / "missing.json")), mnist)


# --- evaluation during training -----------------------------------------------------------------


def test_evaluation_every_k_steps_logs_fid_and_keeps_the_best_checkpoint(cfg, mnist, mirror, tmp_path, monkeypatch):
    monkeypatch.setenv("DCGAN_MIRROR", str(mirror))  # MNIST test images from here,
    monkeypatch.setenv("DCGAN_DATA_DIR", str(tmp_path / "data"))  # their features cached here
    run = cfg.replace(max_steps=6, eval_every=2, eval_n=8)
    trainer = train(run, data=mnist)
    rows = list(csv.DictReader(open(Path(run.out) / "eval.csv")))
    assert [int(r["step"]) for r in rows] == [2, 4, 6]
    fids = [float(r["fid"]) for r in rows]
    assert all(f > 0 and math.isfinite(f) for f in fids)
    best = load_checkpoint(trainer.best_path)
    assert best["step"] == [2, 4, 6][fids.index(min(fids))]  # a copy of last.pt at the best step
    assert load_checkpoint(trainer.ckpt_path)["step"] == 6

    # resume: earlier rows are kept, the best so far still counts
    train(run.replace(max_steps=8), resume=True, data=mnist)
    rows = list(csv.DictReader(open(Path(run.out) / "eval.csv")))
    assert [int(r["step"]) for r in rows] == [2, 4, 6, 8]
    fids = [float(r["fid"]) for r in rows]
    assert load_checkpoint(trainer.best_path)["step"] == [2, 4, 6, 8][fids.index(min(fids))]


def test_evaluation_is_off_by_default(cfg, mnist):
    trainer = train(cfg.replace(max_steps=2), data=mnist)
    assert not (Path(cfg.out) / "eval.csv").exists() and not trainer.best_path.exists()


def test_auto_precision_takes_bf16_on_a_cpu_only_where_it_measures_faster():
    """ "auto" follows the measurement, not the flags: a CPU whose bf16 GEMM is slower than fp32's
    (Intel AVX512-BF16 without AMX) trains in fp32; the margin decides both ways."""
    from dcgan_core.hardware import cpu_bf16_kernels, cpu_bf16_pays, resolve_precision

    cpu = torch.device("cpu")
    assert resolve_precision("fp32", cpu) == "fp32" and resolve_precision("bf16", cpu) == "bf16"
    assert resolve_precision("auto", cpu) == ("bf16" if cpu_bf16_kernels() and cpu_bf16_pays() else "fp32")
    assert not cpu_bf16_pays(n=256, rounds=2, margin=1e6)  # no CPU is a million times faster in bf16
    assert cpu_bf16_pays(n=256, rounds=2, margin=1e-6)  # and every one is faster than a millionth
