"""
# Hand-made labels of generated samples: files keyed by the model file's sha256 and each sample's seed

§6.3.1: "52 window bounding boxes were drawn manually" on generated bedrooms. Such labels belong to one
model file (its samples) and to the noise seed of each sample, so they are stored as
`annotations/CONCEPT/SHA256.json` (tracked: they are hand work) with the sample of seed s being
`sample_for_seed(G, [s])`. `forgetting` (window boxes), `guided_backprop` (saliency in the boxes), `judge`
(attribute labels of generated faces) and the zoo's cards read them; `widgets.box_annotator` draws boxes
(`to_widget_boxes`/`from_widget_boxes` convert them to and from its widget).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from .data import REPO_ROOT, DataError
from .files import read_json, write_json
from .models import Generator, eval_mode, sample_z
from .pretrained import model_sha256

ANNOTATIONS_DIR = REPO_ROOT / "annotations"


def annotation_path(sha: str, concept: str = "windows", root: str | Path = ANNOTATIONS_DIR) -> Path:
    return Path(root) / concept / f"{sha}.json"


def sample_for_seed(G: Generator, seeds, drop: dict | None = None) -> torch.Tensor:
    """The annotated samples: sample s is G(z) for z drawn from seed s alone (one z per seed)."""
    device = next(G.parameters()).device
    z = torch.cat([sample_z(1, G.nz, torch.Generator().manual_seed(int(s))) for s in seeds]).to(device)
    with torch.no_grad(), eval_mode(G):
        return G(z, drop=drop).float().cpu()


def new_annotations(model: str, concept: str = "windows", image_size: int = 64) -> dict:
    return dict(
        concept=concept,
        model=model,
        sha256=model_sha256(model),
        image_size=image_size,
        box_format="[x0, y0, x1, y1] in pixels of the image_size×image_size sample, x1 and y1 exclusive",
        sample="sample.generate(G, 1, seed) (annotations.sample_for_seed)",
        samples={},
    )


def load_annotations(model: str, concept: str = "windows", path: str | Path | None = None, check=None) -> dict:
    """The labels made on `model`'s samples (the file matching the model's sha256), or one clear
    error saying how to make them when there are none for this model. `check(ann, path)` checks the
    rest of the file (default: `check_annotations`, boxes)."""
    sha = model_sha256(model)
    path = Path(path) if path else annotation_path(sha, concept)
    if not path.is_file():
        others = sorted(p.stem[:12] for p in path.parent.glob("*.json")) if path.parent.is_dir() else []
        raise DataError(
            f"no {concept} annotations for {model} (sha256 {sha[:12]}…): {path} is missing"
            + (f" (there are some for other model files: {', '.join(others)})" if others else "")
            + "; draw them with widgets.box_annotator (notebook 06) and save"
        )
    ann = read_json(path, "annotation file")
    # boxes for another model file: said first, as the rest of the file does not matter then
    if isinstance(ann, dict) and isinstance(ann.get("sha256"), str) and ann["sha256"] != sha:
        raise DataError(
            f"{path} holds labels for the model file with sha256 {ann['sha256'][:12]}…, "
            f"not {model}'s ({sha[:12]}…): the samples differ, make them again"
        )
    return (check or check_annotations)(ann, path)


def check_annotations(ann, path: str | Path) -> dict:
    """`ann` if it is an annotation file the experiment can use (`new_annotations`' fields; every box
    [x0, y0, x1, y1] with 0 ≤ x0 < x1 ≤ image_size, the same for y), else one DataError naming the
    file and the field."""

    def bad(field: str, what: str):
        return DataError(
            f"{path}: {field} {what}; an annotation file holds sha256, image_size and samples "
            f"{{seed: [[x0, y0, x1, y1], …]}} (widgets.box_annotator writes one)"
        )

    if not isinstance(ann, dict):
        raise bad("the file", f"holds {json.dumps(ann)[:40]}, not a JSON object")
    for field, typ, name in (
        ("sha256", str, "a string"),
        ("image_size", int, "an integer"),
        ("samples", dict, "an object"),
    ):
        if field not in ann:
            raise bad(field, "is missing")
        if not isinstance(ann[field], typ) or isinstance(ann[field], bool):
            raise bad(field, f"must be {name}, got {json.dumps(ann[field])[:40]}")
    size = ann["image_size"]
    if size < 1:
        raise bad("image_size", f"must be the samples' size in pixels (≥ 1), got {size}")
    for seed, boxes in ann["samples"].items():
        if not seed.isdigit():
            raise bad(f"samples key {seed!r}", "is not a noise seed (an integer)")
        if not isinstance(boxes, list):
            raise bad(f"samples[{seed!r}]", f"must be a list of boxes, got {json.dumps(boxes)[:40]}")
        for i, box in enumerate(boxes):
            ok = (
                isinstance(box, list)
                and len(box) == 4
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in box)
            )
            if not ok or not (0 <= box[0] < box[2] <= size and 0 <= box[1] < box[3] <= size):
                raise bad(
                    f"samples[{seed!r}][{i}]",
                    f"= {json.dumps(box)[:40]} is not a box in the {size}×{size} "
                    f"image (0 ≤ x0 < x1 ≤ {size}, 0 ≤ y0 < y1 ≤ {size})",
                )
    return ann


def save_annotations(ann: dict, root: str | Path = ANNOTATIONS_DIR) -> Path:
    return write_json(annotation_path(ann["sha256"], ann["concept"], root), ann, indent=1)


# ---------------------------------------------------------------------------------------------
# The annotation widget's conversions (widgets.box_annotator): boxes drawn on a sample enlarged
# `scale` times, as jupyter-bbox-widget's {"x", "y", "width", "height", "label"} dicts


def to_widget_boxes(boxes: list, scale: float, label: str = "window") -> list[dict]:
    return [
        dict(x=x0 * scale, y=y0 * scale, width=(x1 - x0) * scale, height=(y1 - y0) * scale, label=label)
        for x0, y0, x1, y1 in boxes
    ]


def from_widget_boxes(bboxes: list[dict], scale: float, image_size: int) -> list[list[int]]:
    """The widget's boxes as [x0, y0, x1, y1] in sample pixels, rounded and clipped to the image;
    empty boxes are left out."""
    out = []
    for b in bboxes:
        x0, y0 = b["x"] / scale, b["y"] / scale
        x1, y1 = x0 + b["width"] / scale, y0 + b["height"] / scale
        box = [int(round(min(max(v, 0), image_size))) for v in (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))]
        if box[2] > box[0] and box[3] > box[1]:
            out.append(box)
    return out
