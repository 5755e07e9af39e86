"""The results of record (results/cpu/, record.py) and the README's generated tables: the committed
page is what its JSON renders to, every claim is there and judged as expected, the verdicts are what
the recorded numbers give under the current claims table, and `record` keeps only finished runs."""

import json
import math
import statistics
import subprocess
import sys

import pytest
from PIL import Image

from dcgan_core.claims import CLAIMS, judge_all
from dcgan_core.files import write_json
from dcgan_core.record import BUDGET_S, README, RECORD, readme_blocks, record, render, render_readme
from dcgan_core.results import load_results

CPU = RECORD / "cpu"


def load(name):
    return json.loads((CPU / name).read_text())


def test_results_md_is_what_the_json_renders_to():
    figures = sorted(p.name for p in (CPU / "figures").glob("*.png"))
    assert (CPU / "RESULTS.md").read_text() == render(load("claims.json"), load("run.json"), figures), (
        "results/cpu/RESULTS.md is stale: python -m dcgan_core record --profile cpu --rejudge"
    )


def test_every_claim_is_recorded_judged_and_as_expected():
    claims = load("claims.json")
    assert [c["id"] for c in claims] == [c.id for c in CLAIMS]
    assert {c["status"] for c in claims} <= {"holds", "fails"}  # at cpu nothing is skipped
    wrong = [c["id"] for c in claims if not c["as_expected"]]
    assert not wrong, f"the record's verdicts differ from claims.py's expectations: {wrong}"
    for c in claims:
        assert c["control"] is None or c["control"]["status"] in ("holds", "fails"), c["id"]


def test_the_verdicts_are_what_the_recorded_numbers_give():
    """claims.json is claims.judge on results/cpu/results/*.json under the current claims table."""
    judged = [v.to_dict() for v in judge_all(load_results(CPU / "results"), "cpu")]
    assert json.loads(json.dumps(judged)) == load("claims.json"), (
        "claims.py changed since the record: python -m dcgan_core record --profile cpu --rejudge"
    )


def sampling_se(claim, results) -> float | None:
    """The standard error of a claim's number where it is a rate read off sampled images (None elsewhere):
    §6.3.2's differences of two success rates (each with its se in the result), §6.3.1's eyeglasses gap (the
    mean of a few random-map draws minus one rate over n samples)."""
    notebook, *path = claim.key.split(".")
    if notebook == "07_vector_arithmetic" and path[0] == "equations":
        equation = results[notebook]["equations"][path[1]]
        a, b = path[2].split("_minus_")
        return math.hypot(equation["stderr"][a], equation["stderr"][b])
    if claim.key == "06_forgetting_objects.eyeglasses.rate_gap":
        e = results[notebook]["eyeglasses"]
        draws, p = e["rate_random_draws"], e["rate_after"]
        return math.sqrt(statistics.variance(draws) / len(draws) + p * (1 - p) / e["n"])
    return None


def test_sampled_numbers_reproduce_within_the_noise_of_a_second_run():
    """A run on another CPU type retrains the readers and so draws anew (on an AMD EPYC AVX2 host the
    eyeglasses gap came out at half the record's, one arithmetic difference changed sign): such
    a claim's tolerance must cover 3 standard errors of a two-run difference, or `make figures` calls a new
    draw a failure to reproduce."""
    results = load_results(CPU / "results")
    bounds = {c: 3 * math.sqrt(2) * se for c in CLAIMS if (se := sampling_se(c, results)) is not None}
    assert len(bounds) == 7, sorted(c.id for c in bounds)  # forget-eyeglasses and the six arithmetic differences
    narrow = {c.id: f"{c.tolerance} < {bound:.3f}" for c, bound in bounds.items() if c.tolerance < bound}
    assert not narrow, f"tolerance below 3·√2·se of the recorded number: {narrow}"


def test_the_record_names_its_run_and_fits_the_budget():
    run = load("run.json")
    assert len(run["commit"]) == 40 and run["dirty"] is False and run["profile"] == "cpu"
    assert {"cpu", "cores", "amx", "avx512_bf16", "torch"} <= set(run["machine"])
    assert len(run["notebooks"]) == 8 and all(t["ok"] for t in run["notebooks"])
    assert run["seconds"] == pytest.approx(sum(t["seconds"] for t in run["notebooks"]), abs=1)
    # The budget is an hour on 2 cores (record.BUDGET_S). Two runs of the same notebook on these shared hosts
    # differ by minutes (notebook 01, unchanged between the records of 8fbcbf8 and 15cb2b2, took several minutes
    # longer in the second), so a run up to 5 % over is kept as the record, and RESULTS.md and the README say
    # it is over (record.over_budget); more than that fails here: trim the cpu profile and record again.
    assert run["seconds"] <= BUDGET_S * 1.05, "the cpu record must run in about an hour on 2 cores"
    if run["seconds"] > BUDGET_S:
        assert (
            "over the hour's budget" in (CPU / "RESULTS.md").read_text()
            and "over the hour's budget" in README.read_text()
        )
    assert sum(p.stat().st_size for p in CPU.rglob("*") if p.is_file()) <= 10 * 2**20


def test_the_readme_tables_are_generated_from_the_committed_files():
    text = README.read_text()
    assert render_readme(text, readme_blocks()) == text, "README is stale: python -m dcgan_core readme"
    assert set(readme_blocks()) >= {"zoo", "results"}


def finished_run(tmp_path, **run_changes):
    build = tmp_path / "build" / "cpu"
    (build / "results").mkdir(parents=True)
    write_json(build / "results" / "02_dedup.json", {"result": "X", "n": 1})
    Image.new("RGB", (2000, 1000), "white").save(build / "fig1_generator.png")
    run = dict(
        profile="cpu",
        commit="a" * 40,
        dirty=False,
        started="2026-12-05T00:00:00+00:00",
        machine=dict(cpu="Test CPU", cores=2, avx512=True, avx512_bf16=True, amx=False, torch="2", python="3"),
        notebooks=[dict(notebook="02_dedup", seconds=60.0, ok=True, error=None)],
        seconds=60.0,
        command="make figures PROFILE=cpu",
    )
    run.update(run_changes)
    write_json(build / "run.json", run)
    claims = [
        dict(
            id=c.id,
            section=c.section,
            where=c.where,
            paper=c.paper,
            key=c.key,
            op=c.op,
            target=c.target,
            ours=0.5,
            tolerance=c.tolerance,
            status="holds",
            expected="holds",
            as_expected=True,
            note=c.note,
            why="",
            control=None,
        )
        for c in CLAIMS
    ]
    write_json(build / "claims.json", claims)
    return build


def test_record_keeps_a_finished_run_with_downscaled_figures(tmp_path):
    out = tmp_path / "results" / "cpu"
    page = record(finished_run(tmp_path), out).read_text()
    assert json.loads((out / "results" / "02_dedup.json").read_text())["n"] == 1
    assert Image.open(out / "figures" / "fig1_generator.png").size == (900, 450)
    assert "Test CPU, 2 cores, AVX-512 BF16, no AMX" in page and "1.0 min" in page
    assert page == render(
        json.loads((out / "claims.json").read_text()),
        json.loads((out / "run.json").read_text()),
        ["fig1_generator.png"],
    )


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(dirty=True), "uncommitted changes"),
        (dict(notebooks=[dict(notebook="02_dedup", seconds=1.0, ok=False, error="boom")]), "02_dedup failed"),
    ],
)
def test_record_refuses_a_dirty_or_unfinished_run(tmp_path, change, message):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "dcgan_core",
            "record",
            "--profile",
            "cpu",
            "--build",
            str(finished_run(tmp_path, **change).parent),
            "--out",
            str(tmp_path / "rec"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and message in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert not (tmp_path / "rec").exists()
