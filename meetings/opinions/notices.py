"""What the opinion forms tell people: the form sent, the report published (through the outbox),
and the live tally to the secretariat (a private socket notice to each office member's devices).

The socket rooms are per meeting and per user (``meetings.platform.realtime.rooms``); a form
belongs to a body, so ``opinion.tally`` goes to the ``user:<id>`` room of every secretariat
member of the body and of the form's signer, after commit (docs/realtime.md, "Written opinions").
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.notifications import dispatch, settings
from meetings.notifications.texts import local_time
from meetings.opinions import policy
from meetings.opinions.models import OpinionForm, OpinionRecipient
from meetings.platform.realtime import eventlog

GROUP = "opinion"
settings.register_group(GROUP, ("email", "push", "inapp"))

TEXTS = {
    "vi": {
        "opened.title": "Phiếu lấy ý kiến: {title}",
        "opened.body": "Đề nghị đồng chí cho ý kiến về “{title}” trước {when}.",
        "published.title": "Báo cáo tổng hợp ý kiến: {title}",
        "published.body": "Báo cáo tổng hợp ý kiến về “{title}” đã được ký và phát hành.",
        "deadline.title": "Sắp hết hạn góp ý: {title}",
        "deadline.body": "Phiếu lấy ý kiến “{title}” hết hạn lúc {when} (còn {left}); đồng chí chưa trả lời.",
        "form": "Phiếu lấy ý kiến", "deadline": "Hạn trả lời",
    },
    "en": {
        "opened.title": "Written opinion requested: {title}",
        "opened.body": "Please give your opinion on “{title}” before {when}.",
        "published.title": "Opinion report: {title}",
        "published.body": "The report on the opinions about “{title}” has been signed and published.",
        "deadline.title": "Opinion deadline soon: {title}",
        "deadline.body": "The opinion form “{title}” closes at {when} ({left} left); you have not answered yet.",
        "form": "Opinion form", "deadline": "Deadline",
    },
}


def texts(locale: str | None) -> dict[str, str]:
    return TEXTS.get(locale or "vi", TEXTS["vi"])


def form_url(form: OpinionForm) -> str:
    return f"/opinions/{form.id}"


def _recipients(session: Session, form: OpinionForm) -> list[User]:
    return list(session.scalars(select(User).join(OpinionRecipient, OpinionRecipient.user_id == User.id).where(
        OpinionRecipient.form_id == form.id, User.active.is_(True)).order_by(User.id)))


def _tell(session: Session, form: OpinionForm, what: str) -> int:
    tz = current_app.config.get("TIMEZONE") or "Asia/Ho_Chi_Minh"
    reached = 0
    for user in _recipients(session, form):
        t = texts(user.locale)
        when = local_time(form.closes_at, user.locale, tz)
        notice = dispatch.Notice(
            kind=f"opinion.{what}", group=GROUP, url=form_url(form),
            title=t[f"{what}.title"].format(title=form.title),
            body=t[f"{what}.body"].format(title=form.title, when=when),
            details=((t["form"], form.title), (t["deadline"], when)))
        if dispatch.send(session, user, notice, dedupe_key=f"opinion:{form.id}:{what}:{user.id}", body_id=form.body_id,
                         meta={"form_id": form.id}):
            reached += 1
    return reached


def form_opened(session: Session, form: OpinionForm) -> int:
    """Tell every recipient the form is waiting for them (e-mail, in-app, push per their settings)."""
    return _tell(session, form, "opened")


def report_published(session: Session, form: OpinionForm) -> int:
    """Tell every recipient the signed report is out."""
    return _tell(session, form, "published")


def tally_changed(session: Session, form: OpinionForm, figures: dict) -> None:
    """The live tally, after commit, to the office's and the signer's devices (small: counts only)."""
    payload = {"form_id": form.id, "status": form.status, "answered": figures["answered"],
               "recipients": figures["recipients"],
               "questions": [{"question_id": q["question_id"], "outcome": q["outcome"], "required": q["required"],
                              "counts": {o["id"]: o["count"] for o in q["options"]}} for q in figures["questions"]]}
    # The creator follows the form (an administrator who drafted it is in no secretariat) while they are
    # still its office: one who has left the secretariat since reads no tally (``policy.can_see_answers``).
    creator = session.get(User, form.created_by_id) if form.created_by_id else None
    watchers = policy.office_ids(session, form.body_id) | ({form.signer_id} if form.signer_id else set())
    if creator is not None and policy.is_office(session, form.body_id, creator):
        watchers.add(creator.id)
    for uid in sorted(watchers):
        eventlog.notify(session, uid, "opinion.tally", payload)
