"""The archival package of one meeting: a BagIt bag, zipped.

    bagit.txt, bag-info.txt, manifest-sha256.txt, manifest-sha512.txt, tagmanifest-*.txt
    data/meeting.json                       the meeting, its body and agenda
    data/minutes/bien-ban-v<n>.pdf          every signed version of the minutes
    data/documents/<id>-<name>.pdf          the current version of each agenda document
    data/attendance.csv, attendance.json
    data/votes.csv, votes.json              every poll with its figures (named votes for open polls)
    data/speakers.json
    data/audit-log.jsonl                    the meeting's audit entries with their chain hashes

Secret ballots appear only as counts: the package carries nothing the
database does not show an administrator.
"""
from __future__ import annotations

import csv
import io
import json
import tempfile
import zipfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.bodies.models import Meeting
from meetings.core.db import utcnow
from meetings.documents.models import Document
from meetings.documents.storage import blob_path
from meetings.live.attendance import attendance_list
from meetings.live.speakers import speaker_history
from meetings.minutes import files
from meetings.minutes.models import Minutes
from meetings.platform.audit.models import AuditEntry
from meetings.platform.audit.service import verify_chain
from meetings.voting.results import poll_results_for_minutes


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _dump(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=_json_default), "utf-8")


def _csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    # UTF-8 with a BOM: spreadsheet programs then read the Vietnamese names right.
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows([["" if v is None else (v.isoformat() if isinstance(v, datetime) else v) for v in r]
                     for r in rows])


def _safe_name(name: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_." else "-" for c in name)
    return keep.strip("-.")[:80] or "document"


def write_bundle(session: Session, meeting: Meeting, config: Mapping[str, Any], out: IO[bytes]) -> dict[str, Any]:
    """Write the meeting's zipped BagIt package to ``out``; returns a summary of what went in."""
    import bagit

    storage = config["STORAGE_PATH"]
    with tempfile.TemporaryDirectory() as tmp:
        bag_dir = Path(tmp) / f"meeting-{meeting.id}"
        (bag_dir / "minutes").mkdir(parents=True)
        (bag_dir / "documents").mkdir()
        minutes = session.execute(select(Minutes).where(Minutes.meeting_id == meeting.id,
                                                        Minutes.status.in_(("signed", "published")))
                                  .order_by(Minutes.version)).scalars().all()
        for m in minutes:
            src = files.minutes_file(storage, m.sha256)
            (bag_dir / "minutes" / f"bien-ban-v{m.version}.pdf").write_bytes(src.read_bytes())
        docs = session.execute(select(Document).where(Document.meeting_id == meeting.id, Document.is_current)
                               .order_by(Document.id)).scalars().all()
        for d in docs:
            src = blob_path(storage, d.sha256)
            if src.exists():
                (bag_dir / "documents" / f"{d.id}-{_safe_name(Path(d.filename).stem)}.pdf").write_bytes(
                    src.read_bytes())
        attendance = attendance_list(session, meeting.id)
        _dump(bag_dir / "attendance.json", attendance)
        _csv(bag_dir / "attendance.csv", ["user_id", "full_name", "role", "status", "reason", "arrived_at"],
             [[a.get("user_id"), a.get("full_name"), a.get("role"), a.get("status"), a.get("reason"),
               a.get("arrived_at")] for a in attendance])
        polls = poll_results_for_minutes(session, meeting.id)
        _dump(bag_dir / "votes.json", polls)
        _csv(bag_dir / "votes.csv", ["poll_id", "title", "secret", "option", "count", "base", "base_count",
                                     "threshold", "required", "outcome", "closed_at"],
             [[p.get("poll_id"), p.get("title"), p.get("secret"), o.get("label"), o.get("count"), p.get("base"),
               p.get("base_count"), p.get("threshold"), p.get("required"), p.get("outcome"), p.get("closed_at")]
              for p in polls for o in p.get("options", [])])
        _dump(bag_dir / "speakers.json", speaker_history(session, meeting.id))
        entries = session.execute(select(AuditEntry).where(AuditEntry.meeting_id == meeting.id)
                                  .order_by(AuditEntry.id)).scalars().all()
        with (bag_dir / "audit-log.jsonl").open("w", encoding="utf-8") as fh:
            for e in entries:
                fh.write(json.dumps({"id": e.id, "at": e.at, "actor_id": e.actor_id, "action": e.action,
                                     "object_type": e.object_type, "object_id": e.object_id,
                                     "details": e.details, "prev_hash": e.prev_hash, "hash": e.hash},
                                    ensure_ascii=False, default=_json_default) + "\n")
        chain_ok = not verify_chain(session)
        _dump(bag_dir / "meeting.json", {
            "id": meeting.id, "title": meeting.title, "body": meeting.body.name, "place": meeting.place,
            "starts_at": meeting.starts_at, "ends_at": meeting.ends_at, "status": meeting.status,
            "confidentiality": meeting.confidentiality,
            "agenda": [{"id": i.id, "position": i.position, "title": i.title, "conclusion": i.conclusion}
                       for i in meeting.items],
            "minutes": [{"version": m.version, "status": m.status, "sha256": m.sha256, "previous_id": m.previous_id,
                         "signatures": [{"role": s.role, "signer": s.signer_name, "signed_at": s.signed_at}
                                        for s in m.signatures]} for m in minutes],
            "audit_chain_intact_at_export": chain_ok,
        })
        bagit.make_bag(str(bag_dir), {
            "Source-Organization": meeting.body.name, "External-Identifier": f"meeting-{meeting.id}",
            "External-Description": meeting.title, "Bagging-Date": utcnow().date().isoformat(),
        }, checksums=["sha256", "sha512"])
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(bag_dir.rglob("*")):
                if path.is_file():
                    zf.write(path, str(Path(bag_dir.name) / path.relative_to(bag_dir)))
    return {"minutes": len(minutes), "documents": len(docs), "audit_entries": len(entries),
            "audit_chain_intact": chain_ok}


def bundle_bytes(session: Session, meeting: Meeting, config: Mapping[str, Any]) -> bytes:
    buf = io.BytesIO()
    write_bundle(session, meeting, config, buf)
    return buf.getvalue()
