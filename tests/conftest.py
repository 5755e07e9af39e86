"""Shared fixtures: the offline data mirror and throwaway cache folders; the small net's flags."""

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def small_net(batch_size: int = 16) -> list[str]:
    """`train` flags for the tests' small net: the torch architecture at 32×32, 8 maps wide (seconds per step)."""
    return [
        "--arch",
        "torch",
        "--image-size",
        "32",
        "--g-width",
        "8",
        "--d-width",
        "8",
        "--batch-size",
        str(batch_size),
        "--no-progress",
    ]


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The read-only offline data mirror: $DCGAN_MIRROR (relative to the repo root), else ../shared/data."""
    path = Path(os.environ.get("DCGAN_MIRROR") or REPO_ROOT.parent / "shared" / "data").expanduser()
    path = path if path.is_absolute() else (REPO_ROOT / path).resolve()
    if not path.is_dir():
        pytest.skip(f"offline data mirror not found at {path} (set DCGAN_MIRROR)")
    return path


@pytest.fixture(scope="session")
def shared_cache_dir(tmp_path_factory) -> Path:
    """One cache folder for the whole session, so real archives (cifar10, celeba, ...) are extracted once."""
    return tmp_path_factory.mktemp("shared-data-cache")


@pytest.fixture
def cache_dir(tmp_path) -> Path:
    """A fresh, empty cache folder for one test."""
    path = tmp_path / "data-cache"
    path.mkdir()
    return path


def pytest_collection_modifyitems(config, items):
    """Browser tests last (a stable sort): they open the executed notebooks that
    tests/test_notebooks.py writes, instead of executing them again."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
