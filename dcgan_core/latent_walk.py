"""
# Walking in the latent space (§6.1, Figure 4)

Radford, Metz & Chintala (2015), [arXiv 1511.06434](https://arxiv.org/abs/1511.06434), §6.1:

> "The first experiment we did was to understand the landscape of the latent space. Walking on the
> manifold that is learned can usually tell us about signs of memorization (if there are sharp
> transitions) and about the way in which the space is hierarchically collapsed. If walking in this
> latent space results in semantic changes to the image generations (such as objects being added
> and removed), we can reason that the model has learned relevant and interesting representations."

Figure 4: "Interpolation between a series of 9 random points in Z show that the space learned has
smooth transitions, with every image in the space plausibly looking like a bedroom."

What we do:

- **Walks** (`walk`): through K random points z ~ U[-1, 1]^100, `steps` frames per segment,
  linear as the paper's uniform z; `mode="spherical"` interpolates along the great circle instead
  (ours: an option, as often used for Gaussian z; for a uniform cube z the linear path stays in Z).
  Figure 4's rows are the 8 segments of one 9-point walk, from the rooms (`scenes64`, our stand-in
  for LSUN bedrooms) and the faces (`celeba64`) of the zoo, loaded by name.
- **Smoothness, measured** (`measure`) — the paper judged "smooth" by eye. We take the distance
  between consecutive frames in Inception-v3 pool3 feature space (`metrics.inception_features`)
  along `n_walks` walks and report, per walk, **the largest step over the mean step** (1 = every
  step the same size; a sharp transition — a jump from one memorized image to another — makes it
  large, up to the number of steps), with its median and quartiles over walks, for four walks
  through the same points:
  1. the trained generator's;
  2. a **pixel cross-fade** between the same frames at the points (ours: the yardstick — a blend
     is as smooth as pixels allow, so "as even as a cross-fade" is what "smooth" can mean here);
  3. the **untrained generator**'s (same architecture, §4's N(0, 0.02) init; ours: its BN
     statistics set from 512 random z, as eval mode needs them);
  4. a **memorizing generator** (ours: the control the paper's argument implies): for each frame
     the training image nearest to G(z) in pixels, so a walk stays on one image and jumps to the
     next — the "sharp transitions" the paper names as a sign of memorization.
  **Jumpiness** = a method's median ratio over the cross-fade's (1: as even as a cross-fade).
"""

from __future__ import annotations

import dataclasses
import time
from typing import ClassVar

import numpy as np
import torch

from .config import Config, option
from .data import load_dataset
from .metrics import inception_features
from .models import Generator, TrainConfig, build_models, sample_z
from .pretrained import load_models, model_key
from .results import Result, artifact
from .sample import render, seed_points

METHODS = ("trained", "crossfade", "untrained", "memorizer")


@dataclasses.dataclass
class LatentWalkConfig(Config):
    """§6.1's walks: the figure (`points`, `steps`) and the smoothness measurement (`n_walks`, …)."""

    models: tuple[str, ...] = option(
        ("zoo:scenes64", "zoo:celeba64"), "the generators to walk: zoo:NAME or a checkpoint path"
    )
    points: int = option(9, "random points per walk in the figure (Figure 4: 'a series of 9 random points')", min=2)
    steps: int = option(8, "frames per segment between two points in the figure", min=1)
    mode: str = option("linear", "linear (the paper) or spherical interpolation", choices=("linear", "spherical"))
    n_walks: int = option(16, "walks measured per model", min=2)
    measure_points: int = option(3, "random points per measured walk", min=2)
    measure_steps: int = option(8, "frames per segment in the measured walks", min=2)
    memorized: int = option(2000, "training images the memorizing control draws from (the first N)", min=2)
    seed: int = option(0, "seed of the points")
    batch_size: int = option(32, "Inception batch size", min=1)

    PROFILES: ClassVar[dict[str, dict]] = {
        # CI: ~1 minute on 2 CPU cores (Inception at ~5 img/s: ~150 frames in all).
        "smoke": dict(n_walks=3, measure_steps=4),
        # ~15 minutes on 2 CPU cores: 16 walks of 17 frames per method and model.
        "cpu": dict(),
        "paper": dict(n_walks=100),
    }


def interpolate(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor, mode: str = "linear") -> torch.Tensor:
    """Points between a and b (each nz) at fractions t (T): T×nz. Spherical: along the great circle
    through a and b, the norm interpolated linearly."""
    t = t.view(-1, 1)
    if mode == "linear":
        return (1 - t) * a + t * b
    if mode != "spherical":
        raise ValueError(f"mode must be linear or spherical, got {mode!r}")
    na, nb = a.norm(), b.norm()
    ua, ub = a / na, b / nb
    omega = torch.acos((ua * ub).sum().clamp(-1 + 1e-7, 1 - 1e-7))
    if omega < 1e-4:
        return (1 - t) * a + t * b
    so = torch.sin(omega)
    direction = torch.sin((1 - t) * omega) / so * ua + torch.sin(t * omega) / so * ub
    return direction * ((1 - t) * na + t * nb)


def walk(points: torch.Tensor, steps: int, mode: str = "linear") -> torch.Tensor:
    """The z of a walk through K points (K×nz), `steps` frames per segment: ((K−1)·steps + 1)×nz,
    the points themselves at indices 0, steps, 2·steps, …"""
    t = torch.arange(steps, dtype=points.dtype) / steps
    frames = [interpolate(a, b, t, mode) for a, b in zip(points[:-1], points[1:])]
    return torch.cat(frames + [points[-1:]])


def crossfade(images: torch.Tensor, steps: int) -> torch.Tensor:
    """The pixel-space control: a linear blend between consecutive images (K×C×H×W), frames as `walk`'s."""
    t = (torch.arange(steps, dtype=images.dtype) / steps).view(-1, 1, 1, 1)
    frames = [(1 - t) * a + t * b for a, b in zip(images[:-1], images[1:])]
    return torch.cat(frames + [images[-1:]])


@torch.no_grad()
def untrained_generator(train_cfg: TrainConfig, seed: int = 0, n_stats: int = 512) -> Generator:
    """The generator a config describes, freshly initialised (§4: N(0, 0.02)), with BN running
    statistics estimated from `n_stats` random z (ours: eval mode needs them)."""
    U, _ = build_models(train_cfg, seed=seed)
    for m in U.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = None  # a cumulative average over the batches below
    U.train()
    gen = torch.Generator().manual_seed(seed + 1)
    for _ in range(max(1, n_stats // 128)):
        U(sample_z(128, U.nz, gen))
    return U.eval()


def step_sizes(features: np.ndarray) -> np.ndarray:
    """Euclidean distances between consecutive rows (frames) of a feature matrix."""
    return np.linalg.norm(np.diff(features, axis=0), axis=1)


def evenness(steps: np.ndarray) -> float:
    """Largest step / mean step: 1 when every step is the same size, up to len(steps) when one
    step is the whole walk (NaN for a walk that does not move)."""
    mean = float(np.mean(steps))
    return float(np.max(steps) / mean) if mean > 0 else float("nan")


def nearest(images: torch.Tensor, bank: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """For each image (N×C×H×W in [-1, 1]), the index of the nearest image of `bank` (M×C×H×W,
    uint8) in pixels: the memorizing generator's choice."""
    b = bank.flatten(1).float().div_(127.5).sub_(1)
    b2 = (b * b).sum(1)
    return torch.cat([torch.addmm(b2, x.flatten(1), b.T, alpha=-2).argmin(1) for x in images.split(batch_size)])


def spread(values) -> dict:
    """Median and quartiles (and the extremes) of a list of numbers (NaN, a walk that did not move, left out)."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    return dict(
        median=float(np.median(v)),
        q25=float(np.quantile(v, 0.25)),
        q75=float(np.quantile(v, 0.75)),
        min=float(v.min()),
        max=float(v.max()),
        n=int(len(v)),
    )


@dataclasses.dataclass
class ModelWalks:
    """One model's measurement: per method, each walk's largest/mean step (`evenness`) and its steps."""

    model: str
    dataset: str
    ratio: dict[str, list[float]]  # method → one largest/mean step ratio per walk
    summary: dict[str, dict]  # method → spread(ratio)
    jumpiness: dict[str, float]  # method → its median ratio / the cross-fade's (1: as even)
    median_step: dict[str, float]  # method → median step size (Inception units) over all walks
    steps: dict[str, list[list[float]]]  # method → per walk, the consecutive-frame distances


def measure(
    G: Generator, U: Generator, cfg: LatentWalkConfig, bank: torch.Tensor, name: str = "", dataset: str = ""
) -> ModelWalks:
    """§6.1's smoothness: `cfg.n_walks` walks through `cfg.measure_points` random points, rendered by
    G, by the untrained U, as a pixel cross-fade of G's frames at the points, and by the memorizer
    (the image of `bank`, uint8 training images, nearest to each of G's frames), in Inception space."""
    frames_per_walk = (cfg.measure_points - 1) * cfg.measure_steps + 1
    gen = torch.Generator().manual_seed(cfg.seed + 1000)  # apart from the figure's points
    points = [sample_z(cfg.measure_points, G.nz, gen) for _ in range(cfg.n_walks)]
    zs = torch.cat([walk(p, cfg.measure_steps, cfg.mode) for p in points])
    trained = render(G, zs)
    untrained = render(U, zs)
    at_points = trained.view(cfg.n_walks, frames_per_walk, *trained.shape[1:])[:, :: cfg.measure_steps]
    faded = torch.cat([crossfade(p, cfg.measure_steps) for p in at_points])
    # The cross-fade's frames at the points are G's own: only its in-between frames are new.
    inside = torch.ones(frames_per_walk, dtype=torch.bool)
    inside[:: cfg.measure_steps] = False
    inside = inside.repeat(cfg.n_walks)
    # The memorizer's frames are training images, few of them distinct: each is read once.
    chosen = nearest(trained, bank)
    distinct, which = chosen.unique(return_inverse=True)
    feats = inception_features(
        torch.cat([trained, untrained, faded[inside], bank[distinct].float() / 127.5 - 1]), batch_size=cfg.batch_size
    )
    n, n_faded = len(trained), int(inside.sum())
    f = {
        "trained": feats[:n],
        "untrained": feats[n : 2 * n],
        "crossfade": feats[:n].copy(),
        "memorizer": feats[2 * n + n_faded :][which.numpy()],
    }
    f["crossfade"][inside.numpy()] = feats[2 * n : 2 * n + n_faded]
    ratio, steps = {}, {}
    for method in METHODS:
        per_walk = f[method].reshape(cfg.n_walks, frames_per_walk, -1)
        steps[method] = [step_sizes(w).tolist() for w in per_walk]
        ratio[method] = [evenness(np.asarray(s)) for s in steps[method]]
    median = {m: float(np.nanmedian(r)) for m, r in ratio.items()}
    return ModelWalks(
        model=name,
        dataset=dataset,
        ratio=ratio,
        summary={m: spread(r) for m, r in ratio.items()},
        jumpiness={m: median[m] / median["crossfade"] for m in METHODS},
        median_step={m: float(np.median(np.concatenate(steps[m]))) for m in METHODS},
        steps=steps,
    )


@dataclasses.dataclass
class LatentWalkResult(Result):
    """Saved as build/PROFILE/results/04_latent_walk.json. `claims.py` reads
    "walks.MODEL.jumpiness.trained" and, as its control, "walks.MODEL.jumpiness.memorizer"."""

    config: LatentWalkConfig
    walks: dict[str, ModelWalks]  # model name → its measurement
    seconds: dict[str, float]
    figure_frames: dict = artifact()  # model name → frames of Figure 4's walk
    generators: dict = artifact()  # model name → G

    def rebuild(self) -> LatentWalkResult:
        """The generators the config names and Figure 4's frames again (after `read`)."""
        if self.generators is None:
            cfg = self.config
            self.generators = {model_key(m): load_models(m)[0] for m in cfg.models}
            self.figure_frames = {
                name: render(G, walk(seed_points(cfg.points, G.nz, cfg.seed), cfg.steps, cfg.mode))
                for name, G in self.generators.items()
            }
        return self

    def table(self) -> str:
        """Markdown: the largest/mean step per model and method, median [quartiles] over walks,
        and the jumpiness (median ratio over the cross-fade's)."""
        rows = ["| model | walks | " + " | ".join(METHODS) + " |", "|---|---|" + "---|" * len(METHODS)]
        for name, w in self.walks.items():
            cells = [
                f"{w.summary[m]['median']:.2f} [{w.summary[m]['q25']:.2f}–{w.summary[m]['q75']:.2f}]; "
                f"jumpiness {w.jumpiness[m]:.2f}"
                for m in METHODS
            ]
            rows.append(f"| {name} | {w.summary['trained']['n']} | " + " | ".join(cells) + " |")
        return "\n".join(rows)

    def summary(self) -> str:
        """What this run measured, in words (the notebook shows it under the table)."""
        lines = []
        for name, w in self.walks.items():
            j = w.jumpiness
            lines.append(
                f"- **{name}** ({w.summary['trained']['n']} walks): the trained G's walks are "
                f"{j['trained']:.2f}× as jumpy as a pixel cross-fade between the same frames, the untrained "
                f"G's {j['untrained']:.2f}×, the memorizing G's {j['memorizer']:.2f}× (median largest/mean step {w.summary['trained']['median']:.2f}, {w.summary['crossfade']['median']:.2f}, "
                f"{w.summary['untrained']['median']:.2f}, {w.summary['memorizer']['median']:.2f})."
            )
        return "\n".join(lines)


def run(cfg: LatentWalkConfig) -> LatentWalkResult:
    """Figure 4's walk of `cfg.points` points for each model, and the smoothness measurement."""
    seconds, frames, gens, walks = {}, {}, {}, {}
    for model in cfg.models:
        start, name = time.perf_counter(), model_key(model)
        G, _, train_cfg = load_models(model)
        gens[name] = G
        frames[name] = render(G, walk(seed_points(cfg.points, G.nz, cfg.seed), cfg.steps, cfg.mode))
        bank = load_dataset(
            train_cfg.dataset, G.image_size, split=train_cfg.split, channels=G.channels, limit=cfg.memorized
        ).images
        walks[name] = measure(G, untrained_generator(train_cfg, cfg.seed), cfg, bank, name, train_cfg.dataset)
        seconds[name] = time.perf_counter() - start
    return LatentWalkResult(config=cfg, walks=walks, seconds=seconds, figure_frames=frames, generators=gens)


# ---------------------------------------------------------------------------------------------
# Figures


def walk_figure(result: LatentWalkResult, name: str):
    """Figure 4 for model `name`: one row per segment of the walk (each row ends where the next begins)."""
    import matplotlib.pyplot as plt

    from .figures import grid_image

    cfg, frames = result.config, result.rebuild().figure_frames[name]
    steps, title = cfg.steps, f"{name}: a {cfg.mode} walk through {cfg.points} random points in Z"
    n_seg = (len(frames) - 1) // steps
    rows = torch.cat([frames[i * steps : i * steps + steps + 1] for i in range(n_seg)])
    fig, ax = plt.subplots(figsize=(1.0 * (steps + 1), 1.0 * n_seg + 0.4))
    ax.imshow(grid_image(rows, nrow=steps + 1))
    ax.set_title(title, fontsize=10)
    ax.axis("off")
    fig.tight_layout()
    return fig


def smoothness_figure(result: LatentWalkResult):
    """Left: the largest/mean step per walk (boxes over walks), per model and method (log scale:
    the memorizer's jumps are far above the rest). Right: the steps along one walk of each model."""
    import matplotlib.pyplot as plt

    from .figures import readable_labels

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 3.8))
    names = list(result.walks)
    width = 0.8 / len(METHODS)
    for j, method in enumerate(METHODS):
        pos = np.arange(len(names)) + j * width
        ax.boxplot(
            [[r for r in result.walks[n].ratio[method] if r == r] for n in names],
            positions=pos,
            widths=width * 0.8,
            patch_artist=True,
            boxprops=dict(facecolor=f"C{j}", alpha=0.6),
            medianprops=dict(color="k"),
        )
        ax.plot([], [], color=f"C{j}", lw=6, alpha=0.6, label=method)
    ax.axhline(1, color="0.5", lw=0.8, ls="--")
    ax.set_yscale("log")
    ax.set_xticks(np.arange(len(names)) + 0.4 - width / 2, names)
    ax.set_ylabel("largest step / mean step (per walk)")
    ax.legend(fontsize=8)
    for i, name in enumerate(names):
        for j, method in enumerate(METHODS):
            s = np.asarray(result.walks[name].steps[method][0])
            ax2.plot(s / max(s.mean(), 1e-12), color=f"C{j}", ls=("-", "--", ":")[i % 3], label=f"{name}, {method}")
    ax2.set_xlabel("step along the walk")
    ax2.set_ylabel("step / mean step")
    ax2.legend(fontsize=7, ncol=2)
    for a in (ax, ax2):
        a.grid(alpha=0.3)
    return readable_labels(fig)
