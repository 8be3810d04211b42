"""A synthetic meeting record of any size, for the minutes benchmark and tests."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from meetings.minutes.record import (
    Attendee,
    DocumentRef,
    ItemRecord,
    MinutesRecord,
    NamedVote,
    PollOption,
    PollResult,
    Speech,
)

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Ngọc", "Quang", "Thu", "Minh"]
GIVEN = ["Anh", "Bình", "Cường", "Dũng", "Giang", "Hà", "Hùng", "Hương", "Khải", "Lâm", "Mỹ", "Nghĩa",
         "Phượng", "Quý", "Sơn", "Thắng", "Tuấn", "Uyên", "Việt", "Yến"]


def name(i: int) -> str:
    return f"{SURNAMES[i % 12]} {MIDDLE[(i // 12) % 8]} {GIVEN[(i // 96) % 20]} {i + 1}"


def big_record(attendees: int = 500, items: int = 60, polls: int = 40, language: str = "vi") -> MinutesRecord:
    start = datetime(2026, 12, 15, 1, 0, tzinfo=UTC)
    statuses = ["present"] * 8 + ["remote", "excused"]
    people = [Attendee(full_name=name(i), role="chair" if i == 0 else "secretary" if i == 1 else "delegate",
                       status=statuses[i % 10], reason="Đi công tác" if statuses[i % 10] == "excused" else None,
                       arrived_at=start + timedelta(minutes=i % 30) if statuses[i % 10] != "excused" else None)
              for i in range(attendees)]
    voters = [a for a in people if a.status in ("present", "remote")]
    item_list = []
    for k in range(items):
        it = ItemRecord(number=str(k + 1), title=f"Tờ trình về việc phê duyệt dự án đầu tư công số {k + 1}",
                        presenter=name(k + 2),
                        documents=[DocumentRef(f"Dự thảo Nghị quyết số {k + 1}", 2, 12)],
                        speeches=[Speech(name(k * 3 + j), "speech", "for", start + timedelta(minutes=k * 5 + j), 180)
                                  for j in range(3)],
                        conclusion="Hội nghị thống nhất thông qua nội dung; giao Văn phòng hoàn thiện hồ sơ.")
        item_list.append(it)
    for p in range(polls):
        n = len(voters)
        counts = [int(n * 0.7), int(n * 0.2), n - int(n * 0.7) - int(n * 0.2)]
        labels = ["Tán thành", "Không tán thành", "Không biểu quyết"]
        named = [NamedVote(v.full_name, [labels[0 if j < counts[0] else 1 if j < counts[0] + counts[1] else 2]])
                 for j, v in enumerate(voters)]
        item_list[p % items].polls.append(PollResult(
            title=f"Thông qua Nghị quyết số {p + 1}", secret=False,
            options=[PollOption(label, c) for label, c in zip(labels, counts, strict=True)],
            entitled=attendees, present=n, cast=n, base="entitled", base_count=attendees, threshold="1/2",
            threshold_strict=True, required=attendees // 2 + 1, outcome="adopted",
            closed_at=start + timedelta(hours=1), named_votes=named))
    return MinutesRecord(
        body_name="Ủy ban nhân dân tỉnh Thử Nghiệm", parent_name=None, short_name="UBND",
        meeting_title="Phiên họp thường kỳ tháng 12 năm 2026", starts_at=start,
        ends_at=start + timedelta(hours=8), place="Phòng họp số 1, trụ sở Ủy ban", chair=name(0), secretary=name(1),
        attendees=people, items=item_list, place_name="Thử Nghiệm", number="12/BB-UBND", language=language,
        copies=2)
