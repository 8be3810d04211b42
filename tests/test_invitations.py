"""Invitations e-mailed on publishing, with their iCalendar part: received by a real SMTP server
(aiosmtpd, tests/mail_server.py), parsed with ``email``, ``icalendar`` and a second parser (``ics``).

Delivery runs in-process (``delivery.deliver_due``, the consumer's function); the consumer as its
own process is tests/test_invitations_consumer.py.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from meetings.accounts.models import User
from meetings.bodies.models import Meeting, Participant
from meetings.core.extensions import db
from meetings.notifications.invitation_models import MeetingCalendar
from meetings.notifications.models import OutboxMessage
from meetings.platform.audit.models import AuditEntry
from tests.invitation_helpers import (
    PUBLIC_URL,
    by_recipient,
    calendar_part,
    deliver,
    draft,  # noqa: F401  (fixture)
    inv_app,  # noqa: F401  (fixture)
    second_parser,
    status,
)
from tests.mail_server import mail_server  # noqa: F401  (fixture)

INVITED = ("secretary", "chair", "delegate", "delegate2", "observer")


def _utc(value) -> datetime:
    return value.astimezone(UTC).replace(microsecond=0)


def _meeting(meeting_id: int) -> Meeting:
    db.session.rollback()
    return db.session.get(Meeting, meeting_id)


def test_publishing_invites_each_participant_in_their_language(inv_app, draft, as_user, mail_server):  # noqa: F811
    world, meeting_id = draft
    status(as_user, meeting_id, "scheduled")
    assert deliver(inv_app) == {"sent": len(INVITED)}
    mails = by_recipient(mail_server.messages)
    assert sorted(mails) == sorted(f"{n}@meetings.test" for n in INVITED)  # the outsider is not invited
    meeting = _meeting(meeting_id)
    start = _utc(meeting.starts_at)
    uids = set()
    for name in INVITED:
        mail = mails[f"{name}@meetings.test"]
        english = name == "delegate"
        assert mail["Subject"] == ("Invitation: " if english else "Giấy mời họp: ") + meeting.title
        text = mail.get_body(("plain",)).get_content()
        html = mail.get_body(("html",)).get_content()
        local = start.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
        assert local.strftime("%H:%M") in text and "(GMT+7)" in text
        assert meeting.place in text and "Nội dung dự thảo" in text and "Nội dung dự thảo" in html
        assert f"{PUBLIC_URL}/meetings/{meeting_id}/room" in text
        assert ("Dear " if english else "Kính gửi đồng chí ") + f"Người dùng {name}" in text
        assert ("I attend" if english else "Tham dự") in html
        assert len(re.findall(rf"{PUBLIC_URL}/invitations/[\w-]+\?answer=(attend|decline|proxy)", text)) == 3
        method, event, raw = calendar_part(mail)
        assert method == "REQUEST" and int(event["SEQUENCE"]) == 0
        assert re.fullmatch(rf"meeting-{meeting_id}-[0-9a-f]{{12}}@hop\.example\.vn", str(event["UID"]))
        uids.add(str(event["UID"]))
        assert event.decoded("DTSTART") == start and event.decoded("DTSTART").utcoffset() == timedelta(0)
        assert "DTSTART:" + start.strftime("%Y%m%dT%H%M%SZ") in raw  # written in UTC
        assert str(event["ORGANIZER"]) == "mailto:office@meetings.test"
        assert str(event["ORGANIZER"].params["CN"]) == world.body.name
        attendee = event["ATTENDEE"]  # one: the recipient (others' addresses are not shared)
        assert not isinstance(attendee, list)
        assert str(attendee) == f"mailto:{name}@meetings.test" and attendee.params["PARTSTAT"] == "NEEDS-ACTION"
        assert "DTSTAMP" in event and str(event["SUMMARY"]) == meeting.title
        other = second_parser(raw)  # an independent parser agrees
        assert other.uid == str(event["UID"]) and other.name == meeting.title and other.location == meeting.place
        assert other.begin.datetime == start
    assert len(uids) == 1  # one meeting, one UID in every calendar
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "invitations.sent")).all()
    assert [(a.details["kind"], a.details["emails"]) for a in audit] == [("invitation", len(INVITED))]


def test_a_time_change_sends_updates_and_a_rewrite_sends_nothing(inv_app, draft, as_user, mail_server):  # noqa: F811
    _, meeting_id = draft
    status(as_user, meeting_id, "scheduled")
    deliver(inv_app)
    first = {m["To"]: calendar_part(m)[1] for m in mail_server.messages}
    mail_server.clear()
    meeting = _meeting(meeting_id)
    same = {"place": meeting.place, "starts_at": meeting.starts_at.isoformat()}
    assert as_user("secretary").patch(f"/api/v1/meetings/{meeting_id}", json=same).status_code == 200
    assert as_user("secretary").patch(f"/api/v1/meetings/{meeting_id}", json={"title": "Tên mới"}).status_code == 200
    assert deliver(inv_app) == {} and mail_server.raw == []  # the time and place did not change
    later = (meeting.starts_at + timedelta(hours=2)).isoformat()
    assert as_user("secretary").patch(f"/api/v1/meetings/{meeting_id}", json={"starts_at": later}).status_code == 200
    assert deliver(inv_app) == {"sent": len(INVITED)}
    mails = by_recipient(mail_server.messages)
    assert mails["chair@meetings.test"]["Subject"] == "Thay đổi thời gian, địa điểm họp: Tên mới"
    assert mails["delegate@meetings.test"]["Subject"] == "New time or place: Tên mới"
    for to, mail in mails.items():
        method, event, raw = calendar_part(mail)
        assert method == "REQUEST" and int(event["SEQUENCE"]) == 1 and event["UID"] == first[to]["UID"]
        assert event.decoded("DTSTART") == first[to].decoded("DTSTART") + timedelta(hours=2)
        assert second_parser(raw).begin.datetime == event.decoded("DTSTART")
    mail_server.clear()
    assert as_user("secretary").patch(f"/api/v1/meetings/{meeting_id}", json={"place": "Hội trường B"}).status_code \
        == 200
    deliver(inv_app)
    events = [calendar_part(m)[1] for m in mail_server.messages]
    assert len(events) == len(INVITED) and {int(e["SEQUENCE"]) for e in events} == {2}
    assert {str(e["LOCATION"]) for e in events} == {"Hội trường B"}


def test_withdrawal_cancels_and_publishing_again_invites_above_it(inv_app, draft, as_user, mail_server):  # noqa: F811
    _, meeting_id = draft
    status(as_user, meeting_id, "scheduled")
    deliver(inv_app)
    mail_server.clear()
    status(as_user, meeting_id, "draft")
    assert deliver(inv_app) == {"sent": len(INVITED)}
    mails = by_recipient(mail_server.messages)
    assert mails["delegate2@meetings.test"]["Subject"].startswith("Hủy giấy mời họp: ")
    assert mails["delegate@meetings.test"]["Subject"].startswith("Invitation cancelled: ")
    for mail in mails.values():
        method, event, raw = calendar_part(mail)
        assert method == "CANCEL" and int(event["SEQUENCE"]) == 1 and str(event["STATUS"]) == "CANCELLED"
        assert "/invitations/" not in mail.get_body(("plain",)).get_content()  # nothing to answer any more
        assert second_parser(raw).status == "CANCELLED"
    mail_server.clear()
    status(as_user, meeting_id, "scheduled")
    deliver(inv_app)
    events = [calendar_part(m) for m in mail_server.messages]
    assert len(events) == len(INVITED) and {(m, int(e["SEQUENCE"])) for m, e, _ in events} == {("REQUEST", 2)}
    # A repeated signal sends nothing twice (dedupe keys name the meeting, the person and the SEQUENCE).
    from meetings.notifications import invitations

    with inv_app.test_request_context():
        meeting = _meeting(meeting_id)
        entry = db.session.get(MeetingCalendar, meeting_id)
        entry.sequence -= 1  # as if the publication were received again
        entry.active = False
        invitations.publish(db.session, meeting, None)
        db.session.commit()
    assert deliver(inv_app) == {}


def test_added_participant_is_invited_removed_one_gets_a_cancellation(inv_app, draft, as_user,  # noqa: F811
                                                                      mail_server):  # noqa: F811
    world, meeting_id = draft
    status(as_user, meeting_id, "scheduled")
    deliver(inv_app)
    mail_server.clear()
    r = as_user("secretary").post(f"/api/v1/meetings/{meeting_id}/participants",
                                  json={"user_id": world.outsider.id, "role": "delegate"})
    assert r.status_code == 201
    deliver(inv_app)
    (mail,) = mail_server.messages
    assert mail["To"] == "outsider@meetings.test" and calendar_part(mail)[0] == "REQUEST"
    mail_server.clear()
    pid = db.session.scalar(select(Participant.id).where(Participant.meeting_id == meeting_id,
                                                         Participant.user_id == world.delegate2.id))
    assert as_user("secretary").delete(f"/api/v1/meetings/{meeting_id}/participants/{pid}").status_code == 204
    deliver(inv_app)
    (mail,) = mail_server.messages
    method, event, _ = calendar_part(mail)
    assert mail["To"] == "delegate2@meetings.test" and method == "CANCEL" and int(event["SEQUENCE"]) == 1
    assert "không còn trong thành phần" in mail.get_body(("plain",)).get_content()
    mail_server.clear()
    r = as_user("secretary").post(f"/api/v1/meetings/{meeting_id}/participants",
                                  json={"user_id": world.delegate2.id, "role": "delegate"})
    assert r.status_code == 201
    deliver(inv_app)
    (mail,) = mail_server.messages
    method, event, _ = calendar_part(mail)
    assert (mail["To"], method, int(event["SEQUENCE"])) == ("delegate2@meetings.test", "REQUEST", 2)


def test_a_refused_change_queues_nothing(inv_app, draft, as_user, mail_server):  # noqa: F811
    _, meeting_id = draft
    # The delegate may not publish: the request fails and nothing waits in the outbox.
    assert as_user("delegate").post(f"/api/v1/meetings/{meeting_id}/status",
                                    json={"status": "scheduled"}).status_code == 404
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_users_without_an_address_are_invited_but_not_mailed(inv_app, draft, as_user, mail_server):  # noqa: F811
    world, meeting_id = draft
    db.session.get(User, world.observer.id).email = None
    db.session.commit()
    status(as_user, meeting_id, "scheduled")
    assert deliver(inv_app) == {"sent": len(INVITED) - 1}
    body = as_user("secretary").get(f"/api/v1/meetings/{meeting_id}/invitations").get_json()
    observer = next(r for r in body["invitations"] if r["user_id"] == world.observer.id)
    assert observer["invited"] is True and observer["has_email"] is False


def test_a_confidential_meetings_agenda_stays_out_of_the_email(inv_app, draft, as_user, mail_server):  # noqa: F811
    _, meeting_id = draft
    db.session.get(Meeting, meeting_id).confidentiality = "confidential"
    db.session.commit()
    status(as_user, meeting_id, "scheduled")
    deliver(inv_app)
    for mail in mail_server.messages:
        text, html = mail.get_body(("plain",)).get_content(), mail.get_body(("html",)).get_content()
        _, event, _ = calendar_part(mail)
        assert "Nội dung dự thảo" not in text + html + str(event["DESCRIPTION"])
        assert "/invitations/" in text  # still answerable
