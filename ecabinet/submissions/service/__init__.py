"""The rules of ministries' submissions. Services take an ``Actor`` and never commit.

- ``drafting``: a liaison's new submission, and a new version after a return
- ``intake``: the secretariat's decisions: return, accept to a meeting or to written opinions,
  withdraw (the liaison too, before acceptance), merge
- ``outcome``: the ministry's notice when what the submission became is decided

What became of it is read by ``queries.submission_outcome``.
"""

from __future__ import annotations

from ecabinet.submissions.queries import Outcome, get_file, get_submission, submission_outcome
from ecabinet.submissions.service.common import PENDING, SubmissionError
from ecabinet.submissions.service.drafting import SubmissionData, add_version, check_new_version, create_submission
from ecabinet.submissions.service.intake import (
    FILE_PATH,
    accept_to_meeting,
    accept_to_written_opinion,
    merge,
    return_for_revision,
    withdraw,
)

__all__ = [
    "FILE_PATH", "PENDING", "Outcome", "SubmissionData", "SubmissionError", "accept_to_meeting",
    "accept_to_written_opinion", "add_version", "check_new_version", "create_submission", "get_file",
    "get_submission", "merge", "return_for_revision", "submission_outcome", "withdraw",
]
