"""Conclusion notices (thông báo kết luận): a closed sitting → compose → edit → ready → signed → published → sent.

Driven through the public REST API and the services (never by setting columns);
the signed PDF is validated by pyHanko and by poppler's pdfsig, read back by
pdftotext, and the e-mails with the PDF attached are received by the real SMTP
server of tests/mail_server.py.
"""
from __future__ import annotations

import hashlib
import io
import json
import shutil
import zipfile

import pytest
from sqlalchemy import func, select

from meetings.accounts.service import create_user
from meetings.archive.bundle import bundle_bytes
from meetings.bodies.models import Body, BodyMember, Meeting
from meetings.bodies.units import create_unit
from meetings.conclusions import service
from meetings.conclusions.models import ConclusionNotice
from meetings.core.extensions import db
from meetings.minutes import files, keys
from meetings.minutes.signers import issue_key
from meetings.minutes.verify import verify_pdf
from meetings.platform.audit.models import AuditEntry
from meetings.platform.realtime.models import MeetingEvent
from tests.factories import PASSWORD, move_meeting
from tests.mail_server import mail_server  # noqa: F401  (fixture)
from tests.minutes_support import (  # noqa: F401  (pki: fixture)
    CA_PASS,
    CHAIR_PASS,
    pdfsig_report,
    pdftotext,
    pki,
)
from tests.notification_helpers import deliver, note_app  # noqa: F401  (fixture)

CHIEF_PASS = "chanh-van-phong-pass"
TEXT_1 = "Giao Sở Tài chính chủ trì, phối hợp Sở Xây dựng hoàn thiện đề án, trình trước ngày 15/12."
TEXT_3 = "Thống nhất chủ trương; Văn phòng theo dõi, đôn đốc."


@pytest.fixture
def signers(app, world, pki):  # noqa: F811
    """The organization CA in the app's instance folder and a key for the chair (and the Chánh Văn phòng)."""
    shutil.copytree(pki["instance"] / "ca", app.config["INSTANCE_PATH"] + "/ca")
    app.config["MINUTES_FONT_CACHE"] = str(pki["instance"] / "fonts")
    with app.app_context():
        issue_key(db.session, app.config, world.chair, ca_passphrase=CA_PASS, passphrase=CHAIR_PASS)
        issue_key(db.session, app.config, world.delegate2, ca_passphrase=CA_PASS, passphrase=CHIEF_PASS)
        db.session.commit()
    return world


def _move(world, status: str) -> None:
    move_meeting(db.session, db.session.get(Meeting, world.meeting.id), world.users["secretary"], status)


def _closed_with_conclusions(as_user, world) -> None:
    """Hold the sitting, record conclusions on items 1 and 3 (as the chair runs it), close it."""
    _move(world, "in_progress")
    for item, text in ((world.items[0], TEXT_1), (world.items[2], TEXT_3)):
        r = as_user("chair").patch(f"/api/v1/items/{item.id}", json={"conclusion": text})
        assert r.status_code == 200, r.json
    _move(world, "closed")


def _create(as_user, world):
    r = as_user("secretary").post(f"/api/v1/meetings/{world.meeting.id}/conclusion-notice")
    assert r.status_code == 201, r.json
    return r.json


def _text(pdf: bytes) -> str:
    return " ".join(pdftotext(pdf).split())


def _unit(world, name: str, email: str | None):
    unit = create_unit(db.session, db.session.merge(world.body), db.session.merge(world.admin), name=name,
                       email=email)
    db.session.commit()
    return unit.id


def test_whole_flow_compose_edit_sign_publish_send(note_app, as_user, signers, mail_server, tmp_path):  # noqa: F811
    world = signers
    finance = _unit(world, "Sở Tài chính", "stc@quangnam.test")
    _closed_with_conclusions(as_user, world)
    for name in ("secretary", "chair", "delegate"):  # after the moves: they merge the world's users back
        db.session.merge(world.users[name]).email = f"{name}@meetings.test"
    db.session.commit()

    notice = _create(as_user, world)
    assert notice["status"] == "draft" and notice["number"] is None and not notice["edited"]
    assert [(c["number"], c["agenda_item_id"], c["text"]) for c in notice["items"]] == [
        (1, world.items[0].id, TEXT_1), (2, world.items[2].id, TEXT_3)]
    first = notice["items"][0]["id"]
    # The secretariat edits the first conclusion and adds a third one.
    r = as_user("secretary").patch(f"/api/v1/conclusion-notices/{notice['id']}", json={
        "items": [{"id": first, "text": TEXT_1 + " Báo cáo kết quả trước ngày 31/12."},
                  {"id": notice["items"][1]["id"], "text": TEXT_3},
                  {"text": "Giao Văn phòng tổng hợp, báo cáo."}],
        "recipient_unit_ids": [finance], "extra_emails": ["Vanthu@QuangNam.test"],
        "recipients": ["- Thường trực Tỉnh ủy;"]})
    assert r.status_code == 200, r.json
    edited = r.json
    assert edited["edited"] and [c["number"] for c in edited["items"]] == [1, 2, 3]
    assert edited["items"][0]["id"] == first and edited["extra_emails"] == ["vanthu@quangnam.test"]
    draft = as_user("secretary").get(f"/api/v1/conclusion-notices/{notice['id']}/file")
    assert draft.status_code == 200 and draft.headers["Cache-Control"] == "no-store"
    # The rotated watermark comes out of pdftotext in pieces: compare without spaces.
    assert "DỰTH" in _text(draft.data).replace(" ", "")
    assert "Báo cáo kết quả trước ngày 31/12." in _text(draft.data)
    # Before it is published a delegate does not even learn it exists.
    assert as_user("delegate").get(f"/api/v1/conclusion-notices/{notice['id']}").status_code == 404

    ready = as_user("secretary").post(f"/api/v1/conclusion-notices/{notice['id']}/ready").json
    assert ready["status"] == "ready" and ready["number"] == "1/TB-UBND"
    assert ready["signer_id"] == world.chair.id
    r = as_user("chair").post(f"/api/v1/conclusion-notices/{notice['id']}/signature", json={"secret": CHAIR_PASS})
    assert r.status_code == 200, r.json
    signed = r.json
    assert signed["status"] == "signed" and signed["signer_name"] == "Người dùng chair"
    assert signed["sha256"] != ready["sha256"]
    pdf = as_user("chair").get(f"/api/v1/conclusion-notices/{notice['id']}/file").data
    assert hashlib.sha256(pdf).hexdigest() == signed["sha256"]
    assert pdf.startswith(files.minutes_file(note_app.config["STORAGE_PATH"], ready["sha256"]).read_bytes())

    report = verify_pdf(pdf, keys.trust_roots(signers_instance(note_app)))
    assert report["intact"] and report["valid"] and report["trusted"] and not report["tampered"]
    (sig,) = report["signatures"]
    assert sig["signer"] == "Người dùng chair" and sig["field"] == "NguoiKy" and sig["certifying"]
    assert sig["timestamp"]  # no TSA configured: the organization's own timestamp unit stamped it, as for minutes
    out = pdfsig_report(pdf, tmp_path)
    assert out.count("Signature Validation: Signature is Valid.") == 1
    assert "Signer Certificate Common Name: Người dùng chair" in out and "Signature Field Name: NguoiKy" in out
    # (Trust by pdfsig is not asked: the certificate names this server's CRL and OCSP addresses, which NSS
    # would fetch; pyHanko above validated the chain with the revocation data embedded at signing.)
    text = _text(pdf)
    for part in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "THÔNG BÁO",
                 "Số: 1/TB-UBND", "Nơi nhận:", "- Sở Tài chính;", "- Thường trực Tỉnh ủy;", "- Lưu: VT.",
                 "TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Thử Nghiệm, ngày",
                 "KẾT LUẬN CỦA CHỦ TỊCH NGƯỜI DÙNG CHAIR TẠI PHIÊN HỌP THƯỜNG KỲ THÁNG 12",
                 "1. " + TEXT_1, "3. Giao Văn phòng tổng hợp, báo cáo."):
        assert part in text, part
    assert "DỰTH" not in text.replace(" ", "")
    assert "TM. ỦY BAN NHÂN DÂN TỈNH" not in text  # Decree 30 signs for the collective without its place

    mail_server.clear()
    pub = as_user("secretary").post(f"/api/v1/conclusion-notices/{notice['id']}/publish").json
    assert pub["status"] == "published" and pub["sent_count"] == 5
    deliver(note_app)
    assert mail_server.wait_for(5)
    by_to = {m["To"].addresses[0].addr_spec: m for m in mail_server.messages}
    assert set(by_to) == {"secretary@meetings.test", "chair@meetings.test", "delegate@meetings.test",
                          "stc@quangnam.test", "vanthu@quangnam.test"}
    msg = by_to["stc@quangnam.test"]
    assert "1/TB-UBND" in msg["Subject"]
    (attached,) = [p for p in msg.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert hashlib.sha256(attached.get_content()).hexdigest() == signed["sha256"]
    # A second publish is refused; nothing is sent twice.
    assert as_user("secretary").post(f"/api/v1/conclusion-notices/{notice['id']}/publish").status_code == 409

    # Published: the participants see it, the delegate reads the file.
    assert as_user("delegate").get(f"/api/v1/meetings/{world.meeting.id}/conclusion-notice").json["id"] == notice["id"]
    assert as_user("delegate").get(f"/api/v1/conclusion-notices/{notice['id']}/file").data == pdf
    assert as_user("outsider").get(f"/api/v1/conclusion-notices/{notice['id']}").status_code == 404

    db.session.rollback()
    events = db.session.scalars(select(MeetingEvent).where(MeetingEvent.meeting_id == world.meeting.id,
                                                           MeetingEvent.type == "conclusions.status")).all()
    assert [e.data["status"] for e in events] == ["draft", "draft", "ready", "signed", "published"]
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "conclusion_notice")
                                 .order_by(AuditEntry.id)).all()
    assert actions == ["conclusion_notice.created", "conclusion_notice.updated", "conclusion_notice.ready",
                       "conclusion_notice.signed", "conclusion_notice.published"]
    # The meeting's archive bag carries the signed notice as published.
    bag = zipfile.ZipFile(io.BytesIO(bundle_bytes(db.session, db.session.get(Meeting, world.meeting.id),
                                                  note_app.config, db.session.merge(world.admin))))
    base = f"meeting-{world.meeting.id}/data/conclusions/"
    assert bag.read(base + "thong-bao-ket-luan.pdf") == pdf
    assert json.loads(bag.read(base + "conclusions.json"))["number"] == "1/TB-UBND"
    # The read API of follow-up tasks.
    row = db.session.get(ConclusionNotice, notice["id"])
    assert [(c.number, c.text[:10]) for c in service.items_of(row)] == [
        (1, TEXT_1[:10]), (2, TEXT_3[:10]), (3, "Giao Văn p")]


def signers_instance(app):
    return app.config["INSTANCE_PATH"]


def test_permissions_delegate_other_body_and_signer(app, as_user, signers):
    world = signers
    _closed_with_conclusions(as_user, world)
    mid = world.meeting.id
    for who in ("delegate", "chair", "observer"):
        r = as_user(who).post(f"/api/v1/meetings/{mid}/conclusion-notice")
        assert r.status_code == 403 and r.json["error"]["code"] == "not_secretariat", who
    assert as_user("outsider").post(f"/api/v1/meetings/{mid}/conclusion-notice").status_code == 404
    # Another body's secretary: does not see this meeting at all.
    other = Body(name="Ủy ban nhân dân huyện Khác", short_name="UBND", place_name="Khác")
    db.session.add(other)
    db.session.flush()
    stranger = create_user(db.session, "other_secretary", PASSWORD, "Thư ký huyện khác")
    db.session.add(BodyMember(body_id=other.id, user_id=stranger.id, is_secretariat=True))
    db.session.commit()
    world.users["other_secretary"] = stranger
    assert as_user("other_secretary").post(f"/api/v1/meetings/{mid}/conclusion-notice").status_code == 404

    notice = _create(as_user, world)
    nid = notice["id"]
    edit = {"subject": "Kết luận đã sửa"}
    assert as_user("delegate").patch(f"/api/v1/conclusion-notices/{nid}", json=edit).status_code == 404
    r = as_user("chair").patch(f"/api/v1/conclusion-notices/{nid}", json=edit)
    assert r.status_code == 403 and r.json["error"]["code"] == "not_secretariat"
    assert as_user("other_secretary").patch(f"/api/v1/conclusion-notices/{nid}", json=edit).status_code == 404
    assert as_user("other_secretary").get(f"/api/v1/bodies/{world.body.id}/conclusion-settings").status_code == 403
    r = as_user("other_secretary").patch(f"/api/v1/bodies/{world.body.id}/conclusion-settings",
                                         json={"signing_mode": "chair"})
    assert r.status_code == 403
    # Signing a draft: not ready; then only the chair signs.
    r = as_user("chair").post(f"/api/v1/conclusion-notices/{nid}/signature", json={"secret": CHAIR_PASS})
    assert r.status_code == 403 and r.json["error"]["code"] == "not_the_signer"  # no signer before it is ready
    as_user("secretary").post(f"/api/v1/conclusion-notices/{nid}/ready")
    before = as_user("secretary").get(f"/api/v1/conclusion-notices/{nid}").json
    for who, status in (("delegate", 403), ("secretary", 403), ("admin", 403), ("outsider", 404),
                        ("other_secretary", 404)):
        r = as_user(who).post(f"/api/v1/conclusion-notices/{nid}/signature", json={"secret": CHAIR_PASS})
        assert r.status_code == status, (who, r.json)
    r = as_user("chair").post(f"/api/v1/conclusion-notices/{nid}/signature", json={"secret": "sai-mat-khau"})
    assert r.status_code == 422 and r.json["error"]["code"] == "wrong_passphrase"
    assert as_user("secretary").get(f"/api/v1/conclusion-notices/{nid}").json == before  # nothing changed
    r = as_user("secretary").patch(f"/api/v1/conclusion-notices/{nid}", json=edit)
    assert r.status_code == 409 and r.json["error"]["code"] == "not_draft"
    assert as_user("chair").post(f"/api/v1/conclusion-notices/{nid}/signature",
                                 json={"secret": CHAIR_PASS}).status_code == 200
    r = as_user("chair").post(f"/api/v1/conclusion-notices/{nid}/signature", json={"secret": CHAIR_PASS})
    assert r.status_code == 409 and r.json["error"]["code"] == "already_signed"


def test_refusals_and_numbers(app, as_user, signers):
    world = signers
    mid = world.meeting.id
    r = as_user("secretary").post(f"/api/v1/meetings/{mid}/conclusion-notice")
    assert r.status_code == 409 and r.json["error"]["code"] == "meeting_not_finished"
    # Another sitting of the body, closed without any conclusion: nothing to compose.
    bare = Meeting(body_id=world.body.id, title="Phiên họp không kết luận", starts_at=world.meeting.starts_at,
                   status="draft", created_by_id=world.admin.id)
    db.session.add(bare)
    db.session.commit()
    move_meeting(db.session, bare, world.users["admin"], "closed")
    r = as_user("admin").post(f"/api/v1/meetings/{bare.id}/conclusion-notice")
    assert r.status_code == 409 and r.json["error"]["code"] == "no_conclusions"
    _move(world, "in_progress")
    from meetings.bodies import agenda
    item = db.session.get(Meeting, mid).items[1]
    agenda.update_item(db.session, item, db.session.merge(world.secretary), conclusion="Kết luận nội dung 2.")
    db.session.commit()
    _move(world, "closed")
    notice = _create(as_user, world)
    assert as_user("secretary").post(f"/api/v1/meetings/{mid}/conclusion-notice").json["error"]["code"] == \
        "notice_exists"
    nid = notice["id"]
    for bad in ({"items": []}, {"items": [{"text": ""}]}, {"items": [{"id": 999999, "text": "x"}]},
                {"items": [{"text": "x", "agenda_item_id": 999999}]}, {"extra_emails": ["not-an-address"]},
                {"recipient_unit_ids": [999999]}, {"subject": ""}, {"status": "signed"}, []):
        r = as_user("secretary").patch(f"/api/v1/conclusion-notices/{nid}", json=bad)
        assert r.status_code == 422, (bad, r.json)
    assert as_user("secretary").get(f"/api/v1/conclusion-notices/{nid}").json["items"] == notice["items"]
    ready = as_user("secretary").post(f"/api/v1/conclusion-notices/{nid}/ready").json
    assert ready["number"] == "1/TB-UBND"
    back = as_user("secretary").post(f"/api/v1/conclusion-notices/{nid}/reopen").json
    assert back["status"] == "draft" and back["number"] == "1/TB-UBND"  # the number stays
    assert as_user("secretary").post(f"/api/v1/conclusion-notices/{nid}/ready").json["number"] == "1/TB-UBND"
    r = as_user("secretary").post(f"/api/v1/conclusion-notices/{nid}/publish")
    assert r.status_code == 409 and r.json["error"]["code"] == "not_signed"


def test_chief_of_office_signs_tl_chu_tich(app, as_user, signers, tmp_path):
    world = signers
    r = as_user("secretary").patch(f"/api/v1/bodies/{world.body.id}/conclusion-settings",
                                   json={"signing_mode": "chair"})
    assert r.status_code == 403  # the meeting's secretary is not the body's secretariat
    r = as_user("admin").patch(f"/api/v1/bodies/{world.body.id}/conclusion-settings",
                               json={"signing_mode": "chief_of_office"})
    assert r.status_code == 422  # the Chánh Văn phòng must be named
    assert as_user("admin").get(f"/api/v1/bodies/{world.body.id}/conclusion-settings").json["signing_mode"] == "chair"
    r = as_user("admin").patch(f"/api/v1/bodies/{world.body.id}/conclusion-settings",
                               json={"signing_mode": "chief_of_office", "office_chief_id": world.delegate2.id})
    assert r.status_code == 200 and r.json["signing_mode"] == "chief_of_office"
    _closed_with_conclusions(as_user, world)
    nid = _create(as_user, world)["id"]
    ready = as_user("secretary").post(f"/api/v1/conclusion-notices/{nid}/ready").json
    assert ready["signer_id"] == world.delegate2.id
    r = as_user("chair").post(f"/api/v1/conclusion-notices/{nid}/signature", json={"secret": CHAIR_PASS})
    assert r.status_code == 403 and r.json["error"]["code"] == "not_the_signer"
    r = as_user("delegate2").post(f"/api/v1/conclusion-notices/{nid}/signature", json={"secret": CHIEF_PASS})
    assert r.status_code == 200, r.json
    pdf = as_user("secretary").get(f"/api/v1/conclusion-notices/{nid}/file").data
    text = _text(pdf)
    assert "TL. CHỦ TỊCH" in text and "CHÁNH VĂN PHÒNG" in text and "Người dùng delegate2" in text
    report = verify_pdf(pdf, keys.trust_roots(app.config["INSTANCE_PATH"]))
    assert report["valid"] and report["trusted"] and report["signatures"][0]["signer"] == "Người dùng delegate2"


def test_items_of_and_recipient_units_read(app, as_user, signers):
    """A member of a recipient unit reads the published notice even without taking part in the meeting."""
    world = signers
    unit_id = _unit(world, "Sở Xây dựng", None)
    from meetings.bodies.units import get_unit, set_unit_member
    set_unit_member(db.session, get_unit(db.session, unit_id), db.session.merge(world.admin),
                    user_id=world.outsider.id)
    db.session.commit()
    _closed_with_conclusions(as_user, world)
    nid = _create(as_user, world)["id"]
    as_user("secretary").patch(f"/api/v1/conclusion-notices/{nid}", json={"recipient_unit_ids": [unit_id]})
    as_user("secretary").post(f"/api/v1/conclusion-notices/{nid}/ready")
    assert as_user("outsider").get(f"/api/v1/conclusion-notices/{nid}").status_code == 404  # not yet published
    as_user("chair").post(f"/api/v1/conclusion-notices/{nid}/signature", json={"secret": CHAIR_PASS})
    as_user("secretary").post(f"/api/v1/conclusion-notices/{nid}/publish")
    got = as_user("outsider").get(f"/api/v1/conclusion-notices/{nid}")
    assert got.status_code == 200 and len(got.json["items"]) == 2
    notice, one = service.conclusion_of(db.session, got.json["items"][1]["id"])
    assert notice.id == nid and one.number == 2 and one.agenda_item_id == world.items[2].id


def test_demo_has_a_signed_published_notice_and_a_second_load_changes_nothing(app):
    def load():
        result = app.test_cli_runner().invoke(args=["demo", "load"])
        assert result.exit_code == 0, result.output + repr(result.exception)

    load()
    from meetings.demo.conclusions import TITLE
    with app.app_context():
        notice = db.session.scalars(select(ConclusionNotice)).one()
        meeting = db.session.get(Meeting, notice.meeting_id)
        assert meeting.title == TITLE and meeting.status == "closed"
        assert notice.status == "published" and notice.number == "1/TB-UBND" and len(notice.items) == 3
        pdf = files.minutes_file(app.config["STORAGE_PATH"], notice.sha256).read_bytes()
        report = verify_pdf(pdf, keys.trust_roots(app.config["INSTANCE_PATH"]))
        assert report["valid"] and report["trusted"] and report["signatures"][0]["signer"] == "Nguyễn Văn An"
        before = (notice.id, notice.sha256, db.session.scalar(select(func.count()).select_from(AuditEntry)))
    load()
    with app.app_context():
        notice = db.session.scalars(select(ConclusionNotice)).one()
        assert (notice.id, notice.sha256, db.session.scalar(select(func.count()).select_from(AuditEntry))) == before


def test_tm_signs_for_the_collective_without_its_place():
    from meetings.conclusions.workflow import collective_name

    assert collective_name("Ủy ban nhân dân tỉnh Quảng Nam", "Quảng Nam") == "ỦY BAN NHÂN DÂN"
    assert collective_name("Ủy ban nhân dân thành phố Đà Lạt", "Đà Lạt") == "ỦY BAN NHÂN DÂN"
    assert collective_name("Ủy ban nhân dân thị xã Điện Bàn", "Điện Bàn") == "ỦY BAN NHÂN DÂN"
    assert collective_name("Hội đồng quản trị", None) == "HỘI ĐỒNG QUẢN TRỊ"
    assert collective_name("Ban Thường vụ Quảng Nam", "Quảng Nam") == "BAN THƯỜNG VỤ QUẢNG NAM"  # no level word
    assert collective_name("Tỉnh Quảng Nam", "Quảng Nam") == "TỈNH QUẢNG NAM"  # nothing would be left
