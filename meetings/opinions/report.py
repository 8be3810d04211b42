"""The "Báo cáo tổng hợp ý kiến": composed from the stored tally, signed, published.

compose (office, once the form is closed: status → reported) → sign (the form's signer, with
their key: ``meetings.minutes.papers``, the one field "NguoiKy") → publish (office: recipients
are told and may read the report and the answers). The files are content-addressed and
written once (``files``); each step is audited.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import Body
from meetings.core.db import utcnow
from meetings.core.errors import Conflict, NotFound
from meetings.minutes import papers
from meetings.opinions import files, notices, paper, policy
from meetings.opinions.models import OpinionAnswer, OpinionForm
from meetings.platform.audit import service as audit

FIELD = "NguoiKy"


def _names(session: Session, ids: list[int]) -> dict[int, str]:
    return {u.id: u.full_name for u in session.scalars(select(User).where(User.id.in_(ids or [0])))}


def report_data(session: Session, form: OpinionForm, config: Mapping[str, Any]) -> dict[str, Any]:
    """The plain data the report is composed from: the stored tally, names, the body's header."""
    result = form.result or {}
    body = session.get(Body, form.body_id)
    answers = {a.user_id: a for a in session.scalars(select(OpinionAnswer).where(OpinionAnswer.form_id == form.id))}
    ids = list(result.get("answered_ids", [])) + list(result.get("not_answered", []))
    names = _names(session, ids + [form.signer_id or 0])
    tz = ZoneInfo(config.get("TIMEZONE") or "Asia/Ho_Chi_Minh")
    questions = [{**q, "comments": [{"name": names.get(c["user_id"], "?"), "comment": c["comment"]}
                                    for c in q["comments"]]} for q in result.get("questions", [])]
    return {"body_name": body.name, "parent_name": body.parent_name, "short_name": body.short_name,
            "place_name": body.place_name, "tz": config.get("TIMEZONE"), "number": form.number,
            "title": form.title, "explanation": form.explanation, "closes_at": form.closes_at.isoformat(),
            "dated_at": (form.closed_at or utcnow()).isoformat(), "recipients": result.get("recipients", 0),
            "answered": result.get("answered", 0), "questions": questions,
            "answered_list": [{"name": names.get(u, "?"), "signed": bool(answers[u].paper_sha256),
                               "at": answers[u].updated_at.astimezone(tz).strftime("%H:%M %d/%m/%Y")}
                              for u in result.get("answered_ids", []) if u in answers],
            "missing_list": [names.get(u, "?") for u in result.get("not_answered", [])],
            "signer_title": form.signer_title or "", "signer_name": names.get(form.signer_id, "")}


def compose_report(session: Session, form: OpinionForm, actor: User, config: Mapping[str, Any]) -> OpinionForm:
    """Compose the report of a closed form with its empty signature field; the form is then "reported"."""
    policy.require_office(session, form, actor)
    if form.status == "reported":
        raise Conflict("The report is composed already.", code="already_reported")
    if form.status != "closed":
        raise Conflict("Close the form before composing its report.", code="not_closed")
    if form.signer_id is None:
        raise Conflict("Name the report's signer first.", code="incomplete", details={"missing": ["signer_id"]})
    composed = paper.compose_report(report_data(session, form, config))
    pdf = papers.add_signature_field(composed["pdf"], FIELD, composed["box"])
    form.report_sha256, form.report_size = files.store(config["STORAGE_PATH"], pdf), len(pdf)
    form.report_box, form.status, form.reported_at = composed["box"], "reported", utcnow()
    session.flush()
    audit.record(session, "opinion_form.report_composed", actor_id=actor.id, object_type="opinion_form",
                 object_id=form.id, meeting_id=form.meeting_id,
                 details={"sha256": form.report_sha256, "pages": composed["pages"]})
    return form


def sign_report(session: Session, form: OpinionForm, actor: User, config: Mapping[str, Any], *, secret: str,
                key_id: int | None = None) -> OpinionForm:
    """The signer's signature on the composed report (certifying: nothing may change after it)."""
    policy.require_signer(session, form, actor)
    if form.status != "reported" or not form.report_sha256:
        raise Conflict("Compose the report before signing it.", code="not_reported")
    if form.report_signed:
        raise Conflict("The report is signed already.", code="already_signed")
    pdf = files.paper_file(config["STORAGE_PATH"], form.report_sha256).read_bytes()
    title = (form.signer_title or "").replace("\n", " - ")
    signed = papers.sign_paper(session, config, actor, pdf, secret=secret, field=FIELD, key_id=key_id,
                               role_title=title or "Người ký", reason="Ký báo cáo tổng hợp ý kiến", certify=True,
                               archival=True)
    before = form.report_sha256
    form.report_sha256 = files.store(config["STORAGE_PATH"], signed.data)
    form.report_size, form.report_signed, form.report_signed_at = signed.size, True, signed.signed_at
    form.report_signer_name, form.report_key_id = signed.signer_name, signed.key_id
    session.flush()
    audit.record(session, "opinion_form.report_signed", actor_id=actor.id, object_type="opinion_form",
                 object_id=form.id, meeting_id=form.meeting_id,
                 details={"before_sha256": before, "sha256": form.report_sha256, "key_id": signed.key_id})
    return form


def publish_report(session: Session, form: OpinionForm, actor: User) -> OpinionForm:
    """Publish the signed report: recipients are told and may read it (and the answers)."""
    policy.require_office(session, form, actor)
    if not form.report_signed:
        raise Conflict("Only a signed report is published.", code="not_signed")
    if form.published_at is not None:
        raise Conflict("The report is published already.", code="already_published")
    form.published_at = utcnow()
    session.flush()
    told = notices.report_published(session, form)
    audit.record(session, "opinion_form.report_published", actor_id=actor.id, object_type="opinion_form",
                 object_id=form.id, meeting_id=form.meeting_id, details={"sha256": form.report_sha256, "told": told})
    return form


def report_file(session: Session, form: OpinionForm, actor: User, config: Mapping[str, Any]):
    """The report's file for whoever may read it: the office and the signer; recipients once published."""
    policy.require_see_answers(session, form, actor)
    if not form.report_sha256:
        raise NotFound("This form has no report yet.")
    return files.paper_file(config["STORAGE_PATH"], form.report_sha256)
