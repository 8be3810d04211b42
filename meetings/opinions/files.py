"""Opinion papers (signed answers, reports): content-addressed by sha256 under STORAGE_PATH/opinions/, written once."""
from __future__ import annotations

import hashlib
from pathlib import Path

from meetings.minutes.files import write_once


def paper_file(storage_path: str | Path, sha256: str) -> Path:
    """Where the paper with this sha256 lives."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a sha256")
    return Path(storage_path) / "opinions" / sha256[:2] / f"{sha256}.pdf"


def store(storage_path: str | Path, data: bytes) -> str:
    """Store ``data`` once (read-only, atomically); returns its sha256. An existing file is never rewritten."""
    sha = hashlib.sha256(data).hexdigest()
    write_once(paper_file(storage_path, sha), data)
    return sha
