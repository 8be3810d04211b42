"""Who is told what, how and when: a body's settings, a user's, and the defaults under both.

A notice belongs to a *group* ("reminder", "document", "minutes", "poll", "deadline.<source>").
The body says which channels are on for each group and when reminders fire; the user says
which channels reach them at all and when SMS and push must wait (quiet hours). A channel is
used when both say yes. No settings row means the defaults below (and the installation's
``NOTIFY_REMINDER_OFFSETS``).
"""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import Body
from meetings.bodies.permissions import can_create_meeting
from meetings.core.errors import Forbidden, Invalid
from meetings.notifications.settings_models import BodyNotificationSettings, UserNotificationSettings
from meetings.platform.audit import service as audit

CHANNELS = ("email", "sms", "push", "inapp")
# The channels a body has on per group until it chooses: SMS costs money per message and
# only a meeting's reminder is worth it by default; a poll opening is seen in the room.
GROUPS: dict[str, tuple[str, ...]] = {
    "reminder": ("email", "sms", "push", "inapp"),
    "document": ("email", "push", "inapp"),
    "minutes": ("email", "push", "inapp"),
    "poll": ("inapp",),
}
# Deadline sources' default offsets (minutes before the deadline), filled by deadlines.register.
DEADLINE_DEFAULTS: dict[str, tuple[int, ...]] = {}
MAX_OFFSET = 60 * 24 * 30  # a month ahead at most
MAX_OFFSETS = 5
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def register_group(name: str, channels: tuple[str, ...]) -> None:
    """Make a group known with its default channels (deadline sources register theirs)."""
    GROUPS[name] = tuple(c for c in channels if c in CHANNELS)


# --------------------------------------------------------------------------- reading

def default_reminder_offsets() -> list[int]:
    """The installation's minutes-before-a-meeting (``NOTIFY_REMINDER_OFFSETS``, default 1440 and 60)."""
    return parse_offsets(current_app.config.get("NOTIFY_REMINDER_OFFSETS") or "1440,60")


def parse_offsets(value: Any) -> list[int]:
    """``"1440,60"`` or ``[1440, 60]`` → ``[1440, 60]`` (largest first, no repeats); Invalid otherwise."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    try:
        offsets = sorted({int(str(v).strip()) for v in items if str(v).strip()}, reverse=True)
    except ValueError:
        raise Invalid("Reminder times are whole minutes before the start.", code="bad_offsets") from None
    if len(offsets) > MAX_OFFSETS or any(not 1 <= o <= MAX_OFFSET for o in offsets):
        raise Invalid(f"At most {MAX_OFFSETS} reminder times, each 1 to {MAX_OFFSET} minutes ahead.",
                      code="bad_offsets")
    return offsets


def _body_row(session: Session, body_id: int) -> BodyNotificationSettings | None:
    return session.get(BodyNotificationSettings, body_id)


def body_settings(session: Session, body_id: int) -> dict[str, Any]:
    """The body's effective settings: reminder offsets, deadline offsets per source, channels per group."""
    row = _body_row(session, body_id)
    chosen_channels = (row.channels if row else None) or {}
    chosen_deadlines = (row.deadline_offsets if row else None) or {}
    return {
        "reminder_offsets": list(row.reminder_offsets) if row and row.reminder_offsets is not None
        else default_reminder_offsets(),
        "deadline_offsets": {name: list(chosen_deadlines.get(name, default))
                             for name, default in DEADLINE_DEFAULTS.items()},
        "channels": {group: sorted(chosen_channels.get(group, default), key=CHANNELS.index)
                     for group, default in GROUPS.items()},
    }


def reminder_offsets(session: Session, body_id: int) -> list[int]:
    """Minutes before a meeting of the body that its participants are reminded, largest first."""
    return body_settings(session, body_id)["reminder_offsets"]


def deadline_offsets(session: Session, body_id: int, source: str) -> list[int]:
    """Minutes before a deadline of ``source`` that those who have not acted are reminded."""
    return body_settings(session, body_id)["deadline_offsets"].get(source, [])


def user_settings(session: Session, user_id: int) -> dict[str, Any]:
    """The user's switches and quiet hours (defaults: every channel on, no quiet hours)."""
    row = session.get(UserNotificationSettings, user_id)
    if row is None:
        return {**dict.fromkeys(CHANNELS, True), "quiet_from": None, "quiet_until": None}
    return {**row.channels(), "quiet_from": row.quiet_from, "quiet_until": row.quiet_until}


def channels_for(session: Session, user: User, body_id: int | None, group: str) -> list[str]:
    """The channels a notice of ``group`` reaches ``user`` by: on for the body and on for the user."""
    mine = user_settings(session, user.id)
    on = body_settings(session, body_id)["channels"].get(group) if body_id else list(GROUPS.get(group, ()))
    return [c for c in CHANNELS if c in (on or ()) and mine[c]]


def quiet_end(session: Session, user_id: int, now: datetime) -> datetime | None:
    """When the user's quiet hours end, if ``now`` is within them (else None). Local time of the hall."""
    mine = user_settings(session, user_id)
    start, end = mine["quiet_from"], mine["quiet_until"]
    if not start or not end or start == end:
        return None
    zone = ZoneInfo(current_app.config.get("TIMEZONE") or "Asia/Ho_Chi_Minh")
    local = now.astimezone(zone)
    begins, ends = _clock(start), _clock(end)
    here = local.time().replace(second=0, microsecond=0)
    inside = begins <= here < ends if begins < ends else (here >= begins or here < ends)  # across midnight
    if not inside:
        return None
    until = datetime.combine(local.date(), ends, tzinfo=zone)
    if until <= local:
        until += timedelta(days=1)
    return until.astimezone(now.tzinfo)


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


# --------------------------------------------------------------------------- changing

def require_body_manager(body: Body, user: User) -> None:
    """A body's notification settings are its secretariat's (and the administrators')."""
    if not can_create_meeting(body, user):
        raise Forbidden("Only the body's secretariat sets its notifications.")


def update_body_settings(session: Session, body: Body, actor: User, data: dict[str, Any]) -> dict[str, Any]:
    """Change what ``data`` names (``reminder_offsets``, ``deadline_offsets``, ``channels``); audited."""
    require_body_manager(body, actor)
    row = _body_row(session, body.id)
    if row is None:
        row = BodyNotificationSettings(body_id=body.id, deadline_offsets={}, channels={})
        session.add(row)
    if "reminder_offsets" in data:
        row.reminder_offsets = None if data["reminder_offsets"] is None else parse_offsets(data["reminder_offsets"])
    if "deadline_offsets" in data:
        unknown = set(data["deadline_offsets"]) - set(DEADLINE_DEFAULTS)
        if unknown:
            raise Invalid(f"No deadline source named {', '.join(sorted(unknown))}.", code="bad_source")
        row.deadline_offsets = {**(row.deadline_offsets or {}),
                                **{k: parse_offsets(v) for k, v in data["deadline_offsets"].items()}}
    if "channels" in data:
        unknown = set(data["channels"]) - set(GROUPS)
        bad = {c for chosen in data["channels"].values() for c in chosen} - set(CHANNELS)
        if unknown or bad:
            raise Invalid("Unknown notice kind or channel.", code="bad_channels",
                          details={"groups": sorted(unknown), "channels": sorted(bad)})
        row.channels = {**(row.channels or {}),
                        **{g: sorted(set(chosen), key=CHANNELS.index) for g, chosen in data["channels"].items()}}
    session.flush()
    audit.record(session, "notifications.body_settings", actor_id=actor.id, object_type="body", object_id=body.id,
                 details={k: data[k] for k in ("reminder_offsets", "deadline_offsets", "channels") if k in data})
    return body_settings(session, body.id)


def update_user_settings(session: Session, user: User, data: dict[str, Any]) -> dict[str, Any]:
    """Change the caller's own switches and quiet hours (``quiet_from``/``quiet_until`` "HH:MM" or None)."""
    row = session.get(UserNotificationSettings, user.id)
    if row is None:
        row = UserNotificationSettings(user_id=user.id, email=True, sms=True, push=True, inapp=True)
        session.add(row)
    for channel in CHANNELS:
        if channel in data:
            setattr(row, channel, bool(data[channel]))
    for name in ("quiet_from", "quiet_until"):
        if name in data:
            value = data[name] or None
            if value is not None and not _HHMM.match(value):
                raise Invalid("Quiet hours are given as HH:MM.", code="bad_quiet_hours")
            setattr(row, name, value)
    if bool(row.quiet_from) != bool(row.quiet_until):
        raise Invalid("Quiet hours need both a start and an end.", code="bad_quiet_hours")
    session.flush()
    return user_settings(session, user.id)
