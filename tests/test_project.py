"""Project hygiene: one dependency list, stripped notebooks, CI runs the README's test command."""

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_environment_yml_installs_pyproject_with_all_its_extras():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    python = [d for d in deps if isinstance(d, str) and d.startswith("python")]
    assert python == ["python=3.11"]
    assert "3.11" in project["requires-python"]
    # pip installs exactly this package with every extra pyproject defines, nothing else.
    pip = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    assert len(pip) == 1, "environment.yml must not list dependencies of its own: pyproject.toml is the list"
    m = re.fullmatch(r"-e \.\[([\w,\- ]+)\]", pip[0])
    assert m, pip[0]
    assert sorted(x.strip() for x in m.group(1).split(",")) == sorted(project["optional-dependencies"])
    # The user-requested packages are all in pyproject.
    listed = " ".join(project["dependencies"] + sum(project["optional-dependencies"].values(), []))
    for name in ("jupyterlab", "torch", "torchvision", "matplotlib", "ipywidgets", "papermill", "nbval"):
        assert re.search(rf"\b{name}\b", listed), name


def test_notebooks_are_stored_without_outputs():
    assert NOTEBOOKS
    r = subprocess.run(
        [sys.executable, "-m", "nbstripout", "--verify", *map(str, NOTEBOOKS)], capture_output=True, text=True
    )
    assert r.returncode == 0, f"run nbstripout on the notebooks before committing:\n{r.stdout}{r.stderr}"


def test_each_notebook_has_one_parameters_cell_with_profile_and_build_dir():
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text())["cells"]
        params = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(params) == 1, path.name
        source = "".join(params[0]["source"])
        for name in ("profile", "build_dir"):
            assert re.search(rf"^{name}\s*=", source, re.M), f"{path.name}: no `{name} =` in parameters"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    quickstart = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^(make \S+.*)$", quickstart, re.M)
    assert len(commands) == 2, commands  # exactly two commands: the main job and the tests
    test_cmd = next(c for c in commands if "test" in c)
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(rf"^{re.escape(test_cmd)}$", ci, re.M), f".ci/run must run `{test_cmd}`"
