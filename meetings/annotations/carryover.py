"""Moving annotations to a new version of a document.

When the secretariat replaces a document, every live annotation of the old
version moves to the new one (ids stay the same, so clients simply update):

* a highlight moves where its quoted text is found again (whitespace- and
  Unicode-normalisation-tolerant; prefix/suffix and the old page break ties),
  even when the text is now on another page; a note on that highlight follows it;
* ink, shapes and free notes move to the page whose text is unchanged, when
  the old text is known (``old_text_by_page``), on whichever page it now is;
* anything else is kept and marked ``orphaned``: never silently lost, shown
  apart by clients, left out of the annotated PDF, still in the JSON-LD export.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.annotations.changes import audience_of, broadcast, next_rev
from meetings.annotations.models import Annotation
from meetings.core.db import utcnow
from meetings.core.errors import DomainError
from meetings.documents.models import Document
from meetings.platform.audit.service import record

# geometry key of an orphan waiting for its new version's OCR (see ``reanchor_on_text``).
AWAITING = "awaiting_text"
# text layers of a version whose text may still come (``documents.ocr``): orphans wait for it.
TEXT_TO_COME = ("queued", "running", "failed")


@dataclass
class CarryOverResult:
    moved: list[str] = field(default_factory=list)
    orphaned: list[str] = field(default_factory=list)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", _nfc(text))


def find_anchor(anchor: dict[str, Any], pages: list[str], old_page: int) -> tuple[int, int, int] | None:
    """Where the quote is in ``pages`` (NFC text): (page 1-based, start, end) or None."""
    words = _nfc(anchor["exact"]).split()
    if not words:
        return None
    pattern = re.compile(r"\s*".join(re.escape(w) for w in words))
    prefix, suffix = _squash(anchor.get("prefix", ""))[-32:], _squash(anchor.get("suffix", ""))[:32]
    best, best_score = None, -1.0
    for index, text in enumerate(pages):
        for m in pattern.finditer(text):
            score = 0.0
            if prefix and _squash(text[max(0, m.start() - 200):m.start()]).endswith(prefix):
                score += 2
            if suffix and _squash(text[m.end():m.end() + 200]).startswith(suffix):
                score += 2
            if index + 1 == old_page:
                score += 1
            if "start" in anchor:
                score -= min(abs(m.start() - anchor["start"]), 100_000) / 1_000_000
            if score > best_score:
                best, best_score = (index + 1, m.start(), m.end()), score
    return best


def _same_page(old_text: str, pages_squashed: list[str], old_page: int) -> int | None:
    """The new page whose text equals the old page's (same number preferred)."""
    key = _squash(old_text)
    if not key:
        return None  # a page without text (a scan) proves nothing
    if old_page <= len(pages_squashed) and pages_squashed[old_page - 1] == key:
        return old_page
    for index, text in enumerate(pages_squashed):
        if text == key:
            return index + 1
    return None


def carry_over(session: Session, old_document: Document, new_document: Document, text_by_page: list[str],
               *, old_text_by_page: list[str] | None = None, actor_id: int | None = None,
               awaiting_text: bool = False, rows: list[Annotation] | None = None) -> CarryOverResult:
    """Move the live annotations of ``old_document`` (or just ``rows``) to ``new_document`` (see the
    module's rules). ``text_by_page`` is the new version's text per page
    (:func:`export.extract_text_by_page`). ``awaiting_text``: the new version is a scan whose OCR is
    not ready, so what is orphaned now is marked ``geometry.awaiting_text`` and tried again when its
    text arrives (:func:`reanchor_on_text`). Runs in the caller's transaction; broadcasts go out
    after the caller commits."""
    pages = [_nfc(t or "") for t in text_by_page]
    squashed = [_squash(t) for t in pages]
    if rows is None:
        rows = session.execute(select(Annotation).where(
            Annotation.document_id == old_document.id, Annotation.deleted_at.is_(None)
        ).order_by(Annotation.rev)).scalars().all()
    result = CarryOverResult()
    new_page_of: dict[str, int | None] = {}
    # Highlights first: notes attached to them follow their fate.
    for ann in sorted(rows, key=lambda a: a.kind != "highlight"):
        before = audience_of(ann)
        new_page: int | None = None
        if ann.kind == "highlight" and ann.anchor:
            found = find_anchor(ann.anchor, pages, ann.page)
            if found:
                new_page, start, end = found
                ann.anchor = {**ann.anchor, "start": start, "end": end}
                if not (old_text_by_page and _same_page(old_text_by_page[ann.page - 1]
                                                        if ann.page <= len(old_text_by_page) else "",
                                                        squashed, ann.page) == new_page):
                    # Rectangles came from the old layout: the client recomputes them from the anchor.
                    ann.geometry = {**ann.geometry, "needs_layout": True}
        elif ann.target_id and ann.target_id in new_page_of:
            new_page = new_page_of[ann.target_id]
        elif old_text_by_page and ann.page <= len(old_text_by_page):
            new_page = _same_page(old_text_by_page[ann.page - 1], squashed, ann.page)
        new_page_of[ann.id] = new_page
        ann.document_id = new_document.id
        ann.geometry = {k: v for k, v in ann.geometry.items() if k != AWAITING}
        if new_page is None:
            ann.orphaned = True
            ann.geometry = {**ann.geometry, "origin": {"document_id": old_document.id, "page": ann.page},
                            **({AWAITING: True} if awaiting_text else {})}
            ann.page = max(1, min(ann.page, new_document.page_count))
            result.orphaned.append(ann.id)
        else:
            ann.orphaned = False
            ann.geometry = {k: v for k, v in ann.geometry.items() if k != "origin"}
            ann.page = new_page
            result.moved.append(ann.id)
        ann.version += 1
        ann.rev = next_rev(session, new_document.id)
        ann.updated_at = utcnow()
        session.flush()
        broadcast(session, ann, "annotation.moved", before, actor_id or ann.author_id)
    if rows:
        record(session, "annotations.carried_over", actor_id=actor_id, object_type="document",
               object_id=new_document.id, meeting_id=new_document.meeting_id,
               details={"from_document_id": old_document.id, "moved": result.moved, "orphaned": result.orphaned})
    return result


def carry_over_files(session: Session, old_document: Document, new_document: Document, config: Any,
                     *, actor_id: int | None = None) -> CarryOverResult:
    """Extract both versions' text (child processes) and carry over; what the
    ``document_replaced`` receiver runs (``receivers.py``)."""
    from meetings.annotations.export import document_file, extract_text_by_page

    if not session.execute(select(Annotation.id).where(Annotation.document_id == old_document.id,
                                                       Annotation.deleted_at.is_(None)).limit(1)).first():
        return CarryOverResult()  # nothing to move: skip parsing two PDFs
    texts = []
    for doc in (new_document, old_document):
        try:
            texts.append(extract_text_by_page(document_file(doc, config), config))
        except DomainError:
            # Text unreadable: nothing can be re-anchored, so everything moves as orphaned, never lost.
            texts.append([])
    new_text, old_text = texts
    return carry_over(session, old_document, new_document, new_text, old_text_by_page=old_text, actor_id=actor_id,
                      awaiting_text=new_document.text_layer in TEXT_TO_COME)


def reanchor_on_text(session: Session, document: Document, config: Any) -> CarryOverResult:
    """A scan's OCR text arrived: carry over again, from the version each came from, the annotations
    a replacement left orphaned on ``document`` for want of text (``geometry.awaiting_text``).
    What the ``document_text_ready`` receiver runs; in the caller's transaction."""
    from meetings.annotations.export import document_file, extract_text_by_page

    waiting = [a for a in session.execute(select(Annotation).where(
        Annotation.document_id == document.id, Annotation.deleted_at.is_(None), Annotation.orphaned.is_(True)
    ).order_by(Annotation.rev)).scalars() if (a.geometry or {}).get(AWAITING)]
    result = CarryOverResult()
    if not waiting:
        return result  # the common case: no PDF is parsed
    try:
        new_text = extract_text_by_page(document_file(document, config), config)
    except DomainError:
        return result  # still no readable text: they keep waiting
    by_origin: dict[int, list[Annotation]] = {}
    for ann in waiting:
        origin = ann.geometry.get("origin") or {}
        ann.page = int(origin.get("page") or ann.page)  # the old page: ties and same-page moves use it
        by_origin.setdefault(int(origin.get("document_id") or document.id), []).append(ann)
    for origin_id, rows in by_origin.items():
        old_document = session.get(Document, origin_id) or document
        try:
            old_text = extract_text_by_page(document_file(old_document, config), config)
        except DomainError:
            old_text = []
        done = carry_over(session, old_document, document, new_text, old_text_by_page=old_text, rows=rows)
        result.moved += done.moved
        result.orphaned += done.orphaned
    return result
