"""An upload whose transaction rolls back leaves no blob behind (unless another row uses it)."""
from __future__ import annotations

from pathlib import Path

from meetings.documents import service, storage
from meetings.extensions import db
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
