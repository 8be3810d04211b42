"""The minutes jobs a child process runs: compose, sign, verify, renew (document timestamps).

Each job is a JSON document (files travel by path) and its answer is one too;
every failure becomes an answer, never an exception, so the parent can raise
the same DomainError again (``meetings.minutes.runner``). Children are forked
by ``meetings.minutes.forkserver``; this module imports only what composing
and signing need, never the web application or the database.
"""
from __future__ import annotations

import hashlib
import json
import logging
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509

from meetings.core.errors import DomainError, Invalid, Unavailable
from meetings.minutes.compose import compose
from meetings.minutes.ltv import renew
from meetings.minutes.record import MinutesRecord
from meetings.minutes.signing import KeySpec, add_signature_fields, sign
from meetings.minutes.verify import verify_pdf

log = logging.getLogger(__name__)


def handle(job: dict[str, Any]) -> dict[str, Any]:
    """Run one job in this process; every failure becomes an answer, never an exception."""
    try:
        return {"compose": _compose, "sign": _sign, "verify": _verify, "renew": _renew}[job["op"]](job)
    except DomainError as err:
        kind = "invalid" if isinstance(err, Invalid) else "unavailable" if isinstance(err, Unavailable) else "domain"
        return {"error": {"kind": kind, "code": err.code, "message": err.message}}
    except MemoryError:
        return {"error": {"kind": "unavailable", "code": "job_failed",
                          "message": f"The {job.get('op')} job ran out of memory and was stopped."}}
    except Exception:  # the traceback goes to the server's stderr; the caller gets a plain error
        log.exception("minutes job %s failed", job.get("op"))
        return {"error": {"kind": "unavailable", "code": "job_failed",
                          "message": f"The {job.get('op')} job failed; the error was logged."}}


def _compose(job: dict) -> dict:
    composed = compose(MinutesRecord.from_json(job["record"]), draft=job.get("draft", False),
                       tz=job.get("tz") or "Asia/Ho_Chi_Minh")
    pdf = composed.pdf
    if job.get("fields"):
        pdf = add_signature_fields(pdf, composed.boxes)
    Path(job["out"]).write_bytes(pdf)
    text = extract_text(job["out"]) if job.get("extract_text") else None
    return {"pages": composed.pages, "boxes": composed.boxes, "sha256": hashlib.sha256(pdf).hexdigest(),
            "size": len(pdf), "text": text}


def extract_text(path: str) -> str:
    """Text of the PDF by poppler's pdftotext (fast, in C); pypdf when poppler is missing."""
    try:
        done = subprocess.run(["pdftotext", "-enc", "UTF-8", path, "-"], capture_output=True, timeout=120,
                              check=True)
        return done.stdout.decode("utf-8", "replace")
    except (OSError, subprocess.SubprocessError):
        from pypdf import PdfReader  # only on machines without poppler

        return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def _sign(job: dict) -> dict:
    pdf = Path(job["pdf"]).read_bytes()
    signed = sign(pdf, role=job["role"], spec=KeySpec(**job["spec"]), secret=job["secret"],
                  signer_name=job["signer_name"], font_cache=job["font_cache"],
                  signed_at=datetime.fromisoformat(job["signed_at"]), language=job.get("language", "vi"),
                  tz=job.get("tz") or "Asia/Ho_Chi_Minh", tsa_url=job.get("tsa_url"), location=job.get("location"),
                  validation=job.get("validation"), archival=job.get("archival", False),
                  timestamp_unit=job.get("timestamp_unit"), field_name=job.get("field_name"),
                  role_title=job.get("role_title"), reason=job.get("reason"), certify=job.get("certify"))
    Path(job["out"]).write_bytes(signed)
    return {"sha256": hashlib.sha256(signed).hexdigest(), "size": len(signed)}


def _verify(job: dict) -> dict:
    roots = []
    for path in job.get("roots", []):
        roots.extend(x509.load_pem_x509_certificates(Path(path).read_bytes()))
    at = datetime.fromisoformat(job["validation_time"]) if job.get("validation_time") else None
    return {"report": verify_pdf(Path(job["pdf"]).read_bytes(), roots, validation_time=at)}


def _renew(job: dict) -> dict:
    renewed, info = renew(Path(job["pdf"]).read_bytes(), tsa_url=job["tsa_url"], validation=job["validation"],
                          before_days=job["before_days"], force=job.get("force", False),
                          now=datetime.fromisoformat(job["now"]))
    if renewed is None:
        return {"renewed": False, **info}
    Path(job["out"]).write_bytes(renewed)
    return {"renewed": True, "sha256": hashlib.sha256(renewed).hexdigest(), "size": len(renewed), **info}


def main() -> None:
    """One job from stdin, answer on stdout (for running a job by hand, without the fork server)."""
    logging.basicConfig(level=logging.ERROR)
    sys.stdout.write(json.dumps(handle(json.loads(sys.stdin.read()))) + "\n")


if __name__ == "__main__":
    main()
