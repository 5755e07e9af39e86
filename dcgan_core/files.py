"""Files the package writes: one atomic writer, stale temp files, a run folder's layout.

Every file `dcgan_core` writes (checkpoints, caches, CSVs, JSON, PNGs, the zoo's files) goes
through `atomic_write`: a temp file beside the target, fsync, then `os.replace`. A crash or a kill
mid-write leaves the previous file whole; a failed write (disk full, read-only folder) removes
its temp file and raises one `WriteError` line naming the path. A temp file whose writer was
killed (-9 leaves no chance to clean up) is named `.NAME.tmp-PID-RANDOM`, so the next writer in
that folder removes it once the process PID is gone (`remove_stale_temps`).

This module imports nothing of the package: it is the bottom layer.
"""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path

TEMP_RE = re.compile(r"^\..+\.tmp-(\d+)-[A-Za-z0-9_]+$")


class WriteError(OSError):
    """A file could not be written: one line with the path and what to do. The target is unchanged."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale_temps(folder: str | Path) -> list[Path]:
    """Delete the temp files in `folder` left by writers that no longer run (killed mid-write);
    returns what was removed. Temp files of live processes are left alone."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = TEMP_RE.match(entry.name)
        if m and int(m.group(1)) != os.getpid() and not _alive(int(m.group(1))):
            path = Path(entry.path)
            try:
                shutil.rmtree(path) if entry.is_dir(follow_symlinks=False) else path.unlink()
                removed.append(path)
            except OSError:
                pass
    return removed


def temp_path(path: str | Path, suffix: str = "") -> Path:
    """A fresh temp name beside `path` that `remove_stale_temps` recognises once its writer is gone
    (for writers that need a folder or a name rather than `atomic_write`'s file)."""
    path = Path(path)
    return path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}{suffix}")


def describe_os_error(e: OSError, path: str | Path) -> str:
    """One line for a failed write: what happened to `path` and what to do about it."""
    if e.errno == errno.ENOSPC or e.errno == errno.EFBIG:
        return f"cannot write {path}: the disk is full (or the file is too large); free space there and try again"
    if e.errno in (errno.EROFS,):
        return f"cannot write {path}: the file system is read-only; choose an output folder you can write to"
    if e.errno in (errno.EACCES, errno.EPERM):
        return f"cannot write {path}: permission denied; choose an output folder you can write to"
    if e.errno == errno.ENOTDIR or e.errno == errno.EEXIST:
        return f"cannot write {path}: a part of that path is a file, not a folder; choose another output folder"
    return f"cannot write {path}: {e.strerror or e}"


def atomic_write(path: str | Path, write: Callable[[str], object]) -> Path:
    """Create `path` by `write(tmp)` on a temp file in the same folder, fsync, then rename: a crash
    mid-write leaves the previous file at `path` intact, a failure leaves no temp file behind."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(path.parent)
        tmp = temp_path(path)
        tmp.touch(exist_ok=False)
    except OSError as e:
        raise WriteError(describe_os_error(e, path)) from None
    try:
        write(str(tmp))
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)  # atomic on POSIX and Windows
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise WriteError(describe_os_error(e, path)) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_text(path: str | Path, text: str) -> Path:
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def write_json(path: str | Path, obj, **kwargs) -> Path:
    kwargs.setdefault("indent", 2)
    return write_text(path, json.dumps(obj, **kwargs) + "\n")


def read_json(path: str | Path, what: str = "file"):
    """JSON from `path`; a missing, truncated or malformed file is a ValueError naming it."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ValueError(
            f"cannot read the {what} {path}: {e.__class__.__name__}: {e}. "
            f"Restore it (e.g. git checkout -- {path.name}) or write it again"
        ) from None


class RunDir:
    """A training run's folder, its layout in one place:

    OUT/checkpoints/last.pt   the latest state (G, D, optimizers, step, RNG, config)
    OUT/checkpoints/best.pt   last.pt at the step with the lowest FID (with eval_every)
    OUT/checkpoints/step_NNNNNNN.pt   copies of last.pt every keep_every steps (with keep_every)
    OUT/metrics.csv           per step: losses, D(x), D(G(z)), time
    OUT/eval.csv              FID/KID during training (with eval_every)
    OUT/config.json           the config, for people and tools
    OUT/samples/              fixed-noise grids: epoch_NNN.png, step_NNNNNNN.png
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"RunDir({str(self.root)!r})"

    def __fspath__(self) -> str:
        return str(self.root)

    checkpoints = property(lambda self: self.root / "checkpoints")
    last = property(lambda self: self.checkpoints / "last.pt")
    best = property(lambda self: self.checkpoints / "best.pt")
    metrics = property(lambda self: self.root / "metrics.csv")
    evals = property(lambda self: self.root / "eval.csv")
    config = property(lambda self: self.root / "config.json")
    samples = property(lambda self: self.root / "samples")

    def epoch_grid(self, epoch: int) -> Path:
        return self.samples / f"epoch_{epoch:03d}.png"

    def step_grid(self, step: int) -> Path:
        return self.samples / f"step_{step:07d}.png"

    def step_checkpoint(self, step: int) -> Path:
        return self.checkpoints / f"step_{step:07d}.pt"

    def step_checkpoints(self) -> list[Path]:
        """The checkpoints kept along the run (keep_every), in step order."""
        return sorted(self.checkpoints.glob("step_*.pt"))

    def grids(self) -> list[Path]:
        """The fixed-noise grids in training order: one per epoch, or, before the first epoch
        ends, the every-K-steps grids."""
        return sorted(self.samples.glob("epoch_*.png")) or sorted(self.samples.glob("step_*.png"))

    def chosen_checkpoint(self) -> Path:
        """best.pt where the run kept one (evaluated during training), else last.pt."""
        return self.best if self.best.is_file() else self.last

    def check_writable(self) -> None:
        """Fail early, in one line, if OUT cannot hold a run (a regular file, read-only, …)."""
        check_folder(self.root, "the run", "--out")


def check_folder(folder: str | Path, what: str, flag: str) -> None:
    """Fail early, in one WriteError line, if `folder` cannot hold `what` (it or a folder above it is a
    file, read-only, …); creates nothing, so a refused command leaves no folder."""
    folder = existing = Path(folder)
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise WriteError(
            f"cannot write {what} to {folder}: {existing} is a file, not a folder; choose a folder ({flag})"
        )
    if not os.access(existing, os.W_OK):
        why = "is on a read-only file system" if _read_only(existing) else "is not writable"
        raise WriteError(
            f"cannot write {what} to {folder}: {existing} {why}; choose an output folder you can write to ({flag})"
        )


def _read_only(path: Path) -> bool:
    return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
