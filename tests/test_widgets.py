"""Widget callbacks driven headlessly: set a slider's value, check what the widget shows."""

import io

import torch
from PIL import Image

from dcgan_core.files import RunDir
from dcgan_core.models import Generator, init_weights
from dcgan_core.widgets import grid_scrubber, sample_explorer


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
