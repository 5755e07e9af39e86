"""
# Vector arithmetic on face samples (§6.3.2, Figures 7 and 8)

Radford, Metz & Chintala (2015), [arXiv 1511.06434](https://arxiv.org/abs/1511.06434), §6.3.2:

> "Experiments working on only single samples per concept were unstable, but averaging the Z
> vector for three exemplars showed consistent and stable generations that semantically obeyed
> the arithmetic."

Figure 7: "Vector arithmetic for visual concepts. For each column, the Z vectors of samples are
averaged. Arithmetic was then performed on the mean vectors creating a new vector Y. The center
sample on the right hand side is produce by feeding Y as input to the generator. To demonstrate
the interpolation capabilities of the generator, uniform noise sampled with scale +-0.25 was added
to Y to produce the 8 other samples. Applying arithmetic in the input space (bottom two examples)
results in noisy overlap due to misalignment." Figure 8: "A 'turn' vector was created from four
averaged samples of faces looking left vs looking right. By adding interpolations along this axis
to random samples we were able to reliably transform their pose."

The paper picked exemplars by hand and showed the results. We also measure them:

- **Exemplars** — an attribute classifier trained on real CelebA faces (`attributes.py`) reads a
  pool of generated faces; each concept ("smiling woman": Smiling and not Male) draws from the
  `candidates` faces it reads most confidently as that concept, among those it reads as it (ours;
  `concepts.py`): fewer where the pool holds fewer (a warning, and `candidates` in the result),
  refused below 3.
- **Equations** (`EQUATIONS`, named by their target; `concepts.py`): `smiling-man` = smiling woman
  − neutral woman + neutral man; `glasses-woman` = man with glasses − man without glasses + woman
  without glasses.
- **The judge** — the classifier reads each attribute at the threshold chosen on hand-labelled
  generated faces of the model (`judge.validated`; 0.5 for a model without labels), and the
  result states that reading's precision and recall there (`judge`).
- **Success rate** over `trials` random exemplar draws = the fraction of result images the
  judge reads as the target (e.g. Smiling and Male), for (a) the mean of 3 exemplars per
  concept in Z (the 3×3 grid: Y and 8 samples of Y + U[−0.25, 0.25]), (b) single exemplars in Z
  (the same grid), (c) the same arithmetic on the exemplars' pixels (one image, clipped to
  [−1, 1]), (c′) the same on exemplars each jittered first by a face detector's misalignment
  (`misalignment.py`: shifted, scaled and rolled by the amounts OpenCV's Haar cascade, the paper's
  kind of detector (§4), moves its crop about an aligned face), (d) random z (the base rate: 9
  samples). The paper's claim holds where (a) > (b) > (d) and (a) ≫ (c′): (c) is CelebA's aligned
  case, which the paper, cropping by detector, did not face.
- **Does the mean keep the concept?** (`exemplar_mean_keeps`; ours) — per concept, how often
  G(mean z of its 3 exemplars) is still read as the concept: (a) can only work from a mean that
  kept it.
- **Pose and the turn vector** (Figure 8; ours) — `turn.py`: a face's pose (`pose.py`, checked on
  real faces sorted by eye) must change monotonically along z + α·turn.
- **Choices** — the exemplars of Figures 7–8 can be picked by hand (`widgets.arithmetic_explorer`)
  and saved as a small JSON (`Choices`, `choices.py`); notebook 07 ships one for the zoo's celeba64 and falls back
  to the classifier's picks when the zoo model has changed since (its sha256 is in the file).
"""

from __future__ import annotations

import dataclasses
import textwrap
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from .attributes import AttributeClassifier, AttributeConfig, load_classifier, require_face_model
from .choices import Choices, auto_choices
from .concepts import EQUATIONS, Equation, concept_prob, equation, pick_candidates, reads_as
from .config import Config, option
from .files import write_json
from .judge import Thresholds, error_note, validated
from .misalignment import Misalignment, jitter, measure_misalignment
from .pretrained import model_sha256
from .results import Result, artifact
from .sample import render, seed_points
from .turn import TurnResult, measure_turn, pose

MAX_POOL = 20_000
MAX_TRIALS = 1_000


@dataclasses.dataclass
class ArithmeticConfig(Config):
    """§6.3.2's measurement (notebook 07 and `python -m dcgan_core arithmetic`)."""

    model: str = option("zoo:celeba64", "the face generator: zoo:NAME or a checkpoint path")
    equations: tuple[str, ...] = option(
        tuple(EQUATIONS), "equations to measure (comma-separated): smiling-man, glasses-woman"
    )
    pool: int = option(
        2000, f"generated faces the classifier reads to find exemplars (at most {MAX_POOL:,}: held in memory)", min=16
    )
    candidates: int = option(
        20, "per concept, the faces read most confidently as it; exemplars are drawn from them (ours)", min=3
    )
    trials: int = option(
        200,
        f"random exemplar draws per equation (the issue: at least 100; at most {MAX_TRIALS:,}: held in memory)",
        min=1,
    )
    noise: float = option(0.25, "uniform noise added to Y for the 8 other samples (Figure 7: '+-0.25')", min=0.0)
    turn_exemplars: int = option(
        4, "faces looking left and right averaged into the turn vector (Figure 8: four)", min=1
    )
    turn_rows: int = option(16, "random samples the turn vector is added to", min=1)
    turn_steps: int = option(9, "frames along z + α·turn, α from −turn_scale to +turn_scale", min=3)
    turn_scale: float = option(1.0, "the largest α (ours: 1 = the full left-to-right difference)", min=0.0)
    classifier: str = option(
        "cpu",
        "the profile of the attribute classifier (attributes.AttributeConfig): smoke trains a small one",
        choices=("smoke", "cpu", "paper"),
    )
    seed: int = option(0, "seed of the pool, the draws and the noise")

    PROFILES: ClassVar[dict[str, dict]] = {
        # CI: well under a minute after the small classifier (itself ~1 min, then cached).
        "smoke": dict(pool=600, trials=100, turn_rows=6, classifier="smoke"),
        "cpu": dict(),
        "paper": dict(pool=5000, trials=500),
    }

    def check(self) -> None:
        for name in self.equations:
            equation(name)
        # ours: caps, as both are held in memory at once (a 64×64 RGB face in float32 is 48 KiB)
        if self.pool > MAX_POOL:
            raise ValueError(
                f"pool must be at most {MAX_POOL:,}, got {self.pool:,}: the pool's faces are held in "
                f"memory at once (48 KiB each, ~1 GB at the cap)"
            )
        if self.trials > MAX_TRIALS:
            raise ValueError(
                f"trials must be at most {MAX_TRIALS:,}, got {self.trials:,}: each trial's 46 faces are "
                f"held in memory at once, twice (~4.5 MB a trial, ~4.5 GB at the cap), and at the cap "
                f"a success rate's standard error is already below 0.016"
            )


# ---------------------------------------------------------------------------------------------
# The arithmetic


def noise_grid(y: torch.Tensor, noise: float, gen: torch.Generator) -> torch.Tensor:
    """Figure 7's 3×3: Y in the centre, Y + U[−noise, noise] around it (9×nz)."""
    grid = y.expand(9, -1) + (torch.rand(9, y.shape[-1], generator=gen) * 2 - 1) * noise
    grid[4] = y
    return grid


def z_arithmetic(z: torch.Tensor, picks: list[list[int]]) -> torch.Tensor:
    """mean z(A) − mean z(B) + mean z(C) for picks = [indices of A, of B, of C]."""
    a, b, c = (z[torch.as_tensor(p)].mean(0) for p in picks)
    return a - b + c


def pixel_arithmetic(images: torch.Tensor, picks: list[list[int]]) -> torch.Tensor:
    """The control: the same arithmetic on the exemplars' images, clipped to [−1, 1] (1×C×H×W)."""
    a, b, c = (images[torch.as_tensor(p)].mean(0) for p in picks)
    return (a - b + c).clamp(-1, 1)[None]


def equation_images(
    G, z: torch.Tensor, images: torch.Tensor, picks: list[list[int]], noise: float = 0.25, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Figure 7's result for one choice of exemplars: the 3×3 grid G(Y + noise) and the pixel control."""
    grid = noise_grid(z_arithmetic(z, picks), noise, torch.Generator().manual_seed(seed))
    return render(G, grid), pixel_arithmetic(images, picks)


@dataclasses.dataclass
class EquationResult:
    """Success rates of one equation over `trials` draws (fractions of result images read as the target)."""

    equation: str
    text: str
    trials: int
    success_mean3: float  # (a) mean of 3 exemplars per concept in Z, 3×3 grid
    success_single: float  # (b) one exemplar per concept in Z, 3×3 grid
    success_pixel: float  # (c) the mean-of-3 arithmetic on pixels, one image (CelebA's aligned crops)
    success_pixel_jittered: float  # (c′) the same on exemplars jittered as a face detector's crops (misalignment.py)
    success_random: float  # (d) random z, 9 samples (the base rate)
    stderr: dict[str, float]  # standard error of each rate over trials
    centre_mean3: float  # (a) counting only the centre image G(Y)
    mean3_minus_single: float
    single_minus_random: float
    mean3_minus_pixel: float
    mean3_minus_pixel_jittered: float
    controls: dict[str, float]  # replicates that must not differ: single_minus_single, random_minus_random
    candidate_precision: dict[str, float]  # per concept: mean P(concept) of its candidates
    candidates: dict[str, int]  # per concept: faces the exemplars were drawn from (all read as it)
    classifier_auc: dict[str, float]  # held-out ROC-AUC of the attributes involved
    # per concept: the fraction of draws whose G(mean z of the 3 exemplars) the judge still reads as the
    # concept (each exemplar alone is read as it): where this is low, (a) starts from a lost concept
    exemplar_mean_keeps: dict[str, float] = dataclasses.field(default_factory=dict)
    # per attribute of the target: the fraction of (a)'s images on its wanted side (which part fails)
    mean3_attribute_rates: dict[str, float] = dataclasses.field(default_factory=dict)


def success_rates(
    G,
    clf: AttributeClassifier,
    z: torch.Tensor,
    images: torch.Tensor,
    p: np.ndarray,
    eq: Equation,
    cfg: ArithmeticConfig,
    misalignment: Misalignment | None = None,
    thresholds: dict | None = None,
) -> tuple[EquationResult, dict]:
    """(a)–(d) over `cfg.trials` random draws of exemplars from each concept's candidates, faces read
    at `thresholds` (attribute → threshold; default 0.5); (c′)'s jitter is `misalignment` (default:
    `measure_misalignment()`)."""
    names = clf.names
    cands = pick_candidates(p, names, eq, cfg.candidates, thresholds=thresholds)
    few = {label: len(c) for label, c in cands.items() if len(c) < cfg.candidates}
    if few:
        warnings.warn(
            f"{eq.name}: exemplars drawn from fewer faces than candidates={cfg.candidates}, as only "
            + ", ".join(f"{n} of the pool's {len(p):,} read as {label}" for label, n in few.items())
            + " (a larger pool gives more)",
            stacklevel=2,
        )
    rng = np.random.default_rng(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed + 7)
    mis, jgen = misalignment or measure_misalignment(), torch.Generator().manual_seed(cfg.seed + 21)
    mean3, single, single2, pixel, jittered, draws, means = [], [], [], [], [], [], []
    for _ in range(cfg.trials):
        picks = [rng.choice(cands[label], 3, replace=False).tolist() for label in eq.labels]
        draws.append(picks)
        means.append(torch.stack([z[torch.as_tensor(pk)].mean(0) for pk in picks]))
        mean3.append(noise_grid(z_arithmetic(z, picks), cfg.noise, gen))
        single.append(noise_grid(z_arithmetic(z, [pk[:1] for pk in picks]), cfg.noise, gen))
        single2.append(noise_grid(z_arithmetic(z, [pk[1:2] for pk in picks]), cfg.noise, gen))  # a replicate of (b)
        pixel.append(pixel_arithmetic(images, picks))
        # (c′): each of the 9 exemplars is its own photo, so its own detector crop: its own jitter
        jittered.append(
            pixel_arithmetic(
                jitter(images[torch.as_tensor(sum(picks, []))], mis, jgen), [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
            )
        )
    random_z = seed_points(9 * cfg.trials, z.shape[1], cfg.seed + 13)
    random_z2 = seed_points(9 * cfg.trials, z.shape[1], cfg.seed + 14)  # a replicate of (d)
    zs = torch.cat(mean3 + single + [random_z] + single2 + [random_z2])
    made = render(G, zs)
    p_all = clf.predict(torch.cat([made, torch.cat(pixel), torch.cat(jittered)]))
    read = reads_as(p_all, names, eq.target[1], thresholds)
    n9 = 9 * cfg.trials
    grids = {
        k: read[i * n9 : (i + 1) * n9].reshape(-1, 9).mean(1)
        for i, k in enumerate(("mean3", "single", "random", "single2", "random2"))
    }
    per_trial = {
        **grids,
        "pixel": read[5 * n9 : 5 * n9 + cfg.trials].astype(float),
        "pixel_jittered": read[5 * n9 + cfg.trials :].astype(float),
    }
    rate = {k: float(v.mean()) for k, v in per_trial.items()}
    p_means = clf.predict(render(G, torch.cat(means))).reshape(cfg.trials, len(eq.labels), -1)
    keeps = {
        label: float(reads_as(p_means[:, j], names, want, thresholds).mean())
        for j, (label, want) in enumerate(eq.concepts)
    }
    se = {k: float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else float("nan") for k, v in per_trial.items()}
    result = EquationResult(
        equation=eq.name,
        text=eq.text(),
        trials=cfg.trials,
        success_mean3=rate["mean3"],
        success_single=rate["single"],
        success_pixel=rate["pixel"],
        success_pixel_jittered=rate["pixel_jittered"],
        success_random=rate["random"],
        stderr=se,
        centre_mean3=float(read[:n9].reshape(-1, 9)[:, 4].mean()),
        mean3_minus_single=rate["mean3"] - rate["single"],
        single_minus_random=rate["single"] - rate["random"],
        mean3_minus_pixel=rate["mean3"] - rate["pixel"],
        mean3_minus_pixel_jittered=rate["mean3"] - rate["pixel_jittered"],
        controls=dict(
            single_minus_single=rate["single2"] - rate["single"], random_minus_random=rate["random2"] - rate["random"]
        ),
        candidate_precision={
            label: float(concept_prob(p[cands[label]], names, want).mean()) for label, want in eq.concepts
        },
        candidates={label: len(c) for label, c in cands.items()},
        classifier_auc={a: clf.scores.auc[a] for a in eq.attributes},
        exemplar_mean_keeps=keeps,
        mean3_attribute_rates={
            a: float(reads_as(p_all[: 9 * cfg.trials], names, {a: v}, thresholds).mean())
            for a, v in eq.target[1].items()
        },
    )
    return result, dict(candidates=cands, first_draw=draws[0])


# ---------------------------------------------------------------------------------------------
# The whole measurement (notebook 07; the CLI measures one equation)


@dataclasses.dataclass
class Pool:
    """Generated faces with the classifier's reading and their pose."""

    z: torch.Tensor
    images: torch.Tensor
    probs: np.ndarray  # the classifier's probabilities, one column per name
    pose: np.ndarray
    names: list[str]


def make_pool(G, clf: AttributeClassifier, n: int, seed: int) -> Pool:
    z = seed_points(n, G.nz, seed)
    images = render(G, z)
    return Pool(z, images, clf.predict(images), pose(images), clf.names)


@dataclasses.dataclass
class ArithmeticResult(Result):
    """Saved as build/PROFILE/results/07_vector_arithmetic.json. `claims.py` reads
    "equations.NAME.mean3_minus_single" etc. and "turn.spearman_median"."""

    config: ArithmeticConfig
    misalignment: dict  # (c′)'s jitter: misalignment.Misalignment, measured
    classifier: dict  # attributes.AttributeScores: held-out accuracy, ROC-AUC
    judge: Thresholds  # the thresholds faces are read at, and their error on hand labels
    pool_rates: dict[str, float]  # how often the judge reads each attribute in the pool
    equations: dict[str, EquationResult]
    turn: TurnResult
    choices_source: str  # where Figure 7–8's exemplars came from
    seconds: dict[str, float]
    choices: Choices | None = None  # Figures 7–8's exemplars: indices into `choice_pool` (None: saved before it was)
    generator: object = artifact()
    attribute_classifier: object = artifact()
    pool_data: Pool = artifact()  # the pool the success rates drew from
    choice_pool: Pool = artifact()  # the pool `choices` indexes (Figures 7–8, the widget)
    draws: dict = artifact()

    def rebuild(self) -> ArithmeticResult:
        """G and the pool `choices` indexes again (after `read`): its z from the choices' pool size and seed,
        its images and their pose; not the classifier's probabilities (`probs` None)."""
        if self.generator is None:
            from .pretrained import load_models

            self.generator = load_models(self.config.model)[0]
        if self.choice_pool is None:
            if self.choices is None:
                raise ValueError("this result was saved without its exemplars (choices): run the section again")
            z = seed_points(self.choices.pool, self.generator.nz, self.choices.seed)
            images = render(self.generator, z)
            self.choice_pool = Pool(z, images, None, pose(images), [])
        return self

    def table(self) -> str:
        """Markdown: success rate ± standard error per equation and method."""
        rows = [
            "| equation | trials | (a) mean of 3 in Z | (b) single in Z | (c) pixels, aligned | "
            "(c′) pixels, detector-jittered | (d) random z |",
            "|---|---|---|---|---|---|---|",
        ]
        for e in self.equations.values():
            cells = [
                f"{getattr(e, 'success_' + k):.3f} ± {e.stderr[k]:.3f}"
                for k in ("mean3", "single", "pixel", "pixel_jittered", "random")
            ]
            rows.append(f"| {e.text} | {e.trials} | " + " | ".join(cells) + " |")
        attrs = sorted({a for e in self.equations.values() for a in equation(e.equation).attributes})
        return "\n".join(rows) + f"\n\nThe judge: {error_note(self.judge, attrs)}."


def run(cfg: ArithmeticConfig, choices: str | Path | Choices | None = None) -> ArithmeticResult:
    """Train (or load) the classifier, read a pool of generated faces, measure each equation's
    success rates and the turn vector; Figures 7–8's exemplars come from `choices` where it fits
    the model, else from the classifier's picks."""
    from .pretrained import load_models

    seconds, clock = {}, time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        seconds[step], clock = time.perf_counter() - clock, time.perf_counter()

    G, _, train_cfg = load_models(cfg.model)
    require_face_model(cfg.model, train_cfg, "vector arithmetic (§6.3.2)")
    clf = load_classifier(AttributeConfig.from_profile(cfg.classifier, progress=False))
    judge = validated(cfg.model, G, clf)
    lap("classifier")
    pool = make_pool(G, clf, cfg.pool, cfg.seed)
    lap("pool")
    mis = measure_misalignment()
    lap("misalignment")
    equations, draws = {}, {}
    for name in cfg.equations:
        equations[name], draws[name] = success_rates(
            G, clf, pool.z, pool.images, pool.probs, equation(name), cfg, mis, judge.values
        )
    lap("equations")
    chosen, source = resolve_choices(choices, cfg, pool, judge.values)
    same = (chosen.pool, chosen.seed) == (cfg.pool, cfg.seed)
    choice_pool = pool if same else make_pool(G, clf, chosen.pool, chosen.seed)
    turn = measure_turn(
        G, choice_pool.z, choice_pool.pose, cfg, chosen.turn["left"] or None, chosen.turn["right"] or None
    )
    lap("turn")
    return ArithmeticResult(
        config=cfg,
        misalignment=mis.to_dict(),
        classifier=clf.scores.to_dict(),
        judge=judge,
        pool_rates={n: float(judge.says(pool.probs, clf.names, n).mean()) for n in clf.names},
        equations=equations,
        turn=turn,
        choices_source=source,
        seconds=seconds,
        generator=G,
        attribute_classifier=clf,
        pool_data=pool,
        choice_pool=choice_pool,
        choices=chosen,
        draws=draws,
    )


def resolve_choices(choices, cfg: ArithmeticConfig, pool: Pool, thresholds: dict | None = None) -> tuple[Choices, str]:
    """`choices` (a Choices or a JSON path) if it was made for this model, else the classifier's
    picks from `pool` (read with the classifier that made `pool.probs`, at `thresholds`)."""
    name = "given"
    if choices is not None and not isinstance(choices, Choices):
        name, choices = Path(choices).name, Choices.load(choices)
    if choices is not None and choices.sha256 == model_sha256(cfg.model):
        return choices, f"hand-picked ({name})"
    why = "none given" if choices is None else f"{name} was made for another version of {cfg.model}"
    return auto_choices(
        cfg.model, pool.probs, pool.names, pool.pose, cfg.pool, cfg.seed, cfg.turn_exemplars, thresholds
    ), f"the classifier's picks ({why})"


def arithmetic_cli(cfg: ArithmeticConfig, out: str | Path | None = None) -> Iterator[dict]:
    """`python -m dcgan_core arithmetic`: each equation's success rates as a dict (and, with `out`, Figure 7 for
    the classifier's first draw as PNG: the exemplars, the 3×3 grid, the pixel controls). The model, the
    classifier and the pool of faces are made once for every equation."""
    from .pretrained import load_models

    G, _, train_cfg = load_models(cfg.model)  # a bad model fails before any training
    require_face_model(cfg.model, train_cfg, "vector arithmetic (§6.3.2)")
    clf = load_classifier(AttributeConfig.from_profile(cfg.classifier, progress=False))
    judge = validated(cfg.model, G, clf)
    pool_ = make_pool(G, clf, cfg.pool, cfg.seed)
    mis = measure_misalignment()
    for name in cfg.equations:
        res, draws = success_rates(G, clf, pool_.z, pool_.images, pool_.probs, equation(name), cfg, mis, judge.values)
        summary = dict(
            model=cfg.model,
            equation=name,
            text=res.text,
            trials=res.trials,
            success_mean3=res.success_mean3,
            success_single=res.success_single,
            success_pixel=res.success_pixel,
            success_pixel_jittered=res.success_pixel_jittered,
            success_random=res.success_random,
            stderr=res.stderr,
            candidates=res.candidates,
            exemplar_mean_keeps=res.exemplar_mean_keeps,
            mean3_attribute_rates=res.mean3_attribute_rates,
            classifier_auc=res.classifier_auc,
            misalignment=mis.to_dict(),
            judge=dict(thresholds=judge.values, error=error_note(judge, equation(name).attributes)),
        )
        if out is not None:
            from .figures import save_figure

            fig = arithmetic_figure(
                G, pool_.z, pool_.images, draws["first_draw"], equation(name), cfg.noise, cfg.seed, misalignment=mis
            )
            summary["figure"] = str(save_figure(fig, Path(out) / f"fig7_{name}.png"))
            summary["draw"] = draws["first_draw"]
            write_json(Path(out) / f"arithmetic_{name}.json", summary)
        yield summary


# ---------------------------------------------------------------------------------------------
# Figures


def arithmetic_figure(
    G,
    z: torch.Tensor,
    images: torch.Tensor,
    picks: list[list[int]],
    eq: Equation,
    noise: float = 0.25,
    seed: int = 0,
    p: np.ndarray | None = None,
    names=None,
    misalignment: Misalignment | None = None,
):
    """Figure 7: per concept its 3 exemplars and G(mean z); then the 3×3 result and the pixel control
    (and, given `misalignment`, the pixel control on exemplars jittered by it, one draw seeded by `seed`)."""
    import matplotlib.pyplot as plt

    from .figures import grid_image

    grid, pixel = equation_images(G, z, images, picks, noise, seed)
    means = render(G, torch.stack([z[torch.as_tensor(pk)].mean(0) for pk in picks]))
    fig = plt.figure(figsize=(12, 4.2))
    gs = fig.add_gridspec(3, 8, width_ratios=[1, 1, 1, 1, 0.3, 3, 0.3, 1.2])
    signs = ["", "−", "+"]
    for r, (label, pk) in enumerate(zip(eq.labels, picks)):
        for c in range(4):
            ax = fig.add_subplot(gs[r, c])
            ax.imshow(grid_image((images[pk[c]] if c < 3 else means[r])[None]))
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel("\n".join(textwrap.wrap(f"{signs[r]} {label}", 13)), fontsize=8)
            if r == 0:
                ax.set_title(("exemplar " + str(c + 1)) if c < 3 else "G(mean z)", fontsize=8)
    ax = fig.add_subplot(gs[:, 5])
    ax.imshow(grid_image(grid, nrow=3))
    ax.set_title(f"= {eq.target[0]}: G(Y), Y ± {noise:g} around it", fontsize=9)
    ax.axis("off")
    ax = fig.add_subplot(gs[0 if misalignment else 1, 7])
    ax.imshow(grid_image(pixel))
    ax.set_title("pixel-space\ncontrol (aligned)", fontsize=8)
    ax.axis("off")
    if misalignment is not None:
        shaken = jitter(images[torch.as_tensor(sum(picks, []))], misalignment, torch.Generator().manual_seed(seed))
        sizes = np.cumsum([0] + [len(pk) for pk in picks])
        ax = fig.add_subplot(gs[2, 7])
        ax.imshow(grid_image(pixel_arithmetic(shaken, [list(range(a, b)) for a, b in zip(sizes, sizes[1:])])))
        ax.set_title("pixel-space control,\ndetector-jittered", fontsize=8)
        ax.axis("off")
    fig.suptitle(eq.text(), fontsize=10)
    return fig
