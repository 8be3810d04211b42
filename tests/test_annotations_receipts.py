"""Read receipts: serving a file (a GET) writes nothing in its transaction; the queue is written
by a flush of its own once the request is over, or by the report."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from meetings.annotations import receipts
from meetings.annotations.models import DocumentView
from meetings.core.extensions import db
from tests.annotation_helpers import add_doc

API = "/api/v1"


@pytest.fixture
def doc(app, world):
    return add_doc(db.session, app, world.meeting, world.secretary)


def _views() -> int:
    db.session.remove()  # a fresh snapshot: the flush writes on its own connection
    return db.session.execute(select(func.count()).select_from(DocumentView)).scalar_one()


@pytest.fixture
def held_back(monkeypatch):
    """The work queued for after each request, kept instead of run."""
    held = []
    monkeypatch.setattr(receipts, "afterwards", held.append)
    return held


def test_serving_the_file_only_queues_the_receipt(held_back, as_user, world, doc):
    for _ in range(3):  # a viewer's Range requests: one opening
        assert as_user("delegate").get(f"{API}/documents/{doc.id}/file").status_code == 200
    assert _views() == 0  # the GET wrote nothing
    assert held_back == [receipts.flush]  # and asked for one flush once it is over
    assert receipts.flush() == 1
    assert _views() == 1
    assert receipts.flush() == 0  # nothing left to write


def test_the_flush_after_the_request_writes_the_queue(as_user, world, doc):
    assert as_user("delegate").get(f"{API}/documents/{doc.id}/file").status_code == 200
    db.session.remove()
    row = db.session.execute(select(DocumentView)).scalar_one()
    assert (row.user_id, row.open_count) == (world.delegate.id, 1)
    assert row.first_opened_at.tzinfo is not None


def test_a_failing_flush_loses_nothing_and_does_not_fail_the_download(monkeypatch, as_user, world, doc):
    """The database refuses the write (unreachable): the file is served, the opening stays queued."""
    from sqlalchemy.exc import OperationalError

    def refuse(*_args, **_kwargs):
        raise OperationalError("INSERT", {}, Exception("database is unreachable"))

    monkeypatch.setattr(receipts, "_write", refuse)
    assert as_user("delegate").get(f"{API}/documents/{doc.id}/file").status_code == 200
    assert _views() == 0
    monkeypatch.undo()
    assert receipts.flush() == 1  # kept for the next flush
    assert _views() == 1


def test_the_report_flushes_before_it_reads(held_back, as_user, world, doc):
    assert as_user("delegate").get(f"{API}/documents/{doc.id}/file").status_code == 200
    assert _views() == 0
    [entry] = as_user("chair").get(f"{API}/meetings/{world.meeting.id}/read-receipts").json
    opened = {p["user_id"]: p for p in entry["participants"] if p["opened"]}
    assert set(opened) == {world.delegate.id} and opened[world.delegate.id]["open_count"] == 1
    assert opened[world.delegate.id]["first_opened_at"].endswith("+00:00")


def test_a_receipt_for_a_deleted_document_is_dropped_not_retried(app, world, doc):
    from meetings.documents.models import Document

    receipts.queue_opening(db.session.get(Document, doc.id), world.delegate)
    db.session.execute(Document.__table__.delete().where(Document.id == doc.id))
    db.session.commit()
    assert receipts.flush() == 0
    assert receipts.flush() == 0  # not queued again
    assert _views() == 0
