"""Quorum as a pure function: no database, no clock, easy to test."""
from __future__ import annotations

from typing import Any


def required_for_quorum(members: int, numerator: int, denominator: int) -> int:
    """The smallest head count that is *at least* numerator/denominator of ``members``.

    Integer arithmetic (a ceiling division) so 2/3 of 30 is exactly 20, never 19.999….
    """
    if members < 0:
        raise ValueError("members cannot be negative")
    if denominator <= 0 or numerator <= 0 or numerator > denominator:
        raise ValueError("the quorum rule must be a fraction in (0, 1]")
    return -(-members * numerator // denominator)


def quorum(members: int, present: int, rule: tuple[int, int]) -> dict[str, Any]:
    """Quorum figures for ``present`` of ``members`` under ``rule`` = (num, den).

    A meeting with no members has no quorum: nobody could decide anything.
    """
    if present < 0 or present > members:
        raise ValueError("present must be between 0 and members")
    numerator, denominator = rule
    required = required_for_quorum(members, numerator, denominator)
    return {
        "members": members,
        "present": present,
        "required": required,
        "met": members > 0 and present >= required,
        "rule": [numerator, denominator],
    }
