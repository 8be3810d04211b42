"""What annotations do when the documents domain tells them something (``platform.signals``).

Imported by ``create_app`` so the receivers are connected before any request.
They run inside the sender's transaction and never commit.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.annotations import carryover, receipts
from meetings.documents.models import Document
from meetings.platform.signals import document_opened, document_replaced, document_text_ready

log = logging.getLogger(__name__)


@document_replaced.connect
def carry_annotations_over(_sender: Any, *, session: Session, old: Document, new: Document,
                           actor: User | None, **_: Any) -> carryover.CarryOverResult:
    """A new version was stored: move the old version's annotations to it."""
    return carryover.carry_over_files(session, old, new, current_app.config,
                                      actor_id=actor.id if actor is not None else None)


@document_opened.connect
def queue_read_receipt(_sender: Any, *, document: Document, user: User, **_: Any) -> None:
    """The file was served: queue the read receipt (written by ``receipts.flush``, not by the GET)."""
    receipts.queue_opening(document, user)


@document_text_ready.connect
def reanchor_waiting_annotations(_sender: Any, *, session: Session, document: Document,
                                 **_: Any) -> carryover.CarryOverResult | None:
    """A scan's OCR is ready: re-anchor the annotations its replacement left orphaned for want of text.
    In a savepoint, and never raising: the text layer must become ready even if this fails (the
    annotations then stay orphaned, never lost)."""
    try:
        with session.begin_nested():
            return carryover.reanchor_on_text(session, document, current_app.config)
    except Exception:
        log.exception("re-anchoring annotations on document %s failed", document.id)
        return None
