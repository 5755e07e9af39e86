"""Results: what a section's `run(cfg)` returns, saved as JSON beside the figures.

Every section of the companion follows one pattern (sections.py lists them; tests/test_sections.py checks):

    cfg = SectionConfig.from_profile(profile, **parameters)   # config.py
    result = run(cfg)                                          # -> a Result dataclass
    result.save(result_file(build, "02_dedup"))                # build/PROFILE/results/02_dedup.json
    fig = some_figure(result)                                  # figure functions take the result

A `Result` is a dataclass whose JSON fields are its numbers (and its config); fields declared
with `artifact()` (tensors, models, injected images) are for figures and widgets in the same
session and are not saved. `claims.py` reads the saved numbers by key, e.g. "02_dedup.fp_rate".
`SectionResult.read(path)` turns a saved file back into the dataclass, its artifacts None: a section's
widget takes either (`rebuild` loads what it needs again from the models and data the config names).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
import types
import typing
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


def from_jsonable(tp: Any, value: Any) -> Any:
    """`to_jsonable`'s value back as type `tp`: dataclasses (a config through its `from_dict`; artifact
    fields left at their default, fields computed after init set as saved), dicts (int keys from their
    strings), lists, tuples, optionals; numpy arrays from lists; anything else as it is."""
    from .config import Config

    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if value is None:
        return None
    if origin in (typing.Union, types.UnionType):
        return from_jsonable(next(a for a in args if a is not type(None)), value)
    if isinstance(tp, type) and issubclass(tp, Config):
        return tp.from_dict(value)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        fields = [f for f in dataclasses.fields(tp) if not f.metadata.get("artifact")]
        # a field with a default may be missing (a file saved before it was added); one without is a KeyError
        given = [
            f for f in fields if f.init and (f.name in value or f.default is f.default_factory is dataclasses.MISSING)
        ]
        obj = tp(**{f.name: from_jsonable(hints[f.name], value[f.name]) for f in given})
        for f in fields:
            if not f.init and f.name in value:
                object.__setattr__(obj, f.name, from_jsonable(hints[f.name], value[f.name]))
        return obj
    if origin is dict and args:
        return {from_jsonable(args[0], k): from_jsonable(args[1], v) for k, v in value.items()}
    if origin is list and args:
        return [from_jsonable(args[0], v) for v in value]
    if origin is tuple:
        items = args[:1] * len(value) if args[-1:] == (...,) else args or (Any,) * len(value)
        return tuple(from_jsonable(t, v) for t, v in zip(items, value))
    if tp is np.ndarray:
        return np.asarray(value)
    if tp in (int, float) and isinstance(value, str):  # a dict's key
        return tp(value)
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

    @classmethod
    def read(cls, path: str | Path):
        """A saved result as this dataclass again (nested dataclasses and configs rebuilt from their
        type hints); its artifacts are None. A file of another Result class, or one missing a field
        (saved by an older version), is a ValueError."""
        d = cls.load(path)
        if d.get("result") != cls.__name__:
            raise ValueError(f"{path} holds a {d.get('result')}, not a {cls.__name__}")
        try:
            return from_jsonable(cls, {k: v for k, v in d.items() if k != "result"})
        except (TypeError, KeyError) as e:
            raise ValueError(f"{path} is not a {cls.__name__} of this version ({e}): run the section again") from None

    def rebuild(self):
        """Load again the artifacts its widget needs (after `read`), from what the config names; in place,
        returning self. Here nothing: a section whose widget needs models or data overrides it."""
        return self


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
