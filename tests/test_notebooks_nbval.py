"""Reproducibility with nbval: a second run of an executed `smoke` notebook prints the same numbers.

The executed copy that tests/test_notebooks.py writes (build/test/smoke/NN_*.ipynb) is run again,
cell by cell in a fresh kernel, by `pytest --nbval-lax`: the cells marked `# NBVAL_CHECK_OUTPUT`
in the source notebook (the ones that print results: layer tables, losses, scores, the claims
table) must print exactly what the first run printed; the others only have to run. A cell whose
output legitimately varies is marked `# NBVAL_IGNORE_OUTPUT` with its reason (timings, progress
bars). What this proves: seeded data draws, initialisation and training give the same numbers on
the CPU run after run, and the notebooks print them the same way.

The copy runs into a fresh build folder (its `build_dir` parameter rewritten): a training run left
in the first folder would be resumed, not redone.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_notebooks import NOTEBOOKS, executed_copy

NBVAL = ("01", "02")  # ours: the notebooks checked so far (each re-run costs its smoke time once more)


def nbval(notebook: Path, cwd: Path) -> subprocess.CompletedProcess:
    """`pytest --nbval-lax` on one notebook, in this Python, outside the project's pytest config."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval-lax",
            "--nbval-current-env",
            "-p",
            "no:cacheprovider",
            "-q",
            "--rootdir",
            str(cwd),
            str(notebook),
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
    )


def checked_cells(nb: dict) -> int:
    return sum(
        re.search(r"^\s*# NBVAL_CHECK_OUTPUT\s*$", "".join(c["source"]), re.M) is not None
        for c in nb["cells"]
        if c["cell_type"] == "code"
    )


@pytest.mark.slow
@pytest.mark.parametrize("notebook", [n for n in NOTEBOOKS if n.name[:2] in NBVAL], ids=lambda p: p.stem)
def test_a_second_run_prints_the_same_numbers(notebook, tmp_path):
    nb = json.loads(executed_copy(notebook).read_text())
    assert checked_cells(nb) >= 2, "mark the cells that print results with # NBVAL_CHECK_OUTPUT"
    [params] = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    source = "".join(params["source"])
    assert re.search(r"^build_dir = ", source, re.M), source
    params["source"] = re.sub(r"^build_dir = .*$", f"build_dir = {str(tmp_path / 'build')!r}", source, flags=re.M)
    copy = tmp_path / notebook.name
    copy.write_text(json.dumps(nb))

    done = nbval(copy, tmp_path)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert (tmp_path / "build" / "results").is_dir()  # it really ran again, into the fresh folder


def test_nbval_catches_a_number_that_changes(tmp_path):
    """The check can fail: a cell printing an unseeded random number does not reproduce; the same
    cell seeded does."""
    import nbformat
    from nbclient import NotebookClient

    cells = {
        "seeded": "# NBVAL_CHECK_OUTPUT\nimport random\nrandom.seed(0)\nprint('draw', random.random())",
        "unseeded": "# NBVAL_CHECK_OUTPUT\nimport random\nprint('draw', random.random())",
    }
    for name, source in cells.items():
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        NotebookClient(nb, kernel_name="python3").execute()  # the first run, its output stored
        nbformat.write(nb, tmp_path / f"{name}.ipynb")
    assert nbval(tmp_path / "seeded.ipynb", tmp_path).returncode == 0
    done = nbval(tmp_path / "unseeded.ipynb", tmp_path)
    assert done.returncode != 0 and "draw" in done.stdout, done.stdout[-3000:]
