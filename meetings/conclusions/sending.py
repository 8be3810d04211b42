"""Sending a published notice: one e-mail per recipient through the outbox, with the signed PDF attached.

Recipients: the meeting's participants (unless the secretariat turned that
off), the office e-mail of each recipient unit (``Unit.email``), and the extra
addresses typed in. An address is written once whoever it comes from; the
dedupe key (notice and address) makes a second publish send nothing twice.
Units and extra addresses are not users: their outbox rows carry no user.
"""
from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.bodies.models import Meeting
from meetings.bodies.unit_models import Unit
from meetings.conclusions.models import ConclusionNotice
from meetings.notifications import outbox
from meetings.notifications.calendar import base_url

KIND = "conclusions.notice"


def recipients_of(session: Session, notice: ConclusionNotice, meeting: Meeting) -> list[tuple[Any, str]]:
    """(addressee, source) pairs: users for participants, address-only stand-ins for units and extra e-mails."""
    seen: set[str] = set()
    out: list[tuple[Any, str]] = []

    def add(who: Any, source: str) -> None:
        address = (who.email or "").strip().lower()
        if address and address not in seen:
            seen.add(address)
            out.append((who, source))

    if notice.send_to_participants:
        for p in sorted(meeting.participants, key=lambda p: p.id):
            add(p.user, "participant")
    if notice.recipient_unit_ids:
        for unit in session.execute(select(Unit).where(Unit.id.in_(notice.recipient_unit_ids))
                                    .order_by(Unit.id)).scalars():
            if unit.email:
                add(SimpleNamespace(id=None, email=unit.email, full_name=unit.name), "unit")
    for address in notice.extra_emails or []:
        add(SimpleNamespace(id=None, email=address, full_name=address), "email")
    return out


def _text(notice: ConclusionNotice, meeting: Meeting, name: str) -> str:
    link = f"{base_url()}/meetings/{meeting.id}/conclusions"
    return "\n".join([
        f"Kính gửi: {name}", "",
        f"{meeting.body.name} gửi Thông báo số {notice.number}: {notice.subject}.",
        "Văn bản đã ký số được đính kèm thư này (PDF).", "",
        f"Xem trực tuyến: {link}", "",
        "-- ", "Thư gửi tự động từ hệ thống phòng họp không giấy.", ""])


def send_notice(session: Session, notice: ConclusionNotice, meeting: Meeting, pdf: bytes,
                config: Mapping[str, Any]) -> int:
    """Queue the e-mails of a published notice; returns how many were written."""
    part = outbox.attachment(f"thong-bao-{(notice.number or str(notice.id)).replace('/', '-')}.pdf",
                             "application/pdf", pdf)
    sent = 0
    for who, source in recipients_of(session, notice, meeting):
        row = outbox.queue_email(
            session, user=who, kind=KIND, dedupe_key=f"conclusions:{notice.id}:{who.email.strip().lower()}",
            subject=f"Thông báo số {notice.number}: {notice.subject}"[:300],
            text=_text(notice, meeting, who.full_name), attachments=[part],
            meta={"meeting_id": meeting.id, "notice_id": notice.id, "source": source})
        sent += row is not None
    return sent
