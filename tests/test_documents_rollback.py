"""An upload whose transaction rolls back leaves no blob behind (unless another row uses it)."""
from __future__ import annotations

from pathlib import Path

from meetings.core.extensions import db
from meetings.documents import service, storage
from tests import pdfs


def _blobs(root: str) -> list[str]:
    base = Path(root) / "blobs"
    return sorted(p.name for p in base.rglob("*.pdf")) if base.exists() else []


def test_rolled_back_upload_removes_its_new_blob(app, world):
    root = app.config["STORAGE_PATH"]
    doc = service.add_document(db.session, world.meeting, pdfs.simple_pdf(2), title="Tờ trình", filename="a.pdf",
                               uploaded_by_id=world.secretary.id, storage_path=root)
    assert storage.blob_path(root, doc.sha256).exists()  # stored before the row commits
    db.session.rollback()  # e.g. the database refused the commit
    assert _blobs(root) == []
    assert list((Path(root) / "tmp").iterdir()) == []


def test_rollback_keeps_a_blob_a_committed_row_uses(app, world):
    root = app.config["STORAGE_PATH"]
    data = pdfs.simple_pdf(3)
    kept = service.add_document(db.session, world.meeting, data, title="Bản gốc", filename="a.pdf",
                                uploaded_by_id=world.secretary.id, storage_path=root)
    db.session.commit()
    service.add_document(db.session, world.meeting, data, title="Bản trùng", filename="b.pdf",
                         uploaded_by_id=world.secretary.id, storage_path=root)
    db.session.rollback()
    assert _blobs(root) == [f"{kept.sha256}.pdf"]  # the same content, still needed by the first row


def test_committed_upload_keeps_its_blob_after_a_later_rollback(app, world):
    root = app.config["STORAGE_PATH"]
    doc = service.add_document(db.session, world.meeting, pdfs.simple_pdf(1), title="Giữ", filename="c.pdf",
                               uploaded_by_id=world.secretary.id, storage_path=root)
    db.session.commit()
    db.session.rollback()  # an unrelated later rollback of the same session
    assert _blobs(root) == [f"{doc.sha256}.pdf"]


def test_upload_succeeds_when_another_writer_commits_during_the_check(app, world):
    """SQLite refuses to turn a read transaction into a write once someone else has
    committed since it began; the intake ends the read-only transaction before its
    child-process check, so an upload does not fail because of a page turn meanwhile."""
    import pytest
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from meetings.bodies.models import Meeting

    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL has no read-to-write upgrade to refuse")
    root = app.config["STORAGE_PATH"]
    with Session(db.engine) as uploader, Session(db.engine) as other:
        meeting = uploader.get(Meeting, world.meeting.id)  # the request's reads begin its transaction
        other.execute(text("UPDATE meetings SET place = 'Phòng 2' WHERE id = :id"), {"id": meeting.id})
        other.commit()  # someone else writes before the upload's first write
        doc = service.add_document(uploader, meeting, pdfs.simple_pdf(2), title="Tờ trình", filename="d.pdf",
                                   uploaded_by_id=world.secretary.id, storage_path=root)
        uploader.commit()
        assert doc.id is not None and storage.blob_path(root, doc.sha256).exists()


def test_a_transaction_that_already_wrote_is_not_committed_early(app, world):
    from meetings.bodies.models import Meeting
    from meetings.core.db import end_read_only_transaction

    meeting = db.session.get(Meeting, world.meeting.id)
    meeting.place = "Phòng chưa lưu"
    db.session.flush()
    end_read_only_transaction(db.session)  # must not commit the flushed change
    db.session.rollback()
    assert db.session.get(Meeting, world.meeting.id).place != "Phòng chưa lưu"
