"""The dashboard's exports: a CSV of the tasks and a PDF report (A4, Vietnamese).

The PDF uses the minutes' page furniture (``meetings.minutes.layout``: the embedded
DejaVu serif family, Decree 30 margins, gridded tables), so its Vietnamese reads right
everywhere and it looks like the body's other papers. It is built in the request: 500 tasks
take about 1.2 s (measured); a body with thousands of open tasks would want the minutes'
child process instead.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle

from meetings.bodies.models import Body
from meetings.core.spreadsheet import text_cell
from meetings.minutes.layout import MARGINS, SERIF, Rule, para, styles, table
from meetings.tasks import board
from meetings.tasks.models import Task

STATUS_VI = {"assigned": "Đã giao", "in_progress": "Đang thực hiện", "submitted": "Chờ đánh giá",
             "accepted": "Hoàn thành", "returned": "Bị trả lại"}
STATUS_EN = {"assigned": "Assigned", "in_progress": "In progress", "submitted": "Submitted",
             "accepted": "Accepted", "returned": "Returned"}
PRIORITY_VI = {"low": "Thấp", "normal": "Bình thường", "high": "Cao", "urgent": "Khẩn"}
HEAD_VI = ["Mã", "Nhiệm vụ", "Nguồn", "Đơn vị chủ trì", "Đơn vị phối hợp", "Người được giao", "Hạn xử lý",
           "Hạn ban đầu", "Độ ưu tiên", "Trạng thái", "Tiến độ (%)", "Quá hạn", "Ngày hoàn thành", "Đúng hạn"]
HEAD_EN = ["Id", "Task", "Source", "Lead unit", "Supporting units", "Assignee", "Deadline", "Original deadline",
           "Priority", "Status", "Progress (%)", "Overdue", "Accepted", "On time"]


def _local(value: datetime | None, tz: str, with_time: bool = False) -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(tz)).strftime("%d/%m/%Y %H:%M" if with_time else "%d/%m/%Y")


def csv_bytes(tasks: list[Task], now: datetime, *, locale: str = "vi", tz: str = "Asia/Ho_Chi_Minh") -> bytes:
    """The tasks as CSV (UTF-8 with a BOM, so spreadsheet programs read the Vietnamese right; every text
    cell through ``text_cell``: titles and names are typed by people)."""
    vi = locale != "en"
    yes, no = ("Có", "Không") if vi else ("Yes", "No")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEAD_VI if vi else HEAD_EN)
    for t in tasks:
        lead, supports = board.unit_names(t)
        punctual = board.on_time(t)
        writer.writerow([text_cell(v) for v in [
            t.id, t.title, t.source_label or t.source_kind, lead, "; ".join(supports),
            t.assignee.full_name if t.assignee else "", _local(t.deadline, tz, True),
            _local(t.original_deadline, tz, True), (PRIORITY_VI if vi else {}).get(t.priority, t.priority),
            (STATUS_VI if vi else STATUS_EN)[t.status], t.progress, yes if board.is_overdue(t, now) else no,
            _local(t.accepted_at, tz, True), "" if punctual is None else (yes if punctual else no),
        ]])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _rate(figures: dict[str, Any]) -> str:
    rate = figures["on_time_rate"]
    return "—" if rate is None else f"{rate * 100:.1f}%".replace(".", ",")


def _header(body: Body, local_now: datetime, width: float) -> Table:
    """Decree 30's two columns: the body (and "Số: …/BC-…") left, the national title, motto and date right."""
    s = styles()
    left: list[Any] = [para(body.parent_name.upper(), s["head_left"])] if body.parent_name else []
    left += [para(body.name.upper(), s["head_left_bold"]), Spacer(1, 2), Rule(30 * mm), Spacer(1, 4),
             para(f"Số: ……/BC-{body.short_name}" if body.short_name else "Số: ……/BC", s["head_left"])]
    place = body.place_name or "……"
    right = [para("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", s["nation"]), para("Độc lập - Tự do - Hạnh phúc", s["motto"]),
             Spacer(1, 2), Rule(58 * mm), Spacer(1, 4),
             para(f"{place}, ngày {local_now.day:02d} tháng {local_now.month:02d} năm {local_now.year}", s["date"])]
    t = Table([[left, right]], colWidths=[width * 0.4, width * 0.6])
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                           ("RIGHTPADDING", (0, 0), (-1, -1), 0), ("FONT", (0, 0), (-1, -1), SERIF)]))
    return t


def pdf_report(body: Body, figures: dict[str, Any], tasks: list[Task], now: datetime, *,
               tz: str = "Asia/Ho_Chi_Minh", filters_text: str = "") -> bytes:
    """"Báo cáo tình hình thực hiện nhiệm vụ": the figures, the units, the overdue list and every task."""
    s = styles()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, topMargin=MARGINS["top"], bottomMargin=MARGINS["bottom"],
                            leftMargin=MARGINS["left"], rightMargin=MARGINS["right"],
                            title="Báo cáo tình hình thực hiện nhiệm vụ", author=body.name)
    width = A4[0] - MARGINS["left"] - MARGINS["right"]
    local_now = now.astimezone(ZoneInfo(tz))
    story: list[Any] = [
        _header(body, local_now, width),
        para("BÁO CÁO", s["title"]),
        para("Tình hình thực hiện nhiệm vụ theo kết luận", s["center_bold"]),
        Spacer(1, 4 * mm),
    ]
    if filters_text:
        story.append(para(f"Phạm vi: {filters_text}", s["small"]))
    story.append(para("I. SỐ LIỆU TỔNG HỢP", s["section"]))
    counts = figures["by_status"]
    story.append(table([
        ["Tổng số", *STATUS_VI.values(), "Quá hạn", "Tỷ lệ đúng hạn"],
        [str(figures["total"]), *(str(counts[k]) for k in STATUS_VI), str(figures["overdue_count"]), _rate(figures)],
    ], [width / 8] * 8))
    story.append(para(f"Đã hoàn thành {figures['accepted']} nhiệm vụ, trong đó {figures['accepted_on_time']} "
                      f"nhiệm vụ hoàn thành đúng hạn.", s["body"]))
    story.append(para("II. THEO ĐƠN VỊ CHỦ TRÌ", s["section"]))
    unit_rows = [["Đơn vị", "Tổng", "Đang thực hiện", "Chờ đánh giá", "Hoàn thành", "Quá hạn"]]
    for r in figures["by_unit"]:
        b = r["by_status"]
        unit_rows.append([r["unit_name"] or "(giao cá nhân)", str(r["total"]),
                          str(b["assigned"] + b["in_progress"] + b["returned"]), str(b["submitted"]),
                          str(b["accepted"]), str(r["overdue"])])
    story.append(table(unit_rows, [width * 0.4] + [width * 0.12] * 5))
    story.append(para("III. NHIỆM VỤ QUÁ HẠN", s["section"]))
    if figures["overdue"]:
        story.append(table([["Mã", "Nhiệm vụ", "Đơn vị chủ trì", "Hạn xử lý", "Trạng thái"]] + [
            [str(t.id), t.title, board.unit_names(t)[0] or (t.assignee.full_name if t.assignee else ""),
             _local(t.deadline, tz), STATUS_VI[t.status]] for t in figures["overdue"]],
            [width * 0.07, width * 0.40, width * 0.22, width * 0.14, width * 0.17]))
    else:
        story.append(para("Không có nhiệm vụ quá hạn.", s["body"]))
    story.append(para("IV. DANH SÁCH NHIỆM VỤ", s["section"]))
    story.append(table([["Mã", "Nhiệm vụ", "Chủ trì / phối hợp", "Hạn", "Trạng thái", "%"]] + [
        [str(t.id), t.title, "; ".join(x for x in [board.unit_names(t)[0], *board.unit_names(t)[1]] if x)
         or (t.assignee.full_name if t.assignee else ""), _local(t.deadline, tz),
         STATUS_VI[t.status] + (" (quá hạn)" if board.is_overdue(t, now) else ""), str(t.progress)]
        for t in tasks], [width * 0.06, width * 0.34, width * 0.22, width * 0.14, width * 0.17, width * 0.07]))
    story.append(Spacer(1, 4 * mm))
    story.append(para(f"Số liệu tính đến {local_now.strftime('%H:%M')} ngày {local_now.strftime('%d/%m/%Y')}.",
                      s["small"]))
    doc.build(story)
    return buf.getvalue()
