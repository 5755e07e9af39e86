"""Hostile inputs to §6's commands (issue 29): `forget`'s annotation file, `arithmetic`'s sizes,
models the face judge cannot read, too few exemplars, notebook parameters papermill cannot parse.
Each is one line on stderr, exit 2 and nothing written (CLI), or one clear error (direct calls)."""

import ast
import json
import logging
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

from dcgan_core.annotations import annotation_path, load_annotations
from dcgan_core.attributes import require_face_model
from dcgan_core.concepts import EQUATIONS, pick_candidates
from dcgan_core.data import DataError
from dcgan_core.forgetting import ForgettingConfig, run_windows
from dcgan_core.models import Generator, init_weights
from dcgan_core.pretrained import model_sha256
from dcgan_core.train import TrainConfig
from dcgan_core.vector_arithmetic import ArithmeticConfig, success_rates

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "dcgan_core", *args], capture_output=True, text=True, timeout=300)


def _one_error_line(p, *words):
    """Exit 2, nothing on stdout, exactly one line on stderr: `error: …` holding every word."""
    assert p.returncode == 2 and p.stdout == "", (p.returncode, p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), p.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


# ---------------------------------------------------------------------------------------------
# 1. forget --annotations FILE: one validation of the file, naming the file and the field


@pytest.fixture(scope="module")
def shipped():
    """The shipped window boxes of zoo:scenes64 (64×64 samples)."""
    return load_annotations("zoo:scenes64")


def _bad_files(ann: dict) -> dict:
    inverted = {**ann, "samples": {**ann["samples"], "7": [[40, 3, 20, 9]]}}  # x1 < x0
    at_32 = {**ann, "image_size": 32}  # the 64-px boxes said to be on 32-px samples: outside
    return {
        "[]": ([], "the file"),
        '"a"': ("a", "the file"),
        "no samples": ({k: v for k, v in ann.items() if k != "samples"}, "samples is missing"),
        "image_size 0": ({**ann, "image_size": 0}, "image_size must be"),
        "inverted box": (inverted, "samples['7'][0] = [40, 3, 20, 9] is not a box in the 64×64 image"),
        "32 px boxes": (at_32, "is not a box in the 32×32 image"),
    }


@pytest.mark.parametrize("case", ["[]", '"a"', "no samples", "image_size 0", "inverted box", "32 px boxes"])
def test_malformed_annotation_file_is_one_error_naming_file_and_field(shipped, tmp_path, case):
    content, words = _bad_files(shipped)[case]
    path = tmp_path / "boxes.json"
    path.write_text(json.dumps(content))
    with pytest.raises(DataError) as e:
        load_annotations("zoo:scenes64", path=path)
    assert str(e.value).startswith(f"{path}: ") and words in str(e.value) and "\n" not in str(e.value), e.value


def test_annotations_for_another_image_size_are_refused(shipped, tmp_path):
    """Boxes inside a 32×32 image, keyed by the 64-px model's file: drawn on other samples, not rescaled."""
    path = tmp_path / "boxes32.json"
    path.write_text(
        json.dumps(
            {
                **shipped,
                "image_size": 32,
                "samples": {s: [[v // 2 for v in b] for b in bs] for s, bs in shipped["samples"].items()},
            }
        )
    )
    with pytest.raises(DataError, match=r"boxes32\.json: image_size 32, but zoo:scenes64 draws 64×64 samples"):
        run_windows(ForgettingConfig.from_profile("smoke", annotations=str(path)))


def test_cli_forget_inverted_boxes_is_one_line(shipped, tmp_path):
    path = tmp_path / "inverted.json"
    path.write_text(json.dumps(_bad_files(shipped)["inverted box"][0]))
    _one_error_line(
        _cli("forget", "--profile", "smoke", "--annotations", str(path)),
        str(path),
        "samples['7'][0]",
        "0 ≤ x0 < x1 ≤ 64",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inverted.json"]
    assert annotation_path(model_sha256("zoo:scenes64")).is_file()  # the shipped file is untouched


def test_annotations_with_eyeglasses_are_refused():
    with pytest.raises(ValueError, match="annotations are window boxes"):
        ForgettingConfig(concept="eyeglasses", annotations="boxes.json")


# ---------------------------------------------------------------------------------------------
# 2. arithmetic --pool / --trials: capped, the cap and the reason in the message, before any work


@pytest.mark.parametrize(
    "flag, words",
    [
        ("--pool", ("pool must be at most 20,000", "held in memory")),
        ("--trials", ("trials must be at most 1,000", "held in memory")),
    ],
)
def test_cli_arithmetic_refuses_sizes_above_the_cap(tmp_path, flag, words):
    out = tmp_path / "out"
    _one_error_line(_cli("arithmetic", flag, "10000000", "--classifier", "smoke", "--out", str(out)), *words)
    assert not out.exists()
    ArithmeticConfig(pool=20_000, trials=1_000)  # the caps themselves are fine


# ---------------------------------------------------------------------------------------------
# 3, 4. Models the face judge cannot read: not faces, class-conditional, not 64×64; windows on faces


def test_cli_arithmetic_refuses_a_scenes_model(tmp_path):
    _one_error_line(
        _cli("arithmetic", "--model", "zoo:scenes64", "--classifier", "smoke", "--out", str(tmp_path / "o")),
        "trained on scenes, not faces",
        "zoo:celeba64",
    )
    assert not (tmp_path / "o").exists()


def test_cli_forget_eyeglasses_refuses_a_scenes_model():
    _one_error_line(
        _cli("forget", "--concept", "eyeglasses", "--faces-model", "zoo:scenes64", "--profile", "smoke"),
        "eyeglasses (§6.3.1) reads face attributes",
        "zoo:scenes64 was trained on scenes",
        "zoo:celeba64",
    )


def test_cli_arithmetic_refuses_a_class_conditional_model():
    _one_error_line(
        _cli("arithmetic", "--model", "zoo:mnist-conditional", "--classifier", "smoke"),
        "vector arithmetic (§6.3.2) is not supported on a class-conditional model",
        "zoo:celeba64",
    )


def test_windows_on_a_face_model_and_faces_at_32px_are_refused():
    with pytest.raises(ValueError, match="windows: zoo:celeba64 draws faces .* no windows; use a rooms model"):
        run_windows(ForgettingConfig.from_profile("smoke", windows_model="zoo:celeba64"))
    small = TrainConfig.from_profile("smoke")  # celeba at 32×32
    with pytest.raises(ValueError, match="reads 64×64 RGB faces, and run draws 32×32"):
        require_face_model("run", small, "vector arithmetic")
    require_face_model("run", small.replace(image_size=64), "vector arithmetic")


# ---------------------------------------------------------------------------------------------
# 5. Too few faces read as a concept: refused below 3, reported (result and a warning) below `candidates`

NAMES = ["Smiling", "Male", "Eyeglasses"]


def _pool(n_glasses_men: int, n: int = 40) -> np.ndarray:
    """Faces: n_glasses_men men with glasses, then men without, women without; one decoy that is
    surely wearing glasses and barely not a man (the top P(man with glasses) of the pool, not one)."""
    p = np.full((n, 3), 0.1)
    p[:, 1] = np.where(np.arange(n) % 2, 0.9, 0.1)  # men on odd rows
    p[:n_glasses_men] = [0.1, 0.6, 0.6]  # P(concept) 0.36
    p[-1] = [0.1, 0.49, 0.99]  # P(concept) 0.49, read as a woman
    return p


def test_exemplars_are_only_faces_read_as_the_concept():
    cands = pick_candidates(_pool(5), NAMES, EQUATIONS["glasses-woman"], k=20)
    assert cands["man with glasses"] == [0, 1, 2, 3, 4]  # not the decoy, not 15 faces without glasses
    with pytest.raises(
        ValueError,
        match=r"glasses-woman: only 2 of the 40 pool faces read as man with glasses "
        r"\(Male, Eyeglasses\), and the arithmetic averages 3 per concept: draw a "
        r"larger pool \(--pool\)",
    ):
        pick_candidates(_pool(2), NAMES, EQUATIONS["glasses-woman"], k=20)


class _Judge:
    """A stand-in for the attribute classifier: every face reads as the pool's first."""

    names = NAMES
    scores = type("Scores", (), {"auc": dict.fromkeys(NAMES, 0.9)})()

    def __init__(self, p):
        self.p = p

    def predict(self, images):
        return np.repeat(self.p[:1], len(images), axis=0)


def test_fewer_candidates_than_asked_are_reported_in_the_result_and_a_warning():
    G = Generator(arch="torch", image_size=64, width=8)
    init_weights(G, torch.Generator().manual_seed(0))
    p = _pool(5)
    z = torch.rand(len(p), G.nz) * 2 - 1
    images = torch.zeros(len(p), 3, 64, 64)
    cfg = ArithmeticConfig(equations=("glasses-woman",), trials=2, candidates=20)
    with pytest.warns(
        UserWarning,
        match="exemplars drawn from fewer faces than candidates=20, as only 5 of the "
        "pool's 40 read as man with glasses",
    ):
        result, _ = success_rates(G, _Judge(p), z, images, p, EQUATIONS["glasses-woman"], cfg)
    assert result.candidates == {"man with glasses": 5, "man without glasses": 17, "woman without glasses": 17}


# ---------------------------------------------------------------------------------------------
# 6. Every notebook's parameters cell parses as papermill reads it (`name = value  # comment`)


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name[:2])
def test_parameters_cell_parses_without_papermill_warnings(path, caplog):
    from papermill.translators import PythonTranslator

    cell = next(c for c in nbformat.read(path, 4).cells if "parameters" in c.metadata.get("tags", []))
    assigned = [t.id for node in ast.parse(cell.source).body for t in node.targets]
    with caplog.at_level(logging.WARNING, logger="papermill"):
        names = [p.name for p in PythonTranslator.inspect(cell)]
    assert names == assigned and not caplog.records, [r.getMessage() for r in caplog.records]


def test_a_zoo_card_reads_the_annotation_file_through_the_same_check(tmp_path):
    """cards.hand_annotations (the zoo card's window boxes) meets a malformed file with the experiment's
    one-line error, not a KeyError."""
    from dcgan_core.cards import hand_annotations

    G = Generator(arch="torch", image_size=32, width=8)
    path = annotation_path("ab" * 32, "windows", tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"sha256": "ab" * 32, "image_size": 32, "samples": {"0": [[5, 5, 2, 9]]}}))
    with pytest.raises(DataError, match=r"samples\['0'\]\[0\] = \[5, 5, 2, 9\] is not a box"):
        hand_annotations(G, "ab" * 32, tmp_path / "boxes.png", root=tmp_path)
    assert not (tmp_path / "boxes.png").exists()
