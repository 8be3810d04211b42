"""Server-side sessions: every login is a row that can end, and ending it ends its sockets.

A browser login is a ``UserSession`` row; the Flask session cookie carries
only its random id (``SESSION_KEY``; the row stores the sha256), so a cookie
replayed after logout finds an ended row and is refused. Bearer tokens
(``ApiToken``) are the other kind of credential. Both are checked the same way
on every request and every socket event: not ended, not idle longer than
``SESSION_IDLE_MINUTES``, not older than ``SESSION_ABSOLUTE_HOURS`` (a token
also not past its own ``expires_at``), and the account active.

A credential is named by its key, ``session-<id>`` or ``token-<id>``: the id of
the device list (``GET /api/v1/users/me/devices``) and what a socket remembers.

Ending credentials (logout, a device signed out, password change,
deactivation, "sign out everywhere") also ends their sockets: every socket's
sid is recorded at connect (``SocketConnection``), and after the commit the
gateway sends each ``session.revoked`` and disconnects it, through the message
queue when the socket is on another process.

Writes that a read causes (the last-seen time, a socket's record) run as units
of work of their own: a GET never writes in its own transaction.
"""
from __future__ import annotations

import hashlib
import logging
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import delete, event, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from meetings.accounts.models import ApiToken, User
from meetings.accounts.session_models import SocketConnection, UserSession
from meetings.accounts.token_cache import CACHE, TokenSeen, snapshot
from meetings.core.db import utcnow
from meetings.core.extensions import socketio
from meetings.platform.audit import service as audit
from meetings.platform.realtime import gateway

log = logging.getLogger(__name__)

SESSION_KEY = "auth_session"  # the Flask session's entry holding the clear session id
TOUCH_EVERY = timedelta(seconds=60)  # the last-seen time is written at most once a minute per credential
NODE = f"{socket.gethostname()}:{os.getpid()}"
KINDS = ("session", "token")
_FORGET = "accounts_forget_tokens"  # in Session.info: tokens ended in this transaction, forgotten again at commit


@dataclass(frozen=True)
class Timeouts:
    idle: timedelta
    absolute: timedelta


def timeouts() -> Timeouts:
    """The idle and absolute timeouts from the app's settings."""
    config = current_app.config if has_app_context() else {}
    return Timeouts(idle=timedelta(minutes=int(config.get("SESSION_IDLE_MINUTES") or 480)),
                    absolute=timedelta(hours=int(config.get("SESSION_ABSOLUTE_HOURS") or 168)))


def digest(clear: str) -> str:
    """The stored form of a clear session id or token."""
    return hashlib.sha256(clear.encode("utf-8")).hexdigest()


def credential_key(kind: str, row_id: int) -> str:
    """``session-<id>`` or ``token-<id>``."""
    return f"{kind}-{row_id}"


def parse_key(key: Any) -> tuple[str, int] | None:
    """(kind, id) of a credential key, or None when it is not one."""
    kind, _, number = str(key or "").partition("-")
    return (kind, int(number)) if kind in KINDS and number.isdigit() else None


def _alive(row: UserSession | ApiToken | TokenSeen, now: datetime, t: Timeouts) -> bool:
    if isinstance(row, UserSession):
        if row.ended_at is not None:
            return False
    elif row.revoked_at is not None or row.expires_at <= now:
        return False
    last = row.last_seen_at or row.created_at
    return now - last < t.idle and now - row.created_at < t.absolute and bool(row.user_active)


# --------------------------------------------------------------------------- finding live credentials

def _with_user(session: Session, model: type, *where: Any) -> UserSession | ApiToken | None:
    found = session.execute(select(model, User.active).join(User, User.id == model.user_id).where(*where)).first()
    if found is None:
        return None
    row, active = found
    row.user_active = active  # read once with the row: one query per check
    return row


def live_session(session: Session, clear: str) -> UserSession | None:
    """The live browser session with this clear id, or None."""
    row = _with_user(session, UserSession, UserSession.session_hash == digest(clear))
    return row if row is not None and _alive(row, utcnow(), timeouts()) else None


def live_token(session: Session, clear: str, *, remembered: bool = True) -> TokenSeen | None:
    """The live bearer token with this clear value, or None; its lookup is remembered for
    ``TOKEN_CACHE_SECONDS`` (``accounts.token_cache``: an ended token is forgotten at once).
    ``remembered=False`` reads the row whatever is remembered (a socket connecting: rare, and
    a token revoked on another process must not open a new socket there)."""
    hashed = digest(clear)
    row = CACHE.get(hashed) if remembered else None
    if row is None:
        generation = CACHE.generation
        found = _with_user(session, ApiToken, ApiToken.token_hash == hashed)
        if found is None:
            return None
        row = snapshot(found)
        CACHE.put(hashed, row, generation, _cache_seconds())
    return row if _alive(row, utcnow(), timeouts()) else None


def _cache_seconds() -> float:
    return float(current_app.config.get("TOKEN_CACHE_SECONDS", 5) or 0) if has_app_context() else 0.0


def socket_credential_live(session: Session, user_id: int, key: Any) -> bool:
    """Whether a socket's credential ``key`` of ``user_id`` is still live (each socket event).

    Remembered for ``TOKEN_CACHE_SECONDS``: a page turn then asks no credential query. Ending
    the credential in this process forgets it at once (and disconnects its sockets on every
    process); a timeout or an end on another process is seen at most that long later."""
    if not isinstance(key, str):
        return False
    if CACHE.recently_live(key):
        return True
    generation = CACHE.generation
    row = live_credential(session, user_id, key)
    if row is None:
        return False
    if needs_touch(row):
        touch_in(row)  # committed with the event (platform/realtime/gateway.py)
    CACHE.remember_live(key, generation, _cache_seconds())
    return True


def live_credential(session: Session, user_id: int, key: Any) -> UserSession | ApiToken | None:
    """The credential ``key`` of ``user_id`` if it is still live (checked on each socket event)."""
    parsed = parse_key(key)
    if parsed is None:
        return None
    model = UserSession if parsed[0] == "session" else ApiToken
    row = _with_user(session, model, model.id == parsed[1], model.user_id == user_id)
    return row if row is not None and _alive(row, utcnow(), timeouts()) else None


def key_of(row: UserSession | ApiToken | TokenSeen) -> str:
    """The credential key of a row."""
    return credential_key("session" if isinstance(row, UserSession) else "token", row.id)


# --------------------------------------------------------------------------- starting, seeing

def start(session: Session, user: User, *, user_agent: str | None, ip: str | None) -> tuple[str, UserSession]:
    """A new browser session for ``user`` (already authenticated); the clear id is returned once."""
    clear = secrets.token_urlsafe(32)
    row = UserSession(user_id=user.id, session_hash=digest(clear), user_agent=(user_agent or "")[:300] or None,
                      ip_address=(ip or "")[:64] or None)
    session.add(row)
    session.flush()
    return clear, row


def needs_touch(row: UserSession | ApiToken | TokenSeen) -> bool:
    """Whether the row's last-seen time is old enough to be written again."""
    return row.last_seen_at is None or utcnow() - row.last_seen_at >= TOUCH_EVERY


def touch(engine: Engine, key: str, *, ip: str | None, user_agent: str | None) -> None:
    """Write a credential's last-seen time (and where from), in a unit of work of its own."""
    kind, row_id = parse_key(key) or ("", 0)
    model = UserSession if kind == "session" else ApiToken
    values: dict[str, Any] = {"last_seen_at": utcnow(), "ip_address": (ip or "")[:64] or None}
    if user_agent:
        values["user_agent"] = user_agent[:300]
    with Session(engine) as s:
        s.execute(update(model).where(model.id == row_id).values(values))
        s.commit()
    if kind == "token":
        CACHE.seen_now(key, values["last_seen_at"])  # the remembered copy must not ask for a touch again


def touch_in(row: UserSession | ApiToken) -> None:
    """Mark a credential seen now, in the caller's transaction (a socket event commits it)."""
    row.last_seen_at = utcnow()


def devices(session: Session, user_id: int, current: str | None = None) -> list[dict[str, Any]]:
    """The live sessions and tokens of ``user_id``, most recently seen first."""
    now, t = utcnow(), timeouts()
    rows: list[UserSession | ApiToken] = []
    for model in (UserSession, ApiToken):
        for row, active in session.execute(select(model, User.active).join(User, User.id == model.user_id)
                                           .where(model.user_id == user_id)):
            row.user_active = active
            if _alive(row, now, t):
                rows.append(row)
    out = [{"id": key_of(r), "kind": "session" if isinstance(r, UserSession) else "token", "label": r.label,
            "created_at": r.created_at, "last_seen_at": r.last_seen_at or r.created_at,
            "user_agent": r.user_agent, "ip_address": r.ip_address, "current": key_of(r) == current}
           for r in rows]
    return sorted(out, key=lambda d: d["last_seen_at"], reverse=True)


# --------------------------------------------------------------------------- ending

def end(session: Session, user_id: int, key: str, *, reason: str, actor_id: int | None) -> bool:
    """End one credential of ``user_id`` and its sockets; False when it is not theirs or not live."""
    parsed = parse_key(key)
    if parsed is None:
        return False
    model = UserSession if parsed[0] == "session" else ApiToken
    row = session.execute(select(model).where(model.id == parsed[1], model.user_id == user_id)).scalar_one_or_none()
    if row is None or (row.ended_at if isinstance(row, UserSession) else row.revoked_at) is not None:
        return False
    _mark_ended(row, utcnow(), reason)
    audit.record(session, "session.ended" if parsed[0] == "session" else "token.revoked", actor_id=actor_id,
                 object_type="user", object_id=user_id, details={"device": key, "reason": reason})
    _end_sockets(session, user_id, reason, only=key)
    return True


def end_all(session: Session, user_id: int, *, reason: str, actor_id: int | None, keep: str | None = None) -> int:
    """End every session and token of ``user_id`` (but ``keep``) and disconnect their sockets."""
    now, ended = utcnow(), 0
    for model, open_ in ((UserSession, UserSession.ended_at.is_(None)), (ApiToken, ApiToken.revoked_at.is_(None))):
        for row in session.execute(select(model).where(model.user_id == user_id, open_)).scalars():
            if key_of(row) != keep:
                _mark_ended(row, now, reason)
                ended += 1
    audit.record(session, "user.signed_out", actor_id=actor_id, object_type="user", object_id=user_id,
                 details={"reason": reason, "ended": ended, "kept_current": keep is not None})
    _end_sockets(session, user_id, reason, keep=keep)
    return ended


def _mark_ended(row: UserSession | ApiToken, now: datetime, reason: str) -> None:
    if isinstance(row, UserSession):
        row.ended_at, row.end_reason = now, reason[:20]
    else:
        row.revoked_at = now
    key = key_of(row)
    CACHE.forget(key)  # this process refuses it from now on ...
    session = Session.object_session(row)
    if session is not None:  # ... and after the commit, in case a lookup read it just before
        session.info.setdefault(_FORGET, set()).add(key)


@event.listens_for(Session, "after_commit")
def _forget_ended_tokens(session: Session) -> None:
    for key in session.info.pop(_FORGET, ()):
        CACHE.forget(key)


@event.listens_for(Session, "after_rollback")
def _keep_tokens(session: Session) -> None:
    session.info.pop(_FORGET, None)  # nothing ended after all (the early forget only cost a lookup)


def _end_sockets(session: Session, user_id: int, reason: str, *, only: str | None = None,
                 keep: str | None = None) -> None:
    where = [SocketConnection.user_id == user_id]
    if only is not None:
        where.append(SocketConnection.credential == only)
    if keep is not None:
        where.append(SocketConnection.credential != keep)
    sids = list(session.execute(select(SocketConnection.sid).where(*where)).scalars())
    if sids:
        session.execute(delete(SocketConnection).where(SocketConnection.sid.in_(sids)))
        gateway.end_sockets(session, sids, {"reason": reason})


# --------------------------------------------------------------------------- sockets

def record_socket(engine: Engine, sid: str, user_id: int, key: str) -> None:
    """Remember which credential socket ``sid`` connected with, in a unit of work of its own;
    first forget this process's sockets of the user that are closed by now."""
    manager = socketio.server.manager if socketio.server is not None else None
    with Session(engine) as s:
        mine = s.execute(select(SocketConnection.sid).where(SocketConnection.user_id == user_id,
                                                            SocketConnection.node == NODE)).scalars().all()
        s.rollback()  # the read ends here: on SQLite a transaction that read, then writes, may find its snapshot stale
        gone = [old for old in mine if old != sid and manager is not None and not manager.is_connected(old, "/")]
        s.execute(insert(SocketConnection).values(sid=sid, user_id=user_id, credential=key, node=NODE,
                                                  connected_at=utcnow()))
        if gone:
            s.execute(delete(SocketConnection).where(SocketConnection.sid.in_(gone)))
        s.commit()
