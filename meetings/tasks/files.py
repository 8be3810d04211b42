"""Files reported on a task (progress, evidence): through the same intake as agenda documents.

Every upload is streamed, checked and disarmed by ``documents.receiving`` (PDFs; Office
files once the conversion of issue 15 feeds the intake) and stored content-addressed;
the task keeps a ``TaskFile`` row naming the blob. All uploads of a report are received
before any row is written, so a refused file loses nothing and stores nothing half.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from flask import Response, send_file
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.core.errors import Invalid, NotFound
from meetings.documents import receiving, storage
from meetings.documents.delivery import ORIGINAL_HEADERS, served_filename
from meetings.tasks.models import Task, TaskEntry, TaskFile

MAX_FILES = 10


class Upload(NamedTuple):
    """One uploaded file as the view hands it over."""

    stream: BinaryIO
    filename: str


class Stored(NamedTuple):
    filename: str
    sha256: str
    size: int
    pages: int


def receive(session: Session, uploads: list[Upload], storage_path: str | Path, limits: Any) -> list[Stored]:
    """Check and store every upload (raises ``DocumentRefused`` for the first one refused)."""
    if len(uploads) > MAX_FILES:
        raise Invalid(f"At most {MAX_FILES} files per report.", code="too_many_files")
    stored = []
    for up in uploads:
        got = receiving.ingest_upload(up.stream, storage_path, limits, session=session)
        stored.append(Stored(served_filename(up.filename), got.sha256, got.size, got.pages))
    return stored


def attach(session: Session, task: Task, entry: TaskEntry, actor: User, stored: list[Stored]) -> list[TaskFile]:
    """Rows for files already stored, on ``entry`` of ``task``."""
    rows = [TaskFile(task=task, entry_id=entry.id, filename=s.filename, sha256=s.sha256, size=s.size,
                     page_count=s.pages, uploaded_by_id=actor.id) for s in stored]
    session.add_all(rows)
    if rows:
        entry.details = {**(entry.details or {}), "files": [s.sha256 for s in stored]}
    return rows


def file_of(task: Task, file_id: int) -> TaskFile:
    """One file of the task, or NotFound."""
    row = next((f for f in task.files if f.id == file_id), None)
    if row is None:
        raise NotFound("No such file on this task.")
    return row


def path_of(root: str | Path, row: TaskFile) -> Path:
    """Where the file's blob lives."""
    return storage.blob_path(root, row.sha256)


def send(row: TaskFile, *, root: str | Path) -> Response:
    """The checked (disarmed) PDF as an attachment, never cached by shared caches."""
    resp = send_file(path_of(root, row), mimetype="application/pdf", conditional=True, etag=row.sha256,
                     download_name=row.filename, as_attachment=True, max_age=None)
    resp.headers.update(ORIGINAL_HEADERS)
    return resp
