"""Builders of good and bad PDFs for the document tests and the bench.

Good files come from ReportLab (Vietnamese text in DejaVu Serif through
meetings.core.fonts) and pypdf; hostile ones (bombs, cyclic trees) are written
byte by byte so they are exactly as bad as intended.
"""
from __future__ import annotations

import io
import os
import zlib

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from meetings.core.fonts import register_fonts

VI_TEXT = "Dự thảo nghị quyết về kế hoạch phát triển kinh tế – xã hội năm 2027"


def simple_pdf(pages: int = 2, text: str = VI_TEXT, compress: bool = True) -> bytes:
    """A small A4 PDF with Vietnamese text on every page ("Trang n")."""
    font = register_fonts()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, pageCompression=1 if compress else 0)
    c.setTitle("Tài liệu thử nghiệm")
    for n in range(1, pages + 1):
        c.setFont(font, 14)
        c.drawString(72, 760, text)
        c.drawString(72, 730, f"Trang {n}")
        c.showPage()
    c.save()
    return buf.getvalue()


def noise_pdf(pages: int, image_px: int = 180) -> bytes:
    """Pages each carrying an incompressible random-noise RGB image (Flate, ~3·px² bytes each)."""
    from PIL import Image
    from reportlab import rl_config
    from reportlab.lib.utils import ImageReader

    font = register_fonts()
    buf = io.BytesIO()
    # Binary streams, as scanners and office suites write them (ReportLab's default
    # ASCII85 wrapping is rare in the wild and costly to decode in pure Python).
    saved, rl_config.useA85 = rl_config.useA85, 0
    try:
        c = canvas.Canvas(buf, pagesize=A4)
        for n in range(1, pages + 1):
            image = Image.frombytes("RGB", (image_px, image_px), os.urandom(image_px * image_px * 3))
            c.drawImage(ImageReader(image), 72, 300, 450, 450)
            c.setFont(font, 12)
            c.drawString(72, 780, f"Bản đồ quy hoạch – trang {n}")
            c.showPage()
        c.save()
    finally:
        rl_config.useA85 = saved
    return buf.getvalue()


def encrypted_pdf(password: str = "mật-khẩu") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(simple_pdf(1))))
    writer.encrypt(user_password=password, owner_password=password + "!", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def raw_pdf(objects: list[bytes], root: int = 1) -> bytes:
    """A PDF from numbered object bodies (object n is objects[n-1]) with a correct xref."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root {root} 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _stream(data: bytes, extra: str = "") -> bytes:
    return f"<< /Length {len(data)} {extra}>>\nstream\n".encode() + data + b"\nendstream"


def zeros_deflated(total: int, chunk: int = 16 * 1024 * 1024) -> bytes:
    """zlib data that inflates to ``total`` zero bytes, built without compressing them all.

    After a full flush deflate starts afresh, so each further chunk compresses to the
    same bytes: compress one chunk twice, repeat the second form, fix the checksum.
    """
    assert total % chunk == 0
    c = zlib.compressobj(9)
    zero = bytes(chunk)
    first = c.compress(zero) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(zero) + c.flush(zlib.Z_FULL_FLUSH)
    end = c.flush()[:-4]
    # Adler-32 of n zero bytes: a = 1, b = n mod 65521.
    adler = ((total % 65521) << 16) | 1
    return first + again * (total // chunk - 1) + end + adler.to_bytes(4, "big")


def bomb_pdf(inflated: int = 4 * 1024 ** 3) -> bytes:
    """One page whose content stream is a few MB of Flate that inflates to ``inflated`` bytes."""
    data = zeros_deflated(inflated)
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        _stream(data, "/Filter /FlateDecode "),
    ])


def cyclic_pdf() -> bytes:
    """A page tree whose inner node lists its own parent as a kid."""
    content = b"BT /F1 12 Tf 72 720 Td (loop) Tj ET"
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 2 >>",
        b"<< /Type /Pages /Parent 2 0 R /Kids [4 0 R 2 0 R] /Count 2 >>",
        b"<< /Type /Page /Parent 3 0 R /MediaBox [0 0 595 842] /Contents 5 0 R >>",
        _stream(content),
    ])


def html_as_pdf() -> bytes:
    return "<!DOCTYPE html><html><body><h1>Không phải PDF</h1></body></html>\n".encode()


def garbage_then_pdf() -> bytes:
    return b"GARBAGE\x00\x01" + simple_pdf(1)


def truncated_pdf() -> bytes:
    good = simple_pdf(3)
    return good[: len(good) // 2]


# ---------------------------------------------------------------- helpers for the REST tests

def upload(client, meeting_id: int, data: bytes, filename: str = "tài liệu.pdf", **fields):
    """POST a PDF to a meeting as multipart/form-data."""
    return client.post(f"/api/v1/meetings/{meeting_id}/documents",
                       data={"file": (io.BytesIO(data), filename), **fields},
                       content_type="multipart/form-data")


def new_version(client, document_id: int, data: bytes, filename: str = "bản mới.pdf", **fields):
    return client.post(f"/api/v1/documents/{document_id}/versions",
                       data={"file": (io.BytesIO(data), filename), **fields},
                       content_type="multipart/form-data")


def stored_files(root) -> list[str]:
    """Every file under the storage folder, relative to it (empty folders do not count)."""
    from pathlib import Path

    root = Path(root)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
