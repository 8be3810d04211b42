"""Reading opinion forms as each caller may see them (REST and pages answer the same dicts)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.core.db import utcnow
from meetings.opinions import answering, policy
from meetings.opinions.models import OpinionAnswer, OpinionForm
from meetings.opinions.tally import tally


def report_state(form: OpinionForm) -> str:
    """none → composed → signed → published."""
    if form.published_at:
        return "published"
    if form.report_signed:
        return "signed"
    return "composed" if form.report_sha256 else "none"


def answer_out(a: OpinionAnswer, names: dict[int, str] | None = None) -> dict[str, Any]:
    return {"id": a.id, "form_id": a.form_id, "user_id": a.user_id, "full_name": (names or {}).get(a.user_id),
            "answers": a.answers, "revision": a.revision, "created_at": a.created_at, "updated_at": a.updated_at,
            "signed": a.paper_sha256 is not None, "paper_sha256": a.paper_sha256, "signed_at": a.signed_at,
            "certificate_subject": a.certificate_subject}


def form_out(session: Session, form: OpinionForm, actor: User) -> dict[str, Any]:
    """The form as ``actor`` sees it: settings, questions, attachments, their own answer, what they may do."""
    office = policy.is_office(session, form.body_id, actor)
    mine = answering.own_answer(session, form, actor)
    now = utcnow()
    accepting = form.status == "open" and form.closes_at is not None and now < form.closes_at
    return {
        "id": form.id, "body_id": form.body_id, "meeting_id": form.meeting_id, "title": form.title,
        "explanation": form.explanation, "status": form.status, "closes_at": form.closes_at,
        "allow_change": form.allow_change, "require_signature": form.require_signature,
        "majority_base": form.majority_base, "threshold_numerator": form.threshold_numerator,
        "threshold_denominator": form.threshold_denominator, "threshold_strict": form.threshold_strict,
        "tie_rule": form.tie_rule, "chair_id": form.chair_id, "signer_id": form.signer_id,
        "signer_title": form.signer_title, "number": form.number, "opened_at": form.opened_at,
        "closed_at": form.closed_at, "reported_at": form.reported_at, "published_at": form.published_at,
        "report_state": report_state(form),
        "questions": [{"id": q.id, "position": q.position, "kind": q.kind, "text": q.text, "options": q.options,
                       "min_choices": q.min_choices, "max_choices": q.max_choices} for q in form.questions],
        "attachments": [{"id": a.id, "filename": a.filename, "size": a.size, "page_count": a.page_count,
                         "url": f"/api/v1/opinion-forms/{form.id}/attachments/{a.id}"} for a in form.attachments],
        "recipient_ids": sorted(r.user_id for r in form.recipients) if office else None,
        "my_answer": answer_out(mine) if mine else None,
        "accepting_answers": accepting,
        "can_answer": accepting and policy.is_recipient(session, form, actor)
        and (mine is None or form.allow_change),
        "can_manage": office,
        "can_sign_report": form.signer_id == actor.id and form.status == "reported" and not form.report_signed,
    }


def answers_of(session: Session, form: OpinionForm, actor: User) -> list[dict[str, Any]]:
    """Who answered what (office and signer; recipients once the report is published)."""
    policy.require_see_answers(session, form, actor)
    rows = list(session.scalars(select(OpinionAnswer).where(OpinionAnswer.form_id == form.id)
                                .order_by(OpinionAnswer.user_id)))
    names = {u.id: u.full_name for u in session.scalars(select(User).where(User.id.in_([a.user_id for a in rows]
                                                                                       or [0])))}
    return [answer_out(a, names) for a in rows]


def live_tally(session: Session, form: OpinionForm, actor: User) -> dict[str, Any]:
    """The figures now (while open) or as stored at closing; for who may see the answers."""
    policy.require_see_answers(session, form, actor)
    return form.result if form.status in ("closed", "reported") and form.result else tally(session, form)


def answers_of_unchecked(session: Session, form: OpinionForm) -> list[OpinionAnswer]:
    """The form's answer rows; the caller has checked who asks."""
    return list(session.scalars(select(OpinionAnswer).where(OpinionAnswer.form_id == form.id)))
