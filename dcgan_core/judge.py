"""
# The judge on generated faces: §6.3's attribute classifier checked against hand labels

Radford, Metz & Chintala (2015), [arXiv 1511.06434](https://arxiv.org/abs/1511.06434), §6.3 judged
generated faces by eye. Our §6 numbers come from `attributes.py`'s classifier instead, trained and
scored on *real* CelebA faces only; generated faces are blurrier and stranger, and an independent
reader saw several times more glasses on zoo `celeba64` samples than it read (issue 28). So the
judge is checked here on the faces it judges:

- **Hand labels** — `annotations/faces/SHA256.json` (keyed by the model file's sha256 like
  `annotations/windows/`; loaded with `annotations.load_annotations`): Eyeglasses, Smiling and Male
  for the `n` faces `sample.generate(G, n, seed)` of the model, each 1, 0 or null (uncertain).
  `contact_sheets` writes the numbered sheets they were labelled on; `annotations/README.md` says
  how, so that anyone can redo or check them.
- **Per attribute** (`run`), on the faces labelled 1 or 0: the judge's rate at `threshold` (0.5,
  the §6 modules' default) against the labelled rate, precision, recall, ROC-AUC, and a
  calibration table (probability bins against the labelled frequency).
- **A threshold chosen on generated faces** (ours) — the one maximising F1 on the labels (why
  F1: the comment in `check_attribute`), and, for comparison, the one whose rate matches the
  labelled rate; then the judge's rate at 0.5 and at both on a larger sample (`rate_n` faces of
  seed `rate_seed`), so the effect on a §6 rate is visible. The thresholds are fitted on the
  faces they are scored on, so `f1_cross_validated` also scores the F1 threshold chosen on other
  folds; with ~10 positive Eyeglasses faces every Eyeglasses number is rough.

`table(run())` prints what it measures (the numbers are the run's, never typed here).

**The validated judge** (`validated`) is what §6 reads generated faces with: per labelled
attribute, the F1 threshold chosen on the model's hand-labelled faces with the classifier in
hand, and that threshold's precision and recall there (fitted, and cross-validated) — the error
every §6 rate states beside it (`vector_arithmetic.py`, `forgetting.py`'s eyeglasses). A model
without hand labels (a user's checkpoint, a smoke run) is read at 0.5 and says it is not validated.
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from .annotations import annotation_path, load_annotations
from .attributes import AttributeConfig, load_classifier, roc_auc
from .config import Config, option
from .data import DataError
from .files import atomic_write
from .pretrained import load_models, model_sha256
from .results import Result
from .sample import generate

LABELLED = ("Eyeglasses", "Smiling", "Male")  # the attributes §6.3 reads; hand-labelled
DEFAULT = 0.5  # the threshold of an attribute without hand labels


@dataclasses.dataclass
class JudgeConfig(Config):
    """Which generator, which classifier, and the sizes of the check (all choices ours)."""

    model: str = option("zoo:celeba64", "the faces generator whose samples were hand-labelled")
    classifier: str = option(
        "cpu", "profile of the attribute classifier (attributes.AttributeConfig)", choices=("smoke", "cpu", "paper")
    )
    annotations: str | None = option(None, "a label file; None = annotations/faces/SHA256.json of the model")
    threshold: float = option(0.5, "the probability above which the judge says yes (the §6 modules' default)")
    bins: int = option(5, "equal-width probability bins of the calibration table", min=2)
    folds: int = option(5, "folds of the cross-validated scores of the F1 threshold", min=2)
    rate_n: int = option(1000, "faces of the larger sample the rates are compared on", min=1)
    rate_seed: int = option(123, "seed of that sample (sample.generate(G, rate_n, rate_seed))")

    PROFILES: ClassVar[dict[str, dict]] = {
        "smoke": dict(classifier="smoke", rate_n=200),  # seconds, once the classifier is cached
        "cpu": dict(),
        "paper": dict(),
    }

    def check(self) -> None:
        if not 0 < self.threshold < 1:
            raise ValueError(f"threshold must be in (0, 1), got {self.threshold!r}")


# ---------------------------------------------------------------------------------------------
# Labelling: numbered contact sheets of the faces to label


def labelled_faces(G, ann: dict) -> torch.Tensor:
    """The faces the labels describe: face i is row i of sample.generate(G, n, seed)."""
    return generate(G, ann["n"], ann["seed"])


def contact_sheets(
    images: torch.Tensor,
    folder: str | Path,
    *,
    cols: int = 4,
    rows: int = 3,
    size: int = 240,
    numbers=None,
    captions=None,
) -> list[Path]:
    """Images in [-1, 1] as numbered PNG sheets folder/sheet-NN.png, rows×cols faces a sheet, each
    enlarged to size px (Lanczos) with its number (`numbers[i]`, default i) above it: what the
    labels were read from. `captions[i]` is printed after the number (`captions(ann)`: the labels,
    for checking them)."""
    from PIL import Image, ImageDraw, ImageFont

    font, band = ImageFont.load_default(size=max(12, size // 8)), max(16, size // 7)
    pixels = ((images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
    numbers = list(range(len(pixels))) if numbers is None else [int(k) for k in numbers]
    paths, per = [], cols * rows
    for s in range(math.ceil(len(pixels) / per)):
        sheet = Image.new("RGB", (cols * (size + 4), rows * (size + band + 4)), "white")
        draw = ImageDraw.Draw(sheet)
        for k, i in enumerate(range(s * per, min((s + 1) * per, len(pixels)))):
            x, y = (k % cols) * (size + 4), (k // cols) * (size + band + 4)
            draw.text(
                (x + 4, y), f"{numbers[i]}  {captions[i]}" if captions else str(numbers[i]), fill="black", font=font
            )
            face = Image.fromarray(pixels[i]).resize((size, size), Image.Resampling.LANCZOS)
            sheet.paste(face, (x, y + band))
        path = Path(folder) / f"sheet-{s:02d}.png"
        paths.append(atomic_write(path, lambda tmp, sheet=sheet: sheet.save(tmp, format="png")))
    return paths


# ---------------------------------------------------------------------------------------------
# The labels


def load_labels(model: str = "zoo:celeba64", path: str | Path | None = None) -> dict:
    """The hand labels of `model`'s faces (annotations/faces/SHA256.json, or `path`), checked: the
    file's sha256 is the model's, and each attribute has n entries, each 1, 0 or None."""
    try:
        return load_annotations(model, "faces", path, check=check_labels)
    except DataError as e:
        raise DataError(f"{e}. Faces are labelled by eye, not drawn: see annotations/README.md") from None


def check_labels(ann, path: str | Path) -> dict:
    """`ann` if it holds `n` (faces) and `labels` {attribute: n entries, each 1, 0 or null}, else one DataError."""
    n, labels = (ann.get("n"), ann.get("labels")) if isinstance(ann, dict) else (None, None)
    if not isinstance(n, int) or n < 1 or not isinstance(labels, dict):
        raise DataError(
            f"{path}: a face label file holds n (the number of faces) and labels {{attribute: [1, 0 or null per face]}}"
        )
    for name, values in labels.items():
        if not isinstance(values, list) or len(values) != n or any(v not in (0, 1, None) for v in values):
            raise DataError(f"{path}: the {name} labels must be {n} entries, each 1, 0 or null")
    return ann


def captions(ann: dict) -> list[str]:
    """Each face's labels in short, "E1 S? M0" (first letter of the attribute; ? = uncertain)."""
    short = {1: "1", 0: "0", None: "?"}
    return [" ".join(f"{name[0]}{short[ann['labels'][name][i]]}" for name in ann["labels"]) for i in range(ann["n"])]


def label_array(ann: dict, name: str) -> np.ndarray:
    """One attribute's labels as floats: 1.0, 0.0, NaN where uncertain."""
    return np.array([np.nan if v is None else float(v) for v in ann["labels"][name]])


# ---------------------------------------------------------------------------------------------
# Scores of a judge against labels


def scores(said: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """The judge's yes rate, precision, recall and F1 of boolean verdicts against boolean labels
    (NaN where a ratio has nothing to count)."""
    said, truth = np.asarray(said, bool), np.asarray(truth, bool)
    tp = float((said & truth).sum())
    ratio = lambda a, b: float(a / b) if b else float("nan")  # noqa: E731
    precision, recall = ratio(tp, said.sum()), ratio(tp, truth.sum())
    return dict(
        rate=float(said.mean()) if len(said) else float("nan"),
        precision=precision,
        recall=recall,
        f1=ratio(2 * tp, said.sum() + truth.sum()),
    )


def calibration(p: np.ndarray, truth: np.ndarray, bins: int = 5) -> list[dict]:
    """Equal-width probability bins: for each non-empty one, its edges, how many faces, their mean
    predicted probability and the labelled frequency (a calibrated judge has the two equal)."""
    which = np.clip((np.asarray(p) * bins).astype(int), 0, bins - 1)
    return [
        dict(
            lo=b / bins,
            hi=(b + 1) / bins,
            n=int((which == b).sum()),
            mean_p=float(p[which == b].mean()),
            observed=float(np.asarray(truth, float)[which == b].mean()),
        )
        for b in range(bins)
        if (which == b).any()
    ]


def _cut(p_sorted_desc: np.ndarray, k: int) -> float:
    """A threshold saying yes to exactly the k highest probabilities (ties aside): midway between
    the k-th and the next, so `p > t` and `p >= t` agree."""
    if k <= 0:
        return float((p_sorted_desc[0] + 1) / 2)
    if k >= len(p_sorted_desc):
        return float(p_sorted_desc[-1] / 2)
    return float((p_sorted_desc[k - 1] + p_sorted_desc[k]) / 2)


def f1_threshold(p: np.ndarray, truth: np.ndarray) -> float:
    """The threshold t maximising the F1 of `p > t` against the labels (the highest such t on ties;
    NaN without a positive label)."""
    truth = np.asarray(truth, bool)
    if not truth.any():
        return float("nan")
    order = np.argsort(-np.asarray(p), kind="stable")
    desc, hits = np.asarray(p)[order], np.cumsum(truth[order])
    ends = np.flatnonzero(np.r_[desc[1:] != desc[:-1], True])  # cut after each run of equal p
    f1 = 2 * hits[ends] / (ends + 1 + truth.sum())
    return _cut(desc, int(ends[np.argmax(f1)]) + 1)


def cross_validated(p: np.ndarray, truth: np.ndarray, folds: int = 5, seed: int = 0) -> dict[str, float]:
    """Scores of the F1 threshold without fitting and scoring on the same faces: each fold's
    verdicts at the threshold chosen on the other folds, pooled (random folds of `seed`)."""
    fold = np.random.default_rng(seed).permutation(len(p)) % folds
    said = np.zeros(len(p), bool)
    for k in range(folds):
        said[fold == k] = p[fold == k] > f1_threshold(p[fold != k], truth[fold != k])  # NaN: all no
    return scores(said, truth)


def rate_threshold(p: np.ndarray, rate: float) -> float:
    """The threshold whose yes rate on `p` is `rate` (as near as the ties allow)."""
    desc = np.sort(np.asarray(p))[::-1]
    return _cut(desc, round(float(rate) * len(desc)))


# ---------------------------------------------------------------------------------------------
# The check


@dataclasses.dataclass
class AttributeCheck:
    """The judge against the hand labels for one attribute, on the faces labelled 1 or 0."""

    n: int  # faces labelled 1 or 0
    uncertain: int  # faces labelled null, left out of every score
    labelled_rate: float  # of the n
    labelled_rate_bounds: list[float]  # over all the faces, the uncertain read as no / as yes
    auc: float  # ROC-AUC of the judge's probability
    calibration: list[dict]  # per probability bin: lo, hi, n, mean_p, observed
    thresholds: dict[str, float]  # "default" (the config's, 0.5), "f1" (chosen), "rate" (compared)
    scores: dict[str, dict]  # per threshold: rate, precision, recall, f1 on the n faces
    f1_cross_validated: dict[str, float]  # the F1 threshold's scores, chosen on other folds than scored
    uncertain_rates: dict[str, float]  # per threshold: the judge's rate on the uncertain faces
    sample_rates: dict[str, float]  # per threshold: the judge's rate on the larger sample


@dataclasses.dataclass
class JudgeResult(Result):
    """The judge checked on hand-labelled generated faces; saved as JSON by `result.save(path)`."""

    config: JudgeConfig
    model: str
    sha256: str
    sample: str  # the labelled faces: the exact call
    n: int  # faces labelled
    rate_sample: str  # the larger sample: the exact call
    classifier: dict  # its cache key and held-out ROC-AUC on real faces
    attributes: dict[str, AttributeCheck]
    seconds: float


def check_attribute(
    p: np.ndarray, labels: np.ndarray, p_sample: np.ndarray, threshold: float = 0.5, bins: int = 5, folds: int = 5
) -> AttributeCheck:
    """One attribute: `p` the judge's probabilities on the labelled faces, `labels` 1/0/NaN,
    `p_sample` its probabilities on the larger sample."""
    known = ~np.isnan(labels)
    p_k, truth = p[known], labels[known].astype(bool)
    thresholds = dict(
        default=threshold,
        # The chosen one. §6 uses the judge face by face: forgetting takes the faces it reads as
        # wearing glasses as its regression's positives, vector arithmetic asks whether each made
        # face reads as the target. So we want the threshold that best tells yes faces from no
        # faces, and F1 does that without being won by always saying "no" to a rare attribute (as
        # accuracy is). Matching the labelled rate ("rate") makes the rate right on these faces
        # by construction whatever faces it picks, and for Eyeglasses it is a quantile set by ~10
        # positives; it is reported beside, not used.
        f1=f1_threshold(p_k, truth),
        rate=rate_threshold(p_k, float(truth.mean())),
    )
    return AttributeCheck(
        n=int(known.sum()),
        uncertain=int((~known).sum()),
        labelled_rate=float(truth.mean()),
        labelled_rate_bounds=[float(truth.sum() / len(labels)), float((truth.sum() + (~known).sum()) / len(labels))],
        auc=roc_auc(p_k, truth),
        calibration=calibration(p_k, truth, bins),
        thresholds=thresholds,
        scores={k: scores(p_k > t, truth) for k, t in thresholds.items()},
        f1_cross_validated=cross_validated(p_k, truth, folds),
        uncertain_rates={
            k: float((p[~known] > t).mean()) if (~known).any() else float("nan") for k, t in thresholds.items()
        },
        sample_rates={k: float((p_sample > t).mean()) for k, t in thresholds.items()},
    )


def run(cfg: JudgeConfig | None = None, classifier=None) -> JudgeResult:
    """Load the labels, draw the same faces and a larger sample, and check the judge on each
    labelled attribute."""
    cfg = cfg or JudgeConfig.from_profile("cpu")
    t0 = time.perf_counter()
    ann = load_labels(cfg.model, cfg.annotations)
    G, _, _ = load_models(cfg.model)
    clf = classifier or load_classifier(AttributeConfig.from_profile(cfg.classifier, progress=False))
    p = clf.predict(labelled_faces(G, ann))
    p_sample = clf.predict(generate(G, cfg.rate_n, cfg.rate_seed))
    names = [name for name in LABELLED if name in ann["labels"]]
    checks = {
        name: check_attribute(
            p[:, clf.column(name)],
            label_array(ann, name),
            p_sample[:, clf.column(name)],
            cfg.threshold,
            cfg.bins,
            cfg.folds,
        )
        for name in names
    }
    return JudgeResult(
        config=cfg,
        model=cfg.model,
        sha256=ann["sha256"],
        n=ann["n"],
        sample=f"sample.generate(G, {ann['n']}, seed={ann['seed']}), G = pretrained.load_models({cfg.model!r})[0]",
        rate_sample=f"sample.generate(G, {cfg.rate_n}, seed={cfg.rate_seed})",
        classifier=dict(profile=cfg.classifier, key=clf.key, auc_real=dict(clf.scores.auc)),
        attributes=checks,
        seconds=time.perf_counter() - t0,
    )


def table(result: JudgeResult) -> str:
    """The check as a Markdown table, one row per attribute."""
    t0 = result.config.threshold
    rows = [
        (
            f"the judge on {result.n} hand-labelled faces of {result.model} ({result.sample}); "
            f"rates on {result.rate_sample}"
        ),
        "",
        (
            f"| attribute | labelled (n, uncertain) | judge at {t0} | precision / recall at {t0} | ROC-AUC | "
            f"F1 threshold → P / R (cross-validated) | rate-match threshold | "
            f"sample rate at {t0} → F1 thr. → rate thr. |"
        ),
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, c in result.attributes.items():
        d, f, cv, t, s = c.scores["default"], c.scores["f1"], c.f1_cross_validated, c.thresholds, c.sample_rates
        rows.append(
            f"| {name} | {c.labelled_rate:.1%} ({c.n}, {c.uncertain}) | {d['rate']:.1%} | "
            f"{d['precision']:.2f} / {d['recall']:.2f} | {c.auc:.3f} | {t['f1']:.3f} → "
            f"{f['precision']:.2f} / {f['recall']:.2f} ({cv['precision']:.2f} / {cv['recall']:.2f}) | "
            f"{t['rate']:.3f} | {s['default']:.1%} → {s['f1']:.1%} → {s['rate']:.1%} |"
        )
    return "\n".join(rows)


# ---------------------------------------------------------------------------------------------
# The validated judge: the thresholds §6 reads generated faces at


@dataclasses.dataclass
class Thresholds:
    """Per attribute, the probability above which §6 reads a generated face as having it, and how
    that reading agrees with the hand labels: the error to state beside a rate it gives."""

    values: dict[str, float]  # attribute → threshold; an attribute not here is read at DEFAULT (0.5)
    source: str  # where they come from, in words
    checks: dict[str, dict]  # per labelled attribute: n, positives, threshold, its scores on the labelled
    # faces ("fitted": chosen and scored there; "cross_validated"), and 0.5's

    def of(self, name: str) -> float:
        return self.values.get(name, DEFAULT)

    def says(self, p: np.ndarray, names: list[str], name: str) -> np.ndarray:
        """Whether each face (rows of the classifier's N×A probabilities `p`) is read as having `name`."""
        return p[:, names.index(name)] > self.of(name)


def validated(model: str, G, clf, path: str | Path | None = None) -> Thresholds:
    """The judge for `model`'s faces: each hand-labelled attribute at the threshold maximising F1
    on the labelled faces (`check_attribute` says why F1), read by `clf` (the classifier §6 uses, so
    a smoke classifier gets its own thresholds); 0.5 for every attribute where the model has no
    hand labels. A label file that exists but is malformed is an error, never skipped."""
    path = Path(path) if path else annotation_path(model_sha256(model), "faces")
    if not path.is_file():
        return Thresholds(
            {},
            f"not validated: no hand labels for {model}'s faces ({path} is missing), so every "
            f"attribute is read at {DEFAULT}",
            {},
        )
    ann = load_labels(model, path)
    p = clf.predict(labelled_faces(G, ann))
    values, checks = {}, {}
    for name in (n for n in LABELLED if n in ann["labels"] and n in clf.names):
        labels = label_array(ann, name)
        known = ~np.isnan(labels)
        p_k, truth = p[known, clf.column(name)], labels[known].astype(bool)
        t = f1_threshold(p_k, truth)
        if math.isnan(t):  # no face labelled with it: nothing to choose on
            continue
        values[name] = t
        checks[name] = dict(
            n=int(known.sum()),
            positives=int(truth.sum()),
            threshold=t,
            fitted=scores(p_k > t, truth),
            cross_validated=cross_validated(p_k, truth),
            at_default=scores(p_k > DEFAULT, truth),
        )
    return Thresholds(
        values,
        f"F1 thresholds on the {ann['n']} hand-labelled faces of {path.name[:12]}… "
        f"(annotations/faces), read by the classifier {clf.key or '(unnamed)'}",
        checks,
    )


def error_note(t: Thresholds, names) -> str:
    """One line: each attribute's threshold and its precision / recall on the hand-labelled faces."""
    if not t.checks:
        return t.source
    parts = []
    for name in names:
        c = t.checks.get(name)
        if c is None:
            parts.append(f"{name} at {DEFAULT} (no hand labels)")
        else:
            f, cv = c["fitted"], c["cross_validated"]
            parts.append(
                f"{name} at {c['threshold']:.3f}: precision {f['precision']:.2f}, recall {f['recall']:.2f} "
                f"on {c['n']} hand-labelled faces ({c['positives']} with it; cross-validated "
                f"{cv['precision']:.2f} / {cv['recall']:.2f})"
            )
    return "; ".join(parts)
