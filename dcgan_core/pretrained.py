"""The model zoo: DCGANs trained by this project's own CLI, committed under `zoo/`; and
`load_models`, the one way to rebuild G and D from a checkpoint file or a zoo name.

Each model is one `zoo/NAME.safetensors` (G's and D's weights in fp16 — half the bytes, and
safetensors holds tensors only, so loading runs no code), its training config in the file's
metadata, and a model card `zoo/NAME.md` (data, command, steps, wall time, machine, FID/KID,
sample grid, learning curves in `zoo/NAME-metrics.csv`). `zoo/zoo.json` lists each file's
sha256; `load(NAME)` refuses a file that does not match it. An entry exported with
`generator_only` holds G alone (D is None; what needs D says so through `require_discriminator`).

    G, D, cfg = pretrained.load("celeba64")        # or checkpoint paths "zoo:celeba64" anywhere

`export(checkpoint, NAME)` writes a checkpoint's weights into the zoo; `cards.export_run` makes
the whole entry (card, grid, curves, FID) from a training run (`python -m dcgan_core export`).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from .checkpoint import CheckpointError, checkpoint_file, load_checkpoint
from .data import REPO_ROOT
from .files import atomic_write, read_json, write_json
from .models import Discriminator, Generator, TrainConfig, build_models

ZOO_DIR = REPO_ROOT / "zoo"
ZOO_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # one file name in zoo/: never a path, never hidden


class PretrainedError(CheckpointError):
    """An unknown zoo name, a missing file, or a file whose sha256 is not the recorded one."""


def manifest(zoo_dir: str | Path = ZOO_DIR) -> dict[str, dict]:
    """zoo.json: {name: {"file", "sha256", "dataset", "image_size", "steps"}}."""
    path = Path(zoo_dir) / "zoo.json"
    if not path.is_file():
        return {}
    try:
        return read_json(path, "zoo manifest")
    except ValueError as e:
        raise PretrainedError(str(e)) from None


def sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load(
    name: str, zoo_dir: str | Path = ZOO_DIR, map_location="cpu"
) -> tuple[Generator, Discriminator | None, TrainConfig]:
    """G and D (fp32, eval mode; D None for a G-only entry) and the training config of zoo model
    `name`, after checking the file's sha256 against zoo.json."""
    entries = manifest(zoo_dir)
    if name not in entries:
        raise PretrainedError(f"no zoo model {name!r}; the zoo has {sorted(entries) or 'nothing'} (in {zoo_dir})")
    path = Path(zoo_dir) / entries[name]["file"]
    if not path.is_file():
        raise PretrainedError(
            f"zoo model {name!r}: {path} is missing; restore it from git "
            f"(git checkout -- zoo/{path.name}) or re-export it"
        )
    digest = sha256(path)
    if digest != entries[name]["sha256"]:
        raise PretrainedError(
            f"zoo model {name!r}: {path} has sha256 {digest[:16]}…, but zoo.json records "
            f"{entries[name]['sha256'][:16]}…: the file is damaged or was replaced. "
            f"Restore it (git checkout -- {path.relative_to(Path(zoo_dir).parent)}) or re-export it"
        )
    tensors = load_file(str(path), device=str(map_location))
    with safe_open(str(path), framework="pt") as f:
        cfg = TrainConfig.from_dict(json.loads(f.metadata()["config"]))
    state = {
        prefix: {
            k[len(prefix) + 1 :]: (v.float() if v.is_floating_point() else v)
            for k, v in tensors.items()
            if k.startswith(prefix + ".")
        }
        for prefix in ("generator", "discriminator")
    }
    G, D = _rebuild(cfg, state, f"zoo model {name!r}", discriminator=not entries[name].get("generator_only"))
    return G, D, cfg


def require_discriminator(D: Discriminator | None, what: str) -> Discriminator:
    """D, or one clear error where `what` is a zoo entry that holds G only."""
    if D is None:
        raise PretrainedError(
            f"{what} holds G only (exported with --generator-only to keep the zoo small), and "
            f"this needs its D: pass the training run's checkpoint instead, or another zoo model"
        )
    return D


def _rebuild(
    cfg: TrainConfig, state: dict, what: str, discriminator: bool = True
) -> tuple[Generator, Discriminator | None]:
    """G and D of `cfg` (eval mode) with the weights in state["generator"], state["discriminator"]
    (D None when not `discriminator`)."""
    G, D = build_models(cfg)
    nets = {"generator": G, "discriminator": D} if discriminator else {"generator": G}
    for key, net in nets.items():
        if key not in state:
            raise CheckpointError(f"{what} has no {key} weights: it is not a complete dcgan_core checkpoint")
        try:
            net.load_state_dict(state[key])
        except RuntimeError as e:  # missing/unexpected keys, size mismatch: the config lies about the weights
            first = next((line.strip() for line in str(e).splitlines()[1:] if line.strip()), str(e))
            raise CheckpointError(
                f"{what}: its {key} weights do not fit the networks its config describes "
                f"({first}); the file is damaged or its config was edited"
            ) from None
        if cfg.channels_last:  # the layout it trained in: the same kernels, the same numbers
            net.to(memory_format=torch.channels_last)
        net.eval()
    return G, nets.get("discriminator")


def check_name(name: str) -> str:
    """`name` if it can name a zoo entry (zoo/NAME.safetensors, …), else one PretrainedError line."""
    if not ZOO_NAME.fullmatch(name):
        raise PretrainedError(
            f"{name!r} cannot be a zoo name: use letters, digits, '.', '-' and '_', starting "
            f"with a letter or digit (e.g. cifar32)"
        )
    return name


# A model is named "zoo:NAME", or by a checkpoint file or a run folder (checkpoint.checkpoint_file):
# load_models and model_sha256 read names; features.parse_features adds random:NAME, kmeans and pixels.


def load_models(path: str | Path, map_location="cpu") -> tuple[Generator, Discriminator | None, TrainConfig]:
    """G and D (eval mode; D None for a G-only zoo entry) and the config, from "zoo:NAME", a checkpoint
    file or a run folder (its best.pt, else last.pt)."""
    if str(path).startswith("zoo:"):
        return load(str(path)[4:], map_location=map_location)
    if str(path) in manifest() and not Path(path).exists():  # one way to name a model: zoo:NAME
        raise CheckpointError(f"{path!r} is neither a checkpoint nor a run folder; the zoo's model is zoo:{path}")
    state = load_checkpoint(path, map_location)
    try:
        cfg = TrainConfig.from_dict(state["config"])
    except ValueError as e:
        raise CheckpointError(f"{path} has a config this version cannot use: {e}") from None
    G, D = _rebuild(cfg, state, str(path))
    return G, D, cfg


def learning_curves(name: str, zoo_dir: str | Path = ZOO_DIR) -> tuple[Path, Path | None]:
    """Zoo entry NAME's training logs: NAME-metrics.csv and NAME-eval.csv (None where it has no evaluations)."""
    evals = Path(zoo_dir) / f"{name}-eval.csv"
    return Path(zoo_dir) / f"{name}-metrics.csv", evals if evals.is_file() else None


def model_key(model: str | Path) -> str:
    """A model's name in result tables: "zoo:scenes64" → "scenes64"; a checkpoint path as given."""
    return str(model)[4:] if str(model).startswith("zoo:") else str(model)


def model_sha256(model: str | Path) -> str:
    """The sha256 of a model's weights: zoo:NAME's as zoo.json records it, else its checkpoint file's."""
    if str(model).startswith("zoo:"):
        name, entries = str(model)[4:], manifest()
        if name not in entries:
            raise PretrainedError(f"no zoo model {name!r}; the zoo has {sorted(entries) or 'nothing'}")
        return entries[name]["sha256"]
    return sha256(checkpoint_file(model))


def export(checkpoint: str | Path, name: str, zoo_dir: str | Path = ZOO_DIR, generator_only: bool = False) -> Path:
    """Write a checkpoint's G and D (fp16; G alone with `generator_only`) to zoo_dir/NAME.safetensors
    and record its sha256 in zoo.json."""
    check_name(name)
    state = load_checkpoint(checkpoint)
    cfg = state["config"]
    nets = ("generator",) if generator_only else ("generator", "discriminator")
    tensors = {
        f"{prefix}.{k}": (v.half() if v.is_floating_point() else v).contiguous()
        for prefix in nets
        for k, v in state[prefix].items()
    }
    zoo_dir = Path(zoo_dir)
    path = zoo_dir / f"{name}.safetensors"
    # One metadata key, its JSON sorted: safetensors stores the metadata map in hash order, so
    # several keys would make the bytes (and the sha256) differ between identical exports.
    metadata = {"config": json.dumps(cfg, sort_keys=True)}
    atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=metadata))
    entries = manifest(zoo_dir)
    entries[name] = dict(
        file=path.name,
        sha256=sha256(path),
        dataset=cfg["dataset"],
        image_size=cfg["image_size"],
        arch=cfg["arch"],
        steps=state["step"],
        **({"generator_only": True} if generator_only else {}),
    )
    write_manifest(entries, zoo_dir)
    return path


def write_manifest(entries: dict, zoo_dir: str | Path = ZOO_DIR) -> Path:
    return write_json(Path(zoo_dir) / "zoo.json", entries, indent=2, sort_keys=True)
