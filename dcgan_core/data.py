"""
# Image datasets for DCGAN

Radford, Metz & Chintala, *Unsupervised Representation Learning with Deep Convolutional
Generative Adversarial Networks* ([arXiv 1511.06434](https://arxiv.org/abs/1511.06434)), §4:

> "No pre-processing was applied to training images besides scaling to the range of the
> tanh activation function [-1, 1]."

The paper's datasets (LSUN bedrooms, faces, Imagenet-1k) hold images of many sizes, so to feed them
to a network of one `image_size` we also **center-crop** each image to a square (its shorter side)
and **resize** it. Nothing else: no mean/std normalisation, no augmentation.

Images are decoded once into an `N×C×H×W` uint8 `.npy` file in `<cache folder>/cache/` and
memory-mapped by every later load; `ImageData.batch` scales a batch to `[-1, 1]`.

Every dataset is one entry of `DATASETS` (its splits, channels, native size, labels, mirror file,
licence) and one source function that finds its images. Adding a dataset is one entry plus, at
most, one source.

Where a dataset is looked for, in order:

1. the cache folder: `cache_dir=`, else `$DCGAN_DATA_DIR`, else `<repo>/data` (git-ignored);
   extracted archives and torchvision downloads live here;
2. an offline mirror folder: `mirror=`, else `$DCGAN_MIRROR`; its archives are extracted into the
   cache folder on first use, its MNIST idx files are read where they are;
3. for Fashion-MNIST, Debian's `dataset-fashion-mnist` package in `/usr/share/datasets/`;
4. a torchvision download into the cache folder, when `download=True`.

A relative path in `$DCGAN_DATA_DIR` or `$DCGAN_MIRROR` is taken from the repository root, so it
means the same from the repo root and from `notebooks/`.

```python
data = load_dataset("celeba", 64)                    # the mirror's 10,000 faces, 3×64×64
x = data.batch(torch.randint(len(data), (128,)))     # float32 in [-1, 1], 128×3×64×64
```
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import gzip
import hashlib
import json
import math
import multiprocessing
import os
import re
import shutil
import signal
import tarfile
import warnings
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from tqdm.auto import tqdm

from .files import WriteError, atomic_write, describe_os_error, remove_stale_temps, temp_path

SCENE_CLASSES = ("bedroom", "kitchen", "livingroom")
LSUN_CATEGORIES = ("bedroom", "bridge", "church_outdoor", "classroom", "conference_room", "dining_room",
                   "kitchen", "living_room", "restaurant", "tower")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm")
REPO_ROOT = Path(__file__).resolve().parents[1]
FASHION_MNIST_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
_CACHE_VERSION = 1          # bump when the preprocessing changes, so that old caches are not reused
_WORKERS = 2                # processes decoding image files (there are no torch DataLoader workers)
_POOL_MIN_IMAGES = 2000     # below this, starting a process pool costs more than it saves


class DataError(ValueError):
    """One clear message: what was wrong and what to do."""


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """One dataset, everything the package knows about it; the table is `DATASETS`."""
    source: Callable[[_Where, str, str | None], _Source]  # (where to look, split, argument) -> its images
    splits: tuple[str, ...] = ("train", "all")  # ("train", "all"): one split, under either name
    channels: int = 3                           # the default; every dataset also loads as 1 or 3
    native_size: int | None = None              # None: images of many sizes
    labels: str | None = None                   # "class" (ImageData.labels), "attributes" (.attributes), None
    argument: str | None = None                 # what follows "NAME:" ("CLASS", "CATEGORY", "PATH"; a PATH
                                                # keeps its case), None: nothing may
    argument_optional: bool = False             # "scenes" alone is all three classes
    choices: tuple[str, ...] = ()               # the argument's values, where they are a fixed few
    example: str = ""                           # e.g. "lsun:bedroom_train", for messages
    mirror_file: str | None = None              # what the offline mirror folder holds of it
    licence: str = ""                           # terms of use, and what to cite

    def usage(self, name: str) -> str:
        """"mnist", "scenes[:CLASS]", "folder:PATH": how to write the name."""
        if self.argument is None:
            return name
        return f"{name}[:{self.argument}]" if self.argument_optional else f"{name}:{self.argument}"


@dataclasses.dataclass(repr=False)
class ImageData:
    """A decoded dataset: uint8 images, already center-cropped and resized, and what labels it has."""
    name: str                                   # e.g. "celeba", "scenes:bedroom", "folder:/abs/path"
    images: torch.Tensor                        # uint8 N×C×H×W (usually a memory-mapped cache file)
    labels: torch.Tensor | None                 # int64 N class indices, where the dataset has classes
    ids: list[str]                              # path relative to the dataset's folder, else str(index)
    classes: list[str] | None = None
    attributes: torch.Tensor | None = None      # celeba: N×40 bool
    attribute_names: list[str] | None = None    # celeba: the 40 names in list_attr_celeba.txt
    skipped: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # unreadable: (path, reason)

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def channels(self) -> int:
        return self.images.shape[1]

    def batch(self, index: torch.Tensor) -> torch.Tensor:
        """The images at `index` as float32 in [-1, 1], N×C×H×W: the discriminator's input."""
        return to_unit_range(self.images[index])

    def subset(self, index: Sequence[int] | torch.Tensor) -> ImageData:
        """The images at `index` (in that order), with their labels, ids and attributes."""
        index = torch.as_tensor(index, dtype=torch.long)
        pick = lambda t: None if t is None else t[index]  # noqa: E731
        return dataclasses.replace(self, images=self.images[index], labels=pick(self.labels),
                                   ids=[self.ids[i] for i in index.tolist()], attributes=pick(self.attributes))

    def keep(self, kept_file: str | Path) -> ImageData:
        """Only the images a dedup index kept (§4.1.1): `kept_file` is the `kept.json` that
        `python -m dcgan_core dedup` writes, {"dataset": name, "n_total": N, "kept": [indices]}."""
        path = Path(kept_file)
        try:
            index = json.loads(path.read_text())
            kept, n_total, dataset = index["kept"], index["n_total"], index["dataset"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise DataError(f"cannot read the dedup index {path} ({e.__class__.__name__}: {e}); "
                            f"write one with: python -m dcgan_core dedup --dataset NAME --out DIR") from None
        if n_total != len(self) or (dataset != self.name and not str(dataset).startswith("folder:")):
            raise DataError(f"the dedup index {path} was made for {dataset!r} with {n_total} images, but the "
                            f"data is {self.name!r} with {len(self)}: run dedup again on this dataset")
        if not kept or min(kept) < 0 or max(kept) >= len(self):
            raise DataError(f"the dedup index {path} keeps no images, or indices outside 0..{len(self) - 1}")
        return self.subset(sorted(kept))

    def __repr__(self) -> str:
        n, c, h, w = self.images.shape
        extras = [f"{len(self.classes)} classes"] if self.classes else []
        extras += [f"{len(self.attribute_names)} attributes"] if self.attribute_names else []
        extras += [f"{len(self.skipped)} skipped"] if self.skipped else []
        return f"ImageData({self.name!r}, {n} images {c}×{h}×{w}" + "".join(f", {e}" for e in extras) + ")"


def held_out_split(name: str) -> str:
    """The split to compare a model with: "test" where the dataset has one (images training
    never saw), else "train" (CelebA-10k, scenes, folders: there is nothing held out)."""
    info = DATASETS.get(name.strip().lower().split(":")[0])
    return "test" if info is not None and "test" in info.splits else "train"


def svhn_available(cache_dir: str | Path | None = None, splits: Sequence[str] = ("train", "test")) -> bool:
    """Whether SVHN's `splits` (.mat files) are in the cache folder, so that loading them downloads nothing."""
    return all((cache_root(cache_dir) / "svhn" / f"{s}_32x32.mat").is_file() for s in splits)


def to_unit_range(x_uint8: torch.Tensor) -> torch.Tensor:
    """Scale uint8 pixels [0, 255] to float32 [-1, 1], the range of the generator's tanh."""
    if x_uint8.dtype != torch.uint8:
        raise TypeError(f"to_unit_range expects uint8 pixels, got {x_uint8.dtype}")
    return x_uint8.float().div_(127.5).sub_(1.0)


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """Images in [-1, 1] → uint8 pixels [0, 255], rounded as a PNG stores them (to_unit_range inverted)."""
    return ((x.float() + 1) * 127.5).round_().clamp_(0, 255).to(torch.uint8)


def default_channels(name: str) -> int:
    """1 for the grayscale digits and clothes, 3 (RGB) for everything else."""
    return _parse_name(name)[1].channels


def native_size(name: str) -> int | None:
    """The size all of a dataset's images have (28 for MNIST), or None where sizes vary."""
    return _parse_name(name)[1].native_size


def cache_root(cache_dir: str | Path | None = None) -> Path:
    """The cache folder: `cache_dir` (relative to the working directory), else $DCGAN_DATA_DIR
    (relative to the repo root), else <repo>/data. Decoded caches go in its cache/ subfolder."""
    return _path(cache_dir, "DCGAN_DATA_DIR") or REPO_ROOT / "data"


def load_dataset(name: str, image_size: int, *, split: str = "train", channels: int | None = None,
                 limit: int | None = None, cache_dir: str | Path | None = None,
                 mirror: str | Path | None = None, download: bool = True, progress: bool = True) -> ImageData:
    """Load dataset `name` as `image_size`×`image_size` images with `channels` channels.

    `limit` keeps the first `limit` images (of the sorted file list, for folder-based datasets).
    The first call decodes and caches; later calls with the same arguments memory-map the cache.
    """
    kind, info, arg = _parse_name(name)
    split = _check_split(name, info, split)
    channels = info.channels if channels is None else channels
    image_size = _positive_int(image_size, "image_size", " (e.g. 64)")
    limit = None if limit is None else _positive_int(limit, "limit", " (or None for all images)")
    if channels not in (1, 3):
        raise DataError(f"channels must be 1 (grayscale) or 3 (RGB), got {channels!r}")
    cache = cache_root(cache_dir)
    for folder in (cache, cache / "cache"):  # temp files and folders of writers that were killed
        remove_stale_temps(folder)
    where = _Where(kind, info, cache, _path(mirror, "DCGAN_MIRROR"), download, progress)

    # Find the dataset (extracting or downloading it if needed), but decode nothing yet.
    source = info.source(where, split, arg)
    if source.files == []:
        raise DataError(f"no images found in {source.root} (looked for {' '.join(IMAGE_EXTENSIONS)} files)")
    if limit is not None and source.files is not None:
        source = source.head(limit)
    if info.argument == "PATH":  # the same folder has one name (and cache) from every working directory
        name, slug = f"{kind}:{source.root}", f"{kind}-{source.root.name}"
    else:
        name = slug = name.strip().lower()

    # The cache file's key holds everything that changes its pixels, the source files' stats included.
    key = json.dumps([_CACHE_VERSION, name, split, image_size, channels, limit, source.key()])
    slug = re.sub(r"[^a-z0-9]+", "-", slug.lower()).strip("-")
    stem = f"{slug}-{split}-{image_size}px-{channels}ch-{limit or 'all'}-{hashlib.sha1(key.encode()).hexdigest()[:12]}"
    npy, sidecar = cache / "cache" / f"{stem}.npy", cache / "cache" / f"{stem}.npz"
    if not (npy.is_file() and sidecar.is_file()):  # the sidecar is written last: it marks a complete cache
        _build_cache(source, image_size, channels, limit, npy, sidecar, progress, f"decoding {name} ({split})")
    data = _load_cache(npy, sidecar, name)
    if data.skipped:
        shown = ", ".join(f"{path} ({reason})" for path, reason in data.skipped[:10])
        more = f", … and {len(data.skipped) - 10} more" if len(data.skipped) > 10 else ""
        warnings.warn(f"skipped {len(data.skipped)} unreadable image(s) in {source.root}: {shown}{more}", stacklevel=2)
    return data


# ---------------------------------------------------------------------------------------------
# Names, splits, paths

def _parse_name(name: str) -> tuple[str, DatasetInfo, str | None]:
    """ "scenes:bedroom" -> ("scenes", DATASETS["scenes"], "bedroom"), "mnist" -> ("mnist", …, None)."""
    kind, colon, arg = str(name).strip().partition(":")
    kind, arg = kind.lower(), arg.strip()
    info = DATASETS.get(kind)
    if info is None or (colon and info.argument is None):
        known = ", ".join(i.usage(k) + (f" (e.g. {i.example})" if i.example else "") for k, i in DATASETS.items())
        raise DataError(f"unknown dataset {name!r}; known datasets: {known}")
    if info.argument is not None and not arg and (colon or not info.argument_optional):
        raise DataError(f"{kind} needs an argument, e.g. {info.example!r} (got {name!r})")
    arg = arg if info.argument == "PATH" else arg.lower()
    if arg and info.choices and arg not in info.choices:
        raise DataError(f"unknown {kind} {info.argument.lower()} {arg!r}: use "
                        + (f"'{kind}' or " if info.argument_optional else "")
                        + ", ".join(f"'{kind}:{c}'" for c in info.choices))
    return kind, info, arg or None


def _check_split(name: str, info: DatasetInfo, split: str) -> str:
    splits = info.splits
    if split in splits:
        return "train" if split == "all" else split
    if splits == ("train", "all"):
        raise DataError(f"{name} has no split {split!r}: it has one split, 'train' (also called 'all')")
    raise DataError(f"{name} has no split {split!r}; its splits are " + ", ".join(map(repr, splits)))


def _positive_int(value: Any, what: str, hint: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise DataError(f"{what} must be a positive int{hint}, got {value!r}")
    return int(value)


def _path(argument: str | Path | None, env_var: str) -> Path | None:
    """An argument (relative to the working directory), else an env var (relative to the repo root)."""
    if argument is not None:
        return Path(argument).expanduser().resolve()
    value = os.environ.get(env_var)
    return (REPO_ROOT / Path(value).expanduser()).resolve() if value else None


def _list_images(root: Path) -> list[str]:
    """Paths (relative, with "/") of the image files under `root`, recursively, sorted; hidden ones skipped."""
    found = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [d for d in subfolders if not d.startswith(".")]
        rel = Path(folder).relative_to(root)
        found += [(rel / f).as_posix() for f in files
                  if not f.startswith(".") and f.lower().endswith(IMAGE_EXTENSIONS)]
    return sorted(found)


def _stats(root: Path, names: Sequence[str]) -> str:
    """A cheap fingerprint of the files root/name: their names, sizes and modification times."""
    h = hashlib.sha1()
    for name in names:
        try:
            st = os.stat(os.path.join(root, name))
            h.update(os.fsencode(name) + f"\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        except OSError:
            h.update(os.fsencode(name) + b"\0missing\n")
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------
# Sources: where a dataset's images are, found (and fetched), not yet decoded

@dataclasses.dataclass
class _Source:
    """Image files under `root` (folder-based datasets), or `open(limit) -> (images, labels)` (arrays)."""
    root: Path | None = None
    files: list[str] | None = None
    labels: np.ndarray | None = None
    classes: list[str] | None = None
    attributes: np.ndarray | None = None
    attribute_names: list[str] | None = None
    open: Callable[[int | None], tuple[Sequence, np.ndarray | None]] | None = None
    stats: str = ""          # fingerprint of the array files, or of extra files (celeba's attribute table)

    def head(self, n: int) -> _Source:
        """Only the first `n` images."""
        cut = lambda a: None if a is None else a[:n]  # noqa: E731
        return dataclasses.replace(self, files=self.files[:n], labels=cut(self.labels), attributes=cut(self.attributes))

    def key(self) -> str:
        return self.stats if self.files is None else _stats(self.root, self.files) + self.stats


@dataclasses.dataclass
class _Where:
    """The places to look for a dataset, and how to say that it is in none of them."""
    kind: str
    info: DatasetInfo
    cache: Path
    mirror: Path | None
    download: bool
    progress: bool

    def fetch(self, fetch: Callable[[], Any], how: str = "") -> None:
        """Download with torchvision; any failure becomes a DataError that says how to get the data."""
        if not self.download:
            raise self.unavailable("download=False", how)
        before = set(os.listdir(self.cache)) if self.cache.is_dir() else None
        try:
            fetch()
        except Exception as e:  # no network, a proxy, Google Drive's quota, no gdown, a bad checksum, ...
            _remove_empty_folders(self.cache, before)     # e.g. torchvision's MNIST/raw, made before it failed
            why = " ".join(str(e).split()).rstrip(".") or type(e).__name__
            raise self.unavailable(f"the download failed ({why[:300]})", how) from e

    def unavailable(self, reason: str, how: str = "", downloadable: bool = True) -> DataError:
        mirror_file = self.info.mirror_file
        looked = f"it is not in the cache folder {self.cache}"
        ways = []
        if mirror_file:
            looked += (" and no mirror folder is set (mirror= or $DCGAN_MIRROR)" if self.mirror is None else
                       f" nor in the mirror folder {self.mirror} (" +
                       (f"no {mirror_file})" if self.mirror.is_dir() else "it does not exist)"))
            ways.append(f"set DCGAN_MIRROR (or pass mirror=) to a folder holding the offline mirror's {mirror_file}")
        if downloadable:
            ways.append(f"run once with internet and download=True, so torchvision downloads it into {self.cache}")
        ways += [how] if how else []
        return DataError(f"{self.kind} is not available offline: {looked}, and {reason}. "
                         "To get it: " + "; or ".join(ways) + ".")

    def extract(self) -> bool:
        """Extract the mirror's archive of this dataset into the cache folder; False if there is none."""
        archive = self.mirror / self.info.mirror_file if self.mirror and self.info.mirror_file else None
        if archive is None or not archive.is_file():
            return False
        # Extract beside the destination, then rename: an interrupted extract never looks complete,
        # and a killed one leaves a temp folder that the next load removes (files.remove_stale_temps).
        tmp = temp_path(self.cache / f"extracting-{archive.name}")
        try:
            tmp.mkdir(parents=True)
        except OSError as e:
            raise WriteError(describe_os_error(e, self.cache)) from None
        try:
            with tarfile.open(archive) as tar:
                members = tqdm(tar, desc=f"extracting {archive.name}", unit=" files", disable=not self.progress)
                tar.extractall(tmp, members=members, filter="data")
            for entry in tmp.iterdir():
                if not (self.cache / entry.name).exists():
                    os.replace(entry, self.cache / entry.name)
        except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as e:   # nothing was moved in
            why = str(e).strip() or type(e).__name__
            raise DataError(f"cannot extract {archive}: it is damaged or truncated ({why}). Replace it with a good "
                            f"copy (the mirror's SHA256SUMS has its checksum); nothing was extracted") from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return True


def _remove_empty_folders(root: Path, before: set[str] | None) -> None:
    """Remove the empty folders under `root` that are not in `before` (its entries before a failed
    download), and `root` itself where it did not exist (before None): a failure leaves nothing behind."""
    for name in set(os.listdir(root) if root.is_dir() else ()) - (before or set()):
        for folder, _, _ in os.walk(root / name, topdown=False):
            with contextlib.suppress(OSError):
                os.rmdir(folder)                     # fails, as it should, where a folder holds something
    if before is None:
        with contextlib.suppress(OSError):
            root.rmdir()


def _read_idx(path: Path) -> np.ndarray:
    """An idx file (MNIST's format: 2 zero bytes, type byte 8 = uint8, ndim, big-endian sizes, pixels)."""
    with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as f:
        raw = f.read()
    header = 4 + 4 * (raw[3] if len(raw) >= 4 else 0)
    shape = tuple(int(d) for d in np.frombuffer(raw[4:header], ">u4")) if len(raw) >= header else (-1,)
    if raw[:3] != b"\0\0\x08" or len(raw) != header + math.prod(shape):
        raise DataError(f"{path} is not a valid uint8 idx file (corrupt or truncated?)")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(shape)


def _idx_source(where: _Where, split: str, _arg: str | None) -> _Source:
    """MNIST / Fashion-MNIST: the official idx files, plain or gzipped."""
    import torchvision
    sub = "MNIST" if where.kind == "mnist" else "FashionMNIST"
    folders = [where.cache / sub / "raw"] + ([where.mirror / sub / "raw"] if where.mirror else [])
    folders += [FASHION_MNIST_SYSTEM_DIR] if where.kind == "fashion-mnist" else []
    names = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}[split]

    def find() -> list[Path] | None:
        for folder in folders:
            found = [next((p for p in (folder / n, folder / f"{n}.gz") if p.is_file()), None) for n in names]
            if all(found):
                return found
        return None

    if find() is None:
        dataset = torchvision.datasets.MNIST if where.kind == "mnist" else torchvision.datasets.FashionMNIST
        how = "`apt-get install dataset-fashion-mnist` (Debian/Ubuntu)" if where.kind == "fashion-mnist" else ""
        where.fetch(lambda: dataset(where.cache, train=split == "train", download=True), how)
    found = find()
    if found is None:  # torchvision says it downloaded, yet the files are not where it puts them
        raise where.unavailable("the download left no idx files")
    images, labels = found
    classes = ([str(d) for d in range(10)] if where.kind == "mnist" else ["T-shirt/top", "Trouser", "Pullover",
               "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"])
    return _Source(open=lambda limit: (_read_idx(images)[:limit], _read_idx(labels)[:limit].astype(np.int64)),
                   classes=classes, stats=_stats(images.parent, [images.name, labels.name]))


def _class_folders(root: Path, classes: Sequence[str], files: list[str]) -> _Source:
    """Images in class folders, root/<class>/...: the label is the class's index in `classes`."""
    index = {c: i for i, c in enumerate(classes)}
    files = [f for f in files if f.split("/", 1)[0] in index]
    labels = np.array([index[f.split("/", 1)[0]] for f in files], np.int64)
    return _Source(root=root, files=files, labels=labels, classes=list(classes))


def _cifar10_source(where: _Where, split: str, _arg: str | None) -> _Source:
    """CIFAR-10: torchvision's original pickles if downloaded (lossless), else the mirror's JPEG folders."""
    import torchvision
    pickles, folder = where.cache / "cifar-10-batches-py", where.cache / "cifar10" / split
    if not pickles.is_dir() and not folder.is_dir() and not where.extract():
        where.fetch(lambda: torchvision.datasets.CIFAR10(where.cache, train=split == "train", download=True))
    if pickles.is_dir():
        def open_(limit):
            ds = torchvision.datasets.CIFAR10(where.cache, train=split == "train", download=False)
            return ds.data[:limit], np.asarray(ds.targets, np.int64)[:limit]
        classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
        return _Source(open=open_, classes=classes, stats=_stats(pickles, sorted(os.listdir(pickles))))
    if not folder.is_dir():
        raise DataError(f"{folder.parent} has no {split}/ folder: delete {folder.parent} and load again")
    classes = sorted(d.name for d in folder.iterdir() if d.is_dir())  # sorted names = the official label order
    return _class_folders(folder, classes, _list_images(folder))


def _celeba_source(where: _Where, _split: str, _arg: str | None) -> _Source:
    """CelebA: img_align_celeba/*.jpg and the 40 yes/no attributes in list_attr_celeba.txt."""
    import torchvision
    folder, attr_file = where.cache / "celeba" / "img_align_celeba", where.cache / "celeba" / "list_attr_celeba.txt"
    if not folder.is_dir() and not where.extract():
        how = ("unpack img_align_celeba.zip and list_attr_celeba.txt from "
               f"https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html into {folder.parent} (torchvision's own "
               "download needs `pip install gdown`, and Google Drive often refuses it)")
        where.fetch(lambda: torchvision.datasets.CelebA(where.cache, split="all", download=True), how)
    if not folder.is_dir() or not attr_file.is_file():
        raise DataError(f"{folder.parent} is incomplete: it needs img_align_celeba/ and list_attr_celeba.txt. "
                        "Delete it and load again (or use folder:PATH for faces without attributes)")
    # list_attr_celeba.txt: a count line, the 40 attribute names, then "000001.jpg -1  1  1 -1 ..." per image.
    lines = attr_file.read_text().splitlines()
    table = {parts[0]: parts[1:] for parts in map(str.split, lines[2:]) if parts}
    files = _list_images(folder)
    missing = [f for f in files if f not in table]
    if missing:
        raise DataError(f"{attr_file} has no row for {len(missing)} image(s) in {folder} (e.g. {missing[0]}): "
                        "use the list_attr_celeba.txt that came with these images")
    attributes = np.array([table[f] for f in files]).reshape(len(files), -1) == "1"
    return _Source(root=folder, files=files, attributes=attributes, attribute_names=lines[1].split(),
                   stats=_stats(attr_file.parent, [attr_file.name]))


def _scenes_source(where: _Where, _split: str, only: str | None) -> _Source:
    """15-Scene's indoor classes (Lazebnik et al. 2006): scenes/{bedroom,kitchen,livingroom}/*.jpg."""
    root = where.cache / "scenes"
    if not root.is_dir() and not where.extract():
        raise where.unavailable("it cannot be downloaded", downloadable=False,
                                how=f"put the 15-Scene dataset's bedroom, kitchen and livingroom folders into {root}")
    files = [f for f in _list_images(root) if only is None or f.startswith(f"{only}/")]
    return _class_folders(root, SCENE_CLASSES, files)  # labels index all three classes, even for scenes:kitchen


def _svhn_source(where: _Where, split: str, _arg: str | None) -> _Source:
    """SVHN's cropped digits: the official {split}_32x32.mat files, read with scipy (torchvision only
    downloads them: its SVHN class checks their md5, so it would refuse any other copy)."""
    import torchvision
    root, mat = where.cache / "svhn", f"{split}_32x32.mat"
    try:
        import scipy.io
    except ImportError:
        raise DataError("SVHN's .mat files need scipy: pip install scipy") from None
    if not (root / mat).is_file():
        where.fetch(lambda: torchvision.datasets.SVHN(root, split=split, download=True),
                    f"put {mat} from http://ufldl.stanford.edu/housenumbers/ into {root}")

    def open_(limit):
        path = root / mat
        try:
            m = scipy.io.loadmat(path, variable_names=("X", "y"))
        except Exception as e:  # not a .mat file, truncated, ...
            raise DataError(f"cannot read {path} ({type(e).__name__}: {e}): use SVHN's {mat} from "
                            "http://ufldl.stanford.edu/housenumbers/") from None
        X, y = m.get("X"), m.get("y")
        if (X is None or y is None or X.ndim != 4 or X.shape[:3] != (32, 32, 3) or X.dtype != np.uint8
                or y.size != X.shape[3] or not np.isin(y, np.arange(11)).all()):
            got = ", ".join(f"{k}: {v.dtype} {'×'.join(map(str, v.shape))}" for k, v in m.items() if k in ("X", "y"))
            raise DataError(f"{path} is not an SVHN {mat}: expected X, uint8 32×32×3×N images, and y, N labels "
                            f"1..10 (10 is digit 0); got {got or 'neither X nor y'}")
        labels = y.reshape(-1).astype(np.int64) % 10          # label 10 is digit 0
        return np.ascontiguousarray(X.transpose(3, 0, 1, 2)[:limit]), labels[:limit]  # H×W×C×N -> N×H×W×C
    return _Source(open=open_, classes=[str(d) for d in range(10)], stats=_stats(root, [mat]))


class _Images(Sequence):
    """The first `n` images of a torchvision dataset of (PIL image, target) pairs."""
    def __init__(self, dataset, n: int):
        self.dataset, self.n = dataset, n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> Image.Image:
        return self.dataset[i][0]


def _lsun_source(where: _Where, _split: str, category: str) -> _Source:
    """LSUN through torchvision.datasets.LSUN, from an lmdb folder already in <cache>/lsun/."""
    import torchvision
    category = category if category.endswith(("_train", "_val")) else f"{category}_train"
    scene = category.rsplit("_", 1)[0]
    if scene not in LSUN_CATEGORIES:
        raise DataError(f"unknown LSUN category {scene!r}; LSUN has " + ", ".join(LSUN_CATEGORIES)
                        + " (add _train or _val, e.g. lsun:bedroom_train)")
    root = where.cache / "lsun"
    if not (root / f"{category}_lmdb").is_dir():
        raise DataError(f"LSUN {category} is not available: there is no {root / f'{category}_lmdb'}. torchvision "
                        f"cannot download LSUN: get it with the LSUN tools (https://github.com/fyu/lsun: "
                        f"`python3 download.py -c {scene}`), unzip {category}_lmdb.zip into {root}/ and "
                        "`pip install lmdb`. Offline, 'scenes:bedroom' is the closest stand-in for LSUN bedrooms.")
    try:
        import lmdb  # noqa: F401
    except ImportError:
        raise DataError("reading LSUN needs the lmdb package: pip install lmdb") from None

    def open_(limit):
        with contextlib.chdir(root):  # torchvision writes a "_cache_*" list of keys into the working directory
            ds = torchvision.datasets.LSUN(str(root), classes=[category])
        return _Images(ds, len(ds) if limit is None else min(limit, len(ds))), None
    return _Source(open=open_, stats=_stats(root, [f"{category}_lmdb/data.mdb"]))


def _folder_source(_where: _Where, _split: str, path: str) -> _Source:
    """Any folder of images, searched recursively. No labels: folder names are not made into classes."""
    root = Path(path).expanduser()
    if not root.exists():
        raise DataError(f"folder {root} does not exist: folder:PATH needs an existing folder of images")
    if not root.is_dir():
        raise DataError(f"{root} is a file, not a folder: folder:PATH needs a folder of images (searched recursively)")
    root = root.resolve()
    files = _list_images(root)
    if not files:
        raise DataError(f"no images found in {root} (looked for {' '.join(IMAGE_EXTENSIONS)} files, recursively)")
    return _Source(root=root, files=files)


# ---------------------------------------------------------------------------------------------
# The registry: every dataset `load_dataset` knows, in one table

DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo(
        _idx_source, ("train", "test"), channels=1, native_size=28, labels="class",
        mirror_file="MNIST/raw/*-ubyte",
        licence="LeCun, Cortes & Burges 1998, http://yann.lecun.com/exdb/mnist/; no licence stated "
                "(often listed as CC BY-SA 3.0); cite LeCun et al. 1998"),
    "fashion-mnist": DatasetInfo(
        _idx_source, ("train", "test"), channels=1, native_size=28, labels="class",
        mirror_file="FashionMNIST/raw/*-ubyte",
        licence="Zalando Research, MIT licence; cite Xiao, Rasul & Vollgraf 2017 (arXiv 1708.07747)"),
    "cifar10": DatasetInfo(
        _cifar10_source, ("train", "test"), native_size=32, labels="class", mirror_file="cifar10-jpeg.tar.gz",
        licence="Krizhevsky 2009, https://www.cs.toronto.edu/~kriz/cifar.html; no licence stated, cite the "
                "tech report"),
    "svhn": DatasetInfo(
        _svhn_source, ("train", "test", "extra"), native_size=32, labels="class",
        licence="Netzer et al. 2011, http://ufldl.stanford.edu/housenumbers/; non-commercial use only"),
    "celeba": DatasetInfo(
        _celeba_source, labels="attributes", mirror_file="celeba-10k.tar.gz",
        licence="Liu et al. 2015, https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html; "
                "non-commercial research only"),
    "scenes": DatasetInfo(
        _scenes_source, labels="class", argument="CLASS", argument_optional=True, choices=SCENE_CLASSES,
        example="scenes:bedroom", mirror_file="scenes15-indoor.tar.gz",
        licence="15-Scene, Lazebnik, Schmid & Ponce 2006 (from Fei-Fei & Perona 2005, Oliva & Torralba 2001); "
                "research use, cite them"),
    "lsun": DatasetInfo(
        _lsun_source, argument="CATEGORY", example="lsun:bedroom_train",
        licence="Yu et al. 2015 (arXiv 1506.03365), images from the web; research use"),
    "folder": DatasetInfo(
        _folder_source, argument="PATH", example="folder:/path/to/images",
        licence="your own images: their licence is yours to check"),
}
# How to write each name: "mnist", …, "scenes[:CLASS]", "lsun:CATEGORY", "folder:PATH".
KNOWN_DATASETS: tuple[str, ...] = tuple(info.usage(name) for name, info in DATASETS.items())


# ---------------------------------------------------------------------------------------------
# Decoding: the preprocessing itself

def _preprocess(img: Image.Image, image_size: int, channels: int) -> np.ndarray:
    """Any PIL image -> C×H×W uint8: convert the mode, center-crop to a square, resize."""
    img.load()  # decode now: a truncated file raises here (ImageFile.LOAD_TRUNCATED_IMAGES stays False)
    ImageOps.exif_transpose(img, in_place=True)  # photos taken sideways stand upright
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):  # 16-bit (or 32-bit) gray -> 8 bits
        a = np.asarray(img, dtype=np.float32)
        img = Image.fromarray(np.clip(a / 257 if a.max() > 255 else a, 0, 255).round().astype(np.uint8))
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info:
        img = img.convert("RGBA")  # transparent pixels become white
        img = Image.alpha_composite(Image.new("RGBA", img.size, (255, 255, 255, 255)), img)
    if img.mode not in ("L", "RGB"):  # P, CMYK, 1, YCbCr, RGBA, ...
        img = img.convert("RGB")
    target = "RGB" if channels == 3 else "L"
    if img.mode != target:
        img = img.convert(target)  # L -> RGB repeats the gray channel
    w, h = img.size
    s = min(w, h)
    box = ((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)  # the center square
    if (w, h) != (image_size, image_size):
        img = img.resize((image_size, image_size), Image.Resampling.LANCZOS, box=box)  # antialiased
    a = np.asarray(img, dtype=np.uint8)
    return a[None] if a.ndim == 2 else a.transpose(2, 0, 1)


def _decode_one(job: tuple[Any, int, int]) -> tuple[np.ndarray | None, str | None]:
    """One image file (or in-memory image) -> (pixels, None), or (None, why it is unreadable)."""
    item, image_size, channels = job
    try:
        if isinstance(item, str):
            if not _is_utf8(item):  # it would break the cache's ids and every message that shows it
                return None, "the file name is not valid UTF-8: rename it"
            if os.path.getsize(item) == 0:
                return None, "empty file"
            with Image.open(item) as img:
                # JPEGs can decode at 1/2, 1/4 or 1/8 scale: much faster, and still >= 2× the target size.
                img.draft("RGB" if channels == 3 else "L", (2 * image_size, 2 * image_size))
                return _preprocess(img, image_size, channels), None
        img = item if isinstance(item, Image.Image) else Image.fromarray(np.asarray(item))
        return _preprocess(img, image_size, channels), None
    except UnidentifiedImageError:
        return None, "not an image PIL can read"
    except Exception as e:  # truncated data, a broken stream, an unsupported mode, a decompression bomb, ...
        return None, (str(e).strip().splitlines() or [type(e).__name__])[0]


def _is_utf8(path: str) -> bool:
    try:
        path.encode("utf-8")  # os.walk decodes a non-UTF-8 byte as a lone surrogate, which cannot be encoded
        return True
    except UnicodeEncodeError:
        return False


def _printable(path: str) -> str:
    """A file name that can be printed and stored: a byte that is not UTF-8 is shown as \\xff."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the parent only: no tracebacks from workers


def _decode(items: Sequence, image_size: int, channels: int, *, progress: bool, desc: str
            ) -> Iterator[tuple[np.ndarray | None, str | None]]:
    """Decode `items` (file paths or in-memory images) in order, with a progress bar.

    Many image files are decoded by a small process pool (it pays for JPEG decoding on free cores)."""
    n = len(items)
    jobs = ((items[i], image_size, channels) for i in range(n))
    use_pool = (n >= _POOL_MIN_IMAGES and isinstance(items[0], str) and (os.cpu_count() or 1) > 1
                and "fork" in multiprocessing.get_all_start_methods())
    with tqdm(total=n, desc=desc, unit="img", disable=not progress) as bar, contextlib.ExitStack() as stack:
        if use_pool:
            pool = stack.enter_context(multiprocessing.get_context("fork").Pool(_WORKERS, _ignore_sigint))
            results = pool.imap(_decode_one, jobs, chunksize=256)
        else:
            results = map(_decode_one, jobs)
        for result in results:
            bar.update()
            yield result


# ---------------------------------------------------------------------------------------------
# The cache: an N×C×H×W uint8 .npy, and an .npz sidecar (labels, ids, ...), both written atomically

def _build_cache(source: _Source, image_size: int, channels: int, limit: int | None,
                 npy: Path, sidecar: Path, progress: bool, desc: str) -> None:
    if source.files is not None:
        items, ids, labels = [str(source.root / f) for f in source.files], source.files, source.labels
    else:
        items, labels = source.open(limit)
        ids = [str(i) for i in range(len(items))]
    shape = (len(items), channels, image_size, image_size)
    kept, skipped = [], []
    # The .npy is written like files.atomic_write does (temp file, fsync, rename), but through a memory map.
    tmp, small = temp_path(npy), temp_path(npy)
    try:
        # Decode straight into a memory-mapped file: the dataset need not fit in memory.
        out = _new_npy(tmp, shape, npy)
        for i, (pixels, reason) in enumerate(_decode(items, image_size, channels, progress=progress, desc=desc)):
            if pixels is None:
                skipped.append((_printable(ids[i]), reason))
            else:
                out[len(kept)] = pixels
                kept.append(i)
        if not kept:
            raise DataError(f"none of the {len(items)} image(s) in {source.root} could be read, e.g. "
                            + ", ".join(f"{p} ({r})" for p, r in skipped[:5]))
        done = tmp
        if skipped:  # copy the rows in use into a file of the right size
            fewer = _new_npy(small, (len(kept),) + shape[1:], npy)
            for start in range(0, len(kept), 4096):
                end = min(start + 4096, len(kept))
                fewer[start:end] = out[start:end]
            out, done = fewer, small
            del fewer
        out.flush()
        del out
        with open(done, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(done, npy)
    except WriteError:
        raise
    except OSError as e:
        raise WriteError(describe_os_error(e, npy)) from None
    finally:
        tmp.unlink(missing_ok=True)
        small.unlink(missing_ok=True)

    meta = {"classes": source.classes, "attribute_names": source.attribute_names, "skipped": skipped}
    arrays = {"ids": np.array([ids[i] for i in kept], dtype=str), "meta": np.array(json.dumps(meta))}
    if labels is not None:
        arrays["labels"] = np.asarray(labels, np.int64)[kept]
    if source.attributes is not None:
        arrays["attributes"] = source.attributes[kept]

    def write_sidecar(tmp: str) -> None:
        with open(tmp, "wb") as f:  # a file object: np.savez would append .npz to a name
            np.savez(f, **arrays)
    atomic_write(sidecar, write_sidecar)  # written last: it marks the cache complete


def _new_npy(path: Path, shape: tuple[int, ...], target: Path) -> np.memmap:
    """A new uint8 .npy file of `shape`, memory-mapped for writing, its disk space reserved first: on a
    full disk, writing through a memory map is a SIGBUS that kills the process without a word."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "|u1", "fortran_order": False, "shape": shape})
        offset = f.tell()
        size = offset + math.prod(shape)
        try:
            os.posix_fallocate(f.fileno(), 0, size)
        except (AttributeError, OSError) as e:  # AttributeError: no posix_fallocate (macOS, Windows)
            if getattr(e, "errno", None) in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                why = "that is over the file size limit" if e.errno == errno.EFBIG else "the disk is full"
                raise WriteError(f"cannot write {target}: the decoded images need {_size(size)} and {why} "
                                 f"({_size(shutil.disk_usage(path.parent).free)} free there); free space, or set "
                                 "cache_dir= or $DCGAN_DATA_DIR to a folder on a larger disk") from None
            f.truncate(size)  # nothing reserved (the file system cannot): a sparse file, as before
    return np.memmap(path, np.uint8, "r+", offset, shape)


def _size(n: float) -> str:
    """49280 -> "49.3 kB"."""
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.1f} {unit}" if unit != "bytes" else f"{n:.0f} bytes"
        n /= 1000


def _load_cache(npy: Path, sidecar: Path, name: str) -> ImageData:
    # mmap_mode="c" (copy-on-write): pages load on demand, torch gets a writable array, the file never changes.
    images = torch.from_numpy(np.load(npy, mmap_mode="c"))
    with np.load(sidecar, allow_pickle=False) as z:
        meta = json.loads(z["meta"].item())
        return ImageData(name=name, images=images, ids=z["ids"].tolist(),
                         labels=torch.from_numpy(z["labels"]) if "labels" in z else None,
                         classes=meta["classes"],
                         attributes=torch.from_numpy(z["attributes"]) if "attributes" in z else None,
                         attribute_names=meta["attribute_names"],
                         skipped=[tuple(s) for s in meta["skipped"]])
