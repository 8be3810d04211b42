"""Minutes files: content-addressed by sha256 under STORAGE_PATH/minutes/, written once."""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def minutes_file(storage_path: str | Path, sha256: str) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a sha256")
    return Path(storage_path) / "minutes" / sha256[:2] / f"{sha256}.pdf"


def store_bytes(storage_path: str | Path, data: bytes) -> str:
    """Store ``data`` once; returns its sha256. An existing file is never rewritten."""
    sha = hashlib.sha256(data).hexdigest()
    store_file(storage_path, sha, data=data)
    return sha


def store_file(storage_path: str | Path, sha256: str, *, data: bytes | None = None, src: Path | None = None) -> Path:
    target = minutes_file(storage_path, sha256)
    if target.exists():
        return target
    if data is None:
        data = Path(src).read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ValueError("content does not match its sha256")
    write_once(target, data)
    return target


def write_once(target: Path, data: bytes) -> None:
    """Write ``data`` at ``target`` atomically and read-only, unless it is there already (same name, same content)."""
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o444)  # read-only: a signed file is never changed
    os.replace(tmp, target)
