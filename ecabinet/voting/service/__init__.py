"""Voting rules: drafting, opening, casting, closing, verifying. See docs/voting.md.

Every change takes the acting ``Actor``, asks the voting policy, stages its rows and records an audit
entry last; the boundary (the view, the Socket.IO handler, the job) commits. A broken rule raises
``VotingError`` before anything changes, and dooms the unit of work. Changes that name a meeting are
also published as domain events (``ballot.*``), which the live domain numbers and broadcasts after the
commit with the ``ballot`` payload built here (``results.ballot_payload``), except casting and changing
a vote, whose participation goes out as the coalesced ``ballot.tally`` (tally.py).

The one exception is casting (``casting.cast_vote``): a vote is acknowledged only after its commit, and
new votes are committed together by the group commit (``batch``), so the vote is its own boundary.

Concurrency: casting and closing both take the ballot's write lock, a guarded no-op
``UPDATE ballot ... WHERE id = :id AND status = 'open'`` (``shared.lock_if_open``), so a vote racing
the close is either committed before it (and counted) or sees the ballot closed (refused).

| module | what |
|---|---|
| drafting | ``create_ballot``, ``approve_ballot``, ``cancel_ballot`` |
| opening | the eligibility snapshot, ``open_ballot`` / ``send_ballot`` |
| casting | checks, receipts, ``cast_vote``, retries and changes |
| batch | the group commit of new votes |
| closing | ``close_ballot``, ``open_seal``, the result, the automatic close and the reminders |
| sealing | the secret ballot's seal: votes sealed on arrival, opened layer by layer by the key holders |
| results | participation, running counts, the live payload, receipts, the meeting's results |
| verification | ``verify_ballot`` |
"""

from __future__ import annotations

from ecabinet.voting.models import BallotKind
from ecabinet.voting.queries import (
    ballots_for_meeting,
    ballots_to_count,
    get_ballot,
    has_voted,
    is_eligible,
    list_ballots,
    missing_voters,
    open_ballot_facts,
    pending_ballots_for,
    voters_of,
)
from ecabinet.voting.service.casting import cast_vote, needs_reauth, new_client_vote_id, reauth_window, receipt_code
from ecabinet.voting.service.closing import (
    close_ballot,
    close_due_ballots,
    close_if_complete,
    compute_result,
    open_seal,
    send_due_reminders,
)
from ecabinet.voting.service.drafting import BallotData, approve_ballot, cancel_ballot, create_ballot
from ecabinet.voting.service.opening import eligible_voters, open_ballot, send_ballot
from ecabinet.voting.service.results import (
    ballot_payload,
    ballot_state,
    ballot_view,
    participation,
    published_receipts,
    results_for_meeting,
    running_counts,
    summary,
)
from ecabinet.voting.service.sealing import KeyNeeded
from ecabinet.voting.service.shared import (
    COMMENT_MAX,
    ITEM_OUTCOMES,
    MAX_QUESTIONS,
    N_CLOSED,
    N_REMINDER,
    N_SENT,
    REMINDER_HOURS,
    TEXT_MAX,
    TITLE_MAX,
    Receipt,
    VotingError,
    live_options,
    votes_digest,
    written_options,
)
from ecabinet.voting.service.verification import VerifyReport, verify_ballot

__all__ = [
    "COMMENT_MAX", "ITEM_OUTCOMES", "MAX_QUESTIONS", "N_CLOSED", "N_REMINDER", "N_SENT", "REMINDER_HOURS",
    "TEXT_MAX", "TITLE_MAX", "BallotData", "BallotKind", "KeyNeeded", "Receipt", "VerifyReport", "VotingError",
    "approve_ballot", "ballot_payload", "ballot_state", "ballot_view", "ballots_for_meeting", "ballots_to_count",
    "cancel_ballot",
    "cast_vote", "close_ballot", "close_due_ballots", "close_if_complete", "compute_result", "create_ballot",
    "eligible_voters", "get_ballot", "has_voted", "is_eligible", "list_ballots", "live_options",
    "missing_voters", "needs_reauth", "new_client_vote_id", "open_ballot", "open_ballot_facts", "open_seal",
    "pending_ballots_for", "participation", "published_receipts", "reauth_window", "receipt_code",
    "results_for_meeting", "running_counts", "send_ballot", "send_due_reminders", "summary", "verify_ballot",
    "voters_of", "votes_digest", "written_options",
]
