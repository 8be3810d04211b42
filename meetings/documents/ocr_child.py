"""The OCR child: find pages without text, or give a scan a text layer with OCRmyPDF.

Run as ``python -I ocr_child.py`` by ``ocr.py`` with a JSON request on stdin and
one JSON answer line on stdout. Like the intake child (``intake.py``) it first
caps its own address space (RLIMIT_AS), CPU time (RLIMIT_CPU) and the size of
any file it writes (RLIMIT_FSIZE); tesseract and ghostscript, started by
OCRmyPDF, inherit those limits. The parent starts it in a session of its own
and kills the whole group when the wall-clock limit passes.

At module level it imports the standard library only: nothing of the
application (or of the gevent-patched parent) runs here.
"""
from __future__ import annotations

import json
import os
import sys

MB = 1024 * 1024


def _limit_self(memory_mb: int, cpu_seconds: int, max_file: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * MB, memory_mb * MB))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (max_file, max_file))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _sample(pages: int, at_most: int) -> list[int]:
    """Which pages to look at: all of them, or ``at_most`` spread evenly over a long document."""
    if pages <= at_most:
        return list(range(pages))
    step = pages / at_most
    return sorted({int(i * step) for i in range(at_most)})


def probe(request: dict) -> dict:
    """Count the pages (of a sample) whose extractable text is shorter than ``min_chars``."""
    import logging

    from pypdf import PdfReader

    logging.disable(logging.WARNING)  # pypdf warns about every repaired oddity
    with open(request["path"], "rb") as fh:
        reader = PdfReader(fh, strict=False)
        pages = len(reader.pages)
        looked = _sample(pages, int(request.get("sample", 200)))
        without = 0
        for n in looked:
            try:
                text = reader.pages[n].extract_text() or ""
            except Exception:  # a page whose text cannot be read offers nothing to highlight either
                text = ""
            if len("".join(text.split())) < int(request["min_chars"]):
                without += 1
    return {"ok": True, "pages": pages, "looked": len(looked), "without_text": without}


def ocr(request: dict) -> dict:
    """Write ``out``: the PDF at ``path`` with a text layer on its pages that had none.

    Pages that carry text are left as they are (``skip_text``); the page sizes stay, so
    annotations keep their place. No PDF/A and no optimisation: the rendition is for reading
    on tablets, made as fast as possible. A signed input is read, never written: the
    rendition is a new file, so its (now invalid) signature is of no concern (the original
    is kept apart by the caller)."""
    import logging

    import ocrmypdf

    logging.disable(logging.WARNING)
    ocrmypdf.ocr(
        request["path"], request["out"],
        language=request["languages"].split("+"),
        output_type="pdf",
        optimize=0,
        skip_text=True,
        jobs=int(request.get("jobs", 1)),
        progress_bar=False,
        invalidate_digital_signatures=True,
        tesseract_timeout=float(request["page_seconds"]),
    )
    return {"ok": True}


def main() -> None:
    request = json.loads(sys.stdin.read())
    _limit_self(request["memory_mb"], request["cpu_seconds"], request["max_file"])
    try:
        answer = probe(request) if request["mode"] == "probe" else ocr(request)
    except MemoryError:
        answer = {"ok": False, "error": f"out of memory (limit {request['memory_mb']} MB)"}
    except Exception as exc:  # the parent records the reason and the job queue tries again later
        words = " ".join(str(exc).split())  # OCRmyPDF's messages span lines
        answer = {"ok": False, "error": f"{type(exc).__name__}: {words}"[:280]}
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    os.umask(0o027)
    main()
