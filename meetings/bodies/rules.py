"""The quorum of a meeting or a poll, as one pure function: no database, no clock.

The hall screen (the live roll call) and every poll ask this same function, so
they can never disagree about whether the meeting may decide.
"""
from __future__ import annotations

from typing import Any


def required_for_quorum(members: int, numerator: int, denominator: int) -> int:
    """The smallest head count that is *at least* numerator/denominator of ``members``.

    Integer arithmetic (a ceiling division) so 2/3 of 30 is exactly 20, never 19.999….
    A rule of 0/den requires nobody (a poll that needs no quorum).
    """
    if members < 0:
        raise ValueError("members cannot be negative")
    if denominator <= 0 or numerator < 0 or numerator > denominator:
        raise ValueError("the quorum rule must be a fraction in [0, 1]")
    return -(-members * numerator // denominator)


def quorum(members: int, present: int, rule: tuple[int, int]) -> dict[str, Any]:
    """Quorum figures for ``present`` of ``members`` under ``rule`` = (num, den).

    A meeting with no members has no quorum (nobody could decide anything),
    unless the rule is 0/den, which asks for no quorum at all. Bodies and
    meetings refuse a 0/den rule when it is set (meetings.bodies.checks); only
    a poll may waive its quorum.
    """
    if present < 0 or present > members:
        raise ValueError("present must be between 0 and members")
    numerator, denominator = rule
    required = required_for_quorum(members, numerator, denominator)
    return {
        "members": members,
        "present": present,
        "required": required,
        "met": present >= required and (members > 0 or numerator == 0),
        "rule": [numerator, denominator],
    }
