"""
# Dataset sources: where a dataset's images are, found (and fetched), not yet decoded

One source function per kind of dataset, `(where, split, argument) -> Source`: it finds the images
in the cache folder, extracts the offline mirror's archive into it, or has torchvision download
them (`Where`), and returns image files under a folder, or a function that opens arrays. Decoding,
caching and the registry that names each source are `data.py`'s (`data.DATASETS`).

- MNIST (LeCun, Cortes & Burges 1998) and Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): idx files;
- CIFAR-10 (Krizhevsky 2009): torchvision's pickles, else the mirror's JPEG class folders;
- SVHN (Netzer et al. 2011): the official `.mat` files, read with scipy;
- CelebA (Liu et al. 2015): aligned faces and their 40 attributes;
- 15-Scene's indoor classes (Lazebnik, Schmid & Ponce 2006): class folders;
- LSUN (Yu et al. 2015, arXiv 1506.03365): lmdb folders, through torchvision;
- `folder:PATH`: any folder of images, searched recursively.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import hashlib
import math
import os
import shutil
import tarfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from .files import WriteError, describe_os_error, temp_path

SCENE_CLASSES = ("bedroom", "kitchen", "livingroom")
LSUN_CATEGORIES = (
    "bedroom",
    "bridge",
    "church_outdoor",
    "classroom",
    "conference_room",
    "dining_room",
    "kitchen",
    "living_room",
    "restaurant",
    "tower",
)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm")
FASHION_MNIST_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")


class DataError(ValueError):
    """One clear message: what was wrong and what to do."""


# ---------------------------------------------------------------------------------------------
# Image files: which a folder holds, and a fingerprint of them


def _list_images(root: Path) -> list[str]:
    """Paths (relative, with "/") of the image files under `root`, recursively, sorted; hidden ones skipped."""
    found = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [d for d in subfolders if not d.startswith(".")]
        rel = Path(folder).relative_to(root)
        found += [(rel / f).as_posix() for f in files if not f.startswith(".") and f.lower().endswith(IMAGE_EXTENSIONS)]
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
class Source:
    """Image files under `root` (folder-based datasets), or `open(limit) -> (images, labels)` (arrays)."""

    root: Path | None = None
    files: list[str] | None = None
    labels: np.ndarray | None = None
    classes: list[str] | None = None
    attributes: np.ndarray | None = None
    attribute_names: list[str] | None = None
    open: Callable[[int | None], tuple[Sequence, np.ndarray | None]] | None = None
    stats: str = ""  # fingerprint of the array files, or of extra files (celeba's attribute table)

    def head(self, n: int) -> Source:
        """Only the first `n` images."""
        cut = lambda a: None if a is None else a[:n]  # noqa: E731
        return dataclasses.replace(self, files=self.files[:n], labels=cut(self.labels), attributes=cut(self.attributes))

    def key(self) -> str:
        return self.stats if self.files is None else _stats(self.root, self.files) + self.stats


@dataclasses.dataclass
class Where:
    """The places to look for a dataset, and how to say that it is in none of them."""

    kind: str
    info: Any  # a data.DatasetInfo (its mirror_file); not imported: data imports this module
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
            _remove_empty_folders(self.cache, before)  # e.g. torchvision's MNIST/raw, made before it failed
            why = " ".join(str(e).split()).rstrip(".") or type(e).__name__
            raise self.unavailable(f"the download failed ({why[:300]})", how) from e

    def unavailable(self, reason: str, how: str = "", downloadable: bool = True) -> DataError:
        mirror_file = self.info.mirror_file
        looked = f"it is not in the cache folder {self.cache}"
        ways = []
        if mirror_file:
            looked += (
                " and no mirror folder is set (mirror= or $DCGAN_MIRROR)"
                if self.mirror is None
                else f" nor in the mirror folder {self.mirror} ("
                + (f"no {mirror_file})" if self.mirror.is_dir() else "it does not exist)")
            )
            ways.append(f"set DCGAN_MIRROR (or pass mirror=) to a folder holding the offline mirror's {mirror_file}")
        if downloadable:
            ways.append(f"run once with internet and download=True, so torchvision downloads it into {self.cache}")
        ways += [how] if how else []
        return DataError(
            f"{self.kind} is not available offline: {looked}, and {reason}. To get it: " + "; or ".join(ways) + "."
        )

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
        except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as e:  # nothing was moved in
            why = str(e).strip() or type(e).__name__
            raise DataError(
                f"cannot extract {archive}: it is damaged or truncated ({why}). Replace it with a good "
                f"copy (the mirror's SHA256SUMS has its checksum); nothing was extracted"
            ) from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return True


def _remove_empty_folders(root: Path, before: set[str] | None) -> None:
    """Remove the empty folders under `root` that are not in `before` (its entries before a failed
    download), and `root` itself where it did not exist (before None): a failure leaves nothing behind."""
    for name in set(os.listdir(root) if root.is_dir() else ()) - (before or set()):
        for folder, _, _ in os.walk(root / name, topdown=False):
            with contextlib.suppress(OSError):
                os.rmdir(folder)  # fails, as it should, where a folder holds something
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


def idx_source(where: Where, split: str, _arg: str | None) -> Source:
    """MNIST / Fashion-MNIST: the official idx files, plain or gzipped."""
    import torchvision

    sub = "MNIST" if where.kind == "mnist" else "FashionMNIST"
    folders = [where.cache / sub / "raw"] + ([where.mirror / sub / "raw"] if where.mirror else [])
    folders += [FASHION_MNIST_SYSTEM_DIR] if where.kind == "fashion-mnist" else []
    names = {
        "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    }[split]

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
    classes = (
        [str(d) for d in range(10)]
        if where.kind == "mnist"
        else ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    )
    return Source(
        open=lambda limit: (_read_idx(images)[:limit], _read_idx(labels)[:limit].astype(np.int64)),
        classes=classes,
        stats=_stats(images.parent, [images.name, labels.name]),
    )


def _class_folders(root: Path, classes: Sequence[str], files: list[str]) -> Source:
    """Images in class folders, root/<class>/...: the label is the class's index in `classes`."""
    index = {c: i for i, c in enumerate(classes)}
    files = [f for f in files if f.split("/", 1)[0] in index]
    labels = np.array([index[f.split("/", 1)[0]] for f in files], np.int64)
    return Source(root=root, files=files, labels=labels, classes=list(classes))


def cifar10_source(where: Where, split: str, _arg: str | None) -> Source:
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
        return Source(open=open_, classes=classes, stats=_stats(pickles, sorted(os.listdir(pickles))))
    if not folder.is_dir():
        raise DataError(f"{folder.parent} has no {split}/ folder: delete {folder.parent} and load again")
    classes = sorted(d.name for d in folder.iterdir() if d.is_dir())  # sorted names = the official label order
    return _class_folders(folder, classes, _list_images(folder))


def celeba_source(where: Where, _split: str, _arg: str | None) -> Source:
    """CelebA: img_align_celeba/*.jpg and the 40 yes/no attributes in list_attr_celeba.txt."""
    import torchvision

    folder, attr_file = where.cache / "celeba" / "img_align_celeba", where.cache / "celeba" / "list_attr_celeba.txt"
    if not folder.is_dir() and not where.extract():
        how = (
            "unpack img_align_celeba.zip and list_attr_celeba.txt from "
            f"https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html into {folder.parent} (torchvision's own "
            "download needs `pip install gdown`, and Google Drive often refuses it)"
        )
        where.fetch(lambda: torchvision.datasets.CelebA(where.cache, split="all", download=True), how)
    if not folder.is_dir() or not attr_file.is_file():
        raise DataError(
            f"{folder.parent} is incomplete: it needs img_align_celeba/ and list_attr_celeba.txt. "
            "Delete it and load again (or use folder:PATH for faces without attributes)"
        )
    # list_attr_celeba.txt: a count line, the 40 attribute names, then "000001.jpg -1  1  1 -1 ..." per image.
    lines = attr_file.read_text().splitlines()
    table = {parts[0]: parts[1:] for parts in map(str.split, lines[2:]) if parts}
    files = _list_images(folder)
    missing = [f for f in files if f not in table]
    if missing:
        raise DataError(
            f"{attr_file} has no row for {len(missing)} image(s) in {folder} (e.g. {missing[0]}): "
            "use the list_attr_celeba.txt that came with these images"
        )
    attributes = np.array([table[f] for f in files]).reshape(len(files), -1) == "1"
    return Source(
        root=folder,
        files=files,
        attributes=attributes,
        attribute_names=lines[1].split(),
        stats=_stats(attr_file.parent, [attr_file.name]),
    )


def scenes_source(where: Where, _split: str, only: str | None) -> Source:
    """15-Scene's indoor classes (Lazebnik et al. 2006): scenes/{bedroom,kitchen,livingroom}/*.jpg."""
    root = where.cache / "scenes"
    if not root.is_dir() and not where.extract():
        raise where.unavailable(
            "it cannot be downloaded",
            downloadable=False,
            how=f"put the 15-Scene dataset's bedroom, kitchen and livingroom folders into {root}",
        )
    files = [f for f in _list_images(root) if only is None or f.startswith(f"{only}/")]
    return _class_folders(root, SCENE_CLASSES, files)  # labels index all three classes, even for scenes:kitchen


def svhn_source(where: Where, split: str, _arg: str | None) -> Source:
    """SVHN's cropped digits: the official {split}_32x32.mat files, read with scipy (torchvision only
    downloads them: its SVHN class checks their md5, so it would refuse any other copy)."""
    import torchvision

    root, mat = where.cache / "svhn", f"{split}_32x32.mat"
    try:
        import scipy.io
    except ImportError:
        raise DataError("SVHN's .mat files need scipy: pip install scipy") from None
    if not (root / mat).is_file():
        where.fetch(
            lambda: torchvision.datasets.SVHN(root, split=split, download=True),
            f"put {mat} from http://ufldl.stanford.edu/housenumbers/ into {root}",
        )

    def open_(limit):
        path = root / mat
        try:
            m = scipy.io.loadmat(path, variable_names=("X", "y"))
        except Exception as e:  # not a .mat file, truncated, ...
            raise DataError(
                f"cannot read {path} ({type(e).__name__}: {e}): use SVHN's {mat} from "
                "http://ufldl.stanford.edu/housenumbers/"
            ) from None
        X, y = m.get("X"), m.get("y")
        if (
            X is None
            or y is None
            or X.ndim != 4
            or X.shape[:3] != (32, 32, 3)
            or X.dtype != np.uint8
            or y.size != X.shape[3]
            or not np.isin(y, np.arange(11)).all()
        ):
            got = ", ".join(f"{k}: {v.dtype} {'×'.join(map(str, v.shape))}" for k, v in m.items() if k in ("X", "y"))
            raise DataError(
                f"{path} is not an SVHN {mat}: expected X, uint8 32×32×3×N images, and y, N labels "
                f"1..10 (10 is digit 0); got {got or 'neither X nor y'}"
            )
        labels = y.reshape(-1).astype(np.int64) % 10  # label 10 is digit 0
        return np.ascontiguousarray(X.transpose(3, 0, 1, 2)[:limit]), labels[:limit]  # H×W×C×N -> N×H×W×C

    return Source(open=open_, classes=[str(d) for d in range(10)], stats=_stats(root, [mat]))


class _Images(Sequence):
    """The first `n` images of a torchvision dataset of (PIL image, target) pairs."""

    def __init__(self, dataset, n: int):
        self.dataset, self.n = dataset, n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> Image.Image:
        return self.dataset[i][0]


def lsun_source(where: Where, _split: str, category: str) -> Source:
    """LSUN through torchvision.datasets.LSUN, from an lmdb folder already in <cache>/lsun/."""
    import torchvision

    category = category if category.endswith(("_train", "_val")) else f"{category}_train"
    scene = category.rsplit("_", 1)[0]
    if scene not in LSUN_CATEGORIES:
        raise DataError(
            f"unknown LSUN category {scene!r}; LSUN has "
            + ", ".join(LSUN_CATEGORIES)
            + " (add _train or _val, e.g. lsun:bedroom_train)"
        )
    root = where.cache / "lsun"
    if not (root / f"{category}_lmdb").is_dir():
        raise DataError(
            f"LSUN {category} is not available: there is no {root / f'{category}_lmdb'}. torchvision "
            f"cannot download LSUN: get it with the LSUN tools (https://github.com/fyu/lsun: "
            f"`python3 download.py -c {scene}`), unzip {category}_lmdb.zip into {root}/ and "
            "`pip install lmdb`. Offline, 'scenes:bedroom' is the closest stand-in for LSUN bedrooms."
        )
    try:
        import lmdb  # noqa: F401
    except ImportError:
        raise DataError("reading LSUN needs the lmdb package: pip install lmdb") from None

    def open_(limit):
        with contextlib.chdir(root):  # torchvision writes a "_cache_*" list of keys into the working directory
            ds = torchvision.datasets.LSUN(str(root), classes=[category])
        return _Images(ds, len(ds) if limit is None else min(limit, len(ds))), None

    return Source(open=open_, stats=_stats(root, [f"{category}_lmdb/data.mdb"]))


def folder_source(_where: Where, _split: str, path: str) -> Source:
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
    return Source(root=root, files=files)
