"""Minutes benchmark: compose a big meeting's minutes and sign them twice.

    .venv/bin/python bench/minutes.py [--attendees 500 --items 60 --polls 40 --repeat 3]

Goals (docs/shared DESIGN): compose ≤ 5 s for 500 attendees, 60 items and 40
polls with named roll calls; each signature ≤ 1 s. The baseline, measured in
the same run, renders the same content with ReportLab directly (plain
paragraphs, no tables, no layout logic), so the figure that counts is how far
the real layout is above the bare library on this machine at this moment.
"""
from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import write_json  # noqa: E402
from bench.local_tsa import local_tsa  # noqa: E402
from bench.minutes_record import big_record  # noqa: E402
from meetings.minutes import keys, signing  # noqa: E402
from meetings.minutes.compose import SERIF, compose, register_minutes_fonts  # noqa: E402
from meetings.minutes.record import MinutesRecord  # noqa: E402
from meetings.minutes.verify import verify_pdf  # noqa: E402


def baseline(record: MinutesRecord) -> tuple[bytes, int]:
    """The same words as plain paragraphs in the same font: what ReportLab costs by itself."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    register_minutes_fonts()
    style = ParagraphStyle("p", fontName=SERIF, fontSize=10.5, leading=12.6)
    lines = [record.body_name, record.meeting_title]
    lines += [f"{n} {a.full_name} {a.role} {a.status} {a.reason or ''}" for n, a in enumerate(record.attendees, 1)]
    for item in record.items:
        lines.append(f"{item.number}. {item.title} {item.presenter or ''}")
        lines += [f"- {s.full_name} ({s.kind}, {s.position})" for s in item.speeches]
        for p in item.polls:
            lines.append(p.title + " " + " ".join(f"{o.label}: {o.count}" for o in p.options))
            lines += [f"{k} {v.full_name} {', '.join(v.choices)}" for k, v in enumerate(p.named_votes or [], 1)]
        lines.append(item.conclusion or "")
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, invariant=True)
    doc.build([Paragraph(line, style) for line in lines])
    return buf.getvalue(), doc.page


def timed(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return result, times


def _long_term(prepared: bytes, inst: Path, repeat: int, tsa: dict | None) -> dict:
    """Both signatures with long-term validation data, as the server makes them: without ``tsa``, B-LT from
    the organization CA's OCSP answers and its own timestamp unit (no outside service); with ``tsa`` (a
    certomancer TSA on this machine), B-LTA: the TSA's timestamps and a document timestamp after the chair."""
    from meetings.accounts.service import create_user
    from meetings.app import create_app
    from meetings.core.db import Base
    from meetings.core.extensions import db
    from meetings.minutes.revocation import signing_revinfo
    from meetings.minutes.signers import issue_key
    from meetings.minutes.verification import trust_root_files

    name = "lta" if tsa else "lt"
    home = inst / name
    app = create_app({"DATABASE_URL": f"sqlite:///{inst / f'{name}.db'}", "INSTANCE_PATH": str(home),
                      "STORAGE_PATH": str(inst / "storage"), "TSA_URL": tsa["url"] if tsa else None,
                      "MINUTES_TRUST_ROOTS": str(tsa["root"]) if tsa else ""})
    with app.app_context():
        Base.metadata.create_all(db.engine)
        keys.init_ca(home, "Bench CA", "bench-ca-pass")
        people = [create_user(db.session, n, "bench-user-pass", f) for n, f in
                  (("thuky", "Phạm Quốc Việt"), ("chutoa", "Lê Thị Thu Hằng"))]
        rows = [issue_key(db.session, app.config, u, ca_passphrase="bench-ca-pass", passphrase="bench-signer")
                for u in people]
        db.session.commit()
        unit = None if tsa else keys.timestamp_unit_files(home)

        def sign(pdf, role, row):
            validation = signing_revinfo(db.session, app.config, row, trust_root_files(app.config))
            return signing.sign(pdf, role=role, spec=signing.KeySpec("pkcs12", row.path), secret="bench-signer",
                                signer_name=role, font_cache=inst / "fonts", signed_at=datetime.now(UTC),
                                tsa_url=app.config["TSA_URL"], validation=validation, timestamp_unit=unit,
                                archival=bool(tsa) and role == "chair")

        one, t1 = timed(lambda: sign(prepared, "secretary", rows[0]), repeat)
        two, t2 = timed(lambda: sign(one, "chair", rows[1]), repeat)
        roots = keys.trust_roots(home, [str(tsa["root"])] if tsa else [])
        report, tv = timed(lambda: verify_pdf(two, roots), 1)
        assert report["valid"] and report["trusted"], report
    med = statistics.median
    key = "b_lta" if tsa else "b_lt"
    return {f"level_{key}": report["level"], f"sign_secretary_{key}_s": round(med(t1), 3),
            f"sign_chair_{key}_s": round(med(t2), 3), f"verify_{key}_s": round(tv[0], 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--attendees", type=int, default=500)
    ap.add_argument("--items", type=int, default=60)
    ap.add_argument("--polls", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="100 attendees, 15 items, 10 polls, one run (a smoke run)")
    ap.add_argument("--json", help="also write the result to this file")
    args = ap.parse_args()
    if args.quick:
        args.attendees, args.items, args.polls, args.repeat = 100, 15, 10, 1

    record = big_record(args.attendees, args.items, args.polls)
    compose(big_record(5, 1, 1))  # fonts registered, modules warm: measure the work, not the imports
    composed, t_compose = timed(lambda: compose(record), args.repeat)
    (_, base_pages), t_base = timed(lambda: baseline(record), args.repeat)

    with tempfile.TemporaryDirectory() as tmp:
        inst = Path(tmp)
        keys.init_ca(inst, "Bench CA", "bench-ca-pass")
        sec = keys.issue_pkcs12(inst, "bench-ca-pass", user_id=1, full_name="Phạm Quốc Việt", organization=None,
                                passphrase="bench-secretary")
        chair = keys.issue_pkcs12(inst, "bench-ca-pass", user_id=2, full_name="Lê Thị Thu Hằng", organization=None,
                                  passphrase="bench-chair")
        signing.stamp_font(inst / "fonts")  # the one-off font rescale is cached per installation
        prepared = signing.add_signature_fields(composed.pdf, composed.boxes)

        def sign(pdf, role, key, secret):
            return signing.sign(pdf, role=role, spec=signing.KeySpec("pkcs12", str(key.path)), secret=secret,
                                signer_name=role, font_cache=inst / "fonts", signed_at=datetime.now(UTC))

        one, t_sign1 = timed(lambda: sign(prepared, "secretary", sec, "bench-secretary"), args.repeat)
        two, t_sign2 = timed(lambda: sign(one, "chair", chair, "bench-chair"), args.repeat)
        report, t_verify = timed(lambda: verify_pdf(two, keys.trust_roots(inst)), 1)
        assert report["valid"] and report["trusted"], report
        lt = _long_term(prepared, inst, args.repeat, None)
        with local_tsa(inst / "tsa") as tsa:
            lt |= _long_term(prepared, inst, args.repeat, tsa)

    med = statistics.median
    out = {
        "attendees": args.attendees, "items": args.items, "polls": args.polls,
        "named_votes": sum(len(p.named_votes or []) for i in record.items for p in i.polls),
        "pages": composed.pages, "pdf_bytes": len(composed.pdf), "baseline_pages": base_pages,
        "compose_s": round(med(t_compose), 3), "baseline_s": round(med(t_base), 3),
        "compose_vs_baseline": round(med(t_compose) / med(t_base), 2),
        "sign_secretary_s": round(med(t_sign1), 3), "sign_chair_s": round(med(t_sign2), 3),
        "verify_two_signatures_s": round(t_verify[0], 3), "signed_bytes": len(two),
        "level_b_b": report["level"], **lt,
        "goals": {"compose_s": 5.0, "sign_s": 1.0},
    }
    out["ok"] = out["compose_s"] <= 5.0 and max(out["sign_secretary_s"], out["sign_chair_s"]) <= 1.0
    print(json.dumps(out, indent=2, ensure_ascii=False))
    write_json(args.json, out)


if __name__ == "__main__":
    main()
