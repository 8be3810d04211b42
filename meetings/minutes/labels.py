"""The words of the minutes in Vietnamese (Decree 30 "Biên bản") and English."""
from __future__ import annotations

VI = {
    "nation": "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "motto": "Độc lập - Tự do - Hạnh phúc",
    "number": "Số: {number}",
    "number_blank": "Số: ……/BB-{short}",
    "title": "BIÊN BẢN",
    "date_line": "{place}, ngày {d:02d} tháng {m:02d} năm {y}",
    "date_line_blank": "{place}, ngày …… tháng …… năm ……",
    "time_place": "I. THỜI GIAN, ĐỊA ĐIỂM",
    "started": "Thời gian bắt đầu: {time}, ngày {date}.",
    "not_started": "Thời gian bắt đầu: …… giờ ……, ngày …….",
    "suspended": "Cuộc họp tạm dừng lúc {t1}, ngày {d1} và tiếp tục lúc {t2}, ngày {d2}.",
    "place": "Địa điểm: {place}.",
    "attendance": "II. THÀNH PHẦN THAM DỰ",
    "chair": "Chủ tọa: {name}.",
    "secretary": "Thư ký: {name}.",
    "attendance_summary": "Tổng số thành viên: {total}; có mặt: {present}; tham dự trực tuyến: {remote}; "
                          "vắng mặt có lý do: {excused}; vắng mặt: {absent}.",
    "not_marked": " Chưa điểm danh: {unknown}.",
    "others_summary": "Thư ký, khách mời và cán bộ phục vụ (không tính vào số thành viên): {n}.",
    "quorum_met": "Số thành viên dự họp: {present}/{members} (tối thiểu {required}); "
                  "cuộc họp đủ điều kiện tiến hành theo quy định.",
    "quorum_not_met": "Số thành viên dự họp: {present}/{members} (tối thiểu {required}); "
                      "cuộc họp không đủ điều kiện tiến hành theo quy định.",
    "att_head": ["STT", "Họ và tên", "Vai trò", "Tình trạng", "Giờ đến", "Lý do"],
    "roles": {"chair": "Chủ tọa", "secretary": "Thư ký", "delegate": "Đại biểu", "observer": "Khách mời"},
    "statuses": {"present": "Có mặt", "remote": "Trực tuyến", "absent": "Vắng mặt",
                 "excused": "Vắng có lý do", "unknown": "Chưa điểm danh"},
    "proceedings": "III. NỘI DUNG CUỘC HỌP",
    "item": "{number}. {title}",
    "presenter": "Người trình bày: {name}.",
    "documents": "Tài liệu: ",
    "doc_ref": "{title} (phiên bản {version})",
    "speakers": "Ý kiến phát biểu:",
    "speech_kinds": {"speech": "phát biểu", "question": "chất vấn", "reply": "trả lời",
                     "point_of_order": "ý kiến thủ tục"},
    "positions": {"for": "tán thành", "against": "không tán thành", "neutral": "ý kiến khác"},
    "no_speakers": "Không có ý kiến phát biểu.",
    "poll": "Biểu quyết: {title}",
    "poll_head": ["Phương án", "Số phiếu", "Tỷ lệ"],
    "poll_secret": "bỏ phiếu kín",
    "poll_open": "biểu quyết công khai",
    "poll_figures": "Số thành viên có quyền biểu quyết: {entitled}; có mặt: {present}; số phiếu: {cast}. "
                    "Căn cứ tính: {base} ({base_count}); ngưỡng: {threshold}; số phiếu cần đạt: {required}.",
    "threshold_more": "quá {fraction}",
    "threshold_at_least": "ít nhất {fraction}",
    "decimal_comma": True,
    "bases": {"cast": "số phiếu biểu quyết", "present": "số thành viên có mặt", "entitled": "tổng số thành viên"},
    "outcomes": {"adopted": "THÔNG QUA", "rejected": "KHÔNG THÔNG QUA", "tie": "HÒA PHIẾU",
                 "no_quorum": "KHÔNG ĐỦ ĐIỀU KIỆN", "void": "KHÔNG HỢP LỆ",
                 "annulled": "HỦY BỎ"},
    "outcome": "Kết quả: {outcome}.",
    "tie_break": " Số phiếu ngang nhau; quyết định theo ý kiến của Chủ tọa.",
    "named_annex_ref": " Danh sách biểu quyết tại Phụ lục {n}.",
    "conclusion": "Kết luận: ",
    "no_conclusion": "(chưa có kết luận)",
    "undiscussed": {"pending": "Nội dung này không được thảo luận tại cuộc họp.",
                    "deferred": "Nội dung này được hoãn, chưa thảo luận tại cuộc họp."},
    "other_polls": "Biểu quyết khác",
    "ended": "Cuộc họp kết thúc vào lúc {time}, ngày {date}.",
    "ended_unknown": "Cuộc họp kết thúc vào lúc …… giờ …… cùng ngày.",
    "closing": "Biên bản được lập thành {copies} bản, có giá trị như nhau.",
    "sign_secretary": "THƯ KÝ",
    "sign_chair": "CHỦ TỌA",
    "sign_hint": "(Chữ ký số)",
    "recipients": "Nơi nhận:",
    "recipients_default": ["- Như thành phần tham dự;", "- Lưu: VT."],
    "annex": "PHỤ LỤC {n}",
    "annex_title": "DANH SÁCH BIỂU QUYẾT: {title}",
    "annex_of": "(Kèm theo Biên bản số {number})",
    "named_head": ["STT", "Họ và tên", "Lựa chọn", "Ủy quyền cho"],
    "draft": "DỰ THẢO",
    "page": "{n}",
    "version_note": "Phiên bản {version}. {note}",
    "confidential": {"internal": "LƯU HÀNH NỘI BỘ", "confidential": "MẬT", "secret": "TỐI MẬT",
                     "top_secret": "TUYỆT MẬT"},
    "minute_word": "phút",
}

EN = {
    **VI,
    "nation": "SOCIALIST REPUBLIC OF VIETNAM",
    "motto": "Independence - Freedom - Happiness",
    "number": "No.: {number}",
    "number_blank": "No.: ……/BB-{short}",
    "title": "MINUTES",
    "date_line": "{place}, {y}-{m:02d}-{d:02d}",
    "date_line_blank": "{place}, ……",
    "time_place": "I. TIME AND PLACE",
    "started": "Started: {time}, {date}.",
    "not_started": "Started: ……",
    "suspended": "The meeting was suspended at {t1}, {d1} and resumed at {t2}, {d2}.",
    "place": "Place: {place}.",
    "attendance": "II. ATTENDANCE",
    "chair": "Chair: {name}.",
    "secretary": "Secretary: {name}.",
    "attendance_summary": "Members: {total}; present: {present}; remote: {remote}; excused: {excused}; "
                          "absent: {absent}.",
    "not_marked": " Not recorded: {unknown}.",
    "others_summary": "Secretariat, guests and staff (not counted as members): {n}.",
    "quorum_met": "Members attending: {present}/{members} (at least {required}); the meeting had its quorum.",
    "quorum_not_met": "Members attending: {present}/{members} (at least {required}); "
                      "the meeting did not have its quorum.",
    "att_head": ["No.", "Name", "Role", "Attendance", "Arrived", "Reason"],
    "roles": {"chair": "Chair", "secretary": "Secretary", "delegate": "Delegate", "observer": "Guest"},
    "statuses": {"present": "Present", "remote": "Remote", "absent": "Absent", "excused": "Excused",
                 "unknown": "Not recorded"},
    "proceedings": "III. PROCEEDINGS",
    "presenter": "Presented by: {name}.",
    "documents": "Documents: ",
    "doc_ref": "{title} (version {version})",
    "speakers": "Speakers:",
    "speech_kinds": {"speech": "speech", "question": "question", "reply": "reply", "point_of_order": "point of order"},
    "positions": {"for": "for", "against": "against", "neutral": "other view"},
    "no_speakers": "No one asked to speak.",
    "poll": "Vote: {title}",
    "poll_head": ["Option", "Votes", "Share"],
    "poll_secret": "secret ballot",
    "poll_open": "open vote",
    "poll_figures": "Entitled to vote: {entitled}; present: {present}; votes cast: {cast}. "
                    "Base: {base} ({base_count}); threshold: {threshold}; votes required: {required}.",
    "bases": {"cast": "votes cast", "present": "members present", "entitled": "all members"},
    "threshold_more": "more than {fraction}",
    "threshold_at_least": "at least {fraction}",
    "decimal_comma": False,
    "outcomes": {"adopted": "ADOPTED", "rejected": "REJECTED", "tie": "TIE", "no_quorum": "NO QUORUM",
                 "void": "VOID", "annulled": "ANNULLED"},
    "outcome": "Outcome: {outcome}.",
    "tie_break": " The votes were equal; the chair's vote decided.",
    "named_annex_ref": " Roll call in Annex {n}.",
    "conclusion": "Conclusion: ",
    "no_conclusion": "(no conclusion recorded)",
    "undiscussed": {"pending": "This item was not discussed at the meeting.",
                    "deferred": "This item was deferred and not discussed at the meeting."},
    "other_polls": "Other votes",
    "ended": "The meeting ended at {time}, {date}.",
    "ended_unknown": "The meeting ended at …… the same day.",
    "closing": "These minutes are made in {copies} copies of equal value.",
    "sign_secretary": "SECRETARY",
    "sign_chair": "CHAIR",
    "sign_hint": "(Digital signature)",
    "recipients": "Distribution:",
    "recipients_default": ["- Participants;", "- Filed: Records office."],
    "annex": "ANNEX {n}",
    "annex_title": "ROLL CALL: {title}",
    "annex_of": "(To minutes no. {number})",
    "named_head": ["No.", "Name", "Choice", "Proxy for"],
    "draft": "DRAFT",
    "version_note": "Version {version}. {note}",
    "confidential": {"internal": "INTERNAL CIRCULATION ONLY", "confidential": "CONFIDENTIAL", "secret": "SECRET",
                     "top_secret": "TOP SECRET"},
    "minute_word": "min",
}


def labels(language: str) -> dict:
    """The words of the minutes in ``language`` ("en"; anything else is Vietnamese)."""
    return EN if language == "en" else VI


def percent(value: float, language: str) -> str:
    """A share as the language writes it: "75,0 %" in Vietnamese, "75.0%" in English."""
    if labels(language)["decimal_comma"]:
        return f"{value:.1f}".replace(".", ",") + " %"
    return f"{value:.1f}%"


def threshold_text(fraction: str | None, strict: bool | None, language: str) -> str:
    """ "quá 1/2" / "ít nhất 2/3" (or the English words); a fraction with no rule is printed as given."""
    if not fraction:
        return "—"
    if strict is None:
        return fraction
    return labels(language)["threshold_more" if strict else "threshold_at_least"].format(fraction=fraction)
