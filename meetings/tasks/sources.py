"""Where a task comes from: a numbered conclusion of a notice, a written-opinion form's result, or by hand.

The task stores only a generic reference (kind, id, label, meeting), filled here from the
source when it exists, so a task reads the same even if its source is later edited or gone.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from meetings.conclusions import service as conclusions
from meetings.core.errors import Invalid, NotFound
from meetings.opinions.models import OpinionForm


def resolve(session: Session, body_id: int, source: dict[str, Any]) -> dict[str, Any]:
    """The source with its label and meeting filled in from what it names; Invalid if it is not of the body."""
    kind = source.get("kind") or "manual"
    out = {"kind": kind, "id": source.get("id"), "label": source.get("label"), "meeting_id": source.get("meeting_id")}
    if kind == "conclusion" and out["id"] is not None:
        try:
            notice, item = conclusions.conclusion_of(session, out["id"])
        except NotFound:
            raise Invalid("There is no such conclusion.", code="unknown_source") from None
        if notice.body_id != body_id:
            raise Invalid("The conclusion is not one of this body's.", code="unknown_source")
        out["meeting_id"] = notice.meeting_id
        if not out["label"]:
            number = f" số {notice.number}" if notice.number else ""
            out["label"] = f"Kết luận {item.number}, Thông báo kết luận{number}"
    elif kind == "opinion" and out["id"] is not None:
        form = session.get(OpinionForm, out["id"])
        if form is None or form.body_id != body_id:
            raise Invalid("There is no such written opinion form of this body.", code="unknown_source")
        out["meeting_id"] = out["meeting_id"] or form.meeting_id
        if not out["label"]:
            out["label"] = f"Kết quả lấy ý kiến: {form.title}"[:500]
    return out
