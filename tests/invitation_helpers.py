"""Shared by the invitation tests: an app that sends to aiosmtpd, addresses for the world's users,
publishing through REST, delivering in-process, and reading the e-mails' calendar parts."""
from __future__ import annotations

import re

import icalendar
import ics
import pytest
from sqlalchemy import select

from meetings.core.extensions import db
from meetings.notifications import delivery
from meetings.notifications.invitation_models import Invitation
from tests import factories

PUBLIC_URL = "https://hop.example.vn"
# Who reads English in the test world; everyone else has no locale (Vietnamese).
ENGLISH = ("delegate",)


def addresses(world) -> None:
    """Every user of the world gets ``name@meetings.test``; ENGLISH users read English."""
    for name, user in world.users.items():
        user = db.session.merge(user)
        user.email = f"{name}@meetings.test"
        user.locale = "en" if name in ENGLISH else None
    db.session.commit()


@pytest.fixture
def inv_app(app, mail_server):
    app.config.update({**mail_server.smtp_settings, "PUBLIC_URL": PUBLIC_URL})
    return app


@pytest.fixture
def draft(inv_app, world):
    """The world with addresses and a draft meeting (same participants, one item), not yet published."""
    addresses(world)
    meeting = factories.build_draft_meeting(db.session, world)
    return world, meeting.id


def deliver(app) -> dict[str, int]:
    """Deliver every due outbox row now, in this process (the consumer's own function)."""
    with app.app_context():
        return delivery.deliver_due()


def status(as_user, meeting_id: int, to: str, who: str = "secretary"):
    response = as_user(who).post(f"/api/v1/meetings/{meeting_id}/status", json={"status": to})
    assert response.status_code == 200, response.get_json()
    return response


def calendar_part(mail):
    """The text/calendar alternative of an e-mail: (its method parameter, the icalendar VEVENT, the raw text)."""
    (part,) = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    text = part.get_content()
    cal = icalendar.Calendar.from_ical(text)
    (event,) = cal.walk("VEVENT")
    assert str(cal["METHOD"]) == part.get_param("method")
    return part.get_param("method"), event, text


def second_parser(text: str):
    """The event as the ``ics`` package reads it (an independent parser)."""
    (event,) = ics.Calendar(text).events
    return event


def by_recipient(messages) -> dict[str, object]:
    return {m["To"]: m for m in messages}


def token_of(app, link_text: str) -> str:
    match = re.search(r"/invitations/([A-Za-z0-9_-]+)", link_text)
    assert match, link_text
    return match.group(1)


def invitation(meeting_id: int, user_id: int) -> Invitation:
    db.session.rollback()
    return db.session.scalar(select(Invitation).where(Invitation.meeting_id == meeting_id,
                                                      Invitation.user_id == user_id))
