"""Bench: how long the PDF intake check takes and how much memory its child uses.

Builds a ~50 MB, 500-page PDF (a random-noise image per page, so nothing
compresses) and a decompression bomb (4 MB that inflates to 4 GiB), then runs
the same check the upload route runs (meetings.documents.intake.check_pdf, a
child process under the default limits) and the whole intake (stream to
tmp/ while hashing, check, rename into blobs/). Also times stamping the
per-viewer watermark on the 500 pages. Prints a small table.

    .venv/bin/python bench/upload_validation.py [--pages 500] [--image-px 180] [--runs 3]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import write_json  # noqa: E402
from meetings.core.fonts import font_path  # noqa: E402
from meetings.documents import service  # noqa: E402
from meetings.documents.intake import IntakeLimits, check_pdf  # noqa: E402
from meetings.documents.watermark import MARKINGS, stamp  # noqa: E402
from tests import pdfs  # noqa: E402


def _mb(n: float) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=500)
    ap.add_argument("--image-px", type=int, default=180)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="100 pages (≈ 10 MB), one run (a smoke run)")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    if args.quick:
        args.pages, args.runs = 100, 1
    figures: dict = {"scenario": "upload_validation", "pages": args.pages, "runs": args.runs}
    work = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    limits = IntakeLimits()  # the defaults: 100 MB, 2000 pages, 60 s, 1024 MB
    rows: list[tuple[str, str, str, str]] = []
    try:
        t = time.perf_counter()
        big = work / "big.pdf"
        big.write_bytes(pdfs.noise_pdf(args.pages, args.image_px))
        print(f"built {args.pages}-page PDF of {_mb(big.stat().st_size)} in {time.perf_counter() - t:.1f} s")
        figures["file_bytes"] = big.stat().st_size
        bomb = work / "bomb.pdf"
        bomb.write_bytes(pdfs.bomb_pdf(4 * 1024 ** 3))

        verdicts = [check_pdf(big, limits) for _ in range(args.runs)]
        assert all(v.ok and v.pages == args.pages for v in verdicts), verdicts[0]
        rows.append((f"check {args.pages} pages, {_mb(big.stat().st_size)}",
                     f"{statistics.median(v.seconds for v in verdicts):.2f} s",
                     f"{max(v.peak_rss_kb for v in verdicts) / 1024:.0f} MB",
                     f"accepted, decoded {_mb(verdicts[0].decoded_bytes)}"))
        figures["check_s"] = round(statistics.median(v.seconds for v in verdicts), 3)
        figures["check_child_peak_rss_mb"] = round(max(v.peak_rss_kb for v in verdicts) / 1024, 1)

        times = []
        for i in range(args.runs):
            store = work / f"store{i}"
            t = time.perf_counter()
            sha, size, pages = service.ingest(big, store, limits)
            times.append(time.perf_counter() - t)
        rows.append(("whole intake (hash, check, store)", f"{statistics.median(times):.2f} s", "-",
                     f"sha256 {sha[:12]}…"))
        figures["intake_s"] = round(statistics.median(times), 3)

        bombs = [check_pdf(bomb, limits) for _ in range(args.runs)]
        assert all(not v.ok for v in bombs)
        rows.append((f"refuse bomb ({_mb(bomb.stat().st_size)} → 4096 MB)",
                     f"{statistics.median(v.seconds for v in bombs):.2f} s",
                     f"{max(v.peak_rss_kb for v in bombs) / 1024:.0f} MB", f"refused: {bombs[0].code}"))
        figures["bomb_refuse_s"] = round(statistics.median(v.seconds for v in bombs), 3)
        figures["bomb_code"] = bombs[0].code
        tight = check_pdf(bomb, IntakeLimits(memory_mb=120))
        rows.append(("refuse bomb, memory limit 120 MB", f"{tight.seconds:.2f} s",
                     f"{tight.peak_rss_kb / 1024:.0f} MB" if tight.peak_rss_kb else "killed",
                     f"refused: {tight.code}"))
        figures["bomb_tight_memory_code"] = tight.code

        t = time.perf_counter()
        out = work / "stamped.pdf"
        stamp(big, out, marking=MARKINGS["secret"], viewer_name="Nguyễn Thị Hằng", when="27/11/2026 09:15",
              font_path=font_path(), seconds=120)
        rows.append((f"watermark {args.pages} pages", f"{time.perf_counter() - t:.2f} s", "-",
                     f"output {_mb(out.stat().st_size)}"))
        figures["watermark_s"] = float(rows[-1][1].split()[0])
    finally:
        shutil.rmtree(work, ignore_errors=True)

    widths = [max(len(r[i]) for r in rows + [("case", "time", "child peak RSS", "result")]) for i in range(4)]
    header = ("case", "time", "child peak RSS", "result")
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    figures["rows"] = rows
    write_json(args.json, figures)


if __name__ == "__main__":
    main()
