"""Shared by the outbox and jobs tests: users with addresses, and the rows of the outbox."""
from __future__ import annotations

from sqlalchemy import select

from meetings.accounts.service import create_user
from meetings.core.extensions import db
from meetings.notifications.models import OutboxMessage
from tests.factories import PASSWORD

ICS = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tests//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n"
       "UID:meeting-1-x@meetings.test\r\nSEQUENCE:0\r\nDTSTAMP:20270101T000000Z\r\n"
       "DTSTART:20270110T020000Z\r\nSUMMARY:Phiên họp\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def person(name: str, *, email: str | None = "auto", phone: str | None = None):
    """A user with an e-mail address (``name@meetings.test`` unless given) and optionally a phone."""
    user = create_user(db.session, name, PASSWORD, f"Người dùng {name}",
                       email=f"{name}@meetings.test" if email == "auto" else email, phone=phone)
    db.session.commit()
    return user


def rows() -> list[OutboxMessage]:
    db.session.rollback()  # a fresh snapshot: SQLite keeps the old one for the whole transaction
    db.session.expire_all()  # (a rollback with no transaction open expires nothing)
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def row(message_id: int) -> OutboxMessage:
    db.session.rollback()  # a fresh snapshot: SQLite keeps the old one for the whole transaction
    db.session.expire_all()  # (a rollback with no transaction open expires nothing)
    return db.session.get(OutboxMessage, message_id)
