"""Execute the notebooks with papermill — never over the sources: outputs go to build/PROFILE/.

`run_notebooks` runs them in order and times each; a notebook that fails does not stop the others
(every notebook that can run does, so every verdict that can be written is). `make_figures` is the
whole of `make figures PROFILE=P`: the notebooks, a progress line per notebook, then run.json and
claims.json (record.py), the report, and a last word on what was unexpected.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def sources(only: list[str] | None = None, notebooks: Path = NOTEBOOKS) -> list[Path]:
    """notebooks/NN_*.ipynb in order (those whose names start with one of `only`)."""
    every = sorted(notebooks.glob("[0-9][0-9]_*.ipynb"))
    found = [s for s in every if any(s.name.startswith(o) for o in only)] if only else every
    if not found:
        raise ValueError(
            f"no notebooks matching {only or '*'} in {notebooks}"
            + (f"; --only takes prefixes of {', '.join(s.stem for s in every)}" if every else "")
        )
    return found


def run_notebooks(
    profile: str = "smoke",
    *,
    build: str | Path = "build",
    only: list[str] | None = None,
    notebooks: Path = NOTEBOOKS,
    keep_going: bool = False,
    progress: Callable[[str], None] | None = None,
) -> list[dict]:
    """Run notebooks/NN_*.ipynb in order with `profile`; each writes its executed copy and its
    figures under build/PROFILE/. Returns per notebook {notebook, path, seconds, ok, error}. A
    failing notebook raises, unless `keep_going` (then the rest run and its entry says why)."""
    import papermill as pm

    from .files import check_folder

    todo, done, start = sources(only, notebooks), [], time.perf_counter()  # nothing to run: nothing made
    out_dir = (Path(build) / profile).resolve()
    check_folder(out_dir, "the notebooks' outputs", "--build")
    out_dir.mkdir(parents=True, exist_ok=True)
    for i, src in enumerate(todo, 1):
        if progress:
            progress(f"[{i}/{len(todo)}] {src.stem} … ({(time.perf_counter() - start) / 60:.1f} min so far)")
        t, error = time.perf_counter(), None
        try:
            pm.execute_notebook(
                str(src),
                str(out_dir / src.name),
                parameters=dict(profile=profile, build_dir=str(out_dir)),
                cwd=str(notebooks),
                kernel_name="python3",
                progress_bar=False,
            )
        except pm.PapermillExecutionError as e:
            if not keep_going:
                raise
            error = f"{e.ename}: {e.evalue}".strip()
        entry = dict(
            notebook=src.stem,
            path=str(out_dir / src.name),
            seconds=round(time.perf_counter() - t, 1),
            ok=error is None,
            error=error,
        )
        done.append(entry)
        if progress:
            progress(
                f"[{i}/{len(todo)}] {src.stem}: {'done' if entry['ok'] else 'FAILED'} in "
                f"{entry['seconds'] / 60:.1f} min ({(time.perf_counter() - start) / 60:.1f} min so far)"
                + ("" if entry["ok"] else f" — {error.splitlines()[0][:300]}")
            )
    return done


def make_figures(
    profile: str,
    *,
    build: str | Path = "build",
    only: list[str] | None = None,
    notebooks: Path = NOTEBOOKS,
    record_dir: str | Path | None = None,
    echo: Callable[[str], None] = print,
) -> int:
    """`make figures PROFILE=profile`: every notebook (or `only` these), then build/PROFILE/run.json
    and claims.json, the report, and the comparison with the record (results/PROFILE/, where there
    is one and every notebook ran). Returns the exit code: 0 when every notebook ran, every claim
    was judged and every verdict is the expected one (and, against a record, reproduces it)."""
    from .files import check_folder, write_json
    from .record import RECORD, compare, host_name, machine, run_info, verdicts, write_verdicts
    from .report import build_report
    from .verdicts import unexpected

    started = datetime.datetime.now(datetime.UTC)
    out = Path(build) / profile
    sources(only, notebooks)  # refused before anything is made or printed
    check_folder(out, "the notebooks' outputs", "--build")
    for stale in (out / "run.json", out / "claims.json"):  # a run cut short must not look finished (record)
        stale.unlink(missing_ok=True)
    echo(f"make figures PROFILE={profile} on {host_name(machine())}")
    timings = run_notebooks(profile, build=build, only=only, notebooks=notebooks, keep_going=True, progress=echo)
    for t in timings:
        t.pop("path")
    run = run_info(profile, timings, started)
    write_json(out / "run.json", run)
    problems = [f"{t['notebook']} failed: {t['error']}" for t in timings if not t["ok"]]
    ran = [t["notebook"] for t in timings if t["ok"]]
    vs, missing = verdicts(out, profile, ran)
    write_verdicts(out / "claims.json", vs)
    problems += missing + unexpected(vs)
    echo(f"report {build_report(out, profile)}")
    record = Path(record_dir) if record_dir is not None else RECORD / profile
    if vs and not only and not missing and (record / "claims.json").is_file():
        differ = compare(vs, record)
        echo(
            f"against the record {record}: "
            + ("reproduced (same verdicts, numbers within tolerance)" if not differ else f"{len(differ)} differences")
        )
        problems += [f"differs from the record: {d}" for d in differ]
    counts = {s: sum(v.status == s for v in vs) for s in ("holds", "fails", "skipped")}
    echo(
        f"{len(timings)} notebooks in {run['seconds'] / 60:.1f} min; {len(vs)} claims: "
        + ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    )
    for p in problems:
        echo(f"UNEXPECTED: {p}")
    return 1 if problems else 0
