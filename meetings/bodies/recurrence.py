"""When the next regular sitting falls, and what it is called: pure functions, no database, no clock.

A body's regular sitting ("Phiên họp thường kỳ tháng 1/2027") is held every month
by a rule of its template:

- ``weekday_of_month``: the same weekday in the same week of the month as the
  template's sitting ("the second Tuesday"); week 5 means the last one;
- ``last_weekday_of_month``: the last such weekday of the month;
- ``day_of_month``: the same day of the month, the month's last day when it is
  shorter (the 31st becomes the 30th, or February's 28th/29th).

Times are local (the hall's time zone); the caller converts to UTC.
"""
from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import date, datetime, time

DATE_RULES = ("weekday_of_month", "last_weekday_of_month", "day_of_month")
DEFAULT_TITLE_PATTERN = "Phiên họp thường kỳ tháng {month}/{year}"


def month_after(year: int, month: int, months: int = 1) -> tuple[int, int]:
    """The (year, month) ``months`` after (year, month): December 2026 + 1 is January 2027."""
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def anchor_of(day: date) -> dict[str, int]:
    """The parts of a date that the rules repeat: day of month, weekday (Monday 0), week of month (1-5)."""
    return {"day": day.day, "weekday": day.weekday(), "week": (day.day - 1) // 7 + 1}


def sitting_date(rule: str, year: int, month: int, *, day: int, weekday: int, week: int) -> date:
    """The date of the sitting in (year, month) under ``rule`` (see the module's docstring)."""
    if rule not in DATE_RULES:
        raise ValueError(f"unknown date rule {rule!r}")
    last_day = calendar.monthrange(year, month)[1]
    if rule == "day_of_month":
        return date(year, month, min(max(day, 1), last_day))
    if not 0 <= weekday <= 6:
        raise ValueError("weekday must be 0 (Monday) to 6 (Sunday)")
    first = date(year, month, 1)
    first_match = 1 + (weekday - first.weekday()) % 7
    matches = list(range(first_match, last_day + 1, 7))  # 4 or 5 of each weekday in any month
    if rule == "last_weekday_of_month" or week >= 5:
        # "the 5th Tuesday" exists in some months only: it means the month's last Tuesday.
        return date(year, month, matches[-1])
    return date(year, month, matches[max(week, 1) - 1])


def next_sitting(rule: str, anchor: dict[str, int], start: time, *, last: tuple[int, int] | None,
                 now_local: datetime) -> tuple[int, int, datetime]:
    """(year, month, local start) of the next regular sitting.

    The month after the last one held (or, with none, the month after today), moved on a month at a
    time while that date is not after ``now_local``: a sitting is never created in the past.
    """
    year, month = month_after(*(last or (now_local.year, now_local.month)))
    # Bounded: a last sitting decades ago still lands here within a lifetime of months, never forever.
    for _ in range(12 * 200):
        when = datetime.combine(sitting_date(rule, year, month, **anchor), start)
        if when > now_local.replace(tzinfo=None):
            return year, month, when
        year, month = month_after(year, month)
    raise ValueError("no sitting date ahead")


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def regular_title(pattern: str, year: int, month: int) -> str:
    """The sitting's title: ``pattern`` with {month} and {year} filled ("… tháng 1/2027")."""
    return pattern.replace("{month}", str(month)).replace("{year}", str(year))


def check_pattern(pattern: str) -> None:
    """A title pattern must name the month and the year (ValueError otherwise)."""
    if "{month}" not in pattern or "{year}" not in pattern:
        raise ValueError("The title pattern must contain {month} and {year}.")


def month_in_title(pattern: str, title: str) -> tuple[int, int] | None:
    """The (year, month) a title made from ``pattern`` names, or None when it does not match.

    Case, spacing and Unicode composition do not matter ("PHIÊN HỌP THƯỜNG KỲ THÁNG 12/2026" counts),
    so sittings named by hand before the template existed are found too.
    """
    parts = re.split(r"(\{month\}|\{year\})", _norm(pattern))
    regex = "".join(r"(?P<month>\d{1,2})" if p == "{month}" else r"(?P<year>\d{4})" if p == "{year}"
                    else r"\s+".join(re.escape(w) for w in p.split(" ")) for p in parts)
    found = re.fullmatch(regex, _norm(title))
    if not found:
        return None
    month, year = int(found["month"]), int(found["year"])
    return (year, month) if 1 <= month <= 12 else None
