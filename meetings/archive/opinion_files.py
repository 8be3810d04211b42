"""The archival package of one written opinion form: a BagIt bag, zipped.

    bagit.txt, bag-info.txt, manifest-sha256.txt, manifest-sha512.txt, tagmanifest-*.txt
    data/form.json                    the form, its settings, questions, recipients, the stored tally
    data/answers.json, answers.csv    every answer (question, choice or options, comment, revision, signed)
    data/answers/<user_id>.pdf        each signed answer paper
    data/report/bao-cao-y-kien.pdf    the signed report ("Báo cáo tổng hợp ý kiến")
    data/attachments/<id>-<name>.pdf  the documents sent with the form (as delivered: disarmed)
    data/audit-log.jsonl              the form's audit entries with their chain hashes
    data/trust/ca-chain.pem           the trust anchors: verify the signatures with the bag alone
    data/tasks/tasks.json, tasks.csv, files/   the follow-up tasks assigned from the result, with their history

Who may export it is ``meetings.opinions.policy.can_see_answers`` (the office and the signer;
recipients once the report is published): the same people who see the answers in the app.
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
from meetings.archive import task_files
from meetings.archive.bundle import iso
from meetings.bodies.models import Body
from meetings.core.db import utcnow
from meetings.core.spreadsheet import text_cell
from meetings.documents.storage import blob_path
from meetings.minutes import trust
from meetings.opinions import files, policy
from meetings.opinions.models import OpinionAnswer, OpinionForm
from meetings.platform.audit.models import AuditEntry
from meetings.tasks import policy as task_policy

ANSWERS_CSV = ["user_id", "full_name", "question_id", "question", "choice", "options", "comment", "revision",
               "updated_at", "signed", "paper_sha256"]


def _default(value: Any) -> Any:
    return iso(value) if isinstance(value, datetime) else str(value)


def _dump(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=_default), "utf-8")


def _csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    # UTF-8 with a BOM, as the meeting's bag: spreadsheet programs then read the Vietnamese names right.
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows([["" if v is None else text_cell(v) for v in r] for r in rows])


def _safe_name(name: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_." else "-" for c in name)
    return keep.strip("-.")[:80] or "document"


def _audit_line(e: AuditEntry) -> str:
    # ``at`` to the microsecond, as the meeting's bag: the chain hash covers it so.
    at = e.at.astimezone(UTC) if e.at.tzinfo else e.at.replace(tzinfo=UTC)
    return json.dumps({"id": e.id, "at": at.isoformat(timespec="microseconds"), "actor_id": e.actor_id,
                       "action": e.action, "object_type": e.object_type, "object_id": e.object_id,
                       "meeting_id": e.meeting_id, "details": e.details, "prev_hash": e.prev_hash, "hash": e.hash},
                      ensure_ascii=False, default=_default) + "\n"


def _answers(session: Session, form: OpinionForm) -> tuple[list[dict[str, Any]], list[list[Any]]]:
    rows = list(session.scalars(select(OpinionAnswer).where(OpinionAnswer.form_id == form.id)
                                .order_by(OpinionAnswer.user_id)))
    names = {u.id: u.full_name for u in session.scalars(select(User).where(User.id.in_([a.user_id for a in rows]
                                                                                       or [0])))}
    texts = {q.id: q.text for q in form.questions}
    out, csv_rows = [], []
    for a in rows:
        out.append({"user_id": a.user_id, "full_name": names.get(a.user_id), "answers": a.answers,
                    "revision": a.revision, "created_at": a.created_at, "updated_at": a.updated_at,
                    "paper_sha256": a.paper_sha256, "signed_at": a.signed_at,
                    "certificate_subject": a.certificate_subject})
        for e in a.answers:
            csv_rows.append([a.user_id, names.get(a.user_id), e["question_id"], texts.get(e["question_id"]),
                             e.get("choice", ""), " ".join(e.get("options") or []), e.get("comment", ""),
                             a.revision, a.updated_at.isoformat(), bool(a.paper_sha256), a.paper_sha256 or ""])
    return out, csv_rows


def write_bundle(session: Session, form: OpinionForm, actor: User, config: Mapping[str, Any], out: IO[bytes]) -> dict:
    """Write the form's zipped BagIt package to ``out`` for ``actor`` (checked here); returns a summary."""
    import bagit

    policy.require_see_answers(session, form, actor)
    storage = config["STORAGE_PATH"]
    body = session.get(Body, form.body_id)
    with tempfile.TemporaryDirectory() as tmp:
        bag_dir = Path(tmp) / f"opinion-form-{form.id}"
        for folder in ("answers", "report", "attachments", "trust"):
            (bag_dir / folder).mkdir(parents=True)
        answers, csv_rows = _answers(session, form)
        _dump(bag_dir / "answers.json", answers)
        _csv(bag_dir / "answers.csv", ANSWERS_CSV, csv_rows)
        for a in answers:
            if a["paper_sha256"]:
                (bag_dir / "answers" / f"{a['user_id']}.pdf").write_bytes(
                    files.paper_file(storage, a["paper_sha256"]).read_bytes())
        if form.report_sha256:
            (bag_dir / "report" / "bao-cao-y-kien.pdf").write_bytes(
                files.paper_file(storage, form.report_sha256).read_bytes())
        for att in form.attachments:
            (bag_dir / "attachments" / f"{att.id}-{_safe_name(Path(att.filename).stem)}.pdf").write_bytes(
                blob_path(storage, att.sha256).read_bytes())
        entries = list(session.scalars(select(AuditEntry).where(
            AuditEntry.object_type == "opinion_form", AuditEntry.object_id == form.id).order_by(AuditEntry.id)))
        with (bag_dir / "audit-log.jsonl").open("w", encoding="utf-8") as fh:
            fh.writelines(_audit_line(e) for e in entries)
        if trust.trust_anchors(config):
            (bag_dir / "trust" / trust.PEM_NAME).write_bytes(trust.chain_pem(config))
        # A recipient takes the bag once the report is published; the tasks in it are the ones the task
        # rules show them (theirs, their unit's), not the office's whole follow-up.
        shown = [t for t in task_files.opinion_tasks(session, form.id) if task_policy.can_view(session, t, actor)]
        tasks = task_files.write_tasks(shown, bag_dir, storage, opinion_form_id=form.id)
        _dump(bag_dir / "form.json", {
            "id": form.id, "body": body.name, "meeting_id": form.meeting_id, "title": form.title,
            "explanation": form.explanation, "status": form.status, "closes_at": form.closes_at,
            "opened_at": form.opened_at, "closed_at": form.closed_at, "published_at": form.published_at,
            "allow_change": form.allow_change, "require_signature": form.require_signature,
            "rules": {"base": form.majority_base, "threshold": [form.threshold_numerator, form.threshold_denominator,
                                                                form.threshold_strict], "tie_rule": form.tie_rule},
            "questions": [{"id": q.id, "kind": q.kind, "text": q.text, "options": q.options,
                           "min_choices": q.min_choices, "max_choices": q.max_choices} for q in form.questions],
            "recipients": sorted(r.user_id for r in form.recipients), "result": form.result,
            "report": {"sha256": form.report_sha256, "signed": form.report_signed,
                       "signer": form.report_signer_name, "signed_at": form.report_signed_at},
            "attachments": [{"id": a.id, "filename": a.filename, "sha256": a.sha256} for a in form.attachments],
            "exported_at": utcnow(),
        })
        bagit.make_bag(str(bag_dir), {
            "Source-Organization": body.name, "External-Identifier": f"opinion-form-{form.id}",
            "External-Description": form.title, "Bagging-Date": utcnow().date().isoformat(),
        }, checksums=["sha256", "sha512"])
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(bag_dir.rglob("*")):
                if path.is_file():
                    zf.write(path, str(Path(bag_dir.name) / path.relative_to(bag_dir)))
    return {"answers": len(answers), "audit_entries": len(entries), "report": bool(form.report_sha256),
            "tasks": (tasks or {}).get("count", 0)}


def bundle_bytes(session: Session, form: OpinionForm, actor: User, config: Mapping[str, Any]) -> bytes:
    """The zipped bag in memory (small forms and tests)."""
    buf = io.BytesIO()
    write_bundle(session, form, actor, config, buf)
    return buf.getvalue()
