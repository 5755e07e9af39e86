"""Configs: one dataclass per experiment, one profile mechanism, one validator, CLI flags from fields.

Every experiment of the companion (training, §4.1.1 dedup, and each later section) has a config
dataclass derived from `Config`. A notebook's parameters cell, the CLI and the benchmarks all
build it the same way:

    cfg = TrainConfig.from_profile("smoke", epochs=3)      # a profile, then overrides (None = keep)

Each config lives in its section's module (`TrainConfig` in models.py, beside the networks it builds,
importable from train.py, its section: checkpoints and the zoo, below the trainer, rebuild models from it).

* **Profiles** — every config has `smoke` (CI: a couple of minutes on 2 CPU cores), `cpu` (a
  laptop CPU, tens of minutes) and `paper` (the paper's scale, one GPU), in `PROFILES`.
* **Validation** — one validator (`checked`) checks every field against its declared type,
  `min` and `choices` (from `option(...)`): `Config.__post_init__` names the field in one
  `ValueError` line, and the CLI's flags (`parse_flag`) are refused by the parser before any work;
  a subclass adds cross-field checks in `check()`.
* **CLI** — `option(default, help)` stores the help text beside the field; `cli_options` turns
  fields into `--flags` and `command_line` writes the command that rebuilds a config, so nothing
  in the package imports the CLI.

Paper defaults (§4), each with its reason, live in `TrainConfig` (models.py) and nowhere else.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import field
from typing import Any, ClassVar

PROFILE_NAMES = ("smoke", "cpu", "paper")


def option(
    default: Any, help: str, *, min: float | None = None, choices: tuple | None = None, flag: bool = True
) -> Any:
    """A config field with its help text (the CLI's `--help`), an optional lower bound and set of
    choices (checked by `Config.__post_init__`), and whether the CLI offers it as a flag."""
    return field(default=default, metadata=dict(help=help, min=min, choices=choices, flag=flag))


def _base_type(annotation) -> tuple[type, bool]:
    """`int | None` → (int, True); `float` → (float, False); `tuple[int, ...]` → (tuple, False)."""
    optional = False
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        annotation = args[0]
    return (typing.get_origin(annotation) or annotation), optional


def checked(value: Any, typ: type, optional: bool, meta) -> Any:
    """`value` as a field of type `typ` with `meta`'s `min` and `choices` (an int where a float is
    declared, a list where a tuple is, converted), else ValueError("must be …, got …"): the one
    validator of config fields (`Config.__post_init__`) and of the CLI's flags (`parse_flag`)."""
    if value is None:
        if not optional:
            raise ValueError("must not be None")
        return value
    if typ is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if typ is tuple and isinstance(value, list):
        value = tuple(value)
    if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
        raise ValueError(f"must be {'None or ' if optional else ''}{typ.__name__}, got {value!r}")
    if meta.get("min") is not None and value < meta["min"]:
        raise ValueError(f"must be ≥ {meta['min']}, got {value!r}")
    if meta.get("choices") is not None and value not in meta["choices"]:
        raise ValueError(f"must be one of {', '.join(map(repr, meta['choices']))}, got {value!r}")
    return value


class Config:
    """Base of every experiment config (a dataclass): profiles, validation, dict round-trip."""

    PROFILES: ClassVar[dict[str, dict]] = {name: {} for name in PROFILE_NAMES}

    def __post_init__(self):
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):
            typ, optional = _base_type(hints[f.name])
            try:
                value = checked(getattr(self, f.name), typ, optional, f.metadata)
            except ValueError as e:
                raise ValueError(f"{f.name} {e}") from None
            object.__setattr__(self, f.name, value)
        self.check()

    def check(self) -> None:
        """Cross-field checks of a subclass (raise ValueError naming the field)."""

    @classmethod
    def from_profile(cls, profile: str, **overrides):
        """The config of a named profile, with `overrides` (None values are ignored, so a notebook's
        parameters cell can leave anything at None = "the profile's value")."""
        if profile not in cls.PROFILES:
            raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(cls.PROFILES)}")
        return cls.from_dict({**cls.PROFILES[profile], **{k: v for k, v in overrides.items() if v is not None}})

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict):
        if not isinstance(d, dict):
            raise ValueError(f"a {cls.__name__} must be a dict of fields, got {type(d).__name__} {str(d)[:60]!r}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown {cls.__name__} field(s) {sorted(unknown)}; known: {sorted(names)}")
        return cls(**d)


def cli_options(cls: type[Config]) -> list[tuple[str, str, type, str]]:
    """(flag, field, type, help) for each field the CLI offers: `--image-size` for `image_size`.
    bool fields are switches (`--flip` / `--no-flip`)."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        if f.metadata.get("flag", False):
            typ, _ = _base_type(hints[f.name])
            out.append((f"--{f.name.replace('_', '-')}", f.name, typ, f.metadata["help"]))
    return out


def parse_flag(cls: type[Config], name: str, text: str) -> Any:
    """The text of field `name`'s flag as its value, checked as the config checks it (`checked`): a
    flag out of bounds is refused by the parser, before any work, for every command."""
    f = next(f for f in dataclasses.fields(cls) if f.name == name)
    hint = typing.get_type_hints(cls)[name]
    typ, optional = _base_type(hint)
    if typ is tuple:  # tuple[str, ...] and the like: comma-separated ("zoo:scenes64,zoo:celeba64")
        args = typing.get_args(next((a for a in typing.get_args(hint) if typing.get_origin(a) is tuple), hint))
        elem = args[0] if args else str
        try:
            value = tuple(elem(part.strip()) for part in text.split(",") if part.strip())
        except ValueError:
            raise ValueError(f"must be comma-separated {elem.__name__} values, got {text!r}") from None
    else:
        try:
            value = typ(text)
        except ValueError:
            raise ValueError(f"must be {'an' if typ is int else 'a'} {typ.__name__}, got {text!r}") from None
    return checked(value, typ, False, f.metadata)


def command_line(cfg: Config, command: str, skip: tuple[str, ...] = ()) -> str:
    """The CLI command that builds `cfg` from the defaults (only the flags that differ)."""
    default = type(cfg)()
    flags = []
    for flag, name, typ, _ in cli_options(type(cfg)):
        value = getattr(cfg, name)
        if name in skip or value == getattr(default, name):
            continue
        flags.append((flag if value else f"--no-{flag[2:]}") if typ is bool else f"{flag} {value}")
    return " ".join([f"python -m dcgan_core {command}", *flags])


def resolve_device(name: str, local_rank: int = 0):
    """A `device` option as a torch.device: "auto" → cuda where there is a GPU, else cpu; a device
    this machine lacks, or an unknown name, is one ValueError line. Every command's device goes
    through here."""
    import torch

    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ValueError(
                f"--device {name}: this machine has no CUDA GPU that torch can use; use --device cpu (or auto)"
            )
        try:
            device = torch.device("cuda", local_rank) if name == "cuda" else torch.device(name)
        except RuntimeError:
            device = None
        if device is None or device.index >= torch.cuda.device_count():
            raise ValueError(
                f"--device {name}: this machine has {torch.cuda.device_count()} GPU(s), cuda:0 to "
                f"cuda:{torch.cuda.device_count() - 1}; use one of them, cpu or auto"
            )
        return device
    if name != "cpu":
        raise ValueError(f"unknown device {name!r}: use --device auto, cpu or cuda")
    return torch.device(name)
