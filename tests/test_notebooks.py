"""Every notebook, executed for real by papermill with the `smoke` profile (one test each).
Executed copies and figures go to the git-ignored build/test/smoke/."""

import json
import shutil
from pathlib import Path

import pytest

from dcgan_core.claims import CLAIMS, judge
from dcgan_core.notebooks import run_notebooks
from dcgan_core.results import load_results
from dcgan_core.verdicts import unexpected

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
BUILD = ROOT / "build" / "test"

# The figures each notebook must produce (in build/test/smoke/).
FIGURES = {
    "01_training": [
        "fig1_generator.png",
        "fig1_trained_generator.png",
        "fig2_after_one_epoch.png",
        "fig3_final_samples.png",
        "training_curves.png",
        "zoo_training_curves.png",
        "zoo_samples.png",
    ],
    "02_dedup_autoencoder_hashing": [
        "dedup_injected_examples.png",
        "dedup_collisions.png",
        "dedup_false_collisions.png",
        "dedup_precision_recall.png",
        "dedup_threshold_sweep.png",
        "dedup_scaling.png",
    ],
    "03_representation_learning": [
        "repr_table1.png",
        "repr_kmeans_ablation.png",
        "repr_table2.png",
        "repr_ablations.png",
    ],
    "04_latent_walk": ["fig4_latent_walk_rooms.png", "fig4_latent_walk_faces.png", "latent_walk_smoothness.png"],
    "05_guided_backprop": [
        "fig5_guided_backprop_rooms.png",
        "fig5_guided_backprop_faces.png",
        "guided_backprop_selectivity.png",
    ],
    "06_forgetting_objects": [
        "forgetting_window_boxes.png",
        "fig6_forgetting_windows.png",
        "fig6_forgetting_eyeglasses.png",
        "forgetting_eyeglasses_curve.png",
        "forgetting_windows_replaced.png",
        "forgetting_windows_curve.png",
    ],
    "07_vector_arithmetic": [
        "fig7_smiling_man.png",
        "fig7_glasses_woman.png",
        "arithmetic_success_rates.png",
        "fig8_turn_exemplars.png",
        "fig8_turn.png",
    ],
    "08_mnist_appendix": ["fig9_mnist_samples.png", "mnist_nn_error.png"],
}


def execute(notebook: Path) -> Path:
    """Run one notebook at smoke into build/test/smoke/ from scratch (its stale executed copy, run
    folder and figures removed first: a run left there would be resumed). Returns the executed copy."""
    out = BUILD / "smoke"
    for stale in [
        out / notebook.name,
        out / "runs" / notebook.stem,
        *(out / f for f in FIGURES.get(notebook.stem, [])),
    ]:
        shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink(missing_ok=True)
    [run] = run_notebooks("smoke", build=BUILD, only=[notebook.name[:2]])
    return Path(run["path"])


def executed_copy(notebook: Path) -> Path:
    """The executed smoke copy that the test below writes (the browser and nbval tests read it);
    executed here when missing or older than its source or any module of the package."""
    copy = BUILD / "smoke" / notebook.name
    newest = max(p.stat().st_mtime for p in [notebook, *(ROOT / "dcgan_core").glob("*.py")])
    return copy if copy.exists() and copy.stat().st_mtime > newest else execute(notebook)


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_with_smoke_profile(notebook):
    out = BUILD / "smoke"
    executed = execute(notebook)

    cells = json.loads(executed.read_text())["cells"]
    errors = [o for c in cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    for name in FIGURES.get(notebook.stem, []):
        assert (out / name).stat().st_size > 1000, name
    # CI's regression guard: at smoke every claim of the notebook is judged as expected (its bound holds
    # and its control fails, or it is skipped with its reason)
    verdicts = [judge(c, load_results(out / "results"), "smoke") for c in CLAIMS if c.key[:2] == notebook.name[:2]]
    assert verdicts and not unexpected(verdicts), unexpected(verdicts)
    # papermill never writes over the source notebook
    assert all(not c.get("outputs") for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "code")


def tiny_notebook(path: Path, body: str) -> Path:
    """A notebook with a papermill parameters cell and one code cell."""
    import nbformat

    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell('profile = "smoke"\nbuild_dir = "."', metadata={"tags": ["parameters"]}),
            nbformat.v4.new_code_cell(body),
        ]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
def test_make_figures_runs_every_notebook_and_ends_by_listing_what_went_wrong(tmp_path):
    """A failing notebook does not stop the next one; the run is timed into run.json; a notebook whose
    results lack a claim's number, and the failed one, are listed; the exit code says so."""
    from dcgan_core.notebooks import make_figures

    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    tiny_notebook(nbs / "01_training.ipynb", "raise RuntimeError('boom')")
    tiny_notebook(
        nbs / "02_dedup.ipynb",
        "import json, pathlib\np = pathlib.Path(build_dir) / 'results'\n"
        "p.mkdir(exist_ok=True)\n(p / '02_dedup.json').write_text(json.dumps("
        "{'scores': {'autoencoder': {'fp_rate': 0.001}}}))",
    )
    lines = []
    code = make_figures(
        "smoke", build=tmp_path / "build", notebooks=nbs, record_dir=tmp_path / "no-record", echo=lines.append
    )
    out = "\n".join(lines)
    assert code == 1
    assert "[1/2] 01_training" in out and "[2/2] 02_dedup: done in" in out and "FAILED" in out
    assert "UNEXPECTED: 01_training failed: RuntimeError: boom" in out
    assert "UNEXPECTED: dedup-fp-rate: result key '02_dedup.controls.fp_rate_16_bits' is missing" in out
    assert "UNEXPECTED: dedup-linear-time: result key" not in out  # skipped at smoke: needs no number
    assert "training-separates" not in out  # 01 failed: its claims are not judged
    run = json.loads((tmp_path / "build" / "smoke" / "run.json").read_text())
    assert [(t["notebook"], t["ok"]) for t in run["notebooks"]] == [("01_training", False), ("02_dedup", True)]
    assert run["seconds"] == pytest.approx(sum(t["seconds"] for t in run["notebooks"]), abs=0.2)
    assert run["machine"]["cores"] >= 1 and run["profile"] == "smoke" and len(run["commit"]) == 40
    assert (tmp_path / "build" / "smoke" / "report" / "index.html").is_file()
