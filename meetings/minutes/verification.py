"""Verifying signatures: of stored minutes, and of any PDF someone uploads.

The PDF is checked in a child process like every other untrusted file, against
the organization CA and the roots in ``MINUTES_TRUST_ROOTS``. Used by the REST
views, the /verify page and the CLI alike.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import Meeting
from meetings.core.errors import Conflict, Invalid, TooLarge
from meetings.minutes import files, policy
from meetings.minutes.keys import CA_CERT, ca_dir
from meetings.minutes.models import Minutes
from meetings.minutes.runner import job_seconds, run_job

MAX_VERIFY_BYTES = 50 * 1024 * 1024


class Upload(Protocol):
    """What verification needs of an HTTP request (Flask's ``request`` is one)."""

    files: Mapping[str, Any]
    mimetype: str

    def get_data(self, cache: bool = ...) -> bytes: ...


def trust_root_files(config: Mapping[str, Any]) -> list[str]:
    """PEM files of the roots verification trusts: the organization CA, then MINUTES_TRUST_ROOTS."""
    paths = []
    ca = ca_dir(config["INSTANCE_PATH"]) / CA_CERT
    if ca.exists():
        paths.append(str(ca))
    extra = config.get("MINUTES_TRUST_ROOTS") or os.environ.get("MINUTES_TRUST_ROOTS") or []
    if isinstance(extra, str):
        extra = [p for p in extra.split(":") if p]
    return paths + list(extra)


def verify_file(path: str | Path, config: Mapping[str, Any], *,
                validation_time: datetime | None = None) -> dict[str, Any]:
    """Verify any PDF's signatures in a child process (the file may be hostile).

    With ``validation_time``, also as of that moment, from the validation data embedded in the file.
    """
    return run_job({"op": "verify", "pdf": str(path), "roots": trust_root_files(config),
                    "validation_time": validation_time.isoformat() if validation_time else None},
                   seconds=job_seconds(config))["report"]


def verify_minutes(session: Session, m: Minutes, actor: User, config: Mapping[str, Any], *,
                   validation_time: datetime | None = None) -> dict[str, Any]:
    """Each signature of the stored minutes file, for whoever may read the minutes (as of ``validation_time``)."""
    policy.require_read(m, session.get(Meeting, m.meeting_id), actor)
    if not m.sha256:
        raise Conflict("A draft has no signatures to verify.", code="not_finalized")
    return verify_file(files.minutes_file(config["STORAGE_PATH"], m.sha256), config,
                       validation_time=validation_time)


def read_upload(request: Upload) -> bytes:
    """The uploaded PDF (form field ``file``, or the raw body as application/pdf), size-capped."""
    upload = request.files.get("file")
    if upload is not None:
        data = upload.stream.read(MAX_VERIFY_BYTES + 1)
    elif request.mimetype == "application/pdf":
        data = request.get_data(cache=False)
    else:
        raise Invalid("Send the PDF as the form field 'file' or as an application/pdf body.", code="no_file")
    if len(data) > MAX_VERIFY_BYTES:
        raise TooLarge("The file is too large to verify here.")
    if not data.startswith(b"%PDF-"):
        raise Invalid("This is not a PDF file.", code="not_pdf")
    return data


def verify_upload(data: bytes, config: Mapping[str, Any], *,
                  validation_time: datetime | None = None) -> dict[str, Any]:
    """Verify the signatures of an uploaded PDF (from :func:`read_upload`), as of ``validation_time``."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload.pdf"
        path.write_bytes(data)
        return verify_file(path, config, validation_time=validation_time)
