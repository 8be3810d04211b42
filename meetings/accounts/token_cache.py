"""A few seconds' memory of bearer-token lookups and of live socket credentials, per process.

A tablet sends its token with every request (a page, a file, a 304 revalidation):
looking it up is a query joining the token and its user. For
``TOKEN_CACHE_SECONDS`` after a lookup this process answers from memory instead.
Tokens are 256-bit random values found by their SHA-256 (``sessions.digest``),
so the lookup itself needs no slow hash; the cache only saves the query.

Revocation still takes effect: ending a token in this process forgets it at
once (when it is marked, and again after the commit, so a lookup that read the
row just before the commit cannot put it back: every forget bumps a generation,
and a lookup started before it does not store its result). Another process
notices at its next lookup after its entry ages out: at most the TTL later.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

MAX_ENTRIES = 20_000  # a hall of tablets many times over; past it, the cache starts afresh


@dataclass(frozen=True)
class TokenSeen:
    """A bearer token as read from the database a moment ago (what the checks need of an ``ApiToken``)."""

    id: int
    user_id: int
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime | None
    revoked_at: datetime | None
    user_active: bool
    label: str | None = None


def snapshot(row: Any) -> TokenSeen:
    """The cacheable copy of an ``ApiToken`` row read with its user's ``active`` flag."""
    return TokenSeen(id=row.id, user_id=row.user_id, created_at=row.created_at, expires_at=row.expires_at,
                     last_seen_at=row.last_seen_at, revoked_at=row.revoked_at, user_active=bool(row.user_active),
                     label=row.label)


class TokenCache:
    """digest → (deadline, TokenSeen), with the credential key → digest index for forgetting."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, TokenSeen]] = {}
        self._digests: dict[str, str] = {}
        # credential key ("session-<id>", "token-<id>") -> deadline: a socket's credential found live
        # a moment ago (every socket event re-checks it; a page turn then asks no credential query).
        self._live: dict[str, float] = {}
        self.generation = 0

    def recently_live(self, key: str) -> bool:
        """Whether credential ``key`` was found live less than the TTL ago (and not ended since)."""
        deadline = self._live.get(key)
        if deadline is None:
            return False
        if deadline <= time.monotonic():
            self._live.pop(key, None)
            return False
        return True

    def remember_live(self, key: str, generation: int, seconds: float) -> None:
        """Credential ``key`` was just found live: remember it for ``seconds``, unless a credential
        was ended since the lookup began (``generation``)."""
        if generation != self.generation or seconds <= 0:
            return
        if len(self._live) >= MAX_ENTRIES:
            self._live.clear()
        self._live[key] = time.monotonic() + seconds

    def get(self, digest: str) -> TokenSeen | None:
        """The token seen under ``digest``, while its entry is fresh."""
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            self._drop(digest)
            return None
        return entry[1]

    def put(self, digest: str, seen: TokenSeen, generation: int, seconds: float) -> None:
        """Remember ``seen`` for ``seconds``, unless a token was forgotten since the lookup began."""
        if generation != self.generation or seconds <= 0:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
            self._digests.clear()
        self._entries[digest] = (time.monotonic() + seconds, seen)
        self._digests[f"token-{seen.id}"] = digest

    def forget(self, key: str) -> None:
        """The credential ``key`` (a token or a browser session) ended: drop it, and let no lookup in
        flight store it again."""
        self.generation += 1
        self._live.pop(key, None)
        digest = self._digests.get(key)
        if digest is not None:
            self._drop(digest)

    def seen_now(self, key: str, when: datetime) -> None:
        """The token's last-seen time was just written: keep the entry in step (no touch again)."""
        digest = self._digests.get(key)
        entry = self._entries.get(digest) if digest else None
        if entry is not None:
            self._entries[digest] = (entry[0], replace(entry[1], last_seen_at=when))

    def _drop(self, digest: str) -> None:
        entry = self._entries.pop(digest, None)
        if entry is not None:
            self._digests.pop(f"token-{entry[1].id}", None)


CACHE = TokenCache()  # one per process
