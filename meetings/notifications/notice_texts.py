"""The words of reminders and alerts, in Vietnamese and English (the recipient's ``User.locale``).

Like ``texts.py`` (the invitations'), kept out of the gettext catalogues: a notice is written
for its recipient, not for whoever caused it, and often by the job consumer with no request.
"""
from __future__ import annotations

import unicodedata

VI = {
    "greeting": "Kính gửi đồng chí {name},",
    "open": "Xem chi tiết",
    "footer": "Thư được gửi tự động từ hệ thống phòng họp không giấy; vui lòng không trả lời thư này. "
              "Đồng chí có thể tắt từng kênh thông báo trong mục Thông báo của ứng dụng.",
    "no_place": "(chưa xác định)",
    "time": "Thời gian",
    "place": "Địa điểm",
    "meeting": "Cuộc họp",
    "reminder.title": "Nhắc lịch họp: {title}",
    "reminder.body": "Cuộc họp “{title}” bắt đầu lúc {when} (còn {left}), tại {place}.",
    "confidential_document": "một tài liệu mật",
    "document.published.title": "Tài liệu mới: {document}",
    "document.published.body": "Cuộc họp “{meeting}” có tài liệu mới: “{document}”.",
    "document.replaced.title": "Tài liệu đã được cập nhật: {document}",
    "document.replaced.body": "Tài liệu “{document}” của cuộc họp “{meeting}” đã được thay bằng phiên bản {version}.",
    "minutes.ready.title": "Biên bản chờ ký: {meeting}",
    "minutes.ready.body.secretary": "Biên bản cuộc họp “{meeting}” (số {number}) đã hoàn thành; "
                                    "đề nghị đồng chí ký số với vai trò thư ký.",
    "minutes.ready.body.chair": "Biên bản cuộc họp “{meeting}” (số {number}) đã hoàn thành; sau khi thư ký ký, "
                                "đề nghị đồng chí ký số với vai trò chủ trì.",
    "poll.opened.title": "Đã mở biểu quyết: {title}",
    "poll.opened.body": "Cuộc họp “{meeting}” đang biểu quyết “{title}”.",
    "deadline.poll.title": "Sắp hết thời gian biểu quyết: {title}",
    "deadline.poll.body": "Biểu quyết “{title}” kết thúc lúc {when} (còn {left}); đồng chí chưa biểu quyết.",
    "units": {"day": "ngày", "hour": "giờ", "minute": "phút"},
}

EN = {
    "greeting": "Dear {name},",
    "open": "Open",
    "footer": "Sent automatically by the paperless meeting room; please do not reply to this e-mail. "
              "Each channel can be turned off under Notifications in the app.",
    "no_place": "(to be announced)",
    "time": "Time",
    "place": "Place",
    "meeting": "Meeting",
    "reminder.title": "Reminder: {title}",
    "reminder.body": "The meeting “{title}” starts at {when} (in {left}), in {place}.",
    "confidential_document": "a confidential document",
    "document.published.title": "New document: {document}",
    "document.published.body": "The meeting “{meeting}” has a new document: “{document}”.",
    "document.replaced.title": "Document updated: {document}",
    "document.replaced.body": "The document “{document}” of the meeting “{meeting}” was replaced by version {version}.",
    "minutes.ready.title": "Minutes to sign: {meeting}",
    "minutes.ready.body.secretary": "The minutes of “{meeting}” (no. {number}) are final; please sign them "
                                    "as the secretary.",
    "minutes.ready.body.chair": "The minutes of “{meeting}” (no. {number}) are final; once the secretary has "
                                "signed, please sign them as the chair.",
    "poll.opened.title": "Voting is open: {title}",
    "poll.opened.body": "The meeting “{meeting}” is voting on “{title}”.",
    "deadline.poll.title": "Voting closes soon: {title}",
    "deadline.poll.body": "Voting on “{title}” closes at {when} (in {left}); you have not voted yet.",
    "units": {"day": ("day", "days"), "hour": ("hour", "hours"), "minute": ("minute", "minutes")},
}

LANGUAGES = {"vi": VI, "en": EN}


def words(locale: str | None) -> dict:
    """The words for ``locale`` (Vietnamese unless it is English)."""
    return LANGUAGES.get(locale or "vi", VI)


def duration(minutes: int, locale: str | None) -> str:
    """A span the way people say it: "1 ngày", "1 giờ 30 phút", "2 hours", "5 minutes"."""
    units = words(locale)["units"]
    days, rest = divmod(max(int(minutes), 0), 1440)
    hours, mins = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour"), (mins, "minute")]
    shown = [(n, unit) for n, unit in parts if n] or [(0, "minute")]
    out = []
    for n, unit in shown[:2]:  # "1 day 2 hours", never down to the minute of a day-long span
        name = units[unit]
        out.append(f"{n} {name if isinstance(name, str) else name[n != 1]}")
    return " ".join(out)


def unaccented(text: str) -> str:
    """Vietnamese without its marks ("Nhắc lịch họp" → "Nhac lich hop"): one SMS holds 160 such
    characters but only 70 accented ones, and some brandname gateways take no Unicode at all."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))
