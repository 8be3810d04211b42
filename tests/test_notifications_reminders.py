"""Reminders with a movable clock: the periodic task is called with given times.

The meeting starts at START (08:00 in Hà Nội); the default offsets are a day and an hour.
E-mails are delivered in-process to aiosmtpd (the consumer's own function) where the content
matters; tests/test_notifications_consumer.py runs the real consumer.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from meetings.bodies.models import Meeting
from meetings.core.extensions import db
from meetings.notifications import reminders, settings
from meetings.notifications.invitation_models import Invitation
from meetings.notifications.models import PushSubscription
from meetings.notifications.settings_models import BodyNotificationSettings, UserNotificationSettings
from meetings.voting.models import BallotCast, Poll, Proxy
from tests.mail_server import mail_server  # noqa: F401  (fixture)
from tests.notification_helpers import (
    START,
    deliver,
    lines,
    minutes,
    note_app,  # noqa: F401  (fixture)
    outbox_rows,
    people,  # noqa: F401  (fixture)
    recipients,
    tick,
)
from tests.sms_gateway import sms_gateway  # noqa: F401  (fixture)

PARTICIPANTS = ["chair", "delegate", "delegate2", "observer", "secretary"]


def test_the_day_before_and_the_hour_before_each_fire_once(note_app, people, mail_server):  # noqa: F811
    assert tick(note_app, START - minutes(1441))["meeting"] == 0
    assert tick(note_app, START - minutes(1440))["meeting"] == 5
    assert tick(note_app, START - minutes(1439))["meeting"] == 0  # the next minute: nothing again
    assert tick(note_app, START - minutes(61))["meeting"] == 0
    assert tick(note_app, START - minutes(60))["meeting"] == 5
    assert tick(note_app, START - minutes(30))["meeting"] == 0
    assert tick(note_app, START + minutes(1))["meeting"] == 0
    assert deliver(note_app) == {"sent": 10}
    mails = mail_server.messages
    assert recipients(mails) == sorted(PARTICIPANTS * 2)
    vi = [m for m in mails if m["To"].addresses[0].username == "chair"]
    en = [m for m in mails if m["To"].addresses[0].username == "delegate"]
    assert {m["Subject"] for m in vi} == {"Nhắc lịch họp: Phiên họp thường kỳ tháng 12"}
    assert {m["Subject"] for m in en} == {"Reminder: Phiên họp thường kỳ tháng 12"}
    bodies = sorted(m.get_body(("plain",)).get_content() for m in vi)
    assert "08:00, Thứ Năm ngày 10/01/2030 (GMT+7)" in bodies[0] and "(còn 1 ngày)" in "".join(bodies)
    assert "(còn 1 giờ)" in "".join(bodies) and "https://hop.example.vn/meetings/" in bodies[0]
    assert "(in 1 hour)" in "".join(m.get_body(("plain",)).get_content() for m in en)
    assert "Phòng họp số 1" in vi[0].get_body(("html",)).get_content()
    # The in-app list of each participant has both.
    chair = people.users["chair"]
    assert [n.title for n in lines(chair.id)] == ["Nhắc lịch họp: Phiên họp thường kỳ tháng 12"] * 2


def test_a_fired_reminder_is_passed_over_by_the_next_tick_without_composing(note_app, people, monkeypatch):  # noqa: F811
    """The mark, not only the dedupe keys: a second tick (or a second consumer) composes nothing."""
    from meetings.notifications import dispatch

    calls = []
    real = dispatch.send
    monkeypatch.setattr(dispatch, "send", lambda *a, **k: calls.append(a[1].id) or real(*a, **k))
    tick(note_app, START - minutes(60))
    tick(note_app, START - minutes(59))
    tick(note_app, START - minutes(58))
    assert len(calls) == 5
    with note_app.app_context():
        from meetings.notifications.inbox_models import ReminderMark

        assert [m.key.split(":")[:3] for m in db.session.scalars(select(ReminderMark))] == [
            ["meeting", str(people.meeting.id), "60"]]


def test_a_late_tick_sends_only_the_nearest_reminder_and_none_too_late(note_app, people):  # noqa: F811
    # The consumer was down from the day before until 70 minutes before: the day-before is too late now.
    assert tick(note_app, START - minutes(70))["meeting"] == 0
    # Published 40 minutes before the start: both offsets passed, only the hour's goes, and once.
    assert tick(note_app, START - minutes(40))["meeting"] == 5
    assert tick(note_app, START - minutes(39))["meeting"] == 0
    assert {r.meta["offset"] for r in outbox_rows()} == {60}
    # 31 minutes late for a 60-minute reminder is more than half of it: not sent.
    with note_app.app_context():
        assert reminders.due_offset([1440, 60], START, START - minutes(29)) is None
        assert reminders.due_offset([1440, 60], START, START - minutes(31)) == 60


def test_a_rescheduled_meeting_is_reminded_again_for_its_new_time(note_app, people):  # noqa: F811
    assert tick(note_app, START - minutes(60))["meeting"] == 5
    meeting = db.session.get(Meeting, people.meeting.id)
    meeting.starts_at = START + timedelta(hours=3)
    db.session.commit()
    assert tick(note_app, START - minutes(59))["meeting"] == 0
    assert tick(note_app, START + timedelta(hours=3) - minutes(60))["meeting"] == 5
    assert len(outbox_rows(channel="email")) == 10


def test_who_is_not_reminded_declined_proxy_just_invited_and_drafts(note_app, people):  # noqa: F811
    meeting_id = people.meeting.id
    u = people.users
    for name, reply, created in (("delegate", "decline", START - minutes(2000)),
                                 ("delegate2", "proxy", START - minutes(2000)),
                                 ("observer", "pending", START - minutes(50)),  # invited after the hour's time
                                 ("chair", "attend", START - minutes(2000))):
        db.session.add(Invitation(meeting_id=meeting_id, user_id=u[name].id, sequence=0, reply=reply,
                                  token_nonce=name, reply_token_hash=name * 3, created_at=created))
    db.session.commit()
    assert tick(note_app, START - minutes(45))["meeting"] == 2
    assert sorted(r.address for r in outbox_rows()) == ["chair@meetings.test", "secretary@meetings.test"]
    # A meeting withdrawn to draft, or already running, is not reminded.
    meeting = db.session.get(Meeting, meeting_id)
    meeting.status = "draft"
    meeting.starts_at = START + timedelta(days=1)
    db.session.commit()
    assert tick(note_app, START + timedelta(days=1) - minutes(60))["meeting"] == 0


def test_body_offsets_and_channels_user_channels(note_app, people):  # noqa: F811
    u = people.users
    db.session.add(BodyNotificationSettings(body_id=people.body.id, reminder_offsets=[120], deadline_offsets={},
                                            channels={"reminder": ["email", "inapp"]}))
    db.session.add(UserNotificationSettings(user_id=u["chair"].id, email=False, sms=True, push=True, inapp=True))
    db.session.add(UserNotificationSettings(user_id=u["delegate"].id, email=True, sms=True, push=True, inapp=False))
    db.session.commit()
    assert tick(note_app, START - minutes(1440))["meeting"] == 0  # not one of the body's times
    assert tick(note_app, START - minutes(120))["meeting"] == 5
    assert tick(note_app, START - minutes(60))["meeting"] == 0
    emails = {r.address for r in outbox_rows(channel="email")}
    assert "chair@meetings.test" not in emails and "delegate@meetings.test" in emails
    assert len(emails) == 4
    assert lines(u["chair"].id) and not lines(u["delegate"].id)
    with note_app.app_context():
        assert settings.body_settings(db.session, people.body.id)["reminder_offsets"] == [120]


def test_sms_through_the_gateway_and_quiet_hours_hold_sms_and_push(note_app, people, sms_gateway):  # noqa: F811
    note_app.config.update(SMS_GATEWAY_URL=sms_gateway.url + "/send", NOTIFY_SMS_UNACCENTED=True,
                           SMS_GATEWAY_BODY='{"to": "{phone}", "text": "{text}"}')
    u = people.users
    for name, phone in (("chair", "0912000001"), ("delegate2", "0912000002")):
        db.session.merge(u[name]).phone = phone
    db.session.add(PushSubscription(user_id=u["delegate2"].id, endpoint="https://push.example/abc", p256dh="k",
                                    auth="a"))
    # 22:00 to 06:30 in Hà Nội; the hour-before of an 08:00 meeting at 07:00 is outside, so move the meeting
    # to 06:00 (23:00 UTC the day before): its hour-before falls at 05:00, inside the quiet hours.
    db.session.add(UserNotificationSettings(user_id=u["delegate2"].id, email=True, sms=True, push=True, inapp=True,
                                            quiet_from="22:00", quiet_until="06:30"))
    meeting = db.session.merge(people.meeting)
    meeting.starts_at = START - timedelta(hours=2)
    db.session.commit()
    now = meeting.starts_at - minutes(60)
    assert tick(note_app, now)["meeting"] == 5
    sms = {r.address: r for r in outbox_rows(channel="sms")}
    assert set(sms) == {"0912000001", "0912000002"}
    assert sms["0912000001"].text.startswith("Nhac lich hop: Phien hop thuong ky thang 12.")
    held = [sms["0912000002"], *outbox_rows(channel="push")]
    assert len(held) == 2 and {r.next_attempt_at for r in held} == {START - timedelta(hours=1, minutes=30)}  # 06:30
    assert sms["0912000001"].next_attempt_at < START - timedelta(hours=3)  # chair: no quiet hours, due at once
    deliver(note_app)
    assert [r.json["to"] for r in sms_gateway.requests] == ["0912000001"]  # delegate2's waits for 06:30
    assert "Phien hop thuong ky" in sms_gateway.requests[0].json["text"]


def test_poll_deadline_reminds_who_has_not_voted(note_app, people):  # noqa: F811
    u = people.users
    meeting_id = people.meeting.id
    closes = START + minutes(30)
    poll = Poll(meeting_id=meeting_id, title="Thông qua nghị quyết", status="open", opened_at=closes - minutes(10),
                closes_at=closes, time_limit_seconds=600)
    short = Poll(meeting_id=meeting_id, title="Biểu quyết nhanh", status="open", opened_at=closes - minutes(1.5),
                 closes_at=closes, time_limit_seconds=90)
    db.session.add_all([poll, short])
    db.session.flush()
    db.session.add(BallotCast(poll_id=poll.id, voter_id=u["delegate"].id, cast_by_id=u["delegate"].id))
    db.session.add(Proxy(meeting_id=meeting_id, grantor_id=u["delegate2"].id, holder_id=u["chair"].id,
                         active_grantor_id=u["delegate2"].id))
    db.session.commit()
    assert tick(note_app, closes - minutes(3))["deadline.poll"] == 0
    # Two minutes before: secretary and chair (for delegate2 too); not delegate (voted), not the observer;
    # the 90-second poll opened after its reminder's time and is left alone.
    assert tick(note_app, closes - minutes(2))["deadline.poll"] == 2
    assert tick(note_app, closes - minutes(1))["deadline.poll"] == 0
    got = lines()
    assert sorted(n.user_id for n in got) == sorted([u["secretary"].id, u["chair"].id])
    vi = next(n for n in got if n.user_id == u["chair"].id)
    assert vi.title == "Sắp hết thời gian biểu quyết: Thông qua nghị quyết" and "còn 2 phút" in vi.body
    assert vi.kind == "deadline.poll" and vi.url == f"/meetings/{meeting_id}/room"
    assert not outbox_rows(channel="email")  # a poll's deadline: push and in-app by default
    # A closed poll is no deadline any more.
    db.session.get(Poll, poll.id).status = "closed"
    db.session.commit()
    assert tick(note_app, closes - minutes(0.5))["deadline.poll"] == 0


def test_a_second_source_plugs_in(note_app, people):  # noqa: F811
    """Any domain plugs a source in (as meetings/opinions/reminders.py does): offsets, words, channels."""
    from meetings.notifications import deadlines

    before = set(deadlines.SOURCES)

    meeting = db.session.merge(people.meeting)
    u = people.users

    def upcoming(session, now, until):
        closes = START + timedelta(days=2)
        return [deadlines.Deadline("sample", 7, meeting, "Góp ý dự thảo", closes, START - timedelta(days=5),
                                   f"/meetings/{meeting.id}")] if now < closes <= until else []

    source = deadlines.DeadlineSource(
        name="sample", upcoming=upcoming, pending=lambda session, d: {u["delegate2"].id},
        offsets=(1440,), channels=("email", "inapp"),
        words={"vi": {"title": "Sắp hết hạn góp ý: {title}", "body": "Hạn {when}, còn {left}."},
               "en": {"title": "Opinion due: {title}", "body": "Due {when}, in {left}."}})
    deadlines.register(source)
    try:
        assert tick(note_app, START + timedelta(days=1))["deadline.sample"] == 1
        assert [r.subject for r in outbox_rows(channel="email")] == ["Sắp hết hạn góp ý: Góp ý dự thảo"]
        with note_app.app_context():
            assert settings.body_settings(db.session, people.body.id)["deadline_offsets"]["sample"] == [1440]
    finally:
        deadlines.SOURCES.pop("sample")
        settings.DEADLINE_DEFAULTS.pop("sample")
        settings.GROUPS.pop("deadline.sample")
    assert set(deadlines.SOURCES) == before
