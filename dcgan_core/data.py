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
licence) and one source function that finds its images (`sources.py`). Adding a dataset is one
entry plus, at most, one source.

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
import hashlib
import json
import math
import multiprocessing
import os
import re
import shutil
import signal
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from tqdm.auto import tqdm

from .files import WriteError, atomic_write, describe_os_error, remove_stale_temps, temp_path
from .sources import (  # DataError is raised by the sources too: defined there, public here
    IMAGE_EXTENSIONS,
    SCENE_CLASSES,
    DataError,
    Source,
    Where,
    celeba_source,
    cifar10_source,
    folder_source,
    idx_source,
    lsun_source,
    scenes_source,
    svhn_source,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
_CACHE_VERSION = 1  # bump when the preprocessing changes, so that old caches are not reused
_WORKERS = 2  # processes decoding image files (there are no torch DataLoader workers)
_POOL_MIN_IMAGES = 2000  # below this, starting a process pool costs more than it saves


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """One dataset, everything the package knows about it; the table is `DATASETS`."""

    source: Callable[[Where, str, str | None], Source]  # (where to look, split, argument) -> its images
    splits: tuple[str, ...] = ("train", "all")  # ("train", "all"): one split, under either name
    channels: int = 3  # the default; every dataset also loads as 1 or 3
    native_size: int | None = None  # None: images of many sizes
    labels: str | None = None  # "class" (ImageData.labels), "attributes" (.attributes), None
    argument: str | None = None  # what follows "NAME:" ("CLASS", "CATEGORY", "PATH"; a PATH
    # keeps its case), None: nothing may
    argument_optional: bool = False  # "scenes" alone is all three classes
    choices: tuple[str, ...] = ()  # the argument's values, where they are a fixed few
    example: str = ""  # e.g. "lsun:bedroom_train", for messages
    mirror_file: str | None = None  # what the offline mirror folder holds of it
    licence: str = ""  # terms of use, and what to cite

    def usage(self, name: str) -> str:
        """ "mnist", "scenes[:CLASS]", "folder:PATH": how to write the name."""
        if self.argument is None:
            return name
        return f"{name}[:{self.argument}]" if self.argument_optional else f"{name}:{self.argument}"


@dataclasses.dataclass(repr=False)
class ImageData:
    """A decoded dataset: uint8 images, already center-cropped and resized, and what labels it has."""

    name: str  # e.g. "celeba", "scenes:bedroom", "folder:/abs/path"
    images: torch.Tensor  # uint8 N×C×H×W (usually a memory-mapped cache file)
    labels: torch.Tensor | None  # int64 N class indices, where the dataset has classes
    ids: list[str]  # path relative to the dataset's folder, else str(index)
    classes: list[str] | None = None
    attributes: torch.Tensor | None = None  # celeba: N×40 bool
    attribute_names: list[str] | None = None  # celeba: the 40 names in list_attr_celeba.txt
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
        return dataclasses.replace(
            self,
            images=self.images[index],
            labels=pick(self.labels),
            ids=[self.ids[i] for i in index.tolist()],
            attributes=pick(self.attributes),
        )

    def keep(self, kept_file: str | Path) -> ImageData:
        """Only the images a dedup index kept (§4.1.1): `kept_file` is the `kept.json` that
        `python -m dcgan_core dedup` writes, {"dataset": name, "n_total": N, "kept": [indices]}."""
        path = Path(kept_file)
        try:
            index = json.loads(path.read_text())
            kept, n_total, dataset = index["kept"], index["n_total"], index["dataset"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise DataError(
                f"cannot read the dedup index {path} ({e.__class__.__name__}: {e}); "
                f"write one with: python -m dcgan_core dedup --dataset NAME --out DIR"
            ) from None
        if n_total != len(self) or (dataset != self.name and not str(dataset).startswith("folder:")):
            raise DataError(
                f"the dedup index {path} was made for {dataset!r} with {n_total} images, but the "
                f"data is {self.name!r} with {len(self)}: run dedup again on this dataset"
            )
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


def load_dataset(
    name: str,
    image_size: int,
    *,
    split: str = "train",
    channels: int | None = None,
    limit: int | None = None,
    cache_dir: str | Path | None = None,
    mirror: str | Path | None = None,
    download: bool = True,
    progress: bool = True,
) -> ImageData:
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
    where = Where(kind, info, cache, _path(mirror, "DCGAN_MIRROR"), download, progress)

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
        raise DataError(
            f"unknown {kind} {info.argument.lower()} {arg!r}: use "
            + (f"'{kind}' or " if info.argument_optional else "")
            + ", ".join(f"'{kind}:{c}'" for c in info.choices)
        )
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


# ---------------------------------------------------------------------------------------------
# The registry: every dataset `load_dataset` knows, in one table

DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo(
        idx_source,
        ("train", "test"),
        channels=1,
        native_size=28,
        labels="class",
        mirror_file="MNIST/raw/*-ubyte",
        licence="LeCun, Cortes & Burges 1998, http://yann.lecun.com/exdb/mnist/; no licence stated "
        "(often listed as CC BY-SA 3.0); cite LeCun et al. 1998",
    ),
    "fashion-mnist": DatasetInfo(
        idx_source,
        ("train", "test"),
        channels=1,
        native_size=28,
        labels="class",
        mirror_file="FashionMNIST/raw/*-ubyte",
        licence="Zalando Research, MIT licence; cite Xiao, Rasul & Vollgraf 2017 (arXiv 1708.07747)",
    ),
    "cifar10": DatasetInfo(
        cifar10_source,
        ("train", "test"),
        native_size=32,
        labels="class",
        mirror_file="cifar10-jpeg.tar.gz",
        licence="Krizhevsky 2009, https://www.cs.toronto.edu/~kriz/cifar.html; no licence stated, cite the tech report",
    ),
    "svhn": DatasetInfo(
        svhn_source,
        ("train", "test", "extra"),
        native_size=32,
        labels="class",
        licence="Netzer et al. 2011, http://ufldl.stanford.edu/housenumbers/; non-commercial use only",
    ),
    "celeba": DatasetInfo(
        celeba_source,
        labels="attributes",
        mirror_file="celeba-10k.tar.gz",
        licence="Liu et al. 2015, https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html; non-commercial research only",
    ),
    "scenes": DatasetInfo(
        scenes_source,
        labels="class",
        argument="CLASS",
        argument_optional=True,
        choices=SCENE_CLASSES,
        example="scenes:bedroom",
        mirror_file="scenes15-indoor.tar.gz",
        licence="15-Scene, Lazebnik, Schmid & Ponce 2006 (from Fei-Fei & Perona 2005, Oliva & Torralba 2001); "
        "research use, cite them",
    ),
    "lsun": DatasetInfo(
        lsun_source,
        argument="CATEGORY",
        example="lsun:bedroom_train",
        licence="Yu et al. 2015 (arXiv 1506.03365), images from the web; research use",
    ),
    "folder": DatasetInfo(
        folder_source,
        argument="PATH",
        example="folder:/path/to/images",
        licence="your own images: their licence is yours to check",
    ),
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


def _decode(
    items: Sequence, image_size: int, channels: int, *, progress: bool, desc: str
) -> Iterator[tuple[np.ndarray | None, str | None]]:
    """Decode `items` (file paths or in-memory images) in order, with a progress bar.

    Many image files are decoded by a small process pool (it pays for JPEG decoding on free cores)."""
    n = len(items)
    jobs = ((items[i], image_size, channels) for i in range(n))
    use_pool = (
        n >= _POOL_MIN_IMAGES
        and isinstance(items[0], str)
        and (os.cpu_count() or 1) > 1
        and "fork" in multiprocessing.get_all_start_methods()
    )
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


def _build_cache(
    source: Source,
    image_size: int,
    channels: int,
    limit: int | None,
    npy: Path,
    sidecar: Path,
    progress: bool,
    desc: str,
) -> None:
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
            raise DataError(
                f"none of the {len(items)} image(s) in {source.root} could be read, e.g. "
                + ", ".join(f"{p} ({r})" for p, r in skipped[:5])
            )
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
                raise WriteError(
                    f"cannot write {target}: the decoded images need {_size(size)} and {why} "
                    f"({_size(shutil.disk_usage(path.parent).free)} free there); free space, or set "
                    "cache_dir= or $DCGAN_DATA_DIR to a folder on a larger disk"
                ) from None
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
        return ImageData(
            name=name,
            images=images,
            ids=z["ids"].tolist(),
            labels=torch.from_numpy(z["labels"]) if "labels" in z else None,
            classes=meta["classes"],
            attributes=torch.from_numpy(z["attributes"]) if "attributes" in z else None,
            attribute_names=meta["attribute_names"],
            skipped=[tuple(s) for s in meta["skipped"]],
        )
