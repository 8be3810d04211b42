"""Socket.IO: annotation.create / annotation.update / annotation.delete, and the
volatile annotation.stroke_progress (a shared stroke while it is drawn: in_flight.py).

The same service calls as REST, so the same checks and the same broadcasts
(docs/realtime.md, "Annotations"). Acknowledgements carry the annotation's
current state; a stale update is ``{"ok": false, "error": {"code":
"version_conflict", "details": {"current": …}}}``.
"""
from __future__ import annotations

from meetings.accounts.models import User
from meetings.annotations import in_flight, rules, service
from meetings.annotations.changes import serialize
from meetings.annotations.schemas import SocketCreate, SocketDelete, SocketUpdate, StrokeProgress
from meetings.core.extensions import db
from meetings.platform.realtime.gateway import socket_event, socket_user
from meetings.platform.realtime.volatile import volatile_event


@socket_event("annotation.create", SocketCreate)
def on_create(user: User, data: dict) -> dict:
    doc, meeting = service.document_for(db.session, data.pop("document_id"), user)
    ann, created = service.create_annotation(db.session, doc, meeting, user, data)
    return {"annotation": serialize(ann), "created": created}


@socket_event("annotation.update", SocketUpdate)
def on_update(user: User, data: dict) -> dict:
    ann, doc, meeting = service.annotation_for(db.session, data.pop("id"), user)
    version = data.pop("version")
    ann = service.update_annotation(db.session, ann, doc, meeting, user, data, version)
    return {"annotation": serialize(ann)}


@socket_event("annotation.delete", SocketDelete)
def on_delete(user: User, data: dict) -> dict:
    ann, _, meeting = service.annotation_for(db.session, data["id"], user)
    ann = service.delete_annotation(db.session, ann, meeting, user, data.get("version"))
    return {"annotation": serialize(ann)}


@volatile_event(in_flight.EVENT, StrokeProgress, rate=rules.PROGRESS_RATE, burst=rules.PROGRESS_BURST)
def on_stroke_progress(user_id: int, sid: str, data: dict) -> None:
    in_flight.relay_progress(db.session, socket_user, user_id, sid, data)
