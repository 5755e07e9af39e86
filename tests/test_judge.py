"""The judge on generated faces (judge.py, issue 28.2): the hand-label file, the metrics by hand,
the threshold choices, the contact sheets, and one end-to-end check on the real labels."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from dcgan_core import judge
from dcgan_core.annotations import annotation_path
from dcgan_core.data import DataError
from dcgan_core.pretrained import ZOO_DIR, manifest, model_sha256, sha256

MODEL = "zoo:celeba64"


def test_the_label_file_loads_and_is_for_the_zoo_model_file():
    ann = judge.load_labels(MODEL)
    assert ann["sha256"] == model_sha256(MODEL) == sha256(ZOO_DIR / manifest()["celeba64"]["file"])
    assert ann["concept"] == "faces" and ann["n"] >= 200 and isinstance(ann["seed"], int)
    assert set(judge.LABELLED) <= set(ann["labels"])
    for name in judge.LABELLED:
        values = ann["labels"][name]
        assert len(values) == ann["n"] and set(values) <= {0, 1, None}
        assert 0 < sum(v == 1 for v in values) < ann["n"]  # both classes present
    assert "by eye" in ann["procedure"] and ann["labelled_on"] and set(ann["rules"]) >= set(judge.LABELLED)
    assert np.isnan(judge.label_array(ann, "Eyeglasses")).sum() == ann["labels"]["Eyeglasses"].count(None)


def test_labels_for_another_model_file_or_of_the_wrong_length_are_refused(tmp_path):
    ann = json.loads(annotation_path(model_sha256(MODEL), "faces").read_text())
    (tmp_path / "other.json").write_text(json.dumps({**ann, "sha256": "0" * 64}))
    with pytest.raises(DataError, match="samples differ"):
        judge.load_labels(MODEL, tmp_path / "other.json")
    ann["labels"]["Male"] = ann["labels"]["Male"][:-1]
    (tmp_path / "short.json").write_text(json.dumps(ann))
    with pytest.raises(DataError, match="Male labels"):
        judge.load_labels(MODEL, tmp_path / "short.json")


def test_scores_and_calibration_by_hand():
    s = judge.scores(np.array([1, 1, 0, 0, 1]), np.array([1, 0, 1, 0, 1]))  # TP 2, FP 1, FN 1
    assert s == pytest.approx(dict(rate=3 / 5, precision=2 / 3, recall=2 / 3, f1=2 / 3))
    none = judge.scores(np.zeros(4), np.array([1, 0, 0, 0]))
    assert np.isnan(none["precision"]) and none["recall"] == 0 and none["rate"] == 0
    table = judge.calibration(np.array([0.05, 0.1, 0.9, 0.95, 1.0]), np.array([0, 1, 1, 1, 1]), bins=2)
    assert table == [
        dict(lo=0.0, hi=0.5, n=2, mean_p=pytest.approx(0.075), observed=0.5),
        dict(lo=0.5, hi=1.0, n=3, mean_p=pytest.approx(0.95), observed=1.0),
    ]
    assert len(judge.calibration(np.array([0.1, 0.15]), np.array([0, 1]), bins=5)) == 1  # empty bins left out


def test_the_f1_threshold_maximises_f1_by_hand():
    p, truth = np.array([0.9, 0.8, 0.3, 0.2, 0.1]), np.array([1, 0, 1, 0, 0], bool)
    # yes to the top 1, 2, 3, 4, 5: F1 = 2/3, 1/2, 4/5, 2/3, 4/7 → the top 3, cut between 0.3 and 0.2
    assert judge.f1_threshold(p, truth) == pytest.approx(0.25)
    assert np.isnan(judge.f1_threshold(p, np.zeros(5, bool)))


def test_the_f1_threshold_is_the_best_cut_and_the_highest_on_ties():
    rng = np.random.default_rng(0)
    truth = rng.random(300) < 0.1
    p = np.clip(0.3 * truth + rng.random(300) * 0.6, 0, 1).round(2)  # rounded: ties
    t = judge.f1_threshold(p, truth)
    cuts = np.r_[np.unique(p) - 1e-9, 1.0]
    f1 = np.array([judge.scores(p > c, truth)["f1"] for c in cuts])
    best = judge.scores(p > t, truth)["f1"]
    assert best == pytest.approx(np.nanmax(f1))
    fewer = [f for c, f in zip(cuts, f1) if (p > c).sum() < (p > t).sum()]
    assert all(f < best - 1e-12 for f in fewer)  # no higher cut as good
    assert not np.isin(t, p)  # between two values


def test_the_rate_threshold_gives_the_rate_and_cross_validation_scores_out_of_fold():
    rng = np.random.default_rng(1)
    p = rng.random(200)
    for rate in (0.0, 0.053, 0.3, 1.0):
        assert (p > judge.rate_threshold(p, rate)).mean() == pytest.approx(round(rate * 200) / 200)
    truth = p + 0.3 * rng.standard_normal(200) > 0.7
    cv = judge.cross_validated(p, truth, folds=5)
    assert set(cv) == {"rate", "precision", "recall", "f1"}
    assert cv["f1"] <= judge.scores(p > judge.f1_threshold(p, truth), truth)["f1"] + 1e-12  # in-sample is the max


def test_check_attribute_leaves_the_uncertain_out():
    p = np.array([0.9, 0.7, 0.2, 0.1, 0.6, 0.05])
    labels = np.array([1, 1, 0, 0, np.nan, np.nan])
    c = judge.check_attribute(p, labels, p_sample=np.array([0.1, 0.6]), threshold=0.5, bins=2, folds=2)
    assert (c.n, c.uncertain, c.labelled_rate) == (4, 2, 0.5)
    assert c.labelled_rate_bounds == [pytest.approx(2 / 6), pytest.approx(4 / 6)]
    assert c.auc == 1.0 and c.scores["default"] == dict(rate=0.5, precision=1.0, recall=1.0, f1=1.0)
    assert c.uncertain_rates["default"] == 0.5 and c.sample_rates["default"] == 0.5
    assert set(c.thresholds) == {"default", "f1", "rate"} and 0.2 < c.thresholds["f1"] < 0.7


def test_contact_sheets_number_the_faces(tmp_path):
    images = torch.rand(13, 3, 8, 8) * 2 - 1
    paths = judge.contact_sheets(images, tmp_path, cols=2, rows=2, size=32, numbers=range(100, 113))
    assert [p.name for p in paths] == [f"sheet-0{i}.png" for i in range(4)]
    assert Image.open(paths[0]).size[0] == 2 * (32 + 4)
    ann = {"n": 2, "labels": {"Eyeglasses": [1, None], "Smiling": [0, 1]}}
    assert judge.captions(ann) == ["E1 S0", "E? S1"]
    assert len(judge.contact_sheets(images[:2], tmp_path / "c", size=32, captions=judge.captions(ann))) == 1


def test_the_judge_on_the_real_labels_end_to_end(tmp_path):
    """The smoke classifier (cached in the data folder after its first training, ~1 min) on the
    committed labels: every labelled attribute checked, the result saved and read back."""
    cfg = judge.JudgeConfig.from_profile("smoke")
    result = judge.run(cfg)
    ann = judge.load_labels(MODEL)
    assert result.sha256 == ann["sha256"] and result.n == ann["n"] and f"seed={ann['seed']}" in result.sample
    assert set(result.attributes) == set(judge.LABELLED)
    for name, c in result.attributes.items():
        assert c.uncertain == ann["labels"][name].count(None) and c.n + c.uncertain == ann["n"]
        assert 0.5 < c.auc <= 1 and 0 < c.thresholds["f1"] < 1
        assert sum(row["n"] for row in c.calibration) == c.n
        assert c.scores["f1"]["f1"] >= c.scores["default"]["f1"] - 1e-12  # chosen on these faces
    saved = judge.JudgeResult.load(result.save(tmp_path / "judge.json"))
    assert (
        saved["result"] == "JudgeResult" and saved["attributes"]["Eyeglasses"]["n"] == result.attributes["Eyeglasses"].n
    )
    assert "Eyeglasses" in judge.table(result)


def test_the_validated_judge_is_the_f1_threshold_on_the_hand_labels_and_reads_faces_there(tmp_path):
    """What §6 reads faces with (`judge.validated`): per labelled attribute the F1 threshold of the
    check above, with its error; a model without labels is read at 0.5 and says so; a malformed
    label file is an error, not a silent 0.5."""
    from dcgan_core.attributes import AttributeConfig, load_classifier
    from dcgan_core.concepts import reads_as
    from dcgan_core.pretrained import load_models

    clf = load_classifier(AttributeConfig.from_profile("smoke", progress=False))
    G = load_models(MODEL)[0]
    t = judge.validated(MODEL, G, clf)
    checked = judge.run(judge.JudgeConfig.from_profile("smoke"), classifier=clf)
    assert set(t.values) == set(judge.LABELLED)
    for name, c in checked.attributes.items():
        assert t.of(name) == pytest.approx(c.thresholds["f1"])
        assert t.checks[name]["fitted"] == pytest.approx(c.scores["f1"], nan_ok=True)
        assert t.checks[name]["n"] == c.n and name in judge.error_note(t, [name])
    assert t.of("Young") == judge.DEFAULT  # not hand-labelled
    p = np.array([[0.9, 0.3], [0.2, 0.1]])
    names = ["Smiling", "Eyeglasses"]
    low = {"Smiling": 0.25, "Eyeglasses": 0.05}
    assert reads_as(p, names, {"Eyeglasses": 1}).tolist() == [False, False]
    assert reads_as(p, names, {"Eyeglasses": 1}, low).tolist() == [True, True]
    assert reads_as(p, names, {"Smiling": 0, "Eyeglasses": 1}, low).tolist() == [False, True]
    assert judge.Thresholds(low, "", {}).says(p, names, "Smiling").tolist() == [True, False]

    none = judge.validated(MODEL, G, clf, path=tmp_path / "missing.json")
    assert none.values == {} and "not validated" in none.source and none.of("Eyeglasses") == 0.5
    assert judge.error_note(none, ["Eyeglasses"]) == none.source
    (tmp_path / "bad.json").write_text("[]")
    with pytest.raises(DataError, match="bad.json"):
        judge.validated(MODEL, G, clf, path=tmp_path / "bad.json")
