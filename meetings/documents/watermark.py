"""Per-viewer watermark of confidential documents, stamped in a child process.

The stamp names the viewer, the time and the marking (MẬT, TỐI MẬT, TUYỆT MẬT,
LƯU HÀNH NỘI BỘ): a large diagonal marking across each page and one line of
text at its top and bottom, drawn by ReportLab in DejaVu Serif (so the
Vietnamese letters are real text a leak can be traced by) and merged onto every
page by pypdf. Like the intake check it runs in a fresh interpreter with a
memory and a time limit (``python -I watermark.py``: standard library only at
module level, the font file's path passed in, no application import).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

MB = 1024 * 1024

MARKINGS = {
    "internal": "LƯU HÀNH NỘI BỘ",
    "confidential": "MẬT",
    "secret": "TỐI MẬT",
    "top_secret": "TUYỆT MẬT",
}


class WatermarkFailed(RuntimeError):
    """The stamped copy could not be made (time or memory limit, broken source)."""


def stamp_line(marking: str, viewer_name: str, when: str) -> str:
    """The text line printed at the top and bottom of every page."""
    return f"{marking} · Bản cấp cho: {viewer_name} · {when}"


def stamp(src: Path, dst: Path, *, marking: str, viewer_name: str, when: str, font_path: Path,
          seconds: float = 60, memory_mb: int = 1024) -> None:
    """Write a stamped copy of ``src`` to ``dst`` (atomically: a reader never sees half a file)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".stamp-", suffix=".part", dir=dst.parent)
    os.close(fd)
    request = {
        "src": str(src), "dst": tmp_name, "marking": marking,
        "line": stamp_line(marking, viewer_name, when), "font": str(font_path),
        "memory_mb": memory_mb, "cpu_seconds": max(1, int(seconds + 0.999)),
        "max_out": src.stat().st_size * 2 + 64 * MB,
    }
    try:
        proc = subprocess.Popen(
            [sys.executable, "-I", os.path.abspath(__file__)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, close_fds=True,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"},
        )
        try:
            out, err = proc.communicate(json.dumps(request).encode(), timeout=seconds)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise WatermarkFailed(f"stamping took longer than {seconds:g} s") from None
        if proc.returncode != 0 or not out.strip().endswith(b"ok"):
            raise WatermarkFailed(f"stamping failed (exit {proc.returncode}): "
                                  f"{err.decode('utf-8', 'replace')[-300:]}")
        os.replace(tmp_name, dst)
    finally:
        Path(tmp_name).unlink(missing_ok=True)


# ----------------------------------------------------------------------------------
# The child.


def _overlay(width: float, height: float, marking: str, line: str, font: str):
    """One overlay page of the given size, as a pypdf page."""
    import io

    from pypdf import PdfReader
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(width, height))
    c.setFillColorRGB(0.75, 0.05, 0.05)
    # The big diagonal marking: translucent so the page stays readable under it.
    c.saveState()
    c.setFillAlpha(0.16)
    size = max(24.0, min(width, height) / max(3, len(marking)) * 1.6)
    c.setFont(font, size)
    c.translate(width / 2, height / 2)
    c.rotate(45)
    c.drawCentredString(0, -size / 3, marking)
    c.restoreState()
    # The traceable lines: who received this copy and when.
    c.setFillAlpha(0.85)
    fsize = 8.0
    c.setFont(font, fsize)
    while fsize > 4 and c.stringWidth(line, font, fsize) > width - 24:
        fsize -= 0.5
    c.setFont(font, fsize)
    c.drawCentredString(width / 2, height - 6 - fsize, line)
    c.drawCentredString(width / 2, 6, line)
    c.showPage()
    c.save()
    return PdfReader(io.BytesIO(buf.getvalue())).pages[0]


def _stamp(request: dict) -> None:
    from pypdf import PdfReader, PdfWriter, Transformation
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    font = "DejaVuSerif"
    pdfmetrics.registerFont(TTFont(font, request["font"]))
    writer = PdfWriter(clone_from=PdfReader(request["src"]))
    overlays: dict[tuple[float, float], object] = {}
    for page in writer.pages:
        if page.rotation:
            page.transfer_rotation_to_content()  # so the stamp reads upright as displayed
        box = page.cropbox
        key = (round(float(box.width), 2), round(float(box.height), 2))
        if key not in overlays:
            overlays[key] = _overlay(key[0], key[1], request["marking"], request["line"], font)
        left, bottom = float(box.left), float(box.bottom)
        if left or bottom:
            page.merge_transformed_page(overlays[key], Transformation().translate(left, bottom))
        else:
            page.merge_page(overlays[key])
    with open(request["dst"], "wb") as fh:
        writer.write(fh)


def _child_main() -> None:
    import logging
    import resource

    request = json.loads(sys.stdin.read())
    limit = request["memory_mb"] * MB
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CPU, (request["cpu_seconds"], request["cpu_seconds"] + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (request["max_out"], request["max_out"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    logging.disable(logging.WARNING)
    _stamp(request)
    sys.stdout.write("ok\n")
    sys.stdout.flush()


if __name__ == "__main__":
    _child_main()
