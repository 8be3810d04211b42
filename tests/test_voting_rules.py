"""The voting rules as pure functions: quorum, majority base, threshold, ties, abstentions."""
from __future__ import annotations

import pytest

from meetings.voting.rules import (
    MORE_THAN_HALF,
    THREE_QUARTERS,
    TWO_THIRDS,
    Threshold,
    base_count,
    decide,
    required_votes,
)


def fa(for_=0, against=0, abstain=0, *, present=None, entitled=10, members=None, present_members=None,
       base="cast", threshold=MORE_THAN_HALF, tie_rule="reject", chair_role=None, quorum_rule=(2, 3)):
    """decide() for a for/against/abstain poll with unit weights."""
    cast = for_ + against + abstain
    present = cast if present is None else present
    return decide(
        kind="for_against_abstain",
        options=[{"id": 1, "label": "Tán thành", "role": "for", "count": for_},
                 {"id": 2, "label": "Không tán thành", "role": "against", "count": against},
                 {"id": 3, "label": "Không biểu quyết", "role": "abstain", "count": abstain}],
        cast=cast, present=present, entitled=entitled, members=entitled if members is None else members,
        present_members=present if present_members is None else present_members, quorum_rule=quorum_rule,
        base=base, threshold=threshold, tie_rule=tie_rule, chair_role=chair_role,
    )


@pytest.mark.parametrize("base, threshold, expected", [
    (10, MORE_THAN_HALF, 6), (9, MORE_THAN_HALF, 5), (1, MORE_THAN_HALF, 1), (0, MORE_THAN_HALF, 1),
    (30, TWO_THIRDS, 20), (31, TWO_THIRDS, 21), (3, TWO_THIRDS, 2),
    (20, THREE_QUARTERS, 15), (21, THREE_QUARTERS, 16),
    (10, Threshold(1, 2, False), 5), (10, Threshold(3, 5, True), 7), (10, Threshold(3, 5, False), 6),
    (0, TWO_THIRDS, 1),
])
def test_required_votes(base, threshold, expected):
    assert required_votes(base, threshold) == expected


@pytest.mark.parametrize("bad", [(0, 2, True), (3, 2, False), (1, 0, False), (1, 1, True), (-1, 2, False)])
def test_threshold_refuses_impossible_fractions(bad):
    with pytest.raises(ValueError):
        Threshold(*bad)


def test_threshold_labels():
    assert MORE_THAN_HALF.label() == "more than 1/2"
    assert TWO_THIRDS.label() == "at least 2/3"
    assert THREE_QUARTERS.label() == "at least 3/4"


def test_no_quorum_wins_over_everything():
    r = fa(9, 0, 0, present=6, entitled=10, quorum_rule=(2, 3))
    assert r["outcome"] == "no_quorum" and r["quorum"]["required"] == 7 and not r["quorum"]["met"]
    assert fa(9, 0, 0, present=7, entitled=10)["outcome"] == "adopted"


# Abstentions under each base: 10 entitled, 8 present, 4 for, 2 against, 2 abstain.
@pytest.mark.parametrize("base, base_n, required, outcome", [
    ("cast", 6, 4, "adopted"),       # abstentions are not votes cast: 4 of 6 is more than half
    ("present", 8, 5, "rejected"),   # abstaining present members count in the base: 4 of 8 is not more than half
    ("entitled", 10, 6, "rejected"),  # the People's Committee rule: more than half of all members
])
def test_abstentions_under_each_base(base, base_n, required, outcome):
    r = fa(4, 2, 2, present=8, entitled=10, base=base)
    assert (r["base_count"], r["required"], r["outcome"], r["abstained"]) == (base_n, required, outcome, 2)
    assert r["base"] == base and r["threshold"] == "more than 1/2"


def test_base_count_refuses_unknown_base():
    with pytest.raises(ValueError):
        base_count("everyone", cast=1, abstained=0, present=1, entitled=1)


@pytest.mark.parametrize("threshold, for_, outcome", [
    (TWO_THIRDS, 20, "adopted"), (TWO_THIRDS, 19, "rejected"),
    (THREE_QUARTERS, 23, "adopted"), (THREE_QUARTERS, 22, "rejected"),
    (Threshold(3, 5, True), 19, "adopted"), (Threshold(3, 5, True), 18, "rejected"),
])
def test_qualified_majorities_of_all_members(threshold, for_, outcome):
    r = fa(for_, 30 - for_, 0, entitled=30, base="entitled", threshold=threshold)
    assert r["outcome"] == outcome


def test_tie_rejected_without_chair_rule():
    r = fa(5, 5, 0, entitled=10, base="entitled", tie_rule="reject", chair_role="for")
    assert r["tie"] and r["outcome"] == "rejected" and not r["tie_break_used"]


@pytest.mark.parametrize("chair_role, outcome, used", [
    ("for", "adopted", True), ("against", "rejected", True), ("abstain", "rejected", False), (None, "rejected", False),
])
def test_tie_broken_by_the_chairs_side(chair_role, outcome, used):
    r = fa(5, 5, 0, entitled=10, base="entitled", tie_rule="chair", chair_role=chair_role)
    assert r["tie"] and r["outcome"] == outcome and r["tie_break_used"] is used


def test_tie_on_votes_cast_with_abstentions():
    r = fa(3, 3, 2, entitled=8, base="cast", tie_rule="chair", chair_role="for")
    assert r["tie"] and r["base_count"] == 6 and r["outcome"] == "adopted" and r["tie_break_used"]


def test_equal_votes_that_are_not_half_the_base_are_no_tie():
    # 4 for, 4 against of 10 members: nobody reached half of all members, the chair cannot save it.
    r = fa(4, 4, 0, present=8, entitled=10, base="entitled", tie_rule="chair", chair_role="for")
    assert not r["tie"] and r["outcome"] == "rejected" and not r["tie_break_used"]
    # A two-thirds vote split in half is simply lost: ties only matter at the simple majority.
    r = fa(5, 5, 0, entitled=10, base="entitled", threshold=TWO_THIRDS, tie_rule="chair", chair_role="for")
    assert not r["tie"] and r["outcome"] == "rejected"


def test_no_tie_break_without_quorum():
    r = fa(2, 2, 0, present=4, entitled=10, base="cast", tie_rule="chair", chair_role="for")
    assert r["outcome"] == "no_quorum" and not r["tie_break_used"]


def test_zero_votes_never_adopt():
    assert fa(0, 0, 7, present=7, entitled=7, base="cast")["outcome"] == "rejected"
    assert fa(0, 0, 0, present=7, entitled=7, quorum_rule=(0, 1))["outcome"] == "rejected"


def test_election_each_candidate_against_the_threshold():
    r = decide(kind="multiple", options=[{"id": i, "label": f"Ứng viên {i}", "role": None, "count": c}
                                         for i, c in ((1, 6), (2, 5), (3, 2))],
               cast=10, present=10, entitled=12, members=12, present_members=10, quorum_rule=(2, 3),
               base="cast", threshold=MORE_THAN_HALF, tie_rule="reject")
    assert r["required"] == 6 and [o["passed"] for o in r["options"]] == [True, False, False]
    assert r["outcome"] == "adopted"


def test_weighted_figures_are_used_as_given():
    r = fa(30, 25, 0, present=55, entitled=60, members=3, present_members=3, base="entitled")
    assert r["base_count"] == 60 and r["required"] == 31 and r["outcome"] == "rejected"
    r = fa(31, 24, 0, present=55, entitled=60, members=3, present_members=3, base="entitled")
    assert r["outcome"] == "adopted"
