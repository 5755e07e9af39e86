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
}


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_with_smoke_profile(notebook):
    out = BUILD / "smoke"
    for stale in [out / notebook.name, out / "runs" / notebook.stem, *(out / f for f in FIGURES.get(notebook.stem, []))]:
        shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink(missing_ok=True)

    [executed] = run_notebooks("smoke", build=BUILD, only=[notebook.name[:2]])

    cells = json.loads(executed.read_text())["cells"]
    errors = [o for c in cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    for name in FIGURES.get(notebook.stem, []):
        assert (out / name).stat().st_size > 1000, name
    # papermill never writes over the source notebook
    assert all(not c.get("outputs") for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "code")
