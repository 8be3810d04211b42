"""The words of invitations and of the reply page, in Vietnamese and English.

Chosen by the recipient's language (``User.locale``; Vietnamese when unset), not the
request's: the secretariat publishing in English still invites a Vietnamese delegate in
Vietnamese. Kept here rather than in the gettext catalogues because a message is built for
another user than the one asking.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

VI = {
    "subject.invitation": "Giấy mời họp: {title}",
    "subject.update": "Thay đổi thời gian, địa điểm họp: {title}",
    "subject.cancel": "Hủy giấy mời họp: {title}",
    "greeting": "Kính gửi đồng chí {name},",
    "intro.invitation": "{body} trân trọng kính mời đồng chí dự cuộc họp:",
    "intro.update": "Thời gian hoặc địa điểm cuộc họp đã thay đổi. Thông tin mới:",
    "intro.cancel.withdrawn": "Cuộc họp dưới đây đã được hủy, đồng chí không cần tham dự:",
    "intro.cancel.removed": "Đồng chí không còn trong thành phần tham dự cuộc họp dưới đây:",
    "title": "Cuộc họp",
    "time": "Thời gian",
    "place": "Địa điểm",
    "agenda": "Nội dung",
    "room": "Vào phòng họp",
    "reply": "Đề nghị đồng chí xác nhận tham dự",
    "reply.current": "Trả lời hiện tại của đồng chí",
    "reply.attend": "Tham dự",
    "reply.decline": "Không tham dự (nêu lý do)",
    "reply.proxy": "Ủy quyền cho người khác",
    "calendar": "Tệp lịch (.ics) kèm theo thư này có thể thêm vào lịch của đồng chí.",
    "footer": "Thư được gửi tự động từ hệ thống phòng họp không giấy; vui lòng không trả lời thư này.",
    "no_place": "(chưa xác định)",
    "replies": {"pending": "Chưa trả lời", "attend": "Tham dự", "decline": "Không tham dự",
                "proxy": "Ủy quyền"},
    "weekdays": ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"],
    "datetime": "{time}, {weekday} ngày {d:02d}/{m:02d}/{y} ({zone})",
    # The reply page.
    "page.title": "Trả lời giấy mời họp",
    "page.choose": "Đồng chí có tham dự cuộc họp này không?",
    "page.reason": "Lý do không tham dự",
    "page.holder": "Người nhận ủy quyền",
    "page.send": "Gửi trả lời",
    "page.thanks": "Đã ghi nhận trả lời của đồng chí: {reply}.",
    "page.closed": "Giấy mời này không còn hiệu lực.",
    "page.calendar_name": "Lịch họp của {name}",
    "proxy.reason": "Ủy quyền cho {name}",
}

EN = {
    "subject.invitation": "Invitation: {title}",
    "subject.update": "New time or place: {title}",
    "subject.cancel": "Invitation cancelled: {title}",
    "greeting": "Dear {name},",
    "intro.invitation": "{body} invites you to the meeting:",
    "intro.update": "The meeting's time or place has changed. The new details:",
    "intro.cancel.withdrawn": "The meeting below has been called off; you need not attend:",
    "intro.cancel.removed": "You are no longer among the participants of the meeting below:",
    "title": "Meeting",
    "time": "Time",
    "place": "Place",
    "agenda": "Agenda",
    "room": "Meeting room",
    "reply": "Please tell us whether you attend",
    "reply.current": "Your current answer",
    "reply.attend": "I attend",
    "reply.decline": "I cannot attend (give a reason)",
    "reply.proxy": "I give my proxy to someone",
    "calendar": "The calendar file (.ics) attached adds the meeting to your calendar.",
    "footer": "Sent automatically by the paperless meeting room; please do not reply to this e-mail.",
    "no_place": "(to be announced)",
    "replies": {"pending": "No answer yet", "attend": "Attending", "decline": "Not attending",
                "proxy": "Proxy given"},
    "weekdays": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "datetime": "{time}, {weekday} {d:02d}/{m:02d}/{y} ({zone})",
    "page.title": "Answer the invitation",
    "page.choose": "Will you attend this meeting?",
    "page.reason": "Why you cannot attend",
    "page.holder": "Proxy holder",
    "page.send": "Send my answer",
    "page.thanks": "Your answer was recorded: {reply}.",
    "page.closed": "This invitation is no longer valid.",
    "page.calendar_name": "Meetings of {name}",
    "proxy.reason": "Proxy to {name}",
}

LANGUAGES = {"vi": VI, "en": EN}


def words(locale: str | None) -> dict:
    """The words for ``locale`` (Vietnamese unless it is English)."""
    return LANGUAGES.get(locale or "vi", VI)


def local_time(value: datetime, locale: str | None, tz: str = "Asia/Ho_Chi_Minh") -> str:
    """A stored (UTC) time as the hall reads it: "08:00, Thứ Năm ngày 11/01/2027 (GMT+7)"."""
    w = words(locale)
    local = value.astimezone(ZoneInfo(tz))
    offset = local.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    hours, rest = divmod(abs(minutes), 60)
    zone = f"GMT{'-' if minutes < 0 else '+'}{hours}" + (f":{rest:02d}" if rest else "")
    return w["datetime"].format(time=local.strftime("%H:%M"), weekday=w["weekdays"][local.weekday()],
                                d=local.day, m=local.month, y=local.year, zone=zone)
