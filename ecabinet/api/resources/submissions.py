"""A ministry's submissions, sent and followed from its own system (scope ``submissions:write``).

The submissions domain lets only a ministry's liaison submit, send a new version or withdraw. A client
is no person, so it acts through its reader: for these steps the reader must be an active liaison of
the client's organisation (else 403), and the submissions service sees that liaison as the actor, with
its own rules and audit entries; the API adds an entry naming the client. Reading needs only the scope:
the client sees its organisation's submissions, and any other answers 404.

The files are taken in (spooled, checked in the intake's limited child process, stored by content hash)
with the request's database connection given back meanwhile, as the submissions' pages do.
"""

from __future__ import annotations

from typing import Any

from flask import g, request

from ecabinet.api import schemas
from ecabinet.api.blueprint import bp
from ecabinet.api.http import (
    OPERATION_EXTRAS,
    PROBLEM,
    ProblemError,
    operation,
    responses,
    spec,
)
from ecabinet.api.resources.actions import action_row
from ecabinet.api.resources.common import NOT_FOUND, client, context, idempotency_header, page
from ecabinet.audit import service as audit
from ecabinet.core import uow
from ecabinet.core.actor import Actor
from ecabinet.documents import service as documents
from ecabinet.extensions import db
from ecabinet.submissions import policy as submissions_policy
from ecabinet.submissions import queries, service
from ecabinet.submissions.models import Submission

SCOPE = "submissions:write"
NEEDS_LIAISON = ("This client needs a reader who is an active liaison of its organisation to act on "
                 "submissions: ask an administrator to set one.")


# --- rows ------------------------------------------------------------------------------------------

def _summary(submission: Submission) -> schemas.SubmissionSummary:
    return schemas.SubmissionSummary(
        id=submission.id, title=submission.title, kind=submission.kind.value, handling=submission.handling.value,
        urgency=submission.urgency.value, status=submission.status.value, deadline=submission.deadline,
        current_version=submission.current_version, created_at=submission.created_at,
        updated_at=submission.updated_at)


def _outcome(submission: Submission) -> schemas.SubmissionOutcome | None:
    outcome = service.submission_outcome(submission)
    if outcome is None:
        return None
    return schemas.SubmissionOutcome(
        became="agenda_item" if outcome.item is not None else "written_opinion",
        meeting_id=outcome.item.meeting_id if outcome.item is not None else None,
        item_id=outcome.item.id if outcome.item is not None else None,
        ballot_id=outcome.ballot.id if outcome.ballot is not None else None,
        value=outcome.value, decided=outcome.decided, decided_at=outcome.decided_at,
        conclusions=outcome.conclusions, actions=[action_row(a) for a in outcome.actions])


def _full(submission: Submission) -> schemas.Submission:
    versions = [schemas.SubmissionVersion(
        number=v.number, note=v.note, created_at=v.created_at,
        documents=[schemas.SubmissionFile(id=d.id, position=d.position, title=d.title, filename=d.filename,
                                          size=d.size, page_count=d.page_count, sha256=d.sha256)
                   for d in v.documents]) for v in submission.versions]
    comments = [schemas.SubmissionComment(step=c.step, version_number=c.version_number, body=c.body,
                                          created_at=c.created_at) for c in submission.comments]
    return schemas.Submission(**_summary(submission).model_dump(), summary=submission.summary,
                              decided_at=submission.decided_at, merged_into_id=submission.merged_into_id,
                              versions=versions, comments=comments, outcome=_outcome(submission))


# --- helpers ---------------------------------------------------------------------------------------

def _own_or_404(submission_id: int) -> Submission:
    submission = queries.get_submission(submission_id)
    if submission is None or submission.organisation_id != client().organisation_id:
        raise ProblemError(404, NOT_FOUND)
    return submission


def _liaison() -> Actor:
    """The client's reader as the actor of a step, when it is an active liaison of the organisation."""
    reader = client().reader
    if reader is None or not submissions_policy.is_liaison(reader) \
            or reader.organisation_id != client().organisation_id:
        raise ProblemError(403, NEEDS_LIAISON)
    return Actor(user=reader, ip=g.api_actor.ip)


def _form() -> Any:
    form = context().form
    if form is None:  # spectree validates a form only when one was sent
        raise ProblemError(415, "Send this request as multipart/form-data, with its PDF documents as `files`.")
    return form


def _refused(exc: service.SubmissionError) -> ProblemError:
    message = exc.translated()
    return ProblemError(422, message, errors={exc.field: message} if exc.field else None)


def _receive() -> list[documents.Received]:
    """Take the files in with the connection given back (the wait holds up no other request), as one:
    one refused file and none of them is stored."""
    uploads = request.files.getlist("files")
    uow.release()
    return documents.receive_all([(f.stream, f.filename or "") for f in uploads])


def _audit(action: str, submission: Submission) -> None:
    audit.record(g.api_actor, action, object_type="submission", object_id=submission.id,
                 details={"client": client().name, "title": submission.title})


# --- operations ------------------------------------------------------------------------------------

@bp.get("/submissions")
@operation(SCOPE)
@spec.validate(query=schemas.SubmissionsQuery, resp=responses(HTTP_200=schemas.SubmissionPage),
               tags=["submissions"], operation_id="listSubmissions")
def list_submissions():
    """The submissions of the client's organisation, oldest first; `next_cursor` continues the query."""
    query = context().query
    select_ = db.select(Submission).where(Submission.organisation_id == client().organisation_id)
    if query.status:
        select_ = select_.where(Submission.status == query.status)
    rows, next_cursor = page(select_, Submission.id, query.limit, query.cursor, status=query.status)
    return schemas.SubmissionPage(data=[_summary(s) for s in rows], next_cursor=next_cursor)


@bp.get("/submissions/<int:submission_id>")
@operation(SCOPE)
@spec.validate(resp=responses(HTTP_200=schemas.Submission), tags=["submissions"], operation_id="getSubmission")
def get_submission(submission_id: int):
    """A submission: its status, versions and their documents, the comments, and what it became."""
    return _full(_own_or_404(submission_id))


@bp.post("/submissions")
@operation(SCOPE)
@spec.validate(form=schemas.SubmissionIn, resp=responses(HTTP_201=schemas.Submission), tags=["submissions"],
               operation_id="createSubmission")
def create_submission():
    """Submit a dossier for the client's organisation (multipart/form-data). Needs an Idempotency-Key."""
    form = _form()
    actor = _liaison()
    data = service.SubmissionData(title=form.title, kind=form.kind, handling=form.handling, urgency=form.urgency,
                                  deadline=form.deadline, summary=form.summary)
    try:
        data.cleaned()  # a body that is wrong anyway is answered before the files' wait
        received = _receive()
        actor = _liaison()  # looked up again after the wait
        submission = service.create_submission(actor, data, received)
    except service.SubmissionError as exc:
        raise _refused(exc) from exc
    _audit("api.submission_create", submission)
    return _full(submission), 201


@bp.post("/submissions/<int:submission_id>/versions")
@operation(SCOPE)
@spec.validate(form=schemas.VersionIn, resp=responses(HTTP_201=schemas.Submission), tags=["submissions"],
               operation_id="addSubmissionVersion")
def add_version(submission_id: int):
    """A new version after the secretariat returned the submission (multipart/form-data: a note and
    `files`). Needs an Idempotency-Key."""
    form = _form()
    actor = _liaison()
    submission = _own_or_404(submission_id)
    try:
        service.check_new_version(submission)  # the domain's rule, asked before the files' wait
        received = _receive()
        actor = _liaison()
        submission = _own_or_404(submission_id)
        service.add_version(actor, submission, received, form.note)
    except service.SubmissionError as exc:
        raise _refused(exc) from exc
    _audit("api.submission_version", submission)
    return _full(submission), 201


@bp.post("/submissions/<int:submission_id>/withdraw")
@operation(SCOPE)
@spec.validate(json=schemas.WithdrawIn, resp=responses(HTTP_200=schemas.Submission), tags=["submissions"],
               operation_id="withdrawSubmission")
def withdraw(submission_id: int):
    """Withdraw a submission the secretariat has not yet accepted. Needs an Idempotency-Key."""
    body = context().json
    if body is None:
        raise ProblemError(415, "Send this request as application/json.")
    actor = _liaison()
    submission = _own_or_404(submission_id)
    try:
        service.withdraw(actor, submission, body.reason)
    except service.SubmissionError as exc:
        raise _refused(exc) from exc
    _audit("api.submission_withdraw", submission)
    return _full(submission)


def _multipart(operation_: dict) -> None:
    idempotency_header(operation_)
    form = operation_.get("requestBody", {}).get("content", {}).get("multipart/form-data")
    if form is not None:
        form["encoding"] = {"files": {"contentType": "application/pdf"}}
    operation_["responses"]["415"] = {"description": "Unsupported Media Type",
                                      "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


for _path in ("/api/v1/submissions", "/api/v1/submissions/{submission_id}/versions",
              "/api/v1/submissions/{submission_id}/withdraw"):
    OPERATION_EXTRAS[(_path, "post")] = _multipart
