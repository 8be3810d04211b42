"""Compose the Thông báo kết luận PDF with ReportLab: a pure function of a NoticeRecord.

Decree 30/2020/ND-CP, Appendix, form "Thông báo": the parent body and the body
(with "Số: …/TB-…") on the left, the national title and motto with the place
and date on the right; "THÔNG BÁO" and its subject; the numbered conclusions;
"Nơi nhận:" at the bottom left beside the signature block (TM./KT./TL. and the
signer's title, the signature, the name). Page furniture comes from
``meetings.minutes.layout``, as in the minutes.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from meetings.minutes.layout import (
    DEFAULT_TZ,
    MARGINS,
    SERIF,
    Rule,
    SignatureBlock,
    page_furniture,
    para,
    styles,
)

SIGNATURE = "signer"  # the SignatureBlock's key in ``boxes``
CONFIDENTIAL = {"confidential": "MẬT", "secret": "TỐI MẬT", "top_secret": "TUYỆT MẬT",
                "internal": "LƯU HÀNH NỘI BỘ"}


@dataclass
class NoticeRecord:
    """Everything printed on a notice; JSON-safe values only."""

    body_name: str
    subject: str
    parent_name: str | None = None
    short_name: str | None = None
    number: str | None = None
    place_name: str | None = None
    issued_at: datetime | None = None
    opening_text: str | None = None
    conclusions: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    sign_lines: list[str] = field(default_factory=list)   # "TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"
    signer_name: str | None = None
    confidentiality: str = "normal"


@dataclass
class ComposedNotice:
    pdf: bytes
    pages: int
    boxes: dict[str, dict]


def date_line(place: str | None, at: datetime | None, tz: str) -> str:
    """ "Quảng Nam, ngày 02 tháng 12 năm 2026" (Decree 30: day and month below 10 with a leading 0 for 1–2)."""
    place = place or "……"
    if at is None:
        return f"{place}, ngày …… tháng …… năm ……"
    local = at.astimezone(ZoneInfo(tz))
    day = f"{local.day:02d}" if local.day < 10 else str(local.day)
    month = f"{local.month:02d}" if local.month < 3 else str(local.month)
    return f"{place}, ngày {day} tháng {month} năm {local.year}"


class _Composer:
    def __init__(self, record: NoticeRecord, draft: bool, tz: str):
        self.r, self.draft, self.tz = record, draft, tz
        self.s = styles()
        self.boxes: dict[str, dict] = {}
        self.width = A4[0] - MARGINS["left"] - MARGINS["right"]

    def header(self) -> list:
        s, r = self.s, self.r
        left = []
        if r.parent_name:
            left.append(para(r.parent_name.upper(), s["head_left"]))
        number = f"Số: {r.number}" if r.number else f"Số: ……/TB-{r.short_name or ''}".rstrip("-")
        left += [para(r.body_name.upper(), s["head_left_bold"]), Spacer(1, 2), Rule(30 * mm), Spacer(1, 4),
                 para(number, s["head_left"])]
        right = [para("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", s["nation"]),
                 para("Độc lập - Tự do - Hạnh phúc", s["motto"]), Spacer(1, 2), Rule(58 * mm), Spacer(1, 4),
                 para(date_line(r.place_name, r.issued_at, self.tz), s["date"])]
        t = Table([[left, right]], colWidths=[self.width * 0.4, self.width * 0.6])
        t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0), ("FONT", (0, 0), (-1, -1), SERIF)]))
        # The subject under THÔNG BÁO in capitals ("KẾT LUẬN CỦA CHỦ TỊCH …"), as provincial notices print
        # it; the stored subject keeps the secretary's own casing for lists and e-mail.
        return [t, para("THÔNG BÁO", s["title"]), para(r.subject.upper(), s["center_bold"]), Spacer(1, 2),
                Rule(40 * mm), Spacer(1, 8)]

    def body(self) -> list:
        s, r = self.s, self.r
        out = [para(p, s["indent"]) for p in (r.opening_text or "").splitlines() if p.strip()]
        for n, text in enumerate(r.conclusions, start=1):
            lines = [ln for ln in text.splitlines() if ln.strip()] or [""]
            out.append(Paragraph(f"<b>{n}.</b> {escape(lines[0])}", s["indent"]))
            out += [para(ln, s["indent"]) for ln in lines[1:]]
        return out

    def ending(self) -> list:
        s, r = self.s, self.r
        rec = [Paragraph(f"<b><i>{escape('Nơi nhận:')}</i></b>", s["small"])]
        rec += [para(line, s["small"]) for line in r.recipients]
        sign = [para(line, s["center_bold"]) for line in r.sign_lines]
        sign += [para("(Ký, ghi rõ họ tên)" if self.draft else "", s["center"]),
                 SignatureBlock(SIGNATURE, self.boxes), para(r.signer_name or "", s["center_bold"])]
        t = Table([[rec, sign]], colWidths=[self.width * 0.45, self.width * 0.55])
        t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (1, 0), (1, 0), "CENTER"),
                               ("FONT", (0, 0), (-1, -1), SERIF),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
        return [Spacer(1, 10), KeepTogether([t])]

    def on_page(self, canv, doc) -> None:
        page_furniture(canv, mark=CONFIDENTIAL.get(self.r.confidentiality),
                       draft_label="DỰ THẢO" if self.draft else None)

    def build(self) -> ComposedNotice:
        buf = io.BytesIO()
        doc = SimpleDocTemplate(
            buf, pagesize=A4, topMargin=MARGINS["top"], bottomMargin=MARGINS["bottom"],
            leftMargin=MARGINS["left"], rightMargin=MARGINS["right"], title=f"Thông báo - {self.r.subject}",
            author=self.r.body_name, creator="meetings", lang="vi", invariant=True, initialFontName=SERIF)
        doc.build(self.header() + self.body() + self.ending(), onFirstPage=self.on_page,
                  onLaterPages=self.on_page)
        return ComposedNotice(pdf=buf.getvalue(), pages=doc.page, boxes=dict(self.boxes))


def compose_notice(record: NoticeRecord, *, draft: bool = False, tz: str = DEFAULT_TZ) -> ComposedNotice:
    """Render ``record`` as the notice PDF; ``draft`` adds the DỰ THẢO watermark."""
    return _Composer(record, draft, tz).build()
