"""Annotated-PDF export and per-page text extraction, both in a child process.

The server side gathers the annotations and runs ``python -m
meetings.annotations.export`` as a subprocess (cooperative under gevent's
patched ``subprocess``; never a fork of the gevent process) with a time and
memory limit, so a hostile or huge PDF cannot stall the event loop or exhaust
the server. The child writes native PDF annotations with pypdf: Ink,
Highlight, Text, Square and Line, each with author (/T), dates (/M,
/CreationDate), its id (/NM) and an appearance stream (/AP) so every viewer
draws it the same way, and each stays editable in Acrobat, Okular and PDF.js.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

# Server side -----------------------------------------------------------------


def document_file(document: Any, config: Any) -> Path:
    """Where the bytes delegates see live: the documents domain's served blob (a scan's OCR rendition
    once ready, whose text highlights anchor on; else the disarmed copy)."""
    from meetings.core.errors import NotFound
    from meetings.documents.delivery import served_sha256
    from meetings.documents.storage import blob_path

    root = config["STORAGE_PATH"]
    path = blob_path(root, served_sha256(document, root))
    if not path.is_file():
        raise NotFound("The document's file is missing from storage.", code="file_missing")
    return path


def annotations_for_export(session: Any, document: Any, user: Any, *, include_shared: bool,
                           include_orphaned: bool = False) -> list[dict]:
    """The caller's live annotations (plus, if asked, the others' they may see), with author names.
    Orphaned annotations are left out of the PDF: their position no longer means anything there."""
    from sqlalchemy import select

    from meetings.accounts.models import User
    from meetings.annotations.changes import serialize, visible_to
    from meetings.annotations.models import Annotation

    rows = session.execute(
        select(Annotation, User.full_name).join(User, User.id == Annotation.author_id)
        .where(Annotation.document_id == document.id, Annotation.deleted_at.is_(None))
        .order_by(Annotation.rev)
    ).all()
    out = []
    for ann, author in rows:
        if ann.orphaned and not include_orphaned:
            continue
        mine = ann.author_id == user.id
        if mine or (include_shared and ann.visibility != "private" and visible_to(ann, user)):
            out.append({**serialize(ann), "author": author})
    return out


def export_source(document: Any, user: Any, config: Any) -> Path:
    """The file an export of ``document`` for ``user`` starts from: the copy stamped for them when the
    document is confidential (the documents domain's watermark, as its page serves it), else the blob.
    An export must not be the way around the watermark."""
    if not document.needs_watermark:
        return document_file(document, config)
    from meetings.core.fonts import font_path
    from meetings.documents.delivery import watermarked_copy

    return watermarked_copy(config["STORAGE_PATH"], document, user, font_path=font_path(),
                            seconds=int(config.get("PDF_CHECK_SECONDS", 60)),
                            memory_mb=int(config.get("PDF_CHECK_MEMORY_MB", 1024)))


def annotated_pdf_for(session: Any, document_id: int, user: Any, config: Any, *,
                      include_shared: bool) -> tuple[bytes, str]:
    """The annotated PDF of a document the caller may see (stamped for them when confidential), and
    its download name (quoted)."""
    from meetings.annotations.service import document_for

    doc, _ = document_for(session, document_id, user)
    anns = annotations_for_export(session, doc, user, include_shared=include_shared)
    return annotated_pdf(doc, anns, config, source=export_source(doc, user, config)), download_name(doc)


def web_annotations_for(session: Any, document_id: int, user: Any, *, base_url: str) -> dict:
    """The caller's own annotations of a document they may see, as a W3C Web Annotation collection."""
    from meetings.annotations.service import document_for
    from meetings.annotations.webannotation import collection

    doc, _ = document_for(session, document_id, user)
    anns = annotations_for_export(session, doc, user, include_shared=False, include_orphaned=True)
    return collection(doc, anns, base_url=base_url)


def download_name(document: Any) -> str:
    stem = (document.filename or "document.pdf").rsplit(".", 1)[0]
    return quote(f"{stem}-annotated.pdf")


def _run_child(task: str, payload: dict, config: Any) -> dict:
    seconds = int(config.get("PDF_CHECK_SECONDS", 60))
    payload = {**payload, "cpu_seconds": seconds, "memory_mb": int(config.get("PDF_CHECK_MEMORY_MB", 1024))}
    from meetings.core.config import PROJECT_ROOT
    from meetings.core.errors import Invalid, Unavailable

    try:
        proc = subprocess.run([sys.executable, "-m", "meetings.annotations.export", task],
                              input=json.dumps(payload).encode(), capture_output=True,
                              timeout=seconds + 5, cwd=str(PROJECT_ROOT), check=False)
    except subprocess.TimeoutExpired as err:
        raise Unavailable("Processing the PDF took too long.", code="pdf_timeout") from err
    try:
        answer = json.loads(proc.stdout.decode() or "{}")
    except ValueError:
        answer = {}
    if proc.returncode != 0 or not answer.get("ok"):
        raise Invalid("The PDF could not be processed.", code="pdf_failed",
                      details={"reason": answer.get("error") or f"exit {proc.returncode}"})
    return answer


def annotated_pdf(document: Any, annotations: list[dict], config: Any, *, source: Path | None = None) -> bytes:
    """The document's bytes (or ``source``'s) with ``annotations`` written in as native PDF annotations."""
    src = source if source is not None else document_file(document, config)
    with tempfile.TemporaryDirectory(prefix="annot-") as tmp:
        out = Path(tmp) / "out.pdf"
        _run_child("annotate", {"pdf": str(src), "out": str(out), "annotations": annotations}, config)
        return out.read_bytes()


def extract_text_by_page(path: str | os.PathLike, config: Any) -> list[str]:
    """Text of each page (pypdf, in a child process), for carrying annotations over."""
    return _run_child("text", {"pdf": str(path)}, config)["pages"]


# Child side ------------------------------------------------------------------


def _limit(cpu_seconds: int, memory_mb: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 1024 * 1024, memory_mb * 1024 * 1024))


def _pdf_date(iso_time: str | None) -> str:
    from datetime import UTC, datetime

    dt = datetime.fromisoformat(iso_time) if iso_time else datetime.now(UTC)
    dt = dt.astimezone(UTC)
    return dt.strftime("D:%Y%m%d%H%M%S+00'00'")


def _rgb(color: str) -> list[float]:
    return [int(color[i:i + 2], 16) / 255 for i in (1, 3, 5)]


def _f(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


def _appearance(writer: Any, bbox: list[float], ops: str, *, opacity: float | None = None) -> Any:
    """A form XObject drawing the annotation, so viewers need not invent one."""
    from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, FloatObject, NameObject

    stream = DecodedStreamObject()
    stream.set_data(ops.encode("ascii"))
    stream[NameObject("/Type")] = NameObject("/XObject")
    stream[NameObject("/Subtype")] = NameObject("/Form")
    stream[NameObject("/BBox")] = ArrayObject([FloatObject(v) for v in bbox])
    resources = DictionaryObject()
    if opacity is not None:
        gs = DictionaryObject({NameObject("/Type"): NameObject("/ExtGState"),
                               NameObject("/CA"): FloatObject(opacity), NameObject("/ca"): FloatObject(opacity),
                               NameObject("/BM"): NameObject("/Multiply")})
        resources[NameObject("/ExtGState")] = DictionaryObject({NameObject("/G0"): gs})
    stream[NameObject("/Resources")] = resources
    return writer._add_object(stream)


def _bbox(points: list[tuple[float, float]], pad: float) -> list[float]:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return [min(xs) - pad, min(ys) - pad, max(xs) + pad, max(ys) + pad]


def _native(writer: Any, a: dict, by_id: dict[str, dict]) -> dict | None:
    """One annotation as a PDF annotation dictionary (pypdf objects)."""
    from pypdf.generic import (
        ArrayObject,
        BooleanObject,
        DictionaryObject,
        FloatObject,
        NameObject,
        NumberObject,
        TextStringObject,
    )

    def arr(values):
        return ArrayObject([FloatObject(round(v, 3)) for v in values])

    g, kind = a["geometry"], a["kind"]
    rgb = _rgb(a["color"])
    stroke = " ".join(_f(c) for c in rgb) + " RG"
    fill = " ".join(_f(c) for c in rgb) + " rg"
    width = float(g.get("width", 1.0))
    d: dict[str, Any] = {}
    if kind == "ink":
        pts = [(p[0], p[1]) for s in g["strokes"] for p in s]
        rect = _bbox(pts, width)
        d["/Subtype"] = NameObject("/Ink")
        d["/InkList"] = ArrayObject([arr([c for p in s for c in p[:2]]) for s in g["strokes"]])
        paths = []
        for s in g["strokes"]:
            first, rest = s[0], s[1:] or [s[0]]
            moves = " ".join(f"{_f(p[0])} {_f(p[1])} l" for p in rest)
            paths.append(f"{_f(first[0])} {_f(first[1])} m {moves} S")
        ap = _appearance(writer, rect, f"{stroke} {_f(width)} w 1 J 1 j " + " ".join(paths))
    elif kind == "highlight":
        rects = g["rects"]
        rect = _bbox([(r[0], r[1]) for r in rects] + [(r[2], r[3]) for r in rects], 0)
        d["/Subtype"] = NameObject("/Highlight")
        d["/QuadPoints"] = arr([v for r in rects for v in (r[0], r[3], r[2], r[3], r[0], r[1], r[2], r[1])])
        body = " ".join(f"{_f(r[0])} {_f(r[1])} {_f(r[2] - r[0])} {_f(r[3] - r[1])} re f" for r in rects)
        ap = _appearance(writer, rect, f"/G0 gs {fill} {body}", opacity=0.4)
    elif kind == "note":
        x, y = g["point"]
        target = by_id.get(a.get("target_id") or "")
        if target is not None:  # on a highlight: sit at its first rectangle's top right
            r0 = target["geometry"]["rects"][0]
            x, y = r0[2], r0[3]
        rect = [x, y - 20, x + 20, y]
        d["/Subtype"] = NameObject("/Text")
        d["/Name"] = NameObject("/Comment")
        d["/Open"] = BooleanObject(False)
        ap = _appearance(writer, rect, f"{fill} 0 0 0 RG 1 w {_f(x + 1)} {_f(y - 19)} 18 18 re B "
                         f"{_f(x + 4)} {_f(y - 7)} m {_f(x + 16)} {_f(y - 7)} l {_f(x + 4)} {_f(y - 11)} m "
                         f"{_f(x + 16)} {_f(y - 11)} l {_f(x + 4)} {_f(y - 15)} m {_f(x + 12)} {_f(y - 15)} l S")
    elif kind == "rect":
        x1, y1, x2, y2 = g["rect"]
        rect = [x1 - width, y1 - width, x2 + width, y2 + width]
        d["/Subtype"] = NameObject("/Square")
        ap = _appearance(writer, rect, f"{stroke} {_f(width)} w {_f(x1)} {_f(y1)} {_f(x2 - x1)} {_f(y2 - y1)} re S")
    elif kind == "arrow":
        x1, y1, x2, y2 = g["line"]
        import math

        ang, size = math.atan2(y2 - y1, x2 - x1), max(6.0, width * 4)
        heads = [(x2 - size * math.cos(ang + s), y2 - size * math.sin(ang + s)) for s in (0.45, -0.45)]
        rect = _bbox([(x1, y1), (x2, y2), *heads], width + 1)
        d["/Subtype"] = NameObject("/Line")
        d["/L"] = arr([x1, y1, x2, y2])
        d["/LE"] = ArrayObject([NameObject("/None"), NameObject("/OpenArrow")])
        ap = _appearance(writer, rect, f"{stroke} {_f(width)} w 1 J 1 j {_f(x1)} {_f(y1)} m {_f(x2)} {_f(y2)} l S "
                         f"{_f(heads[0][0])} {_f(heads[0][1])} m {_f(x2)} {_f(y2)} l "
                         f"{_f(heads[1][0])} {_f(heads[1][1])} l S")
    else:
        return None
    d.update({
        "/Type": NameObject("/Annot"),
        "/Rect": arr(rect),
        "/C": arr(rgb),
        "/T": TextStringObject(a.get("author") or ""),
        "/NM": TextStringObject(a["id"]),
        "/M": TextStringObject(_pdf_date(a.get("updated_at"))),
        "/CreationDate": TextStringObject(_pdf_date(a.get("created_at"))),
        "/F": NumberObject(4),  # Print
        "/AP": DictionaryObject({NameObject("/N"): ap}),
    })
    if kind in ("ink", "rect", "arrow"):
        d["/BS"] = DictionaryObject({NameObject("/W"): FloatObject(width), NameObject("/S"): NameObject("/S")})
    if a.get("text"):
        d["/Contents"] = TextStringObject(a["text"])
    if kind == "highlight" and a.get("anchor"):
        # The quoted text travels with the highlight, like Acrobat's own highlights.
        d.setdefault("/Contents", TextStringObject(a["anchor"]["exact"]))
    return {NameObject(k): v for k, v in d.items()}


def _annotate(job: dict) -> dict:
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(job["pdf"])
    writer = PdfWriter(clone_from=reader)
    # Opacity in the highlights' appearance (ExtGState /CA) is a PDF 1.4 feature.
    if str(writer.pdf_header) < "%PDF-1.4":
        writer.pdf_header = "%PDF-1.7"
    by_id = {a["id"]: a for a in job["annotations"]}
    written = 0
    for a in job["annotations"]:
        page = a["page"] - 1
        if not 0 <= page < len(writer.pages):
            continue
        native = _native(writer, a, by_id)
        if native is not None:
            writer.add_annotation(page, native)
            written += 1
    with open(job["out"], "wb") as fh:
        writer.write(fh)
    return {"ok": True, "written": written}


def _text(job: dict) -> dict:
    from pypdf import PdfReader

    reader = PdfReader(job["pdf"])
    return {"ok": True, "pages": [page.extract_text() or "" for page in reader.pages]}


def main() -> int:
    job = json.loads(sys.stdin.buffer.read())
    _limit(job["cpu_seconds"], job["memory_mb"])
    try:
        answer = {"annotate": _annotate, "text": _text}[sys.argv[1]](job)
    except Exception as exc:  # the parent turns this into a clear 422
        answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]}
    sys.stdout.write(json.dumps(answer))
    return 0 if answer.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
