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
