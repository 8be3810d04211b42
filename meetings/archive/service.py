"""The archive's actions: searching published minutes and exporting a meeting's package.

Each checks the actor's permission (``meetings.archive.policy``) itself.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.archive import policy
from meetings.archive.bundle import write_bundle
from meetings.archive.search import ArchiveQuery, search
from meetings.core.errors import Invalid
from meetings.platform.audit import service as audit


def search_archive(session: Session, actor: User, query: ArchiveQuery) -> dict[str, Any]:
    """One page of the published minutes ``actor`` may see that match ``query``."""
    if query.date_from and query.date_to and query.date_from > query.date_to:
        raise Invalid("date_from is after date_to.")
    return search(session, actor, query)


def export_bundle(session: Session, meeting_id: int, actor: User, config: Mapping[str, Any],
                  out: IO[bytes]) -> dict[str, Any]:
    """Write the meeting's BagIt package to ``out`` and record who took it; returns what went in.

    The one commit outside a commit point, and why: the export is a read (GET),
    whose transaction the HTTP commit point never commits, yet who took a copy
    of the record is part of the record. So the audit entry goes in a short
    transaction of its own, written only once the package is complete; a
    failed export records nothing, and the request's own transaction stays
    read-only."""
    meeting = policy.require_export(session, meeting_id, actor)
    summary = write_bundle(session, meeting, config, out, actor)
    with Session(bind=session.get_bind()) as side:
        audit.record(side, "archive.bundle_exported", actor_id=actor.id, object_type="meeting",
                     object_id=meeting.id, meeting_id=meeting.id, details=summary)
        side.commit()
    return summary
