"""Training DCGAN — §4 "Details of adversarial training".

"All models were trained with mini-batch stochastic gradient descent (SGD) with a mini-batch
size of 128. All weights were initialized from a zero-centered Normal distribution with
standard deviation 0.02. In the LeakyReLU, the slope of the leak was set to 0.2 in all models.
[...] we used the Adam optimizer with tuned hyperparameters [...] learning rate of 0.0002 [...]
momentum term β1 [...] 0.5 helped stabilize training." No augmentation; images in [-1, 1].

The loop is the standard alternating one (pytorch/examples' DCGAN): one D step on a real and
a fake batch, then one G step with the non-saturating loss. Everything that makes a run
reproducible is explicit state of the `Trainer` and goes into the checkpoint:

* weight init and the fixed sample grid come from generators seeded by `cfg.seed`;
* the data order of epoch e is a permutation seeded by (seed, e), so a step number alone
  says which images come next — resume needs no sampler state;
* the noise z of every step comes from one `torch.Generator` whose state is checkpointed.

Same seed and config → bit-identical weights on CPU; training 2N steps equals N steps, a
checkpoint, and N more after `resume`.
"""

from __future__ import annotations

import csv
import json
import math
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torchvision.utils import save_image
from tqdm.auto import tqdm

from .checkpoint import CheckpointError, build_models, load_checkpoint, save_checkpoint
from .config import MODEL_FIELDS, TrainConfig
from .data import DataError, ImageData, load_dataset
from .models import init_weights, sample_z

METRICS = ("step", "epoch", "loss_d", "loss_g", "d_x", "d_g_z", "time")


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the last good checkpoint is left as it was."""


def gan_loss(logits: torch.Tensor, real: bool) -> torch.Tensor:
    """Binary cross-entropy of D's logits against "real" (1) or "fake" (0), as a loss to
    *minimise*. D minimises gan_loss(D(x), True) + gan_loss(D(G(z)), False), i.e. maximises
    log D(x) + log(1 − D(G(z))); G minimises gan_loss(D(G(z)), True), i.e. maximises
    log D(G(z)) — the non-saturating generator loss of Goodfellow et al. (2014) that DCGAN uses.
    BCE-with-logits is the stable form of sigmoid + log."""
    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    return F.binary_cross_entropy_with_logits(logits, target)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


class Trainer:
    """`Trainer(cfg).train()` trains G and D and writes into `cfg.out`:

    * `checkpoints/last.pt` — G, D, both optimizers, step, epoch, RNG states, config;
    * `metrics.csv` — per step: loss_d, loss_g, D(x), D(G(z)) (probabilities), elapsed time;
    * `samples/epoch_NNN.png` (and `samples/step_NNNNNNN.png` every `grid_every` steps) —
      G applied to one fixed noise batch, so grids are comparable across time;
    * `config.json` — the config, for people and tools.
    """

    def __init__(self, cfg: TrainConfig, data: ImageData | None = None):
        if data is None:
            data = load_dataset(cfg.dataset, cfg.image_size, split=cfg.split, channels=cfg.channels,
                                limit=cfg.limit, progress=cfg.progress)
        if tuple(data.images.shape[-2:]) != (cfg.image_size, cfg.image_size):
            raise DataError(f"the data is {tuple(data.images.shape[-2:])} but image_size is {cfg.image_size}")
        if len(data) < cfg.batch_size:
            raise DataError(f"{cfg.dataset} has {len(data)} usable images, fewer than one batch of "
                            f"{cfg.batch_size}: lower batch_size (--batch-size) or add images")
        self.cfg = cfg = cfg.replace(channels=data.channels)
        self.data = data
        self.device = resolve_device(cfg.device)
        self.out = Path(cfg.out)
        self.ckpt_path = self.out / "checkpoints" / "last.pt"

        self.G, self.D = build_models(cfg)
        init = torch.Generator().manual_seed(cfg.seed)
        init_weights(self.G, init)
        init_weights(self.D, init)
        self.memory_format = torch.channels_last if cfg.channels_last else torch.contiguous_format
        self.G.to(self.device, memory_format=self.memory_format)
        self.D.to(self.device, memory_format=self.memory_format)
        # What the step calls: the modules themselves, or their compiled versions (same weights).
        self.g_fwd, self.d_fwd = (torch.compile(self.G), torch.compile(self.D)) if cfg.compile else (self.G, self.D)
        betas = (cfg.beta1, cfg.beta2)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=cfg.lr, betas=betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=cfg.lr, betas=betas)

        self.noise = torch.Generator().manual_seed(cfg.seed + 1)          # z of every step
        self.fixed_z = sample_z(cfg.n_grid, cfg.nz, torch.Generator().manual_seed(cfg.seed + 2),
                                self.device)                              # the sample grid's z
        self.step = 0
        self.steps_per_epoch = len(data) // cfg.batch_size                # last partial batch dropped
        self.total_steps = cfg.max_steps if cfg.max_steps is not None else cfg.epochs * self.steps_per_epoch

    # --- one step ---------------------------------------------------------------------------
    def autocast(self):
        """bf16 autocast for convolutions and matmuls when `precision="bf16"`; weights (the
        optimizer's master copy), BN statistics and the loss stay fp32."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.cfg.precision == "bf16")

    def train_step(self, x: torch.Tensor) -> dict[str, float]:
        G, D = self.g_fwd, self.d_fwd
        x = x.contiguous(memory_format=self.memory_format)
        z = sample_z(len(x), self.cfg.nz, self.noise, self.device)
        with self.autocast():
            fake = G(z)
            # (1) D: maximise log D(x) + log(1 − D(G(z))). Real and fake go through D as separate
            # batches, so BN statistics are never mixed across them (as in the paper's code).
            d_real, d_fake = D(x).float(), D(fake.detach()).float()
        loss_d = gan_loss(d_real, True) + gan_loss(d_fake, False)
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()

        # (2) G: maximise log D(G(z)) (non-saturating), through the just-updated D. D's weights
        # need no gradient here (only its input does), which saves a third of D's backward.
        self.D.requires_grad_(False)
        with self.autocast():
            d_fake_g = D(fake).float()
        loss_g = gan_loss(d_fake_g, True)
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        self.D.requires_grad_(True)

        return dict(loss_d=loss_d.item(), loss_g=loss_g.item(),
                    d_x=torch.sigmoid(d_real).mean().item(), d_g_z=torch.sigmoid(d_fake).mean().item())

    def batch_indices(self, step: int) -> torch.Tensor:
        """The images of global step `step`: epoch e's order is a permutation seeded by (seed, e)."""
        epoch, i = divmod(step, self.steps_per_epoch)
        order = torch.randperm(len(self.data), generator=torch.Generator().manual_seed(self.cfg.seed * 100_003 + epoch))
        b = self.cfg.batch_size
        return order[i * b:(i + 1) * b]

    # --- the loop -----------------------------------------------------------------------------
    def train(self) -> dict:
        cfg, spe = self.cfg, self.steps_per_epoch
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2))
        log = _MetricsLog(self.out / "metrics.csv", keep_until=self.step)
        self.G.train()
        self.D.train()
        t0, start_step = time.perf_counter(), self.step
        bar = tqdm(total=self.total_steps, initial=self.step, desc="train", unit="step",
                   disable=not cfg.progress, dynamic_ncols=True)
        try:
            while self.step < self.total_steps:
                epoch = self.step // spe
                x = self.data.batch(self.batch_indices(self.step)).to(self.device, non_blocking=True)
                stats = self.train_step(x)
                if not all(math.isfinite(v) for v in stats.values()):
                    raise TrainingDiverged(
                        f"loss became non-finite at step {self.step + 1} (epoch {epoch + 1}): {stats}. "
                        f"Stopped without saving; the last good checkpoint is kept: {self._last_good()}. "
                        f"Resume from it with a lower learning rate, or check the data.")
                self.step += 1
                log.write(dict(step=self.step, epoch=epoch + 1, **stats, time=time.perf_counter() - t0))
                bar.update()
                bar.set_postfix(loss_d=f"{stats['loss_d']:.3f}", loss_g=f"{stats['loss_g']:.3f}", refresh=False)
                if cfg.grid_every and self.step % cfg.grid_every == 0:
                    self.save_grid(self.out / "samples" / f"step_{self.step:07d}.png")
                if self.step % spe == 0:
                    self.save_grid(self.out / "samples" / f"epoch_{self.step // spe:03d}.png")
                if self.step % spe == 0 or self.step % cfg.ckpt_every == 0 or self.step == self.total_steps:
                    log.flush()
                    self.save()
        finally:
            bar.close()
            log.close()
        seconds = time.perf_counter() - t0
        steps = self.step - start_step
        return dict(steps=self.step, seconds=seconds,
                    images_per_s=steps * cfg.batch_size / seconds if seconds > 0 else float("nan"))

    # --- samples and checkpoints --------------------------------------------------------------
    @torch.no_grad()
    def save_grid(self, path: Path) -> None:
        """G on the fixed noise, in eval mode (BN running statistics: no side effects on training)."""
        was_training = self.G.training
        self.G.eval()
        images = self.G(self.fixed_z)
        self.G.train(was_training)
        path.parent.mkdir(parents=True, exist_ok=True)
        save_image(images, path, nrow=int(math.sqrt(len(images))), normalize=True, value_range=(-1, 1))

    def state_dict(self) -> dict:
        return dict(generator=self.G.state_dict(), discriminator=self.D.state_dict(),
                    opt_g=self.opt_g.state_dict(), opt_d=self.opt_d.state_dict(),
                    step=self.step, epoch=self.step // self.steps_per_epoch,
                    rng=dict(noise=self.noise.get_state(), torch=torch.get_rng_state()),
                    config=self.cfg.to_dict())

    def save(self) -> Path:
        return save_checkpoint(self.state_dict(), self.ckpt_path)

    def load_state_dict(self, state: dict) -> None:
        saved = TrainConfig.from_dict(state["config"])
        diff = {f: (getattr(saved, f), getattr(self.cfg, f)) for f in MODEL_FIELDS
                if getattr(saved, f) != getattr(self.cfg, f)}
        if diff:
            raise CheckpointError("the checkpoint's networks differ from this config "
                                  + ", ".join(f"{k}: checkpoint {a!r} vs config {b!r}" for k, (a, b) in diff.items()))
        self.G.load_state_dict(state["generator"])
        self.D.load_state_dict(state["discriminator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.noise.set_state(state["rng"]["noise"])
        torch.set_rng_state(state["rng"]["torch"])
        self.step = state["step"]

    def resume(self, path: str | Path | None = None) -> "Trainer":
        self.load_state_dict(load_checkpoint(path or self.ckpt_path, map_location=self.device))
        return self

    def _last_good(self) -> str:
        return str(self.ckpt_path) if self.ckpt_path.exists() else "none written yet"


class _MetricsLog:
    """metrics.csv, one row per step. On resume, rows past the checkpoint's step (written after
    it, before a crash) are dropped, so the log always matches the weights."""

    def __init__(self, path: Path, keep_until: int):
        rows = []
        if path.exists() and keep_until > 0:
            with open(path, newline="") as f:
                rows = [r for r in csv.DictReader(f) if int(r["step"]) <= keep_until]
        self.file = open(path, "w", newline="")
        self.writer = csv.DictWriter(self.file, fieldnames=METRICS)
        self.writer.writeheader()
        self.writer.writerows(rows)

    def write(self, row: dict) -> None:
        self.writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})

    def flush(self) -> None:
        self.file.flush()

    def close(self) -> None:
        self.file.close()


def read_metrics(path: str | Path) -> dict[str, list[float]]:
    """metrics.csv as columns of floats (for plots)."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {k: [float(r[k]) for r in rows] for k in METRICS}


def train(cfg: TrainConfig, *, resume: bool | str = False, data: ImageData | None = None) -> Trainer:
    """Train as `cfg` says; with `resume=True`, continue from `cfg.out`/checkpoints/last.pt;
    with `resume="auto"`, continue if that checkpoint exists (notebooks: re-running continues).
    Otherwise refuses to overwrite an earlier run in `cfg.out` (no data lost)."""
    trainer = Trainer(cfg, data)
    if resume == "auto":
        resume = trainer.ckpt_path.exists()
    if resume:
        trainer.resume()
    elif trainer.ckpt_path.exists():
        raise CheckpointError(f"{cfg.out} already holds a run ({trainer.ckpt_path}); "
                              f"resume it (--resume) or choose another output folder (--out)")
    trainer.train()
    return trainer
