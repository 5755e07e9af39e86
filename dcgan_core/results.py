"""Results: what a section's `run(cfg)` returns, saved as JSON beside the figures.

Every section of the companion follows one pattern (sections.py lists them; tests/test_sections.py checks):

    cfg = SectionConfig.from_profile(profile, **parameters)   # config.py
    result = run(cfg)                                          # -> a Result dataclass
    result.save(result_file(build, "02_dedup"))                # build/PROFILE/results/02_dedup.json
    fig = some_figure(result)                                  # figure functions take the result

A `Result` is a dataclass whose JSON fields are its numbers (and its config); fields declared
with `artifact()` (tensors, models, injected images) are for figures and widgets in the same
session and are not saved. `claims.py` reads the saved numbers by key, e.g. "02_dedup.fp_rate".
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from .files import read_json, write_json


def artifact(default: Any = None) -> Any:
    """A Result field kept in memory only (figures, widgets), never written to JSON."""
    return dataclasses.field(default=default, repr=False, compare=False, metadata=dict(artifact=True))


def to_jsonable(value: Any) -> Any:
    """Dataclasses, numpy scalars/arrays, tuples and paths as plain JSON values (NaN → None)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_jsonable(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not f.metadata.get("artifact")
        }
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


class Laps(dict):
    """Seconds per step of a `run`: `laps("train")` records the time since the previous lap (or the
    start) under "train"; with `echo`, each step is printed with what it measured (a long run shows
    what it has as it goes)."""

    def __init__(self, echo: bool = False):
        super().__init__()
        self.echo, self.clock = echo, time.perf_counter()

    def __call__(self, step: str, row: Any = None) -> None:
        now = time.perf_counter()
        self[step], self.clock = round(now - self.clock, 2), now
        if self.echo:
            print(f"[{self[step]:.0f} s] {step}: {json.dumps(to_jsonable(row))}", flush=True)


@dataclasses.dataclass
class Result:
    """Base of every section's result. Subclasses add their numbers as fields."""

    def to_dict(self) -> dict:
        return to_jsonable(self)

    def save(self, path: str | Path) -> Path:
        """Write the numbers as JSON (atomically), with the result's type name."""
        return write_json(path, {"result": type(self).__name__, **self.to_dict()})

    @staticmethod
    def load(path: str | Path) -> dict:
        """A saved result's numbers, as a dict (what the report and the claims read)."""
        return read_json(path, "results file")


def result_file(build: str | Path, name: str) -> Path:
    """build/PROFILE/results/NAME.json: where section NAME ("02_dedup", see sections.SECTIONS) saves its result."""
    return results_dir(build) / f"{name}.json"


def results_dir(build: str | Path) -> Path:
    """build/PROFILE/results: where each executed notebook writes NN_name.json."""
    return Path(build) / "results"


def lookup(results: dict[str, dict], key: str) -> Any:
    """A number by dotted key: "02_dedup.scores.autoencoder.fp_rate" → results["02_dedup"]["scores"]…"""
    name, _, rest = key.partition(".")
    value: Any = results[name]
    for part in rest.split(".") if rest else []:
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def load_results(folder: str | Path) -> dict[str, dict]:
    """Every NN_name.json in `folder` (build/PROFILE/results), by name."""
    return {p.stem: Result.load(p) for p in sorted(Path(folder).glob("*.json"))}
