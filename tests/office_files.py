"""Office files for the conversion tests: real Word, Excel and PowerPoint files (python-docx,
openpyxl, python-pptx), and hostile ones (macros, damage, zip bombs) built with zipfile."""
from __future__ import annotations

import io
import zipfile

UBND = "Ủy ban nhân dân tỉnh"
NGHI_QUYET = "Nghị quyết về kế hoạch phát triển kinh tế – xã hội"


def png(width: int = 120, height: int = 60) -> bytes:
    """A small picture (a red bar on white) for the Word file."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(img).rectangle([10, 10, width - 10, height - 10], fill=(200, 30, 30))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def docx_vietnamese(pages: int = 2, *, paragraphs_per_page: int = 0) -> bytes:
    """A Word file in Times New Roman (as Vietnamese administrations write them): the heading,
    a resolution's title, a table and a picture on page 1, then ``pages - 1`` more pages
    (explicit page breaks; ``paragraphs_per_page`` lines of body text on each)."""
    import docx
    from docx.enum.text import WD_BREAK
    from docx.shared import Cm, Pt

    doc = docx.Document()
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(13)
    doc.add_paragraph(UBND)
    doc.add_paragraph(NGHI_QUYET)
    table = doc.add_table(rows=3, cols=3)
    table.style = "Table Grid"
    for r, row in enumerate([("STT", "Chỉ tiêu", "Kế hoạch"), ("1", "Tăng trưởng GRDP", "7,5%"),
                             ("2", "Thu ngân sách", "12.500 tỷ đồng")]):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    doc.add_picture(io.BytesIO(png()), width=Cm(4))
    for n in range(2, pages + 1):
        doc.paragraphs[-1].add_run().add_break(WD_BREAK.PAGE)
        doc.add_paragraph(f"Trang {n}: Điều {n}. Tổ chức thực hiện")
        for i in range(paragraphs_per_page):
            doc.add_paragraph(f"Khoản {i + 1}. Giao Ủy ban nhân dân tỉnh chỉ đạo các sở, ngành triển khai.")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def xlsx_two_sheets() -> bytes:
    """A workbook of two sheets (LibreOffice prints each on its own page)."""
    import openpyxl

    wb = openpyxl.Workbook()
    first = wb.active
    first.title = "Thu ngân sách"
    first.append(["Nguồn thu", "Dự toán (tỷ đồng)"])
    first.append(["Thuế giá trị gia tăng", 5200])
    first.append(["Thuế thu nhập doanh nghiệp", 3100])
    second = wb.create_sheet("Chi đầu tư")
    second.append(["Công trình", "Vốn (tỷ đồng)"])
    second.append(["Đường tỉnh 725", 480])
    for sheet in (first, second):
        sheet.column_dimensions["A"].width = 40
        sheet.column_dimensions["B"].width = 20
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def pptx_slides(n: int = 3) -> bytes:
    """A presentation of ``n`` slides with a Vietnamese title each."""
    import pptx

    prs = pptx.Presentation()
    for i in range(n):
        slide = prs.slides.add_slide(prs.slide_layouts[1])
        slide.shapes.title.text = f"Báo cáo tình hình kinh tế – xã hội, phần {i + 1}"
        slide.placeholders[1].text = "Ủy ban nhân dân tỉnh trình Hội đồng nhân dân"
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()


def rewrite_zip(data: bytes, add: dict[str, bytes] | None = None,
                change: dict[str, callable] | None = None) -> bytes:
    """A copy of the zip ``data`` with parts added or changed."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            if change and info.filename in change:
                body = change[info.filename](body)
            dst.writestr(info.filename, body)
        for name, body in (add or {}).items():
            dst.writestr(name, body)
    return out.getvalue()


def docx_with_macro() -> bytes:
    """A Word file carrying a VBA project (as a .docm does), still named and typed .docx."""
    vba = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504  # the part's bytes do not matter
    return rewrite_zip(docx_vietnamese(1), add={
        "word/vbaProject.bin": vba,
        "word/_rels/vbaProject.bin.rels": b'<?xml version="1.0"?><Relationships '
                                          b'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>',
    })


def docm_renamed() -> bytes:
    """A macro-enabled main part (a .docm's content type) in a file named .docx."""
    return rewrite_zip(docx_vietnamese(1), change={"[Content_Types].xml": lambda b: b.replace(
        b"wordprocessingml.document.main+xml", b"ms-word.document.macroEnabled.main+xml")})


def corrupted_docx() -> bytes:
    """A Word file damaged in transit: bytes in the middle of its compressed parts overwritten."""
    data = bytearray(docx_vietnamese(1))
    mid = len(data) // 2
    data[mid:mid + 200] = b"\x00" * 200
    return bytes(data)


def truncated_docx() -> bytes:
    """A Word file cut short (its central directory lost)."""
    data = docx_vietnamese(1)
    return data[: len(data) // 2]


def zip_bomb_docx(megabytes: int = 64) -> bytes:
    """A small zip that decompresses to ``megabytes`` MB of zeros, dressed as a Word file."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", b'<?xml version="1.0"?><Types '
                    b'xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        with zf.open("word/document.xml", "w") as part:
            chunk = b"\x00" * (1024 * 1024)
            for _ in range(megabytes):
                part.write(chunk)
    return out.getvalue()


def many_parts_docx(n: int) -> bytes:
    """A zip of ``n`` tiny parts (a bomb by count)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("[Content_Types].xml", b"<Types/>")
        for i in range(n):
            zf.writestr(f"word/p{i}.xml", b"")
    return out.getvalue()


def odt_with_basic() -> bytes:
    """An OpenDocument text with a Basic library (macros)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), b"application/vnd.oasis.opendocument.text")
        zf.writestr("content.xml", b"<office:document-content/>")
        zf.writestr("Basic/Standard/Module1.xml", b"<script:module>Sub Main\nShell(\"sh\")\nEnd Sub</script:module>")
        zf.writestr("META-INF/manifest.xml", b"<manifest:manifest/>")
    return out.getvalue()


def lying_zip_bomb(megabytes: int = 40, claimed: int = 1000) -> bytes:
    """A zip bomb whose headers claim its big part is ``claimed`` bytes (local and central headers
    rewritten): a check trusting the headers would let it through."""
    import struct

    data = bytearray(zip_bomb_docx(megabytes))
    real = megabytes * 1024 * 1024
    for sig, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # local / central header: uncompressed size
        start = 0
        while (at := data.find(sig, start)) >= 0:
            if struct.unpack_from("<I", data, at + offset)[0] == real:
                struct.pack_into("<I", data, at + offset, claimed)
            start = at + 4
    return bytes(data)
