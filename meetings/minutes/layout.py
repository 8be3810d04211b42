"""The minutes' page furniture: fonts, margins, paragraph styles, tables, and the signature blocks.

Decree 30/2020/ND-CP, Appendix III: A4, margins top and bottom 20 mm, left
30 mm, right 15 mm; body 13 pt serif, justified. ``meetings.minutes.compose``
lays the record out with these pieces.
"""
from __future__ import annotations

from functools import lru_cache
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, Paragraph, Table, TableStyle

from meetings.core.fonts import font_dir, register_fonts

MARGINS = {"top": 20 * mm, "bottom": 20 * mm, "left": 30 * mm, "right": 15 * mm}
BODY_PT = 13
TABLE_PT = 10.5
SIGN_BOX = (75 * mm, 28 * mm)  # width, height reserved for a visible signature
DEFAULT_TZ = "Asia/Ho_Chi_Minh"
# DejaVu Serif Condensed: the same Unicode family as meetings.core.fonts, about as wide as Times New Roman,
# so the national title fits its column at 12 pt as the Decree's layout expects.
SERIF, SERIF_BOLD, SERIF_ITALIC, SERIF_BOLD_ITALIC = (
    "DejaVuSerifCondensed", "DejaVuSerifCondensed-Bold", "DejaVuSerifCondensed-Italic",
    "DejaVuSerifCondensed-BoldItalic")


@lru_cache(maxsize=1)
def register_minutes_fonts() -> None:
    """Register the serif family with ReportLab, once per process (the fork server does it before forking)."""
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    register_fonts()
    for name in (SERIF, SERIF_BOLD, SERIF_ITALIC, SERIF_BOLD_ITALIC):
        pdfmetrics.registerFont(TTFont(name, str(font_dir() / f"{name}.ttf")))
    for bold, italic, name in ((0, 0, SERIF), (1, 0, SERIF_BOLD), (0, 1, SERIF_ITALIC), (1, 1, SERIF_BOLD_ITALIC)):
        addMapping(SERIF, bold, italic, name)


class SignatureBlock(Flowable):
    """An empty rectangle that records its page and absolute position when drawn."""

    def __init__(self, role: str, sink: dict, width: float = SIGN_BOX[0], height: float = SIGN_BOX[1]):
        super().__init__()
        self.role, self.sink, self.width, self.height = role, sink, width, height

    def wrap(self, avail_width, avail_height):
        return self.width, self.height

    def draw(self):
        x, y = self.canv.absolutePosition(0, 0)
        self.sink[self.role] = {"page": self.canv.getPageNumber() - 1,
                                "box": [round(x, 2), round(y, 2), round(x + self.width, 2),
                                        round(y + self.height, 2)]}


@lru_cache(maxsize=1)
def styles() -> dict[str, ParagraphStyle]:
    """The paragraph styles of the minutes, built once per process."""
    register_minutes_fonts()
    base = ParagraphStyle("body", fontName=SERIF, fontSize=BODY_PT, leading=BODY_PT * 1.35,
                          alignment=TA_JUSTIFY, spaceAfter=3)
    return {
        "body": base,
        "indent": ParagraphStyle("indent", parent=base, firstLineIndent=10 * mm),
        "center": ParagraphStyle("center", parent=base, alignment=TA_CENTER, spaceAfter=0),
        "center_bold": ParagraphStyle("cb", parent=base, alignment=TA_CENTER, fontName=SERIF_BOLD, spaceAfter=0),
        "head_left": ParagraphStyle("hl", parent=base, alignment=TA_CENTER, fontSize=12.5, leading=15,
                                    spaceAfter=0),
        "head_left_bold": ParagraphStyle("hlb", parent=base, alignment=TA_CENTER, fontSize=12.5, leading=15,
                                         fontName=SERIF_BOLD, spaceAfter=0),
        "nation": ParagraphStyle("nation", parent=base, alignment=TA_CENTER, fontName=SERIF_BOLD, fontSize=12,
                                 leading=15, spaceAfter=0),
        "motto": ParagraphStyle("motto", parent=base, alignment=TA_CENTER, fontName=SERIF_BOLD, fontSize=13,
                                leading=16, spaceAfter=0),
        "date": ParagraphStyle("date", parent=base, alignment=TA_CENTER, fontName=SERIF_ITALIC, fontSize=13),
        "title": ParagraphStyle("title", parent=base, alignment=TA_CENTER, fontName=SERIF_BOLD, fontSize=14,
                                leading=18, spaceBefore=10, spaceAfter=2),
        "section": ParagraphStyle("section", parent=base, fontName=SERIF_BOLD, spaceBefore=8, alignment=TA_LEFT),
        "item": ParagraphStyle("item", parent=base, fontName=SERIF_BOLD, spaceBefore=6),
        "cell": ParagraphStyle("cell", parent=base, fontSize=TABLE_PT, leading=TABLE_PT * 1.2, alignment=TA_LEFT,
                               spaceAfter=0),
        "cell_bold": ParagraphStyle("cell_bold", parent=base, fontName=SERIF_BOLD, fontSize=TABLE_PT,
                                    leading=TABLE_PT * 1.2, alignment=TA_LEFT, spaceAfter=0),
        "small": ParagraphStyle("small", parent=base, fontSize=11, leading=13, alignment=TA_LEFT, spaceAfter=0),
        "small_bold_italic": ParagraphStyle("sbi", parent=base, fontSize=12, leading=14, fontName=SERIF_BOLD_ITALIC,
                                            alignment=TA_LEFT, spaceAfter=0),
    }


def para(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain text in ``style``."""
    # Names, titles and conclusions are untrusted text: escape before ReportLab's mini-markup.
    return Paragraph(escape(text), style)


def fit_cells(rows: list[list], widths: list[float], header_rows: int) -> list[list]:
    """Wrap only the cells too wide for their column in a Paragraph: plain strings keep a
    20,000-row annex fast, and the odd long name or reason still wraps instead of overflowing."""
    known = styles()
    out = []
    for n, row in enumerate(rows):
        font = SERIF_BOLD if n < header_rows else SERIF
        cell = known["cell_bold"] if n < header_rows else known["cell"]
        out.append([Paragraph(escape(v), cell) if isinstance(v, str) and v
                    and stringWidth(v, font, TABLE_PT) > w - 8 else v for v, w in zip(row, widths, strict=True)])
    return out


def table(rows: list[list], widths: list[float], header_rows: int = 1) -> Table:
    """A gridded table whose header rows repeat on every page."""
    # The header repeats on each page.
    t = Table(fit_cells(rows, widths, header_rows), colWidths=widths, repeatRows=header_rows)
    t.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), SERIF, TABLE_PT),
        ("FONT", (0, 0), (-1, header_rows - 1), SERIF_BOLD, TABLE_PT),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), colors.HexColor("#eeeeee")),
    ]))
    return t


class Rule(Flowable):
    """A short centred rule under the body's name and under the motto."""

    def __init__(self, length: float):
        super().__init__()
        self.length = length

    def wrap(self, avail_width, avail_height):
        self._avail = avail_width
        return avail_width, 3

    def draw(self):
        x = (self._avail - self.length) / 2
        self.canv.setLineWidth(0.6)
        self.canv.line(x, 1, x + self.length, 1)


def page_furniture(canv, *, mark: str | None = None, draft_label: str | None = None) -> None:
    """What every page of a Decree 30 paper carries: from the second page its number centred in the
    top margin; a confidentiality mark top right; across a draft, its word in large grey letters."""
    canv.saveState()
    page = canv.getPageNumber()
    if page > 1:
        canv.setFont(SERIF, 12)
        canv.drawCentredString(A4[0] / 2, A4[1] - 12 * mm, str(page))
    if mark:
        canv.setFont(SERIF_BOLD, 12)
        canv.setFillColor(colors.HexColor("#b00000"))
        canv.drawRightString(A4[0] - MARGINS["right"], A4[1] - 12 * mm, mark)
    if draft_label:
        canv.setFillColor(colors.Color(0.75, 0.75, 0.75, alpha=0.35))
        canv.setFont(SERIF_BOLD, 90)
        canv.translate(A4[0] / 2, A4[1] / 2)
        canv.rotate(45)
        canv.drawCentredString(0, 0, draft_label)
    canv.restoreState()
