"""A token bucket per socket and one per user: a client flooding events is refused, others are not slowed.

Every client→server event passes :func:`allow` in the gateway's wrapper before
it touches the database. Each connection (Socket.IO ``sid``) has a bucket of
``SOCKET_EVENT_BURST`` tokens (default 100) refilled at ``SOCKET_EVENT_RATE``
tokens a second (default 20); an event takes one token, and an event that finds
the bucket empty is answered with :data:`RATE_LIMITED_ACK` at once.

Opening more sockets does not buy more events: each user also has a bucket of
``SOCKET_USER_EVENT_BURST`` tokens (default 200) refilled at
``SOCKET_USER_EVENT_RATE`` a second (default 40), shared by all of the user's
sockets in this worker; an event needs a token from both (the socket's is
taken first, so an event refused for the account still costs its socket one).

A tablet's normal use (page turns, a ballot, a request to speak, catching up
after a reconnect) stays far below these figures. The buckets live in the
worker's memory: one gevent worker serves each socket, so no sharing is needed,
and nothing here yields, so a check-and-take is atomic under gevent. Buckets
that have refilled completely are forgotten (a full bucket and no bucket are the
same thing), which keeps the table as small as the set of busy sockets without
a hook on disconnect.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DEFAULT_RATE = 20.0  # events a second, sustained
DEFAULT_BURST = 100  # events at once (a presenter flicking through pages, a script of page turns)
DEFAULT_USER_RATE = 40.0  # a user's sockets together: two busy devices at full speed
DEFAULT_USER_BURST = 200
PRUNE_EVERY = 1024  # look for forgettable buckets after this many new ones

RATE_LIMITED_ACK: dict[str, Any] = {
    "ok": False,
    "error": {"code": "rate_limited", "message": "Too many events from this connection; slow down."},
}


@dataclass
class Bucket:
    tokens: float
    stamp: float


class TokenBuckets:
    """Buckets keyed by connection; ``clock`` is injectable for tests."""

    def __init__(self, rate: float = DEFAULT_RATE, burst: int = DEFAULT_BURST,
                 clock: Callable[[], float] = time.monotonic):
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate, self.burst, self.clock = float(rate), float(burst), clock
        self._buckets: dict[str, Bucket] = {}
        self._created = 0

    def allow(self, key: str) -> bool:
        """Take a token from ``key``'s bucket; False when it is empty (nothing is taken)."""
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = Bucket(self.burst, now)
            self._created += 1
            if self._created % PRUNE_EVERY == 0:
                self.prune(now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
            bucket.stamp = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True

    def prune(self, now: float | None = None) -> None:
        """Forget the buckets that would be full by now."""
        now = self.clock() if now is None else now
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.stamp) * self.rate >= self.burst]
        for key in full:
            del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)


USER_RATE_LIMITED_MESSAGE = "Too many events from this account's connections; slow down."

_buckets: dict[str, TokenBuckets] = {}


def _made(kind: str, rate: float, burst: int) -> TokenBuckets:
    # Made again only when the settings change (tests build apps with other settings).
    made = _buckets.get(kind)
    if made is None or (made.rate, made.burst) != (rate, float(burst)):
        made = _buckets[kind] = TokenBuckets(rate, burst)
    return made


def buckets_for(config: Any) -> TokenBuckets:
    """The worker's socket buckets, made on first use from ``SOCKET_EVENT_RATE`` / ``SOCKET_EVENT_BURST``."""
    return _made("socket", float(config.get("SOCKET_EVENT_RATE") or DEFAULT_RATE),
                 int(config.get("SOCKET_EVENT_BURST") or DEFAULT_BURST))


def user_buckets_for(config: Any) -> TokenBuckets:
    """The worker's user buckets, from ``SOCKET_USER_EVENT_RATE`` / ``SOCKET_USER_EVENT_BURST``."""
    return _made("user", float(config.get("SOCKET_USER_EVENT_RATE") or DEFAULT_USER_RATE),
                 int(config.get("SOCKET_USER_EVENT_BURST") or DEFAULT_USER_BURST))


def rate_limited_ack() -> dict[str, Any]:
    """A fresh copy of the refusal (handlers must not share one mutable dict)."""
    return {"ok": False, "error": dict(RATE_LIMITED_ACK["error"])}


def refusal(sid: str, user_id: int | None) -> dict[str, Any] | None:
    """None when the current app lets this event of socket ``sid`` (of user ``user_id``) through
    now; else the ``rate_limited`` acknowledgement to answer with."""
    from flask import current_app

    if not buckets_for(current_app.config).allow(sid):
        return rate_limited_ack()
    if user_id is not None and not user_buckets_for(current_app.config).allow(str(user_id)):
        return {"ok": False, "error": {"code": "rate_limited", "message": USER_RATE_LIMITED_MESSAGE}}
    return None
