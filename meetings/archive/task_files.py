"""The follow-up tasks of a meeting in its bag: what its conclusions asked, of whom, and what became of it.

    data/tasks/tasks.json                  every task from the meeting, with its whole history, extension
                                           requests and reported files (sha256)
    data/tasks/tasks.csv                   one line per task (the dashboard's CSV export)
    data/tasks/files/<task>-<file>-<name>.pdf   the files reported on them (checked PDFs)

A task belongs to the meeting's bag when its source is the meeting (a conclusion of its notice,
or assigned for it). The state is the one at the time the bag is made.
"""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from meetings.bodies.models import Meeting
from meetings.core.db import utcnow
from meetings.tasks import board, export
from meetings.tasks import files as task_files
from meetings.tasks.models import Task


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _tasks(session: Session, *where: Any) -> list[Task]:
    return list(session.execute(select(Task).where(*where).order_by(Task.id).options(
        selectinload(Task.entries), selectinload(Task.files), selectinload(Task.extensions))).scalars())


def meeting_tasks(session: Session, meeting: Meeting) -> list[Task]:
    """The tasks whose source is the meeting, in order."""
    return _tasks(session, Task.meeting_id == meeting.id)


def opinion_tasks(session: Session, form_id: int) -> list[Task]:
    """The tasks assigned from an opinion form's result, in order."""
    return _tasks(session, Task.source_kind == "opinion", Task.source_id == form_id)


def task_record(task: Task, now: datetime) -> dict[str, Any]:
    """One task as the bag keeps it: its row, history, extensions and files."""
    data = {k: _iso(v) for k, v in board.row(task, now).items()}
    data["history"] = [{"kind": e.kind, "at": _iso(e.at), "author_id": e.author_id, "text": e.text,
                        "progress": e.progress, "status_from": e.status_from, "status_to": e.status_to,
                        "details": e.details} for e in task.entries]
    data["extensions"] = [{"requested_at": _iso(x.requested_at), "requested_by_id": x.requested_by_id,
                           "old_deadline": _iso(x.old_deadline), "new_deadline": _iso(x.new_deadline),
                           "reason": x.reason, "status": x.status, "decided_by_id": x.decided_by_id,
                           "decided_at": _iso(x.decided_at), "answer": x.answer} for x in task.extensions]
    data["files"] = [{"id": f.id, "filename": f.filename, "sha256": f.sha256, "size": f.size,
                      "uploaded_at": _iso(f.created_at), "path": f"files/{task.id}-{f.id}-{f.filename}"}
                     for f in task.files]
    return data


def write_task_files(session: Session, meeting: Meeting, bag_dir: Path, storage_path: str,
                     now: datetime | None = None) -> dict[str, Any] | None:
    """Write ``bag_dir/tasks`` for the meeting's tasks; returns the summary (None when it has none)."""
    return write_tasks(meeting_tasks(session, meeting), bag_dir, storage_path, now, meeting_id=meeting.id)


def write_tasks(tasks: list[Task], bag_dir: Path, storage_path: str, now: datetime | None = None,
                **about: Any) -> dict[str, Any] | None:
    """Write ``bag_dir/tasks`` (tasks.json, tasks.csv, files/) for ``tasks``; None when there are none.
    ``about`` names their source in tasks.json (``meeting_id=…`` or ``opinion_form_id=…``)."""
    if not tasks:
        return None
    now = now or utcnow()
    folder = bag_dir / "tasks"
    (folder / "files").mkdir(parents=True, exist_ok=True)
    records = [task_record(t, now) for t in tasks]
    summary = {**about, "at": now.isoformat(), "count": len(tasks), "tasks": records}
    (folder / "tasks.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    (folder / "tasks.csv").write_bytes(export.csv_bytes(tasks, now))
    for task in tasks:
        for f in task.files:
            source = task_files.path_of(storage_path, f)
            if source.exists():
                (folder / "files" / f"{task.id}-{f.id}-{f.filename}").write_bytes(source.read_bytes())
    return {"count": len(tasks)}
