"""A body's settings for its conclusion notices: who signs, the chair's title, the default Nơi nhận.

``signing_mode`` "chair": the meeting's chair signs under "TM. <BODY>" (or
"KT. CHỦ TỊCH", or the title alone); "chief_of_office": the Chánh Văn phòng
(``office_chief_id``) signs "TL. CHỦ TỊCH / CHÁNH VĂN PHÒNG".
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import Body
from meetings.conclusions import policy
from meetings.conclusions.models import SIGN_HEADS, SIGNING_MODES, ConclusionSettings
from meetings.core.errors import Invalid
from meetings.platform.audit import service as audit

FIELDS = ("signing_mode", "sign_head", "chair_title", "office_chief_id", "office_chief_title", "recipients")


def settings_of(session: Session, body: Body) -> ConclusionSettings:
    """The body's settings (the defaults, not stored, when none were set)."""
    row = session.get(ConclusionSettings, body.id)
    if row is None:
        row = ConclusionSettings(body_id=body.id, signing_mode="chair", sign_head="TM.", chair_title="Chủ tịch",
                                 office_chief_title="Chánh Văn phòng", recipients=[])
    return row


def update_settings(session: Session, body: Body, actor: User, **changes: Any) -> ConclusionSettings:
    """Change how the body's notices are signed and addressed (an administrator or its secretariat)."""
    policy.require_settings(body, actor)
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise Invalid(f"Cannot change {', '.join(sorted(unknown))}.")
    row = session.get(ConclusionSettings, body.id)
    if row is None:
        row = settings_of(session, body)
        session.add(row)
    if "signing_mode" in changes and changes["signing_mode"] not in SIGNING_MODES:
        raise Invalid(f"signing_mode is one of {', '.join(SIGNING_MODES)}.")
    if "sign_head" in changes and changes["sign_head"] not in SIGN_HEADS:
        raise Invalid('sign_head is "TM.", "KT." or "".')
    if changes.get("office_chief_id") is not None:
        chief = session.get(User, changes["office_chief_id"])
        if chief is None or not chief.is_active:
            raise Invalid("The Chánh Văn phòng must be an active user.", details={"office_chief_id": "unknown"})
    for name in ("chair_title", "office_chief_title"):
        if name in changes and not (isinstance(changes[name], str) and changes[name].strip()):
            raise Invalid(f"{name} cannot be empty.")
    for name, value in changes.items():
        setattr(row, name, value.strip() if isinstance(value, str) else value)
    if row.signing_mode == "chief_of_office" and not row.office_chief_id:
        raise Invalid("Name the Chánh Văn phòng who signs for the chair.", details={"office_chief_id": "required"})
    session.flush()
    audit.record(session, "conclusion_settings.updated", actor_id=actor.id, object_type="body", object_id=body.id,
                 details={"fields": sorted(changes), "signing_mode": row.signing_mode})
    return row
