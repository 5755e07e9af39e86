"""Every section follows one pattern (sections.py): a config with smoke / cpu / paper profiles whose
fields carry their help, `run(cfg) -> Result`, a widget `widgets.MODULE_widget` that takes that Result, a
notebook that builds the config from its profile, calls `run`, saves to `result_file(BUILD, NAME)` and shows
the widget of the result (no widget built from pieces), and `python -m dcgan_core run NAME` calling the same `run`.
`deviations` lists what breaks the pattern; KNOWN holds the deviations not fixed yet, each with why."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import types
from pathlib import Path

import pytest
import torch

from dcgan_core import sections
from dcgan_core.config import PROFILE_NAMES, Config, option
from dcgan_core.latent_walk import LatentWalkConfig
from dcgan_core.results import Result

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

# Deviations not fixed yet, exactly as `deviations` names them, and why (remove an entry when its section
# conforms: the test then insists on it). None today.
KNOWN: dict[str, tuple[set[str], str]] = {}


def deviations(module, key: str, notebook: str, widget=None) -> list[str]:
    """What in `module` (section `key`), its `widget` and its notebook's code breaks the pattern."""
    import inspect
    import typing

    out = []
    run = getattr(module, "run", None)
    if run is None:
        return ["no run(cfg)"]
    params = list(inspect.signature(run).parameters.values())
    hints = typing.get_type_hints(run)
    cls = hints.get("cfg")
    if not params or params[0].name != "cfg" or any(p.default is p.empty for p in params[1:]):
        out.append("run's signature is not run(cfg, <optional…>)")
    if not (isinstance(cls, type) and issubclass(cls, Config)):
        out.append("run's cfg is not annotated with a Config class")
    else:
        if set(cls.PROFILES) != set(PROFILE_NAMES):
            out.append(f"{cls.__name__}.PROFILES is {sorted(cls.PROFILES)}, not {list(PROFILE_NAMES)}")
        for profile in set(cls.PROFILES) & set(PROFILE_NAMES):
            try:
                cls.from_profile(profile)
            except ValueError as e:
                out.append(f"{cls.__name__}.from_profile({profile!r}) fails: {e}")
        bare = [f.name for f in dataclasses.fields(cls) if not f.metadata.get("help")]
        if bare:
            out.append(f"{cls.__name__} fields without option(…, help): {bare}")
        if f"{cls.__name__}.from_profile(profile" not in notebook:
            out.append(f"the notebook does not build {cls.__name__}.from_profile(profile, …)")
    result = hints.get("return")
    if not (isinstance(result, type) and issubclass(result, Result)):
        out.append("run does not return one Result class")
    if "run(cfg" not in notebook:
        out.append("the notebook does not call run(cfg…)")
    if f'result_file(BUILD, "{key}")' not in notebook:
        out.append(f'the notebook does not save to result_file(BUILD, "{key}")')
    out += widget_deviations(module, notebook, widget, result)
    return out


def widget_deviations(module, notebook: str, widget, result) -> list[str]:
    """The widget's first parameter must be annotated with the section's Result class (resolved in the
    section's module), and the notebook must show `widget(result…)` and import no other widget."""
    import inspect
    import re
    import typing

    if widget is None:
        return ["no widget: widgets.MODULE_widget(result) is missing"]
    out, name = [], widget.__name__
    params = list(inspect.signature(widget).parameters.values())
    try:
        first = typing.get_type_hints(widget, localns=vars(module)).get(params[0].name) if params else None
    except NameError as e:
        first = f"unresolvable ({e})"
    if not (isinstance(result, type) and first is result):
        out.append(f"{name} does not take the Result: its first parameter is annotated {first}, not the run's {result}")
    if f"{name}(result" not in notebook:
        out.append(f"the notebook does not show {name}(result…)")
    imported = re.findall(r"^from dcgan_core\.widgets import (.+)$", notebook, re.M)
    others = sorted({n.strip() for names in imported for n in names.split(",")} - {name})
    if others:
        out.append(f"the notebook builds widgets from pieces: {others}")
    return out


def notebook_code(key: str) -> str:
    import nbformat

    (path,) = [p for p in NOTEBOOKS.glob("*.ipynb") if p.stem.startswith(key)]
    return "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")


def test_every_notebook_is_a_section_and_every_section_a_notebook():
    notebooks = sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    assert [n[:2] for n in notebooks] == [k[:2] for k in sections.SECTIONS]
    assert all(n.startswith(k) for n, k in zip(notebooks, sections.SECTIONS))


@pytest.mark.parametrize("key", sections.SECTIONS)
def test_the_section_follows_the_pattern(key):
    found = deviations(sections.module(key), key, notebook_code(key), sections.widget(key))
    if key in KNOWN:
        assert set(found) == KNOWN[key][0], f"{key}: {found} (KNOWN says {sorted(KNOWN[key][0])}: update it)"
    else:
        assert not found, f"{key}: " + "; ".join(found)


def test_deviations_are_found():
    """The check can fail: a section with a profile missing, a bare field, a run without a Result, a
    widget that takes pieces instead of the Result and a notebook that builds its paths by hand and its
    widget from pieces gets each named."""

    @dataclasses.dataclass
    class BadConfig(Config):
        n: int = option(3, "how many")
        k: int = 2
        PROFILES = {"smoke": {}, "cpu": {}}

    def run(cfg: BadConfig, other):
        return None

    run.__annotations__ = {"cfg": BadConfig, "other": int}

    def bad_widget(G, z):
        return None

    bad_widget.__annotations__ = {"G": torch.nn.Module}
    found = deviations(
        types.SimpleNamespace(run=run),
        "09_bad",
        'cfg = BadConfig.from_profile(profile)\nresult = run(cfg)\nresult.save(BUILD / "x.json")\n'
        "from dcgan_core.widgets import sample_explorer\ndisplay(sample_explorer(result.G))",
        bad_widget,
    )
    text = "\n".join(found)
    for words in ("signature", "PROFILES", "without option", "one Result class", "result_file"):
        assert words in text, (words, found)
    for words in ("bad_widget does not take the Result", "does not show bad_widget(result", "from pieces"):
        assert words in text, (words, found)
    assert "no widget" in "\n".join(deviations(types.SimpleNamespace(run=run), "09_bad", "", None))


def test_a_widget_that_takes_the_result_passes():
    """The widget check passes a widget whose first parameter is the Result (a name of the section's
    module) that the notebook shows, and fails one annotated with another Result."""
    from dcgan_core import latent_walk
    from dcgan_core.guided_backprop import GuidedBackpropResult

    def good(result, k=3):
        return None

    def other(result: GuidedBackpropResult):
        return None

    # strings, as `from __future__ import annotations` leaves them
    good.__annotations__ = {"result": "LatentWalkResult", "k": "int"}
    shown = "from dcgan_core.widgets import good\ndisplay(good(result))"
    assert widget_deviations(latent_walk, shown, good, latent_walk.LatentWalkResult) == []
    other.__name__ = "good"
    assert "does not take the Result" in widget_deviations(latent_walk, shown, other, latent_walk.LatentWalkResult)[0]


@pytest.mark.slow
def test_the_cli_runs_a_section_as_its_notebook_does(tmp_path):
    """`run latent_walk` (a real process): the section's run at smoke, saved where the notebook saves it,
    with the profile's config and a flag from the config applied."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "dcgan_core",
            "run",
            "latent_walk",
            "--profile",
            "smoke",
            "--build",
            str(tmp_path),
            "--seed",
            "3",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    saved = json.loads((tmp_path / "results" / "04_latent_walk.json").read_text())
    assert saved["result"] == "LatentWalkResult"
    assert LatentWalkConfig.from_dict(saved["config"]) == LatentWalkConfig.from_profile("smoke", seed=3)
    bad = subprocess.run(
        [sys.executable, "-m", "dcgan_core", "run", "latent_walk", "--steps", "0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--steps" in bad.stderr


def test_a_tuple_flag_is_comma_separated_values():
    """`run latent_walk --models zoo:a,zoo:b` (a tuple[str, ...] field): the values, not the characters."""
    from dcgan_core.config import parse_flag
    from dcgan_core.vector_arithmetic import ArithmeticConfig

    assert parse_flag(LatentWalkConfig, "models", "zoo:scenes64") == ("zoo:scenes64",)
    assert parse_flag(LatentWalkConfig, "models", "zoo:scenes64, zoo:celeba64") == ("zoo:scenes64", "zoo:celeba64")
    assert parse_flag(ArithmeticConfig, "equations", "smiling-man") == ("smiling-man",)


RECORD = Path(__file__).resolve().parents[1] / "results" / "cpu" / "results"


@pytest.mark.parametrize("key", sections.SECTIONS)
def test_a_saved_result_reads_back_as_its_class(key):
    """`Result.read` gives the section's dataclass again (nested dataclasses, configs, int keys), its numbers
    as saved: the record's file (results/cpu/results/) read and written back is the same JSON (and None for a
    field added since, in the result or its config); its artifacts are None."""
    cls = sections.result_class(key)
    saved = Result.load(RECORD / f"{key}.json")
    result = cls.read(RECORD / f"{key}.json")
    written = {"result": cls.__name__, **result.to_dict()}
    assert type(result) is cls and {k: written[k] for k in saved} == {**saved, "config": written["config"]}
    assert all(written[k] is None for k in set(written) - set(saved))  # a field added since, with its default
    # the config the same, and a config field added since None: how the record ran (e.g. c_stop: every C tried)
    config = written["config"]
    assert {k: config[k] for k in saved["config"]} == saved["config"]
    assert all(config[k] is None for k in set(config) - set(saved["config"])), set(config) - set(saved["config"])
    assert isinstance(result.config, (Config, dict))
    artifacts = [f.name for f in dataclasses.fields(cls) if f.metadata.get("artifact")]
    assert all(getattr(result, name) is None for name in artifacts), artifacts


def test_reading_another_sections_file_fails(tmp_path):
    """A file of another Result class, or one that lacks a field without default, is a ValueError naming the file."""
    from dcgan_core.latent_walk import LatentWalkResult

    with pytest.raises(ValueError, match="holds a DedupEvaluation, not a LatentWalkResult"):
        LatentWalkResult.read(RECORD / "02_dedup.json")
    saved = Result.load(RECORD / "04_latent_walk.json")
    del saved["walks"]
    (tmp_path / "old.json").write_text(json.dumps(saved))
    with pytest.raises(ValueError, match="old.json is not a LatentWalkResult of this version"):
        LatentWalkResult.read(tmp_path / "old.json")
