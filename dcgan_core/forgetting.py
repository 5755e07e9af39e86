"""
# Forgetting to draw certain objects (§6.3.1, Figure 6)

Radford, Metz & Chintala (2015), [arXiv 1511.06434](https://arxiv.org/abs/1511.06434), §6.3.1:

> "To explore the form that the representation of the generator takes, we conduct an experiment to
> attempt to remove windows from the generator completely. On 150 samples, 52 window bounding boxes
> were drawn manually. On the second highest convolution layer features, logistic regression was
> fit to predict whether a feature activation was on a window (or not), by using the criterion that
> activations inside the drawn bounding boxes are positives and random samples from the same images
> are negatives. Using this simple model, all feature maps with weights greater than zero (200 in
> total) were dropped from all spatial locations. Then, random new samples were generated with and
> without the feature map removal."

What we do, concept by concept:

- **windows** (the paper's experiment) — boxes drawn by hand on the zoo rooms model's samples
  (`annotations/windows/SHA256.json`, keyed by the model file's sha256 and each sample's noise
  seed; `widgets.box_annotator` draws them; `check_annotations` refuses a file it cannot use). The
  sample of seed s is `sample.generate(G, 1, s)`.
- **eyeglasses** (ours: a variant needing no hand work) — on the zoo faces model's samples, the
  boxes are the eye band of the aligned faces (`EYE_BAND`) of the samples that the attribute
  classifier (`attributes.py`) reads as wearing glasses.

**Which layer.** The paper's "second highest convolution layer" is ambiguous. Its generator's
layers are 4×4×1024, 8×8×512, 16×16×256, 32×32×128 and the 64×64×3 output; "200 feature maps
dropped" rules out the 128-map 32×32 layer, so it means the 16×16 layer: the second highest
*hidden* layer, `G.layers[2]` for 64×64 images. That is our default `layer`; `layers` lists the
ones compared (the notebook shows each choice).

**The regression.** Activation vectors (one C-dim vector per spatial position of the layer) whose
position's centre lies inside a box are positives; negatives are as many random positions of the
same images outside the boxes (ours: outside, so that no negative is a window). For eyeglasses
the negatives also include the eye band of faces the classifier says wear no glasses (ours: else
the regression would learn "eyes", not "glasses"). scikit-learn's L2 logistic regression on
standardized features (standardizing does not change a weight's sign); held-out accuracy by k-fold
cross-validation over *images* (`folds`), so no image is both trained and tested on. Every map
with a weight > 0 (fitted on all images) is dropped at every position (`G(z, drop={layer: maps})`).
The mechanism (G's activations, boxes → positions, the probe, dropping maps) is `drop_maps.py`.

**Measured** (the paper only shows samples), always against dropping as many *random* maps of the
same layer (`random_repeats` draws):

- windows — the mean window probability inside the annotated boxes, before and after. The judge
  must not be the regression that chose the maps (dropping its positive-weight inputs lowers its
  output by construction), so it is a second logistic regression on the **trained D's features**
  of the image (`judge_layer`), cross-fitted by image folds: it sees only pixels. Also the mean
  brightness inside the boxes (windows in the 15-Scene photos are bright). Because dark boxes may
  read as "no window", two controls of darkness (ours): the *before* samples with their boxes
  darkened by as much brightness as the chosen maps removed (a uniform shift of the pixels, so the
  window's shape stays), judged alike — `darkness_gap` is how much more window the maps remove than
  that darkness alone; and `brightness_gap`, the boxes' brightness after the chosen maps minus after
  as many random maps (< 0: darker than random). Both along a curve of the m strongest maps
  (`curve`: the paper's regime drops a small share of the maps), and the FID/KID cost
  (`windows_fid_n`) of the drop against random maps. The judge, the brightness, the darkening
  and the curve are `window_judge.py`.
- eyeglasses — the judge's eyeglasses rate on fresh samples before and after (read at the validated
  judge's threshold, `judge.validated`, with its error on hand-labelled faces), the FID cost
  (`metrics.evaluate`, n = `fid_n`), and the rate as more maps are dropped, strongest weights first.

Figure 6 and the tables of both concepts are drawn by `forgetting_figures.py`.
"""

from __future__ import annotations

import dataclasses
import time
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from .annotations import annotation_path, load_annotations, sample_for_seed
from .config import Config, option
from .data import DataError
from .drop_maps import (
    DroppingGenerator,
    box_mask,
    check_layer,
    fit_probe,
    layer_activations,
    random_maps,
)
from .models import Generator, eval_mode, sample_z
from .pretrained import load_models, require_discriminator
from .results import Result, artifact
from .window_judge import WindowJudge, box_brightness, darken, windows_curve

EYE_BAND = (14, 26, 50, 38)  # ours: x0, y0, x1, y1 of the glasses in CelebA's aligned 64×64 faces


@dataclasses.dataclass
class ForgettingConfig(Config):
    """§6.3.1: which concepts, which generators, which layer, and the sizes of the measurement."""

    concept: str = option(
        "both",
        "windows (boxes drawn by hand, the paper's), eyeglasses (the eye band of faces "
        "the attribute classifier reads as wearing glasses) or both",
        choices=("both", "windows", "eyeglasses"),
    )
    windows_model: str = option("zoo:scenes64", "windows: the rooms generator (zoo:NAME or a checkpoint)")
    faces_model: str = option("zoo:celeba64", "eyeglasses: the faces generator (zoo:NAME or a checkpoint)")
    layer: int = option(
        2,
        "G's layer whose feature maps are dropped (0 = the 4×4 projection; 2 = the 16×16 "
        "layer, our reading of 'second highest')",
        min=0,
    )
    layers: tuple[int, ...] = option((1, 2, 3), "layers compared (the notebook shows each choice)", flag=False)
    folds: int = option(4, "cross-validation folds over images for held-out accuracy", min=2)
    reg: float = option(1.0, "inverse L2 strength C of the logistic regressions")
    random_repeats: int = option(
        5,
        "draws of random maps for the control (at least 2: one draw stands in for the "
        "chosen maps in the claims' own control)",
        min=2,
    )
    judge_layer: int = option(1, "windows: the trained D's conv layer the window judge reads", min=0)
    annotations: str | None = option(
        None, "windows: an annotation file; None = annotations/windows/SHA256.json of the model"
    )
    n_samples: int = option(2000, "eyeglasses: samples drawn to find faces with glasses for the regression", min=10)
    n_eval: int = option(2000, "eyeglasses: fresh samples for the rates", min=10)
    fid_n: int = option(500, "eyeglasses: images for each FID (small n: biased high, compare only)", min=2)
    curve: tuple[int, ...] = option(
        (1, 2, 4, 8, 16, 32),
        "numbers of maps dropped (strongest weight first) for the curves of both concepts",
        flag=False,
    )
    windows_fid_n: int = option(
        100,
        "windows: images for each FID/KID of the rooms G (the 715 training rooms "
        "are the real side; small n: biased high, compare only)",
        min=2,
    )
    threshold: float | None = option(
        None,
        "eyeglasses: the classifier's probability above which a face wears "
        "glasses; None: the validated judge's (judge.validated: chosen on the "
        "model's hand-labelled faces; 0.5 for a model without labels)",
        min=0.0,
    )
    classifier_profile: str = option(
        "cpu", "profile of the attribute classifier (attributes.py)", choices=("smoke", "cpu", "paper")
    )
    seed: int = option(0, "seed of the noise, the negatives, the folds and the random maps")

    PROFILES: ClassVar[dict[str, dict]] = {
        # CI: ~1 min of CPU per concept on 2 cores; Inception (FID) is most of it, hence fid_n 32.
        "smoke": dict(
            n_samples=1000,
            n_eval=400,
            fid_n=32,
            random_repeats=2,
            classifier_profile="smoke",
            curve=(4, 16),
            windows_fid_n=32,
        ),
        "cpu": dict(),
        "paper": dict(n_samples=10000, n_eval=10000, fid_n=2000, random_repeats=10, windows_fid_n=700),
    }

    def check(self) -> None:
        if not self.reg > 0:
            raise ValueError(f"reg must be positive, got {self.reg!r}")
        if self.threshold is not None and not 0 < self.threshold < 1:
            raise ValueError(f"threshold must be in (0, 1), got {self.threshold!r}")
        if self.concept == "eyeglasses" and self.annotations:
            raise ValueError(
                "annotations are window boxes (concept windows); eyeglasses' boxes are the eye band "
                "of the aligned faces, no file: leave out --annotations"
            )

    @property
    def concepts(self) -> tuple[str, ...]:
        return ("windows", "eyeglasses") if self.concept == "both" else (self.concept,)


def _load_generator(model: str) -> tuple[Generator, nn.Module, object]:
    G, D, cfg = load_models(model)
    G = G.float().to(memory_format=torch.contiguous_format).eval()
    D = require_discriminator(D, model).float().to(memory_format=torch.contiguous_format).eval()
    return G, D, cfg


# ---------------------------------------------------------------------------------------------
# Windows


@dataclasses.dataclass
class LayerForgetting:
    """The windows experiment at one G layer."""

    layer: int
    layer_shape: list[int]
    accuracy: float  # the regression's held-out balanced accuracy
    maps_dropped: int
    n_maps: int
    window_prob_before: float  # the D-feature judge's mean probability inside the boxes
    window_prob_after: float
    window_prob_after_random: float  # mean over random_repeats draws of as many random maps
    brightness_before: float  # mean pixel value in [-1, 1] inside the boxes
    brightness_after: float
    brightness_after_random: float
    maps: list[int]
    window_prob_random_draws: list[float]  # per draw of random maps
    window_prob_darkened: float  # the before samples, boxes darkened to brightness_after, judged alike
    window_prob_darkened_random: float  # the same darkened to random draw 0's brightness
    window_prob_gap: float = 0.0  # after_random − after: > 0 where the chosen maps remove more window
    control_gap: float = 0.0  # the same with random draw 0 in place of the chosen maps (must be ~0)
    darkness_gap: float = 0.0  # darkened − after: > 0 where the maps remove more window than darkness
    darkness_control_gap: float = 0.0  # the same with random draw 0 in place of the chosen maps
    brightness_gap: float = 0.0  # brightness after − after_random: < 0 where the boxes go darker than random
    images_after: torch.Tensor = artifact()
    images_random: torch.Tensor = artifact()
    images_darkened: torch.Tensor = artifact()

    def __post_init__(self):
        self.window_prob_gap = self.window_prob_after_random - self.window_prob_after
        draws = self.window_prob_random_draws
        self.control_gap = float(np.mean(draws[1:]) - draws[0]) if len(draws) > 1 else float("nan")
        self.darkness_gap = self.window_prob_darkened - self.window_prob_after
        self.darkness_control_gap = self.window_prob_darkened_random - draws[0]
        self.brightness_gap = self.brightness_after - self.brightness_after_random


@dataclasses.dataclass
class WindowsResult(Result):
    config: ForgettingConfig
    model: str
    sha256: str
    n_samples: int  # annotated samples
    n_boxes: int
    judge_accuracy: float  # the D-feature window judge's held-out balanced accuracy
    layers: dict[int, LayerForgetting]
    chosen: LayerForgetting  # the config's layer
    curve: dict  # the chosen layer, m strongest maps: see `window_judge.windows_curve`
    fid_before: float  # FID of fresh samples (n = fid_n) against the rooms G's training set
    fid_after: float
    fid_after_random: float  # random draw 0 of as many maps
    kid_before: float  # KID of the same (unbiased at small n)
    kid_after: float
    kid_after_random: float
    fid_n: int
    seconds: float
    seeds: list[int] = artifact()
    boxes: list = artifact()
    images_before: torch.Tensor = artifact()


def run_windows(cfg: ForgettingConfig) -> WindowsResult:
    """§6.3.1 on hand-drawn window boxes: the regression, the maps dropped and the regenerated samples, at
    every layer of `cfg.layers` (and `cfg.layer`), each with the darkness controls; at `cfg.layer` also the
    curve of the m strongest maps and the FID/KID cost."""
    from .attributes import is_faces
    from .metrics import evaluate

    t0 = time.perf_counter()
    G, D, train_cfg = _load_generator(cfg.windows_model)
    if is_faces(train_cfg.dataset):
        raise ValueError(
            f"windows: {cfg.windows_model} draws faces (trained on {train_cfg.dataset}), which have no "
            f"windows; use a rooms model (zoo:scenes64), or --concept eyeglasses on a face model"
        )
    if train_cfg.conditional:
        raise ValueError(
            f"windows: {cfg.windows_model} is class-conditional (§8.1: it draws the class it is given), "
            f"and §6.3.1 drops maps of G(z) alone; use an unconditional model (zoo:scenes64)"
        )
    ann = load_annotations(cfg.windows_model, "windows", cfg.annotations)
    if ann["image_size"] != G.image_size:  # the file is keyed by this model file: its samples' size
        raise DataError(
            f"{cfg.annotations or annotation_path(ann['sha256'])}: image_size {ann['image_size']}, but "
            f"{cfg.windows_model} draws {G.image_size}×{G.image_size} samples; draw the boxes again "
            f"on its samples (widgets.box_annotator)"
        )
    seeds = sorted(int(s) for s in ann["samples"])
    if len(seeds) < cfg.folds:
        raise DataError(f"only {len(seeds)} annotated samples: need at least {cfg.folds} (folds)")
    boxes = [ann["samples"][str(s)] for s in seeds]
    for layer in sorted(set(cfg.layers) | {cfg.layer}):
        check_layer(G, layer)
    before = sample_for_seed(G, seeds)
    judge = WindowJudge(D, before, boxes, cfg)
    has_box = [i for i, b in enumerate(boxes) if b]
    sub = lambda x: x[has_box]  # noqa: E731  (brightness over the samples that have boxes)
    bx = [boxes[i] for i in has_box]
    layers, probes, seen = {}, {}, {}
    for layer in sorted(set(cfg.layers) | {cfg.layer}):
        acts = layer_activations(G, seeds, layer)
        pos = box_mask(boxes, acts.shape[-1], G.image_size)
        probe = fit_probe(acts, pos, ~pos, cfg, layer)
        maps = probe.maps
        after = sample_for_seed(G, seeds, {layer: maps})
        randoms = random_maps(probe.n_maps, len(maps), cfg.random_repeats, cfg.seed + layer)
        controls = [sample_for_seed(G, seeds, {layer: r}) for r in randoms]
        measured = {(): before, tuple(maps): after} | {tuple(r): c for r, c in zip(randoms, controls)}
        measured = {k: (judge.mean_inside(x), box_brightness(sub(x), bx)) for k, x in measured.items()}
        if layer == cfg.layer:  # the curve reuses them
            probes[layer], seen = probe, dict(measured)
        darkened = darken(before, boxes, measured[tuple(maps)][1])
        layers[layer] = LayerForgetting(
            layer=layer,
            layer_shape=list(acts.shape[1:]),
            accuracy=probe.accuracy,
            maps_dropped=len(maps),
            n_maps=probe.n_maps,
            window_prob_before=measured[()][0],
            window_prob_after=measured[tuple(maps)][0],
            window_prob_after_random=float(np.mean(draws := [measured[tuple(r)][0] for r in randoms])),
            window_prob_random_draws=draws,
            brightness_before=measured[()][1],
            brightness_after=measured[tuple(maps)][1],
            brightness_after_random=float(np.mean([measured[tuple(r)][1] for r in randoms])),
            window_prob_darkened=judge.mean_inside(darkened),
            window_prob_darkened_random=judge.mean_inside(darken(before, boxes, measured[tuple(randoms[0])][1])),
            maps=maps,
            images_after=after,
            images_random=controls[0],
            images_darkened=darkened,
        )
    chosen = layers[cfg.layer]
    curve = windows_curve(G, seeds, boxes, judge, probes[cfg.layer], before, cfg, seen)

    # Quality cost: FID/KID of fresh noise before/after (real images: the rooms G's training data).
    random0 = random_maps(chosen.n_maps, chosen.maps_dropped, cfg.random_repeats, cfg.seed + cfg.layer)[0]
    scores = {
        k: evaluate(net, train_cfg.dataset, n=cfg.windows_fid_n, split="train", seed=cfg.seed + 1)
        for k, net in [
            ("before", G),
            ("after", DroppingGenerator(G, {cfg.layer: chosen.maps})),
            ("after_random", DroppingGenerator(G, {cfg.layer: random0})),
        ]
    }
    return WindowsResult(
        config=cfg,
        model=cfg.windows_model,
        sha256=ann["sha256"],
        n_samples=len(seeds),
        n_boxes=sum(len(b) for b in boxes),
        judge_accuracy=judge.accuracy,
        layers=layers,
        chosen=chosen,
        curve=curve,
        fid_n=cfg.windows_fid_n,
        **{f"fid_{k}": v.fid for k, v in scores.items()},
        **{f"kid_{k}": v.kid_mean for k, v in scores.items()},
        seconds=round(time.perf_counter() - t0, 1),
        seeds=seeds,
        boxes=boxes,
        images_before=before,
    )


# ---------------------------------------------------------------------------------------------
# Eyeglasses


@dataclasses.dataclass
class EyeglassesResult(Result):
    config: ForgettingConfig
    model: str
    layer: int
    layer_shape: list[int]
    n: int  # fresh samples the rates are measured on
    n_glasses_faces: int  # samples read as wearing glasses, whose eye band is positive
    accuracy: float  # the regression's held-out balanced accuracy
    maps_dropped: int
    n_maps: int
    rate_before: float  # the classifier's eyeglasses rate on the fresh samples
    rate_after: float  # with the positive-weight maps dropped
    rate_after_random: float  # with as many random maps dropped (mean over draws)
    fid_before: float
    fid_after: float
    fid_after_random: float
    fid_n: int
    curve: dict  # {"maps": [0, m…], "selected": [rates], "random": [rates]}
    classifier: dict  # the classifier's held-out accuracy and ROC-AUC for Eyeglasses (real faces)
    judge: dict  # the threshold the rates read at, where it comes from, and its precision /
    # recall on hand-labelled generated faces (judge.validated)
    seconds: float
    maps: list[int]
    rate_random_draws: list[float]  # per draw of random maps
    rate_gap: float = 0.0  # rate_after_random − rate_after: > 0 where the drop is specific
    control_gap: float = 0.0  # the same with random draw 0 in place of the chosen maps (must be ~0)
    images_before: torch.Tensor = artifact()
    images_after: torch.Tensor = artifact()
    images_random: torch.Tensor = artifact()

    def __post_init__(self):
        self.rate_gap = self.rate_after_random - self.rate_after
        draws = self.rate_random_draws
        self.control_gap = float(np.mean(draws[1:]) - draws[0]) if len(draws) > 1 else float("nan")


@torch.no_grad()
def _generate(G: Generator, n: int, seed: int, drop: dict | None = None, batch: int = 500) -> torch.Tensor:
    z = sample_z(n, G.nz, torch.Generator().manual_seed(seed))
    with eval_mode(G):
        return torch.cat([G(z[i : i + batch], drop=drop).float() for i in range(0, n, batch)])


def run_eyeglasses(cfg: ForgettingConfig, classifier=None) -> EyeglassesResult:
    """§6.3.1's experiment on faces with glasses (no hand work): regression, drop, and the
    measured rates, FID cost and rate curve, against random maps."""
    from .attributes import AttributeConfig, load_classifier, require_face_model
    from .judge import error_note, validated
    from .metrics import evaluate

    t0 = time.perf_counter()
    G, _, train_cfg = _load_generator(cfg.faces_model)
    require_face_model(cfg.faces_model, train_cfg, "eyeglasses (§6.3.1)")
    check_layer(G, cfg.layer)
    clf = classifier or load_classifier(AttributeConfig.from_profile(cfg.classifier_profile, progress=False))
    col = clf.column("Eyeglasses")
    judge = validated(cfg.faces_model, G, clf)
    threshold = judge.of("Eyeglasses") if cfg.threshold is None else cfg.threshold
    rate = lambda x: float((clf.predict(x)[:, col] > threshold).mean())  # noqa: E731

    # The regression: eye band of glasses faces (positive) vs elsewhere, and the eye band of clear faces.
    z = sample_z(cfg.n_samples, G.nz, torch.Generator().manual_seed(cfg.seed))
    with torch.no_grad(), eval_mode(G):
        outs = [G.activations(z[i : i + 500]) for i in range(0, len(z), 500)]
    acts = torch.cat([o[cfg.layer].float() for o in outs])
    p = clf.predict(torch.cat([o[-1].float() for o in outs]))[:, col]
    glasses, clear = p > threshold, p < min(0.1, threshold / 2)  # clear: well below the threshold
    if glasses.sum() < 2:
        raise DataError(
            f"only {int(glasses.sum())} of {cfg.n_samples} samples read as wearing glasses: draw more (n_samples)"
        )
    band = box_mask([[EYE_BAND]] * len(acts), acts.shape[-1], G.image_size)
    keep = torch.from_numpy(glasses | clear)
    acts, band, g = acts[keep], band[keep], torch.from_numpy(glasses[keep.numpy()])
    pos = band & g[:, None, None]
    extra = band & ~g[:, None, None]
    probe = fit_probe(acts, pos, ~band & g[:, None, None], cfg, cfg.layer, extra_neg=extra)
    maps = probe.maps

    # Fresh samples: the rates, with and without the maps, and the random-maps control.
    seed = cfg.seed + 1
    before = _generate(G, cfg.n_eval, seed)
    after = _generate(G, cfg.n_eval, seed, {cfg.layer: maps})
    randoms = random_maps(probe.n_maps, len(maps), cfg.random_repeats, cfg.seed)
    controls = [_generate(G, cfg.n_eval, seed, {cfg.layer: r}) for r in randoms]
    rates = {(): rate(before), tuple(maps): rate(after)}  # dropped maps → rate, each computed once
    rates.update({tuple(r): rate(c) for r, c in zip(randoms, controls)})

    def rate_without(drop: list[int]) -> float:
        if tuple(drop) not in rates:
            rates[tuple(drop)] = rate(_generate(G, cfg.n_eval, seed, {cfg.layer: drop}))
        return rates[tuple(drop)]

    # The curve: the m strongest positive-weight maps (m up to all of them) vs m random maps.
    counts = sorted({m for m in cfg.curve if m < len(maps)} | {len(maps)})
    curve = dict(maps=[0] + counts, selected=[rates[()]], random=[rates[()]])
    for m in counts:
        curve["selected"].append(rate_without(probe.strongest(m)))
        draws = randoms if m == len(maps) else random_maps(probe.n_maps, m, cfg.random_repeats, cfg.seed + m)
        curve["random"].append(float(np.mean([rate_without(r) for r in draws])))

    # Quality cost: FID of the same noise before/after (real images: the model's training data).
    fid = lambda net: evaluate(net, train_cfg.dataset, n=cfg.fid_n, split="train", seed=seed).fid  # noqa: E731
    s = clf.scores
    show = torch.from_numpy(np.argsort(-clf.predict(before)[:, col])[:16].copy())
    return EyeglassesResult(
        config=cfg,
        model=cfg.faces_model,
        layer=cfg.layer,
        layer_shape=list(acts.shape[1:]),
        n=cfg.n_eval,
        n_glasses_faces=int(glasses.sum()),
        accuracy=probe.accuracy,
        maps_dropped=len(maps),
        n_maps=probe.n_maps,
        rate_before=rates[()],
        rate_after=rates[tuple(maps)],
        rate_after_random=curve["random"][-1],
        fid_before=fid(G),
        fid_after=fid(DroppingGenerator(G, {cfg.layer: maps})),
        fid_after_random=fid(DroppingGenerator(G, {cfg.layer: randoms[0]})),
        fid_n=cfg.fid_n,
        curve=curve,
        classifier=dict(accuracy=s.accuracy.get("Eyeglasses"), auc=s.auc.get("Eyeglasses"), n_test=s.n_test),
        judge=dict(
            threshold=threshold,
            source=judge.source if cfg.threshold is None else "given (--threshold)",
            error=error_note(judge, ["Eyeglasses"]),
            check=judge.checks.get("Eyeglasses"),
        ),
        seconds=round(time.perf_counter() - t0, 1),
        maps=maps,
        rate_random_draws=[rates[tuple(r)] for r in randoms],
        images_before=before[show],
        images_after=after[show],
        images_random=controls[0][show],
    )


def run(cfg: ForgettingConfig, classifier=None) -> ForgettingResult:
    """§6.3.1 for each of `cfg.concepts`: windows on the rooms model, eyeglasses on the faces model."""
    return ForgettingResult(
        config=cfg,
        windows=run_windows(cfg) if "windows" in cfg.concepts else None,
        eyeglasses=run_eyeglasses(cfg, classifier) if "eyeglasses" in cfg.concepts else None,
    )


@dataclasses.dataclass
class ForgettingResult(Result):
    """Notebook 06's numbers: each concept measured (None: not among `config.concepts`)."""

    config: ForgettingConfig
    windows: WindowsResult | None
    eyeglasses: EyeglassesResult | None

    def findings(self) -> str:
        """What this run measured, in words with its numbers (notebook 06 shows it under the tables)."""
        w, g, lines = self.windows, self.eyeglasses, []
        if w is not None:
            c = w.chosen
            lines.append(
                f"- **Windows** ({w.model}, {w.n_boxes} hand-drawn boxes on {w.n_samples} samples): dropping the "
                f"{c.maps_dropped} of {c.n_maps} positive-weight maps of layer {c.layer} "
                f"({'×'.join(map(str, c.layer_shape[1:]))}) moves the window probability inside the boxes "
                f"{c.window_prob_before:.2f} → {c.window_prob_after:.2f}, against {c.window_prob_after_random:.2f} for "
                f"as many random maps (one random draw against the others: {c.control_gap:+.2f}); the boxes' "
                f"brightness {c.brightness_before:.2f} → {c.brightness_after:.2f} (random: "
                f"{c.brightness_after_random:.2f}; after − random {c.brightness_gap:+.2f}). Darkening the boxes "
                f"of the samples as drawn by as much, with no map dropped, reads {c.window_prob_darkened:.2f}: "
                f"the maps remove {c.darkness_gap:+.2f} more window probability than that darkness alone. "
                f"FID (n = {w.fid_n}) {w.fid_before:.1f} → {w.fid_after:.1f} (random maps: "
                f"{w.fid_after_random:.1f}); KID {w.kid_before:.3f} → {w.kid_after:.3f} (random: "
                f"{w.kid_after_random:.3f})."
            )
            cv = w.curve
            lines.append(
                "  Dropping the m strongest maps (m: "
                + ", ".join(map(str, cv["maps"][1:]))
                + "): window probability "
                + ", ".join(f"{v:.2f}" for v in cv["selected"][1:])
                + "; random maps "
                + ", ".join(f"{v:.2f}" for v in cv["random"][1:])
                + "; darkened control "
                + ", ".join(f"{v:.2f}" for v in cv["darkened"][1:])
                + "; brightness selected − random "
                + ", ".join(f"{v:+.2f}" for v in cv["brightness_gap"][1:])
                + "."
            )
            for layer, r in sorted(w.layers.items()):
                if layer != c.layer:
                    lines.append(
                        f"  Layer {layer} ({r.maps_dropped} of {r.n_maps} maps): {r.window_prob_after:.2f} vs "
                        f"{r.window_prob_after_random:.2f} random."
                    )
        if g is not None:
            lines.append(
                f"- **Eyeglasses** ({g.model}): {g.n_glasses_faces} of the regression's samples read as wearing "
                f"glasses; on {g.n:,} fresh samples the rate goes {g.rate_before:.4f} → {g.rate_after:.4f} with "
                f"the {g.maps_dropped} of {g.n_maps} chosen maps dropped, against {g.rate_after_random:.4f} for as "
                f"many random maps (one random draw against the others: {g.control_gap:+.4f}); FID (n = "
                f"{g.fid_n}) {g.fid_before:.1f} → {g.fid_after:.1f} (random maps: {g.fid_after_random:.1f}). "
                f"With glasses on about {g.rate_before:.1%} of samples, few faces carry the measurement. "
                f"The judge reads glasses above {g.judge['threshold']:.3f}: {g.judge['error']}."
            )
        return "\n".join(lines)


def summary(result: ForgettingResult) -> dict:
    """The CLI's JSON: each measured concept's numbers (no tensors, no config)."""
    out = {}
    for concept in result.config.concepts:
        out[concept] = getattr(result, concept).to_dict()
        out[concept].pop("config", None)
    return out
