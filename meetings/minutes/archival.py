"""Keeping archived minutes verifiable: a new document timestamp before the last one's TSA certificate expires.

PAdES B-LTA: each document timestamp protects the file and the validation data in its DSS; before the TSA
certificate of the last one expires, a new one is added over everything (with the last one's revocation
data first), and so on for as long as the record is kept. The result is a new file (content-addressed, the
previous one stays) of the same version, recorded in the audit log.
"""
from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.core.db import utcnow
from meetings.core.errors import Invalid
from meetings.minutes import files, report
from meetings.minutes.models import Minutes
from meetings.minutes.revocation import signing_revinfo
from meetings.minutes.runner import job_seconds, run_job
from meetings.minutes.verification import trust_root_files
from meetings.platform.audit import service as audit

RENEW_BEFORE_DAYS = 90


def renew_timestamps(session: Session, config: Mapping[str, Any], *, before_days: int = RENEW_BEFORE_DAYS,
                     force: bool = False, actor_id: int | None = None) -> list[dict[str, Any]]:
    """Add a document timestamp to each published file whose last TSA certificate expires within
    ``before_days`` (every published file with ``force``); one result per file looked at."""
    tsa_url = config.get("TSA_URL")
    if not tsa_url:
        raise Invalid("Set TSA_URL to an RFC 3161 time-stamping authority first.", code="no_tsa")
    validation = signing_revinfo(session, config, None, trust_root_files(config))
    results = []
    published = session.execute(select(Minutes).where(Minutes.status == "published", Minutes.sha256.is_not(None))
                                .order_by(Minutes.id)).scalars()
    for m in published:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "renewed.pdf"
            result = run_job({"op": "renew", "pdf": str(files.minutes_file(config["STORAGE_PATH"], m.sha256)),
                              "out": str(out), "tsa_url": tsa_url, "validation": validation,
                              "before_days": before_days, "force": force, "now": utcnow().isoformat()},
                             seconds=job_seconds(config))
            entry = {"minutes_id": m.id, "version": m.version, "renewed": result["renewed"],
                     "tsa_not_after": result.get("tsa_not_after"), "sha256": m.sha256}
            if result["renewed"]:
                files.store_file(config["STORAGE_PATH"], result["sha256"], src=out)
                previous, m.sha256, m.size, m.updated_at = m.sha256, result["sha256"], result["size"], utcnow()
                audit.record(session, "minutes.timestamp_renewed", actor_id=actor_id, object_type="minutes",
                             object_id=m.id, meeting_id=m.meeting_id,
                             details={"previous_sha256": previous, "sha256": m.sha256,
                                      "previous_tsa_not_after": result.get("tsa_not_after")})
                entry["sha256"] = m.sha256
                report.validate_published(session, m, actor_id, config)  # the report speaks of the new file
        results.append(entry)
    return results
