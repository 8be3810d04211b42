"""Who may do what with written opinion forms: one function per decision.

- the *office* of a body (its secretariat members, ``BodyMember.is_secretariat``, and
  administrators) drafts, sends, closes, tallies and reports;
- a *recipient* sees a sent form and answers it while it is open;
- the form's *signer* (the chair, or the head of the office) signs its report.

``require_*`` raise NotFound (404) for whoever may not know the form exists and Forbidden
(403) for whoever sees it but may not do this. REST, pages, socket notices and the archive
bundle all ask these functions.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies import units
from meetings.bodies.models import BodyMember
from meetings.core.errors import Forbidden, NotFound
from meetings.opinions.models import OpinionForm, OpinionRecipient


def _uid(user: User | None) -> int | None:
    return getattr(user, "id", None) if user is not None and getattr(user, "is_authenticated", False) else None


def is_office(session: Session, body_id: int, user: User | None) -> bool:
    """The body's office (``units.is_body_office``, as for tasks and units)."""
    return units.is_body_office(session, body_id, user)


office_ids = units.office_ids  # who sees the live tally


def is_member(session: Session, body_id: int, user: User | None) -> bool:
    uid = _uid(user)
    return bool(uid) and session.execute(select(BodyMember.id).where(
        BodyMember.body_id == body_id, BodyMember.user_id == uid)).first() is not None


def is_recipient(session: Session, form: OpinionForm, user: User | None) -> bool:
    uid = _uid(user)
    return bool(uid) and session.execute(select(OpinionRecipient.id).where(
        OpinionRecipient.form_id == form.id, OpinionRecipient.user_id == uid)).first() is not None


def can_see(session: Session, form: OpinionForm, user: User | None) -> bool:
    """The office always; a recipient or the signer once the form was sent."""
    if is_office(session, form.body_id, user):
        return True
    if form.status == "draft":
        return False
    return is_recipient(session, form, user) or (_uid(user) is not None and form.signer_id == _uid(user))


def can_see_answers(session: Session, form: OpinionForm, user: User | None) -> bool:
    """Who answered what, and the running tally: the office and the signer; recipients once published."""
    if is_office(session, form.body_id, user) or (_uid(user) and form.signer_id == _uid(user)):
        return True
    return form.published_at is not None and is_recipient(session, form, user)


def require_see(session: Session, form: OpinionForm | None, user: User | None) -> OpinionForm:
    if form is None or not can_see(session, form, user):
        raise NotFound("No such opinion form.")
    return form


def require_office(session: Session, form: OpinionForm, user: User | None) -> None:
    """Change the form, send, close, tally, compose and publish its report: the office."""
    require_see(session, form, user)
    if not is_office(session, form.body_id, user):
        raise Forbidden("Only the body's secretariat manages opinion forms.", code="not_office")


def require_create(session: Session, body_id: int, user: User | None) -> None:
    """Draft a form for the body: its office (404 for whoever is not even a member)."""
    if is_office(session, body_id, user):
        return
    if is_member(session, body_id, user):
        raise Forbidden("Only the body's secretariat drafts opinion forms.", code="not_office")
    raise NotFound("No such body.")


def require_answer(session: Session, form: OpinionForm, user: User | None) -> None:
    """Answer: the form's recipients only (a member who was not asked is refused, 403)."""
    require_see(session, form, user)
    if not is_recipient(session, form, user):
        raise Forbidden("This form was not sent to you.", code="not_recipient")


def require_see_answers(session: Session, form: OpinionForm, user: User | None) -> None:
    require_see(session, form, user)
    if not can_see_answers(session, form, user):
        raise Forbidden("The answers are seen by the secretariat until the report is published.",
                        code="not_published")


def require_signer(session: Session, form: OpinionForm, user: User | None) -> None:
    """Sign the report: the form's named signer only."""
    require_see(session, form, user)
    if form.signer_id is None or form.signer_id != _uid(user):
        raise Forbidden("Only the form's named signer signs its report.", code="not_a_signer")
