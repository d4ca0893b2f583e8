"""Decision rules: pure functions, no database. Integer arithmetic only, so results are deterministic.

Terms, per question:

- ``yes``, ``no``: votes whose option means yes / no.
- ``abstain``: abstentions plus "other opinion" answers (cast, but neither yes nor no).
- ``counted`` (the base of "votes cast"): ``yes + no``, plus ``abstain`` when the ballot says abstentions count.
- ``eligible``: the voters in the ballot's eligibility snapshot.

Rules (a tie never adopts):

- ``majority_cast``: adopted when ``2 * yes > counted``.
- ``majority_all``: adopted when ``2 * yes > eligible`` (abstentions and absences work as no).
- ``two_thirds``: adopted when ``3 * yes >= 2 * counted`` ("at least two thirds", no rounding: 6 of 9 adopts,
  5 of 8 does not since 15 < 16).
- ``unanimity``: adopted when ``yes >= 1`` and ``yes == counted`` (so no "no" vote; when abstentions count,
  no abstention either; when they do not, abstentions do not break unanimity).

Zero counted votes never adopt. The quorum is checked separately (``quorum_required``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ecabinet.voting.models import Meaning, VoteRule

ADOPTED = "adopted"
REJECTED = "rejected"
NO_QUORUM = "no_quorum"


@dataclass(frozen=True)
class Tally:
    yes: int = 0
    no: int = 0
    abstain: int = 0  # abstentions and "other opinion"

    @classmethod
    def of(cls, meanings: list[str]) -> Tally:
        yes = sum(1 for m in meanings if m == Meaning.YES)
        no = sum(1 for m in meanings if m == Meaning.NO)
        return cls(yes=yes, no=no, abstain=len(meanings) - yes - no)

    @property
    def cast(self) -> int:
        return self.yes + self.no + self.abstain


@dataclass(frozen=True)
class Decision:
    outcome: str      # adopted / rejected
    rule: str
    abstentions_count: bool
    counted: int      # the base the rule was applied to
    required: int     # the smallest number of yes votes that would have adopted
    yes: int
    no: int
    abstain: int
    eligible: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def counted(tally: Tally, abstentions_count: bool) -> int:
    return tally.yes + tally.no + (tally.abstain if abstentions_count else 0)


def required_yes(rule: VoteRule | str, base: int, eligible: int) -> int:
    """The smallest yes count that adopts (for display and the record)."""
    rule = VoteRule(rule)
    if rule is VoteRule.MAJORITY_ALL:
        return eligible // 2 + 1
    if rule is VoteRule.MAJORITY_CAST:
        return base // 2 + 1
    if rule is VoteRule.TWO_THIRDS:
        return max(1, -(-2 * base // 3))  # ceil(2/3 * base), integers only
    return max(1, base)  # unanimity


def decide(rule: VoteRule | str, tally: Tally, eligible: int, abstentions_count: bool) -> Decision:
    rule = VoteRule(rule)
    base = counted(tally, abstentions_count)
    if rule is VoteRule.MAJORITY_CAST:
        adopted = base > 0 and 2 * tally.yes > base
    elif rule is VoteRule.MAJORITY_ALL:
        adopted = eligible > 0 and 2 * tally.yes > eligible
    elif rule is VoteRule.TWO_THIRDS:
        adopted = base > 0 and 3 * tally.yes >= 2 * base
    else:
        adopted = tally.yes >= 1 and tally.yes == base
    return Decision(outcome=ADOPTED if adopted else REJECTED, rule=rule.value, abstentions_count=abstentions_count,
                    counted=base, required=required_yes(rule, base, eligible), yes=tally.yes, no=tally.no,
                    abstain=tally.abstain, eligible=eligible)


def quorum_required(eligible: int) -> int:
    """More than half of the eligible voters (at least one)."""
    return max(1, eligible // 2 + 1)
