"""Opinion forms: draft → open (sent) → closed (at the deadline or by hand) → reported.

Every write checks the actor (``meetings.opinions.policy``), writes, records an audit entry
(``opinion_form.*``) and, where the secretariat watches, a live tally notice after commit; the
caller's commit point commits. Answers are in ``answering``, the report in ``report``.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, BinaryIO

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import Body, BodyMember, Meeting
from meetings.core.db import utcnow
from meetings.core.errors import Conflict, Invalid, NotFound
from meetings.documents.receiving import default_limits, ingest_upload
from meetings.opinions import notices, policy
from meetings.opinions.models import QUESTION_KINDS, OpinionAttachment, OpinionForm, OpinionQuestion, OpinionRecipient
from meetings.opinions.tally import tally
from meetings.platform.audit import service as audit
from meetings.voting.rules import Threshold

SETTINGS = ("title", "explanation", "meeting_id", "closes_at", "allow_change", "require_signature", "majority_base",
            "threshold_numerator", "threshold_denominator", "threshold_strict", "tie_rule", "chair_id", "signer_id",
            "signer_title", "number")
MAX_OPTIONS = 20


def _audit(session: Session, form: OpinionForm, action: str, actor_id: int | None, **details: Any) -> None:
    audit.record(session, f"opinion_form.{action}", actor_id=actor_id, object_type="opinion_form",
                 object_id=form.id, meeting_id=form.meeting_id, details=details)


def find_form(session: Session, form_id: int, actor: User) -> OpinionForm:
    """The form, for whoever may see it (404 otherwise)."""
    return policy.require_see(session, session.get(OpinionForm, form_id), actor)


def list_forms(session: Session, actor: User, body_id: int | None = None) -> list[OpinionForm]:
    """Every form the actor may see, newest first."""
    q = select(OpinionForm).order_by(OpinionForm.id.desc())
    if body_id is not None:
        q = q.where(OpinionForm.body_id == body_id)
    return [f for f in session.scalars(q) if policy.can_see(session, f, actor)]


def _members(session: Session, body_id: int) -> set[int]:
    return set(session.scalars(select(BodyMember.user_id).where(BodyMember.body_id == body_id)))


def _check_settings(session: Session, form: OpinionForm, data: Mapping[str, Any]) -> None:
    if "title" in data and not (data["title"] or "").strip():
        raise Invalid("A form needs a title.", code="invalid")
    if data.get("meeting_id") is not None:
        meeting = session.get(Meeting, data["meeting_id"])
        if meeting is None or meeting.body_id != form.body_id:
            raise Invalid("The meeting is not one of this body's.", code="invalid_meeting")
    if data.get("majority_base", "entitled") not in ("cast", "present", "entitled"):
        raise Invalid("The base is cast, present or entitled.", code="invalid")
    if data.get("tie_rule", "chair") not in ("chair", "reject"):
        raise Invalid("The tie rule is chair or reject.", code="invalid")
    members = _members(session, form.body_id)
    for who in ("chair_id", "signer_id"):
        if data.get(who) is not None and data[who] not in members:
            raise Invalid(f"The {who[:-3]} must be a member of the body.", code="invalid_member")


def _apply_settings(form: OpinionForm, data: Mapping[str, Any]) -> None:
    for name in SETTINGS:
        if name in data:
            setattr(form, name, data[name].strip() if isinstance(data[name], str) else data[name])
    try:
        Threshold(form.threshold_numerator, form.threshold_denominator, form.threshold_strict)
    except ValueError as err:
        raise Invalid(f"Threshold: {err}.", code="invalid_threshold") from None


def _question(data: Mapping[str, Any], position: int) -> OpinionQuestion:
    kind, text = data.get("kind"), (data.get("text") or "").strip()
    if kind not in QUESTION_KINDS:
        raise Invalid("A question is of kind agree or choice.", code="invalid_question")
    if not text:
        raise Invalid("A question needs its text.", code="invalid_question")
    if kind == "agree":
        return OpinionQuestion(kind=kind, text=text, options=[], min_choices=1, max_choices=1, position=position)
    labels = [str(x).strip() for x in data.get("options") or []]
    if not 2 <= len(labels) <= MAX_OPTIONS or not all(labels) or len(set(labels)) != len(labels):
        raise Invalid(f"A choice question has 2 to {MAX_OPTIONS} different options.", code="invalid_question")
    low, high = int(data.get("min_choices", 1)), int(data.get("max_choices", 1))
    if not 1 <= low <= high <= len(labels):
        raise Invalid("Choices: 1 ≤ min ≤ max ≤ the number of options.", code="invalid_question")
    return OpinionQuestion(kind=kind, text=text, options=[{"id": f"o{n}", "label": lab} for n, lab in
                                                          enumerate(labels, 1)],
                           min_choices=low, max_choices=high, position=position)


def create_form(session: Session, body: Body, actor: User, data: Mapping[str, Any]) -> OpinionForm:
    """Draft a form for ``body`` (its office): settings, questions, recipients (default: every member)."""
    policy.require_create(session, body.id, actor)
    form = OpinionForm(body_id=body.id, status="draft", created_by_id=actor.id, signer_id=actor.id,
                       chair_id=None, title="", allow_change=True, require_signature=False, majority_base="entitled",
                       threshold_numerator=1, threshold_denominator=2, threshold_strict=True, tie_rule="chair")
    _check_settings(session, form, data)
    _apply_settings(form, {"signer_title": "TL. CHỦ TỊCH\nCHÁNH VĂN PHÒNG", **data})
    form.questions = [_question(q, n) for n, q in enumerate(data.get("questions") or [])]
    session.add(form)
    session.flush()
    _set_recipients(session, form, data.get("recipient_ids"))
    _audit(session, form, "created", actor.id, title=form.title, questions=len(form.questions))
    return form


def update_form(session: Session, form: OpinionForm, actor: User, data: Mapping[str, Any]) -> OpinionForm:
    """Change a draft's settings; an open form may only move its deadline later."""
    policy.require_office(session, form, actor)
    if form.status == "open":
        if set(data) - {"closes_at"}:
            raise Conflict("A sent form only moves its deadline.", code="not_draft")
        if data.get("closes_at") is None or data["closes_at"] <= utcnow():
            raise Invalid("The new deadline must be in the future.", code="invalid_deadline")
        if form.closes_at is not None and data["closes_at"] < form.closes_at:
            # the recipients were told the deadline when the form was sent: it never comes sooner
            raise Invalid("A sent form's deadline only moves later.", code="invalid_deadline",
                          details={"closes_at": form.closes_at.isoformat()})
    elif form.status != "draft":
        raise Conflict("A closed form cannot be changed.", code="not_draft")
    _check_settings(session, form, data)
    _apply_settings(form, data)
    if "questions" in data:
        form.questions = [_question(q, n) for n, q in enumerate(data["questions"] or [])]
    if "recipient_ids" in data:
        _set_recipients(session, form, data["recipient_ids"])
    session.flush()
    _audit(session, form, "updated", actor.id, fields=sorted(data))
    return form


def _set_recipients(session: Session, form: OpinionForm, user_ids: list[int] | None) -> None:
    members = _members(session, form.body_id)
    wanted = set(members if user_ids is None else user_ids)
    if wanted - members:
        raise Invalid("Forms go to members of the body only.", code="invalid_member",
                      details={"not_members": sorted(wanted - members)})
    for r in list(form.recipients):
        if r.user_id not in wanted:
            form.recipients.remove(r)
    have = {r.user_id for r in form.recipients}
    form.recipients.extend(OpinionRecipient(user_id=u) for u in sorted(wanted - have))


def add_question(session: Session, form: OpinionForm, actor: User, data: Mapping[str, Any]) -> OpinionQuestion:
    """Add one question to a draft."""
    policy.require_office(session, form, actor)
    if form.status != "draft":
        raise Conflict("Questions change only while the form is a draft.", code="not_draft")
    q = _question(data, len(form.questions))
    form.questions.append(q)
    session.flush()
    _audit(session, form, "question_added", actor.id, question_id=q.id, kind=q.kind)
    return q


def delete_question(session: Session, form: OpinionForm, actor: User, question_id: int) -> None:
    """Remove a question of a draft."""
    policy.require_office(session, form, actor)
    if form.status != "draft":
        raise Conflict("Questions change only while the form is a draft.", code="not_draft")
    q = next((q for q in form.questions if q.id == question_id), None)
    if q is None:
        raise NotFound("No such question.")
    form.questions.remove(q)
    session.flush()
    _audit(session, form, "question_removed", actor.id, question_id=question_id)


def add_attachment(session: Session, form: OpinionForm, actor: User, source: BinaryIO | bytes, filename: str,
                   config: Mapping[str, Any]) -> OpinionAttachment:
    """Attach a PDF to a draft through the document intake (size cap, %PDF-, parse and disarm in a child)."""
    policy.require_office(session, form, actor)
    if form.status != "draft":
        raise Conflict("Documents are attached while the form is a draft.", code="not_draft")
    got = ingest_upload(source, config["STORAGE_PATH"], default_limits(), session=session)
    att = OpinionAttachment(form_id=form.id, filename=(filename or "tai-lieu.pdf")[:300], sha256=got.sha256,
                            original_sha256=got.original_sha256, size=got.size, page_count=got.pages,
                            uploaded_by_id=actor.id)
    session.add(att)
    session.flush()
    _audit(session, form, "attachment_added", actor.id, attachment_id=att.id, **got.details())
    return att


def open_form(session: Session, form: OpinionForm, actor: User, *, now: datetime | None = None) -> OpinionForm:
    """Send the form: it needs questions, recipients and a deadline in the future; recipients are told."""
    policy.require_office(session, form, actor)
    now = now or utcnow()
    if form.status != "draft":
        raise Conflict("Only a draft is sent.", code="not_draft")
    missing = [n for n, ok in (("questions", form.questions), ("recipients", form.recipients),
                               ("closes_at", form.closes_at)) if not ok]
    if missing:
        raise Conflict("The form is not complete.", code="incomplete", details={"missing": missing})
    if form.closes_at <= now:
        raise Invalid("The deadline must be in the future.", code="invalid_deadline")
    form.status, form.opened_at = "open", now
    session.flush()
    reached = notices.form_opened(session, form)
    _audit(session, form, "opened", actor.id, recipients=len(form.recipients), told=reached,
           closes_at=form.closes_at.isoformat())
    notices.tally_changed(session, form, tally(session, form))
    return form


def close_form(session: Session, form: OpinionForm, actor: User | None, *, now: datetime | None = None) -> OpinionForm:
    """Close an open form (by hand, or by the deadline job with ``actor`` None); the tally is stored."""
    if actor is not None:
        policy.require_office(session, form, actor)
    if form.status != "open":
        raise Conflict("Only an open form closes.", code="not_open")
    # In the database itself: the hand close and the deadline job at once close it once, and an answer
    # being stored meanwhile (``answering.submit_answer`` holds the same row) is in the tally or refused.
    closed = session.execute(update(OpinionForm).where(OpinionForm.id == form.id, OpinionForm.status == "open")
                             .values(status="closed"), execution_options={"synchronize_session": False}).rowcount
    if closed != 1:
        session.refresh(form)
        raise Conflict("Only an open form closes.", code="not_open")
    form.status, form.closed_at = "closed", now or utcnow()
    form.result = tally(session, form)
    session.flush()
    _audit(session, form, "closed", getattr(actor, "id", None), by="hand" if actor else "deadline",
           answered=form.result["answered"], recipients=form.result["recipients"])
    notices.tally_changed(session, form, form.result)
    return form


def close_due(session: Session, now: datetime) -> int:
    """Close every open form whose deadline has passed; answers how many."""
    due = list(session.scalars(select(OpinionForm).where(OpinionForm.status == "open",
                                                         OpinionForm.closes_at <= now).order_by(OpinionForm.id)))
    for form in due:
        close_form(session, form, None, now=now)
    return len(due)


def delete_form(session: Session, form: OpinionForm, actor: User) -> None:
    """Throw away a draft."""
    policy.require_office(session, form, actor)
    if form.status != "draft":
        raise Conflict("Only a draft is deleted.", code="not_draft")
    _audit(session, form, "deleted", actor.id, title=form.title)
    session.delete(form)
    session.flush()
