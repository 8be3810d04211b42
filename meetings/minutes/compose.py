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
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from meetings.minutes.labels import labels, percent, threshold_text
from meetings.minutes.layout import (  # noqa: F401  (MARGINS, SERIF, register_minutes_fonts: re-exported)
    DEFAULT_TZ,
    MARGINS,
    SERIF,
    SERIF_BOLD,
    Rule,
    SignatureBlock,
    page_furniture,
    para,
    register_minutes_fonts,
    styles,
    table,
)
from meetings.minutes.record import MinutesRecord, PollResult


@dataclass
class Composed:
    """The PDF and where its signature blocks are (page index from 0, box in points)."""

    pdf: bytes
    pages: int
    boxes: dict[str, dict] = field(default_factory=dict)


class _Composer:
    def __init__(self, record: MinutesRecord, draft: bool, tz: str):
        self.r = record
        self.draft = draft
        self.tz = ZoneInfo(tz)
        self.L = labels(record.language)
        self.s = styles()
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
            left.append(para(r.parent_name.upper(), s["head_left"]))
        left += [para(r.body_name.upper(), s["head_left_bold"]), Spacer(1, 2), Rule(30 * mm), Spacer(1, 4),
                 para(self.number(), s["head_left"])]
        place = r.place_name or "……"
        if r.starts_at is None:
            dated = L["date_line_blank"].format(place=place)
        else:
            at = self.local(r.starts_at)
            dated = L["date_line"].format(place=place, d=at.day, m=at.month, y=at.year)
        right = [para(L["nation"], s["nation"]), para(L["motto"], s["motto"]), Spacer(1, 2), Rule(58 * mm),
                 Spacer(1, 4), para(dated, s["date"])]
        t = Table([[left, right]], colWidths=[self.width * 0.4, self.width * 0.6])
        t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0), ("FONT", (0, 0), (-1, -1), SERIF)]))
        out = [t, para(L["title"], s["title"]), para(r.meeting_title, s["center_bold"]), Spacer(1, 8)]
        if r.previous_note:
            out.append(para(L["version_note"].format(version=r.version, note=r.previous_note), s["center"]))
        return out

    def time_place(self) -> list:
        s, L, r = self.s, self.L, self.r
        out = [para(L["time_place"], s["section"])]
        if r.starts_at is None:
            out.append(para(L["not_started"], s["indent"]))
        else:
            out.append(para(L["started"].format(time=self.hm(r.starts_at), date=self.date(r.starts_at)), s["indent"]))
        for gap in r.suspensions:
            out.append(para(L["suspended"].format(t1=self.hm(gap.suspended_at), d1=self.date(gap.suspended_at),
                                                  t2=self.hm(gap.resumed_at), d2=self.date(gap.resumed_at)),
                            s["indent"]))
        if r.place:
            out.append(para(L["place"].format(place=r.place), s["indent"]))
        if r.opening_text:
            out += [para(par, s["indent"]) for par in r.opening_text.splitlines() if par.strip()]
        return out

    def attendance(self) -> list:
        s, L, r = self.s, self.L, self.r
        out = [para(L["attendance"], s["section"])]
        if r.chair:
            out.append(para(L["chair"].format(name=r.chair), s["indent"]))
        if r.secretary:
            out.append(para(L["secretary"].format(name=r.secretary), s["indent"]))
        counts = {k: 0 for k in ("present", "remote", "excused", "absent", "unknown")}
        members = [a for a in r.attendees if a.member]
        for a in members:
            counts[a.status if a.status in counts else "unknown"] += 1
        summary = L["attendance_summary"].format(total=len(members), **counts)
        if counts["unknown"]:
            summary += L["not_marked"].format(unknown=counts["unknown"])
        out.append(para(summary, s["indent"]))
        others = len(r.attendees) - len(members)
        if others:
            out.append(para(L["others_summary"].format(n=others), s["indent"]))
        if r.quorum is not None:
            q = r.quorum
            said = L["quorum_met" if q.met else "quorum_not_met"]
            out.append(para(said.format(present=q.present, members=q.members, required=q.required), s["indent"]))
        if r.attendees:
            rows = [L["att_head"]]
            for n, a in enumerate(r.attendees, start=1):
                rows.append([str(n), a.full_name, L["roles"].get(a.role, a.role),
                             L["statuses"].get(a.status, a.status), self.hm(a.arrived_at), a.reason or ""])
            w = self.width
            out.append(table(rows, [0.07 * w, 0.33 * w, 0.14 * w, 0.17 * w, 0.10 * w, 0.19 * w]))
        return out

    def poll(self, poll: PollResult) -> list:
        s, L = self.s, self.L
        kind = L["poll_secret"] if poll.secret else L["poll_open"]
        out = [para(L["poll"].format(title=poll.title) + f" ({kind})", s["small_bold_italic"])]
        base_count = poll.base_count or 0
        rows = [L["poll_head"]]
        for o in poll.options:
            share = percent(100 * o.count / base_count, self.r.language) if o.count is not None and base_count else ""
            rows.append([o.label, "" if o.count is None else str(o.count), share])
        w = self.width
        out.append(table(rows, [0.6 * w, 0.2 * w, 0.2 * w]))
        figures = L["poll_figures"].format(
            entitled=_n(poll.entitled), present=_n(poll.present), cast=_n(poll.cast),
            base=L["bases"].get(poll.base or "", poll.base or "—"), base_count=_n(poll.base_count),
            threshold=threshold_text(poll.threshold, poll.threshold_strict, self.r.language),
            required=_n(poll.required))
        outcome = L["outcome"].format(outcome=L["outcomes"].get(poll.outcome or "", poll.outcome or "—"))
        tail = L["tie_break"] if poll.tie_break_used else ""
        if poll.named_votes and not poll.secret:
            self.annexes.append(poll)
            tail += L["named_annex_ref"].format(n=len(self.annexes))
        out.append(para(figures + " " + outcome + tail, s["small"]))
        return [KeepTogether(out), Spacer(1, 4)]

    def items(self) -> list:
        s, L, r = self.s, self.L, self.r
        out = [para(L["proceedings"], s["section"])]
        for item in r.items:
            out.append(CondPageBreak(40 * mm))
            out.append(para(L["item"].format(number=item.number, title=item.title), s["item"]))
            if item.presenter:
                out.append(para(L["presenter"].format(name=item.presenter), s["indent"]))
            if item.documents:
                refs = "; ".join(L["doc_ref"].format(title=d.title, version=d.version) for d in item.documents)
                out.append(para(L["documents"] + refs + ".", s["indent"]))
            if item.speeches:
                out.append(para(L["speakers"], s["indent"]))
                for sp in item.speeches:
                    bits = [L["speech_kinds"].get(sp.kind, sp.kind)]
                    if sp.position:
                        bits.append(L["positions"].get(sp.position, sp.position))
                    if sp.duration_seconds:
                        bits.append(f"{max(1, round(sp.duration_seconds / 60))} {L['minute_word']}")
                    when = f"{self.hm(sp.started_at)} " if sp.started_at else ""
                    out.append(para(f"- {when}{sp.full_name} ({', '.join(bits)})", s["indent"]))
            for poll in item.polls:
                out += self.poll(poll)
            if item.status in L["undiscussed"] and not (item.speeches or item.polls):
                out.append(para(L["undiscussed"][item.status], s["indent"]))
                if not item.conclusion:
                    continue
            conclusion = item.conclusion or L["no_conclusion"]
            out.append(Paragraph(f"<b>{escape(L['conclusion'])}</b>{escape(conclusion)}", s["indent"]))
        if r.other_polls:
            out.append(para(L["other_polls"], s["item"]))
            for poll in r.other_polls:
                out += self.poll(poll)
        return out

    def ending(self) -> list:
        s, L, r = self.s, self.L, self.r
        out = []
        if r.ends_at:
            out.append(para(L["ended"].format(time=self.hm(r.ends_at), date=self.date(r.ends_at)), s["indent"]))
        else:
            out.append(para(L["ended_unknown"], s["indent"]))
        if r.closing_text:
            out += [para(par, s["indent"]) for par in r.closing_text.splitlines() if par.strip()]
        out.append(para(L["closing"].format(copies=r.copies or "……"), s["indent"]))
        half = self.width / 2

        def block(role: str, title: str, name: str | None) -> list:
            return [para(title, s["center_bold"]), para(L["sign_hint"], s["center"]),
                    SignatureBlock(role, self.boxes), para(name or "", s["center_bold"])]

        t = Table([[block("secretary", L["sign_secretary"], r.secretary),
                    block("chair", L["sign_chair"], r.chair)]], colWidths=[half, half])
        t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                               ("FONT", (0, 0), (-1, -1), SERIF),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
        recipients = r.recipients or L["recipients_default"]
        rec = [Paragraph(f"<b><i>{escape(L['recipients'])}</i></b>", s["small"])]
        rec += [para(line, s["small"]) for line in recipients]
        return out + [Spacer(1, 10), KeepTogether([t, Spacer(1, 10)] + rec)]

    def annex(self) -> list:
        s, L = self.s, self.L
        out: list = []
        number = self.r.number or "……"
        w = self.width
        for n, poll in enumerate(self.annexes, start=1):
            out += [PageBreak(), para(L["annex"].format(n=n), s["center_bold"]),
                    para(L["annex_title"].format(title=poll.title), s["center_bold"]),
                    para(L["annex_of"].format(number=number), s["center"]), Spacer(1, 6)]
            rows = [L["named_head"]]
            for k, v in enumerate(poll.named_votes or [], start=1):
                rows.append([str(k), v.full_name, ", ".join(v.choices), v.by_proxy_for or ""])
            out.append(table(rows, [0.08 * w, 0.42 * w, 0.25 * w, 0.25 * w]))
        return out

    # --- page decoration ------------------------------------------------
    def on_page(self, canv, doc) -> None:
        page_furniture(canv, mark=self.L["confidential"].get(self.r.confidentiality),
                       draft_label=self.L["draft"] if self.draft else None)

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


def _n(value: int | None) -> str:
    return "—" if value is None else str(value)


def compose(record: MinutesRecord, *, draft: bool = False, tz: str = DEFAULT_TZ) -> Composed:
    """Render ``record`` as the minutes PDF; ``draft`` adds the DỰ THẢO / DRAFT watermark."""
    return _Composer(record, draft, tz).build()
