"""
# The judge on generated faces: §6.3's attribute classifier checked against hand labels

Radford, Metz & Chintala (2015), [arXiv 1511.06434](https://arxiv.org/abs/1511.06434), §6.3 judged
generated faces by eye. Our §6 numbers come from `attributes.py`'s classifier instead, trained and
scored on *real* CelebA faces only; generated faces are blurrier and stranger, and an independent
reader found it reading Eyeglasses on 2.3 % of zoo `celeba64` samples where it saw ~9 % (issue 28).
So the judge is checked here on the faces it judges:

- **Hand labels** — `annotations/faces/SHA256.json` (keyed by the model file's sha256 like
  `annotations/windows/`; loaded with `forgetting.load_annotations`): Eyeglasses, Smiling and Male
  for the `n` faces `sample.generate(G, n, seed)` of the model, each 1, 0 or null (uncertain).
  `contact_sheets` writes the numbered sheets they were labelled on; `annotations/README.md` says
  how, so that anyone can redo or check them.
- **Per attribute** (`run`), on the faces labelled 1 or 0: the judge's rate at `threshold` (0.5,
  the §6 modules' default) against the labelled rate, precision, recall, ROC-AUC, and a
  calibration table (probability bins against the labelled frequency).
- **A threshold chosen on generated faces** (ours) — the one maximising F1 on the labels, and, for
  comparison, the one whose rate matches the labelled rate; then the judge's rate at 0.5 and at both
  on a larger sample (`rate_n` faces of seed `rate_seed`), so the effect on a §6 rate is visible.
  Both are fitted on the same few hundred faces they are scored on: their precision and recall are
  optimistic, and with tens of positives the thresholds themselves are uncertain.

Not yet used by §6.3.1 (`forgetting.py`) or §6.3.2 (`vector_arithmetic.py`): they still read at 0.5.
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from .attributes import AttributeConfig, load_classifier, roc_auc
from .config import Config, option
from .data import DataError
from .files import atomic_write
from .forgetting import load_annotations, model_sha256
from .pretrained import load_models
from .results import Result
from .sample import generate

LABELLED = ("Eyeglasses", "Smiling", "Male")      # the attributes §6.3 reads; hand-labelled


@dataclasses.dataclass
class JudgeConfig(Config):
    """Which generator, which classifier, and the sizes of the check (all choices ours)."""
    model: str = option("zoo:celeba64", "the faces generator whose samples were hand-labelled")
    classifier: str = option("cpu", "profile of the attribute classifier (attributes.AttributeConfig)",
                             choices=("smoke", "cpu", "paper"))
    annotations: str | None = option(None, "a label file; None = annotations/faces/SHA256.json of the model")
    threshold: float = option(0.5, "the probability above which the judge says yes (the §6 modules' default)")
    bins: int = option(5, "equal-width probability bins of the calibration table", min=2)
    rate_n: int = option(1000, "faces of the larger sample the rates are compared on", min=1)
    rate_seed: int = option(123, "seed of that sample (sample.generate(G, rate_n, rate_seed))")

    PROFILES: ClassVar[dict[str, dict]] = {
        "smoke": dict(classifier="smoke", rate_n=200),   # seconds, once the classifier is cached
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


def contact_sheets(images: torch.Tensor, folder: str | Path, *, cols: int = 4, rows: int = 3,
                   size: int = 240, numbers=None) -> list[Path]:
    """Images in [-1, 1] as numbered PNG sheets folder/sheet-NN.png, rows×cols faces a sheet, each
    enlarged to size px (Lanczos) with its number (`numbers[i]`, default i) above it: what the
    labels were read from."""
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
            draw.text((x + 4, y), str(numbers[i]), fill="black", font=font)
            face = Image.fromarray(pixels[i]).resize((size, size), Image.Resampling.LANCZOS)
            sheet.paste(face, (x, y + band))
        path = Path(folder) / f"sheet-{s:02d}.png"
        paths.append(atomic_write(path, lambda tmp: sheet.save(tmp, format="png")))
    return paths
