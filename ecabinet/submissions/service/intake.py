"""The secretariat's decisions on a submission: return it for revision, accept it onto a meeting's
agenda or for written opinions, withdraw it, merge it into another. The ministry's liaison may withdraw
its own before it is accepted.

Accepting goes through the other domains' services, so that their rules hold for what the submission
becomes: the agenda item is added by the meetings service (the agenda must still be editable), its
documents attached by the documents service (confidentiality, readers, copies), the ballot drafted by
the voting service (the chair approves it before it is sent).
"""

from __future__ import annotations

import json
from datetime import datetime

from ecabinet.core.actor import Actor
from ecabinet.core.types import utcnow
from ecabinet.documents import service as documents
from ecabinet.documents.service import Received
from ecabinet.meetings import service as meetings
from ecabinet.meetings.models import Confidentiality, ItemKind, MeetingItem
from ecabinet.pdf.intake import PdfInfo
from ecabinet.submissions import policy, queries
from ecabinet.submissions.models import (
    Submission,
    SubmissionDocument,
    SubmissionKind,
    SubmissionStatus,
)
from ecabinet.submissions.service.common import (
    N_ACCEPTED_MEETING,
    N_ACCEPTED_WRITTEN,
    N_MERGED,
    N_RETURNED,
    N_WITHDRAWN,
    SubmissionError,
    add_comment,
    record,
    require,
    require_pending,
    require_secretary,
    set_status,
    tell_ministry,
    tell_secretariat,
)
from ecabinet.voting import service as voting
from ecabinet.voting.models import Ballot, BallotKind

# Where a submission's document is read (the views' route): a written ballot's attachments are links.
FILE_PATH = "/submissions/{submission_id}/files/{file_id}"


def return_for_revision(actor: Actor, submission: Submission, comment: str) -> None:
    """Send it back to the ministry with the reasons; the ministry answers with a new version."""
    require_secretary(actor)
    if submission.status is not SubmissionStatus.SUBMITTED:
        raise SubmissionError("Only a submission waiting in the intake queue can be returned.")
    if not (comment or "").strip():
        raise SubmissionError("Please say what the ministry should revise.", field="comment")
    add_comment(actor, submission, "return", comment)
    set_status(submission, SubmissionStatus.RETURNED)
    record(actor, "submission.return", submission, {"version": submission.current_version})
    tell_ministry(submission, N_RETURNED)


def _accepting(actor: Actor, submission: Submission) -> None:
    require_secretary(actor)
    if submission.status is not SubmissionStatus.SUBMITTED:
        raise SubmissionError("Only a submission waiting in the intake queue can be accepted.")


def _received(document: SubmissionDocument) -> Received:
    """The document as the intake described it when the ministry sent it: its bytes are already kept."""
    return Received(document.filename, info=PdfInfo.from_json(json.loads(document.intake)))


def accept_to_meeting(actor: Actor, submission: Submission, meeting_id: int | None, *,
                      duration_minutes: int = 15, confidential: bool = False) -> MeetingItem:
    """Put it on a meeting's agenda: an item presented by the ministry, with the latest version's
    documents attached."""
    _accepting(actor, submission)
    meeting = meetings.get_meeting(meeting_id) if meeting_id is not None else None
    if meeting is None:
        raise SubmissionError("Please choose the meeting from the list: the one given is unknown.", field="meeting_id")
    level = Confidentiality.CONFIDENTIAL if confidential else Confidentiality.NORMAL
    kind = ItemKind.INFORMATION if submission.kind is SubmissionKind.REPORT else ItemKind.DECISION
    item = meetings.add_item(actor, meeting, meetings.ItemData(
        title=submission.title, organisation_id=submission.organisation_id, duration_minutes=duration_minutes,
        summary=submission.summary[:meetings.SUMMARY_MAX], kind=kind, confidentiality=level))
    for document in submission.latest.documents:
        documents.record_upload(actor, item, _received(document), title=document.title, confidential=confidential)
    set_status(submission, SubmissionStatus.ACCEPTED)
    submission.agenda_item_id = item.id
    submission.decided_at = utcnow()
    record(actor, "submission.accept_meeting", submission, {"meeting": meeting.id, "item": item.id,
                                                            "version": submission.current_version})
    tell_ministry(submission, N_ACCEPTED_MEETING, meeting=meeting.title)
    return item


def accept_to_written_opinion(actor: Actor, submission: Submission, deadline: datetime | None) -> Ballot:
    """Send it for written opinions: a written-opinion ballot drafted with its documents, for the chair to
    approve and the secretariat to send, as any written ballot."""
    _accepting(actor, submission)
    if deadline is None or deadline.tzinfo is None:
        raise SubmissionError("Please give the deadline for the written opinions.", field="deadline")
    if deadline <= utcnow():
        raise SubmissionError("The deadline must be in the future.", field="deadline")
    attachments = [{"title": d.title, "url": FILE_PATH.format(submission_id=submission.id, file_id=d.id)}
                   for d in submission.latest.documents]
    ballot = voting.create_ballot(actor, voting.BallotData(
        title=submission.title, kind=BallotKind.WRITTEN, description=submission.summary[:voting.TEXT_MAX],
        deadline=deadline, attachments=attachments))
    set_status(submission, SubmissionStatus.ACCEPTED)
    submission.ballot_id = ballot.id
    submission.decided_at = utcnow()
    record(actor, "submission.accept_written", submission, {"ballot": ballot.id,
                                                            "version": submission.current_version})
    tell_ministry(submission, N_ACCEPTED_WRITTEN)
    return ballot


def withdraw(actor: Actor, submission: Submission, reason: str = "") -> None:
    """The ministry's liaison, or the secretariat, withdraws it before it is accepted."""
    user = actor.user
    require(user is None or policy.is_secretary(user) or policy.is_liaison_of(user, submission),
            "Only the ministry's liaison or the secretariat may withdraw this submission.")
    require_pending(submission)
    add_comment(actor, submission, "withdraw", reason)
    set_status(submission, SubmissionStatus.WITHDRAWN)
    submission.decided_at = utcnow()
    record(actor, "submission.withdraw", submission)
    if user is not None and policy.is_liaison(user):
        tell_secretariat(submission, N_WITHDRAWN)
    else:
        tell_ministry(submission, N_WITHDRAWN)


def merge(actor: Actor, submission: Submission, into_id: int | None, comment: str = "") -> Submission:
    """Take a submission into another of the same ministry: its latest documents are added to the
    other's latest version, and it is closed as merged."""
    require_secretary(actor)
    require_pending(submission)
    target = queries.get_submission(into_id)
    if target is None or target.id == submission.id or target.organisation_id != submission.organisation_id:
        raise SubmissionError("Please choose, from the list, another submission of the same ministry.",
                              field="into_id")
    require_pending(target)
    position = len(target.latest.documents)
    for n, document in enumerate(submission.latest.documents, start=position + 1):
        target.latest.documents.append(SubmissionDocument(
            position=n, title=document.title, filename=document.filename, sha256=document.sha256,
            size=document.size, page_count=document.page_count, intake=document.intake))
    add_comment(actor, submission, "merge", comment)
    set_status(submission, SubmissionStatus.MERGED)
    submission.merged_into_id = target.id
    submission.decided_at = utcnow()
    record(actor, "submission.merge", submission, {"into": target.id})
    record(actor, "submission.merged_in", target, {"from": submission.id})
    tell_ministry(submission, N_MERGED, into=target.title)
    return target
