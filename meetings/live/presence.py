"""Presence: which participants have a device connected to a meeting right now.

One ``live_presence`` row per (socket, meeting) in the database, so that every
server process behind the Redis queue sees the same picture and a user with a
tablet on one process and a laptop on another stays online until both leave.
Presence is not roll call (the secretariat marks that) and not part of the
seq'd log: a thousand tablets reconnecting would otherwise broadcast a million
messages. Changes go to the meeting's managers' room only ("presence.changed").
"""
from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from meetings.live.models import Presence
from meetings.platform.realtime import eventlog
from meetings.platform.realtime.rooms import managers_room

NODE = f"{socket.gethostname()}:{os.getpid()}"
_purged = False
# After this many seconds a socket's remembered role is checked again in the database
# (covers changes that append no meeting event, e.g. a body's secretariat membership).
ROLE_TTL_S = 5.0


@dataclass
class SocketRole:
    """What one socket's user may do in one meeting, as checked at ``seq`` (time ``at``).

    Remembered per (sid, meeting) in this process at ``meeting.join`` so a page
    turn needs no permission queries. It stays valid while the meeting's seq
    moves only by this socket's own events (every change of participants of a
    live meeting appends an event) and for at most ROLE_TTL_S; otherwise the
    caller checks again under the meeting row's lock (see
    meetings.live.presenter.turn_page).
    """

    manager: bool
    viewer: bool
    seq: int
    at: float

    def fresh_at(self, seq: int) -> bool:
        """True when nothing but this socket's own event ``seq`` happened since the check."""
        return seq == self.seq + 1 and time.monotonic() - self.at < ROLE_TTL_S


_roles: dict[str, dict[int, SocketRole]] = {}  # sid -> meeting id -> role


def remember_role(sid: str, meeting_id: int, *, manager: bool, viewer: bool, seq: int) -> None:
    _roles.setdefault(sid, {})[meeting_id] = SocketRole(manager, viewer, seq, time.monotonic())


def cached_role(sid: str, meeting_id: int) -> SocketRole | None:
    return _roles.get(sid, {}).get(meeting_id)


def forget_roles(sid: str, meeting_id: int | None = None) -> None:
    """Drop a socket's remembered roles (one meeting, or all when it disconnects)."""
    if meeting_id is None:
        _roles.pop(sid, None)
    else:
        _roles.get(sid, {}).pop(meeting_id, None)


def purge_dead_nodes(session: Session) -> None:
    """Drop rows left by processes of this host that are gone (a crash, a restart).

    Rows of a previous process that had this very pid are dropped too: that
    process is dead, since we have its pid. Other hosts clean up after themselves.
    """
    host = socket.gethostname()
    nodes = session.execute(select(Presence.node).distinct().where(Presence.node.like(f"{host}:%"))).scalars()
    dead = [n for n in nodes if n == NODE or not _alive(n.rsplit(":", 1)[1])]
    if dead:
        session.execute(delete(Presence).where(Presence.node.in_(dead)))


def _alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def _devices(session: Session, meeting_id: int, user_id: int) -> int:
    return session.execute(select(func.count()).select_from(Presence).where(
        Presence.meeting_id == meeting_id, Presence.user_id == user_id)).scalar_one()


def _announce(session: Session, meeting_id: int, user_id: int, devices: int) -> None:
    eventlog.notify_room(session, managers_room(meeting_id), "presence.changed",
                         {"meeting_id": meeting_id, "user_id": user_id, "online": devices > 0, "devices": devices})


def add(session: Session, meeting_id: int, user_id: int, sid: str) -> None:
    """Record that socket ``sid`` of ``user_id`` joined the meeting (idempotent)."""
    global _purged
    if not _purged:
        purge_dead_nodes(session)
        _purged = True
    exists = session.execute(select(Presence.id).where(Presence.sid == sid, Presence.meeting_id == meeting_id)).first()
    if exists is None:
        session.add(Presence(meeting_id=meeting_id, user_id=user_id, sid=sid, node=NODE))
        session.flush()
        _announce(session, meeting_id, user_id, _devices(session, meeting_id, user_id))


def remove(session: Session, sid: str, meeting_id: int | None = None) -> None:
    """Forget socket ``sid`` (in one meeting, or everywhere when it disconnects)."""
    forget_roles(sid, meeting_id)
    stmt = select(Presence).where(Presence.sid == sid)
    if meeting_id is not None:
        stmt = stmt.where(Presence.meeting_id == meeting_id)
    for row in session.execute(stmt).scalars().all():
        session.delete(row)
        session.flush()
        _announce(session, row.meeting_id, row.user_id, _devices(session, row.meeting_id, row.user_id))


def online_users(session: Session, meeting_id: int) -> list[dict[str, Any]]:
    """[{"user_id", "devices"}] for every participant with at least one device connected."""
    rows = session.execute(select(Presence.user_id, func.count()).where(Presence.meeting_id == meeting_id)
                           .group_by(Presence.user_id).order_by(Presence.user_id)).all()
    return [{"user_id": uid, "devices": n} for uid, n in rows]
