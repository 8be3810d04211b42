"""Answering a form: one answer per member, changed until the deadline if the form allows,
signed where the form requires it.

The deadline is checked against the clock here (``utcnow``, which tests move): at or after
``closes_at`` an answer is refused with 409 ``deadline_passed`` and nothing is stored, whether
or not the closing job has run yet. A signed answer is a one-page paper (``paper.compose_answer``)
signed with the member's key (``meetings.minutes.papers``); a wrong passphrase stores nothing.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import Body, BodyMember
from meetings.core.db import utcnow
from meetings.core.errors import Conflict, Invalid
from meetings.minutes import papers
from meetings.opinions import files, notices, paper, policy
from meetings.opinions.models import AGREE_CHOICES, OpinionAnswer, OpinionForm
from meetings.opinions.tally import tally
from meetings.platform.audit import service as audit

MAX_COMMENT = 2000
FIELD = "NguoiTraLoi"


def _clean(form: OpinionForm, entries: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every question answered once, by its rules; Invalid names the question otherwise."""
    by_id = {q.id: q for q in form.questions}
    given: dict[int, dict[str, Any]] = {}
    for e in entries or []:
        qid = e.get("question_id")
        q = by_id.get(qid)
        if q is None or qid in given:
            raise Invalid("An answer names an unknown or repeated question.", code="invalid_answer",
                          details={"question_id": qid})
        comment = (e.get("comment") or "").strip()
        if len(comment) > MAX_COMMENT:
            raise Invalid(f"A comment is at most {MAX_COMMENT} characters.", code="invalid_answer",
                          details={"question_id": qid})
        if q.kind == "agree":
            if e.get("choice") not in AGREE_CHOICES:
                raise Invalid("Answer agree, disagree or other.", code="invalid_answer", details={"question_id": qid})
            if e["choice"] == "other" and not comment:
                raise Invalid("Write your other opinion.", code="comment_required", details={"question_id": qid})
            given[qid] = {"question_id": qid, "choice": e["choice"], "comment": comment}
        else:
            chosen = list(e.get("options") or [])
            valid = {o["id"] for o in q.options}
            if len(set(chosen)) != len(chosen) or set(chosen) - valid or not (
                    q.min_choices <= len(chosen) <= q.max_choices):
                raise Invalid(f"Choose {q.min_choices} to {q.max_choices} of the options.", code="invalid_answer",
                              details={"question_id": qid})
            given[qid] = {"question_id": qid, "options": chosen, "comment": comment}
    missing = [q.id for q in form.questions if q.id not in given]
    if missing:
        raise Invalid("Answer every question.", code="incomplete_answer", details={"missing": missing})
    return [given[q.id] for q in form.questions]


def own_answer(session: Session, form: OpinionForm, actor: User) -> OpinionAnswer | None:
    return session.execute(select(OpinionAnswer).where(OpinionAnswer.form_id == form.id,
                                                       OpinionAnswer.user_id == actor.id)).scalar_one_or_none()


def answer_paper_data(session: Session, form: OpinionForm, actor: User, entries: list[dict], revision: int,
                      config: Mapping[str, Any], at) -> dict[str, Any]:
    """The plain data of a member's answer paper (the report reads it the same way)."""
    body = session.get(Body, form.body_id)
    member = session.execute(select(BodyMember).where(BodyMember.body_id == body.id,
                                                      BodyMember.user_id == actor.id)).scalar_one_or_none()
    by_id = {q.id: q for q in form.questions}
    rows = []
    for e in entries:
        q = by_id[e["question_id"]]
        if q.kind == "agree":
            text = paper.CHOICE[e["choice"]]
        else:
            labels = {o["id"]: o["label"] for o in q.options}
            text = "; ".join(labels[o] for o in e["options"])
        rows.append({"text": q.text, "answer": text, "comment": e.get("comment")})
    return {"body_name": body.name, "parent_name": body.parent_name, "short_name": body.short_name,
            "place_name": body.place_name, "tz": config.get("TIMEZONE"), "title": form.title,
            "member_name": actor.full_name, "position": member.position if member else None, "revision": revision,
            "answered_at": at.isoformat(), "questions": rows}


def submit_answer(session: Session, form: OpinionForm, actor: User, entries: list[Mapping[str, Any]],
                  config: Mapping[str, Any], *, secret: str | None = None) -> OpinionAnswer:
    """Store (or change) the actor's answer; refused after the deadline, for non-recipients, or when final."""
    policy.require_answer(session, form, actor)
    now = utcnow()
    if form.status == "draft":
        raise Conflict("The form has not been sent.", code="not_open")
    if form.status != "open" or (form.closes_at is not None and now >= form.closes_at):
        raise Conflict("The deadline for this form has passed; your answer was not stored.", code="deadline_passed",
                       details={"closes_at": form.closes_at.isoformat() if form.closes_at else None})
    cleaned = _clean(form, list(entries))
    # Hold the form's row while the answer is stored: a close (by hand or by the deadline job) that read it
    # open at the same moment waits for this answer and counts it, or has closed it and this one is refused.
    held = session.execute(update(OpinionForm).where(OpinionForm.id == form.id, OpinionForm.status == "open",
                                                     OpinionForm.closes_at > now)
                           .values(updated_at=now), execution_options={"synchronize_session": False}).rowcount
    if held != 1:
        session.refresh(form)
        raise Conflict("The deadline for this form has passed; your answer was not stored.", code="deadline_passed",
                       details={"closes_at": form.closes_at.isoformat() if form.closes_at else None})
    existing = own_answer(session, form, actor)
    if existing is not None and not form.allow_change:
        raise Conflict("This form does not allow changing an answer.", code="answer_final")
    revision = 1 if existing is None else existing.revision + 1
    signed = None
    if form.require_signature or secret:  # a member may sign where the form does not require it
        if not secret:
            raise Invalid("This form must be signed: enter your passphrase or PIN.", code="secret_required")
        composed = paper.compose_answer(answer_paper_data(session, form, actor, cleaned, revision, config, now))
        prepared = papers.add_signature_field(composed["pdf"], FIELD, composed["box"])
        signed = papers.sign_paper(session, config, actor, prepared, secret=secret, field=FIELD,
                                   role_title="Thành viên", reason="Ký phiếu trả lời lấy ý kiến")
        files.store(config["STORAGE_PATH"], signed.data)
    if existing is None:
        answer = OpinionAnswer(form_id=form.id, user_id=actor.id, answers=cleaned, revision=1, created_at=now,
                               updated_at=now)
        try:
            with session.begin_nested():
                session.add(answer)
                session.flush()
        except IntegrityError:  # the same member answered twice at once: one wins
            raise Conflict("Your answer was just stored from another device; reload.", code="conflict") from None
    else:
        answer = existing
        answer.answers, answer.revision, answer.updated_at = cleaned, revision, now
    if signed is not None:
        answer.paper_sha256, answer.signed_at = signed.sha256, signed.signed_at
        answer.key_id, answer.certificate_subject = signed.key_id, signed.certificate_subject
    else:
        answer.paper_sha256 = answer.signed_at = answer.key_id = answer.certificate_subject = None
    session.flush()
    audit.record(session, "opinion_answer.changed" if existing else "opinion_answer.submitted", actor_id=actor.id,
                 object_type="opinion_form", object_id=form.id, meeting_id=form.meeting_id,
                 details={"answer_id": answer.id, "revision": revision, "signed": signed is not None,
                          "paper_sha256": answer.paper_sha256})
    notices.tally_changed(session, form, tally(session, form))
    return answer
