"""Casting a ballot: exactly once per (poll, voter), secret choices kept apart.

The INSERT of the has-voted row, with its unique constraint, decides among
concurrent duplicates (one wins, the others get ``already_voted``). Only
then is the poll's tally row read and rewritten, under a lock, so no count
is lost: PostgreSQL locks the row (SELECT ... FOR UPDATE); on SQLite the
transaction takes the database's write lock with its very first statement
(see ``_begin_sqlite_write``), because a WAL reader that started earlier and
then tries to write fails at once with "database is locked" instead of
waiting for the busy timeout.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, scoped_session

from meetings.accounts.models import User
from meetings.agenda.models import BodyMember, Meeting, Participant
from meetings.audit import service as audit
from meetings.db import utcnow
from meetings.errors import Conflict, Forbidden, Invalid, NotFound
from meetings.live import eventlog
from meetings.live.presence import managers_room
from meetings.voting import tally
from meetings.voting.models import BallotCast, Poll, PollTally
from meetings.voting.present import live_tally
from meetings.voting.proxies import active_proxy, proxy_granted_by
from meetings.voting.service import TALLY_INTERVAL, _aware, close_poll, get_poll, is_expired


def _checked_choice(poll: Poll, option_ids: Any) -> list[int]:
    if not isinstance(option_ids, list) or any(type(x) is not int for x in option_ids):
        raise Invalid("option_ids must be a list of option ids.", code="invalid_choice")
    if len(set(option_ids)) != len(option_ids):
        raise Invalid("An option can be chosen only once.", code="invalid_choice")
    known = {o.id for o in poll.options}
    if not set(option_ids) <= known:
        raise Invalid("Unknown option for this poll.", code="invalid_choice")
    if not poll.min_choices <= len(option_ids) <= poll.max_choices:
        raise Invalid(f"Choose between {poll.min_choices} and {poll.max_choices} options.", code="invalid_choice")
    return sorted(option_ids)


def cast_ballot(session: Session, poll_id: int, user: User, option_ids: Any,
                on_behalf_of: int | None = None) -> dict[str, Any]:
    """Cast ``user``'s ballot (or, holding a proxy, ``on_behalf_of``'s) in an open poll.

    Returns the acknowledgement for the caster: never a secret choice.
    """
    if session.get_bind().dialect.name == "sqlite":
        _begin_sqlite_write(session, poll_id)
    poll = get_poll(session, poll_id)
    meeting = session.get(Meeting, poll.meeting_id)
    caster = tally.voting_member(session, meeting.id, user.id)
    role = caster.role if caster is not None else _role(session, meeting, user)
    if role is None or (poll.status == "draft" and role not in ("chair", "secretary", "manager")):
        raise NotFound("No such poll.")  # outsiders see no poll; delegates no draft
    if caster is None and on_behalf_of in (None, user.id):
        raise Forbidden("You have no voting right in this meeting.", code="not_entitled")
    if poll.status != "open":
        raise Conflict(f"The poll is {poll.status}: ballots are taken only while it is open.", code="poll_not_open")
    if is_expired(poll):
        raise Conflict("The poll's time limit has passed.", code="poll_not_open")
    choice = _checked_choice(poll, option_ids)
    voter_id = user.id if on_behalf_of is None else on_behalf_of
    if voter_id != user.id:
        if caster is None or active_proxy(session, meeting.id, voter_id, user.id) is None:
            raise Forbidden("You hold no proxy from this member for this meeting.", code="no_proxy")
        voter = tally.voting_member(session, meeting.id, voter_id)
        if voter is None:
            raise Forbidden("That member has no voting right in this meeting.", code="not_entitled")
    else:
        voter = caster
        if proxy_granted_by(session, meeting.id, user.id) is not None:
            raise Forbidden("Your proxy holder votes for you; revoke the proxy before a poll to vote yourself.",
                            code="proxy_active")
    if poll.presence_required and user.id not in tally.present_ids(session, meeting.id):
        raise Forbidden("This poll is open only to members marked present.", code="not_present")
    weight = voter.vote_weight if poll.weighted else 1
    if weight < 1:
        raise Forbidden("This member's vote carries no weight.", code="not_entitled")

    existing = None
    if poll.allow_change:
        existing = session.execute(
            select(BallotCast).where(BallotCast.poll_id == poll.id, BallotCast.voter_id == voter_id)
            .with_for_update()
        ).scalar_one_or_none()
    if existing is None:
        ballot = BallotCast(poll_id=poll.id, voter_id=voter_id, cast_by_id=user.id, weight=weight,
                            cast_at=utcnow(), choice=None if poll.secret else choice)
        session.add(ballot)
        try:
            session.flush()
        except IntegrityError as err:
            raise Conflict("This ballot has already been cast.", code="already_voted") from err
    row = tally.locked_tally(session, poll.id)
    if existing is not None:  # a named poll that allows changes until close
        tally.add_to_tally(row, existing.choice or [], existing.weight, sign=-1)
        existing.choice, existing.cast_by_id, existing.cast_at = choice, user.id, utcnow()
        ballot = existing
    tally.add_to_tally(row, choice, weight)
    session.flush()

    details: dict[str, Any] = {"voter_id": voter_id, "by_proxy": voter_id != user.id}
    if not poll.secret:
        details["option_ids"] = choice
    action = "vote.changed" if existing is not None else "vote.cast"
    audit.record(session, action, actor_id=user.id, object_type="poll", object_id=poll.id,
                 meeting_id=meeting.id, details=details)
    entitled = _entitled(session, meeting.id)
    _announce(session, poll, meeting, row, voter_id, user.id, None if poll.secret else choice, entitled)
    if poll.close_when_complete and not poll.allow_change and row.ballots >= entitled:
        close_poll(session, poll, None)
    ack: dict[str, Any] = {"poll_id": poll.id, "voter_id": voter_id, "voted": True}
    if not poll.secret:
        ack["option_ids"] = choice
    return ack


def _begin_sqlite_write(session: Session, poll_id: int) -> None:
    """Start this transaction with SQLite's write lock, so every read after it is current.

    A transaction the caller opened with reads only (loading the poll to check
    access) is committed first: it changed nothing, and a write after its reads
    could not wait for the lock. The no-op UPDATE takes the lock, waiting up to
    the busy timeout like any writer.
    """
    real = session() if isinstance(session, scoped_session) else session
    if real.in_transaction() and not (real.new or real.dirty or real.deleted):
        real.commit()
    session.execute(update(PollTally).where(PollTally.poll_id == poll_id).values(ballots=PollTally.ballots),
                    execution_options={"synchronize_session": False})
    # Freed bytes of the tally row's old versions are zeroed, not left in the page.
    session.connection().exec_driver_sql("PRAGMA secure_delete=ON")


def _role(session: Session, meeting: Meeting, user: User) -> str | None:
    """The caller's meeting role without loading every participant (this runs per ballot):
    a participant's role, "manager" for admins and the body's secretariat, "archivist", None for outsiders."""
    role = session.execute(select(Participant.role).where(
        Participant.meeting_id == meeting.id, Participant.user_id == user.id)).scalar_one_or_none()
    if role is not None:
        return role
    if user.is_admin or session.execute(select(BodyMember.id).where(
            BodyMember.body_id == meeting.body_id, BodyMember.user_id == user.id,
            BodyMember.is_secretariat.is_(True))).first() is not None:
        return "manager"
    return "archivist" if user.is_archivist else None


def _entitled(session: Session, meeting_id: int) -> int:
    return tally.entitled_count(session, meeting_id)


def _announce(session: Session, poll: Poll, meeting: Meeting, row, voter_id: int, caster_id: int,
              choice: list[int] | None, entitled: int) -> None:
    """Confirmation to the voter's (and the proxy holder's) devices, counts to the managers,
    and, for named polls with live results, a throttled tally to the room."""
    notice: dict[str, Any] = {"poll_id": poll.id, "voter_id": voter_id, "cast_by_id": caster_id}
    if choice is not None:
        notice["option_ids"] = choice
    for uid in {voter_id, caster_id}:
        eventlog.notify(session, uid, "vote.confirmed", notice)
    progress = {"poll_id": poll.id, "voted": row.ballots, "entitled": entitled}
    eventlog.notify_room(session, managers_room(meeting.id), "poll.progress", progress)
    if poll.results_live and not poll.secret:
        now = utcnow()
        last = _aware(poll.tally_sent_at)
        if last is None or now - last >= TALLY_INTERVAL or row.ballots >= entitled:
            poll.tally_sent_at = now
            eventlog.append(session, meeting.id, "poll.tally", {**progress, "counts": live_tally(poll, row)})
