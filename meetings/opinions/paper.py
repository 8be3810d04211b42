"""The opinion papers, composed with ReportLab in the minutes' layout (Decree 30/2020/ND-CP).

- the report "Báo cáo tổng hợp ý kiến": the issuing body and number on the left, the national
  title and motto on the right, the date line; per question the figures of its tally (the rule,
  the base, the votes needed, the outcome), the comments; who answered and who did not; one
  signature block (the chair, or "TL. Chủ tịch / Chánh Văn phòng");
- a member's signed answer: one page with the form, each answer and comment, and their block.

Both are pure functions of plain data (no database): the signature block remembers where it was
drawn so ``meetings.minutes.papers.add_signature_field`` puts the field exactly there.
"""
from __future__ import annotations

import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, SimpleDocTemplate, Spacer, Table, TableStyle

from meetings.minutes.layout import (
    DEFAULT_TZ,
    MARGINS,
    SERIF,
    Rule,
    SignatureBlock,
    page_furniture,
    para,
    styles,
    table,
)

WIDTH = A4[0] - MARGINS["left"] - MARGINS["right"]
OUTCOME = {"adopted": "Được thông qua", "rejected": "Không được thông qua", "no_quorum": "Không đủ số lượng"}
BASE = {"cast": "số ý kiến biểu thị (không tính ý kiến khác)", "present": "số thành viên đã trả lời",
        "entitled": "tổng số thành viên được lấy ý kiến"}
THRESHOLD = {True: "quá {n}/{d}", False: "từ {n}/{d} trở lên"}
CHOICE = {"agree": "Đồng ý", "disagree": "Không đồng ý", "other": "Ý kiến khác"}


def _header(data: dict[str, Any], kind: str, at: datetime) -> list:
    s = styles()
    left = []
    if data.get("parent_name"):
        left.append(para(data["parent_name"].upper(), s["head_left"]))
    number = data.get("number") or f"Số:       /{kind}-{data.get('short_name') or ''}"
    if data.get("number"):
        number = f"Số: {data['number']}"
    left += [para(data["body_name"].upper(), s["head_left_bold"]), Spacer(1, 2), Rule(30 * mm), Spacer(1, 4),
             para(number, s["head_left"])]
    local = at.astimezone(ZoneInfo(data.get("tz") or DEFAULT_TZ))
    dated = f"{data.get('place_name') or '……'}, ngày {local.day:02d} tháng {local.month:02d} năm {local.year}"
    right = [para("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", s["nation"]), para("Độc lập - Tự do - Hạnh phúc", s["motto"]),
             Spacer(1, 2), Rule(58 * mm), Spacer(1, 4), para(dated, s["date"])]
    t = Table([[left, right]], colWidths=[WIDTH * 0.4, WIDTH * 0.6])
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                           ("RIGHTPADDING", (0, 0), (-1, -1), 0), ("FONT", (0, 0), (-1, -1), SERIF)]))
    return [t]


def _signature(boxes: dict, title: str, name: str, hint: str = "(Ký, ghi rõ họ tên)",
               recipients: list[str] | None = None) -> Table:
    s = styles()
    block = [para(line, s["center_bold"]) for line in title.splitlines() or [""]]
    block += [para(hint, s["center"]), SignatureBlock("signer", boxes), para(name or "", s["center_bold"])]
    left: list | str = ""
    if recipients:  # Decree 30: "Nơi nhận:" at the bottom left, beside the signature
        left = [para("Nơi nhận:", s["small_bold_italic"])] + [para(line, s["small"]) for line in recipients]
    t = Table([[left, block]], colWidths=[WIDTH / 2, WIDTH / 2])
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                           ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    return t


def _build(story: list, title: str, author: str) -> tuple[bytes, int]:
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, topMargin=MARGINS["top"], bottomMargin=MARGINS["bottom"],
                            leftMargin=MARGINS["left"], rightMargin=MARGINS["right"], title=title, author=author,
                            creator="meetings", lang="vi", invariant=True, initialFontName=SERIF)

    def on_page(canv, d) -> None:
        page_furniture(canv)

    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buf.getvalue(), doc.page


def _question_figures(q: dict[str, Any]) -> list:
    s = styles()
    rows = [["Phương án", "Số ý kiến", "Tỷ lệ"]]
    for o in q["options"]:
        share = f"{o['count'] * 100 / q['base_count']:.1f}%".replace(".", ",") if q["base_count"] else "—"
        rows.append([o["label"], str(o["count"]), share])
    num, den, strict = q["threshold_rule"]
    rule = THRESHOLD[bool(strict)].format(n=num, d=den)
    out = [table(rows, [WIDTH * 0.6, WIDTH * 0.2, WIDTH * 0.2]), Spacer(1, 3),
           para(f"Số thành viên trả lời câu hỏi: {q['answered']}/{q['entitled']}. Cơ sở tính: {BASE[q['base']]} "
                f"= {q['base_count']}; điều kiện thông qua: {rule}, cần ít nhất {q['required']} ý kiến.", s["body"])]
    if q["kind"] == "agree":
        result = OUTCOME[q["outcome"]] + (" (theo ý kiến của Chủ tịch khi số phiếu ngang nhau)"
                                          if q.get("tie_break_used") else "")
    else:
        passed = [o["label"] for o in q["options"] if o.get("passed")]
        result = ("Các phương án đạt: " + "; ".join(passed)) if passed else "Không phương án nào đạt."
    out.append(para(f"Kết quả: {result}", s["item"]))
    return out


def compose_report(data: dict[str, Any]) -> dict[str, Any]:
    """The report PDF and its signature block: ``{"pdf", "pages", "box"}``."""
    s = styles()
    at = datetime.fromisoformat(data["dated_at"])
    story = _header(data, "BC", at)
    story += [para("BÁO CÁO", s["title"]), para("Tổng hợp ý kiến các thành viên về: " + data["title"],
                                                 s["center_bold"]), Spacer(1, 8)]
    closes = datetime.fromisoformat(data["closes_at"]).astimezone(ZoneInfo(data.get("tz") or DEFAULT_TZ))
    story.append(para(f"Phiếu lấy ý kiến được gửi tới {data['recipients']} thành viên, hạn trả lời "
                      f"{closes:%H:%M} ngày {closes:%d/%m/%Y}. Số thành viên đã trả lời: {data['answered']}; "
                      f"chưa trả lời: {data['recipients'] - data['answered']}.", s["indent"]))
    if data.get("explanation"):
        story += [para(p, s["indent"]) for p in data["explanation"].splitlines() if p.strip()]
    for n, q in enumerate(data["questions"], start=1):
        story += [para(f"{n}. {q['text']}", s["section"])] + _question_figures(q)
        if q["comments"]:
            story.append(para("Ý kiến cụ thể:", s["body"]))
            story += [para(f"- {c['name']}: {c['comment']}", s["indent"]) for c in q["comments"]]
    story.append(para("Danh sách thành viên đã trả lời", s["section"]))
    rows = [["STT", "Họ và tên", "Thời điểm trả lời", "Ký số"]]
    rows += [[str(k), p["name"], p["at"], "Có" if p["signed"] else ""] for k, p in enumerate(data["answered_list"], 1)]
    story.append(table(rows, [WIDTH * 0.08, WIDTH * 0.47, WIDTH * 0.3, WIDTH * 0.15]))
    story.append(para("Thành viên chưa trả lời: " + ("; ".join(data["missing_list"]) or "không có") + ".", s["body"]))
    boxes: dict = {}
    story += [Spacer(1, 10), KeepTogether([_signature(boxes, data["signer_title"], data["signer_name"],
                                                      recipients=["- Các thành viên được lấy ý kiến;", "- Lưu: VT."])])]
    pdf, pages = _build(story, "Báo cáo tổng hợp ý kiến - " + data["title"], data["body_name"])
    return {"pdf": pdf, "pages": pages, "box": boxes.get("signer")}


def compose_answer(data: dict[str, Any]) -> dict[str, Any]:
    """A member's answer on one page: ``{"pdf", "pages", "box"}``."""
    s = styles()
    at = datetime.fromisoformat(data["answered_at"])
    story = _header({**data, "number": None}, "PLYK", at)
    story += [para("PHIẾU TRẢ LỜI LẤY Ý KIẾN", s["title"]), para(data["title"], s["center_bold"]), Spacer(1, 8),
              para(f"Thành viên: {data['member_name']}" + (f" - {data['position']}" if data.get("position") else ""),
                   s["body"]),
              para(f"Lần trả lời: {data['revision']}", s["body"])]
    for n, q in enumerate(data["questions"], start=1):
        story.append(para(f"{n}. {q['text']}", s["section"]))
        story.append(para("Trả lời: " + q["answer"], s["indent"]))
        if q.get("comment"):
            story.append(para("Ý kiến: " + q["comment"], s["indent"]))
    boxes: dict = {}
    story += [Spacer(1, 10), KeepTogether([_signature(boxes, "NGƯỜI TRẢ LỜI", data["member_name"])])]
    pdf, pages = _build(story, "Phiếu trả lời - " + data["title"], data["body_name"])
    return {"pdf": pdf, "pages": pages, "box": boxes.get("signer")}
