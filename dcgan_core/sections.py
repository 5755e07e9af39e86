"""The companion's sections, in the paper's order, and the one pattern each follows.

Every section is a module with a config (a `Config` with `smoke`, `cpu` and `paper` profiles) and
`run(cfg) -> Result`, the whole measurement, whose numbers are saved as JSON where the claims read them
(`results.result_file(build, NAME)`); figure functions and a widget draw the result: they take it (the
widget, `widgets.MODULE_widget(result)`, also one `Result.read` from its file). Notebook NAME
composes exactly that, and `python -m dcgan_core run NAME` calls the same `run` (tests/test_sections.py
checks every section against this).
"""

from __future__ import annotations

import importlib
import typing
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from .config import Config
from .results import result_file

# notebook (and results file) → module
SECTIONS = {
    "01_training": "train",  # §4
    "02_dedup": "dedup",  # §4.1.1
    "03_representation": "representation",  # §5
    "04_latent_walk": "latent_walk",  # §6.1
    "05_guided_backprop": "guided_backprop",  # §6.2
    "06_forgetting_objects": "forgetting",  # §6.3.1
    "07_vector_arithmetic": "vector_arithmetic",  # §6.3.2
    "08_mnist_appendix": "mnist_appendix",  # §8.1
}


def find(name: str) -> str:
    """A section's NAME from its name, its module or its number: "dedup", "02" and "02_dedup" → "02_dedup"."""
    for key, module in SECTIONS.items():
        if name in (key, module, key[:2]):
            return key
    raise ValueError(f"no section {name!r}: the sections are " + ", ".join(f"{k} ({m})" for k, m in SECTIONS.items()))


def module(name: str) -> ModuleType:
    return importlib.import_module(f"{__package__}.{SECTIONS[find(name)]}")


def config_class(name: str) -> type[Config]:
    """The type of `run`'s `cfg`."""
    return typing.get_type_hints(module(name).run)["cfg"]


def result_class(name: str) -> type:
    """The type `run` returns (`result_class(NAME).read(path)`: a saved result back as that dataclass)."""
    return typing.get_type_hints(module(name).run)["return"]


def widget(name: str) -> Callable | None:
    """The section's widget, `widgets.MODULE_widget(result, …)` (None where there is none): it takes the Result."""
    return getattr(importlib.import_module(f"{__package__}.widgets"), f"{SECTIONS[find(name)]}_widget", None)


def run(name: str, cfg: Config, build: str | Path) -> Path:
    """Run section NAME with `cfg` and save its result where the notebook saves it; the file's path."""
    key = find(name)
    if cfg.__class__ is not config_class(key):
        raise ValueError(f"{key} runs a {config_class(key).__name__}, not a {type(cfg).__name__}")
    return module(key).run(cfg).save(result_file(build, key))
