"""Widget callbacks driven headlessly: set a slider's value, check what the widget shows."""

import io
from pathlib import Path

import pytest
import torch
from PIL import Image

from dcgan_core.dedup import DedupEvaluation
from dcgan_core.files import RunDir
from dcgan_core.latent_walk import LatentWalkResult
from dcgan_core.mnist_appendix import AppendixResult
from dcgan_core.models import Generator, init_weights
from dcgan_core.pretrained import model_key
from dcgan_core.widgets import (
    dedup_widget,
    grid_scrubber,
    latent_walk_widget,
    mnist_appendix_widget,
    sample_explorer,
)


def _save_grids(run_dir, names):
    (run_dir / "samples").mkdir(parents=True)
    for i, name in enumerate(names):
        Image.new("RGB", (8, 8), (i * 40, 0, 0)).save(run_dir / "samples" / name)


def test_grid_scrubber_shows_each_epoch_grid(tmp_path):
    _save_grids(tmp_path, ["epoch_002.png", "epoch_001.png", "step_0000010.png", "epoch_010.png"])
    assert [p.name for p in RunDir(tmp_path).grids()] == ["epoch_001.png", "epoch_002.png", "epoch_010.png"]
    box = grid_scrubber(tmp_path)
    (slider, label), image = box.children[0].children, box.children[1]
    assert slider.max == 2 and label.value == "epoch_010.png"  # opens on the latest
    slider.value = 0
    assert label.value == "epoch_001.png"
    assert bytes(image.value) == (tmp_path / "samples" / "epoch_001.png").read_bytes()


def test_grid_scrubber_before_first_epoch_and_without_grids(tmp_path):
    assert "train first" in grid_scrubber(tmp_path).children[0].value
    _save_grids(tmp_path, ["step_0000010.png", "step_0000020.png"])
    assert [p.name for p in RunDir(tmp_path).grids()] == ["step_0000010.png", "step_0000020.png"]


def test_sample_explorer_seed_slider_resamples_deterministically():
    G = Generator(arch="torch", image_size=32, width=8)
    init_weights(G, torch.Generator().manual_seed(0))
    box = sample_explorer(G, n=4)
    (seed, count), image = box.children[0].children, box.children[1]
    first = bytes(image.value)
    assert first.startswith(b"\x89PNG")
    seed.value = 7
    assert bytes(image.value) != first
    seed.value = 0
    assert bytes(image.value) == first  # same seed, same samples
    count.value = 9
    assert Image.open(io.BytesIO(image.value)).size[0] > Image.open(io.BytesIO(first)).size[0]


def test_sample_explorer_switches_between_generators():
    Gs = {}
    for name, seed in (("zoo", 0), ("this run", 1)):
        Gs[name] = Generator(arch="torch", image_size=32, width=8)
        init_weights(Gs[name], torch.Generator().manual_seed(seed))
    box = sample_explorer(Gs, n=4)
    (seed, _count, which), image = box.children[0].children, box.children[1]
    first = bytes(image.value)
    which.value = "this run"
    assert bytes(image.value) != first
    which.value = "zoo"
    assert bytes(image.value) == first


# Each section's widget takes its Result: the one run(cfg) returned, or one read back from its file (the
# record's, results/cpu/results/), whose `rebuild` loads the models its config names.
RECORD = Path(__file__).resolve().parents[1] / "results" / "cpu" / "results"


def test_the_latent_walk_widget_from_a_result_read_back():
    """A LatentWalkResult read from its file has no generators; the widget loads the config's zoo models
    (its last one shown) and its path and steps are the config's; moving seed B changes the frames."""
    result = LatentWalkResult.read(RECORD / "04_latent_walk.json")
    assert result.generators is None
    box = latent_walk_widget(result)
    assert list(result.generators) == [model_key(m) for m in result.config.models]
    (_a, b), (steps, path), strip = box.children[0].children, box.children[1].children, box.children[2]
    assert (steps.value, path.value) == (result.config.steps, result.config.mode)
    assert len(strip.children) == result.config.steps + 1
    first = [bytes(i.value) for i in strip.children]
    b.value = 5
    assert [bytes(i.value) for i in strip.children][1:] != first[1:] and bytes(strip.children[0].value) == first[0]


def test_the_mnist_widget_from_a_result_read_back():
    """An AppendixResult read back loads the conditional DCGAN it names; picking a class changes the digits."""
    result = AppendixResult.read(RECORD / "08_mnist_appendix.json")
    box = mnist_appendix_widget(result, n=10)
    assert result.G is not None and result.G.n_classes == 10
    (digit, _seed), image = box.children[0].children, box.children[1]
    first = bytes(image.value)
    digit.value = 7
    assert bytes(image.value) != first


def test_the_dedup_widget_needs_the_result_run_returned():
    """The dedup codes and images are not saved: a read result is refused with the reason, not drawn empty."""
    result = DedupEvaluation.read(RECORD / "02_dedup.json")
    with pytest.raises(ValueError, match="not saved with the result"):
        dedup_widget(result)
