"""ipywidgets for live tweaking in JupyterLab. Each builder returns a widget whose callbacks live
here (not in the notebook), so tests drive them headlessly by setting `.value`.
Static figures are always built separately (figures.py); widgets only add interaction."""

from __future__ import annotations

from pathlib import Path

import ipywidgets as W

from .figures import png_bytes
from .models import Generator
from .sample import generate


def saved_grids(run_dir: str | Path) -> list[Path]:
    """The fixed-noise grids a run saved, in training order: one per epoch, or, before the
    first epoch ends, the every-K-steps grids."""
    samples = Path(run_dir) / "samples"
    return sorted(samples.glob("epoch_*.png")) or sorted(samples.glob("step_*.png"))


def grid_scrubber(run_dir: str | Path) -> W.VBox:
    """A slider through the per-epoch sample grids of a run (see `saved_grids`)."""
    paths = saved_grids(run_dir)
    if not paths:
        return W.VBox([W.HTML(f"No sample grids in {Path(run_dir) / 'samples'} yet: train first.")])
    slider = W.IntSlider(value=len(paths) - 1, min=0, max=len(paths) - 1, description="grid",
                         continuous_update=True)
    image = W.Image(format="png", width=384)
    label = W.Label()

    def show(change=None):
        path = paths[slider.value]
        image.value = path.read_bytes()
        label.value = path.name

    slider.observe(show, names="value")
    show()
    return W.VBox([W.HBox([slider, label]), image])


def sample_explorer(G: Generator, n: int = 36) -> W.VBox:
    """A seed slider: each seed draws a new batch z ~ U[-1, 1] and shows G(z)."""
    seed = W.IntSlider(value=0, min=0, max=999, description="seed", continuous_update=False)
    count = W.IntSlider(value=n, min=1, max=100, description="images", continuous_update=False)
    image = W.Image(format="png", width=384)

    def show(change=None):
        image.value = png_bytes(generate(G, count.value, seed.value))

    seed.observe(show, names="value")
    count.observe(show, names="value")
    show()
    return W.VBox([W.HBox([seed, count]), image])
