"""A whole meeting → minutes → two signatures → archive → a BagIt package that validates."""
from __future__ import annotations

import io
import json
import shutil
import zipfile

import bagit
import pytest

from meetings.bodies.models import Meeting
from meetings.core.extensions import db
from meetings.minutes.signers import issue_key
from tests.factories import move_meeting
from tests.minutes_support import CA_PASS, CHAIR_PASS, SECRETARY_PASS, pdftotext, pki  # noqa: F401

AGENDA_PDF = b"%PDF-1.4\n% tai lieu\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _agenda_document(app, s, meeting_id, item_id):
    """A current agenda document stored where the documents domain keeps its files."""
    import hashlib

    from meetings.documents.models import Document
    from meetings.documents.storage import blob_path

    sha = hashlib.sha256(AGENDA_PDF).hexdigest()
    path = blob_path(app.config["STORAGE_PATH"], sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(AGENDA_PDF)
    s.add(Document(meeting_id=meeting_id, agenda_item_id=item_id, title="Đề án phát triển đô thị 2030",
                   filename="de-an-do-thi.pdf", sha256=sha, size=len(AGENDA_PDF), page_count=1, version=1,
                   is_current=True, published=True))


def _hold_meeting(app, world):
    """Attendance, a speaker and an open vote, through the live and voting domains' own services."""
    from meetings.live import attendance, presenter, speakers
    from meetings.voting import casting
    from meetings.voting import service as voting

    with app.app_context():
        s = db.session
        meeting = move_meeting(s, s.get(Meeting, world.meeting.id), world.secretary, "in_progress")
        item = world.items[0]
        item_row = s.get(type(item), item.id)
        item_row.conclusion = "Hội nghị thống nhất thông qua Đề án."
        _agenda_document(app, s, meeting.id, item.id)
        s.commit()
        sec = s.merge(world.secretary)
        for name, status, reason in (("chair", "present", None), ("secretary", "present", None),
                                     ("delegate", "present", None), ("delegate2", "excused", "Đi công tác"),
                                     ("observer", "remote", None)):
            attendance.mark_attendance(s, meeting, sec, world.users[name].id, status, reason=reason)
        s.commit()
        presenter.open_item(s, meeting, sec, item.id)
        s.commit()
        req = speakers.request_to_speak(s, meeting, s.merge(world.delegate), "speech", "for")
        s.commit()
        speakers.call(s, meeting, sec, req["request"]["id"])
        s.commit()
        speakers.end_speech(s, meeting, sec)
        s.commit()
        poll = voting.create_poll(s, meeting, sec, {"title": "Thông qua Đề án phát triển đô thị",
                                                    "agenda_item_id": item.id})
        s.commit()
        voting.open_poll(s, poll, sec)
        s.commit()
        options = [o.id for o in poll.options] if hasattr(poll, "options") else None
        for name in ("chair", "secretary", "delegate"):
            casting.cast_ballot(s, poll.id, s.merge(world.users[name]), [options[0]])
            s.commit()
        voting.close_poll(s, voting.get_poll(s, poll.id), sec)
        s.commit()
        move_meeting(s, s.get(Meeting, world.meeting.id), world.secretary, "closed")


@pytest.fixture
def archived(app, world, as_user, pki):  # noqa: F811
    shutil.copytree(pki["instance"] / "ca", app.config["INSTANCE_PATH"] + "/ca")
    app.config["MINUTES_FONT_CACHE"] = str(pki["instance"] / "fonts")
    with app.app_context():
        issue_key(db.session, app.config, world.secretary, ca_passphrase=CA_PASS, passphrase=SECRETARY_PASS)
        issue_key(db.session, app.config, world.chair, ca_passphrase=CA_PASS, passphrase=CHAIR_PASS)
        db.session.commit()
    _hold_meeting(app, world)
    sec = as_user("secretary")
    m = sec.post(f"/api/v1/meetings/{world.meeting.id}/minutes", json={}).json
    sec.patch(f"/api/v1/minutes/{m['id']}", json={"number": "15/BB-UBND"})
    assert sec.post(f"/api/v1/minutes/{m['id']}/finalize").status_code == 200
    assert sec.post(f"/api/v1/minutes/{m['id']}/signatures", json={"secret": SECRETARY_PASS}).status_code == 201
    assert as_user("chair").post(f"/api/v1/minutes/{m['id']}/signatures",
                                 json={"secret": CHAIR_PASS}).status_code == 201
    assert sec.post(f"/api/v1/minutes/{m['id']}/publish").status_code == 200
    return {"world": world, "minutes": sec.get(f"/api/v1/minutes/{m['id']}").json}


def test_minutes_record_what_happened(archived, as_user):
    m = archived["minutes"]
    text = " ".join(pdftotext(as_user("archivist").get(f"/api/v1/minutes/{m['id']}/file").data).split())
    for expected in ("Số: 15/BB-UBND", "Người dùng delegate", "Vắng có lý do", "Đi công tác", "Trực tuyến",
                     "Thông qua Đề án phát triển đô thị", "THÔNG QUA", "Hội nghị thống nhất thông qua Đề án.",
                     "Người dùng delegate (phát biểu, tán thành",
                     "Tài liệu: Đề án phát triển đô thị 2030 (phiên bản 1)."):
        assert expected in text, expected


def test_archive_search(archived, as_user):
    world = archived["world"]
    arch = as_user("archivist")
    hits = arch.get("/api/v1/archive").json
    assert hits["total"] == 1 and hits["results"][0]["minutes_id"] == archived["minutes"]["id"]
    assert hits["results"][0]["signers"] == ["Người dùng secretary", "Người dùng chair"]
    for query in ({"q": "phát triển đô thị"}, {"q": "PHAT TRIEN DO THI"}, {"title": "thường kỳ"},
                  {"title": "THUONG KY"}, {"body_id": world.body.id}, {"date_from": "2000-01-01"},
                  {"q": "Đề án", "title": "tháng 12"}):
        assert arch.get("/api/v1/archive", query_string=query).json["total"] == 1, query
    for query in ({"q": "không có trong biên bản"}, {"title": "Đề án"}, {"body_id": 999999},
                  {"date_to": "2000-01-01"}, {"q": "phát%thị"}, {"q": "đô_thị"}):
        assert arch.get("/api/v1/archive", query_string=query).json["total"] == 0, query
    snippet = arch.get("/api/v1/archive", query_string={"q": "đô thị"}).json["results"][0]["snippet"]
    assert "đô thị" in snippet
    # Participants find their own meetings' minutes; outsiders find nothing.
    assert as_user("delegate").get("/api/v1/archive").json["total"] == 1
    assert as_user("outsider").get("/api/v1/archive").json["total"] == 0
    for bad in ({"page": 0}, {"per_page": 1000}, {"date_from": "yesterday"}, {"body_id": "x"},
                {"date_from": "2026-02-01", "date_to": "2026-01-01"}):
        r = arch.get("/api/v1/archive", query_string=bad)
        assert r.status_code == 422, bad
    assert as_user(None).get("/api/v1/archive").status_code == 401


def test_bagit_bundle_validates_and_holds_the_record(archived, as_user, tmp_path):
    world = archived["world"]
    r = as_user("archivist").get(f"/api/v1/meetings/{world.meeting.id}/bundle")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.data)) as zf:
        zf.extractall(tmp_path / "unzipped")
    bag = bagit.Bag(str(tmp_path / "unzipped" / f"meeting-{world.meeting.id}"))
    bag.validate()  # raises on any missing, extra or changed file
    assert {"sha256", "sha512"} <= set(bag.algorithms)
    data = tmp_path / "unzipped" / f"meeting-{world.meeting.id}" / "data"
    signed = (data / "minutes" / "bien-ban-v1.pdf").read_bytes()
    import hashlib

    assert hashlib.sha256(signed).hexdigest() == archived["minutes"]["sha256"]
    attendance = json.loads((data / "attendance.json").read_text("utf-8"))
    assert {a["full_name"]: a["status"] for a in attendance}["Người dùng delegate2"] == "excused"
    assert "Người dùng delegate2" in (data / "attendance.csv").read_text("utf-8-sig")
    docs = list((data / "documents").iterdir())
    assert len(docs) == 1 and docs[0].read_bytes() == AGENDA_PDF and docs[0].name.endswith("de-an-do-thi.pdf")
    votes = json.loads((data / "votes.json").read_text("utf-8"))
    assert votes[0]["title"] == "Thông qua Đề án phát triển đô thị" and votes[0]["outcome"] == "adopted"
    assert "Thông qua Đề án phát triển đô thị" in (data / "votes.csv").read_text("utf-8-sig")
    audit_lines = [json.loads(x) for x in (data / "audit-log.jsonl").read_text("utf-8").splitlines()]
    actions = [e["action"] for e in audit_lines]
    assert "minutes.signed" in actions and "minutes.published" in actions
    assert all(len(e["hash"]) == 64 for e in audit_lines)
    meta = json.loads((data / "meeting.json").read_text("utf-8"))
    assert meta["audit_chain_intact_at_export"] is True
    assert [s["role"] for s in meta["minutes"][0]["signatures"]] == ["secretary", "chair"]
    # A changed byte in the package is caught by bagit.
    (data / "attendance.csv").write_text("tampered", "utf-8")
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(tmp_path / "unzipped" / f"meeting-{world.meeting.id}")).validate()


def test_bundle_access(archived, as_user, app):
    from sqlalchemy import func, select

    from meetings.platform.audit.models import AuditEntry

    def exports() -> int:
        with app.app_context():
            return db.session.execute(select(func.count()).select_from(AuditEntry)
                                      .where(AuditEntry.action == "archive.bundle_exported")).scalar_one()

    world = archived["world"]
    url = f"/api/v1/meetings/{world.meeting.id}/bundle"
    assert as_user("secretary").get(url).status_code == 200
    assert exports() == 1  # who took a copy of the record is part of the record, though the export is a GET
    assert as_user("delegate").get(url).status_code == 403
    assert as_user("outsider").get(url).status_code == 404
    assert as_user("archivist").get("/api/v1/meetings/999999/bundle").status_code == 404
    assert as_user(None).get(url).status_code == 401
    assert exports() == 1  # refused exports record nothing
