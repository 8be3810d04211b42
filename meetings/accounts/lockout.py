"""Per-account lockout with exponential back-off, beside the per-address limit.

The per-address limit (``LOGIN_RATE_LIMIT``) cannot tell a hall of 200 tablets
behind one NAT address from one guesser, so it is set high; guessing one
account's password is stopped here instead, keyed by the account name: after
``LOGIN_LOCKOUT_THRESHOLD`` failures in a row the account is locked for
``LOGIN_LOCKOUT_SECONDS``, doubling with each further failure up to
``LOGIN_LOCKOUT_MAX_SECONDS``. While locked even the right password is refused
(429 ``account_locked``), and the password is not checked at all. Unknown names
are counted like real ones, so the answer tells nothing about which exist.
A right password resets the count.

A failed login answers 401 and its transaction rolls back, so the failure is
counted by a unit of work of its own once the request is over
(``platform.http.commit.afterwards``); the count is one atomic UPDATE, so
parallel guesses cannot lose increments.
"""
from __future__ import annotations

import logging
import math
from datetime import timedelta

from flask import current_app, has_app_context, has_request_context
from sqlalchemy import case, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from meetings.accounts.session_models import LoginThrottle
from meetings.core.db import utcnow
from meetings.core.errors import DomainError
from meetings.core.extensions import db
from meetings.platform.http.commit import afterwards

log = logging.getLogger(__name__)

# Failures older than this are forgotten: the next one counts from 1 again.
FORGET_AFTER = timedelta(days=1)
_DEFAULTS = {"LOGIN_LOCKOUT_THRESHOLD": 5, "LOGIN_LOCKOUT_SECONDS": 30, "LOGIN_LOCKOUT_MAX_SECONDS": 900}


class AccountLocked(DomainError):
    """Too many failed logins for this account: wait ``retry_after`` seconds."""

    status = 429
    code = "account_locked"

    def __init__(self, retry_after: int):
        super().__init__(f"Too many failed attempts for this account; try again in {retry_after} s.",
                         details={"retry_after": retry_after})
        self.retry_after = retry_after


def settings() -> tuple[int, int, int]:
    """(threshold, first lock in seconds, longest lock in seconds), from the app's settings."""
    config = current_app.config if has_app_context() else {}
    return tuple(int(config.get(n) if config.get(n) is not None else d)  # type: ignore[return-value]
                 for n, d in _DEFAULTS.items())


def key(username: str) -> str:
    """The account name as counted: trimmed, lower case, at most 80 characters."""
    return username.strip().lower()[:80]


def lock_seconds(failures: int, threshold: int, first: int, longest: int) -> int:
    """How long an account with ``failures`` failures in a row stays locked (0: not locked)."""
    over = failures - threshold
    if over < 0:
        return 0
    return min(first * 2 ** min(over, 30), longest)


def check(session: Session, username: str) -> None:
    """Raise AccountLocked while ``username`` is locked."""
    until = session.execute(select(LoginThrottle.locked_until)
                            .where(LoginThrottle.username == key(username))).scalar_one_or_none()
    now = utcnow()
    if until is not None and until > now:
        raise AccountLocked(max(1, math.ceil((until - now).total_seconds())))


def clear(session: Session, username: str) -> None:
    """A right password: forget the account's failures (in the login's own transaction)."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.username == key(username)))


def failed(username: str) -> None:
    """Count a failed login for ``username``, once the request is over (its transaction rolls back)."""
    name = key(username)
    if not name:
        return
    engine, limits = db.engine, settings()  # read here, in the app context

    def work() -> None:
        record_failure(engine, name, limits)

    if has_request_context():
        afterwards(work)
    else:
        work()


def record_failure(engine, name: str, limits: tuple[int, int, int]) -> int:
    """Add one failure to ``name`` in a transaction of its own; returns the count."""
    now = utcnow()
    with Session(engine) as s:
        count = _increment(s, name, now)
        if count is None:
            s.add(LoginThrottle(username=name, failures=1, last_failure_at=now))
            try:
                s.flush()
                count = 1
            except IntegrityError:  # a parallel failure inserted it first
                s.rollback()
                count = _increment(s, name, now) or 1
        seconds = lock_seconds(count, *limits)
        if seconds:
            s.execute(update(LoginThrottle).where(LoginThrottle.username == name)
                      .values(locked_until=now + timedelta(seconds=seconds)))
            log.warning("login for account %r locked for %d s after %d failures", name, seconds, count)
        s.commit()
    return count


def _increment(s: Session, name: str, now) -> int | None:
    t = LoginThrottle
    fresh = case((t.last_failure_at < now - FORGET_AFTER, 1), else_=t.failures + 1)
    return s.execute(update(t).where(t.username == name).values(failures=fresh, last_failure_at=now)
                     .returning(t.failures)).scalar_one_or_none()
