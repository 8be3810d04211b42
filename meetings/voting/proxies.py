"""Proxies (ủy quyền): member A authorizes member B to cast A's ballots in one meeting.

Rules: both are voting members; no chains (a holder cannot have given their
own proxy, a grantor cannot be holding anyone's); one active proxy per
grantor and meeting (a unique constraint); revocation only while no poll
of the meeting is open, so who may cast a ballot never changes mid-poll.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import Meeting
from meetings.core.db import utcnow
from meetings.core.errors import Conflict, Forbidden, Invalid, NotFound
from meetings.platform.audit import service as audit
from meetings.platform.realtime import eventlog
from meetings.voting import tally
from meetings.voting.models import Poll, Proxy
from meetings.voting.policy import can_give_proxy, can_revoke_proxy, can_see_proxy


def active_proxy(session: Session, meeting_id: int, grantor_id: int, holder_id: int) -> Proxy | None:
    """The grantor's active proxy to this holder, if any."""
    return session.execute(select(Proxy).where(
        Proxy.meeting_id == meeting_id, Proxy.active_grantor_id == grantor_id, Proxy.holder_id == holder_id,
    )).scalar_one_or_none()


def proxy_granted_by(session: Session, meeting_id: int, grantor_id: int) -> Proxy | None:
    """The active proxy this member gave in the meeting, if any."""
    return session.execute(select(Proxy).where(
        Proxy.meeting_id == meeting_id, Proxy.active_grantor_id == grantor_id,
    )).scalar_one_or_none()


def proxies_held_by(session: Session, meeting_id: int, holder_id: int) -> list[Proxy]:
    """The active proxies this member holds in the meeting."""
    return list(session.execute(select(Proxy).where(
        Proxy.meeting_id == meeting_id, Proxy.holder_id == holder_id, Proxy.active_grantor_id.is_not(None),
    ).order_by(Proxy.id)).scalars())


def list_proxies(session: Session, meeting_id: int, *, only_for_user: int | None = None) -> list[Proxy]:
    """Every proxy of the meeting (revoked ones too), or only those a user gave or holds."""
    q = select(Proxy).where(Proxy.meeting_id == meeting_id).order_by(Proxy.id)
    if only_for_user is not None:
        q = q.where((Proxy.grantor_id == only_for_user) | (Proxy.holder_id == only_for_user))
    return list(session.execute(q).scalars())


def create_proxy(session: Session, meeting: Meeting, actor: User, grantor_id: int, holder_id: int) -> Proxy:
    """Record that ``grantor_id`` authorizes ``holder_id``; the actor is the grantor or the secretariat."""
    if not can_give_proxy(meeting, actor, grantor_id):
        raise Forbidden("Only the member or the secretariat can give a member's proxy.")
    if grantor_id == holder_id:
        raise Invalid("A member cannot authorize themselves.", code="self_proxy")
    if meeting.status == "closed":
        raise Conflict("The meeting is closed.", code="meeting_closed")
    for uid, who in ((grantor_id, "The grantor"), (holder_id, "The proxy holder")):
        if tally.voting_member(session, meeting.id, uid) is None:
            raise Invalid(f"{who} is not a voting member of this meeting.", code="not_entitled")
    if proxy_granted_by(session, meeting.id, holder_id) is not None:
        raise Conflict("The holder has given their own proxy to someone: no chains.", code="proxy_chain")
    if proxies_held_by(session, meeting.id, grantor_id):
        raise Conflict("The grantor holds other members' proxies: no chains.", code="proxy_chain")
    if proxy_granted_by(session, meeting.id, grantor_id) is not None:
        raise Conflict("This member has already given a proxy in this meeting.", code="proxy_exists")
    proxy = Proxy(meeting_id=meeting.id, grantor_id=grantor_id, holder_id=holder_id,
                  active_grantor_id=grantor_id, created_by_id=actor.id, created_at=utcnow())
    session.add(proxy)
    try:
        session.flush()
    except IntegrityError as err:  # a concurrent twin won
        raise Conflict("This member has already given a proxy in this meeting.", code="proxy_exists") from err
    audit.record(session, "proxy.created", actor_id=actor.id, object_type="proxy", object_id=proxy.id,
                 meeting_id=meeting.id, details={"grantor_id": grantor_id, "holder_id": holder_id})
    _tell(session, proxy, "proxy.created")
    return proxy


def revoke_proxy(session: Session, proxy: Proxy, actor: User) -> Proxy:
    """End a proxy (its grantor or the secretariat); refused while any poll of the meeting is open."""
    meeting = session.get(Meeting, proxy.meeting_id)
    if not can_see_proxy(meeting, actor, proxy):
        raise NotFound("No such proxy.")
    if not can_revoke_proxy(meeting, actor, proxy):
        raise Forbidden("Only the grantor or the secretariat can revoke a proxy.")
    if proxy.active_grantor_id is None:
        raise Conflict("This proxy was already revoked.", code="proxy_revoked")
    open_poll = session.execute(select(Poll.id).where(
        Poll.meeting_id == proxy.meeting_id, Poll.status == "open").limit(1)).first()
    if open_poll is not None:
        raise Conflict("A poll is open: revoke the proxy after it closes.", code="poll_open")
    proxy.active_grantor_id, proxy.revoked_at, proxy.revoked_by_id = None, utcnow(), actor.id
    session.flush()
    audit.record(session, "proxy.revoked", actor_id=actor.id, object_type="proxy", object_id=proxy.id,
                 meeting_id=proxy.meeting_id, details={"grantor_id": proxy.grantor_id, "holder_id": proxy.holder_id})
    _tell(session, proxy, "proxy.revoked")
    return proxy


def proxy_dict(proxy: Proxy) -> dict:
    """The proxy as REST shows it (datetimes as objects; the schema writes them)."""
    return {"id": proxy.id, "meeting_id": proxy.meeting_id, "grantor_id": proxy.grantor_id,
            "holder_id": proxy.holder_id, "active": proxy.active_grantor_id is not None,
            "created_at": proxy.created_at, "revoked_at": proxy.revoked_at}


def _tell(session: Session, proxy: Proxy, name: str) -> None:
    # Private to the two members: who represents whom is not the whole room's business.
    data = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in proxy_dict(proxy).items()}
    for uid in (proxy.grantor_id, proxy.holder_id):
        eventlog.notify(session, uid, name, data)
