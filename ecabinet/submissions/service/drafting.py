"""A ministry's liaison drafts a submission and, after a return, sends a new version.

The files come already received (``documents.service.receive_all``: spooled, checked in the limited
child process, stored by content hash only once every one of them was accepted), because the boundary
does that wait with its database connection given back. A refused file refuses the whole step, with the
intake's own message, and leaves nothing in the document store.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ecabinet.core.actor import Actor
from ecabinet.core.types import utcnow
from ecabinet.documents.service import Received
from ecabinet.extensions import db
from ecabinet.submissions import policy
from ecabinet.submissions.models import (
    Handling,
    Submission,
    SubmissionDocument,
    SubmissionKind,
    SubmissionStatus,
    SubmissionVersion,
    Urgency,
)
from ecabinet.submissions.service.common import (
    MAX_FILES,
    N_NEW,
    N_NEW_VERSION,
    SUMMARY_MAX,
    TITLE_MAX,
    SubmissionError,
    add_comment,
    record,
    require,
    set_status,
    tell_secretariat,
)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


@dataclass
class SubmissionData:
    title: str
    kind: SubmissionKind | str
    handling: Handling | str
    deadline: datetime | None
    urgency: Urgency | str = Urgency.NORMAL
    summary: str = ""

    def cleaned(self) -> SubmissionData:
        title = " ".join(_CONTROL.sub(" ", self.title or "").split())
        if not title:
            raise SubmissionError("The title is required.", field="title")
        if len(title) > TITLE_MAX:
            raise SubmissionError("The title is longer than %(n)s characters.", field="title", n=TITLE_MAX)
        try:
            kind = SubmissionKind(self.kind)
        except ValueError as exc:
            raise SubmissionError("Please choose the kind of submission from the list.", field="kind") from exc
        try:
            urgency = Urgency(self.urgency)
        except ValueError as exc:
            raise SubmissionError("Please choose the urgency from the list.", field="urgency") from exc
        try:
            handling = Handling(self.handling)
        except ValueError as exc:
            raise SubmissionError("Please choose how the submission should be handled.", field="handling") from exc
        if self.deadline is None or self.deadline.tzinfo is None:
            raise SubmissionError("Please give the deadline.", field="deadline")
        if self.deadline <= utcnow():
            raise SubmissionError("The deadline must be in the future.", field="deadline")
        summary = _CONTROL.sub(" ", self.summary or "").strip()
        if len(summary) > SUMMARY_MAX:
            raise SubmissionError("The summary is longer than %(n)s characters.", field="summary", n=SUMMARY_MAX)
        return SubmissionData(title=title, kind=kind, handling=handling, deadline=self.deadline, urgency=urgency,
                              summary=summary)


def _check_files(files: Sequence[Received]) -> None:
    if not files:
        raise SubmissionError("Please attach at least one PDF document.", field="files")
    if len(files) > MAX_FILES:
        raise SubmissionError("At most %(n)s documents at a time.", field="files", n=MAX_FILES)
    for received in files:
        if received.refusal is not None:
            # The intake's own sentence says what is wrong with the file.
            raise SubmissionError("“%(name)s” was refused: %(reason)s", field="files",
                                  name=os.path.basename(received.filename or "")[:100], cause=received.refusal)


def _new_version(actor: Actor, submission: Submission, files: Sequence[Received], note: str) -> SubmissionVersion:
    number = len(submission.versions) + 1
    version = SubmissionVersion(number=number, note=note, created_by_id=actor.user_id, created_at=utcnow())
    for position, received in enumerate(files, start=1):
        info = received.info
        assert info is not None
        filename = os.path.basename(received.filename or "")[:300]
        title = " ".join((info.metadata_title or os.path.splitext(filename)[0] or "Tài liệu").split())[:300]
        version.documents.append(SubmissionDocument(
            position=position, title=title, filename=filename, sha256=info.sha256, size=info.size,
            page_count=info.page_count, intake=json.dumps(info.to_json(), ensure_ascii=False)))
    submission.versions.append(version)
    submission.current_version = number
    return version


def create_submission(actor: Actor, data: SubmissionData, files: Sequence[Received]) -> Submission:
    """A liaison submits a dossier for their own ministry; the secretariat is told."""
    user = actor.user
    require(user is not None and policy.is_liaison(user), "Only a ministry's liaison may submit.")
    assert user is not None
    data = data.cleaned()
    _check_files(files)
    submission = Submission(title=data.title, kind=data.kind, urgency=data.urgency, handling=data.handling,
                            summary=data.summary, organisation_id=user.organisation_id, created_by_id=user.id,
                            status=SubmissionStatus.SUBMITTED, deadline=data.deadline, created_at=utcnow())
    db.session.add(submission)
    _new_version(actor, submission, files, "")
    set_status(submission)
    record(actor, "submission.create", submission, {"kind": submission.kind.value,
                                                    "handling": submission.handling.value,
                                                    "documents": [d.sha256 for d in submission.latest.documents]})
    tell_secretariat(submission, N_NEW)
    return submission


def check_new_version(submission: Submission) -> None:
    """Refuse a new version unless the secretariat returned the submission (``policy.awaits_new_version``).
    The boundaries ask it before their files' wait, and ``add_version`` again when recording."""
    if not policy.awaits_new_version(submission):
        raise SubmissionError("A new version is sent only after the secretariat returns the submission.")


def add_version(actor: Actor, submission: Submission, files: Sequence[Received], note: str = "") -> SubmissionVersion:
    """The ministry answers a return with a new set of documents; it goes back to the intake queue."""
    require(actor.user is not None and policy.is_liaison_of(actor.user, submission),
            "Only the ministry's liaison may send a new version.")
    check_new_version(submission)
    _check_files(files)
    version = _new_version(actor, submission, files, (note or "").strip())
    add_comment(actor, submission, "version", note)
    set_status(submission, SubmissionStatus.SUBMITTED)
    record(actor, "submission.new_version", submission, {"version": version.number,
                                                         "documents": [d.sha256 for d in version.documents]})
    tell_secretariat(submission, N_NEW_VERSION)
    return version
