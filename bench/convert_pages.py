"""Bench: Office → PDF conversion time per page, as the upload route runs it (LibreOffice sandbox).

Builds Word files of ~10 and ~50 pages (Times New Roman, Vietnamese text, a table and a picture:
tests/office_files.py), a workbook (3 sheets of 150 rows) and a presentation of 10 slides, and
converts each with ``meetings.documents.convert.convert`` under the default limits: a fresh child,
the container/macro check, a private LibreOffice profile, no network; each run starts LibreOffice
cold, as every upload does. Reports the median of ``--runs`` and the time per page; also the whole
intake of the 10-page Word file (``receiving.ingest_upload``: conversion + PDF check + disarm +
storage). Prints JSON.

    .venv/bin/python bench/convert_pages.py [--runs 3] [--json FILE]
"""
from __future__ import annotations

import argparse
import io
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import load_average, write_json  # noqa: E402
from meetings.documents import convert, receiving  # noqa: E402
from meetings.documents.intake import IntakeLimits  # noqa: E402
from tests import office_files  # noqa: E402


def _workbook(sheets: int = 3, rows: int = 150) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    for s in range(sheets):
        ws = wb.active if s == 0 else wb.create_sheet()
        ws.title = f"Biểu {s + 1}"
        ws.append(["STT", "Đơn vị", "Dự toán (triệu đồng)", "Thực hiện", "Tỷ lệ"])
        for r in range(rows):
            ws.append([r + 1, f"Ủy ban nhân dân xã số {r + 1}", 1000 + r * 7, 900 + r * 5, f"=D{r + 2}/C{r + 2}"])
        ws.column_dimensions["B"].width = 36
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _pages(path: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(str(path)).pages)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="one run each, no 50-page file")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    cases = [("docx", "Word, ~10 pages", lambda: office_files.docx_vietnamese(10, paragraphs_per_page=12)),
             ("docx", "Word, ~50 pages", lambda: office_files.docx_vietnamese(50, paragraphs_per_page=12)),
             ("xlsx", "Excel, 3 sheets of 150 rows", _workbook),
             ("pptx", "PowerPoint, 10 slides", lambda: office_files.pptx_slides(10))]
    if args.quick:
        args.runs, cases = 1, [cases[0], cases[2], cases[3]]
    limits = convert.ConversionLimits()  # the defaults: 120 s, 2048 MB
    work = Path(tempfile.mkdtemp(prefix="bench-convert-"))
    figures: dict = {"scenario": "convert_pages", "runs": args.runs, "load_before": load_average(),
                     "network_jail": " ".join(convert.network_jail()) or None, "cases": []}
    try:
        for ext, label, build in cases:
            src = work / f"in.{ext}"
            src.write_bytes(build())
            out = work / "out.pdf"
            times = []
            for _ in range(args.runs):
                t = time.perf_counter()
                convert.convert(src, ext, out, limits)
                times.append(time.perf_counter() - t)
            pages = _pages(out)
            median = statistics.median(times)
            figures["cases"].append({"format": ext, "label": label, "bytes": src.stat().st_size, "pages": pages,
                                     "seconds_median": round(median, 3), "seconds_all": [round(x, 3) for x in times],
                                     "seconds_per_page": round(median / pages, 3)})
            print(f"{label}: {pages} pages, median {median:.2f} s, {median / pages:.3f} s/page", file=sys.stderr)
        storage = work / "storage"
        data = office_files.docx_vietnamese(10, paragraphs_per_page=12)
        t = time.perf_counter()
        got = receiving.ingest_upload(data, storage, IntakeLimits(), filename="Nghị quyết.docx", conversion=limits)
        figures["intake_docx_10"] = {"pages": got.pages, "seconds": round(time.perf_counter() - t, 3),
                                     "conversion_seconds": round(got.conversion_seconds or 0, 3)}
        figures["load_after"] = load_average()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(figures, ensure_ascii=False, indent=1))
    write_json(args.json, figures)


if __name__ == "__main__":
    main()
