"""Property-based tests (hypothesis) of the voting rules and the quorum rule.

meetings/voting/rules.py and meetings/bodies/rules.py (the quorum) are pure functions; these tests state what must hold
for *any* figures, not only the examples of tests/test_voting_rules.py and tests/test_quorum_rules.py:
the outcome is a function of the figures, more "for" votes never turn adopted into rejected, thresholds
and quorum are monotonic, exact fractions (ceil(members * num / den)), and the tie rule applies exactly
to ties.
"""
from __future__ import annotations

from fractions import Fraction
from math import ceil

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from meetings.bodies import rules as quorum_rules_module
from meetings.voting import rules

settings.register_profile("fuzz", max_examples=300, derandomize=True, deadline=None, database=None)
FUZZ = settings.get_profile("fuzz")

counts = st.integers(min_value=0, max_value=5_000)


@st.composite
def thresholds(draw) -> rules.Threshold:
    den = draw(st.integers(min_value=1, max_value=100))
    num = draw(st.integers(min_value=1, max_value=den))
    strict = draw(st.booleans()) if num < den else False
    return rules.Threshold(num, den, strict)


@st.composite
def quorum_rules(draw, allow_zero: bool = True) -> tuple[int, int]:
    den = draw(st.integers(min_value=1, max_value=100))
    num = draw(st.integers(min_value=0 if allow_zero else 1, max_value=den))
    return num, den


@st.composite
def fae_polls(draw) -> dict:
    """The arguments of decide() for a for/against/abstain poll with consistent figures."""
    votes_for, against, abstain = draw(counts), draw(counts), draw(counts)
    cast = votes_for + against + abstain
    present = cast + draw(st.integers(min_value=0, max_value=500))
    entitled = present + draw(st.integers(min_value=0, max_value=500))
    members = draw(st.integers(min_value=0, max_value=600))
    return {
        "kind": "for_against_abstain",
        "options": [{"id": 1, "label": "Tán thành", "role": "for", "count": votes_for},
                    {"id": 2, "label": "Không tán thành", "role": "against", "count": against},
                    {"id": 3, "label": "Không biểu quyết", "role": "abstain", "count": abstain}],
        "cast": cast, "present": present, "entitled": entitled,
        "members": members, "present_members": draw(st.integers(min_value=0, max_value=members)),
        "quorum_rule": draw(quorum_rules()),
        "base": draw(st.sampled_from(["cast", "present", "entitled"])),
        "threshold": draw(thresholds()),
        "tie_rule": draw(st.sampled_from(["chair", "reject"])),
        "chair_role": draw(st.sampled_from([None, "for", "against", "abstain"])),
    }


def _with_for(poll: dict, more: int) -> dict:
    """The same poll with ``more`` extra "for" ballots (cast, present and entitled grow with them)."""
    options = [dict(o, count=o["count"] + more) if o["role"] == "for" else dict(o) for o in poll["options"]]
    return {**poll, "options": options, "cast": poll["cast"] + more, "present": poll["present"] + more,
            "entitled": poll["entitled"] + more}


# ------------------------------------------------------------------ thresholds


@FUZZ
@given(base=counts, threshold=thresholds())
def test_required_votes_is_the_exact_smallest_count(base, threshold):
    need = rules.required_votes(base, threshold)
    share = Fraction(threshold.numerator, threshold.denominator) * base

    def satisfies(votes: int) -> bool:
        return votes > share if threshold.strict else votes >= share

    assert need >= 1
    assert satisfies(need)
    assert need == 1 or not satisfies(need - 1)


@FUZZ
@given(base=counts, more=st.integers(min_value=0, max_value=100), threshold=thresholds())
def test_required_votes_grows_with_the_base(base, more, threshold):
    assert rules.required_votes(base, threshold) <= rules.required_votes(base + more, threshold)


@FUZZ
@given(base=counts, a=thresholds(), b=thresholds())
def test_a_higher_threshold_never_needs_fewer_votes(base, a, b):
    fa, fb = Fraction(a.numerator, a.denominator), Fraction(b.numerator, b.denominator)
    assume(fa < fb or (fa == fb and b.strict and not a.strict))
    assert rules.required_votes(base, a) <= rules.required_votes(base, b)


@FUZZ
@given(den=st.integers(min_value=-5, max_value=100), num=st.integers(min_value=-5, max_value=110),
       strict=st.booleans())
def test_threshold_accepts_exactly_fractions_in_zero_one(den, num, strict):
    valid = den > 0 and 0 < num <= den and not (strict and num == den)
    if valid:
        rules.Threshold(num, den, strict)
    else:
        with pytest.raises(ValueError):
            rules.Threshold(num, den, strict)


# ------------------------------------------------------------------ quorum


@FUZZ
@given(members=counts, rule=quorum_rules())
def test_quorum_required_is_the_ceiling(members, rule):
    num, den = rule
    assert quorum_rules_module.required_for_quorum(members, num, den) == ceil(Fraction(members * num, den))


@FUZZ
@given(data=st.data(), members=counts, rule=quorum_rules())
def test_quorum_is_monotonic_in_presence(data, members, rule):
    present = data.draw(st.integers(min_value=0, max_value=members))
    more = data.draw(st.integers(min_value=present, max_value=members))
    q, q_more = quorum_rules_module.quorum(members, present, rule), quorum_rules_module.quorum(members, more, rule)
    required = ceil(Fraction(members * rule[0], rule[1]))
    assert q["met"] == (present >= required and (members > 0 or rule[0] == 0))
    assert not q["met"] or q_more["met"]


@FUZZ
@given(members=st.integers(min_value=-50, max_value=50), present=st.integers(min_value=-50, max_value=60),
       num=st.integers(min_value=-3, max_value=12), den=st.integers(min_value=-3, max_value=12))
def test_bad_quorum_figures_raise_value_error_only(members, present, num, den):
    try:
        q = quorum_rules_module.quorum(members, present, (num, den))
    except ValueError:
        return
    assert isinstance(q["met"], bool)


# ------------------------------------------------------------------ outcome


@FUZZ
@given(poll=fae_polls())
def test_outcome_is_a_function_of_the_figures(poll):
    first = rules.decide(**poll)
    reordered = {**poll, "options": list(reversed(poll["options"]))}
    second = rules.decide(**reordered)
    assert first["outcome"] == second["outcome"] == rules.decide(**poll)["outcome"]
    assert first["required"] == rules.required_votes(first["base_count"], poll["threshold"])
    assert first["outcome"] in ("adopted", "rejected", "no_quorum")
    assert (first["outcome"] == "no_quorum") == (not first["quorum"]["met"])


@FUZZ
@given(poll=fae_polls(), more=st.integers(min_value=1, max_value=50))
@example(poll={"kind": "for_against_abstain",
               "options": [{"id": 1, "label": "for", "role": "for", "count": 2},
                           {"id": 2, "label": "against", "role": "against", "count": 2},
                           {"id": 3, "label": "abstain", "role": "abstain", "count": 0}],
               "cast": 4, "present": 4, "entitled": 4, "members": 4, "present_members": 4,
               "quorum_rule": (1, 2), "base": "cast", "threshold": rules.MORE_THAN_HALF,
               "tie_rule": "chair", "chair_role": "for"}, more=1)
def test_another_for_vote_never_turns_adopted_into_rejected(poll, more):
    before = rules.decide(**poll)["outcome"]
    after = rules.decide(**_with_for(poll, more))["outcome"]
    assume(before != "no_quorum")  # extra ballots do not change the head count of the quorum
    if before == "adopted":
        assert after == "adopted"


@FUZZ
@given(poll=fae_polls())
def test_tie_rule_applies_exactly_to_ties(poll):
    result = rules.decide(**poll)
    by_role = {o["role"]: o["count"] for o in poll["options"]}
    votes_for, against = by_role["for"], by_role["against"]
    is_tie = (votes_for < result["required"] and votes_for == against and votes_for > 0
              and poll["threshold"] == rules.MORE_THAN_HALF and 2 * votes_for == result["base_count"])
    assert result["tie"] == is_tie
    if not result["quorum"]["met"]:
        assert result["outcome"] == "no_quorum" and not result["tie_break_used"]
        return
    if is_tie and poll["tie_rule"] == "chair" and poll["chair_role"] in ("for", "against"):
        assert result["tie_break_used"]
        assert result["outcome"] == ("adopted" if poll["chair_role"] == "for" else "rejected")
    else:
        assert not result["tie_break_used"]
        assert result["outcome"] == ("adopted" if votes_for >= result["required"] else "rejected")


@FUZZ
@given(poll=fae_polls())
def test_against_and_abstain_never_pass(poll):
    for option in rules.decide(**poll)["options"]:
        if option["role"] in ("against", "abstain"):
            assert option["passed"] is False


@FUZZ
@given(data=st.data(), threshold=thresholds())
def test_choice_polls_pass_the_options_reaching_the_threshold(data, threshold):
    n = data.draw(st.integers(min_value=2, max_value=8))
    options = [{"id": i, "label": f"Ứng viên {i}", "role": None, "count": data.draw(counts)} for i in range(n)]
    cast = sum(o["count"] for o in options)
    result = rules.decide(kind="multiple", options=options, cast=cast, present=cast, entitled=cast,
                          members=10, present_members=10, quorum_rule=(0, 1), base="cast",
                          threshold=threshold, tie_rule="reject")
    need = rules.required_votes(cast, threshold)
    assert [o["passed"] for o in result["options"]] == [o["count"] >= need for o in options]
    assert result["outcome"] == ("adopted" if any(o["count"] >= need for o in options) else "rejected")
