"""Checkpoint files: written atomically, read with `weights_only=True`, self-describing.

A checkpoint is a plain dict of tensors and Python primitives:
`generator`, `discriminator` (state dicts), `opt_g`, `opt_d`, `step`, `epoch`, `rng`, `config`
(a `TrainConfig` as a dict). Loading never unpickles arbitrary objects (`weights_only=True`),
so a checkpoint from the internet cannot run code. This module knows files only: rebuilding
networks from a checkpoint or a zoo name is `pretrained.load_models`.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import torch

from .files import atomic_write

REQUIRED = ("config", "generator")      # and "discriminator" to rebuild D (pretrained.load_models)


class CheckpointError(ValueError):
    """A checkpoint that is missing, unreadable or not one of ours."""


def save_checkpoint(state: dict, path: str | Path) -> Path:
    """Write `state` to `path` atomically (files.atomic_write: a crash keeps the previous file)."""
    buffer = io.BytesIO()        # serialise first: torch's own file writer turns a full disk into
    torch.save(state, buffer)    # an obscure RuntimeError, Python's write into one OSError (ENOSPC)
    return atomic_write(path, lambda tmp: Path(tmp).write_bytes(buffer.getbuffer()))


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    """The checkpoint dict at `path`; every way it can be wrong is one CheckpointError line."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}: train first "
                              f"(python -m dcgan_core train --out DIR writes DIR/checkpoints/last.pt)")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:  # torch's own text advises weights_only=False: exactly what not to do
        raise CheckpointError(f"refused to load {path}: it holds pickled Python objects, not only tensors, and "
                              f"unpickling them could run code. dcgan_core never does; use checkpoints written "
                              f"by dcgan_core (or from a source you trust, converted to plain tensors)") from None
    except Exception as e:  # truncated file, not a torch file
        reason = str(e).strip().splitlines()[0] if str(e).strip() else e.__class__.__name__
        raise CheckpointError(f"cannot read checkpoint {path}: {reason}. "
                              f"It is damaged or not a dcgan_core checkpoint.") from None
    missing = [k for k in REQUIRED if k not in state] if isinstance(state, dict) else list(REQUIRED)
    if missing:
        raise CheckpointError(f"{path} is not a dcgan_core checkpoint (missing {missing})")
    if not isinstance(state["config"], dict):
        raise CheckpointError(f"{path} has a damaged config (a {type(state['config']).__name__}, not a dict of "
                              f"TrainConfig fields): it was not written by dcgan_core")
    return state
