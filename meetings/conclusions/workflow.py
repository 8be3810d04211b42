"""The notice's workflow: draft → ready to sign → signed → published (and sent).

*Ready* takes the number from the body's register ("Số: 12/TB-UBND", as the
minutes take theirs), fixes the date line and the signer, composes the final
PDF with its one empty signature field and stores it. *Signed*: the designated
signer's key signs that field (``meetings.minutes.papers``). *Published*: the
signed file goes to the meeting's participants and the recipients (Nơi nhận) by
e-mail through the outbox (``meetings.conclusions.sending``).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import BodyMember, Meeting
from meetings.bodies.sittings import sitting_periods
from meetings.bodies.unit_models import Unit
from meetings.conclusions import policy, sending
from meetings.conclusions.compose import SIGNATURE, NoticeRecord, compose_notice
from meetings.conclusions.models import ConclusionNotice, ConclusionRegister
from meetings.conclusions.service import items_of, meeting_of, status_event
from meetings.conclusions.settings import settings_of
from meetings.core.db import utcnow
from meetings.core.errors import Conflict
from meetings.minutes import files, numbering, papers
from meetings.platform.audit import service as audit

FIELD = "NguoiKy"  # the notice's one signature field
KIND = "TB"        # Decree 30: the abbreviation of "Thông báo"


@dataclass
class NoticePdf:
    """The PDF to send: a draft rendered now (``data``), or the stored file (``path``)."""

    download_name: str
    data: bytes | None = None
    path: Path | None = None
    sha256: str | None = None


def _tz(config: Mapping[str, Any]) -> str:
    return config.get("TIMEZONE") or "Asia/Ho_Chi_Minh"


LEVELS = ("thành phố", "thị xã", "thị trấn", "tỉnh", "huyện", "quận", "phường", "xã")


def collective_name(name: str, place: str | None) -> str:
    """The collective signed for after "TM.": Decree 30 writes "TM. ỦY BAN NHÂN DÂN", the body's name
    without its level and place ("Ủy ban nhân dân tỉnh Quảng Nam" → "ỦY BAN NHÂN DÂN")."""
    text = name.strip()
    if place and text.lower().endswith(place.strip().lower()):
        rest = text[: len(text) - len(place.strip())].rstrip()
        level = next((lv for lv in LEVELS if rest.lower().endswith(" " + lv)), None)
        if level and rest[: len(rest) - len(level)].strip():
            text = rest[: len(rest) - len(level)].rstrip()
    return text.upper()


def _signer(session: Session, notice: ConclusionNotice, meeting: Meeting) -> tuple[int, str, list[str]]:
    """Who signs, the stamp's role line and the signature block's lines, from the body's settings."""
    s = settings_of(session, meeting.body)
    title = s.chair_title
    if s.signing_mode == "chief_of_office":
        if not s.office_chief_id:
            raise Conflict("Name the Chánh Văn phòng in the body's notice settings.", code="incomplete_settings",
                           details={"missing": ["office_chief_id"]})
        return (s.office_chief_id, f"TL. {title} - {s.office_chief_title}",
                [f"TL. {title.upper()}", s.office_chief_title.upper()])
    chair = next((p for p in meeting.participants if p.role == "chair"), None)
    if chair is None:
        raise Conflict("The meeting has no chair to sign its notice.", code="no_signer")
    if s.sign_head == "TM.":
        return chair.user_id, title, [f"TM. {collective_name(meeting.body.name, meeting.body.place_name)}",
                                      title.upper()]
    if s.sign_head == "KT.":
        position = session.execute(select(BodyMember.position).where(
            BodyMember.body_id == meeting.body_id, BodyMember.user_id == chair.user_id)).scalar_one_or_none()
        own = position or f"Phó {title[:1].lower()}{title[1:]}"
        return chair.user_id, f"KT. {title} - {own}", [f"KT. {title.upper()}", own.upper()]
    return chair.user_id, title, [title.upper()]


def recipient_lines(session: Session, notice: ConclusionNotice) -> list[str]:
    """The printed Nơi nhận: each recipient unit, then the free lines; "- Lưu: VT." when none is given."""
    units = session.execute(select(Unit).where(Unit.id.in_(notice.recipient_unit_ids or [-1]))
                            .order_by(Unit.name)).scalars()
    lines = [f"- {u.name};" for u in units] + list(notice.recipients or [])
    if not any(line.lstrip("- ").startswith("Lưu") for line in lines):
        lines.append("- Lưu: VT.")
    return lines


def record_of(session: Session, notice: ConclusionNotice, *, signer_name: str | None = None,
              sign_lines: list[str] | None = None) -> NoticeRecord:
    """What the notice prints, read from the database."""
    meeting = meeting_of(session, notice)
    body = meeting.body
    if sign_lines is None:
        try:
            _, _, sign_lines = _signer(session, notice, meeting)
        except Conflict:
            sign_lines = []
    return NoticeRecord(
        body_name=body.name, parent_name=body.parent_name or None, short_name=body.short_name,
        subject=notice.subject, number=notice.number, place_name=body.place_name, issued_at=notice.issued_at,
        opening_text=notice.opening_text, conclusions=[c.text for c in items_of(notice)],
        recipients=recipient_lines(session, notice), sign_lines=sign_lines, signer_name=signer_name,
        confidentiality=meeting.confidentiality)


def notice_pdf(session: Session, notice: ConclusionNotice, actor: User, config: Mapping[str, Any]) -> NoticePdf:
    """The notice as a PDF: a draft watermarked DỰ THẢO (made fresh, never stored), else the stored file."""
    policy.require_read(session, notice, meeting_of(session, notice), actor)
    name = f"thong-bao-ket-luan-{notice.meeting_id}.pdf"
    if notice.status == "draft":
        return NoticePdf(name, data=compose_notice(record_of(session, notice), draft=True, tz=_tz(config)).pdf)
    return NoticePdf(name, path=files.minutes_file(config["STORAGE_PATH"], notice.sha256), sha256=notice.sha256)


def make_ready(session: Session, notice: ConclusionNotice, actor: User, config: Mapping[str, Any]) -> ConclusionNotice:
    """Lock the content: take the number, fix the signer, compose the PDF with its empty signature field."""
    meeting = meeting_of(session, notice)
    policy.require_prepare(session, notice, meeting, actor)
    if notice.status != "draft":
        raise Conflict("Only a draft can be made ready to sign.", code="not_draft")
    if not meeting.body.place_name:
        raise Conflict("Set the body's place name (the locality of the date line) first.",
                       code="incomplete_settings", details={"missing": ["place_name"]})
    if not notice.items:
        raise Conflict("A notice has at least one conclusion.", code="no_conclusions")
    signer_id, role_title, lines = _signer(session, notice, meeting)
    signer = session.get(User, signer_id)
    notice.issued_at = utcnow()
    if not (notice.number or "").strip():
        periods = sitting_periods(session, meeting.id)
        year = numbering.register_year(periods[0].started_at if periods else None, _tz(config))
        notice.number = numbering.take_number(session, meeting.body, year, register=ConclusionRegister, kind=KIND)
    composed = compose_notice(record_of(session, notice, signer_name=signer.full_name, sign_lines=lines),
                              tz=_tz(config))
    pdf = papers.add_signature_field(composed.pdf, FIELD, composed.boxes[SIGNATURE])
    notice.sha256 = files.store_bytes(config["STORAGE_PATH"], pdf)
    notice.size, notice.page_count, notice.box = len(pdf), composed.pages, composed.boxes[SIGNATURE]
    notice.signer_id, notice.signer_title = signer_id, role_title
    notice.status, notice.updated_at = "ready", utcnow()
    audit.record(session, "conclusion_notice.ready", actor_id=actor.id, object_type="conclusion_notice",
                 object_id=notice.id, meeting_id=notice.meeting_id,
                 details={"number": notice.number, "sha256": notice.sha256, "signer_id": signer_id})
    status_event(session, notice, actor.id)
    return notice


def reopen(session: Session, notice: ConclusionNotice, actor: User) -> ConclusionNotice:
    """Back from ready to draft (not yet signed): the number stays, the composed file is dropped."""
    policy.require_prepare(session, notice, meeting_of(session, notice), actor)
    if notice.status != "ready":
        raise Conflict("Only a notice waiting for its signature can be reopened.", code="not_ready")
    notice.status, notice.sha256, notice.signer_id, notice.updated_at = "draft", None, None, utcnow()
    audit.record(session, "conclusion_notice.reopened", actor_id=actor.id, object_type="conclusion_notice",
                 object_id=notice.id, meeting_id=notice.meeting_id, details={"number": notice.number})
    status_event(session, notice, actor.id)
    return notice


def sign(session: Session, notice: ConclusionNotice, actor: User, config: Mapping[str, Any], *, secret: str,
         key_id: int | None = None) -> ConclusionNotice:
    """The designated signer signs the ready notice with their key; ``secret`` is never stored or logged."""
    meeting = meeting_of(session, notice)
    policy.require_signer(session, notice, meeting, actor)
    if notice.status != "ready":
        code = "not_ready" if notice.status == "draft" else "already_signed"
        raise Conflict("Only a notice ready to sign can be signed." if code == "not_ready"
                       else "This notice is signed already.", code=code)
    pdf = files.minutes_file(config["STORAGE_PATH"], notice.sha256).read_bytes()
    signed = papers.sign_paper(session, config, actor, pdf, secret=secret, field=FIELD,
                               role_title=notice.signer_title or "Chủ tịch", reason="Ký thông báo kết luận",
                               key_id=key_id, certify=True, archival=True, location=meeting.body.place_name)
    files.store_bytes(config["STORAGE_PATH"], signed.data)
    before = notice.sha256
    # Whoever changed the notice meanwhile wins; this signature is refused rather than forking the file.
    changed = session.execute(update(ConclusionNotice).where(
        ConclusionNotice.id == notice.id, ConclusionNotice.status == "ready", ConclusionNotice.sha256 == before)
        .values(status="signed", sha256=signed.sha256, size=signed.size, signed_at=signed.signed_at,
                signed_by_id=actor.id, signer_name=signed.signer_name, key_id=signed.key_id,
                certificate_subject=signed.certificate_subject, updated_at=utcnow()),
        execution_options={"synchronize_session": False}).rowcount
    if changed != 1:
        raise Conflict("The notice changed while you were signing; reload and try again.", code="conflict")
    session.refresh(notice)
    audit.record(session, "conclusion_notice.signed", actor_id=actor.id, object_type="conclusion_notice",
                 object_id=notice.id, meeting_id=notice.meeting_id,
                 details={"sha256": signed.sha256, "key_id": signed.key_id, "role": notice.signer_title})
    status_event(session, notice, actor.id)
    return notice


def publish(session: Session, notice: ConclusionNotice, actor: User, config: Mapping[str, Any]) -> ConclusionNotice:
    """Publish the signed notice: the participants see it, and it is e-mailed (PDF attached) to the recipients."""
    meeting = meeting_of(session, notice)
    policy.require_prepare(session, notice, meeting, actor)
    if notice.status != "signed":
        raise Conflict("Only a signed notice can be published.", code="not_signed")
    notice.status, notice.published_at, notice.updated_at = "published", utcnow(), utcnow()
    pdf = files.minutes_file(config["STORAGE_PATH"], notice.sha256).read_bytes()
    notice.sent_count = sending.send_notice(session, notice, meeting, pdf, config)
    audit.record(session, "conclusion_notice.published", actor_id=actor.id, object_type="conclusion_notice",
                 object_id=notice.id, meeting_id=notice.meeting_id,
                 details={"sha256": notice.sha256, "sent": notice.sent_count})
    status_event(session, notice, actor.id)
    return notice
