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
* the data order of epoch e is torch's `DistributedSampler` permutation seeded by (seed, e),
  and the noise z of step s on rank r comes from a generator seeded by (seed, s, r): a step
  number alone says which images and which z come next, so resume needs no sampler state.

Same seed and config → bit-identical weights on CPU; training 2N steps equals N steps, a
checkpoint, and N more after `resume`.

Multi-process training (`torchrun --nproc_per_node N -m dcgan_core train …`) uses
DistributedDataParallel: each of N ranks takes 1/N of every batch (so the global batch, and the
paper's batch size, stay `cfg.batch_size`: global batch i holds the same images for any N),
gradients are averaged, and only rank 0 writes checkpoints, logs and grids. BN statistics are
per rank, as in DDP's usual setting; running averages are averaged across ranks before each
checkpoint. A checkpoint is the same for any N, so it resumes under any N.
"""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
import time
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler
from tqdm.auto import tqdm

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .config import resolve_device
from .data import DATASETS, DataError, ImageData, held_out_split, load_dataset
from .diffaugment import diff_augment, flip_images, parse_policy
from .files import RunDir, atomic_write, write_json
from .hardware import rank_and_world, resolve_precision
from .models import (  # TrainConfig: this section's config, defined beside the networks (the zoo rebuilds them from it)
    DATA_FIELDS,
    Discriminator,
    Generator,
    TrainConfig,
    build_models,
    eval_mode,
    layer_table,
    network_shape,
    sample_z,
)
from .results import Result, artifact
from .runlog import MetricsLog, NoLog, append_eval, read_metrics
from .sample import generate, save_grid


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


def seeded(*key: int) -> torch.Generator:
    """An independent random stream for `key` (e.g. seed, step, rank), via numpy's SeedSequence."""
    return torch.Generator().manual_seed(int(np.random.SeedSequence(key).generate_state(1, np.uint64)[0] >> 1))


class Trainer:
    """`Trainer(cfg).train()` trains G and D and writes into `cfg.out`:

    * `checkpoints/last.pt` — G, D, both optimizers, step, epoch, RNG states, config;
    * `metrics.csv` — per step: loss_d, loss_g, D(x), D(G(z)) (probabilities), elapsed time;
    * `samples/epoch_NNN.png` (and `samples/step_NNNNNNN.png` every `grid_every` steps) —
      G applied to one fixed noise batch, so grids are comparable across time;
    * `config.json` — the config, for people and tools;
    * with `eval_every`: `eval.csv` — FID/KID of `eval_n` samples every K steps (metrics.py),
      and `checkpoints/best.pt`, a copy of last.pt at the step with the lowest FID so far
      (DCGAN often gets worse late in training).
    """

    def __init__(self, cfg: TrainConfig, data: ImageData | None = None):
        self.rank, self.world = rank_and_world()
        if cfg.batch_size % self.world:
            raise ValueError(f"batch_size {cfg.batch_size} must divide evenly over {self.world} processes")
        if data is None:
            data = self._load(cfg)
        if cfg.keep:
            data = data.keep(cfg.keep)
        if tuple(data.images.shape[-2:]) != (cfg.image_size, cfg.image_size):
            raise DataError(f"the data is {tuple(data.images.shape[-2:])} but image_size is {cfg.image_size}")
        if len(data) < cfg.batch_size:
            raise DataError(
                f"{cfg.dataset} has {len(data)} usable images, fewer than one batch of "
                f"{cfg.batch_size}: lower batch_size (--batch-size) or add images"
            )
        if cfg.conditional:  # §8.1: the nets see each image's class, so the data must have classes
            if data.labels is None:
                raise DataError(
                    f"{cfg.dataset} has no class labels, so it cannot train a conditional net "
                    f"(--conditional); datasets with classes: "
                    f"{', '.join(k for k, i in DATASETS.items() if i.labels == 'class')}"
                )
            cfg = cfg.replace(
                n_classes=cfg.n_classes or (len(data.classes) if data.classes else int(data.labels.max()) + 1)
            )
        self.cfg = cfg = cfg.replace(channels=data.channels)
        self.data = data
        self.device = resolve_device(cfg.device, int(os.environ.get("LOCAL_RANK", 0)))
        self.precision = resolve_precision(cfg.precision, self.device)
        self.run = RunDir(cfg.out)
        self.out = self.run.root
        self.ckpt_path, self.best_path, self.eval_path = self.run.last, self.run.best, self.run.evals

        self.G, self.D = build_models(cfg, seed=cfg.seed)  # the same weights on every rank
        self.memory_format = torch.channels_last if cfg.channels_last else torch.contiguous_format
        self.G.to(self.device, memory_format=self.memory_format)
        self.D.to(self.device, memory_format=self.memory_format)
        betas = (cfg.beta1, cfg.beta2)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=cfg.lr, betas=betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=cfg.lr, betas=betas)

        # What the step calls: G and D, wrapped in DDP when there are several processes (BN
        # buffers are not broadcast: D runs several times per step), compiled when asked.
        # G's step calls D without DDP: it needs no gradient for D's weights.
        g_step, d_step = self.G, self.D
        if self.world > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            with warnings.catch_warnings():  # torch ≥ 2.14 renames it; the old name works on every version
                warnings.filterwarnings("ignore", message=".*broadcast_buffers.*")
                g_step = DistributedDataParallel(g_step, device_ids=ids, broadcast_buffers=False)
                d_step = DistributedDataParallel(d_step, device_ids=ids, broadcast_buffers=False)
        compile_ = torch.compile if cfg.compile else (lambda m: m)
        self.g_step, self.d_step, self.d_for_g = compile_(g_step), compile_(d_step), compile_(self.D)

        self.policy = parse_policy(cfg.diffaugment)  # () = off: the paper's training
        self.fixed_z = sample_z(cfg.n_grid, cfg.nz, seeded(cfg.seed, 2), self.device)  # the grids' z
        self.fixed_labels, self.grid_columns = None, int(math.sqrt(cfg.n_grid))
        if cfg.conditional:  # one row per class; the same z down each column (style fixed, class varies)
            self.grid_columns = max(1, cfg.n_grid // cfg.n_classes)
            self.fixed_z = self.fixed_z[: self.grid_columns].repeat(cfg.n_classes, 1)
            self.fixed_labels = torch.arange(len(self.fixed_z), device=self.device) // self.grid_columns
        self.local_batch = cfg.batch_size // self.world
        # Epoch e's order: DistributedSampler's permutation seeded by seed + e, rank r taking
        # every N-th image of it — so rank r's batch i is its share of the global batch i.
        self.sampler = DistributedSampler(
            range(len(data)), num_replicas=self.world, rank=self.rank, shuffle=True, seed=cfg.seed, drop_last=True
        )
        self.steps_per_epoch = len(self.sampler) // self.local_batch  # last partial batch dropped
        self.total_steps = cfg.max_steps if cfg.max_steps is not None else cfg.epochs * self.steps_per_epoch
        if cfg.lr_decay_from is not None and cfg.lr_decay_from >= self.total_steps:
            raise ValueError(
                f"lr_decay_from ({cfg.lr_decay_from}) must come before the last step "
                f"({self.total_steps}): the learning rate decays from it to zero at the end; "
                f"lower it or train longer (--epochs / --max-steps)"
            )
        self.step = 0
        self._order = (None, None)

    def _load(self, cfg: TrainConfig) -> ImageData:
        """Load the data; under torchrun rank 0 decodes and caches it first, the others then read the cache."""

        def load():
            return load_dataset(
                cfg.dataset,
                cfg.image_size,
                split=cfg.split,
                channels=cfg.channels,
                limit=cfg.limit,
                progress=cfg.progress and self.rank == 0,
            )

        if self.world == 1:
            return load()
        data = load() if self.rank == 0 else None
        dist.barrier()
        return data if self.rank == 0 else load()

    # --- one step ---------------------------------------------------------------------------
    def autocast(self):
        """bf16 autocast for convolutions and matmuls when `precision="bf16"`; weights (the
        optimizer's master copy), BN statistics and the loss stay fp32."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16")

    def train_step(self, x: torch.Tensor, z: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, float]:
        """One D update and one G update on real images `x` and noise `z`; returns the losses
        and D's mean outputs (averaged over ranks). With DiffAugment, D sees T(x) and T(G(z))
        in both updates, each with fresh random T drawn from this step's own seeded stream.
        Conditional nets (§8.1) get the labels `y` of x; G draws the same classes, as in the
        authors' conditional MNIST code, so D compares real and fake of one class mix."""
        gen = seeded(self.cfg.seed, 3, self.step, self.rank) if self.policy else None

        def T(images):
            augmented = diff_augment(images, self.policy, gen) if self.policy else images
            return augmented.contiguous(memory_format=self.memory_format)

        with self.autocast():
            fake = self.g_step(z, labels=y)
            # (1) D: maximise log D(x) + log(1 − D(G(z))). Real and fake go through D as separate
            # batches, so BN statistics are never mixed across them (as in the paper's code).
            d_real, d_fake = self.d_step(T(x), labels=y).float(), self.d_step(T(fake.detach()), labels=y).float()
        loss_d = gan_loss(d_real, True) + gan_loss(d_fake, False)
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()

        # (2) G: maximise log D(G(z)) (non-saturating), through the just-updated D. D's weights
        # need no gradient here (only its input does), which saves a third of D's backward.
        self.D.requires_grad_(False)
        with self.autocast():
            d_fake_g = self.d_for_g(T(fake), labels=y).float()
        loss_g = gan_loss(d_fake_g, True)
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        self.D.requires_grad_(True)

        stats = torch.stack([loss_d, loss_g, torch.sigmoid(d_real).mean(), torch.sigmoid(d_fake).mean()]).detach()
        if self.world > 1:
            dist.all_reduce(stats)  # every rank sees the same numbers (and stops together on NaN)
            stats /= self.world
        return dict(zip(("loss_d", "loss_g", "d_x", "d_g_z"), stats.tolist()))

    def batch(self, step: int) -> tuple[torch.Tensor, ...]:
        """This rank's real images and noise for global step `step`, and for a conditional net
        the images' class labels too: (x, z) or (x, z, y)."""
        epoch, i = divmod(step, self.steps_per_epoch)
        if self._order[0] != epoch:
            self.sampler.set_epoch(epoch)
            self._order = (epoch, torch.tensor(list(self.sampler)))
        b = self.local_batch
        index = self._order[1][i * b : (i + 1) * b]
        x = self.data.batch(index).to(self.device, non_blocking=True)
        if self.cfg.flip:
            x = flip_images(x, seeded(self.cfg.seed, 4, step, self.rank))
        z = sample_z(b, self.cfg.nz, seeded(self.cfg.seed, 1, step, self.rank), self.device)
        if self.cfg.conditional:
            return x, z, self.data.labels[index].to(self.device, non_blocking=True)
        return x, z

    def learning_rate(self, step: int) -> float:
        """Adam's learning rate at `step`: cfg.lr, then with `lr_decay_from` falling linearly to
        zero at the last step, as the authors' MNIST code does (a function of the step alone, so
        a resumed run continues the same schedule)."""
        start = self.cfg.lr_decay_from
        if start is None or step < start:
            return self.cfg.lr
        return self.cfg.lr * (self.total_steps - step) / (self.total_steps - start)

    def set_lr(self, lr: float) -> None:
        for opt in (self.opt_g, self.opt_d):
            for group in opt.param_groups:
                group["lr"] = lr

    # --- the loop -----------------------------------------------------------------------------
    def train(self) -> dict:
        cfg, per_epoch, writer = self.cfg, self.steps_per_epoch, self.rank == 0
        if writer:
            write_json(self.run.config, cfg.to_dict())
        log = MetricsLog(self.run.metrics, keep_until=self.step) if writer else NoLog()
        self.G.train()
        self.D.train()
        t0, start_step = time.perf_counter(), self.step
        bar = tqdm(
            total=self.total_steps,
            initial=self.step,
            desc="train",
            unit="step",
            disable=not (cfg.progress and writer),
            dynamic_ncols=True,
        )
        try:
            while self.step < self.total_steps:
                epoch = self.step // per_epoch
                if cfg.lr_decay_from is not None:
                    self.set_lr(self.learning_rate(self.step))
                stats = self.train_step(*self.batch(self.step))
                if not all(math.isfinite(v) for v in stats.values()):
                    raise TrainingDiverged(
                        f"loss became non-finite at step {self.step + 1} (epoch {epoch + 1}): {stats}. "
                        f"Stopped without saving; the last good checkpoint is kept: {self._last_good()}. "
                        f"Resume from it with a lower learning rate, or check the data."
                    )
                self.step += 1
                log.write(dict(step=self.step, epoch=epoch + 1, **stats, time=time.perf_counter() - t0))
                bar.update()
                bar.set_postfix(loss_d=f"{stats['loss_d']:.3f}", loss_g=f"{stats['loss_g']:.3f}", refresh=False)
                if writer and cfg.grid_every and self.step % cfg.grid_every == 0:
                    self.save_grid(self.run.step_grid(self.step))
                if writer and self.step % per_epoch == 0:
                    self.save_grid(self.run.epoch_grid(self.step // per_epoch))
                evaluate_now = bool(cfg.eval_every) and self.step % cfg.eval_every == 0
                keep_now = bool(cfg.keep_every) and self.step % cfg.keep_every == 0
                if (
                    evaluate_now
                    or keep_now
                    or self.step % per_epoch == 0
                    or self.step % cfg.ckpt_every == 0
                    or self.step == self.total_steps
                ):
                    log.flush()
                    self.save()
                if keep_now and writer:
                    atomic_write(self.run.step_checkpoint(self.step), lambda tmp: shutil.copyfile(self.ckpt_path, tmp))
                if evaluate_now and writer:
                    self.evaluate()
        finally:
            bar.close()
            log.close()
        seconds = time.perf_counter() - t0
        steps = self.step - start_step
        return dict(
            steps=self.step,
            seconds=seconds,
            images_per_s=steps * cfg.batch_size / seconds if seconds > 0 else float("nan"),
        )

    # --- samples and checkpoints --------------------------------------------------------------
    @torch.no_grad()
    def save_grid(self, path: Path) -> None:
        """G on the fixed noise, in eval mode (BN running statistics: no side effects on training)."""
        with eval_mode(self.G):
            images = self.G(self.fixed_z, labels=self.fixed_labels)
        save_grid(images.float().cpu(), path, nrow=self.grid_columns)

    def evaluate(self) -> dict:
        """FID/KID of `eval_n` samples of G (as just saved in last.pt) against as many real images,
        appended to eval.csv; last.pt is copied to best.pt when its FID is the lowest so far.
        Uses the training precision (bf16 Inception: faster only where the CPU's bf16 units outpace
        fp32, benchmarks/host.py; FID moves a little), so these numbers rank checkpoints; report
        `python -m dcgan_core evaluate` (fp32)."""
        from .metrics import evaluate

        cfg = self.cfg
        split = cfg.eval_split or held_out_split(cfg.dataset)
        result = evaluate(
            self.G, cfg.dataset, n=cfg.eval_n, split=split, device=self.device, precision=self.precision, progress=False
        )
        row = dict(
            step=self.step, fid=result.fid, kid_mean=result.kid_mean, kid_std=result.kid_std, seconds=result.seconds
        )
        if append_eval(self.eval_path, row) or not self.best_path.exists():
            atomic_write(self.best_path, lambda tmp: shutil.copyfile(self.ckpt_path, tmp))
        return row

    def state_dict(self) -> dict:
        return dict(
            generator=self.G.state_dict(),
            discriminator=self.D.state_dict(),
            opt_g=self.opt_g.state_dict(),
            opt_d=self.opt_d.state_dict(),
            step=self.step,
            epoch=self.step // self.steps_per_epoch,
            rng=dict(torch=torch.get_rng_state()),  # z and data order derive from (seed, step)
            config=self.cfg.to_dict(),
        )

    def save(self) -> Path:
        """Write checkpoints/last.pt (rank 0; every rank must call it, to average BN statistics)."""
        if self.world > 1:
            for buf in [*self.G.buffers(), *self.D.buffers()]:
                if buf.is_floating_point():
                    dist.all_reduce(buf)
                    buf /= self.world
        if self.rank == 0:
            save_checkpoint(self.state_dict(), self.ckpt_path)
        return self.ckpt_path

    def load_state_dict(self, state: dict, change_data: bool = False) -> None:
        """Continue from a checkpoint of the same networks. Other data than it trained on is
        refused unless `change_data` (the CLI's --change-data): a resumed run is one run."""
        try:
            saved = TrainConfig.from_dict(state["config"])
        except ValueError as e:
            raise CheckpointError(f"the checkpoint's config cannot be used: {e}") from None
        ours, theirs = network_shape(self.cfg), network_shape(saved)
        diff = {f: (theirs[f], ours[f]) for f in ours if theirs[f] != ours[f]}
        if diff:
            raise CheckpointError(
                "the checkpoint's networks differ from this config: "
                + ", ".join(f"{k}: checkpoint {a!r} vs config {b!r}" for k, (a, b) in diff.items())
            )
        diff = {
            f: (getattr(saved, f), getattr(self.cfg, f))
            for f in DATA_FIELDS
            if getattr(saved, f) != getattr(self.cfg, f)
        }
        if diff and not change_data:
            raise CheckpointError(
                "the run trained on other data: "
                + ", ".join(f"{k}: checkpoint {a!r} vs now {b!r}" for k, (a, b) in diff.items())
                + "; to continue it on the new data anyway, pass --change-data"
            )
        self.G.load_state_dict(state["generator"])
        self.D.load_state_dict(state["discriminator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        torch.set_rng_state(state["rng"]["torch"])
        self.step = state["step"]

    def resume(self, path: str | Path | None = None, change_data: bool = False) -> Trainer:
        self.load_state_dict(load_checkpoint(path or self.ckpt_path, map_location=self.device), change_data)
        return self

    def _last_good(self) -> str:
        return str(self.ckpt_path) if self.ckpt_path.exists() else "none written yet"


def train(
    cfg: TrainConfig, *, resume: bool | str = False, data: ImageData | None = None, change_data: bool = False
) -> Trainer:
    """Train as `cfg` says; with `resume=True`, continue from `cfg.out`/checkpoints/last.pt;
    with `resume="auto"`, continue if that checkpoint exists (notebooks: re-running continues).
    Otherwise refuses to overwrite an earlier run in `cfg.out` (no data lost)."""
    if rank_and_world()[0] == 0:
        RunDir(cfg.out).check_writable()  # before minutes of data loading
    resolve_device(cfg.device)
    trainer = Trainer(cfg, data)
    if resume == "auto":
        resume = trainer.ckpt_path.exists()
    if resume:
        trainer.resume(change_data=change_data)
    elif trainer.ckpt_path.exists():
        raise CheckpointError(
            f"{cfg.out} already holds a run ({trainer.ckpt_path}); "
            f"resume it (--resume) or choose another output folder (--out)"
        )
    trainer.train()
    return trainer


# ---------------------------------------------------------------------------------------------
# §3–§4 as a section (notebook 01): config → run → result


@dataclasses.dataclass
class TrainingResult(Result):
    """What notebook 01 reports: the run's length, Figure 1's shapes from the paper's G, D's outputs
    during training, and how far training took G from its initialisation: FID of the trained G
    against its untrained twin (same architecture and init) at the same n and real images, with a
    control that must not separate (a second untrained G, another init seed)."""

    config: dict
    steps: int
    epochs: int
    images: int  # training images used
    fig1_shapes: list  # the paper's 64×64 G, layer by layer: [C, H, W]
    paper_g_params: int
    paper_d_params: int
    mean_d_x: float  # over the whole run
    mean_d_g_z: float
    mean_d_x_minus_d_g_z: float
    sample_gap: float  # mean |G(z) − G_init(z)| on 16 samples
    fid: dict  # n, trained, untrained, control; trained_over_untrained, control_over_untrained
    controls: dict  # fig1_shapes_torch: pytorch/examples' 64×64 G (another network)
    trainer: Trainer = artifact()

    def generator(self) -> Generator:
        """The trained G (eval mode): the trainer's, or (a result `read` from its file) loaded from the run folder."""
        if self.trainer is not None:
            return self.trainer.G.eval()
        from .pretrained import load_models

        return load_models(self.config["out"])[0]


def shapes(G: Generator) -> list[list[int]]:
    """G's output shape [C, H, W] layer by layer (Figure 1's boxes), from a forward pass."""
    return [list(r["shape"]) for r in layer_table(G.eval(), sample_z(2, G.nz))]


def run(cfg: TrainConfig, data: ImageData | None = None) -> TrainingResult:
    """Train (resuming the run in cfg.out if there is one) and summarise it; FID of `cfg.eval_n`
    samples of the trained G, its untrained twin and a second untrained G against as many real images."""
    from .metrics import evaluate

    trainer = train(cfg, resume="auto", data=data)
    paper_G, paper_D = Generator(arch="paper", image_size=64), Discriminator(arch="paper", image_size=64)
    metrics = read_metrics(trainer.run.metrics)
    init_G, _ = build_models(trainer.cfg, seed=cfg.seed)  # G as this run started
    other_G, _ = build_models(trainer.cfg, seed=cfg.seed + 1)  # the control: another untrained G
    gap = (generate(trainer.G, 16, seed=1) - generate(init_G, 16, seed=1)).abs().mean().item()
    d_x, d_g_z = float(np.mean(metrics["d_x"])), float(np.mean(metrics["d_g_z"]))
    split = cfg.eval_split or held_out_split(cfg.dataset)
    fid = {
        name: evaluate(
            G, trainer.cfg.dataset, n=cfg.eval_n, split=split, seed=cfg.seed + 1, limit=cfg.limit, device=trainer.device
        ).fid
        for name, G in (("trained", trainer.G), ("untrained", init_G), ("control", other_G))
    }
    fid.update(
        n=cfg.eval_n,
        trained_over_untrained=fid["trained"] / fid["untrained"],
        control_over_untrained=fid["control"] / fid["untrained"],
    )
    return TrainingResult(
        config=trainer.cfg.to_dict(),
        steps=trainer.step,
        epochs=trainer.step // trainer.steps_per_epoch,
        images=len(trainer.data),
        fig1_shapes=shapes(paper_G),
        paper_g_params=sum(p.numel() for p in paper_G.parameters()),
        paper_d_params=sum(p.numel() for p in paper_D.parameters()),
        mean_d_x=d_x,
        mean_d_g_z=d_g_z,
        mean_d_x_minus_d_g_z=d_x - d_g_z,
        sample_gap=gap,
        fid=fid,
        controls=dict(fig1_shapes_torch=shapes(Generator(arch="torch", image_size=64))),
        trainer=trainer,
    )
