"""Documents: PDF intake (checks in a child process), storage, versions, permissions."""
from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from meetings.core.extensions import db
from meetings.documents import service
from meetings.documents.intake import IntakeLimits, check_pdf
from meetings.documents.models import Document
from meetings.platform.audit.models import AuditEntry
from meetings.platform.realtime.models import MeetingEvent
from tests import pdfs
from tests.pdfs import new_version, stored_files, upload


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return pdfs.bomb_pdf(4 * 1024 ** 3)  # ~4 MB on disk, 4 GiB inflated


def _count(model) -> int:
    n = db.session.execute(select(func.count()).select_from(model)).scalar_one()
    db.session.rollback()
    return n


def _storage(app) -> Path:
    return Path(app.config["STORAGE_PATH"])


def _assert_nothing_stored(app, as_user, world) -> None:
    assert _count(Document) == 0
    assert stored_files(_storage(app)) == []
    assert db.session.execute(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action.like("document.%"))
    ).scalar_one() == 0
    # The server still answers: a follow-up request works.
    r = as_user("secretary").get(f"/api/v1/meetings/{world.meeting.id}/documents")
    assert r.status_code == 200 and r.json == []


BAD_UPLOADS = {
    "empty": (lambda: b"", 422, "empty"),
    "html_renamed": (pdfs.html_as_pdf, 415, "not_pdf"),
    "garbage_before_header": (pdfs.garbage_then_pdf, 415, "not_pdf"),
    "truncated": (pdfs.truncated_pdf, 422, "unreadable"),
    "encrypted": (pdfs.encrypted_pdf, 422, "encrypted"),
    "cyclic_page_tree": (pdfs.cyclic_pdf, 422, "unreadable"),
    "too_many_pages": (lambda: pdfs.simple_pdf(6), 422, "too_many_pages"),
}


def test_bad_uploads_are_refused_and_leave_nothing(app, as_user, world):
    app.config["MAX_PDF_PAGES"] = 5
    for case, (build, status, code) in BAD_UPLOADS.items():
        r = upload(as_user("secretary"), world.meeting.id, build(), "x.pdf")
        assert (case, r.status_code, r.json["error"]["code"]) == (case, status, code)
        assert r.json["error"]["message"]
        _assert_nothing_stored(app, as_user, world)


def test_decompression_bomb_is_refused_with_bounded_memory(app, as_user, world, bomb):
    assert len(bomb) < 5 * 1024 * 1024
    r = upload(as_user("secretary"), world.meeting.id, bomb, "bom.pdf")
    assert r.status_code == 422 and r.json["error"]["code"] == "too_complex"
    _assert_nothing_stored(app, as_user, world)


def test_bomb_child_peak_memory_is_measured_and_capped(tmp_path, bomb):
    path = tmp_path / "bomb.pdf"
    path.write_bytes(bomb)
    verdict = check_pdf(path, IntakeLimits(memory_mb=1024))
    assert not verdict.ok and verdict.code == "too_complex"
    # The 4 GiB stream was never held: the child stayed far below its limit.
    assert verdict.peak_rss_kb is not None and 0 < verdict.peak_rss_kb < 512 * 1024


def test_memory_limit_stops_the_child(tmp_path, bomb):
    # Below what pypdf needs to reach its own 75 MB stream cap: the address-space
    # limit must stop the child first, and it answers too_complex, not a crash.
    path = tmp_path / "bomb.pdf"
    path.write_bytes(bomb)
    verdict = check_pdf(path, IntakeLimits(memory_mb=120))
    assert not verdict.ok and verdict.code == "too_complex"
    assert verdict.reason and "Limit reached" not in verdict.reason  # stopped by RLIMIT_AS, not pypdf
    assert verdict.peak_rss_kb is None or verdict.peak_rss_kb < 120 * 1024


def test_time_limit_kills_the_child(tmp_path):
    path = tmp_path / "ok.pdf"
    path.write_bytes(pdfs.simple_pdf(1))
    verdict = check_pdf(path, IntakeLimits(seconds=0.001))
    assert not verdict.ok and verdict.code == "timeout"
    assert check_pdf(path, IntakeLimits()).ok  # the same file passes with time to spare


def test_decoded_size_cap(app, as_user, world):
    app.config["PDF_CHECK_DECODED_MB"] = 1
    data = pdfs.noise_pdf(15)  # 15 × 97 kB of image data
    r = upload(as_user("secretary"), world.meeting.id, data)
    assert r.status_code == 422 and r.json["error"]["code"] == "too_complex"
    _assert_nothing_stored(app, as_user, world)


def test_timeout_is_a_clear_error(app, as_user, world):
    app.config["PDF_CHECK_SECONDS"] = 0.001
    r = upload(as_user("secretary"), world.meeting.id, pdfs.simple_pdf(1))
    assert r.status_code == 422 and r.json["error"]["code"] == "timeout"
    _assert_nothing_stored(app, as_user, world)


def test_request_over_max_content_length_is_json_413(app, as_user, world):
    app.config["MAX_UPLOAD_MB"] = 1
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    r = upload(as_user("secretary"), world.meeting.id, pdfs.noise_pdf(14))
    assert r.status_code == 413
    assert r.json["error"]["code"] == "too_large" and "1 MB" in r.json["error"]["message"]
    _assert_nothing_stored(app, as_user, world)


def test_file_over_upload_cap_is_413_even_inside_the_request_limit(app, as_user, world):
    app.config["MAX_UPLOAD_MB"] = 1  # MAX_CONTENT_LENGTH stays at 100 MB
    data = pdfs.noise_pdf(14)
    assert len(data) > 1024 * 1024
    r = upload(as_user("secretary"), world.meeting.id, data)
    assert r.status_code == 413 and r.json["error"]["code"] == "too_large"
    _assert_nothing_stored(app, as_user, world)


def test_good_upload_reports_pages_and_sha256(app, as_user, world):
    data = pdfs.simple_pdf(4)
    r = upload(as_user("secretary"), world.meeting.id, data, "Dự thảo nghị quyết.pdf",
               agenda_item_id=str(world.items[1].id))
    assert r.status_code == 201, r.json
    doc = r.json
    assert doc["pages"] == 4
    assert doc["sha256"] == hashlib.sha256(data).hexdigest()
    assert doc["size"] == len(data)
    assert doc["title"] == "Dự thảo nghị quyết" and doc["filename"] == "Dự thảo nghị quyết.pdf"
    assert doc["agenda_item_id"] == world.items[1].id
    assert (doc["version"], doc["series_id"], doc["is_current"]) == (1, doc["id"], True)
    assert doc["published"] is False and doc["confidentiality"] == "normal"
    sha = doc["sha256"]
    blob = _storage(app) / "blobs" / sha[:2] / sha[2:4] / f"{sha}.pdf"
    assert blob.read_bytes() == data
    assert stored_files(_storage(app)) == [str(blob.relative_to(_storage(app)))]
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "document.upload")).scalar_one()
    assert entry.object_id == doc["id"] and entry.details["sha256"] == sha


def test_same_file_twice_is_stored_once(app, as_user, world):
    data = pdfs.simple_pdf(2)
    first = upload(as_user("secretary"), world.meeting.id, data, "a.pdf").json
    second = upload(as_user("secretary"), world.meeting.id, data, "b.pdf").json
    assert first["id"] != second["id"] and first["sha256"] == second["sha256"]
    assert len(stored_files(_storage(app))) == 1


def test_new_version_keeps_the_old(app, as_user, world):
    sec = as_user("secretary")
    v1 = upload(sec, world.meeting.id, pdfs.simple_pdf(2), published="true").json
    r = new_version(sec, v1["id"], pdfs.simple_pdf(3, text="Bản sửa đổi lần 2"), title="Dự thảo (sửa)")
    assert r.status_code == 201, r.json
    v2 = r.json
    assert (v2["version"], v2["series_id"], v2["previous_id"]) == (2, v1["id"], v1["id"])
    assert v2["pages"] == 3 and v2["published"] is True and v2["title"] == "Dự thảo (sửa)"
    old = sec.get(f"/api/v1/documents/{v1['id']}").json
    assert old["is_current"] is False and old["sha256"] == v1["sha256"]
    assert len(stored_files(_storage(app))) == 2
    assert sec.get(f"/api/v1/documents/{v1['id']}/file").status_code == 200  # old file still served
    versions = as_user("delegate").get(f"/api/v1/documents/{v2['id']}/versions").json
    assert [v["version"] for v in versions] == [1, 2]
    current = as_user("delegate").get(f"/api/v1/meetings/{world.meeting.id}/documents").json
    assert [d["id"] for d in current] == [v2["id"]]
    every = sec.get(f"/api/v1/meetings/{world.meeting.id}/documents?all_versions=1").json
    assert [d["id"] for d in every] == [v1["id"], v2["id"]]
    # Replacing the old version again is a conflict, and stores nothing.
    r = new_version(sec, v1["id"], pdfs.simple_pdf(5))
    assert r.status_code == 409 and r.json["error"]["code"] == "not_current"
    assert len(stored_files(_storage(app))) == 2
    types = db.session.execute(select(MeetingEvent.type).order_by(MeetingEvent.seq)).scalars().all()
    assert types == ["document.published", "document.replaced"]
    assert [e.action for e in db.session.execute(
        select(AuditEntry).where(AuditEntry.action.like("document.%")).order_by(AuditEntry.id)).scalars()
    ] == ["document.upload", "document.replace"]


def test_bad_new_version_keeps_the_current_one(app, as_user, world):
    sec = as_user("secretary")
    v1 = upload(sec, world.meeting.id, pdfs.simple_pdf(2)).json
    r = new_version(sec, v1["id"], pdfs.encrypted_pdf())
    assert r.status_code == 422 and r.json["error"]["code"] == "encrypted"
    assert sec.get(f"/api/v1/documents/{v1['id']}").json["is_current"] is True
    assert _count(Document) == 1 and len(stored_files(_storage(app))) == 1


def test_only_the_secretariat_uploads(app, as_user, world):
    for who, status in [("delegate", 403), ("observer", 403), ("chair", 403), ("outsider", 404),
                        ("archivist", 403), (None, 401)]:
        r = upload(as_user(who), world.meeting.id, pdfs.simple_pdf(1))
        assert (who, r.status_code) == (who, status), r.json
        _assert_nothing_stored(app, as_user, world)
    doc = upload(as_user("secretary"), world.meeting.id, pdfs.simple_pdf(1), published="1").json
    for who, status in [("delegate", 403), ("observer", 403), ("outsider", 404), (None, 401)]:
        r = new_version(as_user(who), doc["id"], pdfs.simple_pdf(2))
        assert (who, r.status_code) == (who, status), r.json
    assert _count(Document) == 1 and len(stored_files(_storage(app))) == 1


def test_admin_may_upload(as_user, world):
    assert upload(as_user("admin"), world.meeting.id, pdfs.simple_pdf(1)).status_code == 201


def test_unpublished_documents_are_hidden_from_delegates(as_user, world):
    sec = as_user("secretary")
    doc = upload(sec, world.meeting.id, pdfs.simple_pdf(1)).json
    for who in ("delegate", "observer", "outsider"):
        c = as_user(who)
        assert c.get(f"/api/v1/documents/{doc['id']}").status_code == 404
        assert c.get(f"/api/v1/documents/{doc['id']}/file").status_code == 404
        assert c.get(f"/api/v1/documents/{doc['id']}/versions").status_code == 404
    assert as_user("delegate").get(f"/api/v1/meetings/{world.meeting.id}/documents").json == []
    assert as_user("chair").get(f"/api/v1/documents/{doc['id']}").status_code == 200
    assert sec.patch(f"/api/v1/documents/{doc['id']}", json={"published": True}).status_code == 200
    assert [d["id"] for d in as_user("delegate").get(f"/api/v1/meetings/{world.meeting.id}/documents").json] \
        == [doc["id"]]
    assert as_user("delegate").get(f"/api/v1/documents/{doc['id']}").status_code == 200
    # Still nothing for someone outside the meeting.
    assert as_user("outsider").get(f"/api/v1/documents/{doc['id']}").status_code == 404
    assert as_user("outsider").get(f"/api/v1/meetings/{world.meeting.id}/documents").status_code == 404


def test_patch_publishes_and_announces(as_user, world):
    sec = as_user("secretary")
    doc = upload(sec, world.meeting.id, pdfs.simple_pdf(1)).json
    assert as_user("delegate").patch(f"/api/v1/documents/{doc['id']}", json={"published": True}).status_code == 404
    r = sec.patch(f"/api/v1/documents/{doc['id']}", json={
        "published": True, "title": "Tờ trình số 12/TTr-UBND", "confidentiality": "secret",
        "agenda_item_id": world.items[2].id})
    assert r.status_code == 200, r.json
    assert (r.json["title"], r.json["confidentiality"], r.json["agenda_item_id"]) == \
        ("Tờ trình số 12/TTr-UBND", "secret", world.items[2].id)
    # Delegates can now see it but still not change it.
    assert as_user("delegate").patch(f"/api/v1/documents/{doc['id']}", json={"title": "x"}).status_code == 403
    ev = db.session.execute(select(MeetingEvent)).scalar_one()
    assert ev.type == "document.published" and ev.data["document_id"] == doc["id"]
    actions = db.session.execute(select(AuditEntry.action).where(AuditEntry.action.like("document.%"))
                                 .order_by(AuditEntry.id)).scalars().all()
    assert actions == ["document.upload", "document.publish"]


def test_draft_meeting_publishes_without_event(as_user, world):
    world.meeting.status = "draft"
    db.session.commit()
    doc = upload(as_user("secretary"), world.meeting.id, pdfs.simple_pdf(1), published="1").json
    assert doc["published"] is True
    assert _count(MeetingEvent) == 0
    assert as_user("delegate").get(f"/api/v1/documents/{doc['id']}").status_code == 404  # draft meeting


BAD_FORMS = [
    ({"agenda_item_id": "abc"}, "invalid"),
    ({"confidentiality": "very_secret"}, "invalid"),
    ({"published": "maybe"}, "invalid"),
    ({"title": ""}, "invalid"),
    ({"surprise": "field"}, "invalid"),
    ({"agenda_item_id": "999999"}, "invalid_agenda_item"),
]


def test_bad_form_fields_are_422_and_store_nothing(app, as_user, world):
    for fields, code in BAD_FORMS:
        r = upload(as_user("secretary"), world.meeting.id, pdfs.simple_pdf(1), **fields)
        assert (fields, r.status_code, r.json["error"]["code"]) == (fields, 422, code)
        _assert_nothing_stored(app, as_user, world)
    two = {"file": (io.BytesIO(pdfs.simple_pdf(1)), "a.pdf"), "other": (io.BytesIO(b"%PDF-"), "b.pdf")}
    r = as_user("secretary").post(f"/api/v1/meetings/{world.meeting.id}/documents", data=two,
                                  content_type="multipart/form-data")
    assert r.status_code == 422
    _assert_nothing_stored(app, as_user, world)


def test_missing_file_unknown_meeting_and_other_meetings_item(app, as_user, world):
    sec = as_user("secretary")
    r = sec.post(f"/api/v1/meetings/{world.meeting.id}/documents", data={"title": "x"},
                 content_type="multipart/form-data")
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid"
    assert upload(sec, 999999, pdfs.simple_pdf(1)).status_code == 404
    assert new_version(sec, 999999, pdfs.simple_pdf(1)).status_code == 404
    other = _other_meeting_item(world)
    r = upload(sec, world.meeting.id, pdfs.simple_pdf(1), agenda_item_id=str(other))
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_agenda_item"
    _assert_nothing_stored(app, as_user, world)


def _other_meeting_item(world) -> int:
    from meetings.bodies.models import AgendaItem, Meeting

    m = Meeting(body_id=world.body.id, title="Khác", starts_at=world.meeting.starts_at, status="scheduled")
    db.session.add(m)
    db.session.flush()
    item = AgendaItem(meeting_id=m.id, position=0, title="Khác")
    db.session.add(item)
    db.session.commit()
    return item.id


def test_bad_patch_is_422_and_changes_nothing(as_user, world):
    sec = as_user("secretary")
    doc = upload(sec, world.meeting.id, pdfs.simple_pdf(1)).json
    other_item = _other_meeting_item(world)
    for body in [{}, {"published": "maybe"}, {"title": ""}, {"agenda_item_id": "1"}, {"confidentiality": "x"},
                 {"sha256": "0" * 64}, [1, 2], {"agenda_item_id": other_item}, {"title": "x" * 501}]:
        r = sec.patch(f"/api/v1/documents/{doc['id']}", json=body)
        assert (body, r.status_code) == (body, 422), r.json
        assert sec.get(f"/api/v1/documents/{doc['id']}").json == doc
    later = select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action.like("document.%"), AuditEntry.action != "document.upload")
    assert db.session.execute(later).scalar_one() == 0


def test_patch_unknown_document_and_old_version(as_user, world):
    sec = as_user("secretary")
    assert sec.patch("/api/v1/documents/424242", json={"title": "x"}).status_code == 404
    v1 = upload(sec, world.meeting.id, pdfs.simple_pdf(1)).json
    new_version(sec, v1["id"], pdfs.simple_pdf(2))
    r = sec.patch(f"/api/v1/documents/{v1['id']}", json={"title": "x"})
    assert r.status_code == 409 and r.json["error"]["code"] == "not_current"


def test_all_versions_is_for_the_secretariat(as_user, world):
    r = as_user("delegate").get(f"/api/v1/meetings/{world.meeting.id}/documents?all_versions=1")
    assert r.status_code == 403
    r = as_user("secretary").get(f"/api/v1/meetings/{world.meeting.id}/documents?all_versions=perhaps")
    assert r.status_code == 422


def test_add_document_for_the_demo_loader(app, world, tmp_path):
    path = tmp_path / "tờ trình.pdf"
    path.write_bytes(pdfs.simple_pdf(3))
    storage_path = app.config["STORAGE_PATH"]
    doc = service.add_document(db.session, world.meeting, path, title="Tờ trình", filename=path.name,
                               uploaded_by_id=world.secretary.id, agenda_item_id=world.items[0].id,
                               confidentiality="top_secret", published=True, storage_path=storage_path,
                               limits=IntakeLimits(max_pages=10))
    db.session.commit()
    assert (doc.page_count, doc.confidentiality, doc.series_id) == (3, "top_secret", doc.id)
    again = service.add_document(db.session, world.meeting, path.read_bytes(), title="Bản sao",
                                 filename="b.pdf", uploaded_by_id=None, storage_path=storage_path)
    db.session.commit()
    assert again.sha256 == doc.sha256 and len(stored_files(storage_path)) == 1
    with pytest.raises(service.DocumentRefused) as refused:
        service.add_document(db.session, world.meeting, pdfs.encrypted_pdf(), title="x", filename="x.pdf",
                             uploaded_by_id=None, storage_path=storage_path)
    assert refused.value.code == "encrypted" and refused.value.status == 422
    db.session.rollback()
    assert _count(Document) == 2 and len(stored_files(storage_path)) == 1
