"""Domain signals: how one domain reacts to another without importing it.

A lower domain sends; a higher one connects a receiver (blinker, which Flask
already depends on). Receivers run synchronously inside the sender's
transaction, so what they write commits or rolls back with the cause; they
must not commit. Each signal below says who sends it, with which arguments,
and who listens (docs/architecture.md has the table).
"""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: documents → annotations. Sent by ``documents.service.replace_document`` after a
#: new version is stored. kwargs: ``session``, ``old`` (Document), ``new`` (Document),
#: ``actor`` (User). Annotations carry their highlights and notes over.
document_replaced = _signals.signal("document-replaced")

#: documents → annotations. Sent when a document's file is served to a viewer.
#: kwargs: ``document`` (Document), ``user`` (User). Read receipts are queued from it;
#: the receiver must not write in the request (a GET never writes).
document_opened = _signals.signal("document-opened")

#: documents → annotations. Sent by ``documents.ocr`` in the transaction that marks a scan's OCR
#: rendition ready. kwargs: ``session``, ``document`` (Document, ``text_layer == "ready"``).
#: Annotations re-anchor what a replacement left orphaned for want of text.
document_text_ready = _signals.signal("document-text-ready")

#: bodies → notifications. Sent by ``bodies.sittings.change_status`` after the status moved.
#: kwargs: ``session``, ``meeting`` (Meeting), ``previous`` and ``status`` (str), ``actor`` (User).
#: draft → scheduled publishes the meeting (invitations go out); scheduled → draft withdraws it.
meeting_status_changed = _signals.signal("meeting-status-changed")

#: bodies → notifications. Sent by ``bodies.sittings.update_meeting`` when its time or place was
#: among the fields written. kwargs: ``session``, ``meeting`` (Meeting), ``fields`` (sorted names
#: written; a value may equal the old one, receivers compare), ``actor`` (User).
meeting_rescheduled = _signals.signal("meeting-rescheduled")

#: bodies → notifications. Sent by ``bodies.participants.add_participant``. kwargs: ``session``,
#: ``meeting`` (Meeting), ``participant`` (Participant), ``actor`` (User).
participant_added = _signals.signal("participant-added")

#: bodies → notifications. Sent once for a group added in one step (an import, a body's members).
#: kwargs: ``session``, ``meeting`` (Meeting), ``user_ids`` (list[int]), ``actor`` (User).
participants_added = _signals.signal("participants-added")

#: bodies → notifications. Sent by ``bodies.participants.remove_participant`` once the row is gone.
#: kwargs: ``session``, ``meeting`` (Meeting), ``user_id`` (int), ``actor`` (User).
participant_removed = _signals.signal("participant-removed")

#: documents → notifications. Sent when a document becomes published (uploaded published, or its
#: flag turned on). kwargs: ``session``, ``document`` (Document), ``actor_id`` (int | None). The
#: meeting may still be a draft: receivers decide whom to tell.
document_published = _signals.signal("document-published")

#: minutes → notifications. Sent by ``minutes.service.finalize``: the final PDF waits for its
#: signatures. kwargs: ``session``, ``minutes`` (Minutes), ``actor`` (User).
minutes_ready_to_sign = _signals.signal("minutes-ready-to-sign")

#: voting → notifications. Sent by ``voting.service.open_poll`` once the poll is open. kwargs:
#: ``session``, ``poll`` (Poll), ``actor`` (User).
poll_opened = _signals.signal("poll-opened")
