"""Checkpoint files: written atomically, read with `weights_only=True`, self-describing.

A checkpoint is a plain dict of tensors and Python primitives:
`generator`, `discriminator` (state dicts), `opt_g`, `opt_d`, `step`, `epoch`, `rng`, `config`
(a `TrainConfig` as a dict). Loading never unpickles arbitrary objects (`weights_only=True`),
so a checkpoint from the internet cannot run code. A run folder stands for its checkpoint
(`checkpoint_file`). This module knows files only: rebuilding networks from a checkpoint or a zoo
name is `pretrained.load_models`.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path

import torch

from .files import RunDir, atomic_write

REQUIRED = ("config", "generator")  # and "discriminator" to rebuild D (pretrained.load_models)


class CheckpointError(ValueError):
    """A checkpoint that is missing, unreadable or not one of ours."""


def save_checkpoint(state: dict, path: str | Path) -> Path:
    """Write `state` to `path` atomically (files.atomic_write: a crash keeps the previous file)."""
    buffer = io.BytesIO()  # serialise first: torch's own file writer turns a full disk into
    torch.save(state, buffer)  # an obscure RuntimeError, Python's write into one OSError (ENOSPC)
    return atomic_write(path, lambda tmp: Path(tmp).write_bytes(buffer.getbuffer()))


def checkpoint_file(path: str | Path) -> Path:
    """The checkpoint file `path` names: the file itself, or, for a run folder, the checkpoint `export`
    would take (best.pt where the run kept one, else last.pt). One CheckpointError line where there is none."""
    path = Path(path)
    if path.is_dir():
        chosen = RunDir(path).chosen_checkpoint()
        if not chosen.is_file():
            raise CheckpointError(
                f"{path} is a folder without a checkpoint ({chosen} is missing): pass the folder "
                f"of a run (train --out DIR), a checkpoint file or zoo:NAME"
            )
        return chosen
    if not path.is_file():
        raise CheckpointError(
            f"no checkpoint at {path}: train first "
            f"(python -m dcgan_core train --out DIR writes DIR/checkpoints/last.pt)"
        )
    return path


def _what_it_is(path: Path) -> str:
    """An empty, a text or a binary file: what a file that is not a zip archive holds."""
    with open(path, "rb") as f:
        head = f.read(4096)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "a binary file"
    return "an empty file" if not head else "a binary file" if b"\0" in head else "a text file"


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    """The checkpoint dict at `path` (a file, or a run folder: `checkpoint_file`); every way it can be
    wrong is one CheckpointError line."""
    path = checkpoint_file(path)
    if not zipfile.is_zipfile(path):  # torch.save has written zip archives since torch 1.6
        raise CheckpointError(
            f"cannot read checkpoint {path}: it is {_what_it_is(path)}, not the zip archive "
            f"torch.save writes. It is damaged or not a dcgan_core checkpoint: pass one that "
            f"train wrote (…/checkpoints/last.pt), a run folder or zoo:NAME"
        )
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:  # torch's own text advises weights_only=False: exactly what not to do
        raise CheckpointError(
            f"refused to load {path}: it holds pickled Python objects, not only tensors, and "
            f"unpickling them could run code. dcgan_core never does; use checkpoints written "
            f"by dcgan_core (or from a source you trust, converted to plain tensors)"
        ) from None
    except Exception as e:  # truncated file, not a torch file
        reason = str(e).strip().splitlines()[0] if str(e).strip() else e.__class__.__name__
        raise CheckpointError(
            f"cannot read checkpoint {path}: {reason}. It is damaged or not a dcgan_core checkpoint."
        ) from None
    missing = [k for k in REQUIRED if k not in state] if isinstance(state, dict) else list(REQUIRED)
    if missing:
        raise CheckpointError(f"{path} is not a dcgan_core checkpoint (missing {missing})")
    if not isinstance(state["config"], dict):
        raise CheckpointError(
            f"{path} has a damaged config (a {type(state['config']).__name__}, not a dict of "
            f"TrainConfig fields): it was not written by dcgan_core"
        )
    return state
