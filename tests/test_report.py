"""The results report (dcgan_core/report.py), built from a small build folder made here: an executed
notebook with a figure and a widget, and a results file whose number fails its claim. (The report
of the real smoke build is opened in a browser by tests/test_browser.py.)"""

import re
import subprocess
import sys

import matplotlib
import nbformat
import pytest

from dcgan_core.claims import CLAIMS
from dcgan_core.figures import save_figure
from dcgan_core.files import write_json
from dcgan_core.report import WIDGET_NOTE, build_report, read_notebook

matplotlib.use("Agg")


@pytest.fixture
def build(tmp_path):
    """build/smoke with notebook 02 executed (one figure, one widget) and its results file, where the
    autoencoder's false-positive rate (0.5) fails the paper's claim; no results of notebook 01."""
    import matplotlib.pyplot as plt

    build = tmp_path / "smoke"
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [1, 0])
    save_figure(fig, build / "dedup_collisions.png")
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# 02 — De-duplication by autoencoder hashing (§4.1.1)\n\nText."),
            nbformat.v4.new_markdown_cell("## Hash collisions, as the paper inspected them"),
            nbformat.v4.new_code_cell(
                'fig = collisions_figure()\nsave_figure(fig, BUILD / "dedup_collisions.png")',
                outputs=[nbformat.v4.new_output("stream", name="stdout", text="12 groups\n")],
            ),
            nbformat.v4.new_code_cell(
                "display(dedup_explorer())",
                outputs=[
                    nbformat.v4.new_output(
                        "display_data",
                        data={
                            "application/vnd.jupyter.widget-view+json": {
                                "model_id": "abc",
                                "version_major": 2,
                                "version_minor": 0,
                            },
                            "text/plain": "VBox()",
                        },
                    )
                ],
            ),
        ]
    )
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2}}
    nbformat.write(nb, build / "02_dedup_autoencoder_hashing.ipynb")
    write_json(
        build / "results" / "02_dedup.json",
        {
            "result": "DedupEvaluation",
            "scores": {"autoencoder": {"fp_rate": 0.5, "recall": {"all": 0.3, "exact": 1.0}}},
            "scaling": {"exponent": 1.02},
            "controls": {"fp_rate_16_bits": 0.04, "pairwise_exponent": 2.0},
        },
    )
    return build


def row(page: str, claim_id: str) -> str:
    return re.search(rf'<tr id="claim-{claim_id}">.*?</tr>', page, re.S).group(0)


def test_report_shows_every_claim_with_its_verdict(build):
    page = build_report(build).read_text()
    for claim in CLAIMS:
        assert f'id="claim-{claim.id}"' in page, claim.id
    fp = row(page, "dedup-fp-rate")  # 0.5 against the smoke bound 0.05
    assert 'class="fails"' in fp and "<code>0.5</code>" in fp and "UNEXPECTED" in fp
    assert "control" in fp and "0.04 holds" in fp  # the control passes too: shown
    assert 'class="not-measured"' in row(page, "repr-trained-beats-random")  # no results of notebook 03
    recall = row(page, "dedup-high-recall")
    assert "skipped at smoke" in recall and "UNEXPECTED" not in recall
    assert "unexpected: dedup-fp-rate" in page


def test_report_shows_figures_under_their_headings_and_the_notebooks(build):
    index = build_report(build)
    page = index.read_text()
    assert read_notebook(build / "02_dedup_autoencoder_hashing.ipynb").figures == [
        ("Hash collisions, as the paper inspected them", "dedup_collisions.png")
    ]
    assert "De-duplication by autoencoder hashing (§4.1.1)" in page
    assert 'src="figures/dedup_collisions.png"' in page
    assert (index.parent / "figures" / "dedup_collisions.png").read_bytes() == (
        build / "dedup_collisions.png"
    ).read_bytes()
    assert "results/02_dedup.json" in page and "scores.autoencoder.fp_rate" in page
    html = (index.parent / "notebooks" / "02_dedup_autoencoder_hashing.html").read_text()
    assert "12 groups" in html and WIDGET_NOTE in html
    assert not re.search(r"<script[^>]*\bsrc=", html) and "cdn" not in html.lower()  # works offline


def test_report_cli(build):
    done = subprocess.run(
        [sys.executable, "-m", "dcgan_core", "report", "--build", str(build)], capture_output=True, text=True
    )
    assert done.returncode == 0 and (build / "report" / "index.html").exists(), done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "dcgan_core", "report", "--build", str(build / "missing")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and done.stderr.startswith("error: no build folder")
