"""The claims table (dcgan_core/claims.py): every claim judged holds or fails, a missing number is an
error, every check that holds has a control it must fail, and a new run reproduces the record only
with the same verdicts and numbers within each claim's tolerance."""

import dataclasses
import re

import pytest

from dcgan_core.claims import CLAIMS, check, claims_for
from dcgan_core.verdicts import Claim, MissingResult, Verdict, judge, reproduces, table

NOTEBOOKS = {
    "01_training",
    "02_dedup",
    "03_representation",
    "04_latent_walk",
    "05_guided_backprop",
    "06_forgetting_objects",
    "07_vector_arithmetic",
    "08_mnist_appendix",
}

CLAIM = Claim(
    "x-beats-y",
    "§0",
    "text",
    "x beats y",
    "00_x.gap",
    ">",
    0.1,
    tolerance=0.02,
    note="x − y",
    control="00_x.controls.gap",
    control_note="y − y on a replicate",
    smoke_target=0.0,
)


def results(gap, control=0.0):
    return {"00_x": {"gap": gap, "controls": {"gap": control}}}


def test_every_claim_is_complete():
    ids = [c.id for c in CLAIMS]
    assert len(ids) == len(set(ids))
    for c in CLAIMS:
        assert c.key.split(".", 1)[0] in NOTEBOOKS, c.id
        assert c.op in ("<", "<=", ">", ">=", "==", "in") and c.expect in ("holds", "fails"), c.id
        assert c.tolerance >= 0 and c.note, c.id
        # at smoke: a sanity bound, or the reason there is none — never silently unchecked
        assert (c.smoke_target is None) == bool(c.smoke_skip), c.id
        # a claim we reproduce has a control its check must fail; one we do not says why
        assert c.control if c.expect == "holds" else c.why, c.id
        assert not c.control or c.control_note, c.id
        # why we fail is words: the numbers are in the results files (no decimals or percentages here)
        assert not re.search(r"\d\.\d|\d\s?%", c.why), (c.id, c.why)


def test_a_missing_result_is_an_error_naming_the_key():
    with pytest.raises(MissingResult, match="'00_x.gap' is missing"):
        judge(CLAIM, {"00_x": {}}, "cpu")
    with pytest.raises(MissingResult, match="00_x.controls.gap"):
        judge(CLAIM, {"00_x": {"gap": 0.5}}, "cpu")
    with pytest.raises(MissingResult):  # a real claim on an empty result
        check("02_dedup", {}, "cpu")
    with pytest.raises(MissingResult):  # at smoke too, where the claim has a bound
        judge(CLAIM, {}, "smoke")


def test_at_smoke_a_claim_is_checked_against_its_bound_or_skipped_with_its_reason():
    assert judge(CLAIM, results(0.05), "smoke").status == "holds"  # 0.05 > 0.0, the smoke bound
    assert judge(CLAIM, results(0.05), "cpu").status == "fails"  # not > 0.1
    skipped = dataclasses.replace(CLAIM, smoke_target=None, smoke_skip="too few samples")
    v = judge(skipped, {}, "smoke")  # needs no result
    assert v.status == "skipped" and v.as_expected and "too few samples" in table([v])


def test_a_check_that_holds_must_fail_on_its_control():
    good = judge(CLAIM, results(0.3, control=0.01), "cpu")
    assert (good.status, good.control_status, good.as_expected) == ("holds", "fails", True)
    blind = judge(CLAIM, results(0.3, control=0.2), "cpu")  # the control passes too
    assert blind.status == "holds" and not blind.as_expected
    assert "control" in blind.problem() and "cannot tell them apart" in blind.problem()
    unmeasured = judge(CLAIM, results(0.3, control=float("nan")), "cpu")  # NaN proves nothing
    assert unmeasured.control_status == "not measured" and not unmeasured.as_expected


def test_an_expected_failure_is_no_problem_and_an_unexpected_one_is_listed():
    failing = dataclasses.replace(CLAIM, expect="fails", why="the data is not there", control=None)
    v = judge(failing, results(0.0), "cpu")
    assert v.status == "fails" and v.as_expected and v.problem() == ""
    assert "not reproduced: the data is not there" in table([v])
    v = judge(failing, results(0.5), "cpu")  # suddenly holds: the table is stale
    assert not v.as_expected and v.problem().startswith("x-beats-y: holds (expected fails)")
    v = judge(CLAIM, results(0.05, 0.0), "cpu")
    assert "UNEXPECTED" in table([v]) and "fails (expected holds)" in v.problem()


def test_not_measured_never_holds():
    v = judge(CLAIM, results(None, 0.0), "cpu")
    assert v.status == "fails" and v.value is None


def test_a_new_run_reproduces_the_record_within_the_tolerance():
    v = judge(CLAIM, results(0.30), "cpu")
    assert reproduces(dict(status="holds", ours=0.31), v) == ""
    assert "tolerance ±0.02" in reproduces(dict(status="holds", ours=0.35), v)
    assert "fails, recorded holds" in reproduces(dict(status="holds", ours=0.05), judge(CLAIM, results(0.05), "cpu"))
    shapes = next(c for c in CLAIMS if c.id == "fig1-shapes")
    exact = Verdict(shapes, "cpu", shapes.target, "holds", [[1]], "fails")
    assert reproduces(dict(status="holds", ours=shapes.target), exact) == ""
    assert reproduces(dict(status="holds", ours=[[1024, 4, 4]]), exact) != ""


def test_every_notebook_answers_claims():
    assert {c.key.split(".", 1)[0] for c in CLAIMS} == NOTEBOOKS
    assert all(claims_for(n) for n in NOTEBOOKS)
