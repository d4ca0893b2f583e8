"""Minutes, conclusions, action items and the archive. Thin: policy, service, render."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm

from ecabinet.core.actor import current_actor
from ecabinet.core.policy import guard
from ecabinet.core.schemas import arg_int, form_int
from ecabinet.meetings import service as meetings
from ecabinet.meetings.queries import meeting_or_404
from ecabinet.minutes import policy, service
from ecabinet.minutes.forms import action_form
from ecabinet.minutes.models import ActionStatus, MinutesStatus
from ecabinet.minutes.service import EditConflict, MinutesError

bp = Blueprint("minutes", __name__)

# The notes the system writes on a revision, stored in English and shown in the reader's language;
# a note someone typed is shown as typed.
_SYSTEM_NOTES = (
    (re.compile(r"^drafted from the meeting record$"), lambda m: _("drafted from the meeting record")),
    (re.compile(r"^restored from revision (\d+)$"), lambda m: _("restored from revision %(n)s", n=m.group(1))),
    (re.compile(r"^correction of minutes (\d+)$"), lambda m: _("correction of minutes %(n)s", n=m.group(1))),
)


# States as words: the codes are stored, the reader sees these.
_STATE_WORDS = {
    MinutesStatus.DRAFT: _l("Draft"), MinutesStatus.CIRCULATED: _l("Circulated for comments"),
    MinutesStatus.APPROVED: _l("Approved, being signed"), MinutesStatus.FINAL: _l("Final"),
    ActionStatus.OPEN: _l("Not started"), ActionStatus.IN_PROGRESS: _l("In progress"),
    ActionStatus.DONE: _l("Done"), ActionStatus.CANCELLED: _l("Cancelled"),
}


@bp.app_template_filter("minutes_state")
def minutes_state(state: MinutesStatus | ActionStatus) -> str:
    return str(_STATE_WORDS.get(state, state))


@bp.app_template_filter("revision_note")
def revision_note(note: str | None) -> str:
    for pattern, say in _SYSTEM_NOTES:
        found = pattern.match(note or "")
        if found:
            return say(found)
    return note or ""


class EmptyForm(FlaskForm):
    """CSRF only; the fields are read and validated by the service."""


def _minutes(minutes_id: int):  # noqa: ANN202
    minutes = service.get_minutes(minutes_id)
    if minutes is None:
        abort(404)
    return minutes


def _flash_error(exc: MinutesError) -> None:
    flash(exc.translated(), "error")


@bp.route("/meetings/<int:meeting_id>/minutes")
@guard(policy.can_see_record)
def meeting_record(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    visible = [m for m in service.minutes_of(meeting)
               if m.status is not MinutesStatus.DRAFT or current_user.role.value == "secretary"
               or meeting.chair_id == current_user.id]
    preview = service.draft_html(meeting) if policy.can_draft(current_user, meeting_id=meeting.id) else None
    return render_template("minutes/meeting.html", meeting=meeting, minutes_list=visible, preview=preview,
                           conclusion=service.conclusion_of(meeting), form=EmptyForm(),
                           action_form=action_form(formdata=None),
                           can_draft=policy.can_draft(current_user, meeting_id=meeting.id),
                           can_issue=policy.can_issue_conclusions(current_user, meeting_id=meeting.id),
                           is_overdue=service.is_overdue, statuses=list(ActionStatus))


@bp.route("/meetings/<int:meeting_id>/minutes/draft", methods=["POST"])
@guard(policy.can_draft)
def create_draft(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    if EmptyForm().validate_on_submit():
        try:
            minutes = service.create_draft(current_actor(), meeting)
        except MinutesError as exc:
            _flash_error(exc)
        else:
            return redirect(url_for("minutes.edit", minutes_id=minutes.id))
    return redirect(url_for("minutes.meeting_record", meeting_id=meeting.id))


@bp.route("/minutes/<int:minutes_id>")
@guard(policy.can_view_minutes)
def view(minutes_id: int):
    minutes = _minutes(minutes_id)
    meeting = meetings.get_meeting(minutes.meeting_id)
    report = service.signature_report(minutes) if minutes.status is MinutesStatus.FINAL else None
    return render_template("minutes/view.html", minutes=minutes, meeting=meeting, body=service.current_body(minutes),
                           form=EmptyForm(), report=report,
                           can_edit=policy.can_edit_minutes(current_user, minutes_id=minutes.id),
                           can_approve=policy.can_approve_minutes(current_user, minutes_id=minutes.id),
                           can_comment=policy.can_comment_minutes(current_user, minutes_id=minutes.id))


@bp.route("/minutes/<int:minutes_id>/edit", methods=["GET", "POST"])
@guard(policy.can_edit_minutes)
def edit(minutes_id: int):
    minutes = _minutes(minutes_id)
    form = EmptyForm()
    body, base, status, conflict = service.current_body(minutes), minutes.revision, 200, None
    if form.validate_on_submit():
        posted = request.form.get("body", "")
        # An unsaved text is shown again in the editor as HTML: only as the stored minutes would hold it.
        body = service.sanitise(posted)
        base = form_int("base_revision", minimum=0) or 0
        try:
            service.save_revision(current_actor(), minutes, posted, base, note=request.form.get("note", ""))
        except EditConflict as exc:
            conflict, status = exc.translated(), 409
        except MinutesError as exc:
            _flash_error(exc)
            status = 400
        else:
            flash(_("Saved as revision %(n)s.", n=minutes.revision), "info")
            return redirect(url_for("minutes.view", minutes_id=minutes.id))
    elif request.method == "POST":
        status = 400
    return render_template("minutes/edit.html", minutes=minutes, body=body, base=base, form=form,
                           conflict=conflict, latest=service.current_body(minutes)), status


@bp.route("/minutes/<int:minutes_id>/compare")
@guard(policy.can_view_minutes)
def compare(minutes_id: int):
    minutes = _minutes(minutes_id)
    a = arg_int("a") or max(1, minutes.revision - 1)
    b = arg_int("b") or minutes.revision
    try:
        lines = service.compare(minutes, a, b)
    except MinutesError:
        abort(404)
    return render_template("minutes/compare.html", minutes=minutes, a=a, b=b, lines=lines, form=EmptyForm(),
                           can_edit=policy.can_edit_minutes(current_user, minutes_id=minutes.id))


def _post(minutes_id: int, action, ok_message: str):  # noqa: ANN001, ANN202
    minutes = _minutes(minutes_id)
    if EmptyForm().validate_on_submit():
        try:
            action(minutes)
        except MinutesError as exc:
            _flash_error(exc)
        else:
            flash(ok_message, "info")
    return redirect(url_for("minutes.view", minutes_id=minutes.id))


@bp.route("/minutes/<int:minutes_id>/restore/<int:number>", methods=["POST"])
@guard(policy.can_edit_minutes)
def restore(minutes_id: int, number: int):
    return _post(minutes_id, lambda m: service.restore_revision(current_actor(), m, number),
                 _("Revision %(n)s restored as a new revision.", n=number))


@bp.route("/minutes/<int:minutes_id>/circulate", methods=["POST"])
@guard(policy.can_edit_minutes)
def circulate(minutes_id: int):
    def act(minutes):  # noqa: ANN001, ANN202
        meeting = meetings.get_meeting(minutes.meeting_id)
        try:
            local = datetime.fromisoformat(request.form.get("deadline", ""))
        except ValueError as exc:
            raise MinutesError("Give a valid deadline for comments.") from exc
        service.circulate(current_actor(), minutes, local.replace(tzinfo=ZoneInfo(meeting.timezone)))

    return _post(minutes_id, act, _("The minutes were circulated to the members."))


@bp.route("/minutes/<int:minutes_id>/comment", methods=["POST"])
@guard(policy.can_comment_minutes)
def comment(minutes_id: int):
    return _post(minutes_id, lambda m: service.add_comment(current_actor(), m, request.form.get("body", "")),
                 _("Your comment was recorded."))


@bp.route("/minutes/<int:minutes_id>/approve", methods=["POST"])
@guard(policy.can_approve_minutes)
def approve(minutes_id: int):
    return _post(minutes_id, lambda m: service.approve(current_actor(), m),
                 _("The minutes are approved; the final PDF is being produced."))


@bp.route("/minutes/<int:minutes_id>/sign", methods=["POST"])
@guard(policy.can_approve_minutes)
def sign(minutes_id: int):
    return _post(minutes_id, lambda m: service.sign_again(current_actor(), m), _("The minutes are signed."))


@bp.route("/minutes/<int:minutes_id>/correction", methods=["POST"])
@guard(policy.can_edit_minutes)
def correction(minutes_id: int):
    minutes = _minutes(minutes_id)
    if EmptyForm().validate_on_submit():
        try:
            new = service.make_correction(current_actor(), minutes)
        except MinutesError as exc:
            _flash_error(exc)
        else:
            return redirect(url_for("minutes.edit", minutes_id=new.id))
    return redirect(url_for("minutes.view", minutes_id=minutes.id))


@bp.route("/minutes/<int:minutes_id>/final.pdf")
@guard(policy.can_view_minutes)
def final_pdf(minutes_id: int):
    minutes = _minutes(minutes_id)
    document = service.final_pdf(minutes)
    if document is None:
        abort(404)
    response = Response(document, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="minutes-{minutes.id}.pdf"'
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


# --- conclusions and action items ----------------------------------------------------------------

@bp.route("/meetings/<int:meeting_id>/conclusion", methods=["POST"])
@guard(policy.can_write_conclusions)
def save_conclusion(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    if EmptyForm().validate_on_submit():
        try:
            service.save_conclusion(current_actor(), meeting, request.form.get("body", ""))
        except MinutesError as exc:
            _flash_error(exc)
        else:
            flash(_("Changes saved."), "info")
    return redirect(url_for("minutes.meeting_record", meeting_id=meeting.id))


@bp.route("/meetings/<int:meeting_id>/conclusion/issue", methods=["POST"])
@guard(policy.can_issue_conclusions)
def issue_conclusion(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    if EmptyForm().validate_on_submit():
        try:
            service.issue_conclusion(current_actor(), meeting)
        except MinutesError as exc:
            _flash_error(exc)
        else:
            flash(_("The conclusions are issued."), "info")
    return redirect(url_for("minutes.meeting_record", meeting_id=meeting.id))


@bp.route("/meetings/<int:meeting_id>/actions", methods=["POST"])
@guard(policy.can_write_conclusions)
def add_action(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    form = action_form()
    if form.validate_on_submit():
        try:
            service.add_action(current_actor(), meeting, service.ActionData(
                title=form.title.data, ministry="", due_date=form.due, responsible_id=form.responsible_id.picked,
                organisation_id=form.organisation_id.picked))
        except MinutesError as exc:
            _flash_error(exc)
        else:
            flash(_("Action item added."), "info")
    else:
        for field in form:
            for error in field.errors:
                flash(f"{field.label.text}: {error}", "error")
    return redirect(url_for("minutes.meeting_record", meeting_id=meeting.id))


@bp.route("/actions")
@guard(policy.can_list_actions)
def actions():
    ministry = (request.args.get("ministry") or "")[:200] or (
        None if current_user.role.value == "secretary" else current_user.organisation)
    items = service.actions_for(ministry=ministry)
    return render_template("minutes/actions.html", items=items, ministry=ministry, form=EmptyForm(),
                           is_overdue=service.is_overdue, statuses=list(ActionStatus))


@bp.route("/actions/<int:action_id>/update", methods=["POST"])
@guard(policy.can_update_action)
def update_action(action_id: int):
    action = service.get_action(action_id)
    if EmptyForm().validate_on_submit():
        try:
            service.update_action(current_actor(), action, request.form.get("status", ""),
                                  request.form.get("note", ""))
        except MinutesError as exc:
            _flash_error(exc)
        else:
            flash(_("Progress recorded."), "info")
    return redirect(request.form.get("next") if (request.form.get("next") or "").startswith("/")
                    and not request.form.get("next", "").startswith("//") else url_for("minutes.actions"))


# --- archive --------------------------------------------------------------------------------------

@bp.route("/archive")
@guard(policy.can_browse_archive)
def archive():
    year = arg_int("year")
    query = (request.args.get("q") or "").strip()[:200]
    hits = service.search_archive(current_user, query) if query else []
    from ecabinet.documents.search import search as search_documents

    # The documents the user may see, through the documents domain's own search and policy.
    document_hits = search_documents(current_user, query) if query else []
    return render_template("minutes/archive.html", years=service.archive_years(), year=year, query=query,
                           hits=hits, document_hits=document_hits,
                           meetings=service.archive_meetings(current_user, year))


@bp.route("/meetings/<int:meeting_id>/export.zip")
@guard(policy.can_see_record)
def export(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    data = service.export_record(current_actor(), meeting)
    response = Response(data, mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="meeting-{meeting.id}-record.zip"'
    return response
