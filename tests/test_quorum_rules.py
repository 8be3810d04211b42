"""Quorum as one pure function, asked by the hall screen and by every poll."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meetings.bodies.rules import quorum, required_for_quorum
from meetings.voting import rules as voting_rules


@pytest.mark.parametrize(("members", "rule", "required"), [
    (30, (2, 3), 20),   # exactly two thirds
    (31, (2, 3), 21),   # 20.67 rounds up: "at least two thirds"
    (10, (1, 2), 5),
    (9, (1, 2), 5),
    (7, (3, 4), 6),
    (1, (2, 3), 1),
    (0, (2, 3), 0),
    (12, (1, 1), 12),
])
def test_required_is_the_ceiling_of_the_fraction(members, rule, required):
    assert required_for_quorum(members, *rule) == required


def test_quorum_figures_and_boundary():
    assert quorum(30, 20, (2, 3)) == {"members": 30, "present": 20, "required": 20, "met": True, "rule": [2, 3]}
    assert quorum(30, 19, (2, 3))["met"] is False
    assert quorum(31, 20, (2, 3))["met"] is False
    assert quorum(31, 21, (2, 3))["met"] is True


def test_no_members_means_no_quorum():
    assert quorum(0, 0, (2, 3))["met"] is False


@pytest.mark.parametrize("rule", [(4, 3), (2, 0), (-1, 2), (1, -2), (3, 2), (1, 0), (-1, 3)])
def test_bad_rules_are_refused(rule):
    with pytest.raises(ValueError):
        quorum(10, 5, rule)


@pytest.mark.parametrize(("members", "present"), [(10, 11), (10, -1), (-1, 0)])
def test_impossible_counts_are_refused(members, present):
    with pytest.raises(ValueError):
        quorum(members, present, (2, 3))


@given(st.integers(0, 5000), st.integers(1, 50), st.integers(1, 50), st.data())
def test_met_exactly_when_present_share_reaches_the_rule(members, a, b, data):
    num, den = min(a, b), max(a, b)
    present = data.draw(st.integers(0, members))
    q = quorum(members, present, (num, den))
    # Cross-multiplied, no division: present/members >= num/den.
    assert q["met"] == (members > 0 and present * den >= members * num)
    assert q["required"] * den >= members * num > (q["required"] - 1) * den or members == 0


def test_a_zero_rule_waives_the_quorum():
    """Only a poll may carry 0/den (bodies and meetings refuse it): nobody is required."""
    assert quorum(10, 0, (0, 1)) == {"members": 10, "present": 0, "required": 0, "met": True, "rule": [0, 1]}
    assert quorum(0, 0, (0, 3))["met"] is True
    assert quorum(0, 0, (2, 3))["met"] is False


@pytest.mark.parametrize("members, present, rule, met, required", [
    (30, 20, (2, 3), True, 20), (30, 19, (2, 3), False, 20), (31, 21, (2, 3), True, 21),
    (31, 20, (2, 3), False, 21), (10, 6, (1, 2), True, 5), (10, 0, (0, 1), True, 0), (0, 0, (2, 3), False, 0),
])
def test_quorum_table(members, present, rule, met, required):
    q = quorum(members, present, rule)
    assert q["met"] is met and q["required"] == required and q["rule"] == list(rule)


def test_polls_and_the_hall_ask_the_same_rule():
    """There is one quorum rule: the voting rules use it, they do not keep their own."""
    assert voting_rules.quorum is quorum
