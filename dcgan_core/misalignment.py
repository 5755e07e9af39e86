"""
# The misalignment of a face detector's crops (§4, §6.3.2's pixel control)

Radford, Metz & Chintala (2015), [arXiv 1511.06434](https://arxiv.org/abs/1511.06434), §4 (faces):
"We ran an OpenCV face detector on these images, keeping the detections that were sufficiently
high resolution". §6.3.2 (Figure 7): "Applying arithmetic in the input space … results in noisy
overlap due to misalignment". Our faces are CelebA's *aligned* crops (eyes at fixed places), which
removes that misalignment; to give the pixel control the misalignment the paper's faces had, we
measure how far the detector's own crop moves about the aligned face, and jitter exemplars by as much.

- **What is measured** — OpenCV's Haar frontal-face cascade (`haarcascade_frontalface_default.xml`,
  the detector of OpenCV's tutorials in 2015; scale factor 1.1, 5 neighbours) on the first `n` of
  the mirror's CelebA faces (`data.load_dataset`, `size`×`size`), the largest box per face. As the
  faces are aligned, the spread of the boxes across faces is the misalignment a detector crop
  carries: the std of the box centre (x and y, as a fraction of the box's size, about the median
  centre) and the std of log(box size). `face_fraction` is the median box size over the image size.
- **Roll** — the cascade finds only near-upright faces, so a detector crop can be rolled only as far
  as the detector still finds it: each face is rotated by ±k degrees (k in steps of `roll_step`)
  and `roll_max` is the largest k at which it still finds more than half of them at both signs.
  Within it roll is drawn uniformly (ours: the roll of faces in the wild is not known offline; a
  uniform roll is the most a detector crop can carry, an upper bound).
- **Applied** (`jitter`) — each image is resampled (`torch.nn.functional.grid_sample`, bilinear)
  shifted by N(0, σ) × the face's size in x and y, scaled by exp(N(0, σ_log)) and rolled by
  U[−roll_max, roll_max]; pixels that come in from outside repeat the image's edge
  (`padding_mode="border"`: no black corners for a classifier to read).
- **Cached** — the roll sweep runs the cascade on every face at every angle, so `measure_misalignment` keeps it
  as a small JSON in the data cache folder (`data.cache_root()/cache/misalignment-KEY.json`), KEY
  hashing the settings and the OpenCV version.

The Haar cascades left OpenCV's main package in OpenCV 5: we need `opencv-python<5`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .data import DataError, cache_root, load_dataset
from .files import read_json, write_json

CASCADE = "haarcascade_frontalface_default.xml"
_CACHE_VERSION = 1  # bump when the measurement changes: cached measurements are keyed by it


@dataclasses.dataclass
class Misalignment:
    """How far a face detector's crop moves about the aligned face (the jitter's amounts)."""

    shift_x: float  # std of the box centre's x, as a fraction of the box's size
    shift_y: float  # … and of its y
    log_scale: float  # std of log(box size)
    roll_max: float  # degrees: the largest roll at which the detector finds most faces
    face_fraction: float  # median box size / image size (converts shifts to image pixels)
    faces: int  # faces the detector ran on
    detected: int  # … and found a face in (upright)
    roll_rates: dict[str, float]  # "k": fraction found, the lower of +k and −k degrees
    source: str  # what was measured, in words

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _cascade():
    """The detector; a `DataError` (one line at the CLI) where this OpenCV lacks it."""
    import cv2

    if not hasattr(cv2, "CascadeClassifier"):
        raise DataError(
            f"OpenCV {cv2.__version__} has no Haar cascades (they left the main package in OpenCV 5): "
            f"pip install 'opencv-python<5' (pyproject.toml lists it)"
        )
    cascade = cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / CASCADE))
    if cascade.empty():
        raise DataError(f"OpenCV {cv2.__version__} could not load {CASCADE} from {cv2.data.haarcascades}")
    return cascade


def detect(gray: list[np.ndarray], cascade=None) -> np.ndarray:
    """The largest face box (x, y, w, h) per grayscale image, NaN where none is found (N×4)."""
    import cv2  # noqa: F401  (the cascade's module)

    cascade = cascade or _cascade()
    out = np.full((len(gray), 4), np.nan)
    for i, g in enumerate(gray):
        size = g.shape[0]
        # boxes of a third of the image and up: the aligned face fills most of it (`face_fraction`),
        # so smaller ones are false detections (and skipping their scales makes the cascade fast)
        boxes = cascade.detectMultiScale(g, scaleFactor=1.1, minNeighbors=5, minSize=(size // 3, size // 3))
        if len(boxes):
            out[i] = max(boxes, key=lambda b: b[2] * b[3])
    return out


def _gray(images: torch.Tensor) -> list[np.ndarray]:
    """uint8 N×3×H×W RGB → grayscale H×W arrays (OpenCV's weights)."""
    import cv2

    return [cv2.cvtColor(np.ascontiguousarray(im.permute(1, 2, 0).numpy()), cv2.COLOR_RGB2GRAY) for im in images]


def _rotate(gray: list[np.ndarray], degrees: float) -> list[np.ndarray]:
    import cv2

    out = []
    for g in gray:
        m = cv2.getRotationMatrix2D((g.shape[1] / 2, g.shape[0] / 2), degrees, 1.0)
        out.append(cv2.warpAffine(g, m, (g.shape[1], g.shape[0]), borderMode=cv2.BORDER_REPLICATE))
    return out


def measure(
    images: torch.Tensor, roll_faces: int = 100, roll_step: int = 5, roll_limit: int = 45, source: str = ""
) -> Misalignment:
    """The detector's misalignment on aligned faces (uint8 N×3×H×W): box spread on all of them,
    the roll range on the first `roll_faces`."""
    cascade = _cascade()
    gray = _gray(images)
    boxes = detect(gray, cascade)
    found = boxes[~np.isnan(boxes[:, 0])]
    if len(found) < 10:
        raise DataError(f"the face detector found only {len(found)} of {len(images)} faces: too few to measure")
    w = found[:, 2]
    cx, cy = found[:, 0] + w / 2, found[:, 1] + found[:, 3] / 2
    rates, roll_max = {}, 0.0
    few = gray[:roll_faces]
    for k in range(roll_step, roll_limit + 1, roll_step):
        rate = min(float((~np.isnan(detect(_rotate(few, s * k), cascade)[:, 0])).mean()) for s in (1, -1))
        rates[str(k)] = rate
        if rate <= 0.5:  # "most faces": more than half, at both signs
            break
        roll_max = float(k)
    return Misalignment(
        shift_x=float(np.std((cx - np.median(cx)) / w)),
        shift_y=float(np.std((cy - np.median(cy)) / w)),
        log_scale=float(np.std(np.log(w))),
        roll_max=roll_max,
        face_fraction=float(np.median(w) / images.shape[-1]),
        faces=len(images),
        detected=len(found),
        roll_rates=rates,
        source=source,
    )


def measure_misalignment(
    n: int = 300, size: int = 128, cache_dir: str | Path | None = None, progress: bool = False
) -> Misalignment:
    """`measure` on the first `n` CelebA faces at `size`×`size` (the detector needs the pixels:
    at 64 the face is near its smallest window), from the cache when measured before."""
    import cv2

    settings = dict(n=n, size=size, cascade=CASCADE, opencv=cv2.__version__, version=_CACHE_VERSION)
    key = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
    path = cache_root(cache_dir) / "cache" / f"misalignment-{key}.json"
    if path.exists():
        return Misalignment(**read_json(path, "misalignment cache"))
    faces = load_dataset("celeba", size, limit=n, cache_dir=cache_dir, progress=progress).images
    m = measure(
        faces, source=f"OpenCV {cv2.__version__} {CASCADE} on the first {n} CelebA aligned faces at {size}×{size}"
    )
    write_json(path, m.to_dict())
    return m


def jitter(images: torch.Tensor, m: Misalignment, gen: torch.Generator) -> torch.Tensor:
    """Each image (N×C×H×W) shifted, scaled and rolled by one draw of `m`'s amounts, the edge repeated."""
    n = len(images)
    face = 2 * m.face_fraction  # the face's size in grid units ([-1, 1] spans the image)
    shift = torch.randn(n, 2, generator=gen) * torch.tensor([m.shift_x, m.shift_y]) * face
    scale = torch.exp(torch.randn(n, generator=gen) * m.log_scale)
    roll = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(m.roll_max)
    cos, sin = torch.cos(roll) / scale, torch.sin(roll) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta.to(images.dtype), list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)
