"""Who may do what with submissions.

A ministry's liaison sees its own ministry's submissions and nothing else of the cabinet's work; the
secretariat sees them all and decides on them. Anyone else is not told a submission exists (404). A
document of a submission sent for written opinions may also be read by those who may see that ballot.
"""

from __future__ import annotations

from typing import Any

from ecabinet.core.policy import Hidden
from ecabinet.core.roles import Role
from ecabinet.submissions import queries
from ecabinet.submissions.models import Submission, SubmissionStatus
from ecabinet.voting import policy as voting_policy
from ecabinet.voting import queries as voting_queries


def is_secretary(user: Any) -> bool:
    return bool(user.is_active) and user.role is Role.SECRETARY


def is_liaison(user: Any) -> bool:
    """A liaison linked to a ministry; one without (a mistake of the accounts' admin) may do nothing."""
    return bool(user.is_active) and user.role is Role.LIAISON and user.organisation_id is not None


def is_liaison_of(user: Any, submission: Submission) -> bool:
    return is_liaison(user) and user.organisation_id == submission.organisation_id


def awaits_new_version(submission: Submission) -> bool:
    """A new version is sent only after the secretariat returned the submission for revision. The pages,
    the API and the service ask this one rule (``service.check_new_version``)."""
    return submission.status is SubmissionStatus.RETURNED


def may_see(user: Any, submission: Submission) -> bool:
    return is_secretary(user) or is_liaison_of(user, submission)


def _seen(user: Any, submission_id: int | None) -> Submission:
    submission = queries.get_submission(submission_id)
    if submission is None or not may_see(user, submission):
        raise Hidden()
    return submission


# --- the rules of the views ------------------------------------------------------------------------

def can_list(user: Any, **_: object) -> bool:
    return is_secretary(user) or is_liaison(user)


def can_create(user: Any, **_: object) -> bool:
    return is_liaison(user)


def can_take_in(user: Any, **_: object) -> bool:
    """The secretariat's intake queue."""
    return is_secretary(user)


def can_view(user: Any, submission_id: int | None = None, **_: object) -> bool:
    _seen(user, submission_id)
    return True


def can_revise(user: Any, submission_id: int | None = None, **_: object) -> bool:
    return is_liaison_of(user, _seen(user, submission_id))


def can_withdraw(user: Any, submission_id: int | None = None, **_: object) -> bool:
    submission = _seen(user, submission_id)
    return is_secretary(user) or is_liaison_of(user, submission)


def can_decide(user: Any, submission_id: int | None = None, **_: object) -> bool:
    """Return, accept, merge: the secretariat."""
    _seen(user, submission_id)
    return is_secretary(user)


def may_read_file(user: Any, submission: Submission) -> bool:
    if may_see(user, submission):
        return True
    if submission.status is SubmissionStatus.ACCEPTED and submission.ballot_id is not None:
        ballot = voting_queries.get_ballot(submission.ballot_id)
        return ballot is not None and voting_policy.may_see(user, ballot)
    return False


def can_read_file(user: Any, submission_id: int | None = None, file_id: int | None = None, **_: object) -> bool:
    submission = queries.get_submission(submission_id)
    if submission is None or queries.get_file(submission, file_id) is None or not may_read_file(user, submission):
        raise Hidden()
    return True
