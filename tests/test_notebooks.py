"""Every notebook, executed for real by papermill with the `smoke` profile (one test each).
Executed copies and figures go to the git-ignored build/test/smoke/."""

import json
import shutil
from pathlib import Path

import pytest

from dcgan_core.notebooks import run_notebooks

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
BUILD = ROOT / "build" / "test"

# The figures each notebook must produce (in build/test/smoke/).
FIGURES = {
    "01_training": ["fig1_generator.png", "fig1_trained_generator.png", "fig2_after_one_epoch.png",
                    "fig3_final_samples.png", "training_curves.png", "zoo_training_curves.png", "zoo_samples.png"],
    "02_dedup_autoencoder_hashing": ["dedup_injected_examples.png", "dedup_collisions.png", "dedup_false_collisions.png",
                                     "dedup_precision_recall.png", "dedup_threshold_sweep.png", "dedup_scaling.png"],
    "03_representation_learning": ["repr_table1.png", "repr_table2.png", "repr_ablations.png"],
    "04_latent_walk": ["fig4_latent_walk_rooms.png", "fig4_latent_walk_faces.png", "latent_walk_smoothness.png"],
    "05_guided_backprop": ["fig5_guided_backprop_rooms.png", "fig5_guided_backprop_faces.png",
                           "guided_backprop_selectivity.png"],
    "06_forgetting_objects": ["forgetting_window_boxes.png", "fig6_forgetting_windows.png",
                              "fig6_forgetting_eyeglasses.png", "forgetting_eyeglasses_curve.png"],
    "07_vector_arithmetic": ["fig7_smiling_man.png", "fig7_glasses_woman.png", "arithmetic_success_rates.png",
                             "fig8_turn_exemplars.png", "fig8_turn.png"],
    "08_mnist_appendix": ["fig9_mnist_samples.png", "mnist_nn_error.png"],
}


def execute(notebook: Path) -> Path:
    """Run one notebook at smoke into build/test/smoke/ from scratch (its stale executed copy, run
    folder and figures removed first: a run left there would be resumed). Returns the executed copy."""
    out = BUILD / "smoke"
    for stale in [out / notebook.name, out / "runs" / notebook.stem, *(out / f for f in FIGURES.get(notebook.stem, []))]:
        shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink(missing_ok=True)
    [executed] = run_notebooks("smoke", build=BUILD, only=[notebook.name[:2]])
    return executed


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
    # papermill never writes over the source notebook
    assert all(not c.get("outputs") for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "code")
