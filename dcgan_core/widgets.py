"""ipywidgets for live tweaking in JupyterLab. Each builder returns a widget whose callbacks live
here (not in the notebook), so tests drive them headlessly by setting `.value`.
Static figures are always built separately (figures.py); widgets only add interaction."""

from __future__ import annotations

import math
from pathlib import Path

import ipywidgets as W

from .figures import png_bytes
from .files import RunDir
from .models import Generator
from .sample import generate


def grid_scrubber(run_dir: str | Path) -> W.VBox:
    """A slider through the per-epoch sample grids of a run (`RunDir.grids`)."""
    run = RunDir(run_dir)
    paths = run.grids()
    if not paths:
        return W.VBox([W.HTML(f"No sample grids in {run.samples} yet: train first.")])
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


def sample_explorer(G: Generator | dict[str, Generator], n: int = 36) -> W.VBox:
    """A seed slider: each seed draws a new batch z ~ U[-1, 1] and shows G(z). Given several
    generators by name ({"zoo:celeba64": G1, "this run": G2}), a menu picks one (the first shown)."""
    models = G if isinstance(G, dict) else {"G": G}
    seed = W.IntSlider(value=0, min=0, max=999, description="seed", continuous_update=False)
    count = W.IntSlider(value=n, min=1, max=100, description="images", continuous_update=False)
    which = W.Dropdown(options=list(models), description="model")
    image = W.Image(format="png", width=384)

    def show(change=None):
        image.value = png_bytes(generate(models[which.value], count.value, seed.value))

    for control in (seed, count, which):
        control.observe(show, names="value")
    show()
    controls = W.HBox([seed, count] + ([which] if len(models) > 1 else []))
    return W.VBox([controls, image])


def dedup_explorer(codes, injected, threshold: float = 0.0, radius: int = 0, width: int = 480) -> W.VBox:
    """§4.1.1's hash collisions, live: move the threshold on the ReLU codes and the Hamming radius
    and watch precision and recall on the injected duplicates change; browse the groups (buckets),
    largest first, each image captioned with what it is ("original" or the change that made it).
    A large group shows a seeded random 32 of its images, not the first ones: datasets stored by
    class (CIFAR-10) would otherwise make a big bucket look like one semantic class."""
    import torch

    from .data import to_unit_range
    from .dedup import group_hashes, hash_codes, score, scores_table

    top = math.ceil(float(codes.max()) * 100) / 100             # at the top every bit is 0
    t_slider = W.FloatSlider(value=threshold, min=0.0, max=top, step=0.01,
                             readout_format=".2f", description="threshold", continuous_update=False)
    r_slider = W.IntSlider(value=radius, min=0, max=3, description="radius", continuous_update=False)
    table = W.HTML()
    bucket = W.IntSlider(value=0, min=0, max=0, description="bucket", continuous_update=False)
    caption = W.HTML(layout=W.Layout(width="100%"))     # its own row: a long caption never squeezes the slider
    image = W.Image(format="png", width=width)
    groups: list[list[int]] = []

    def show(change=None):
        if not groups:
            caption.value, image.value = "no collisions at this threshold and radius", b""
            return
        members = groups[bucket.value]
        pick = torch.randperm(len(members), generator=torch.Generator().manual_seed(bucket.value))[:32]
        group = [members[i] for i in sorted(pick.tolist())] if len(members) > 32 else members
        kinds = [str(injected.kind[i]) for i in group]
        shown = " (a random 32 shown)" if len(members) > 32 else ""
        caption.value = (f"group {bucket.value + 1} of {len(groups)}: {len(members)} images{shown} — "
                         + ", ".join(kinds))
        image.value = png_bytes(to_unit_range(injected.images[torch.as_tensor(group)]), nrow=8)

    def regroup(change=None):
        groups[:] = sorted(group_hashes(hash_codes(codes, t_slider.value), r_slider.value), key=len, reverse=True)
        table.value = scores_table([score(groups, injected, "autoencoder")], html=True)
        bucket.max = max(len(groups) - 1, 0)
        bucket.value = 0
        show()

    t_slider.observe(regroup, names="value")
    r_slider.observe(regroup, names="value")
    bucket.observe(show, names="value")
    regroup()
    return W.VBox([W.HBox([t_slider, r_slider]), table, W.VBox([bucket, caption]), image])
