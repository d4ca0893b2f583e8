"""Submissions' pages: the ministry's list and form, the secretariat's intake queue, one submission with
its steps. Thin: policy (through ``@guard``), service, render; the guard commits once.

A refused step answers 400 with the page again and the message under the field it is about.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import Field

from ecabinet.audit import service as audit
from ecabinet.core import uow
from ecabinet.core.actor import current_actor
from ecabinet.core.errors import DomainError
from ecabinet.core.policy import guard
from ecabinet.documents import service as documents
from ecabinet.meetings import service as meetings
from ecabinet.submissions import forms, policy, queries, service
from ecabinet.submissions.forms import (
    AcceptMeetingForm,
    AcceptWrittenForm,
    MergeForm,
    ReturnForm,
    SubmissionForm,
    VersionForm,
    WithdrawForm,
    end_of_day,
)
from ecabinet.submissions.models import Submission

bp = Blueprint("submissions", __name__)

PDF_CSP = "sandbox; default-src 'none'; frame-ancestors 'none'"
EXPIRED = "The form had expired; please try again."


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"submission_labels": {"kind": forms.KIND_LABELS, "urgency": forms.URGENCY_LABELS,
                                  "handling": forms.HANDLING_LABELS, "status": forms.STATUS_LABELS,
                                  "outcome": forms.OUTCOME_LABELS}}


def _submission(submission_id: int) -> Submission:
    submission = queries.get_submission(submission_id)
    if submission is None:
        abort(404)
    return submission


def _field_error(form: Any, exc: DomainError, fallback: str) -> None:
    """Show a refused step's message under the field it names (else under ``fallback``)."""
    name = getattr(exc, "field", None) or fallback
    field: Field | None = getattr(form, name, None) or getattr(form, fallback, None)
    if field is not None:
        field.errors = [*_own_errors(field), exc.translated()]


def _own_errors(field: Field) -> list[str]:
    return list(field.errors) if isinstance(field.errors, list) else []


def _plain_errors(form: Any) -> None:
    """WTForms' own messages are English only: ours say the same in the reader's language. For a form
    that did not validate (before any service's message is added)."""
    if form.csrf_token.errors:
        flash(_(EXPIRED), "error")
    for name in ("deadline",):
        field = getattr(form, name, None)
        if field is not None and field.errors:
            field.errors = [_("Please give a date (day, month and year).")]
    for name in ("meeting_id", "into_id"):
        field = getattr(form, name, None)
        if field is not None and field.errors:
            field.errors = [_("Please choose from the list: the one given is unknown or no longer offered.")]
    if getattr(form, "duration_minutes", None) is not None and form.duration_minutes.errors:
        form.duration_minutes.errors = [_("The planned duration must be a number of minutes.")]


def _uploads() -> list[Any]:
    return [f for f in request.files.getlist("files") if f and (f.filename or "").strip()]


def _received(files: list[Any]) -> list[documents.Received]:
    """Take the files in (spool, the limited child process, the blob store) with the request's database
    connection given back: the wait holds up no other request. The view looks up again what it needs.
    They are taken in as one: one refused file and none of them is stored."""
    uow.release()
    return documents.receive_all([(f.stream, f.filename or "") for f in files])


# --- lists ---------------------------------------------------------------------------------------------

@bp.route("/submissions")
@guard(policy.can_list)
def index():
    user = current_user
    if policy.is_secretary(user):
        return render_template("submissions/index.html", submissions=queries.all_submissions(), queue=False)
    return render_template("submissions/index.html", submissions=queries.submissions_of(user.organisation_id),
                           queue=False)


@bp.route("/submissions/intake")
@guard(policy.can_take_in)
def intake():
    return render_template("submissions/index.html", submissions=queries.intake_queue(), queue=True)


# --- a ministry's new submission -----------------------------------------------------------------------

@bp.route("/submissions/new", methods=["GET", "POST"])
@guard(policy.can_create)
def new():
    form = SubmissionForm()
    if request.method == "GET":
        return render_template("submissions/new.html", form=form)
    if form.validate_on_submit():
        data = service.SubmissionData(title=form.title.data or "", kind=form.kind.data or "",
                                      handling=form.handling.data or "", urgency=form.urgency.data or "",
                                      deadline=end_of_day(form.deadline.data), summary=form.summary.data or "")
        files = _uploads()
        try:
            data.cleaned()  # before the wait: a form that is wrong anyway is answered at once
            if not files:
                raise service.SubmissionError("Please attach at least one PDF document.", field="files")
            received = _received(files)
            submission = service.create_submission(current_actor(), data, received)
        except DomainError as exc:
            _field_error(form, exc, "title")
        else:
            flash(_("Your submission was sent to the secretariat."), "info")
            return redirect(url_for("submissions.show", submission_id=submission.id))
    else:
        _plain_errors(form)
    return render_template("submissions/new.html", form=form), 400


# --- one submission ------------------------------------------------------------------------------------

def _page(submission: Submission, status: int = 200, **given: Any):
    user = current_user
    secretary = policy.is_secretary(user)
    accept = given.get("accept_form") or AcceptMeetingForm()
    merge_form = given.get("merge_form") or MergeForm()
    if secretary:
        accept.meeting_id.choices = [(m.id, f"{m.title} — {m.starts_at:%d/%m/%Y}")
                                     for m in meetings.list_meetings_for(user) if m.status in meetings.EDITABLE]
        merge_form.into_id.choices = [(s.id, f"#{s.id} {s.title}") for s in queries.merge_targets(submission)]
    pending = submission.status in service.PENDING
    context = {
        "submission": submission,
        "outcome": service.submission_outcome(submission),
        "secretary": secretary,
        "liaison": policy.is_liaison_of(user, submission),
        "pending": pending,
        "version_form": given.get("version_form") or VersionForm(),
        "return_form": given.get("return_form") or ReturnForm(),
        "accept_form": accept,
        "written_form": given.get("written_form") or AcceptWrittenForm(),
        "withdraw_form": given.get("withdraw_form") or WithdrawForm(),
        "merge_form": merge_form,
        "merged_into": queries.get_submission(submission.merged_into_id) if submission.merged_into_id else None,
    }
    return render_template("submissions/show.html", **context), status


@bp.route("/submissions/<int:submission_id>")
@guard(policy.can_view)
def show(submission_id: int):
    return _page(_submission(submission_id))


def _done(submission_id: int, message: str):
    flash(message, "info")
    return redirect(url_for("submissions.show", submission_id=submission_id))


@bp.route("/submissions/<int:submission_id>/versions", methods=["POST"])
@guard(policy.can_revise)
def new_version(submission_id: int):
    form = VersionForm()
    if form.validate_on_submit():
        files = _uploads()
        try:
            service.check_new_version(_submission(submission_id))  # before the files' wait
            if not files:
                raise service.SubmissionError("Please attach at least one PDF document.", field="files")
            received = _received(files)
            service.add_version(current_actor(), _submission(submission_id), received, form.note.data or "")
        except DomainError as exc:
            _field_error(form, exc, "files")
        else:
            return _done(submission_id, _("The new version was sent to the secretariat."))
    else:
        _plain_errors(form)
    return _page(_submission(submission_id), 400, version_form=form)


@bp.route("/submissions/<int:submission_id>/return", methods=["POST"])
@guard(policy.can_decide)
def return_(submission_id: int):
    form = ReturnForm()
    submission = _submission(submission_id)
    if form.validate_on_submit():
        try:
            service.return_for_revision(current_actor(), submission, form.comment.data or "")
        except DomainError as exc:
            _field_error(form, exc, "comment")
        else:
            return _done(submission_id, _("The submission was returned to the ministry for revision."))
    else:
        _plain_errors(form)
    return _page(submission, 400, return_form=form)


@bp.route("/submissions/<int:submission_id>/accept/meeting", methods=["POST"])
@guard(policy.can_decide)
def accept_meeting(submission_id: int):
    form = AcceptMeetingForm()
    submission = _submission(submission_id)
    if form.validate_on_submit():
        try:
            service.accept_to_meeting(current_actor(), submission, form.meeting_id.data,
                                      duration_minutes=form.duration_minutes.data or 15,
                                      confidential=bool(form.confidential.data))
        except DomainError as exc:
            _field_error(form, exc, "meeting_id")
        else:
            return _done(submission_id, _("The submission was accepted and put on the meeting's agenda."))
    else:
        _plain_errors(form)
    return _page(submission, 400, accept_form=form)


@bp.route("/submissions/<int:submission_id>/accept/written", methods=["POST"])
@guard(policy.can_decide)
def accept_written(submission_id: int):
    form = AcceptWrittenForm()
    submission = _submission(submission_id)
    if form.validate_on_submit():
        try:
            service.accept_to_written_opinion(current_actor(), submission, end_of_day(form.deadline.data))
        except DomainError as exc:
            _field_error(form, exc, "deadline")
        else:
            return _done(submission_id, _("The submission was accepted: a written-opinion ballot was drafted for "
                                          "the chair's approval."))
    else:
        _plain_errors(form)
    return _page(submission, 400, written_form=form)


@bp.route("/submissions/<int:submission_id>/withdraw", methods=["POST"])
@guard(policy.can_withdraw)
def withdraw(submission_id: int):
    form = WithdrawForm()
    submission = _submission(submission_id)
    if form.validate_on_submit():
        try:
            service.withdraw(current_actor(), submission, form.reason.data or "")
        except DomainError as exc:
            _field_error(form, exc, "reason")
        else:
            return _done(submission_id, _("The submission was withdrawn."))
    else:
        _plain_errors(form)
    return _page(submission, 400, withdraw_form=form)


@bp.route("/submissions/<int:submission_id>/merge", methods=["POST"])
@guard(policy.can_decide)
def merge(submission_id: int):
    form = MergeForm()
    submission = _submission(submission_id)
    if form.validate_on_submit():
        try:
            target = service.merge(current_actor(), submission, form.into_id.data, form.comment.data or "")
        except DomainError as exc:
            _field_error(form, exc, "into_id")
        else:
            flash(_("The submission was merged into “%(title)s”.", title=target.title), "info")
            return redirect(url_for("submissions.show", submission_id=target.id))
    else:
        _plain_errors(form)
    return _page(submission, 400, merge_form=form)


# --- a document ----------------------------------------------------------------------------------------

@bp.route("/submissions/<int:submission_id>/files/<int:file_id>")
@guard(policy.can_read_file)
def file(submission_id: int, file_id: int):
    submission = _submission(submission_id)
    document = queries.get_file(submission, file_id)
    if document is None:
        abort(404)
    path = documents.blobs().path(document.sha256)
    if not path.exists():
        abort(404)
    audit.record(current_actor(), "submission.file_read", object_type="submission", object_id=submission.id,
                 details={"file": document.id, "title": document.title})
    name = os.path.basename(document.filename or "") or f"{document.id}.pdf"
    response = send_file(path, mimetype="application/pdf", as_attachment=False, download_name=name,
                         conditional=True, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = PDF_CSP
    response.headers["Cache-Control"] = "private, no-store"
    return response
