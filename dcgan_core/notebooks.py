"""Execute the notebooks with papermill — never over the sources: outputs go to build/PROFILE/."""

from __future__ import annotations

from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def run_notebooks(profile: str = "smoke", *, build: str | Path = "build",
                  only: list[str] | None = None, notebooks: Path = NOTEBOOKS) -> list[Path]:
    """Run notebooks/NN_*.ipynb in order with `profile`; each writes its executed copy and its
    figures under build/PROFILE/. Returns the executed notebooks' paths."""
    import papermill as pm

    out_dir = (Path(build) / profile).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    sources = sorted(notebooks.glob("[0-9][0-9]_*.ipynb"))
    if only:
        sources = [s for s in sources if any(s.name.startswith(o) for o in only)]
    if not sources:
        raise ValueError(f"no notebooks matching {only or '*'} in {notebooks}")
    done = []
    for src in sources:
        dst = out_dir / src.name
        pm.execute_notebook(str(src), str(dst), parameters=dict(profile=profile, build_dir=str(out_dir)),
                            cwd=str(notebooks), kernel_name="python3", progress_bar=False)
        done.append(dst)
    return done
