"""Alerts from the lower domains' signals: documents published and replaced (over REST, through
the documents domain's real intake), minutes ready to sign, a poll opened."""
from __future__ import annotations

import io

from meetings.core.extensions import db, socketio
from meetings.minutes.models import Minutes
from meetings.platform.signals import minutes_ready_to_sign, poll_opened
from meetings.voting.models import BallotCast, Poll
from tests import pdfs
from tests.mail_server import mail_server  # noqa: F401  (fixture)
from tests.notification_helpers import (
    deliver,
    lines,
    note_app,  # noqa: F401  (fixture)
    outbox_rows,
    people,  # noqa: F401  (fixture)
    recipients,
)

TOLD = ["chair", "delegate", "delegate2", "observer"]  # every participant but the secretary who uploads


def _upload(as_user, meeting_id: int, **fields):
    data = {"file": (io.BytesIO(pdfs.simple_pdf(1)), "to-trinh.pdf"), "title": "Tờ trình số 12", **fields}
    r = as_user("secretary").post(f"/api/v1/meetings/{meeting_id}/documents", data=data,
                                  content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_published_then_replaced_document_alerts_participants_live_and_by_email(note_app, people, as_user,  # noqa: F811
                                                                                 mail_server):  # noqa: F811
    meeting_id = db.session.merge(people.meeting).id
    secretary_id = people.users["secretary"].id
    as_user.token("secretary")  # before the socket's app context ends the session the world's users are in
    tablet = socketio.test_client(note_app, auth={"token": as_user.token("delegate")})
    assert tablet.is_connected()
    tablet.get_received()
    doc = _upload(as_user, meeting_id, published="true")
    live = [m for m in tablet.get_received() if m["name"] == "notification.new"]
    assert len(live) == 1 and live[0]["args"][0]["unread"] == 1
    assert live[0]["args"][0]["notification"]["title"] == "New document: Tờ trình số 12"  # delegate reads English
    r = as_user("secretary").post(f"/api/v1/documents/{doc['id']}/versions",
                                  data={"file": (io.BytesIO(pdfs.simple_pdf(2)), "to-trinh-v2.pdf")},
                                  content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    assert [m["args"][0]["unread"] for m in tablet.get_received() if m["name"] == "notification.new"] == [2]
    tablet.disconnect()
    assert deliver(note_app) == {"sent": 8}
    mails = mail_server.messages
    assert recipients(mails) == sorted(TOLD * 2)
    chair = [m["Subject"] for m in mails if m["To"].addresses[0].username == "chair"]
    assert sorted(chair) == ["Tài liệu mới: Tờ trình số 12", "Tài liệu đã được cập nhật: Tờ trình số 12"]
    text = next(m for m in mails if m["Subject"].startswith("Tài liệu đã")).get_body(("plain",)).get_content()
    assert "đã được thay bằng phiên bản 2" in text and "https://hop.example.vn/meetings/" in text
    assert not lines(secretary_id)  # nobody is told of their own upload


def test_no_alert_for_unpublished_documents_draft_meetings_and_hidden_titles(note_app, people, as_user):  # noqa: F811
    meeting_id = db.session.merge(people.meeting).id
    doc = _upload(as_user, meeting_id, published="false")
    assert not outbox_rows() and not lines()
    r = as_user("secretary").patch(f"/api/v1/documents/{doc['id']}", json={"published": True,
                                                                           "confidentiality": "confidential"})
    assert r.status_code == 200, r.get_json()
    subjects = {row.subject for row in outbox_rows(channel="email")}
    assert subjects == {"Tài liệu mới: một tài liệu mật", "New document: a confidential document"}
    assert all("Tờ trình" not in (row.text + (row.html or "")) for row in outbox_rows())
    # A draft meeting's documents tell nobody (its invitations will).
    from tests.factories import build_draft_meeting

    draft = build_draft_meeting(db.session, people)
    before = len(outbox_rows())
    _upload(as_user, draft.id, published="true")
    assert len(outbox_rows()) == before


def test_minutes_ready_to_sign_tell_the_signers(note_app, people):  # noqa: F811
    u = people.users
    with note_app.test_request_context():
        minutes = Minutes(meeting_id=db.session.merge(people.meeting).id, status="finalized", number="12/BB-UBND",
                          language="vi")
        db.session.add(minutes)
        db.session.flush()
        minutes_ready_to_sign.send(None, session=db.session, minutes=minutes, actor=db.session.merge(u["secretary"]))
        db.session.commit()
    rows = outbox_rows(channel="email")
    assert sorted(r.address for r in rows) == ["chair@meetings.test", "secretary@meetings.test"]
    chair = next(r for r in rows if r.address.startswith("chair"))
    assert chair.subject == "Biên bản chờ ký: Phiên họp thường kỳ tháng 12"
    assert "sau khi thư ký ký" in chair.text and "12/BB-UBND" in chair.text
    assert {n.url for n in lines()} == {f"/meetings/{minutes.meeting_id}/console"}


def test_poll_opened_tells_the_voters_in_the_app_only(note_app, people):  # noqa: F811
    u = people.users
    with note_app.test_request_context():
        poll = Poll(meeting_id=db.session.merge(people.meeting).id, title="Thông qua chương trình", status="open")
        db.session.add(poll)
        db.session.flush()
        db.session.add(BallotCast(poll_id=poll.id, voter_id=u["delegate"].id, cast_by_id=u["delegate"].id))
        poll_opened.send(None, session=db.session, poll=poll, actor=db.session.merge(u["chair"]))
        db.session.commit()
    assert sorted(n.user_id for n in lines()) == sorted([u["secretary"].id, u["delegate2"].id])
    assert not outbox_rows()
