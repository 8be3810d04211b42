"""The archival package of one meeting: a BagIt bag, zipped.

    bagit.txt, bag-info.txt, manifest-sha256.txt, manifest-sha512.txt, tagmanifest-*.txt
    data/README.txt                         what each file is and how to verify it (Vietnamese, English)
    data/meeting.json                       the meeting, its body, agenda, actual sitting times, minutes
    data/minutes/bien-ban-v<n>.pdf          every published version of the minutes, and the signed ones they replace
    data/minutes/bien-ban-v<n>.validation.json, .html   the validation report made at publishing
    data/conclusions/thong-bao-ket-luan.pdf, conclusions.json   the published, signed conclusion notice
    data/tasks/tasks.json, tasks.csv, files/  the follow-up tasks of its conclusions, with their history
    data/documents/<id>-<name>.pdf          the current, published version of each agenda document as delivered
                                            (a scan's OCR rendition once ready; confidential ones stamped for the
                                            exporter, or left out)
    data/documents/<id>-<name>.original.pdf the signed upload byte for byte, when the file above is not it
    data/attendance.csv, attendance.json
    data/votes.csv, votes.json              every poll's figures; each voter's choice for open polls
    data/polls/<id>/bulletin-board.json     each secret poll's bulletin board (encrypted ballots, proofs, count)
    data/polls/<id>/verify_board.py, elgamal.py, elgamal_dkg.py   its stand-alone verifier (needs pysodium)
    data/speakers.json
    data/audit-log.jsonl                    the meeting's audit entries with their chain hashes
    data/trust/ca-chain.pem                 the trust anchors: verify the signatures with the bag alone

Every timestamp is ISO 8601 in UTC with its offset (``+00:00``), in every
file. Secret ballots appear only as counts: the package carries nothing the
database does not show an administrator. What goes in, and for whom, is decided
by ``meetings.archive.policy`` (the pages' rules): only closed meetings, only
published material, confidential documents watermarked or omitted.
"""
from __future__ import annotations

import csv
import io
import json
import tempfile
import zipfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.archive import conclusion_files, policy, task_files
from meetings.archive.readme import readme_text
from meetings.bodies.models import Meeting
from meetings.bodies.sittings import sitting_periods
from meetings.core.db import utcnow
from meetings.core.fonts import font_path
from meetings.core.spreadsheet import text_cell
from meetings.documents.delivery import served_sha256, watermarked_copy
from meetings.documents.models import Document
from meetings.documents.storage import blob_path
from meetings.live.attendance import attendance_list
from meetings.live.speakers import speaker_history
from meetings.minutes import files, report, trust
from meetings.minutes.models import Minutes
from meetings.platform.audit.models import AuditEntry
from meetings.platform.audit.service import verify_chain
from meetings.voting import board
from meetings.voting.export import ballots
from meetings.voting.models import Poll
from meetings.voting.results import poll_results_for_minutes

VOTES_CSV = ["poll_id", "poll_title", "secret", "outcome", "closed_at", "row", "option", "count", "voter_id",
             "voter", "cast_by_id", "cast_by", "by_proxy_for", "choices", "option_ids", "weight", "cast_at"]


def iso(at: datetime | None) -> str | None:
    """The bag's one form of a time: ISO 8601 in UTC with its offset, ``2026-12-01T07:29:00+00:00``."""
    if at is None:
        return None
    return (at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)).isoformat()


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    return str(value)


def _dump(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=_json_default), "utf-8")


def _csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    # UTF-8 with a BOM: spreadsheet programs then read the Vietnamese names right.
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows([["" if v is None else (iso(v) if isinstance(v, datetime) else text_cell(v)) for v in r]
                     for r in rows])


def _safe_name(name: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_." else "-" for c in name)
    return keep.strip("-.")[:80] or "document"


def _votes(session: Session, meeting_id: int) -> tuple[list[dict[str, Any]], list[list[Any]]]:
    """votes.json (every poll's figures; named polls with each ballot and its cast time) and votes.csv rows."""
    polls = poll_results_for_minutes(session, meeting_id)
    rows: list[list[Any]] = []
    for p in polls:
        if not p.get("secret"):
            p["named_votes"] = ballots(session, session.get(Poll, p["poll_id"]))
        head = [p.get("poll_id"), p.get("title"), p.get("secret"), p.get("outcome"), p.get("closed_at")]
        rows += [head + ["option", o.get("label"), o.get("count")] + [None] * 9 for o in p.get("options", [])]
        # Secret polls: counts only, never a voter with a choice (their named_votes is None).
        for v in p.get("named_votes") or []:
            rows.append(head + ["ballot", None, None, v["voter_id"], v["voter_name"], v["cast_by_id"],
                                v["cast_by_name"], v["by_proxy_for"], "; ".join(v["choice_labels"]),
                                " ".join(str(i) for i in v["option_ids"]), v["weight"], v["cast_at"]])
    return polls, rows


def _boards(session: Session, bag_dir: Path, polls: list[dict[str, Any]]) -> None:
    """Each secret poll of the bag (the polls votes.json lists) with its bulletin board and the verifier."""
    for p in polls:
        poll = session.get(Poll, p["poll_id"]) if p.get("secret") else None
        if poll is None or poll.board_id is None:  # named, or secret from before encrypted ballots
            continue
        folder = bag_dir / "polls" / str(poll.id)
        folder.mkdir(parents=True)
        _dump(folder / "bulletin-board.json", board.bulletin_board(session, poll))
        for name, content in board.verifier_files().items():
            (folder / name).write_bytes(content)


def _minutes_files(bag_dir: Path, minutes: list[Minutes], storage: str) -> None:
    """Each signed version, and the validation report made when it was published."""
    for m in minutes:
        stem = bag_dir / "minutes" / f"bien-ban-v{m.version}"
        stem.with_suffix(".pdf").write_bytes(files.minutes_file(storage, m.sha256).read_bytes())
        if m.validation_sha256:
            for kind in ("json", "html"):
                (bag_dir / "minutes" / f"{stem.name}.validation.{kind}").write_bytes(
                    report.report_file(storage, m.validation_sha256, kind).read_bytes())


def _audit_line(e: AuditEntry) -> str:
    # ``at`` to the microsecond: the chain hash covers it so (see README.txt).
    at = e.at.replace(tzinfo=UTC) if e.at.tzinfo is None else e.at.astimezone(UTC)
    return json.dumps({"id": e.id, "at": at.isoformat(timespec="microseconds"), "actor_id": e.actor_id,
                       "action": e.action, "object_type": e.object_type, "object_id": e.object_id,
                       "meeting_id": e.meeting_id, "details": e.details, "prev_hash": e.prev_hash, "hash": e.hash},
                      ensure_ascii=False, default=_json_default) + "\n"


def _document_file(doc: Document, viewer: User, config: Mapping[str, Any]) -> Path | None:
    """The bytes a document goes into the bag with: what its page delivers. The viewer's stamped copy
    when it is confidential (the documents domain's own watermark, as its page serves it), else the
    served file: a scan's OCR rendition once ready (its text searchable), else the disarmed copy."""
    if policy.needs_stamp(doc):
        return watermarked_copy(config["STORAGE_PATH"], doc, viewer, font_path=font_path(),
                                seconds=int(config.get("PDF_CHECK_SECONDS", 60)),
                                memory_mb=int(config.get("PDF_CHECK_MEMORY_MB", 1024)))
    src = blob_path(config["STORAGE_PATH"], served_sha256(doc, config["STORAGE_PATH"]))
    return src if src.exists() else None


def _signed_original(doc: Document, config: Mapping[str, Any]) -> Path | None:
    """The signed upload, byte for byte, when the bag's copy is not it (an OCR rendition or a disarmed
    copy): kept beside it so its signature can still be verified. Never for a confidential document,
    whose only copy leaving the server is the stamped one."""
    root = config["STORAGE_PATH"]
    if not doc.signed_original or policy.needs_stamp(doc):
        return None
    sha = doc.original_sha256 or doc.sha256
    if sha == served_sha256(doc, root):
        return None  # the bag's copy is the signed upload itself
    src = blob_path(root, sha)
    return src if src.exists() else None


def _document_files(bag_dir: Path, docs: list[Document], viewer: User, config: Mapping[str, Any]) -> dict[int, str]:
    """Write ``documents/<id>-<name>.pdf`` for each document (and ``….original.pdf`` for a signed
    original, :func:`_signed_original`); returns the original's bag path per document id."""
    originals: dict[int, str] = {}
    for d in docs:
        stem = f"{d.id}-{_safe_name(Path(d.filename).stem)}"
        src = _document_file(d, viewer, config)
        if src is None:
            continue
        (bag_dir / "documents" / f"{stem}.pdf").write_bytes(src.read_bytes())
        original = _signed_original(d, config)
        if original is not None:
            (bag_dir / "documents" / f"{stem}.original.pdf").write_bytes(original.read_bytes())
            originals[d.id] = f"documents/{stem}.original.pdf"
    return originals


def _released(e: AuditEntry, released_docs: set[int]) -> bool:
    return e.object_type != "document" or e.object_id in released_docs


def write_bundle(session: Session, meeting: Meeting, config: Mapping[str, Any], out: IO[bytes],
                 viewer: User) -> dict[str, Any]:
    """Write the meeting's zipped BagIt package, as ``viewer`` receives it, to ``out``; returns a
    summary of what went in. The caller has checked ``policy.require_export``."""
    import bagit

    storage = config["STORAGE_PATH"]
    with tempfile.TemporaryDirectory() as tmp:
        bag_dir = Path(tmp) / f"meeting-{meeting.id}"
        for folder in ("minutes", "documents", "trust"):
            (bag_dir / folder).mkdir(parents=True)
        minutes = policy.bundle_minutes(session, meeting)
        _minutes_files(bag_dir, minutes, storage)
        conclusion_files.write_conclusion_files(session, meeting, bag_dir, storage)
        task_files.write_task_files(session, meeting, bag_dir, storage)  # data/tasks/: follow-up tasks
        docs = policy.bundle_documents(session, meeting, config)
        originals = _document_files(bag_dir, docs, viewer, config)
        attendance = attendance_list(session, meeting.id)
        _dump(bag_dir / "attendance.json", attendance)
        _csv(bag_dir / "attendance.csv",
             ["user_id", "full_name", "role", "can_vote", "status", "reason", "arrived_at", "left_at"],
             [[a.get("user_id"), a.get("full_name"), a.get("role"), a.get("can_vote"), a.get("status"),
               a.get("reason"), a.get("arrived_at"), a.get("left_at")] for a in attendance])
        polls, vote_rows = _votes(session, meeting.id)
        _dump(bag_dir / "votes.json", polls)
        _csv(bag_dir / "votes.csv", VOTES_CSV, vote_rows)
        _boards(session, bag_dir, polls)
        _dump(bag_dir / "speakers.json", speaker_history(session, meeting.id))
        released_docs = policy.released_document_ids(session, meeting)
        entries = [e for e in session.execute(select(AuditEntry).where(AuditEntry.meeting_id == meeting.id)
                                              .order_by(AuditEntry.id)).scalars()
                   if _released(e, released_docs)]
        with (bag_dir / "audit-log.jsonl").open("w", encoding="utf-8") as fh:
            fh.writelines(_audit_line(e) for e in entries)
        roots = trust.trust_anchors(config)
        if roots:
            (bag_dir / "trust" / trust.PEM_NAME).write_bytes(trust.chain_pem(config))
        chain_ok = not verify_chain(session)
        _dump(bag_dir / "meeting.json", {
            "id": meeting.id, "title": meeting.title, "body": meeting.body.name, "place": meeting.place,
            "starts_at": meeting.starts_at, "ends_at": meeting.ends_at, "status": meeting.status,
            "closed_at": meeting.closed_at, "confidentiality": meeting.confidentiality,
            "sittings": [{"started_at": p.started_at, "ended_at": p.ended_at}
                         for p in sitting_periods(session, meeting.id)],
            "agenda": [{"id": i.id, "position": i.position, "title": i.title, "conclusion": i.conclusion}
                       for i in meeting.items],
            "documents": [{"id": d.id, "title": d.title, "version": d.version, "confidentiality": d.confidentiality,
                           "sha256": d.sha256, "watermarked": policy.needs_stamp(d),
                           "served_sha256": served_sha256(d, storage), "text_layer": d.text_layer,
                           "signed_original": bool(d.signed_original), "original_sha256": d.original_sha256,
                           "original_file": originals.get(d.id)} for d in docs],
            "confidential_documents": policy.confidential_mode(config),
            "minutes": [{"version": m.version, "status": m.status, "number": m.number, "sha256": m.sha256,
                         "previous_id": m.previous_id, "published_at": m.published_at,
                         "validation_report_sha256": m.validation_sha256,
                         "signatures": [{"role": s.role, "signer": s.signer_name, "signed_at": s.signed_at}
                                        for s in m.signatures]} for m in minutes],
            "trust_roots": [trust.describe(c, config) for c in roots],
            "exported_at": utcnow(),
            "audit_chain_intact_at_export": chain_ok,
        })
        (bag_dir / "README.txt").write_text(readme_text(title=meeting.title, body=meeting.body.name,
                                                        meeting_id=meeting.id), "utf-8")
        bagit.make_bag(str(bag_dir), {
            "Source-Organization": meeting.body.name, "External-Identifier": f"meeting-{meeting.id}",
            "External-Description": meeting.title, "Bagging-Date": utcnow().date().isoformat(),
        }, checksums=["sha256", "sha512"])
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(bag_dir.rglob("*")):
                if path.is_file():
                    zf.write(path, str(Path(bag_dir.name) / path.relative_to(bag_dir)))
    return {"minutes": len(minutes), "documents": len(docs), "audit_entries": len(entries),
            "audit_chain_intact": chain_ok, "trust_roots": len(roots)}


def bundle_bytes(session: Session, meeting: Meeting, config: Mapping[str, Any], viewer: User) -> bytes:
    """The zipped bag in memory (for small meetings and tests)."""
    buf = io.BytesIO()
    write_bundle(session, meeting, config, buf, viewer)
    return buf.getvalue()
