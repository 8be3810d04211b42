"""The per-user calendar feed (secret token, same UID and SEQUENCE as the e-mails), and the demo
meeting published: every participant gets an invitation that both parsers accept."""
from __future__ import annotations

from datetime import timedelta

import icalendar
import ics
from sqlalchemy import select

from meetings.accounts.models import User
from meetings.bodies.models import Meeting, Participant
from meetings.core.extensions import db
from meetings.demo import MEETING_TITLE
from meetings.notifications.invitation_models import CalendarFeed
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


def _feed_path(as_user, name: str) -> str:
    r = as_user(name).post("/api/v1/me/calendar-feed")
    assert r.status_code == 200
    url = r.get_json()["url"]
    assert url.startswith(f"{PUBLIC_URL}/calendar/") and url.endswith(".ics")
    return url.removeprefix(PUBLIC_URL)


def _events(client, path: str) -> dict[str, icalendar.Event]:
    r = client.get(path)
    assert r.status_code == 200 and r.mimetype == "text/calendar"
    text = r.get_data(as_text=True)
    assert {e.uid for e in ics.Calendar(text).events} == {  # the second parser reads the same events
        str(e["UID"]) for e in icalendar.Calendar.from_ical(text).walk("VEVENT")}
    return {str(e["SUMMARY"]): e for e in icalendar.Calendar.from_ical(text).walk("VEVENT")}


def test_the_feed_carries_the_emails_uid_and_sequence(inv_app, draft, as_user, mail_server):  # noqa: F811
    world, meeting_id = draft
    status(as_user, meeting_id, "scheduled")
    meeting = db.session.get(Meeting, meeting_id)
    later = (meeting.starts_at + timedelta(days=1)).isoformat()
    as_user("secretary").patch(f"/api/v1/meetings/{meeting_id}", json={"starts_at": later, "place": "Phòng 3"})
    deliver(inv_app)
    _, mailed, _ = calendar_part(by_recipient(mail_server.messages)["delegate2@meetings.test"])
    path = _feed_path(as_user, "delegate2")
    phone = inv_app.test_client()  # a calendar program: no login, only the secret address
    events = _events(phone, path)
    title = db.session.get(Meeting, meeting_id).title
    # The world's scheduled meeting (published by the fixture outside any application: no e-mail, no calendar
    # row) is in it too, with a UID that stays the same.
    assert set(events) == {title, world.meeting.title}
    event = events[title]
    assert (str(event["UID"]), int(event["SEQUENCE"])) == (str(mailed["UID"]), int(mailed["SEQUENCE"])) \
        and int(event["SEQUENCE"]) == 1
    assert str(event["LOCATION"]) == "Phòng 3" and event["ATTENDEE"].params["PARTSTAT"] == "NEEDS-ACTION"
    assert str(_events(phone, path)[world.meeting.title]["UID"]) == str(events[world.meeting.title]["UID"])
    # Withdrawn (draft again): no longer in the feed; the outsider's feed has nothing.
    status(as_user, meeting_id, "draft")
    assert set(_events(phone, path)) == {world.meeting.title}
    assert _events(phone, _feed_path(as_user, "outsider")) == {}


def test_a_wrong_or_replaced_token_is_not_found(inv_app, draft, as_user):  # noqa: F811
    old = _feed_path(as_user, "chair")
    phone = inv_app.test_client()
    assert phone.get(old).status_code == 200
    assert phone.get(old[:-6] + "xx.ics").status_code == 404
    assert phone.get("/calendar/.ics").status_code == 404
    new = _feed_path(as_user, "chair")  # rotated: the old address ends
    assert new != old and phone.get(old).status_code == 404 and phone.get(new).status_code == 200
    db.session.rollback()
    stored = db.session.scalars(select(CalendarFeed.token_hash)).all()
    assert len(stored) == 1 and new.split("/")[-1].removesuffix(".ics") not in stored[0]  # only a hash is kept
    db.session.get(User, draft[0].chair.id).active = False
    db.session.commit()
    assert phone.get(new).status_code == 404  # a deactivated account's feed ends
    assert as_user(None).post("/api/v1/me/calendar-feed").status_code == 401


def test_the_demo_meeting_published_invites_each_participant(inv_app, as_user, mail_server):  # noqa: F811
    result = inv_app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    meeting = db.session.scalar(select(Meeting).where(Meeting.title == MEETING_TITLE))
    people = db.session.scalars(select(User).join(Participant, Participant.user_id == User.id)
                                .where(Participant.meeting_id == meeting.id)).all()
    for user in people:  # the demo's users have no e-mail addresses
        user.email = f"{user.username}@demo.test"
    db.session.commit()
    secretary_token = _token(inv_app, "secretary")
    client = inv_app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secretary_token}"
    # The demo loads its meeting already scheduled: the secretariat withdraws and publishes it.
    for to in ("draft", "scheduled"):
        assert client.post(f"/api/v1/meetings/{meeting.id}/status", json={"status": to}).status_code == 200
    assert deliver(inv_app) == {"sent": len(people)}
    mails = by_recipient(mail_server.messages)
    assert sorted(mails) == sorted(u.email for u in people)
    uids = set()
    for mail in mails.values():
        method, event, raw = calendar_part(mail)
        assert method == "REQUEST" and str(event["SUMMARY"]) == MEETING_TITLE
        other = second_parser(raw)
        assert other.uid == str(event["UID"]) and other.begin.datetime == event.decoded("DTSTART")
        uids.add(other.uid)
        assert "Nội dung" in mail.get_body(("plain",)).get_content()
    assert len(uids) == 1


def _token(app, username: str) -> str:
    from meetings.accounts.service import issue_token

    user = db.session.scalar(select(User).where(User.username == username))
    clear, _ = issue_token(db.session, user, 1)
    db.session.commit()
    return clear
