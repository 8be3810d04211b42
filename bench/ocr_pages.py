"""Bench: OCR time per page of a scanned Vietnamese PDF (200 dpi), as the job queue's task runs it.

Builds image-only PDFs of 1 and 5 pages (a Vietnamese page composed with ReportLab, rendered by
pdftoppm at 200 dpi, wrapped as an image; tests/test_documents_ocr.py's builder), stores each
as a blob and runs ``meetings.documents.ocr.make_rendition`` (the child process, OCRmyPDF with
tesseract ``vie+eng``, no optimisation, no PDF/A) under the default limits, with 1 and 2 pages at
once (``OCR_JOBS``). Also times the intake's text probe. Prints JSON.

    .venv/bin/python bench/ocr_pages.py [--pages 1 5] [--jobs 1 2] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import load_average, write_json  # noqa: E402
from meetings.documents import ocr, storage  # noqa: E402
from tests.test_documents_ocr import KEY_WORDS, scan_pdf  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, nargs="+", default=[1, 5])
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--quick", action="store_true", help="1 page, 1 job")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    if args.quick:
        args.pages, args.jobs = [1], [1]
    root = Path(tempfile.mkdtemp(prefix="bench-ocr-"))
    figures: dict = {"scenario": "ocr_pages", "dpi": 200, "languages": "vie+eng", "load_before": load_average(),
                     "runs": []}
    try:
        for pages in args.pages:
            data = scan_pdf(pages)
            staged = storage.stage(data, root, 1 << 30)
            storage.accept(staged, root)
            t = time.perf_counter()
            layer = ocr.text_layer_at_intake(root, staged.sha256)
            probe_s = time.perf_counter() - t
            for jobs in args.jobs:
                settings = ocr.OcrSettings(jobs=jobs)
                t = time.perf_counter()
                rendition = ocr.make_rendition(root, staged.sha256, settings)
                seconds = time.perf_counter() - t
                text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(storage.blob_path(root, rendition)), "-"],
                                      capture_output=True, check=True).stdout.decode("utf-8")
                figures["runs"].append({
                    "pages": pages, "jobs": jobs, "file_bytes": len(data), "intake_probe_s": round(probe_s, 3),
                    "intake_text_layer": layer, "seconds": round(seconds, 2),
                    "seconds_per_page": round(seconds / pages, 2),
                    "key_words_found": sum(w in text for w in KEY_WORDS), "key_words": len(KEY_WORDS)})
                storage.blob_path(root, rendition).unlink()  # the next run makes it again
    finally:
        shutil.rmtree(root, ignore_errors=True)
    figures["load_after"] = load_average()
    print(json.dumps(figures, ensure_ascii=False, indent=1))
    if args.json:
        write_json(Path(args.json), figures)


if __name__ == "__main__":
    main()
