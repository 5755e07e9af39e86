"""§6.3.2 vector arithmetic: the pose measure on real faces, the concept reading, the arithmetic,
choices files, the attribute classifier (trained small on real CelebA, cached), the widget and the CLI."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from dcgan_core import attributes
from dcgan_core.attributes import AttributeConfig, load_classifier
from dcgan_core.choices import Choices, toggle
from dcgan_core.concepts import EQUATIONS, concept_prob, reads_as
from dcgan_core.data import load_dataset, to_unit_range
from dcgan_core.models import Generator, init_weights
from dcgan_core.pose import symmetry_axis
from dcgan_core.turn import pose
from dcgan_core.vector_arithmetic import noise_grid, pixel_arithmetic, z_arithmetic
from dcgan_core.widgets import arithmetic_explorer


@pytest.fixture(scope="module")
def faces():
    return to_unit_range(load_dataset("celeba", 64, limit=200, progress=False).images[:48])


def test_pose_is_antisymmetric_under_mirroring_and_zero_for_symmetric_faces(faces):
    p, q = pose(faces), pose(faces.flip(-1))
    assert np.allclose(p, -q, atol=1e-5)
    assert p.std() > 0.1  # real faces differ in pose
    symmetric = torch.cat([faces[..., :32], faces[..., :32].flip(-1)], -1)
    assert np.abs(pose(symmetric)).max() < 0.26


@pytest.mark.parametrize("offset", [-4, -2, 3])
def test_symmetry_axis_recovers_a_known_axis(faces, offset):
    # a face made mirror-symmetric about the column axis 31.5 + offset
    axis2 = 63 + 2 * offset
    y = faces.clone()
    for c in range(64):
        src = axis2 - c
        if c > 31.5 + offset and 0 <= src < 64:
            y[..., c] = faces[..., src]
    got = symmetry_axis(y)
    assert np.median(np.abs(got - offset)) < 0.5, got


def test_concepts_are_read_from_every_attribute():
    names = ["Smiling", "Male"]
    p = np.array([[0.9, 0.1], [0.9, 0.8], [0.2, 0.1]])
    want = EQUATIONS["smiling-man"].concepts[0][1]  # smiling woman
    assert reads_as(p, names, want).tolist() == [True, False, False]
    assert concept_prob(p, names, want) == pytest.approx([0.81, 0.18, 0.18])


def test_arithmetic_in_z_and_in_pixels():
    z = torch.arange(12.0).view(6, 2)
    picks = [[0, 1], [2, 3], [4, 5]]
    assert torch.allclose(z_arithmetic(z, picks), z[[0, 1]].mean(0) - z[[2, 3]].mean(0) + z[[4, 5]].mean(0))
    x = torch.zeros(6, 3, 4, 4)
    x[0] = 0.9
    assert pixel_arithmetic(x, [[0], [1], [2]]).max() == pytest.approx(0.9)
    assert pixel_arithmetic(x + 0.8, [[0], [1], [2]]).max() == 1.0  # clipped to the image range
    grid = noise_grid(torch.zeros(100), 0.25, torch.Generator().manual_seed(0))
    assert torch.equal(grid[4], torch.zeros(100)) and 0.2 < grid.abs().max() <= 0.25


def test_choices_toggle_save_and_load(tmp_path):
    c = Choices(model="celeba64", sha256="x", pool=50, seed=0)
    for i in (1, 2, 3, 4):
        toggle(c, "smiling-man", "smiling woman", i)
    assert c.equations["smiling-man"]["smiling woman"] == [2, 3, 4]  # at most three: the oldest drops
    assert toggle(c, "smiling-man", "smiling woman", 3) == [2, 4]  # a second click removes
    with pytest.raises(ValueError, match="not a concept"):
        toggle(c, "smiling-man", "man with glasses", 1)
    path = c.save(tmp_path / "c.json")
    assert Choices.load(path) == c
    bad = json.loads(path.read_text())
    bad["equations"]["smiling-man"]["smiling woman"] = [77]
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    with pytest.raises(ValueError, match="outside the pool"):
        Choices.load(tmp_path / "bad.json")
    (tmp_path / "junk.json").write_text('{"model": 1}')
    with pytest.raises(ValueError, match="not a choices file"):
        Choices.load(tmp_path / "junk.json")


def test_shipped_choices_file_is_valid():
    from pathlib import Path

    c = Choices.load(Path(__file__).resolve().parents[1] / "notebooks" / "07_choices_celeba64.json")
    assert set(c.equations) == set(EQUATIONS)
    assert all(len(ids) == 3 for e in c.equations.values() for ids in e.values())
    assert len(c.turn["left"]) == len(c.turn["right"]) == 4


@pytest.mark.slow
def test_attribute_classifier_learns_real_faces_and_is_cached(tmp_path, monkeypatch):
    cfg = AttributeConfig(limit=1500, width=8, epochs=2, progress=False)
    clf = load_classifier(cfg, cache_dir=tmp_path)
    s = clf.scores
    assert s.n_train + s.n_test == 1500 and s.n_test == 300
    assert s.auc["Male"] > 0.75 and s.auc["Smiling"] > 0.7, s.auc  # well above chance (0.5)
    assert len(list((tmp_path / "cache").glob("attributes-*.pt"))) == 1
    faces = load_dataset("celeba", 64, limit=1500, progress=False).images[:16]
    monkeypatch.setattr(attributes, "train_classifier", lambda *a, **k: pytest.fail("retrained"))
    again = load_classifier(cfg, cache_dir=tmp_path)  # from the cache
    assert np.allclose(again.predict(faces), clf.predict(faces), atol=1e-6)
    assert again.scores.auc == s.auc
    with pytest.raises(ValueError, match="does not predict"):
        clf.column("Bald")


def test_arithmetic_explorer_picks_saves_and_loads(tmp_path):
    G = Generator(arch="torch", image_size=64, width=8)
    init_weights(G, torch.Generator().manual_seed(0))
    z = torch.rand(30, 100) * 2 - 1
    with torch.no_grad():
        images = G.eval()(z)
    c = Choices(model="test", sha256="", pool=30, seed=0)
    box = arithmetic_explorer(G, z, images, c, page_size=12)
    (_eq, concept), page, grid, _picks, (result, control), (file, save, _load, message) = (
        box.children[0].children,
        box.children[1],
        box.children[2],
        box.children[3],
        box.children[4].children,
        box.children[5].children,
    )
    toggles = [tile.children[1] for tile in grid.children]
    assert bytes(result.value) == b""  # nothing picked yet
    for label, tiles in zip(concept.options, ([0, 1, 2], [3, 4, 5], [6, 7, 8])):
        concept.value = label
        for k in tiles:
            toggles[k].value = True
    assert c.equations["smiling-man"]["neutral man"] == [6, 7, 8]
    assert bytes(result.value).startswith(b"\x89PNG") and bytes(control.value).startswith(b"\x89PNG")
    page.value = 2  # faces 24..29
    assert toggles[0].description == "#24" and grid.children[-1].layout.visibility == "hidden"
    file.value = str(tmp_path / "mine.json")
    save.click()
    assert "saved" in message.value
    c2 = Choices(model="test", sha256="", pool=30, seed=0)
    box2 = arithmetic_explorer(G, z, images, c2, page_size=12)
    file2, load2, message2 = box2.children[5].children[0], box2.children[5].children[2], box2.children[5].children[3]
    file2.value = str(tmp_path / "mine.json")
    load2.click()
    assert c2.equations == c.equations and "loaded" in message2.value
    file2.value = str(tmp_path / "missing.json")
    load2.click()
    assert message2.value.startswith("error:")


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "dcgan_core", "arithmetic", *args], capture_output=True, text=True)


def test_cli_rejects_bad_input_in_one_line():
    for args, words in (
        (["--equation", "happy-dog"], "unknown equation"),
        (["--trials", "0"], "trials"),
        (["--model", "zoo:nothing"], "no zoo model"),
    ):
        r = _cli(*args, "--classifier", "smoke")
        assert r.returncode == 2 and r.stderr.startswith("error:") and words in r.stderr, r.stderr
        assert "Traceback" not in r.stderr


@pytest.mark.slow
def test_cli_prints_the_success_rates_and_writes_figure_7(tmp_path):
    r = _cli(
        "--model",
        "zoo:celeba64",
        "--equation",
        "smiling-man",
        "--trials",
        "10",
        "--seed",
        "1",
        "--pool",
        "200",
        "--classifier",
        "smoke",
        "--out",
        str(tmp_path),
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    for key in ("success_mean3", "success_single", "success_random"):  # fractions of 10 grids of 9 images
        assert out[key] * 90 == pytest.approx(round(out[key] * 90)), key
    for key in ("success_pixel", "success_pixel_jittered"):  # one image per draw
        assert out[key] * 10 == pytest.approx(round(out[key] * 10)), key
    # the jittered control's amounts, as measured by the face detector on real faces, are in the output
    m = out["misalignment"]
    assert m["detected"] > m["faces"] / 2 and m["roll_max"] > 0 and 0 < m["shift_x"] < 0.2, m
    assert set(out["stderr"]) >= {"pixel", "pixel_jittered"}
    # Z arithmetic on smiling exemplars makes smiling men far more often than random z (the claim at cpu)
    assert out["success_single"] > out["success_random"] + 0.1, out
    assert out["trials"] == 10 and set(out["classifier_auc"]) == {"Smiling", "Male"}
    assert (tmp_path / "fig7_smiling-man.png").stat().st_size > 1000
    # the validated judge: thresholds chosen on the hand-labelled faces, with their error
    assert set(out["judge"]["thresholds"]) == {"Eyeglasses", "Smiling", "Male"}
    assert "precision" in out["judge"]["error"] and "Smiling" in out["judge"]["error"]
    # the diagnostics: does G(mean z) keep each concept, which target attribute (a)'s images miss;
    # each is a fraction of 10 draws or of 90 images
    assert set(out["exemplar_mean_keeps"]) == {"smiling woman", "neutral woman", "neutral man"}
    assert all(v * 10 == pytest.approx(round(v * 10)) for v in out["exemplar_mean_keeps"].values())
    assert set(out["mean3_attribute_rates"]) == {"Smiling", "Male"}
    assert min(out["mean3_attribute_rates"].values()) >= out["success_mean3"]  # both sides ⊇ the target
