"""The meeting snapshot's registry: each domain contributes its own part.

A client that joins late or falls too far behind gets one snapshot of the
whole live state (docs/realtime.md, "snapshot"). The live domain builds its
core (meeting, agenda, presenter, roll call, speakers); domains above it
(voting, …) add their parts here instead of being imported by it:

    @snapshot.part("polls")
    def poll_snapshot(session, meeting, user): ...

A part is a read: it must not write, and it sees only what ``user`` may see.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

Part = Callable[[Session, Any, Any], Any]
_parts: dict[str, Part] = {}


def part(name: str) -> Callable[[Part], Part]:
    """Register ``fn(session, meeting, user)`` as the snapshot's key ``name``."""

    def register(fn: Part) -> Part:
        if _parts.get(name, fn) is not fn:
            raise ValueError(f"snapshot part {name!r} is already contributed by {_parts[name].__module__}")
        _parts[name] = fn
        return fn

    return register


def contributed(session: Session, meeting: Any, user: Any) -> dict[str, Any]:
    """Every registered part for this meeting and user, by name."""
    return {name: fn(session, meeting, user) for name, fn in sorted(_parts.items())}


def names() -> list[str]:
    """The registered parts' names (for tests and docs)."""
    return sorted(_parts)
