"""Composing the minutes: the Decree 30 layout, Vietnamese text, tables across pages, draft and English."""
from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from meetings.minutes.compose import MARGINS, compose
from meetings.minutes.record import Attendee, MinutesRecord
from tests.minutes_support import pdftotext, small_record

A4 = (595.27, 841.89)


def _words(pdf: bytes) -> list[tuple[float, float, float, float, str]]:
    html = subprocess.run(["pdftotext", "-bbox", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    pat = re.compile(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<')
    return [(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in pat.findall(html.decode())]


def flat(text: str) -> str:
    """Extracted text with line wrapping undone (a long name may wrap in its column)."""
    return " ".join(text.split())


def test_vietnamese_text_survives_extraction():
    text = flat(pdftotext(compose(small_record()).pdf))
    for expected in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                     "ỦY BAN NHÂN DÂN TỈNH THỬ NGHIỆM", "Số: 12/BB-UBND", "BIÊN BẢN",
                     "Phiên họp thường kỳ tháng 12 năm 2026", "Nguyễn Thị Ánh Tuyết", "Đặng Hữu Phước",
                     "Đi công tác nước ngoài", "Báo cáo tình hình kinh tế - xã hội quý IV",
                     "Thống nhất thông qua báo cáo; giao Sở Kế hoạch và Đầu tư hoàn thiện.",
                     "THƯ KÝ", "CHỦ TỌA", "Nơi nhận:", "Lưu: VT.", "THÔNG QUA", "PHỤ LỤC 1",
                     "Thử Nghiệm, ngày 15 tháng 12 năm 2026"):
        assert expected in text, expected


def test_sections_times_and_polls():
    text = flat(pdftotext(compose(small_record()).pdf))
    assert "Thời gian bắt đầu: 08:30, ngày 15/12/2026." in text  # 01:30 UTC shown in Vietnam's time
    assert "Cuộc họp kết thúc vào lúc 11:45, ngày 15/12/2026." in text
    assert "Chủ tọa: Lê Thị Thu Hằng." in text and "Thư ký: Phạm Quốc Việt." in text
    assert "có mặt: 2; tham dự trực tuyến: 1; vắng mặt có lý do: 1; vắng mặt: 1" in text
    assert "Người trình bày: Phạm Quốc Việt." in text
    assert "Báo cáo số 45/BC-UBND (phiên bản 2)" in text
    assert "Nguyễn Thị Ánh Tuyết (chất vấn, không tán thành, 3 phút)" in text
    assert "ngưỡng: quá 1/2" in text and "số phiếu cần đạt: 3" in text
    assert "ngưỡng: ít nhất 2/3" in text
    assert "Tán thành 3 60,0 %" in text  # 3 of a base of 5, Vietnamese style
    assert "bỏ phiếu kín" in text and "Trần Văn Hải" in text
    assert "(chưa có kết luận)" in text  # item 2 has no conclusion yet
    # The named roll call goes to an annex; the secret ballot never gets one.
    assert text.count("DANH SÁCH BIỂU QUYẾT") == 1


def test_a4_margins_fonts_and_page_numbers():
    record = small_record(attendees=[Attendee(f"Trần Văn Đạt {i}", status="present") for i in range(120)])
    pdf = compose(record).pdf
    reader = PdfReader(__import__("io").BytesIO(pdf))
    assert len(reader.pages) >= 4
    box = reader.pages[0].mediabox
    assert (round(float(box.width), 1), round(float(box.height), 1)) == (595.3, 841.9)
    words = _words(pdf)
    left = min(w[0] for w in words)
    right = max(w[2] for w in words)
    assert left >= MARGINS["left"] - 0.5
    assert right <= A4[0] - MARGINS["right"] + 0.5
    # Every font used is embedded (the text is Unicode DejaVu Serif).
    fonts = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    used = fonts.splitlines()[2:]
    assert used and all("DejaVuSerif" in ln and " yes yes yes " in ln for ln in used), fonts
    # Page numbers from page 2, at the top.
    assert pdftotext(pdf, 2, 2).strip().splitlines()[0].strip() == "2"
    assert pdftotext(pdf, 3, 3).strip().splitlines()[0].strip() == "3"


def test_table_header_repeats_on_every_page_of_the_attendance_list():
    record = small_record(attendees=[Attendee(f"Hoàng Thị Yến {i}", status="present") for i in range(150)])
    composed = compose(record)
    pdf = composed.pdf
    pages_with_rows = [n for n in range(1, composed.pages + 1) if "Hoàng Thị Yến 1" in pdftotext(pdf, n, n)]
    assert len(pages_with_rows) >= 3
    for n in pages_with_rows:
        assert "Họ và tên" in pdftotext(pdf, n, n), n


def test_signature_blocks_are_recorded_side_by_side():
    composed = compose(small_record())
    sec, chair = composed.boxes["secretary"], composed.boxes["chair"]
    assert sec["page"] == chair["page"] < composed.pages
    assert sec["box"][2] < chair["box"][0]  # THƯ KÝ left, CHỦ TỌA right
    assert sec["box"][1] == chair["box"][1]
    assert MARGINS["left"] - 1 <= sec["box"][0] and chair["box"][2] <= A4[0] - MARGINS["right"] + 1
    page_text = pdftotext(composed.pdf, sec["page"] + 1, sec["page"] + 1)
    assert "THƯ KÝ" in page_text and "CHỦ TỌA" in page_text


def test_draft_is_watermarked_and_final_is_not():
    draft = compose(small_record(), draft=True).pdf
    final = compose(small_record()).pdf
    draft_text = PdfReader(__import__("io").BytesIO(draft)).pages[0].extract_text()
    final_text = PdfReader(__import__("io").BytesIO(final)).pages[0].extract_text()
    assert "DỰ THẢO" in draft_text.replace("\n", "")
    assert "DỰ THẢO" not in final_text.replace("\n", "")


def test_composing_is_deterministic():
    assert compose(small_record()).pdf == compose(small_record()).pdf


def test_english_layout():
    text = flat(pdftotext(compose(small_record(language="en")).pdf))
    for expected in ("SOCIALIST REPUBLIC OF VIETNAM", "Independence - Freedom - Happiness", "MINUTES",
                     "SECRETARY", "CHAIR", "ADOPTED", "Nguyễn Thị Ánh Tuyết"):
        assert expected in text, expected
    assert "BIÊN BẢN" not in text


def test_untrusted_text_is_printed_literally():
    record = small_record(meeting_title="Họp <b>khẩn</b> & <font size=40>X</font>")
    text = flat(pdftotext(compose(record).pdf))
    assert "Họp <b>khẩn</b> & <font size=40>X</font>" in text


def test_confidentiality_mark_on_every_page():
    record = small_record(confidentiality="secret",
                          attendees=[Attendee(f"Bùi Văn Nam {i}") for i in range(80)])
    pdf = compose(record).pdf
    n = len(PdfReader(__import__("io").BytesIO(pdf)).pages)
    assert all("TỐI MẬT" in pdftotext(pdf, p, p) for p in range(1, n + 1))


def test_record_round_trips_through_json():
    record = small_record()
    again = MinutesRecord.from_json(record.to_json())
    assert again == record
    assert compose(again).pdf == compose(record).pdf


@pytest.mark.parametrize("ends_at", [None, datetime(2026, 12, 15, 9, 0, tzinfo=UTC)])
def test_end_time_known_or_left_blank(ends_at):
    text = flat(pdftotext(compose(small_record(ends_at=ends_at)).pdf))
    assert ("16:00" in text) if ends_at else ("kết thúc vào lúc …… giờ" in text)


def test_child_job_limits_stop_a_runaway_job():
    """A job over its time or memory limit is ended in its child; the caller gets a clear error."""
    from bench.minutes_record import big_record
    from meetings.core.errors import Unavailable
    from meetings.minutes.runner import run_job

    job = {"op": "compose", "record": big_record(500, 60, 40).to_json(), "out": "/dev/null"}
    with pytest.raises(Unavailable) as err:
        run_job(job, seconds=1)  # composing this record takes several seconds
    assert err.value.code == "job_failed"
    with pytest.raises(Unavailable) as err:
        run_job({**job, "record": small_record().to_json()}, memory_mb=1)
    assert err.value.code == "job_failed"
    ok = run_job({"op": "compose", "record": small_record().to_json(), "out": "/dev/null"})
    assert ok["pages"] >= 3  # the server survives its children


def test_breaks_quorum_undiscussed_items_and_copies_in_both_languages():
    from datetime import timedelta

    from meetings.minutes.record import ItemRecord, Quorum, Suspension

    base = small_record()
    gap = Suspension(base.starts_at + timedelta(hours=1), base.starts_at + timedelta(hours=1, minutes=20))
    record = small_record(suspensions=[gap], quorum=Quorum(members=4, present=3, required=3, met=True), copies=4,
                          items=base.items + [ItemRecord("3", "Đề án chưa bàn", status="pending")])
    vi = flat(pdftotext(compose(record).pdf))
    assert "Cuộc họp tạm dừng lúc 09:30, ngày 15/12/2026 và tiếp tục lúc 09:50, ngày 15/12/2026." in vi
    assert "Số thành viên dự họp: 3/4 (tối thiểu 3); cuộc họp đủ điều kiện tiến hành theo quy định." in vi
    assert "3. Đề án chưa bàn Nội dung này không được thảo luận tại cuộc họp." in vi
    assert "Biên bản được lập thành 4 bản, có giá trị như nhau." in vi
    en = flat(pdftotext(compose(replace(record, language="en",
                                         quorum=Quorum(members=4, present=2, required=3, met=False))).pdf))
    assert "suspended at 09:30, 15/12/2026 and resumed at 09:50" in en
    assert "the meeting did not have its quorum" in en and "made in 4 copies" in en
    assert "threshold: more than 1/2" in en and "Tán thành 3 60.0%" in en
    # Before the sitting (a draft preview), no time is invented.
    early = flat(pdftotext(compose(small_record(starts_at=None, ends_at=None), draft=True).pdf))
    assert "Thời gian bắt đầu: …… giờ" in early and "Thử Nghiệm, ngày …… tháng …… năm ……" in early
