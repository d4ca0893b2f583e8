"""The voting domain's part of the member's home: the ballots waiting for their vote, listed on their own
and counted on their meeting's card."""

from __future__ import annotations

from collections import Counter

from ecabinet.accounts.models import User
from ecabinet.meetings.hooks import HomeSection, home_sections
from ecabinet.meetings.models import Meeting
from ecabinet.voting import policy
from ecabinet.voting.service import ballots_to_count, pending_ballots_for


@home_sections.register("pending_ballots")
def pending_ballots(user: User, meetings: list[Meeting]) -> HomeSection:
    pending = pending_ballots_for(user)
    per_meeting = Counter(ballot.meeting_id for ballot in pending if ballot.meeting_id is not None)
    return HomeSection(per_meeting=dict(per_meeting), entries=pending)


@home_sections.register("ballots_to_count")
def ballots_to_open(user: User, meetings: list[Meeting]) -> HomeSection:
    """Secret ballots whose next seal layer this key holder may open (docs/voting.md)."""
    return HomeSection(entries=[b for b in ballots_to_count() if policy.may_open_seal(user, b)])
