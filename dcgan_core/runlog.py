"""What a training run writes as it goes (beside its checkpoints): metrics.csv, one row per step,
and eval.csv, one row per FID/KID evaluation; and how notebooks and figures read them back."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from .files import atomic_write

METRICS = ("step", "epoch", "loss_d", "loss_g", "d_x", "d_g_z", "time")
EVALS = ("step", "fid", "kid_mean", "kid_std", "seconds")


class NoLog:
    """What ranks other than 0 log: nothing."""

    def write(self, row):
        pass

    def flush(self):
        pass

    def close(self):
        pass


class MetricsLog:
    """metrics.csv, one row per step. On resume, rows past the checkpoint's step (written after
    it, before a crash) are dropped, so the log always matches the weights."""

    def __init__(self, path: Path, keep_until: int):
        rows = []
        if path.exists() and keep_until > 0:
            with open(path, newline="") as f:
                rows = [r for r in csv.DictReader(f) if int(r["step"]) <= keep_until]

        def rewrite(tmp):  # the kept rows replace the file in one step; new rows are appended
            with open(tmp, "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=METRICS)
                w.writeheader()
                w.writerows(rows)

        atomic_write(path, rewrite)
        self.file = open(path, "a", newline="")
        self.writer = csv.DictWriter(self.file, fieldnames=METRICS)

    def write(self, row: dict) -> None:
        self.writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})

    def flush(self) -> None:
        self.file.flush()

    def close(self) -> None:
        self.file.close()


def read_metrics(path: str | Path) -> dict[str, list[float]]:
    """metrics.csv as columns of floats (for plots)."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {k: [float(r[k]) for r in rows] for k in METRICS}


def read_evals(path: str | Path) -> list[dict]:
    """eval.csv as rows {step, fid, kid_mean, kid_std, seconds} (step an int)."""
    with open(path, newline="") as f:
        return [{k: (int(v) if k == "step" else float(v)) for k, v in r.items()} for r in csv.DictReader(f)]


def append_eval(path: Path, row: dict) -> bool:
    """Add `row` (EVALS) to eval.csv in one atomic write, dropping rows at or after its step (a
    resumed run re-evaluates); True when its FID is the lowest so far."""
    rows = [r for r in (read_evals(path) if path.exists() else []) if r["step"] < row["step"]]

    def write(tmp):
        with open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=EVALS)
            w.writeheader()
            w.writerows([*rows, row])

    atomic_write(path, write)
    return row["fid"] < min((r["fid"] for r in rows), default=math.inf)
