"""§6.3.1 forgetting to draw objects (forgetting.py, drop_maps.py, window_judge.py): boxes, annotations, the
regression, the drop, the annotation widget and the CLI, on the zoo's generators."""

import json
import subprocess
import sys

import pytest
import torch

from dcgan_core import pretrained
from dcgan_core.annotations import (
    annotation_path,
    from_widget_boxes,
    load_annotations,
    sample_for_seed,
    to_widget_boxes,
)
from dcgan_core.data import DataError
from dcgan_core.drop_maps import box_mask, fit_probe
from dcgan_core.forgetting import ForgettingConfig, run_windows
from dcgan_core.forgetting_figures import curve_figure, replaced_figure
from dcgan_core.pretrained import model_sha256
from dcgan_core.widgets import box_annotator
from dcgan_core.window_judge import box_brightness, darken


def test_box_mask_marks_positions_whose_centre_is_inside():
    m = box_mask([[[0, 0, 32, 32]], [], [[48, 0, 64, 16], [0, 60, 4, 64]]], 4, 64)
    assert m[0].nonzero().tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert not m[1].any()
    assert m[2].nonzero().tolist() == [[0, 3]]  # the 4×4 box holds no centre of a 16-px cell


def test_widget_boxes_round_trip_and_clip():
    boxes = [[3, 18, 13, 38], [40, 2, 52, 28]]
    assert from_widget_boxes(to_widget_boxes(boxes, 6), 6, 64) == boxes
    drawn = [dict(x=-12, y=300, width=60, height=-60, label="window"), dict(x=5, y=5, width=0, height=9, label="w")]
    assert from_widget_boxes(drawn, 6, 64) == [[0, 40, 8, 50]]  # negative size flipped, clipped; empty dropped


def test_shipped_window_annotations_match_the_zoo_rooms_model():
    ann = load_annotations("zoo:scenes64")
    assert ann["sha256"] == pretrained.manifest()["scenes64"]["sha256"]
    boxes = [b for bs in ann["samples"].values() for b in bs]
    assert len(ann["samples"]) >= 40 and len(boxes) >= 40
    assert all(0 <= x0 < x1 <= 64 and 0 <= y0 < y1 <= 64 for x0, y0, x1, y1 in boxes)


def test_missing_annotations_are_one_clear_error(tmp_path):
    with pytest.raises(DataError, match="no windows annotations for zoo:cifar32.*draw them"):
        load_annotations("zoo:cifar32")
    wrong = tmp_path / "w.json"
    wrong.write_text(json.dumps(dict(sha256="0" * 64, samples={})))
    with pytest.raises(DataError, match="not zoo:scenes64"):
        load_annotations("zoo:scenes64", path=wrong)


def test_probe_finds_the_maps_that_carry_the_boxes():
    """Synthetic activations: maps 3 and 7 are high inside the boxes, the rest noise."""
    gen = torch.Generator().manual_seed(0)
    boxes = [[[8, 8, 32, 32]] if i % 2 else [[32, 32, 56, 60]] for i in range(24)]
    pos = box_mask(boxes, 16, 64)
    acts = torch.rand(24, 12, 16, 16, generator=gen)
    acts[:, 3] += 2 * pos
    acts[:, 7] += 1 * pos
    probe = fit_probe(acts, pos, ~pos, ForgettingConfig(), layer=2)
    assert probe.accuracy > 0.95
    assert {3, 7} <= set(probe.maps) and probe.strongest(2) == [3, 7]


def test_dropped_maps_change_the_sample_and_random_seeds_are_reproducible():
    G, _, _ = pretrained.load("scenes64")
    a, b = sample_for_seed(G, [3, 5]), sample_for_seed(G, [5])
    assert torch.allclose(a[1], b[0], atol=1e-5)  # sample s depends on seed s only
    assert not torch.allclose(sample_for_seed(G, [3], {2: [0, 1, 2]}), a[:1])


@pytest.fixture(scope="module")
def windows_smoke(mirror):
    return run_windows(ForgettingConfig.from_profile("smoke", layers=(2,)))


@pytest.mark.slow
def test_windows_drop_lowers_window_probability_more_than_random_maps(windows_smoke):
    r = windows_smoke
    c = r.chosen
    assert r.n_boxes >= 40 and c.accuracy > 0.6 and r.judge_accuracy > 0.6
    assert 0 < c.maps_dropped < c.n_maps
    assert c.window_prob_after < c.window_prob_after_random < c.window_prob_before + 0.05


def test_darken_shifts_only_the_boxes_to_the_askedbox_brightness():
    images = torch.rand(3, 3, 64, 64, generator=torch.Generator().manual_seed(0)) * 2 - 1
    boxes = [[[8, 8, 40, 24]], [], [[0, 40, 64, 64], [50, 0, 60, 10]]]
    inside = box_mask(boxes, 64, 64)[:, None].expand_as(images)
    for target in (0.0, -0.5, -0.95):
        out = darken(images, boxes, target)
        assert box_brightness(out[[0, 2]], [boxes[0], boxes[2]]) == pytest.approx(target, abs=1e-3)
        assert torch.equal(out[~inside], images[~inside]) and out.min() >= -1
        assert (out[inside] <= images[inside]).all()
    assert torch.equal(darken(images, boxes, box_brightness(images[[0, 2]], [boxes[0], boxes[2]]) + 0.5), images)


@pytest.mark.slow
def test_windows_darkness_control_curve_and_cost(windows_smoke):
    """The darkened control, the brightness gap, the curve (ending on the chosen layer's numbers) and the
    FID/KID cost, on the annotated rooms at smoke."""
    r, c = windows_smoke, windows_smoke.chosen
    assert c.window_prob_darkened < c.window_prob_before  # the judge does read some darkness …
    assert c.darkness_gap == pytest.approx(c.window_prob_darkened - c.window_prob_after)
    assert c.brightness_gap == pytest.approx(c.brightness_after - c.brightness_after_random)
    assert c.images_darkened.shape == r.images_before.shape
    v = r.curve
    assert v["maps"][0] == 0 and v["maps"][-1] == c.maps_dropped and v["maps"] == sorted(v["maps"])
    assert all(len(v[k]) == len(v["maps"]) for k in ("selected", "random", "darkened", "brightness_gap"))
    assert v["selected"][0] == v["random"][0] == v["darkened"][0] == pytest.approx(c.window_prob_before)
    assert v["selected"][-1] == pytest.approx(c.window_prob_after)  # all maps: the layer's own numbers
    assert v["random"][-1] == pytest.approx(c.window_prob_after_random)
    assert v["darkened"][-1] == pytest.approx(c.window_prob_darkened)
    assert v["brightness_gap"][-1] == pytest.approx(c.brightness_gap)
    assert v["selected"][-1] < v["selected"][1]  # more maps, fewer windows
    assert r.fid_n == 32 and all(x > 0 for x in (r.fid_before, r.fid_after, r.fid_after_random, r.kid_after))
    for fig in (curve_figure(r), replaced_figure(r, n=4)):
        assert len(fig.axes) >= 2


def test_box_annotator_saves_boxes_keyed_by_sha_and_seed(tmp_path):
    G, _, _ = pretrained.load("scenes64")
    box = box_annotator(G, "zoo:scenes64", seeds=[0, 1, 2], scale=4, root=tmp_path)
    (seed, save, where), status, draw = box.children[0].children, *box.children[1:]
    assert str(tmp_path) in where.value and "tracked" not in where.value  # says where Save writes
    assert draw.image.startswith("data:image/png;base64,")
    draw.bboxes = [dict(x=8, y=12, width=40, height=20, label="window")]
    seed.value = 2
    assert draw.bboxes == []
    draw.bboxes = [dict(x=0, y=0, width=16, height=16, label="window")]
    save.click()
    saved = json.loads(annotation_path(model_sha256("zoo:scenes64"), "windows", tmp_path).read_text())
    assert saved["samples"] == {"0": [[2, 3, 12, 8]], "2": [[0, 0, 4, 4]]}
    assert "saved" in status.value
    seed.value = 0  # boxes come back when revisiting
    assert from_widget_boxes(draw.bboxes, 4, 64) == [[2, 3, 12, 8]]


def test_box_annotator_folder_from_the_environment(tmp_path, monkeypatch):
    """DCGAN_ANNOTATIONS_DIR moves Save away from the tracked annotations/ (the browser test's kernels
    set it); an explicit `root` still wins."""
    G, _, _ = pretrained.load("scenes64")
    monkeypatch.setenv("DCGAN_ANNOTATIONS_DIR", str(tmp_path / "env"))
    box = box_annotator(G, "zoo:scenes64", seeds=[0, 1], scale=4)
    (_, save, where), status = box.children[0].children, box.children[1]
    assert str(tmp_path / "env") in where.value and "tracked" not in where.value
    assert status.value.startswith("0 boxes")  # the tracked boxes are not read either
    save.click()
    assert annotation_path(model_sha256("zoo:scenes64"), "windows", tmp_path / "env").is_file()
    where = box_annotator(G, "zoo:scenes64", seeds=[0], scale=4, root=tmp_path / "arg").children[0].children[2]
    assert str(tmp_path / "arg") in where.value


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "dcgan_core", *args], capture_output=True, text=True, timeout=600)


def test_cli_forget_bad_input_is_one_error_line():
    p = _cli("forget", "--concept", "windows", "--windows-model", "zoo:cifar32", "--profile", "smoke")
    assert p.returncode == 2 and p.stderr.startswith("error: no windows annotations") and "Traceback" not in p.stderr
    p = _cli("forget", "--concept", "windows", "--layer", "4", "--profile", "smoke")
    assert p.returncode == 2 and "layer must be one of G's hidden layers" in p.stderr and "Traceback" not in p.stderr
