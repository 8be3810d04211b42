"""Majority base, threshold and tie rule as pure functions (the quorum is meetings/bodies/rules.py).

No database and no clock: every figure comes in as an argument and the
answer carries every figure it used, so the stored outcome can be checked by
hand. All arithmetic is on integers (2/3 of 30 is exactly 20).

Definitions (also in docs/realtime.md, "Voting"):

- quorum: at least ``num/den`` of the voting members (head count) present;
  a rule of 0/x means "no quorum needed";
- base ``cast``: the weight of ballots cast, abstentions excluded;
  ``present``: the weight of the voting members present (whoever voted is
  present); ``entitled``: the weight of every voting member;
- threshold: "more than" (strict) or "at least" ``num/den`` of the base; the
  required number of votes is never below 1;
- tie (for/against/abstain polls only): for = against and the for-votes are
  exactly half the base, under a strict 1/2 threshold. The tie rule ``chair``
  then follows the side the chair voted with; ``reject`` (or a chair who did
  not vote for or against) rejects.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meetings.bodies.rules import quorum


@dataclass(frozen=True)
class Threshold:
    numerator: int
    denominator: int
    strict: bool  # True: more than the fraction; False: at least it

    def __post_init__(self) -> None:
        if self.denominator <= 0 or self.numerator <= 0 or self.numerator > self.denominator:
            raise ValueError("a threshold is a fraction in (0, 1]")
        if self.strict and self.numerator == self.denominator:
            raise ValueError("more than the whole base can never be reached")

    def label(self) -> str:
        return f"{'more than' if self.strict else 'at least'} {self.numerator}/{self.denominator}"


MORE_THAN_HALF = Threshold(1, 2, True)
TWO_THIRDS = Threshold(2, 3, False)
THREE_QUARTERS = Threshold(3, 4, False)


def required_votes(base_count: int, threshold: Threshold) -> int:
    """The smallest vote count that satisfies ``threshold`` of ``base_count`` (at least 1)."""
    if base_count < 0:
        raise ValueError("the base cannot be negative")
    scaled = base_count * threshold.numerator
    if threshold.strict:
        need = scaled // threshold.denominator + 1
    else:
        need = -(-scaled // threshold.denominator)
    return max(need, 1)


def base_count(base: str, *, cast: int, abstained: int, present: int, entitled: int) -> int:
    """The majority base: votes cast without abstentions, members present, or all entitled."""
    if base == "cast":
        return cast - abstained
    if base == "present":
        return present
    if base == "entitled":
        return entitled
    raise ValueError(f"unknown majority base {base!r}")


def decide(
    *,
    kind: str,
    options: list[dict[str, Any]],
    cast: int,
    present: int,
    entitled: int,
    members: int,
    present_members: int,
    quorum_rule: tuple[int, int],
    base: str,
    threshold: Threshold,
    tie_rule: str,
    chair_role: str | None = None,
) -> dict[str, Any]:
    """The outcome of a closed poll and every figure it was computed from.

    ``options``: ``[{"id", "label", "role", "count"}]`` (weighted counts; role is
    for/against/abstain on a for_against_abstain poll). ``cast``/``present``/
    ``entitled`` are weights; ``members``/``present_members`` head counts for
    the quorum. ``chair_role`` is the role of the option the chair chose on a
    named for/against/abstain poll (None when unknown or secret).
    """
    if tie_rule not in ("chair", "reject"):
        raise ValueError(f"unknown tie rule {tie_rule!r}")
    by_role = {o.get("role"): o["count"] for o in options if o.get("role")}
    abstained = by_role.get("abstain", 0)
    q = quorum(members, present_members, quorum_rule)
    base_n = base_count(base, cast=cast, abstained=abstained, present=present, entitled=entitled)
    need = required_votes(base_n, threshold)
    out_options = [{**o, "passed": o["count"] >= need and o.get("role") not in ("against", "abstain")}
                   for o in options]
    tie = tie_break_used = False
    if kind == "for_against_abstain":
        votes_for, votes_against = by_role.get("for", 0), by_role.get("against", 0)
        adopted = votes_for >= need
        tie = (not adopted and votes_for == votes_against and votes_for > 0
               and threshold == MORE_THAN_HALF and votes_for * 2 == base_n)
        if tie and tie_rule == "chair" and chair_role in ("for", "against"):
            tie_break_used = True
            adopted = chair_role == "for"
        for o in out_options:
            if o.get("role") == "for":
                o["passed"] = adopted
    else:
        adopted = any(o["passed"] for o in out_options)
    tie_break_used = tie_break_used and q["met"]
    outcome = ("adopted" if adopted else "rejected") if q["met"] else "no_quorum"
    return {
        "outcome": outcome,
        "quorum": q,
        "base": base,
        "base_count": base_n,
        "threshold": threshold.label(),
        "threshold_rule": [threshold.numerator, threshold.denominator, threshold.strict],
        "required": need,
        "options": out_options,
        "cast": cast,
        "abstained": abstained,
        "present": present,
        "entitled": entitled,
        "tie": tie,
        "tie_rule": tie_rule,
        "tie_break_used": tie_break_used,
    }
