"""The data layer on real data from the offline mirror, and on every kind of bad input.

No test touches the network: `urllib.request.urlopen` (which torchvision downloads through) refuses.
"""

import os
import tarfile
import urllib.error
import urllib.request

import numpy as np
import pytest
import torch
from PIL import Image, ImageFile

from dcgan_core import data, sources
from dcgan_core.data import (
    KNOWN_DATASETS,
    DataError,
    DatasetInfo,
    default_channels,
    held_out_split,
    load_dataset,
    native_size,
    to_unit_range,
)

REPO_ROOT = data.REPO_ROOT
MNIST_TRAIN_LABELS = [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
MNIST_TEST_LABELS = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
FASHION_TRAIN_LABELS = [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise urllib.error.URLError("the tests never use the network")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


def load(name, size, cache, mirror=None, **kw):
    return load_dataset(name, size, cache_dir=cache, mirror=mirror, progress=False, **kw)


def save_jpeg_noise(path, size=(64, 48), seed=0):
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(path, quality=90)


# ---------------------------------------------------------------------------------------------
# Real datasets


def test_mnist(mirror, shared_cache_dir):
    train = load("mnist", 32, shared_cache_dir, mirror, limit=500)
    assert train.images.shape == (500, 1, 32, 32) and train.images.dtype == torch.uint8
    assert train.labels.dtype == torch.int64 and train.labels[:10].tolist() == MNIST_TRAIN_LABELS
    assert train.ids[:3] == ["0", "1", "2"] and train.classes == [str(d) for d in range(10)]
    assert train.name == "mnist" and train.channels == 1 and len(train) == 500
    test = load("mnist", 32, shared_cache_dir, mirror, split="test", limit=100)
    assert test.labels[:10].tolist() == MNIST_TEST_LABELS
    # At the native 28×28 the pixels are exactly the idx file's: no other preprocessing.
    raw = sources._read_idx(mirror / "MNIST" / "raw" / "t10k-images-idx3-ubyte")[:100]
    native = load("mnist", 28, shared_cache_dir, mirror, split="test", limit=100)
    assert np.array_equal(native.images[:, 0].numpy(), raw)


def test_fashion_mnist_from_debian_package(shared_cache_dir, tmp_path):
    if not (sources.FASHION_MNIST_SYSTEM_DIR / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip("apt package dataset-fashion-mnist is not installed")
    empty_mirror = tmp_path / "no-mirror"
    empty_mirror.mkdir()
    fashion = load("fashion-mnist", 32, shared_cache_dir, empty_mirror, limit=200, download=False)
    assert fashion.images.shape == (200, 1, 32, 32)
    assert fashion.labels[:10].tolist() == FASHION_TRAIN_LABELS and fashion.classes[9] == "Ankle boot"
    test = load("fashion-mnist", 32, shared_cache_dir, empty_mirror, split="test", limit=10, download=False)
    assert test.labels.shape == (10,)


def test_cifar10_train_and_test(mirror, shared_cache_dir):
    train = load("cifar10", 32, shared_cache_dir, mirror, limit=300)
    assert train.images.shape == (300, 3, 32, 32) and train.images.dtype == torch.uint8
    assert train.classes[:3] == ["airplane", "automobile", "bird"] and len(train.classes) == 10
    assert train.ids[0] == "airplane/0000.jpg" and (train.labels == 0).all()
    test = load("cifar10", 32, shared_cache_dir, mirror, split="test")
    assert len(test) == 10_000 and torch.bincount(test.labels).tolist() == [1000] * 10
    assert all(i.startswith(f"{test.classes[label]}/") for i, label in zip(test.ids[::997], test.labels[::997]))


def test_celeba_with_attributes(mirror, shared_cache_dir):
    faces = load("celeba", 64, shared_cache_dir, mirror, limit=1000)
    assert faces.images.shape == (1000, 3, 64, 64) and faces.labels is None
    assert faces.ids[:2] == ["000001.jpg", "000002.jpg"]
    assert faces.attributes.shape == (1000, 40) and faces.attributes.dtype == torch.bool
    assert len(faces.attribute_names) == 40 and "Smiling" in faces.attribute_names
    # Count Smiling in the attribute file directly and compare.
    lines = (shared_cache_dir / "celeba" / "list_attr_celeba.txt").read_text().splitlines()
    column = lines[1].split().index("Smiling") + 1
    rows = {parts[0]: parts[column] for parts in map(str.split, lines[2:])}
    expected = sum(rows[i] == "1" for i in faces.ids)
    smiling = faces.attributes[:, faces.attribute_names.index("Smiling")]
    assert int(smiling.sum()) == expected and 300 < expected < 700


def test_scenes(mirror, shared_cache_dir):
    scenes = load("scenes", 32, shared_cache_dir, mirror)
    assert scenes.classes == ["bedroom", "kitchen", "livingroom"]
    assert torch.bincount(scenes.labels).tolist() == [216, 210, 289]  # the mirror README's counts
    bedrooms = load("scenes:bedroom", 32, shared_cache_dir, mirror)
    assert len(bedrooms) == 216 and (bedrooms.labels == 0).all() and bedrooms.name == "scenes:bedroom"
    assert all(i.startswith("bedroom/") for i in bedrooms.ids)
    kitchens = load("scenes:kitchen", 32, shared_cache_dir, mirror, limit=5)
    assert (kitchens.labels == 1).all()  # labels index all three classes


def test_batch_is_float_in_unit_range(mirror, shared_cache_dir):
    digits = load("mnist", 32, shared_cache_dir, mirror, limit=500)
    x = digits.batch(torch.arange(64))
    assert x.dtype == torch.float32 and x.shape == (64, 1, 32, 32)
    assert x.min() == -1 and x.max() == 1  # MNIST has pure black and pure white pixels
    assert torch.allclose(digits.batch(torch.tensor([3])), digits.images[3:4].float() / 127.5 - 1)
    assert to_unit_range(torch.tensor([0, 255], dtype=torch.uint8)).tolist() == [-1.0, 1.0]
    with pytest.raises(TypeError):
        to_unit_range(torch.zeros(3))


def test_channels_conversion(mirror, shared_cache_dir):
    rgb_digits = load("mnist", 32, shared_cache_dir, mirror, limit=50, channels=3)
    assert rgb_digits.images.shape == (50, 3, 32, 32)
    assert torch.equal(rgb_digits.images[:, 0], rgb_digits.images[:, 2])  # gray repeated
    gray_faces = load("celeba", 32, shared_cache_dir, mirror, limit=20, channels=1)
    assert gray_faces.images.shape == (20, 1, 32, 32) and gray_faces.channels == 1
    assert default_channels("mnist") == default_channels("fashion-mnist") == 1
    assert default_channels("celeba") == default_channels("folder:/x") == default_channels("scenes:bedroom") == 3


def test_second_load_hits_the_cache(mirror, cache_dir, monkeypatch):
    first = load("mnist", 32, cache_dir, mirror, split="test", limit=300)
    assert len(list((cache_dir / "cache").glob("*.npy"))) == 1

    def decode_again(*args, **kwargs):
        raise AssertionError("decoded again")

    monkeypatch.setattr(data, "_decode", decode_again)
    second = load("mnist", 32, cache_dir, mirror, split="test", limit=300)
    assert torch.equal(first.images, second.images) and torch.equal(first.labels, second.labels)
    with pytest.raises(AssertionError, match="decoded again"):  # another size is another cache file
        load("mnist", 16, cache_dir, mirror, split="test", limit=300)


def test_folder_cache_notices_changed_files(tmp_path, cache_dir, monkeypatch):
    folder = tmp_path / "pics"
    folder.mkdir()
    for i in range(3):
        save_jpeg_noise(folder / f"{i}.jpg", seed=i)
    calls = []
    real_decode = data._decode
    monkeypatch.setattr(data, "_decode", lambda *a, **k: calls.append(1) or real_decode(*a, **k))
    load(f"folder:{folder}", 16, cache_dir)
    load(f"folder:{folder}", 16, cache_dir)
    assert len(calls) == 1
    save_jpeg_noise(folder / "1.jpg", size=(80, 80), seed=7)  # a changed file is a new fingerprint
    assert len(load(f"folder:{folder}", 16, cache_dir)) == 3 and len(calls) == 2


def test_env_vars(mirror, cache_dir, monkeypatch):
    monkeypatch.setenv("DCGAN_DATA_DIR", str(cache_dir))
    monkeypatch.setenv("DCGAN_MIRROR", os.path.relpath(mirror, REPO_ROOT))  # relative to the repo root
    digits = load_dataset("mnist", 32, limit=10, progress=False)
    assert digits.labels.tolist() == MNIST_TRAIN_LABELS
    assert len(list((cache_dir / "cache").glob("mnist-*.npy"))) == 1


# ---------------------------------------------------------------------------------------------
# Image folders, messy ones included


def make_messy_folder(root):
    """Good images of many sizes and modes, three unreadable files and a non-image; returns the bad names."""
    (root / "sub").mkdir(parents=True)
    save_jpeg_noise(root / "odd_37x91.jpg", size=(37, 91))
    tall = np.zeros((91, 37, 3), np.uint8)
    tall[:, :, 2] = 255  # blue bands at the top and bottom ...
    tall[10:81] = (255, 0, 0)  # ... that the center crop (rows 27-63) must cut off
    Image.fromarray(tall).save(root / "tall.png")
    Image.fromarray(np.zeros((40, 60, 4), np.uint8)).save(root / "transparent.png")  # RGBA, all transparent
    noise = np.random.default_rng(1).integers(0, 256, (50, 50, 3), dtype=np.uint8)
    Image.fromarray(noise).convert("P", palette=Image.Palette.ADAPTIVE).save(root / "palette.png")
    Image.fromarray(noise[:, :, 0]).save(root / "sub" / "gray.png")
    Image.fromarray(np.full((30, 20), 65535, np.uint16)).save(root / "sub" / "deep16.png")  # 16-bit white
    Image.new("CMYK", (40, 40), (0, 0, 0, 0)).save(root / "cmyk.jpg")
    Image.new("RGB", (9, 9), "red").save(root / "tiny.bmp")
    (root / "readme.txt").write_text("not an image, not even looked at")
    save_jpeg_noise(root / "whole.jpg", size=(200, 200))
    (root / "truncated.jpg").write_bytes((root / "whole.jpg").read_bytes()[:3000])
    (root / "whole.jpg").unlink()
    (root / "empty.jpg").write_bytes(b"")
    (root / "sub" / "notes.jpg").write_text("a text file named .jpg\n")
    return ["empty.jpg", "sub/notes.jpg", "truncated.jpg"]


def test_messy_folder_loads_good_images_and_reports_the_bad(tmp_path, cache_dir):
    folder = tmp_path / "messy"
    bad = make_messy_folder(folder)
    good = sorted(
        [
            "odd_37x91.jpg",
            "tall.png",
            "transparent.png",
            "palette.png",
            "sub/gray.png",
            "sub/deep16.png",
            "cmyk.jpg",
            "tiny.bmp",
        ]
    )
    with pytest.warns(UserWarning, match=r"skipped 3 unreadable image\(s\) in .*messy") as record:
        images = load(f"folder:{folder}", 16, cache_dir)
    message = str(record[0].message)
    assert "empty.jpg (empty file)" in message and "sub/notes.jpg (not an image" in message
    assert "truncated.jpg (image file is truncated" in message
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    assert images.ids == good and [path for path, _ in images.skipped] == bad
    assert images.images.shape == (8, 3, 16, 16) and images.labels is None
    assert images.name == f"folder:{folder.resolve()}"
    pixels = {name: images.images[i] for i, name in enumerate(images.ids)}
    assert (pixels["transparent.png"] == 255).all() and (pixels["sub/deep16.png"] == 255).all()
    assert (pixels["cmyk.jpg"] >= 250).all()
    tall = pixels["tall.png"].int()
    assert (tall[0] > 240).all() and (tall[2] < 15).all()  # red only: the blue bands were cropped away
    with pytest.warns(UserWarning, match="skipped 3"):  # decoded again for 1 channel, and reported again
        gray = load(f"folder:{folder}", 16, cache_dir, channels=1)
    assert gray.images.shape == (8, 1, 16, 16) and gray.skipped == images.skipped


def test_folder_errors(tmp_path, cache_dir):
    with pytest.raises(DataError, match="does not exist"):
        load(f"folder:{tmp_path / 'nope'}", 16, cache_dir)
    a_file = tmp_path / "a.jpg"
    save_jpeg_noise(a_file)
    with pytest.raises(DataError, match="is a file, not a folder"):
        load(f"folder:{a_file}", 16, cache_dir)
    empty = tmp_path / "empty"
    (empty / "deeper").mkdir(parents=True)
    (empty / "deeper" / "notes.txt").write_text("no images here")
    with pytest.raises(DataError, match=r"no images found in .*empty \(looked for \.jpg"):
        load(f"folder:{empty}", 16, cache_dir)
    all_bad = tmp_path / "all_bad"
    all_bad.mkdir()
    (all_bad / "a.jpg").write_bytes(b"")
    (all_bad / "b.png").write_text("text")
    with pytest.raises(DataError, match=r"none of the 2 image\(s\) .* could be read"):
        load(f"folder:{all_bad}", 16, cache_dir)
    assert not list((cache_dir / "cache").glob("*.np?"))  # nothing half-written left behind


def test_mirror_archive_extraction_is_atomic(tmp_path, cache_dir, monkeypatch):
    source, mirror = tmp_path / "src", tmp_path / "mirror"
    for i, scene in enumerate(data.SCENE_CLASSES):
        (source / "scenes" / scene).mkdir(parents=True)
        save_jpeg_noise(source / "scenes" / scene / f"image_{i}.jpg", seed=i)
    mirror.mkdir()
    with tarfile.open(mirror / "scenes15-indoor.tar.gz", "w:gz") as tar:
        tar.add(source / "scenes", arcname="scenes")
    real_extractall = tarfile.TarFile.extractall

    def interrupted(self, *args, **kwargs):
        real_extractall(self, *args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(tarfile.TarFile, "extractall", interrupted)
    with pytest.raises(KeyboardInterrupt):
        load("scenes", 16, cache_dir, mirror)
    assert list(cache_dir.iterdir()) == []  # no scenes/ that looks complete, no temp folder
    monkeypatch.setattr(tarfile.TarFile, "extractall", real_extractall)
    scenes = load("scenes", 16, cache_dir, mirror)
    assert scenes.labels.tolist() == [0, 1, 2] and (cache_dir / "scenes" / "kitchen" / "image_1.jpg").is_file()


# ---------------------------------------------------------------------------------------------
# Bad names, splits and arguments; datasets that are not available offline


@pytest.mark.parametrize("name", ["imagenet", "mnist:3", "scenes:garage", "lsun", "folder:", ""])
def test_unknown_names(name, cache_dir):
    with pytest.raises(DataError) as error:
        load(name, 32, cache_dir)
    if name in ("imagenet", "mnist:3", ""):
        for known in KNOWN_DATASETS:
            assert known.split(":")[0] in str(error.value)
        assert "folder:PATH" in str(error.value)


@pytest.mark.parametrize(
    "name, split, says",
    [
        ("celeba", "test", "'train'"),
        ("scenes", "val", "'train'"),
        ("folder:/tmp", "test", "'train'"),
        ("mnist", "val", "'test'"),
        ("cifar10", "valid", "'train', 'test'"),
    ],
)
def test_bad_split(name, split, says, cache_dir):
    with pytest.raises(DataError, match=f"no split '{split}'.*{says}"):
        load(name, 32, cache_dir, split=split)


@pytest.mark.parametrize(
    "kwargs, says",
    [
        ({"channels": 2}, "channels must be 1"),
        ({"limit": 0}, "limit"),
        ({"image_size": 0}, "image_size"),
        ({"image_size": 32.0}, "image_size"),
    ],
)
def test_bad_arguments(kwargs, says, mirror, cache_dir):
    kwargs = {"image_size": 32, **kwargs}
    with pytest.raises(DataError, match=says):
        load_dataset("mnist", cache_dir=cache_dir, mirror=mirror, progress=False, **kwargs)


@pytest.mark.parametrize("name", ["mnist", "cifar10", "celeba", "svhn"])
def test_unavailable_offline_download_fails(name, tmp_path, cache_dir):
    if name == "svhn":
        pytest.importorskip("scipy")
    empty_mirror = tmp_path / "empty-mirror"
    empty_mirror.mkdir()
    with pytest.raises(DataError, match=f"{name} is not available offline.*the download failed") as error:
        load(name, 32, cache_dir, empty_mirror)  # download=True, but urlopen refuses
    message = str(error.value)
    assert "To get it" in message and "download=True" in message
    if name != "svhn":
        assert "DCGAN_MIRROR" in message
    if name == "celeba":
        assert "celeba-10k.tar.gz" in message and "list_attr_celeba.txt" in message


def test_unavailable_offline_no_download(tmp_path, cache_dir, monkeypatch):
    monkeypatch.setattr(sources, "FASHION_MNIST_SYSTEM_DIR", tmp_path / "not-installed")
    says = r"fashion-mnist is not available offline.*download=False.*apt-get install dataset-fashion-mnist"
    with pytest.raises(DataError, match=says):
        load("fashion-mnist", 32, cache_dir, tmp_path / "no-such-mirror", download=False)
    monkeypatch.delenv("DCGAN_MIRROR", raising=False)
    says = r"scenes is not available offline.*no mirror folder is set.*scenes15-indoor.tar.gz"
    with pytest.raises(DataError, match=says):
        load("scenes", 32, cache_dir, download=False)


def test_lsun_needs_its_lmdb(cache_dir):
    with pytest.raises(DataError, match=r"bedroom_train_lmdb.*download.py -c bedroom"):
        load("lsun:bedroom", 32, cache_dir)
    with pytest.raises(DataError, match=r"unknown LSUN category 'garage'.*church_outdoor"):
        load("lsun:garage_train", 32, cache_dir)


def test_corrupt_idx_file(cache_dir):
    raw = cache_dir / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (raw / name).write_bytes(b"\0\0\x08\x03" + b"\0" * 10)  # a header cut short
    with pytest.raises(DataError, match="not a valid uint8 idx file"):
        load("mnist", 32, cache_dir, split="test", download=False)


# ---------------------------------------------------------------------------------------------
# The registry: one table of datasets


def test_registry_is_the_one_table():
    assert KNOWN_DATASETS == (
        "mnist",
        "fashion-mnist",
        "cifar10",
        "svhn",
        "celeba",
        "scenes[:CLASS]",
        "lsun:CATEGORY",
        "folder:PATH",
    )
    for name, info in data.DATASETS.items():
        assert "train" in info.splits and info.channels in (1, 3) and info.licence
        assert info.labels in ("class", "attributes", None)
        written = info.example or name  # a name as a user writes it
        assert default_channels(written) == info.channels and native_size(written) == info.native_size
        assert held_out_split(written) == ("test" if "test" in info.splits else "train")
    assert native_size("mnist") == native_size("fashion-mnist") == 28
    assert native_size("cifar10") == native_size("svhn") == 32
    assert native_size("celeba") is None and native_size("scenes:bedroom") is None and native_size("folder:/x") is None
    assert held_out_split("cifar10") == "test" and held_out_split("celeba") == held_out_split("folder:/x") == "train"
    assert data.DATASETS["celeba"].labels == "attributes" and data.DATASETS["mnist"].labels == "class"


def test_a_new_dataset_is_one_entry_and_one_source(tmp_path, cache_dir, monkeypatch):
    """As §5's "SVHN with 1000 labels" or §8's labelled MNIST will be: an entry, and a source if none fits."""
    root = tmp_path / "shapes"
    for split, n in (("train", 3), ("test", 2)):
        for colour in ("red", "green"):
            (root / split / colour).mkdir(parents=True)
            for i in range(n):
                Image.new("RGB", (8, 8), colour).save(root / split / colour / f"{i}.png")

    def shapes_source(where, split, arg):
        return sources._class_folders(root / split, ["red", "green"], sources._list_images(root / split))

    monkeypatch.setitem(
        data.DATASETS,
        "shapes",
        DatasetInfo(shapes_source, ("train", "test"), native_size=8, labels="class", licence="drawn by this test"),
    )
    shapes = load("shapes", 8, cache_dir, split="test")
    assert shapes.classes == ["red", "green"] and shapes.labels.tolist() == [1, 1, 0, 0]  # sorted: green/, red/
    assert (shapes.images[0, 1] == 128).all() and (shapes.images[2, 0] == 255).all()
    assert len(load("shapes", 8, cache_dir)) == 6 and shapes.name == "shapes"
    assert native_size("shapes") == 8 and held_out_split("shapes") == "test" and default_channels("shapes") == 3
    with pytest.raises(DataError, match=r"known datasets: .*shapes"):
        load("imagenet", 8, cache_dir)


def test_cache_root(tmp_path, monkeypatch):
    monkeypatch.delenv("DCGAN_DATA_DIR", raising=False)
    assert data.cache_root() == REPO_ROOT / "data"
    monkeypatch.setenv("DCGAN_DATA_DIR", "build/data")  # relative to the repo root
    assert data.cache_root() == REPO_ROOT / "build" / "data"
    assert data.cache_root(tmp_path) == tmp_path.resolve()  # an argument wins
