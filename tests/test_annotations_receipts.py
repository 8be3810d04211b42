"""Read receipts: serving a file (a GET) writes nothing; the queue is written by a flush of its own."""
from __future__ import annotations

import threading

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


def test_serving_the_file_only_queues_the_receipt(monkeypatch, as_user, world, doc):
    monkeypatch.setattr(receipts, "FLUSH_AFTER_S", 3600.0)  # no background flush during this test
    for _ in range(3):  # a viewer's Range requests: one opening
        assert as_user("delegate").get(f"{API}/documents/{doc.id}/file").status_code == 200
    assert _views() == 0  # the GET wrote nothing
    assert receipts.flush() == 1
    assert _views() == 1
    assert receipts.flush() == 0  # nothing left to write


def test_the_background_flush_writes_the_queue(monkeypatch, as_user, world, doc):
    monkeypatch.setattr(receipts, "FLUSH_AFTER_S", 0.01)
    done = threading.Event()
    real_flush = receipts.flush

    def flush_and_tell(*args, **kwargs):
        written = real_flush(*args, **kwargs)
        done.set()
        return written

    monkeypatch.setattr(receipts, "flush", flush_and_tell)
    assert as_user("delegate").get(f"{API}/documents/{doc.id}/file").status_code == 200
    assert done.wait(10), "the timer started by the first queued opening did not flush"
    row = db.session.execute(select(DocumentView)).scalar_one()
    assert (row.user_id, row.open_count) == (world.delegate.id, 1)
    assert row.first_opened_at.tzinfo is not None


def test_the_report_flushes_before_it_reads(monkeypatch, as_user, world, doc):
    monkeypatch.setattr(receipts, "FLUSH_AFTER_S", 3600.0)
    assert as_user("delegate").get(f"{API}/documents/{doc.id}/file").status_code == 200
    [entry] = as_user("chair").get(f"{API}/meetings/{world.meeting.id}/read-receipts").json
    opened = {p["user_id"]: p for p in entry["participants"] if p["opened"]}
    assert set(opened) == {world.delegate.id} and opened[world.delegate.id]["open_count"] == 1
    assert opened[world.delegate.id]["first_opened_at"].endswith("+00:00")


def test_a_receipt_for_a_deleted_document_is_dropped_not_retried(monkeypatch, app, world, doc):
    from meetings.documents.models import Document

    monkeypatch.setattr(receipts, "FLUSH_AFTER_S", 3600.0)
    receipts.queue_opening(db.session.get(Document, doc.id), world.delegate)
    db.session.execute(Document.__table__.delete().where(Document.id == doc.id))
    db.session.commit()
    assert receipts.flush() == 0
    assert receipts.flush() == 0  # not queued again
    assert _views() == 0
