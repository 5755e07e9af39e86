"""The data layer when things go wrong: killed writers, a full disk, file names that are not UTF-8.

Issue 9's reliability list: stale temp files are removed by the next load, a full disk is one
line naming the cache file and the space it needs (not a SIGBUS), and one badly named file is
skipped like any other unreadable file.
"""

import errno
import os
import signal
import subprocess
import sys
import tarfile
import textwrap

import numpy as np
import pytest
from PIL import Image

from dcgan_core import data
from dcgan_core.data import load_dataset
from dcgan_core.files import TEMP_RE, WriteError


def load(name, size, cache, mirror=None, **kw):
    return load_dataset(name, size, cache_dir=cache, mirror=mirror, progress=False, **kw)


def make_folder(folder, n=4, size=(40, 30)):
    folder.mkdir(parents=True)
    for i in range(n):
        pixels = np.random.default_rng(i).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{i}.jpg", quality=90)
    return folder


def dead_pid() -> int:
    """The id of a process that has ended (and was reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )


# ---------------------------------------------------------------------------------------------
# Temp files of killed writers


def test_stale_temps_are_removed_live_ones_kept(tmp_path, cache_dir):
    folder = make_folder(tmp_path / "pics")
    (cache_dir / "cache").mkdir()
    dead = dead_pid()
    with subprocess.Popen(["sleep", "60"]) as live:
        try:
            stale_npy = cache_dir / "cache" / f".folder-pics-train-16px.npy.tmp-{dead}-ab12"
            stale_extract = cache_dir / f".extracting-scenes15-indoor.tar.gz.tmp-{dead}-cd34"
            live_npy = cache_dir / "cache" / f".folder-pics-train-16px.npy.tmp-{live.pid}-ef56"
            stale_npy.write_bytes(b"\0" * 1000)
            (stale_extract / "scenes" / "bedroom").mkdir(parents=True)
            live_npy.write_bytes(b"\0" * 1000)
            assert len(load(f"folder:{folder}", 16, cache_dir)) == 4
            assert not stale_npy.exists() and not stale_extract.exists()
            assert live_npy.exists()  # its writer still runs
        finally:
            live.kill()


def test_killed_while_decoding_leaves_a_temp_that_the_next_load_removes(tmp_path, cache_dir):
    folder = make_folder(tmp_path / "pics", n=6)
    killed = run_python(f"""
        import os, signal
        from dcgan_core import data
        real = data._preprocess
        calls = []
        def preprocess(*args):
            calls.append(1)
            if len(calls) == 3:
                os.kill(os.getpid(), signal.SIGKILL)  # kill -9 in the middle of decoding
            return real(*args)
        data._preprocess = preprocess
        data.load_dataset("folder:{folder}", 16, cache_dir="{cache_dir}", progress=False)
    """)
    assert killed.returncode == -signal.SIGKILL
    left = list((cache_dir / "cache").iterdir())
    assert len(left) == 1 and TEMP_RE.match(left[0].name) and left[0].suffix != ".npy"  # no cache that looks done
    images = load(f"folder:{folder}", 16, cache_dir)
    assert len(images) == 6 and not left[0].exists()
    assert sorted(p.suffix for p in (cache_dir / "cache").iterdir()) == [".npy", ".npz"]


def test_extraction_folder_is_a_temp_name(tmp_path, cache_dir, monkeypatch):
    source, mirror = tmp_path / "src", tmp_path / "mirror"
    for scene in data.SCENE_CLASSES:
        make_folder(source / "scenes" / scene, n=1)
    mirror.mkdir()
    with tarfile.open(mirror / "scenes15-indoor.tar.gz", "w:gz") as tar:
        tar.add(source / "scenes", arcname="scenes")
    seen = []
    real_extractall = tarfile.TarFile.extractall
    monkeypatch.setattr(
        tarfile.TarFile, "extractall", lambda self, path, **kw: seen.append(path) or real_extractall(self, path, **kw)
    )
    assert len(load("scenes", 16, cache_dir, mirror)) == 3
    match = TEMP_RE.match(seen[0].name)  # so that remove_stale_temps knows it once its writer is gone
    assert seen[0].parent == cache_dir and match and int(match.group(1)) == os.getpid()
    assert not seen[0].exists()


# ---------------------------------------------------------------------------------------------
# A full disk


def test_disk_full_is_one_line_and_leaves_nothing(tmp_path, cache_dir, monkeypatch):
    folder = make_folder(tmp_path / "pics")

    def disk_full(fd, offset, length):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "posix_fallocate", disk_full, raising=False)
    with pytest.raises(WriteError) as error:
        load(f"folder:{folder}", 64, cache_dir)
    message = str(error.value)
    assert "\n" not in message and str(cache_dir / "cache" / "folder-pics-train-64px") in message
    assert "need 49.3 kB and the disk is full" in message  # 4×3×64×64 pixels and a 128-byte header
    assert list((cache_dir / "cache").iterdir()) == []  # no temp file keeps the disk full
    monkeypatch.undo()
    assert len(load(f"folder:{folder}", 64, cache_dir)) == 4


@pytest.mark.skipif(not hasattr(os, "posix_fallocate"), reason="needs posix_fallocate")
def test_file_size_limit_is_an_error_not_a_signal(tmp_path, cache_dir):
    """A real ENOSPC-like failure: the file size limit (ulimit -f) makes the write fail with EFBIG."""
    folder = make_folder(tmp_path / "pics")
    result = run_python(f"""
        import resource, signal, sys
        from dcgan_core.data import load_dataset
        from dcgan_core.files import WriteError
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else going over the limit kills the process
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
        try:
            load_dataset("folder:{folder}", 128, cache_dir="{cache_dir}", progress=False)  # 4×3×128×128 = 197 kB
        except WriteError as e:
            print(e)
            sys.exit(3)
    """)
    assert result.returncode == 3, result.stderr
    assert "cannot write" in result.stdout and "folder-pics-train-128px" in result.stdout
    assert "need 196.7 kB" in result.stdout and "file size limit" in result.stdout
    assert list((cache_dir / "cache").iterdir()) == []


# ---------------------------------------------------------------------------------------------
# File names


def test_file_name_not_utf8_is_skipped_and_named(tmp_path, cache_dir):
    folder = make_folder(tmp_path / "pics", n=3)
    bad = os.path.join(os.fsencode(folder), b"bad\xff.jpg")
    try:
        with open(bad, "wb") as f:
            f.write((folder / "0.jpg").read_bytes())  # a good image: only its name is wrong
    except OSError:
        pytest.skip("this file system refuses names that are not UTF-8")
    with pytest.warns(
        UserWarning,
        match=r"skipped 1 unreadable image\(s\) in .*pics: "
        r"bad\\xff\.jpg \(the file name is not valid UTF-8",
    ):
        images = load(f"folder:{folder}", 16, cache_dir)
    assert images.ids == ["0.jpg", "1.jpg", "2.jpg"] and images.images.shape == (3, 3, 16, 16)
    assert images.skipped == [("bad\\xff.jpg", "the file name is not valid UTF-8: rename it")]
    with pytest.warns(UserWarning, match="skipped 1"):  # from the cache, reported again
        again = load(f"folder:{folder}", 16, cache_dir)
    assert again.skipped == images.skipped and again.ids == images.ids
