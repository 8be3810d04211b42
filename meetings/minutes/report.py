"""The validation report of published minutes: what the verifier found in the published file, kept with it.

Made once, when the minutes are published (``service.publish``): the stored
file is verified in a child process like every verification
(``meetings.minutes.verification``), against the organization CA and
``MINUTES_TRUST_ROOTS``. The report says which file (its sha256, read back
from storage), when it was validated, against which roots (their sha256
fingerprints), with which software, and carries every key of the verifier's
report as it is (so what verification adds later, e.g. the PAdES level, is
kept without a change here).

Stored content-addressed, written once and read-only, like the minutes files::

    STORAGE_PATH/minutes/reports/ab/<sha256>.json   the report (its sha256 is Minutes.validation_sha256)
    STORAGE_PATH/minutes/reports/ab/<sha256>.html   the same, readable (Vietnamese and English labels),
                                                    named by the report it renders

Its sha256 also goes into the hash-chained audit log (``minutes.validated``).
"""
from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.accounts.models import User
from meetings.bodies.models import Meeting
from meetings.core.db import utcnow
from meetings.core.errors import Conflict
from meetings.minutes import files, policy
from meetings.minutes.models import Minutes
from meetings.minutes.trust import describe, trust_anchors
from meetings.minutes.verification import verify_file
from meetings.platform.audit import service as audit

REPORT_FORMAT = 1
MEDIA_TYPES = {"json": "application/json", "html": "text/html; charset=utf-8"}


def report_file(storage_path: str | Path, sha256: str, kind: str = "json") -> Path:
    """Where the report with this sha256 (``json``), or its readable page (``html``), is kept."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256) or kind not in MEDIA_TYPES:
        raise ValueError("not a report address")
    return Path(storage_path) / "minutes" / "reports" / sha256[:2] / f"{sha256}.{kind}"


def _software() -> dict[str, str | None]:
    def of(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None
    return {"pyhanko": of("pyHanko"), "pyhanko-certvalidator": of("pyhanko-certvalidator")}


def build_report(m: Minutes, meeting: Meeting, config: Mapping[str, Any]) -> dict[str, Any]:
    """Verify the stored file of ``m`` now (in a child process) and describe what was found."""
    path = files.minutes_file(config["STORAGE_PATH"], m.sha256)
    data = path.read_bytes()
    # Which roots: read once, before the child reads the same files.
    roots = [describe(c, config) for c in trust_anchors(config)]
    verification = verify_file(path, config)
    actual = hashlib.sha256(data).hexdigest()
    return {
        "report_format": REPORT_FORMAT,
        "minutes": {"id": m.id, "meeting_id": m.meeting_id, "meeting_title": meeting.title, "version": m.version,
                    "number": m.number, "status": m.status},
        "file": {"name": f"bien-ban-v{m.version}.pdf", "sha256": actual, "size": len(data),
                 "matches_record": actual == m.sha256},
        "validated_at": utcnow().isoformat(),
        "trust_roots": roots,
        "validator": _software(),
        "verification": verification,
    }


def validate_published(session: Session, m: Minutes, actor_id: int | None,
                       config: Mapping[str, Any]) -> dict[str, Any]:
    """Make, store and record the validation report of the minutes' current file; returns the report.

    Called by ``service.publish`` in its transaction: a failed verification
    run (503) fails the publishing, so published minutes always have one.
    Also after a timestamp renewal (a new file) and by ``minutes validation-reports``."""
    meeting = session.get(Meeting, m.meeting_id)
    report = build_report(m, meeting, config)
    body = json.dumps(report, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
    sha = hashlib.sha256(body).hexdigest()
    files.write_once(report_file(config["STORAGE_PATH"], sha, "json"), body)
    files.write_once(report_file(config["STORAGE_PATH"], sha, "html"), render_html(report).encode("utf-8"))
    m.validation_sha256 = sha
    v = report["verification"]
    audit.record(session, "minutes.validated", actor_id=actor_id, object_type="minutes", object_id=m.id,
                 meeting_id=m.meeting_id,
                 details={"report_sha256": sha, "file_sha256": report["file"]["sha256"], "valid": v.get("valid"),
                          "trusted": v.get("trusted"), "level": v.get("level"),
                          "trust_roots": [r["sha256_fingerprint"] for r in report["trust_roots"]]})
    return report


def refresh_reports(session: Session, config: Mapping[str, Any], *, every: bool = False) -> list[Minutes]:
    """Make the report of each published minutes that has none (of every published one with ``every``):
    minutes published before reports existed, or after a change of the trust roots."""
    published = session.execute(select(Minutes).where(Minutes.status == "published", Minutes.sha256.is_not(None))
                                .order_by(Minutes.id)).scalars().all()
    done = [m for m in published if every or not m.validation_sha256]
    for m in done:
        validate_published(session, m, None, config)
    return done


def validation_report(session: Session, m: Minutes, actor: User, config: Mapping[str, Any],
                      kind: str = "json") -> Path:
    """The stored report (``json``) or its page (``html``), for whoever may read the minutes."""
    policy.require_read(m, session.get(Meeting, m.meeting_id), actor)
    if not m.validation_sha256:
        raise Conflict("These minutes have no validation report: one is made when they are published.",
                       code="no_validation_report")
    return report_file(config["STORAGE_PATH"], m.validation_sha256, kind)


# The readable page ------------------------------------------------------------

LABELS = {
    "signed": ("Có chữ ký", "Signed"),
    "intact": ("Nội dung đã ký còn nguyên vẹn", "Signed content intact"),
    "valid": ("Hợp lệ", "Valid"),
    "trusted": ("Được tin cậy", "Trusted"),
    "tampered": ("Bị sửa đổi trái phép", "Tampered"),
    "error": ("Lỗi", "Error"),
    "level": ("Mức chữ ký (PAdES)", "Signature level (PAdES)"),
    "field": ("Trường chữ ký", "Signature field"),
    "role": ("Vai trò", "Role"),
    "signer": ("Người ký", "Signer"),
    "signer_dn": ("Chủ thể chứng thư", "Certificate subject"),
    "issuer": ("Tổ chức cấp chứng thư", "Issuer"),
    "signed_at": ("Thời điểm ký (người ký khai)", "Signing time (as stated by the signer)"),
    "timestamp": ("Dấu thời gian", "Timestamp"),
    "certifying": ("Chữ ký chứng nhận", "Certifying signature"),
    "docmdp": ("Thay đổi được phép sau chứng nhận", "Changes the certification permits"),
    "coverage": ("Phạm vi ký", "Coverage"),
    "covers_revision": ("Phiên bản tệp được ký", "Signed revision"),
    "revisions": ("Số phiên bản của tệp", "Revisions in the file"),
    "byte_range": ("Dải byte được ký", "Signed byte range"),
    "modified_after": ("Có thay đổi sau khi ký", "Changed after signing"),
    "modification_level": ("Mức thay đổi", "Modification level"),
    "changes_allowed": ("Thay đổi được phép", "Changes allowed"),
    "summary": ("Tóm tắt của bộ kiểm tra", "Validator's summary"),
    "subject": ("Chủ thể", "Subject"),
    "common_name": ("Tên", "Name"),
    "sha256_fingerprint": ("Dấu vân tay SHA-256", "SHA-256 fingerprint"),
    "serial_number": ("Số hiệu", "Serial number"),
    "not_before": ("Hiệu lực từ", "Valid from"),
    "not_after": ("Hiệu lực đến", "Valid until"),
    "source": ("Nguồn", "Source"),
    "name": ("Tên tệp", "File name"),
    "sha256": ("Mã băm SHA-256", "SHA-256"),
    "size": ("Kích thước (byte)", "Size (bytes)"),
    "matches_record": ("Khớp với hồ sơ", "Matches the record"),
    "id": ("Mã", "Id"),
    "meeting_id": ("Mã phiên họp", "Meeting id"),
    "meeting_title": ("Phiên họp", "Meeting"),
    "version": ("Phiên bản", "Version"),
    "number": ("Số", "Number"),
    "status": ("Trạng thái", "Status"),
    "validated_at": ("Thời điểm kiểm tra", "Validated at"),
    "report_format": ("Định dạng báo cáo", "Report format"),
}
VALUES = {True: ("Có", "Yes"), False: ("Không", "No"), "secretary": ("Thư ký", "Secretary"),
          "chair": ("Chủ tọa", "Chair"), "organization_ca": ("CA của cơ quan", "Organization CA")}


def _both(pair: tuple[str, str]) -> str:
    return f'{html.escape(pair[0])} <span lang="en">/ {html.escape(pair[1])}</span>'


def _label(key: str) -> str:
    # A key this page does not know yet (added by a newer verifier) is shown by its name.
    return _both(LABELS[key]) if key in LABELS else f"<code>{html.escape(key)}</code>"


def _value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool) or (isinstance(value, str) and value in VALUES):
        return _both(VALUES[value])
    if isinstance(value, (dict, list)):
        return f"<code>{html.escape(json.dumps(value, ensure_ascii=False))}</code>"
    return html.escape(str(value))


def _table(rows: Mapping[str, Any]) -> str:
    body = "".join(f"<tr><th scope=\"row\">{_label(k)}</th><td>{_value(v)}</td></tr>" for k, v in rows.items())
    return f"<table>{body}</table>"


def render_html(report: Mapping[str, Any]) -> str:
    """The report as one self-contained HTML page; every value from the file or the database is escaped."""
    v = dict(report.get("verification") or {})
    signatures = v.pop("signatures", []) or []
    sections = [
        f"<h2>{_both(('Biên bản', 'Minutes'))}</h2>{_table(report.get('minutes') or {})}",
        f"<h2>{_both(('Tệp đã kiểm tra', 'File validated'))}</h2>{_table(report.get('file') or {})}",
        f"<h2>{_both(('Kết luận', 'Result'))}</h2>"
        + _table({"validated_at": report.get("validated_at"), **v}),
    ]
    for n, sig in enumerate(signatures, start=1):
        sections.append(f"<h2>{_both((f'Chữ ký {n}', f'Signature {n}'))}</h2>{_table(sig)}")
    for n, root in enumerate(report.get("trust_roots") or [], start=1):
        sections.append(f"<h2>{_both((f'Chứng thư gốc tin cậy {n}', f'Trust root {n}'))}</h2>{_table(root)}")
    software = ", ".join(f"{html.escape(k)} {html.escape(str(x))}" for k, x in (report.get("validator") or {}).items())
    title = ("Báo cáo kiểm tra chữ ký số", "Signature validation report")
    return (
        "<!doctype html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title[0])} / {html.escape(title[1])}</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:1em auto;padding:0 1em}"
        "table{border-collapse:collapse;width:100%}th,td{border:1px solid #999;padding:.3em;text-align:left;"
        "vertical-align:top}th{width:35%;font-weight:normal;background:#f3f3f3}code{word-break:break-all}"
        "span[lang=en]{color:#555}</style></head><body>"
        f"<h1>{_both(title)}</h1>" + "".join(sections)
        + f"<p>{_both(('Phần mềm kiểm tra', 'Validated with'))}: {software}</p>"
        + "</body></html>\n"
    )
