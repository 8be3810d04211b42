"""Who may do what with conclusion notices: one function per decision, on meetings.bodies.permissions.

- compose and edit, make ready, publish: the meeting's secretariat (``can_prepare``);
- sign: the designated signer only (the chair, or the Chánh Văn phòng by the body's setting),
  fixed on the notice when it was made ready;
- read: the secretariat and the chair in every state; once published, whoever sees the meeting
  (its participants; archivists within their clearance) and the members of the recipient units.

NotFound (404) for whoever may not know the notice exists, Forbidden (403) for
whoever sees it but may not do this.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import Body, Meeting
from meetings.bodies.permissions import can_create_meeting, can_prepare, can_run, can_view
from meetings.bodies.units import unit_ids_of_user
from meetings.conclusions.models import ConclusionNotice
from meetings.core.errors import Forbidden, NotFound


def is_signer(notice: ConclusionNotice, user: User | None) -> bool:
    """The user is the notice's designated signer (known once it is ready)."""
    return user is not None and notice.signer_id is not None and notice.signer_id == user.id


def in_recipient_unit(session: Session, notice: ConclusionNotice, user: User | None) -> bool:
    """The user belongs to one of the units the notice is addressed to."""
    if user is None or not notice.recipient_unit_ids:
        return False
    return bool(unit_ids_of_user(session, user.id) & {int(i) for i in notice.recipient_unit_ids})


def can_read(session: Session, notice: ConclusionNotice, meeting: Meeting, user: User | None) -> bool:
    """See the notice: managers and the signer always; a published one, the meeting's viewers and the units."""
    if user is None or not getattr(user, "id", None):
        return False
    if can_run(meeting, user) or is_signer(notice, user):
        return True
    if notice.status != "published":
        return False
    return can_view(meeting, user) or in_recipient_unit(session, notice, user)


def require_read(session: Session, notice: ConclusionNotice, meeting: Meeting, user: User | None) -> None:
    """Read the notice, or 404: no hint that an unpublished notice exists."""
    if not can_read(session, notice, meeting, user):
        raise NotFound("No such conclusion notice.")


def require_prepare_meeting(meeting: Meeting, user: User | None) -> None:
    """Compose a meeting's notice: the secretariat (404 for whoever does not see the meeting)."""
    if not can_view(meeting, user):
        raise NotFound("No such meeting.")
    if not can_prepare(meeting, user):
        raise Forbidden("Only the secretariat composes the conclusion notice.", code="not_secretariat")


def require_prepare(session: Session, notice: ConclusionNotice, meeting: Meeting, user: User | None) -> None:
    """Edit, make ready, reopen or publish the notice: the secretariat."""
    require_read(session, notice, meeting, user)
    if not can_prepare(meeting, user):
        raise Forbidden("Only the secretariat edits the conclusion notice.", code="not_secretariat")


def require_signer(session: Session, notice: ConclusionNotice, meeting: Meeting, user: User | None) -> None:
    """Sign the notice: its designated signer only; anyone else who sees it learns why not (403)."""
    if not (can_read(session, notice, meeting, user) or can_view(meeting, user)):
        raise NotFound("No such conclusion notice.")
    if not is_signer(notice, user):
        raise Forbidden("Only the designated signer (the chair, or the Chánh Văn phòng) signs this notice.",
                        code="not_the_signer")


def require_settings(body: Body, user: User | None) -> None:
    """Change a body's notice settings: an administrator or the body's secretariat."""
    if not can_create_meeting(body, user):
        raise Forbidden("Only the body's secretariat sets how its notices are signed.", code="not_secretariat")
