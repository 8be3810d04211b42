"""Compose the minutes PDF with ReportLab: a pure function of a MinutesRecord.

Layout of Decree 30/2020/ND-CP, Appendix III ("Biên bản"): A4, margins top and
bottom 20 mm, left 30 mm, right 15 mm; the issuing body and number on the
left, the national title and motto on the right; body 13 pt serif, justified;
THƯ KÝ left and CHỦ TỌA right. The two signature blocks are flowables that
remember where they were drawn, so signing can put its fields exactly there.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from meetings.core.fonts import font_dir, register_fonts
from meetings.minutes.labels import labels
from meetings.minutes.record import MinutesRecord, PollResult

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


@dataclass
class Composed:
    """The PDF and where its signature blocks are (page index from 0, box in points)."""

    pdf: bytes
    pages: int
    boxes: dict[str, dict] = field(default_factory=dict)


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
def _styles() -> dict[str, ParagraphStyle]:
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


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    # Names, titles and conclusions are untrusted text: escape before ReportLab's mini-markup.
    return Paragraph(escape(text), style)


def _fit(rows: list[list], widths: list[float], header_rows: int) -> list[list]:
    """Wrap only the cells too wide for their column in a Paragraph: plain strings keep a
    20,000-row annex fast, and the odd long name or reason still wraps instead of overflowing."""
    styles = _styles()
    out = []
    for n, row in enumerate(rows):
        font = SERIF_BOLD if n < header_rows else SERIF
        cell = styles["cell_bold"] if n < header_rows else styles["cell"]
        out.append([Paragraph(escape(v), cell) if isinstance(v, str) and v
                    and stringWidth(v, font, TABLE_PT) > w - 8 else v for v, w in zip(row, widths, strict=True)])
    return out


def _table(rows: list[list], widths: list[float], header_rows: int = 1) -> Table:
    # The header repeats on each page.
    t = Table(_fit(rows, widths, header_rows), colWidths=widths, repeatRows=header_rows)
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


class _Composer:
    def __init__(self, record: MinutesRecord, draft: bool, tz: str):
        self.r = record
        self.draft = draft
        self.tz = ZoneInfo(tz)
        self.L = labels(record.language)
        self.s = _styles()
        self.boxes: dict[str, dict] = {}
        self.annexes: list[PollResult] = []
        self.width = A4[0] - MARGINS["left"] - MARGINS["right"]

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.tz) if at.tzinfo else at

    def hm(self, at: datetime | None) -> str:
        return "" if at is None else self.local(at).strftime("%H:%M")

    def date(self, at: datetime) -> str:
        return self.local(at).strftime("%d/%m/%Y")

    def number(self) -> str:
        if self.r.number:
            return self.L["number"].format(number=self.r.number)
        return self.L["number_blank"].format(short=self.r.short_name or "")

    # --- sections -------------------------------------------------------
    def header(self) -> list:
        s, L, r = self.s, self.L, self.r
        left = []
        if r.parent_name:
            left.append(_p(r.parent_name.upper(), s["head_left"]))
        left += [_p(r.body_name.upper(), s["head_left_bold"]), Spacer(1, 2), _Rule(30 * mm), Spacer(1, 4),
                 _p(self.number(), s["head_left"])]
        at = self.local(r.starts_at)
        right = [_p(L["nation"], s["nation"]), _p(L["motto"], s["motto"]), Spacer(1, 2), _Rule(58 * mm),
                 Spacer(1, 4),
                 _p(L["date_line"].format(place=r.place_name or "……", d=at.day, m=at.month, y=at.year),
                    s["date"])]
        t = Table([[left, right]], colWidths=[self.width * 0.4, self.width * 0.6])
        t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0), ("FONT", (0, 0), (-1, -1), SERIF)]))
        out = [t, _p(L["title"], s["title"]), _p(r.meeting_title, s["center_bold"]), Spacer(1, 8)]
        if r.previous_note:
            out.append(_p(L["version_note"].format(version=r.version, note=r.previous_note), s["center"]))
        return out

    def time_place(self) -> list:
        s, L, r = self.s, self.L, self.r
        out = [_p(L["time_place"], s["section"]),
               _p(L["started"].format(time=self.hm(r.starts_at), date=self.date(r.starts_at)), s["indent"])]
        if r.place:
            out.append(_p(L["place"].format(place=r.place), s["indent"]))
        if r.opening_text:
            out += [_p(par, s["indent"]) for par in r.opening_text.splitlines() if par.strip()]
        return out

    def attendance(self) -> list:
        s, L, r = self.s, self.L, self.r
        out = [_p(L["attendance"], s["section"])]
        if r.chair:
            out.append(_p(L["chair"].format(name=r.chair), s["indent"]))
        if r.secretary:
            out.append(_p(L["secretary"].format(name=r.secretary), s["indent"]))
        counts = {k: 0 for k in ("present", "remote", "excused", "absent", "unknown")}
        for a in r.attendees:
            counts[a.status if a.status in counts else "unknown"] += 1
        out.append(_p(L["attendance_summary"].format(total=len(r.attendees), **counts), s["indent"]))
        if r.attendees:
            rows = [L["att_head"]]
            for n, a in enumerate(r.attendees, start=1):
                rows.append([str(n), a.full_name, L["roles"].get(a.role, a.role),
                             L["statuses"].get(a.status, a.status), self.hm(a.arrived_at), a.reason or ""])
            w = self.width
            out.append(_table(rows, [0.07 * w, 0.33 * w, 0.14 * w, 0.17 * w, 0.10 * w, 0.19 * w]))
        return out

    def poll(self, poll: PollResult) -> list:
        s, L = self.s, self.L
        kind = L["poll_secret"] if poll.secret else L["poll_open"]
        out = [_p(L["poll"].format(title=poll.title) + f" ({kind})", s["small_bold_italic"])]
        base_count = poll.base_count or 0
        rows = [L["poll_head"]]
        for o in poll.options:
            share = f"{100 * o.count / base_count:.1f}%" if o.count is not None and base_count else ""
            rows.append([o.label, "" if o.count is None else str(o.count), share])
        w = self.width
        out.append(_table(rows, [0.6 * w, 0.2 * w, 0.2 * w]))
        figures = L["poll_figures"].format(
            entitled=_n(poll.entitled), present=_n(poll.present), cast=_n(poll.cast),
            base=L["bases"].get(poll.base or "", poll.base or "—"), base_count=_n(poll.base_count),
            threshold=poll.threshold or "—", required=_n(poll.required))
        outcome = L["outcome"].format(outcome=L["outcomes"].get(poll.outcome or "", poll.outcome or "—"))
        tail = L["tie_break"] if poll.tie_break_used else ""
        if poll.named_votes and not poll.secret:
            self.annexes.append(poll)
            tail += L["named_annex_ref"].format(n=len(self.annexes))
        out.append(_p(figures + " " + outcome + tail, s["small"]))
        return [KeepTogether(out), Spacer(1, 4)]

    def items(self) -> list:
        s, L, r = self.s, self.L, self.r
        out = [_p(L["proceedings"], s["section"])]
        for item in r.items:
            out.append(CondPageBreak(40 * mm))
            out.append(_p(L["item"].format(number=item.number, title=item.title), s["item"]))
            if item.presenter:
                out.append(_p(L["presenter"].format(name=item.presenter), s["indent"]))
            if item.documents:
                refs = "; ".join(L["doc_ref"].format(title=d.title, version=d.version) for d in item.documents)
                out.append(_p(L["documents"] + refs + ".", s["indent"]))
            if item.speeches:
                out.append(_p(L["speakers"], s["indent"]))
                for sp in item.speeches:
                    bits = [L["speech_kinds"].get(sp.kind, sp.kind)]
                    if sp.position:
                        bits.append(L["positions"].get(sp.position, sp.position))
                    if sp.duration_seconds:
                        bits.append(f"{max(1, round(sp.duration_seconds / 60))} {L['minute_word']}")
                    when = f"{self.hm(sp.started_at)} " if sp.started_at else ""
                    out.append(_p(f"- {when}{sp.full_name} ({', '.join(bits)})", s["indent"]))
            for poll in item.polls:
                out += self.poll(poll)
            conclusion = item.conclusion or L["no_conclusion"]
            out.append(Paragraph(f"<b>{escape(L['conclusion'])}</b>{escape(conclusion)}", s["indent"]))
        if r.other_polls:
            out.append(_p(L["other_polls"], s["item"]))
            for poll in r.other_polls:
                out += self.poll(poll)
        return out

    def ending(self) -> list:
        s, L, r = self.s, self.L, self.r
        out = []
        if r.ends_at:
            out.append(_p(L["ended"].format(time=self.hm(r.ends_at), date=self.date(r.ends_at)), s["indent"]))
        else:
            out.append(_p(L["ended_unknown"], s["indent"]))
        if r.closing_text:
            out += [_p(par, s["indent"]) for par in r.closing_text.splitlines() if par.strip()]
        out.append(_p(L["closing"], s["indent"]))
        half = self.width / 2

        def block(role: str, title: str, name: str | None) -> list:
            return [_p(title, s["center_bold"]), _p(L["sign_hint"], s["center"]),
                    SignatureBlock(role, self.boxes), _p(name or "", s["center_bold"])]

        t = Table([[block("secretary", L["sign_secretary"], r.secretary),
                    block("chair", L["sign_chair"], r.chair)]], colWidths=[half, half])
        t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                               ("FONT", (0, 0), (-1, -1), SERIF),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
        recipients = r.recipients or L["recipients_default"]
        rec = [Paragraph(f"<b><i>{escape(L['recipients'])}</i></b>", s["small"])]
        rec += [_p(line, s["small"]) for line in recipients]
        return out + [Spacer(1, 10), KeepTogether([t, Spacer(1, 10)] + rec)]

    def annex(self) -> list:
        s, L = self.s, self.L
        out: list = []
        number = self.r.number or "……"
        w = self.width
        for n, poll in enumerate(self.annexes, start=1):
            out += [PageBreak(), _p(L["annex"].format(n=n), s["center_bold"]),
                    _p(L["annex_title"].format(title=poll.title), s["center_bold"]),
                    _p(L["annex_of"].format(number=number), s["center"]), Spacer(1, 6)]
            rows = [L["named_head"]]
            for k, v in enumerate(poll.named_votes or [], start=1):
                rows.append([str(k), v.full_name, ", ".join(v.choices), v.by_proxy_for or ""])
            out.append(_table(rows, [0.08 * w, 0.42 * w, 0.25 * w, 0.25 * w]))
        return out

    # --- page decoration ------------------------------------------------
    def on_page(self, canv, doc) -> None:
        canv.saveState()
        page = canv.getPageNumber()
        if page > 1:  # Decree 30: page numbers centred in the top margin, from the second page
            canv.setFont(SERIF, 12)
            canv.drawCentredString(A4[0] / 2, A4[1] - 12 * mm, str(page))
        mark = self.L["confidential"].get(self.r.confidentiality)
        if mark:
            canv.setFont(SERIF_BOLD, 12)
            canv.setFillColor(colors.HexColor("#b00000"))
            canv.drawRightString(A4[0] - MARGINS["right"], A4[1] - 12 * mm, mark)
        if self.draft:
            canv.setFillColor(colors.Color(0.75, 0.75, 0.75, alpha=0.35))
            canv.setFont(SERIF_BOLD, 90)
            canv.translate(A4[0] / 2, A4[1] / 2)
            canv.rotate(45)
            canv.drawCentredString(0, 0, self.L["draft"])
        canv.restoreState()

    def build(self) -> Composed:
        story = self.header() + self.time_place() + self.attendance() + self.items() + self.ending()
        story += self.annex()
        buf = io.BytesIO()
        r = self.r
        doc = SimpleDocTemplate(
            buf, pagesize=A4, topMargin=MARGINS["top"], bottomMargin=MARGINS["bottom"],
            leftMargin=MARGINS["left"], rightMargin=MARGINS["right"],
            title=f"{self.L['title']} - {r.meeting_title}", author=r.body_name, creator="meetings",
            lang="en" if r.language == "en" else "vi", invariant=True, initialFontName=SERIF)
        doc.build(story, onFirstPage=self.on_page, onLaterPages=self.on_page)
        return Composed(pdf=buf.getvalue(), pages=doc.page, boxes=dict(self.boxes))


class _Rule(Flowable):
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


def _n(value: int | None) -> str:
    return "—" if value is None else str(value)


def compose(record: MinutesRecord, *, draft: bool = False, tz: str = DEFAULT_TZ) -> Composed:
    """Render ``record`` as the minutes PDF; ``draft`` adds the DỰ THẢO / DRAFT watermark."""
    return _Composer(record, draft, tz).build()
