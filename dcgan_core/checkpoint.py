"""Checkpoints: written atomically, read with `weights_only=True`, self-describing.

A checkpoint is a plain dict of tensors and Python primitives:
`generator`, `discriminator` (state dicts), `opt_g`, `opt_d`, `step`, `epoch`, `rng`, `config`
(a `TrainConfig` as a dict). Loading never unpickles arbitrary objects (`weights_only=True`),
so a checkpoint from the internet cannot run code.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

import torch

from .config import TrainConfig
from .models import Discriminator, Generator, init_weights


class CheckpointError(ValueError):
    """A checkpoint that is missing, unreadable or not one of ours."""


def atomic_write(path: str | Path, write: Callable[[str], object]) -> Path:
    """Create `path` by `write(tmp)` on a temp file in the same folder, fsync, then rename: a crash
    mid-write leaves the previous file at `path` intact (and no temp file behind). Checkpoints,
    cached features, eval.csv and the zoo's files are all written this way."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)       # mkstemp makes it private; a normal file is readable by the group
        os.replace(tmp, path)      # atomic on POSIX and Windows
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save_checkpoint(state: dict, path: str | Path) -> Path:
    """Write `state` to `path` atomically (`atomic_write`)."""
    def write(tmp):
        with open(tmp, "wb") as f:
            torch.save(state, f)
    return atomic_write(path, write)


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}: train first "
                              f"(python -m dcgan_core train --out DIR writes DIR/checkpoints/last.pt)")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # truncated file, not a torch file, or pickled objects we refuse
        raise CheckpointError(f"cannot read checkpoint {path}: {e.__class__.__name__}: {e}. "
                              f"It is damaged or not a dcgan_core checkpoint.") from None
    missing = {"generator", "config"} - set(state) if isinstance(state, dict) else {"generator"}
    if missing:
        raise CheckpointError(f"{path} is not a dcgan_core checkpoint (missing {sorted(missing)})")
    return state


def build_models(cfg: TrainConfig, seed: int | None = None) -> tuple[Generator, Discriminator]:
    """The networks a config describes (`cfg.channels` None means 3). With `seed`, initialised as
    a training run with that seed starts (§4: N(0, 0.02), G first, then D, from one generator);
    without it, left for `load_state_dict`."""
    channels = cfg.channels or 3
    G = Generator(arch=cfg.arch, image_size=cfg.image_size, nz=cfg.nz, width=cfg.g_width, channels=channels)
    D = Discriminator(arch=cfg.arch, image_size=cfg.image_size, width=cfg.d_width, channels=channels)
    if seed is not None:
        init = torch.Generator().manual_seed(seed)
        init_weights(G, init)
        init_weights(D, init)
    return G, D


def models_from_checkpoint(path: str | Path, map_location="cpu") -> tuple[Generator, Discriminator, TrainConfig]:
    """Rebuild G and D (in eval mode) from a checkpoint alone; "zoo:NAME" loads a zoo model (pretrained.py)."""
    if str(path).startswith("zoo:"):
        from .pretrained import load
        return load(str(path)[4:], map_location=map_location)
    state = load_checkpoint(path, map_location)
    cfg = TrainConfig.from_dict(state["config"])
    G, D = build_models(cfg)
    G.load_state_dict(state["generator"])
    D.load_state_dict(state["discriminator"])
    if cfg.channels_last:     # the layout it trained in: the same kernels, the same numbers
        G.to(memory_format=torch.channels_last)
        D.to(memory_format=torch.channels_last)
    return G.eval(), D.eval(), cfg
