"""ipywidgets for live tweaking in JupyterLab. Each builder returns a widget whose callbacks live
here (not in the notebook), so tests drive them headlessly by setting `.value`.
Static figures are always built separately (figures.py); widgets only add interaction.

Each section has one widget, `MODULE_widget(result)` (e.g. `latent_walk_widget` for latent_walk.py), at
the end of this file: it takes the section's Result, the one `run(cfg)` returned in this session or
one `read` from its saved file (the Result's `rebuild` loads the models and data the widget needs
again, from what its config names). The notebook, the browser test and the tests call that one function;
tests/test_sections.py checks that it takes the Result. The builders above it take the pieces."""

from __future__ import annotations

import math
import typing
from pathlib import Path

import ipywidgets as W

from .figures import png_bytes
from .files import RunDir
from .models import Generator
from .sample import generate

if typing.TYPE_CHECKING:  # the sections' Results, for the section widgets' annotations
    from .dedup import DedupEvaluation
    from .forgetting import ForgettingResult
    from .guided_backprop import GuidedBackpropResult
    from .latent_walk import LatentWalkResult
    from .mnist_appendix import AppendixResult
    from .representation import RepresentationResult
    from .train import TrainingResult
    from .vector_arithmetic import ArithmeticResult


def grid_scrubber(run_dir: str | Path) -> W.VBox:
    """A slider through the per-epoch sample grids of a run (`RunDir.grids`)."""
    run = RunDir(run_dir)
    paths = run.grids()
    if not paths:
        return W.VBox([W.HTML(f"No sample grids in {run.samples} yet: train first.")])
    slider = W.IntSlider(value=len(paths) - 1, min=0, max=len(paths) - 1, description="grid", continuous_update=True)
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
    from .dedup import score, scores_table
    from .semantic_hash import group_hashes, hash_codes

    top = math.ceil(float(codes.max()) * 100) / 100  # at the top every bit is 0
    t_slider = W.FloatSlider(
        value=threshold,
        min=0.0,
        max=top,
        step=0.01,
        readout_format=".2f",
        description="threshold",
        continuous_update=False,
    )
    r_slider = W.IntSlider(value=radius, min=0, max=3, description="radius", continuous_update=False)
    table = W.HTML()
    bucket = W.IntSlider(value=0, min=0, max=0, description="bucket", continuous_update=False)
    caption = W.HTML(layout=W.Layout(width="100%"))  # its own row: a long caption never squeezes the slider
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
        caption.value = f"group {bucket.value + 1} of {len(groups)}: {len(members)} images{shown} — " + ", ".join(kinds)
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


def class_explorer(G: Generator, n: int = 30, n_classes: int | None = None) -> W.VBox:
    """A conditional G's samples of one class (§8.1): pick the class and the seed; shows n samples."""
    import torch

    n_classes = n_classes or G.n_classes
    if not n_classes:
        return W.VBox([W.HTML("This generator is not class-conditional: it has no class to pick.")])
    digit = W.Dropdown(options=list(range(n_classes)), value=0, description="class")
    seed = W.IntSlider(value=0, min=0, max=999, description="seed", continuous_update=False)
    image = W.Image(format="png", width=384)

    def show(change=None):
        image.value = png_bytes(generate(G, n, seed.value, labels=torch.full((n,), digit.value)), nrow=10)

    digit.observe(show, names="value")
    seed.observe(show, names="value")
    show()
    return W.VBox([W.HBox([digit, seed]), image])


def latent_walk_explorer(
    G: Generator, seed_a: int = 0, seed_b: int = 1, steps: int = 8, mode: str = "linear", frame: int = 96
) -> W.VBox:
    """§6.1 live: pick the two endpoint seeds (the z of `generate(G, 1, seed)`), the number of steps
    and the path; the frames from G(z_A) to G(z_B) update, each its own image `frame` px wide. The
    strip grows with the steps and wraps into rows where the notebook is narrower (16 steps had
    shrunk one 720 px row's frames to ~40 px)."""
    import torch

    from .latent_walk import walk
    from .sample import render, seed_points

    a = W.IntText(value=seed_a, description="seed A")
    b = W.IntText(value=seed_b, description="seed B")
    n = W.IntSlider(value=steps, min=1, max=16, description="steps", continuous_update=False)
    path = W.Dropdown(options=["linear", "spherical"], value=mode, description="path")
    strip = W.Box(layout=W.Layout(flex_flow="row wrap", width="100%"))

    def tile() -> W.Image:
        # min_width: ipywidgets' CSS gives an image max-width 100%, which would shrink it in a narrow row
        return W.Image(format="png", width=str(frame), layout=W.Layout(min_width=f"{frame}px", flex="0 0 auto"))

    def show(change=None):
        points = torch.cat([seed_points(1, G.nz, a.value), seed_points(1, G.nz, b.value)])
        frames = render(G, walk(points, n.value, path.value))
        tiles = list(strip.children[: len(frames)]) + [tile() for _ in range(len(frames) - len(strip.children))]
        for image, f in zip(tiles, frames):
            image.value = png_bytes(f[None])
        strip.children = tiles

    for w in (a, b, n, path):
        w.observe(show, names="value")
    show()
    return W.VBox([W.HBox([a, b]), W.HBox([n, path]), strip])


def arithmetic_explorer(G: Generator, z, images, choices, page_size: int = 24, per_row: int = 8) -> W.VBox:
    """§6.3.2 live: a page of generated faces (the pool `z`, `images` that `choices` indexes), a
    toggle under each; pick the equation and the concept, click three faces per concept, and see
    G's 3×3 result (Y ± noise) beside the pixel-space control. Save and load the choices as JSON.

    children: [0] equation, concept; [1] page; [2] the face tiles (GridBox of VBox(Image, ToggleButton));
    [3] the picks; [4] result, control; [5] file, save, load, message."""
    from .choices import Choices, toggle
    from .concepts import EQUATIONS, equation
    from .vector_arithmetic import equation_images

    names = list(EQUATIONS)
    eq = W.Dropdown(options=names, value=names[0], description="equation")
    # labels at their own width ("man without glasses" whole), the description on the buttons' line
    concept = W.ToggleButtons(
        options=equation(names[0]).labels,
        description="choosing",
        style=dict(button_width="auto", description_width="initial"),
        layout=W.Layout(align_items="center"),
    )
    pages = max(1, math.ceil(len(z) / page_size))
    page = W.IntSlider(value=0, min=0, max=pages - 1, description="page", continuous_update=False)
    tiles = [
        W.VBox([W.Image(format="png", width=64), W.ToggleButton(layout=W.Layout(width="64px"))])
        for _ in range(page_size)
    ]
    picks = W.HTML()
    # square images at their own size: in a stretching row the 64×64 control was drawn 96×240
    result = W.Image(format="png", width=240, height=240, layout=W.Layout(object_fit="contain"))
    control = W.Image(format="png", width=96, height=96, layout=W.Layout(object_fit="contain"))
    file = W.Text(value="choices.json", description="file")
    save, load = W.Button(description="save"), W.Button(description="load")
    message = W.Label()
    updating = [False]

    def chosen(label):
        return choices.equations.get(eq.value, {}).get(label, [])

    def refresh(change=None):
        updating[0] = True
        for k, tile in enumerate(tiles):
            i = page.value * page_size + k
            img, button = tile.children
            tile.layout.visibility = "visible" if i < len(z) else "hidden"
            if i < len(z):
                img.value = png_bytes(images[i][None])
                button.description = f"#{i}"
                button.value = i in chosen(concept.value)
        updating[0] = False
        picks.value = "<br>".join(f"<b>{label}</b>: {chosen(label) or '—'}" for label in equation(eq.value).labels)
        if all(chosen(label) for label in equation(eq.value).labels):
            grid, pixel = equation_images(G, z, images, choices.picks(eq.value))
            result.value, control.value = png_bytes(grid, nrow=3), png_bytes(pixel)
        else:
            result.value = control.value = b""

    def clicked(k):
        def on_change(change):
            if not updating[0]:
                toggle(choices, eq.value, concept.value, page.value * page_size + k)
                refresh()

        return on_change

    def equation_changed(change):
        concept.options = equation(eq.value).labels
        refresh()

    def save_clicked(_):
        try:
            message.value = f"saved {choices.save(file.value)}"
        except (OSError, ValueError) as e:
            message.value = f"error: {e}"

    def load_clicked(_):
        try:
            new = Choices.load(file.value)
        except ValueError as e:
            message.value = f"error: {e}"
            return
        if new.pool != len(z):
            message.value = f"error: {file.value} indexes a pool of {new.pool} faces, this one has {len(z)}"
            return
        choices.equations, choices.turn = new.equations, new.turn
        message.value = f"loaded {file.value}"
        refresh()

    for k, tile in enumerate(tiles):
        tile.children[1].observe(clicked(k), names="value")
    eq.observe(equation_changed, names="value")
    concept.observe(refresh, names="value")
    page.observe(refresh, names="value")
    save.on_click(save_clicked)
    load.on_click(load_clicked)
    refresh()
    return W.VBox(
        [
            W.HBox([eq, concept]),
            page,
            W.GridBox(tiles, layout=W.Layout(grid_template_columns=f"repeat({per_row}, 72px)")),
            picks,
            W.HBox([result, control], layout=W.Layout(align_items="flex-start")),
            W.HBox([file, save, load, message]),
        ]
    )


def guided_backprop_explorer(entries: dict, k: int = 6, size: int = 128) -> W.VBox:
    """§6.2 live: pick a discriminator (e.g. "scenes64 trained", "scenes64 random"), one of its conv
    layers and a feature; see the feature's top k distinct real images and their guided-backprop maps
    (scaled to a percentile of each map, or over the images), each image `size` px wide.
    `entries` maps a name to (D, ImageData). Each layer's responses are computed once and kept."""
    from .guided_backprop import feature_view, n_features

    names = list(entries)
    model = W.Dropdown(options=names, value=names[0], description="model")
    layer = W.IntSlider(
        value=len(entries[names[0]][0].layers) - 1,
        min=0,
        max=len(entries[names[0]][0].layers) - 1,
        description="layer",
        continuous_update=False,
    )
    feature = W.IntSlider(
        value=0,
        min=0,
        max=n_features(entries[names[0]][0], layer.value) - 1,
        description="feature",
        continuous_update=False,
    )
    percentile = W.FloatSlider(
        value=99.0, min=90.0, max=100.0, step=0.5, description="scale at %", continuous_update=False
    )
    over = W.Checkbox(value=False, description="over the images", indent=False)
    # min_width: ipywidgets' CSS gives an image max-width 100%: a narrow notebook would shrink them below `size`
    images, saliency = (
        W.Image(format="png", width=k * size, layout=W.Layout(min_width=f"{k * size}px")) for _ in range(2)
    )
    label = W.HTML()
    cache: dict = {}

    def show(change=None):
        D, data = entries[model.value]
        layer.max = len(D.layers) - 1
        feature.max = n_features(D, layer.value) - 1
        imgs, maps = feature_view(D, data, layer.value, feature.value, k, cache, percentile.value, over.value)
        images.value, saliency.value = png_bytes(imgs, nrow=k), png_bytes(maps, nrow=k)
        label.value = (
            f"{model.value}: layer {layer.value}, feature {feature.value} of {feature.max + 1} — "
            f"top {k} distinct of {len(data)} images ({data.name}) and their guided backprop"
        )

    for w in (model, layer, feature, percentile, over):
        w.observe(show, names="value")
    show()
    return W.VBox([W.HBox([model, layer, feature]), W.HBox([percentile, over]), label, images, saliency])


def box_annotator(
    G: Generator, model: str, seeds, concept: str = "windows", scale: int = 6, root: str | Path | None = None
) -> W.VBox:
    """Draw boxes on generated samples (§6.3.1: "52 window bounding boxes were drawn manually"):
    a seed slider picks the sample (sample s = G(z of seed s)), boxes are drawn on it enlarged
    `scale` times with jupyter-bbox-widget, and Save writes them all to
    annotations/CONCEPT/SHA256.json (annotations.save_annotations), keyed by the model file's
    sha256 and the noise seed; existing boxes for the model are loaded first. `root` (else the
    folder named by DCGAN_ANNOTATIONS_DIR, else annotations/) is where they are read and written:
    a test's browser run points it at a temporary folder, never at the tracked one."""
    import base64
    import os

    import torch

    from .annotations import (
        ANNOTATIONS_DIR,
        annotation_path,
        from_widget_boxes,
        load_annotations,
        new_annotations,
        sample_for_seed,
        save_annotations,
        to_widget_boxes,
    )
    from .data import DataError
    from .pretrained import model_sha256

    try:
        from jupyter_bbox_widget import BBoxWidget
    except ImportError:
        return W.VBox([W.HTML("box drawing needs jupyter-bbox-widget: pip install jupyter-bbox-widget")])
    root = Path(root or os.environ.get("DCGAN_ANNOTATIONS_DIR") or ANNOTATIONS_DIR)
    seeds = [int(s) for s in seeds]
    try:
        ann = load_annotations(model, concept, annotation_path(model_sha256(model), concept, root))
    except DataError:
        ann = new_annotations(model, concept, G.image_size)
    seed = W.SelectionSlider(
        options=seeds, value=seeds[0], description="seed", continuous_update=False, layout=W.Layout(width="360px")
    )
    draw = BBoxWidget(classes=[concept.rstrip("s")], hide_buttons=True)
    save = W.Button(description="Save", layout=W.Layout(width="80px", flex="0 0 auto"))
    where = W.HTML(
        f"<small>writes {annotation_path(ann['sha256'], concept, root)}"
        f"{' (tracked by git: commit it to share the boxes)' if root == ANNOTATIONS_DIR else ''}</small>"
    )
    status = W.HTML()  # its own row: a long message never squeezes the controls

    def count() -> str:
        boxes = [b for b in ann["samples"].values() if b]
        return f"{sum(map(len, boxes))} boxes on {len(ann['samples'])} samples"

    def store(change=None):
        ann["samples"][str(seed.value)] = from_widget_boxes(draw.bboxes, scale, G.image_size)
        status.value = count()

    def show(change=None):
        if change is not None:  # keep the boxes of the sample we leave
            ann["samples"][str(change["old"])] = from_widget_boxes(draw.bboxes, scale, G.image_size)
        image = sample_for_seed(G, [seed.value])
        png = png_bytes(torch.nn.functional.interpolate(image, scale_factor=scale, mode="nearest"), nrow=1)
        draw.image = "data:image/png;base64," + base64.b64encode(png).decode()
        draw.bboxes = to_widget_boxes(ann["samples"].get(str(seed.value), []), scale, concept.rstrip("s"))
        status.value = count()

    def save_clicked(_):
        store()
        status.value = f"saved {save_annotations(ann, root)}: {count()}"

    seed.observe(show, names="value")
    draw.observe(store, names="bboxes")
    save.on_click(save_clicked)
    show()
    return W.VBox([W.HBox([seed, save, where], layout=W.Layout(align_items="center")), status, draw])


def representation_explorer(sets: dict, c_grid=(1e-3, 1e-2), per_class_choices=(10, 25, 100, 400)) -> W.VBox:
    """§5's features, live: pick the features, which of D's layers, and the labels per class;
    the test accuracy of a linear L2-SVM (C chosen on the validation split) updates from the
    cached features (`representation.subset_accuracy`)."""
    from .representation import subset_accuracy

    specs = list(sets)
    features = W.Dropdown(options=specs, value=specs[0], description="features")
    layers = W.HBox()
    per_class = W.Dropdown(
        options=[(str(n), n) for n in per_class_choices] + [("all", None)],
        value=per_class_choices[0],
        description="labels/class",
    )
    out = W.HTML()

    def show(change=None):
        chosen = [i for i, box in enumerate(layers.children) if box.value]
        if not chosen:
            out.value = "pick at least one layer"
            return
        out.value = (
            f"<i>fitting the SVM on {features.value}'s features (labels/class: {per_class.value or 'all'}) …</i>"
        )
        r = subset_accuracy(sets, features.value, chosen, per_class.value, c_grid)
        out.value = (
            f"<b>{100 * r['accuracy']:.1f}%</b> test accuracy ({r['n_train']:,} training images, "
            f"{r['feature_dim']:,} features, C = {r['C']:g})"
        )

    def rebuild(change=None):
        dims = sets[features.value][0].layer_dims
        boxes = [W.Checkbox(value=True, description=f"layer {i + 1} ({d:,})", indent=False) for i, d in enumerate(dims)]
        for box in boxes:
            box.observe(show, names="value")
        layers.children = boxes
        show()

    features.observe(rebuild, names="value")
    per_class.observe(show, names="value")
    rebuild()
    return W.VBox([W.HBox([features, per_class]), layers, out])


# ---------------------------------------------------------------------------------------------
# One widget per section: it takes the section's Result (sections.widget finds it by the module's name)


def train_widget(result: TrainingResult, zoo_model: str = "celeba64") -> W.VBox:
    """§4, notebook 01: the run's per-epoch sample grids, and samples of zoo model `zoo_model` beside this run's G."""
    from .pretrained import load_models

    zoo = {f"zoo:{zoo_model}": load_models(f"zoo:{zoo_model}")[0], "this run": result.generator()}
    return W.VBox([grid_scrubber(result.config["out"]), sample_explorer(zoo)])


def dedup_widget(result: DedupEvaluation, width: int = 480) -> W.VBox:
    """§4.1.1, notebook 02: `dedup_explorer` on the run's codes and injected copies, at its threshold and
    radius. The codes and images are not saved with the result: it needs the one `run` returned."""
    if result.codes is None:
        raise ValueError("the hash codes and images are not saved with the result: pass the one run(cfg) returned")
    return dedup_explorer(result.codes, result.injected, result.config.threshold, result.config.radius, width)


def representation_widget(result: RepresentationResult, per_class_choices=(10, 25, 100, 400)) -> W.VBox:
    """§5, notebook 03: `representation_explorer` on Table 1's features, with the config's C grid."""
    return representation_explorer(result.rebuild().sets, result.config.c_grid, per_class_choices)


def latent_walk_widget(
    result: LatentWalkResult, model: str | None = None, seed_a: int = 0, seed_b: int = 1, frame: int = 96
) -> W.VBox:
    """§6.1, notebook 04: `latent_walk_explorer` on the G of `model` (a name of `result.walks`; None: the
    last), starting at the config's steps and path."""
    generators = result.rebuild().generators
    G = generators[model or list(generators)[-1]]
    return latent_walk_explorer(G, seed_a, seed_b, result.config.steps, result.config.mode, frame)


def guided_backprop_widget(result: GuidedBackpropResult, k: int = 6, size: int = 128) -> W.VBox:
    """§6.2, notebook 05: `guided_backprop_explorer` on each model's trained D and its random-init D."""
    entries = {}
    for name, m in result.rebuild().models.items():
        entries[f"{name} trained"], entries[f"{name} random"] = (m.D, m.data), (m.D_random, m.data)
    return guided_backprop_explorer(entries, k, size)


def forgetting_widget(
    result: ForgettingResult, seeds=range(150), scale: int = 6, root: str | Path | None = None
) -> W.VBox:
    """§6.3.1, notebook 06: `box_annotator` for windows on the samples of the config's windows model."""
    from .pretrained import load_models

    model = result.config.windows_model
    return box_annotator(load_models(model)[0], model, seeds, "windows", scale, root)


def vector_arithmetic_widget(result: ArithmeticResult, page_size: int = 24, per_row: int = 8) -> W.VBox:
    """§6.3.2, notebook 07: `arithmetic_explorer` on the pool the result's exemplars (`choices`) index."""
    r = result.rebuild()
    return arithmetic_explorer(r.generator, r.choice_pool.z, r.choice_pool.images, r.choices, page_size, per_row)


def mnist_appendix_widget(result: AppendixResult, n: int = 30) -> W.VBox:
    """§8.1, notebook 08: `class_explorer` on the conditional DCGAN."""
    return class_explorer(result.rebuild().G, n)
