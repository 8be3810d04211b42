"""Content-addressed file storage under STORAGE_PATH.

Layout::

    blobs/ab/cd/<sha256>.pdf     every accepted PDF, stored once per content: the
                                 disarmed copies delivered and the originals as uploaded
    tmp/                         uploads being received or checked (same file system,
                                 so accepting one is an atomic rename)
    watermarked/<doc>/<key>.pdf  per-viewer stamped copies of confidential documents

Nothing outside ``blobs/`` is authoritative: ``tmp/`` and ``watermarked/`` can be
emptied at any time.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024


class UploadTooLarge(Exception):
    """The stream is longer than the size cap; nothing was kept."""


@dataclass
class StagedFile:
    """An upload written to ``tmp/``, hashed, not yet accepted."""

    path: Path
    sha256: str
    size: int
    # Set by accept(): whether this upload put a new blob in place (False: the content was there).
    created_blob: bool = False

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)

    def head(self, n: int = 1024) -> bytes:
        with self.path.open("rb") as fh:
            return fh.read(n)

    def tail(self, n: int = 1024) -> bytes:
        with self.path.open("rb") as fh:
            fh.seek(max(0, self.size - n))
            return fh.read(n)


def blob_path(root: str | Path, sha256: str) -> Path:
    """Where the file with this sha256 lives (whether or not it exists yet)."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a sha256 hex digest")
    return Path(root) / "blobs" / sha256[:2] / sha256[2:4] / f"{sha256}.pdf"


def tmp_dir(root: str | Path) -> Path:
    path = Path(root) / "tmp"
    path.mkdir(parents=True, exist_ok=True)
    return path


def watermark_dir(root: str | Path, document_id: int) -> Path:
    return Path(root) / "watermarked" / str(int(document_id))


def stage(source: BinaryIO | bytes | Path, root: str | Path, max_bytes: int) -> StagedFile:
    """Copy ``source`` into ``tmp/`` while hashing it; refuse past ``max_bytes``.

    Reads in 1 MB chunks so a 100 MB upload never sits in memory whole.
    """
    fd, name = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=tmp_dir(root))
    path = Path(name)
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in _chunks(source):
                size += len(chunk)
                if size > max_bytes:
                    raise UploadTooLarge(f"larger than {max_bytes} bytes")
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return StagedFile(path=path, sha256=digest.hexdigest(), size=size)


def scratch(root: str | Path) -> Path:
    """A new empty file in ``tmp/`` for a child to write into (e.g. the disarmed copy)."""
    fd, name = tempfile.mkstemp(prefix="disarmed-", suffix=".part", dir=tmp_dir(root))
    os.close(fd)
    return Path(name)


def adopt(path: Path) -> StagedFile:
    """A file already written in ``tmp/`` (by the intake child), hashed as :func:`stage` would."""
    digest = hashlib.sha256()
    size = 0
    for chunk in _chunks(path):
        size += len(chunk)
        digest.update(chunk)
    with path.open("rb") as fh:
        os.fsync(fh.fileno())
    return StagedFile(path=path, sha256=digest.hexdigest(), size=size)


def _chunks(source: BinaryIO | bytes | Path):
    if isinstance(source, bytes | bytearray | memoryview):
        view = memoryview(source)
        for start in range(0, len(view), CHUNK):
            yield bytes(view[start:start + CHUNK])
        return
    if isinstance(source, Path | str):
        with open(source, "rb") as fh:
            yield from _chunks(fh)
        return
    while True:
        chunk = source.read(CHUNK)
        if not chunk:
            return
        yield chunk


def accept(staged: StagedFile, root: str | Path) -> Path:
    """Move a checked upload into its content address; the same content is kept once.

    ``os.replace`` within one file system is atomic: a reader sees either no
    blob or the whole blob, never a partial one.
    """
    target = blob_path(root, staged.sha256)
    if target.exists():
        staged.discard()
        staged.created_blob = False
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(staged.path, 0o640)
    os.replace(staged.path, target)
    _fsync_dir(target.parent)
    staged.created_blob = True
    return target


def _fsync_dir(path: Path) -> None:
    # Makes the rename itself durable (POSIX); harmless where unsupported.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def drop_watermarks(root: str | Path, document_id: int) -> None:
    """Forget every stamped copy of a document (e.g. after its marking changed)."""
    shutil.rmtree(watermark_dir(root, document_id), ignore_errors=True)
