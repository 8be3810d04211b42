"""The conclusion notice in a meeting's bag: the signed, published Thông báo kết luận and what it says.

    data/conclusions/thong-bao-ket-luan.pdf     the signed notice (PAdES), exactly as it was published and sent
    data/conclusions/conclusions.json           its number, subject, signer, sha256 and the numbered conclusions

Only a published notice goes in (the bag carries published material only, as for the minutes).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.bodies.models import Meeting
from meetings.conclusions.models import ConclusionNotice
from meetings.conclusions.service import items_of
from meetings.minutes import files

PDF_NAME = "thong-bao-ket-luan.pdf"


def published_notice(session: Session, meeting: Meeting) -> ConclusionNotice | None:
    """The meeting's notice if it is published, else None."""
    return session.execute(select(ConclusionNotice).where(ConclusionNotice.meeting_id == meeting.id,
                                                          ConclusionNotice.status == "published")
                           ).scalar_one_or_none()


def write_conclusion_files(session: Session, meeting: Meeting, bag_dir: Path,
                           storage_path: str) -> dict[str, Any] | None:
    """Write the published notice and its summary under ``bag_dir/conclusions``; returns the summary (or None)."""
    notice = published_notice(session, meeting)
    if notice is None:
        return None
    folder = bag_dir / "conclusions"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / PDF_NAME).write_bytes(files.minutes_file(storage_path, notice.sha256).read_bytes())
    summary = {
        "number": notice.number, "subject": notice.subject, "status": notice.status, "sha256": notice.sha256,
        "file": f"conclusions/{PDF_NAME}", "signer": notice.signer_name, "signer_title": notice.signer_title,
        "signed_at": notice.signed_at.isoformat() if notice.signed_at else None,
        "published_at": notice.published_at.isoformat() if notice.published_at else None,
        "conclusions": [{"id": c.id, "number": c.number, "text": c.text, "agenda_item_id": c.agenda_item_id}
                        for c in items_of(notice)],
    }
    (folder / "conclusions.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), "utf-8")
    return summary
