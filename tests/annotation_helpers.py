"""Shared builders for the annotation tests: documents with known text, annotation payloads."""
from __future__ import annotations

import io
import uuid

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from meetings.core.fonts import register_fonts

PAGE_TEXTS = [
    ["Dự thảo nghị quyết về kế hoạch phát triển kinh tế năm 2027", "Điều 1. Mục tiêu tăng trưởng bền vững"],
    ["Điều 2. Giải pháp đầu tư công trọng điểm", "Ngân sách tỉnh bố trí vốn đối ứng"],
    ["Điều 3. Tổ chức thực hiện nghị quyết", "Ủy ban nhân dân tỉnh báo cáo kết quả"],
]


def pdf_with_lines(pages: list[list[str]]) -> bytes:
    """An A4 PDF, one list of lines per page, Vietnamese text in DejaVu Serif."""
    font = register_fonts()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for lines in pages:
        c.setFont(font, 14)
        for i, line in enumerate(lines):
            c.drawString(72, 760 - 30 * i, line)
        c.showPage()
    c.save()
    return buf.getvalue()


def add_doc(session, app, meeting, uploader, pages=None, *, published=True, agenda_item_id=None, title=None):
    """A real Document through the documents domain's intake (child-process check, blob storage)."""
    from meetings.documents.service import add_document

    doc = add_document(session, meeting, pdf_with_lines(pages or PAGE_TEXTS), title=title or "Dự thảo nghị quyết",
                       filename="du-thao.pdf", uploaded_by_id=uploader.id, agenda_item_id=agenda_item_id,
                       published=published, storage_path=app.config["STORAGE_PATH"])
    session.commit()
    return doc


def ink(page=1, **extra):
    return {"id": str(uuid.uuid4()), "kind": "ink", "page": page, "color": "#ff0000",
            "geometry": {"strokes": [[[100, 500, 0.4], [150, 520, 0.6], [200, 510, 0.7]]], "width": 3}, **extra}


def highlight(page=1, exact="Mục tiêu tăng trưởng", prefix="Điều 1. ", suffix=" bền vững", **extra):
    return {"id": str(uuid.uuid4()), "kind": "highlight", "page": page, "color": "#ffd400",
            "geometry": {"rects": [[120, 726, 300, 744]]},
            "anchor": {"exact": exact, "prefix": prefix, "suffix": suffix, "start": 70, "end": 90}, **extra}


def note(page=1, text="Cần làm rõ nguồn vốn <script>alert(1)</script>", **extra):
    return {"id": str(uuid.uuid4()), "kind": "note", "page": page, "color": "#00aa00",
            "geometry": {"point": [400, 600]}, "text": text, **extra}


def rect(page=1, **extra):
    return {"id": str(uuid.uuid4()), "kind": "rect", "page": page, "color": "#0000ff",
            "geometry": {"rect": [80, 300, 300, 400], "width": 2}, **extra}


def arrow(page=1, **extra):
    return {"id": str(uuid.uuid4()), "kind": "arrow", "page": page, "color": "#aa00aa",
            "geometry": {"line": [100, 200, 250, 260], "width": 2}, **extra}
