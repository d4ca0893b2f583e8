"""The decision rules, as pure functions: ties, zero votes, abstentions, bases, rounding, unanimity."""

from __future__ import annotations

import pytest

from ecabinet.voting.rules import ADOPTED, REJECTED, Tally, decide, quorum_required, required_yes


def outcome(rule, yes, no, abstain=0, eligible=25, abstentions_count=False):
    return decide(rule, Tally(yes, no, abstain), eligible, abstentions_count).outcome


def test_majority_cast_simple():
    assert outcome("majority_cast", 13, 12) == ADOPTED


def test_majority_cast_tie_rejects():
    assert outcome("majority_cast", 10, 10) == REJECTED


def test_majority_cast_zero_votes_rejects():
    assert outcome("majority_cast", 0, 0) == REJECTED


def test_majority_cast_abstentions_not_counted():
    assert outcome("majority_cast", 5, 4, abstain=10) == ADOPTED


def test_majority_cast_abstentions_counted_work_as_no():
    assert outcome("majority_cast", 5, 4, abstain=10, abstentions_count=True) == REJECTED


def test_majority_all_needs_more_than_half_of_eligible():
    assert outcome("majority_all", 12, 0, eligible=25) == REJECTED
    assert outcome("majority_all", 13, 0, eligible=25) == ADOPTED


def test_majority_all_even_eligible_tie_rejects():
    assert outcome("majority_all", 12, 0, eligible=24) == REJECTED


def test_majority_all_ignores_abstention_setting():
    assert outcome("majority_all", 13, 2, abstain=5, eligible=25, abstentions_count=True) == ADOPTED


@pytest.mark.parametrize(("yes", "no", "expected"), [(6, 3, ADOPTED), (5, 3, REJECTED), (2, 1, ADOPTED),
                                                      (17, 8, ADOPTED), (16, 9, REJECTED), (1, 0, ADOPTED)])
def test_two_thirds_at_least_two_thirds_no_rounding(yes, no, expected):
    assert outcome("two_thirds", yes, no) == expected


def test_two_thirds_required_is_ceiling():
    assert required_yes("two_thirds", 25, 25) == 17
    assert required_yes("two_thirds", 9, 9) == 6


def test_two_thirds_zero_votes_rejects():
    assert outcome("two_thirds", 0, 0) == REJECTED


def test_two_thirds_abstentions_counted():
    assert outcome("two_thirds", 6, 0, abstain=4, abstentions_count=True) == REJECTED
    assert outcome("two_thirds", 6, 0, abstain=4) == ADOPTED


def test_unanimity_any_no_rejects():
    assert outcome("unanimity", 24, 1) == REJECTED


def test_unanimity_abstentions_ignored_when_not_counted():
    assert outcome("unanimity", 20, 0, abstain=5) == ADOPTED


def test_unanimity_abstention_breaks_it_when_counted():
    assert outcome("unanimity", 20, 0, abstain=1, abstentions_count=True) == REJECTED


def test_unanimity_only_abstentions_rejects():
    assert outcome("unanimity", 0, 0, abstain=3) == REJECTED


def test_decision_records_rule_and_base():
    d = decide("majority_cast", Tally(3, 1, 2), 10, True)
    assert (d.rule, d.counted, d.required, d.abstentions_count) == ("majority_cast", 6, 4, True)


def test_tally_of_meanings_counts_other_as_abstain():
    assert Tally.of(["yes", "no", "abstain", "other", "yes"]) == Tally(2, 1, 2)


def test_quorum_more_than_half():
    assert [quorum_required(n) for n in (1, 2, 3, 4, 25)] == [1, 2, 2, 3, 13]
