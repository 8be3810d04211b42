"""Shared strokes in flight: relayed to the meeting's room while they are drawn, never stored.

A tablet drawing a shared ink stroke sends ``annotation.stroke_progress`` (the
points since its last message) every ~80 ms; the others draw them as a
temporary layer until the finished stroke arrives, stored once through
:func:`meetings.annotations.service.create_annotation` with the same id and a
``seq``'d event, as any annotation. What is in flight has no ``seq``, no row,
no audit entry and no commit: it may be dropped, and a device joining later
sees finished strokes only (docs/realtime.md §8, "Strokes in flight").

Who may send it is decided by the domain's one policy: the document's
(``service.document_for``: a participant of the meeting who may see the
document) and the sharing rule (``service.check_sharing``: a participant, or
the chair/secretariat/presenter for ``presenter``), asked once per socket,
meeting, document and visibility and remembered for GRANT_TTL_S, so the
messages of a stroke read nothing from the database. Only the meeting-wide
visibilities travel in flight; a private stroke, or one shared with chosen
participants, is refused and appears when finished.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.annotations import rules, service
from meetings.core.errors import Conflict, Forbidden, Invalid, NotFound
from meetings.platform.realtime import volatile
from meetings.platform.realtime.rooms import meeting_room

EVENT = "annotation.stroke_progress"
RELAYED = ("meeting", "presenter")  # the visibilities whose audience is the meeting's room
# A granted socket sends without a permission query for this long; a change of role or a
# document withdrawn reaches its in-flight strokes at most this late (its finished stroke,
# stored through the service, is checked at once).
GRANT_TTL_S = 5.0
PRUNE_AT = 4096  # look for expired grants once this many are remembered


@dataclass(frozen=True)
class Grant:
    page_count: int
    until: float


_grants: dict[tuple[str, int, int, str], Grant] = {}


def relay_progress(session: Session, load_user: Callable[[], User], user_id: int, sid: str,
                   data: dict[str, Any]) -> None:
    """Check and relay one ``annotation.stroke_progress`` of socket ``sid`` (of ``user_id``).

    ``load_user`` re-reads the socket's user (and its credential) when the grant is not
    remembered; ``session`` is used only then. Raises the domain error to answer with.
    """
    visibility = data["visibility"]
    if visibility not in RELAYED:
        raise Forbidden("Only strokes shared with the meeting are relayed while drawn.", code="not_shared")
    try:
        stroke_id = str(uuid.UUID(data["stroke_id"]))
    except ValueError as err:
        raise Invalid("stroke_id must be a UUID.", code="invalid_id") from err
    meeting_id, document_id = data["meeting_id"], data["document_id"]
    grant = _grant(session, load_user, sid, meeting_id, document_id, visibility)
    page = rules.check_page(data["page"], grant.page_count)
    points, width = rules.check_progress(data["points"], data["width"])
    item = {"stroke_id": stroke_id, "author_id": user_id, "document_id": document_id, "page": page,
            "points": points, "color": rules.check_color(data["color"]), "width": width,
            "visibility": visibility}
    volatile.relay(EVENT, meeting_room(meeting_id), item, sender=sid, head={"meeting_id": meeting_id},
                   key="strokes")


def _grant(session: Session, load_user: Callable[[], User], sid: str, meeting_id: int, document_id: int,
           visibility: str) -> Grant:
    key = (sid, meeting_id, document_id, visibility)
    now = time.monotonic()
    grant = _grants.get(key)
    if grant is not None and grant.until > now:
        return grant
    # The relay goes to the meeting's room: a socket that did not join it (meeting.join,
    # which checked that its user may see the meeting) has no business drawing there.
    if not volatile.in_room(sid, meeting_room(meeting_id)):
        raise Forbidden("Join the meeting before drawing in it.", code="not_joined")
    user = load_user()
    doc, meeting = service.document_for(session, document_id, user)
    if meeting.id != meeting_id:
        raise NotFound("No such document.")
    if not doc.is_current:
        raise Conflict("This document was replaced; annotate the current version.", code="document_replaced")
    service.check_sharing(session, meeting, doc, user, visibility, [])
    if len(_grants) >= PRUNE_AT:
        for k in [k for k, g in _grants.items() if g.until <= now]:
            del _grants[k]
    grant = _grants[key] = Grant(doc.page_count, now + GRANT_TTL_S)
    return grant

