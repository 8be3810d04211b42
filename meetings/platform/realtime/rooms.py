"""The Socket.IO rooms, named in one place.

- ``meeting:<id>``: every device that joined the meeting (the seq'd event log goes here);
- ``meeting:<id>:managers``: the devices of those who run it (chair, secretariat), for
  live counts and presence that delegates do not see;
- ``user:<id>``: every device of one user (private notices, private annotations).

docs/realtime.md says who joins which and what each receives.
"""
from __future__ import annotations


def meeting_room(meeting_id: int) -> str:
    """Every device joined to the meeting."""
    return f"meeting:{meeting_id}"


def managers_room(meeting_id: int) -> str:
    """The devices of those who run the meeting."""
    return f"meeting:{meeting_id}:managers"


def user_room(user_id: int) -> str:
    """Every device of one user."""
    return f"user:{user_id}"
