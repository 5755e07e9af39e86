"""
# Pose: how far a face is turned, measured and checked on hand-sorted real faces (§6.3.2, Figure 8)

Radford, Metz & Chintala (2015), [arXiv 1511.06434](https://arxiv.org/abs/1511.06434), §6.3.2,
Figure 8, built a "turn" vector "from four averaged samples of faces looking left vs looking right",
picked by eye. To pick them by a measure, and to measure whether z + α·turn turns a face
(`turn.py`), we need a pose measure that orders faces as an eye would. This module holds the
candidates (all ours) and their check on real faces:

- **Hand-sorted real faces** — `annotations/pose/celeba.json`: 200 aligned CelebA faces (64×64,
  `data.load_dataset("celeba", 64)`), keyed by their CelebA file names, each labelled by eye on
  an ordinal yaw scale −2 … +2 (+ = the face turned towards the image's right; null = unsure).
  `annotations/README.md` says how they were chosen and labelled. `load_labels` checks the file.
- **Cues** — CelebA's crops are aligned on the eyes, so a turned head leaves the eyes in place and
  moves the rest of the face sideways: the cheek on the side the face turns to narrows behind the
  eye, the other widens, and the nose and mouth move towards the turn.
  `face_offset`: minus the horizontal centroid (px) of the skin between brow and chin, skin being the
  pixels near the colour of the nose bridge; `nose_offset`: the horizontal centroid (px) of the dark
  pixels (nostrils, mouth) of the nose-to-mouth band. `symmetry_axis` is the measure `turn.py` used
  first: the offset of the face's mirror-symmetry axis.
- **`pose`** — the mean of the two cues, each divided by about its spread over real faces. Every
  measure here is antisymmetric under mirroring (a mirrored face gets −pose) and 0 for a
  mirror-symmetric face.
- **Checked** (`validate`) — Spearman ρ of each measure against the hand labels, on all labelled faces
  and on the turned ones only, with a bootstrap standard error; and, to see whether a fit does
  better, the cross-validated ρ of a least-squares combination of the cues fitted on 4/5 of the faces;
  and how far a second labelling pass on some of the faces agrees with the first.
  The measure is chosen by ρ on the labels: `pose`'s cues and their bands were set from the
  average face's geometry and a few settings tried on these labels, and `pose` is the combination
  because two cues tie with the best single one on the labels while averaging out each other's
  noise along a turned row (the result's numbers say how far they are apart). `turn.py` puts the
  check into its result.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch

from .annotations import ANNOTATIONS_DIR
from .data import DataError
from .files import read_json

POSE_LABELS = ANNOTATIONS_DIR / "pose" / "celeba.json"
YAW = (-2, -1, 0, 1, 2)  # the label scale: −2 strongly to the image's left … +2 strongly to its right

# The cues' bands (rows, columns of the 64×64 crop). In CelebA's aligned crops as the loader cuts them
# the eyes sit near row 33 (columns 25 and 39), the nose tip near row 41, the mouth near row 47.
SKIN_PATCH = (30, 46, 26, 38)  # nose bridge and inner cheeks: the face's own skin colour
SKIN_DISTANCE = 0.36  # RGB distance (images in [−1, 1]) within which a pixel is skin
FACE_ROWS = (24, 56)  # brow to chin
NOSE_ROWS, NOSE_COLS = (38, 50), (26, 38)  # nostrils to mouth, the central columns
FACE_SCALE, NOSE_SCALE = 4.0, 1.0  # px: about each cue's spread over real faces (equal weights)

SYMMETRY_ROWS = (20, 60)  # eyes to chin
SYMMETRY_COLS = (20, 44)  # the central columns compared with the mirror image (shifted by up to ±20)
SYMMETRY_MAX_SHIFT = 20  # pixels: the symmetry axis is searched within ±10 px of the centre

_COLS = np.arange(64) - 31.5  # a column's offset from the image's vertical centre line


def _unit(images) -> np.ndarray:
    """N×3×64×64 float in [−1, 1] (uint8 images are converted)."""
    x = torch.as_tensor(images)
    x = x.float() / 127.5 - 1 if x.dtype == torch.uint8 else x.float()
    if x.ndim != 4 or tuple(x.shape[1:]) != (3, 64, 64):
        raise ValueError(f"pose reads N×3×64×64 faces, got shape {tuple(x.shape)}")
    return x.detach().cpu().numpy()


def face_offset(images) -> np.ndarray:
    """Minus the horizontal centroid (px from the centre line) of the skin between brow and chin:
    + where the face is turned towards the image's right (its visible area then lies left of the eyes)."""
    x = _unit(images)
    r0, r1, c0, c1 = SKIN_PATCH
    ref = np.median(x[:, :, r0:r1, c0:c1].reshape(len(x), 3, -1), -1)  # N×3 skin colour
    skin = np.sqrt(((x - ref[:, :, None, None]) ** 2).sum(1)) < SKIN_DISTANCE  # N×64×64
    s = skin[:, FACE_ROWS[0] : FACE_ROWS[1]].astype(np.float64)
    return -(s * _COLS).sum((1, 2)) / (s.sum((1, 2)) + 1e-6)


def nose_offset(images) -> np.ndarray:
    """The horizontal centroid (px from the centre line) of the dark pixels of the nose-to-mouth band
    (squared darkness below the band's brightest pixel): + where nostrils and mouth lie right of centre."""
    gray = _unit(images).mean(1)[:, NOSE_ROWS[0] : NOSE_ROWS[1], NOSE_COLS[0] : NOSE_COLS[1]]
    dark = (gray.max((1, 2), keepdims=True) - gray).astype(np.float64) ** 2
    return (dark * _COLS[NOSE_COLS[0] : NOSE_COLS[1]]).sum((1, 2)) / (dark.sum((1, 2)) + 1e-8)


def pose(images) -> np.ndarray:
    """How far each face is turned, + towards the image's right: the mean of `face_offset` and
    `nose_offset`, each divided by about its spread over real faces (unitless)."""
    return (face_offset(images) / FACE_SCALE + nose_offset(images) / NOSE_SCALE) / 2


def symmetry_axis(images: torch.Tensor) -> np.ndarray:
    """The horizontal offset (pixels, + = to the image's right) of each face's mirror-symmetry axis
    from the image centre: half the shift s that best aligns the face's centre band with its mirror
    (normalised correlation, sub-pixel by a parabola through the best three shifts)."""
    x = torch.as_tensor(_unit(images))
    gray = x.mean(1)[:, SYMMETRY_ROWS[0] : SYMMETRY_ROWS[1]]  # N×rows×64
    mirror = gray.flip(-1)
    c0, c1 = SYMMETRY_COLS
    a = gray[..., c0:c1]
    a = a - a.mean((-2, -1), keepdim=True)
    shifts = range(-SYMMETRY_MAX_SHIFT, SYMMETRY_MAX_SHIFT + 1)
    scores = []
    for s in shifts:  # the mirror's column c − s against the face's column c
        b = mirror[..., c0 - s : c1 - s]
        b = b - b.mean((-2, -1), keepdim=True)
        scores.append((a * b).sum((-2, -1)) / (a.norm(dim=(-2, -1)) * b.norm(dim=(-2, -1)) + 1e-8))
    scores = torch.stack(scores, 1).numpy()  # N×shifts
    best = scores.argmax(1)
    inner = np.clip(best, 1, len(shifts) - 2)
    left, mid, right = (scores[np.arange(len(best)), inner + d] for d in (-1, 0, 1))
    denom = left - 2 * mid + right
    frac = np.where((best == inner) & (denom < 0), 0.5 * (left - right) / np.where(denom == 0, -1, denom), 0.0)
    return (best - SYMMETRY_MAX_SHIFT + frac) / 2.0


MEASURES = {"pose": pose, "face_offset": face_offset, "nose_offset": nose_offset, "symmetry_axis": symmetry_axis}
CUES = ("face_offset", "nose_offset", "symmetry_axis")  # what the least-squares fit combines


def spearman(x, y) -> float:
    """Spearman's rank correlation (NaN where x or y is constant)."""
    from scipy.stats import spearmanr

    if np.ptp(np.asarray(x, dtype=float)) == 0 or np.ptp(np.asarray(y, dtype=float)) == 0:
        return float("nan")
    return float(spearmanr(x, y).statistic)


# ---------------------------------------------------------------------------------------------
# The hand-sorted real faces


def load_labels(path: str | Path = POSE_LABELS) -> dict:
    """The yaw labels of real CelebA faces (`annotations/pose/celeba.json`), checked (`check_labels`)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no pose labels: {path} is missing; faces are sorted by eye, see annotations/README.md")
    try:
        ann = read_json(path, "pose label file")
    except ValueError as e:
        raise DataError(str(e)) from None
    return check_labels(ann, path)


def check_labels(ann, path: str | Path) -> dict:
    """`ann` if it is a pose label file (`dataset` "celeba", `image_size` 64, `labels` {CelebA file
    name: −2 … 2 or null}), else one DataError naming the file and the field."""

    def bad(field: str, what: str):
        return DataError(
            f'{path}: {field} {what}; a pose label file holds dataset "celeba", image_size 64 and '
            f'labels {{"000123.jpg": -2, -1, 0, 1, 2 or null}} (annotations/README.md)'
        )

    if not isinstance(ann, dict):
        raise bad("the file", "is not a JSON object")
    if ann.get("dataset") != "celeba":
        raise bad("dataset", f'must be "celeba", got {ann.get("dataset")!r}')
    if ann.get("image_size") != 64:
        raise bad(
            "image_size", f"must be 64 (the loader's size the faces were sorted at), got {ann.get('image_size')!r}"
        )
    for field in ("labels", "relabel"):
        labels = ann.get(field)
        if field == "relabel" and labels is None:
            continue  # the second pass is optional
        if not isinstance(labels, dict) or not labels:
            raise bad(field, "must be a non-empty object")
        for name, v in labels.items():
            if not (isinstance(name, str) and name.endswith(".jpg")):
                raise bad(f"{field} key {name!r}", 'is not a CelebA file name (e.g. "000123.jpg")')
            if field == "relabel" and name not in ann["labels"]:
                raise bad(f"relabel key {name!r}", "is not among the labelled faces")
            if v is not None and (isinstance(v, bool) or v not in YAW):
                raise bad(f"{field}[{name!r}]", f"= {v!r} is not one of -2, -1, 0, 1, 2 or null")
    return ann


def labelled_faces(ann: dict, data=None) -> tuple[torch.Tensor, np.ndarray]:
    """The labelled faces as N×3×64×64 in [−1, 1] (from `data`, default the CelebA the package loads)
    and their labels (NaN where null), in the file's order."""
    if data is None:
        from .data import load_dataset

        data = load_dataset("celeba", 64, progress=False)
    where = {name: i for i, name in enumerate(data.ids)}
    missing = [name for name in ann["labels"] if name not in where]
    if missing:
        raise DataError(
            f"the pose labels name faces the loaded CelebA lacks ({len(missing)}, e.g. {missing[0]}): "
            f"the labels were made on the first 10,000 aligned faces"
        )
    index = torch.as_tensor([where[name] for name in ann["labels"]])
    y = np.array([np.nan if v is None else float(v) for v in ann["labels"].values()])
    return data.batch(index), y


# ---------------------------------------------------------------------------------------------
# The check


@dataclasses.dataclass
class PoseValidation:
    """Each pose measure against the hand-sorted real faces."""

    measure: str  # the one `turn.py` uses
    n: int  # faces with a label (not null)
    n_turned: int  # of them, labelled other than 0
    n_null: int
    rho: float  # Spearman ρ of `measure` against the labels
    rho_se: float  # its bootstrap standard error
    rho_turned: float  # ρ on the turned faces only (does it tell left from right?)
    candidates: dict[str, dict]  # per measure: rho, rho_se, rho_turned
    rho_fitted_cv: float  # a least-squares combination of CUES, cross-validated
    labels_file: str
    relabel_n: int = 0  # faces labelled twice (the file's `relabel`), both times not null
    relabel_agreement: float = float("nan")  # of them, the fraction given the same label
    relabel_rho: float = float("nan")  # Spearman ρ between the two passes


def _rho_and_se(m: np.ndarray, y: np.ndarray, reps: int = 500, seed: int = 0) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    boot = [spearman(m[i], y[i]) for i in (rng.integers(0, len(y), len(y)) for _ in range(reps))]
    return spearman(m, y), float(np.nanstd(boot))


def fitted_cv(cues: np.ndarray, y: np.ndarray, folds: int = 5, repeats: int = 10, seed: int = 0) -> float:
    """Mean over `repeats` shuffles of the Spearman ρ of a least-squares combination of `cues` (N×k),
    each face predicted by the fit on the other folds (no intercept: the combination stays antisymmetric)."""
    rng, out = np.random.default_rng(seed), []
    cues = cues / (cues.std(0) + 1e-12)
    for _ in range(repeats):
        perm, pred = rng.permutation(len(y)), np.zeros(len(y))
        for f in range(folds):
            test = perm[f::folds]
            train = np.setdiff1d(perm, test)
            w = np.linalg.lstsq(cues[train], y[train], rcond=None)[0]
            pred[test] = cues[test] @ w
        out.append(spearman(pred, y))
    return float(np.mean(out))


def validate(path: str | Path = POSE_LABELS, data=None, measure: str = "pose") -> PoseValidation:
    """Score every measure in MEASURES against the hand labels in `path`."""
    ann = load_labels(path)
    images, y = labelled_faces(ann, data)
    ok = ~np.isnan(y)
    turned = ok & (y != 0)
    values = {name: f(images) for name, f in MEASURES.items()}
    candidates = {}
    for name, m in values.items():
        rho, se = _rho_and_se(m[ok], y[ok])
        candidates[name] = dict(rho=rho, rho_se=se, rho_turned=spearman(m[turned], y[turned]))
    cues = np.stack([values[c][ok] for c in CUES], 1)
    best = candidates[measure]
    twice = [
        (ann["labels"][k], v)
        for k, v in ann.get("relabel", {}).items()
        if v is not None and ann["labels"][k] is not None
    ]
    a, b = (np.array(x, dtype=float) for x in zip(*twice)) if twice else (np.zeros(0), np.zeros(0))
    return PoseValidation(
        relabel_n=len(twice),
        relabel_agreement=float(np.mean(a == b)) if twice else float("nan"),
        relabel_rho=spearman(a, b) if twice else float("nan"),
        measure=measure,
        n=int(ok.sum()),
        n_turned=int(turned.sum()),
        n_null=int((~ok).sum()),
        rho=best["rho"],
        rho_se=best["rho_se"],
        rho_turned=best["rho_turned"],
        candidates=candidates,
        rho_fitted_cv=fitted_cv(cues, y[ok]),
        labels_file=_shown(Path(path)),
    )


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ANNOTATIONS_DIR.parent))
    except ValueError:
        return str(path)


def table(v: PoseValidation) -> str:
    """Markdown: each measure's ρ against the hand-sorted faces."""
    rows = [
        f"Pose measures against {v.n} hand-sorted real CelebA faces ({v.n_turned} turned, {v.n_null} unsure "
        f"left out); `{v.measure}` is used",
        "",
        "| measure | Spearman ρ (± bootstrap s.e.) | ρ on the turned faces |",
        "|---|---|---|",
    ]
    rows += [
        f"| {name} | {c['rho']:.3f} ± {c['rho_se']:.3f} | {c['rho_turned']:.3f} |" for name, c in v.candidates.items()
    ]
    rows.append(f"| least-squares fit of {', '.join(CUES)} (cross-validated) | {v.rho_fitted_cv:.3f} | |")
    if v.relabel_n:
        rows.append(
            f"| the labeller again, on {v.relabel_n} of the faces (same label: {v.relabel_agreement:.0%}) "
            f"| {v.relabel_rho:.3f} | |"
        )
    return "\n".join(rows)
