"""Configs: one dataclass per experiment, one profile mechanism, one validator, CLI flags from fields.

Every experiment of the companion (training, §4.1.1 dedup, and each later section) has a config
dataclass derived from `Config`. A notebook's parameters cell, the CLI and the benchmarks all
build it the same way:

    cfg = TrainConfig.from_profile("smoke", epochs=3)      # a profile, then overrides (None = keep)

* **Profiles** — every config has `smoke` (CI: a couple of minutes on 2 CPU cores), `cpu` (a
  laptop CPU, tens of minutes) and `paper` (the paper's scale, one GPU), in `PROFILES`.
* **Validation** — one validator (`checked`) checks every field against its declared type,
  `min` and `choices` (from `option(...)`): `Config.__post_init__` names the field in one
  `ValueError` line, and the CLI's flags (`parse_flag`) are refused by the parser before any work;
  a subclass adds cross-field checks in `check()`.
* **CLI** — `option(default, help)` stores the help text beside the field; `cli_options` turns
  fields into `--flags` and `command_line` writes the command that rebuilds a config, so nothing
  in the package imports the CLI.

Paper defaults (§4), each with its reason, live in `TrainConfig` and nowhere else.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .diffaugment import parse_policy

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


@dataclass
class TrainConfig(Config):
    """One training run. The notebook's parameters cell and the CLI both build it, the trainer
    takes it, and every checkpoint stores it (so a checkpoint alone rebuilds its models)."""

    # --- data -----------------------------------------------------------------------------
    dataset: str = option(
        "celeba",
        "mnist, fashion-mnist, cifar10, celeba, scenes[:CLASS], lsun:CATEGORY, svhn or folder:PATH (data.DATASETS)",
    )
    split: str = option("train", "train or test (where the dataset has them)")
    limit: int | None = option(None, "use only the first N images (smoke runs)", min=1)
    keep: str | None = option(None, "train only on the images a dedup index kept (DIR/kept.json of `dedup`, §4.1.1)")
    # --- networks (models.py) -------------------------------------------------------------
    arch: str = option(
        "paper",
        "paper (Figure 1, 5x5 kernels), torch (pytorch/examples, 4x4), mnist (the "
        "authors' conditional MNIST nets, 28x28, §8.1) or fc (fully connected: §8.1's "
        "permutation-invariant GAN baseline)",
        choices=("paper", "torch", "mnist", "fc"),
    )
    image_size: int = option(64, "64 (LSUN, faces) or 32 (CIFAR-10, MNIST); 28 for arch mnist", min=16)
    nz: int = option(100, "size of z (Figure 1: 'A 100 dimensional uniform distribution Z')", min=1, flag=False)
    g_width: int | None = option(None, "G's last hidden width (default: paper 128, torch 64)", min=1)
    d_width: int | None = option(None, "D's first width (default: paper 128, torch 64)", min=1)
    channels: int | None = option(
        None, "None = the dataset's own (1 for MNIST, 3 otherwise)", choices=(1, 3), flag=False
    )
    conditional: bool = option(
        False,
        "class-conditional G and D (§8.1): the label goes to both nets (models.py); "
        "needs a dataset with class labels (data.DATASETS)",
    )
    n_classes: int | None = option(None, "classes of a conditional net; None = the dataset's own", min=2, flag=False)
    bn_affine: bool = option(
        True, "BatchNorm with learned scale and bias (§8.1: without them 'produced better results' on MNIST)"
    )
    # --- optimisation (§4) ----------------------------------------------------------------
    batch_size: int = option(128, "mini-batch size (§4: 'mini-batch SGD with a mini-batch size of 128')", min=1)
    lr: float = option(2e-4, "Adam learning rate (§4: '0.001 to be too high, using 0.0002 instead')")
    beta1: float = option(0.5, "Adam β1 (§4: '0.9 resulted in training oscillation … 0.5 helped')", min=0.0, flag=False)
    beta2: float = option(0.999, "Adam β2 (Adam's default; the paper does not change it)", min=0.0, flag=False)
    epochs: int = option(1, "epochs to train", min=1)
    max_steps: int | None = option(None, "stop after this many steps in total (overrides epochs)", min=1)
    lr_decay_from: int | None = option(
        None,
        "from this step on, lower Adam's learning rate linearly to zero at the "
        "last step (the authors' released MNIST code: 100 epochs at lr, then 100 "
        "decaying to zero; not in the paper's text)",
        min=0,
    )
    seed: int = option(0, "seed of init, data order and noise")
    # --- few-data training (not in the paper: off by default; diffaugment.py) ---------------
    diffaugment: str | None = option(
        None,
        "DiffAugment (Zhao et al. 2020; not in the paper) on every image D sees: "
        "comma-separated color, translation, cutout",
    )
    flip: bool = option(False, "mirror a random half of each real batch left-right (not in the paper)")
    # --- output ---------------------------------------------------------------------------
    out: str = option("runs/dcgan", "output folder (checkpoints/, samples/, metrics.csv: files.RunDir)")
    grid_every: int | None = option(None, "also save the fixed-noise grid every K steps (always each epoch)", min=1)
    ckpt_every: int = option(500, "write checkpoints/last.pt every K steps (and at each epoch end)", min=1)
    keep_every: int | None = option(
        None,
        "also keep a copy of the checkpoint every K steps as checkpoints/step_NNNNNNN.pt (features along a run, §5)",
        min=1,
    )
    n_grid: int = option(64, "images in the fixed-noise grid", min=1, flag=False)
    # --- evaluation during training (metrics.py; off unless eval_every is set) ----------------
    eval_every: int | None = option(
        None, "FID/KID every K steps into eval.csv; keeps checkpoints/best.pt by FID", min=1
    )
    eval_n: int = option(
        500,
        "samples (and real images) per FID: each evaluation during training, and notebook 01's "
        "trained vs untrained G at the end; small, so FID is biased high",
        min=2,
    )
    eval_split: str | None = option(None, "real images for those evaluations (default: test where there is one)")
    device: str = option("auto", "auto (cuda if available), cpu or cuda")
    # --- speed (no effect on the paper's hyper-parameters; see README "Performance") --------
    precision: str = option(
        "auto",
        "auto (bf16 where native), bf16 or fp32: bf16 autocasts convs and matmuls; weights, BN and the loss stay fp32",
        choices=("auto", "fp32", "bf16"),
    )
    channels_last: bool = option(True, "NHWC memory layout (faster convolutions on CPU and GPU)", flag=False)
    compile: bool = option(False, "torch.compile G and D")
    progress: bool = option(True, "tqdm progress bars")

    # Three profiles for notebook 01 and `make figures`. Values not set fall back to the defaults.
    PROFILES: ClassVar[dict[str, dict]] = {
        # CI: seconds to a couple of minutes on 2 CPU cores; shows the pipeline, not good samples.
        "smoke": dict(
            dataset="celeba",
            arch="torch",
            image_size=32,
            g_width=32,
            d_width=32,
            limit=1024,
            batch_size=64,
            epochs=2,
            ckpt_every=8,
            grid_every=8,
            eval_n=64,
        ),
        # The record's run (its time: results/cpu/run.json): 64×64 faces from CelebA-10k, 3 epochs (the zoo's
        # celeba64 is the long run of the same nets).
        "cpu": dict(dataset="celeba", arch="torch", image_size=64, batch_size=128, epochs=3, grid_every=100),
        # One GPU, the paper's settings: Figure 1's network, batch 128, Adam 2e-4 / 0.5.
        "paper": dict(
            dataset="celeba", arch="paper", image_size=64, batch_size=128, epochs=25, grid_every=1000, ckpt_every=1000
        ),
    }

    def check(self) -> None:
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")
        if not self.beta1 < 1 or not self.beta2 < 1:
            raise ValueError(f"beta1 and beta2 must be in [0, 1), got {self.beta1!r}, {self.beta2!r}")
        if self.arch == "mnist" and self.image_size != 28:
            raise ValueError(
                f"arch mnist (the authors' MNIST nets) draws 28×28 images: pass --image-size 28, got {self.image_size}"
            )
        if self.arch in ("paper", "torch") and self.image_size & (self.image_size - 1):  # fc: any size
            raise ValueError(f"image_size must be a power of two ≥ 16 (e.g. 32 or 64), got {self.image_size}")
        parse_policy(self.diffaugment)
        if self.lr_decay_from is not None and self.max_steps is not None and self.lr_decay_from >= self.max_steps:
            raise ValueError(
                f"lr_decay_from ({self.lr_decay_from}) must come before the last step "
                f"(max_steps {self.max_steps}): the decay runs from it to the end"
            )


# The fields that define the networks: a checkpoint resumes only under the same values.
MODEL_FIELDS = ("arch", "image_size", "nz", "g_width", "d_width", "channels", "conditional", "n_classes", "bn_affine")
# The fields that define the data: resuming under other values is refused unless asked for.
DATA_FIELDS = ("dataset", "split", "limit", "keep")
