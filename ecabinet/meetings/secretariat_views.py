"""The secretariat's bulk work, on the meetings blueprint: inviting several people (or a whole ministry)
at once, checking in everyone present, sending invitations and reminders, agenda templates, and importing
agenda items from a spreadsheet. Thin like the rest: the policy decides (``@guard``), the service acts."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ecabinet.accounts import service as accounts
from ecabinet.accounts.forms import EmptyForm
from ecabinet.core.actor import current_actor
from ecabinet.core.i18n import default_timezone, zone_of
from ecabinet.core.policy import guard
from ecabinet.core.schemas import whole_number
from ecabinet.meetings import policy, service
from ecabinet.meetings.forms import (
    CheckInManyForm,
    ImportConfirmForm,
    ImportForm,
    MeetingForm,
    TemplateForm,
    TemplateNewForm,
    timezone_choices,
)
from ecabinet.meetings.models import ItemKind
from ecabinet.meetings.queries import meeting_or_404
from ecabinet.meetings.service import MeetingError, TemplateItemData
from ecabinet.meetings.service.importing import IMPORT_MAX_BYTES, IMPORT_MAX_ROWS
from ecabinet.meetings.template_models import AgendaTemplate
from ecabinet.meetings.views import _chairs, _meeting_data, _participant, bp

# Blank rows offered under a template's items for new ones.
NEW_TEMPLATE_ROWS = 3


def _ids(name: str) -> list[int]:
    """The ids of the ticked boxes; a malformed one is ignored (it names nothing that can be acted on)."""
    return [n for n in (whole_number(raw) for raw in request.form.getlist(name)) if n is not None]


def _to_participants(meeting_id: int):  # noqa: ANN202
    return redirect(url_for("meetings.participants", meeting_id=meeting_id))


def _refused(exc: MeetingError) -> None:
    flash(exc.translated(), "error")


# --- several people at once ----------------------------------------------------------------------------

@bp.route("/meetings/<int:meeting_id>/participants/add-many", methods=["POST"])
@guard(policy.can_manage_participants)
def participants_add_many(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    if EmptyForm().validate_on_submit():
        users = [u for u in (accounts.get_user(i) for i in _ids("user_ids")) if u is not None]
        try:
            added = service.add_participants(current_actor(), meeting, users)
        except MeetingError as exc:
            _refused(exc)
        else:
            flash(ngettext("%(num)s participant added.", "%(num)s participants added.", len(added)), "info")
    return _to_participants(meeting.id)


@bp.route("/meetings/<int:meeting_id>/participants/add-ministry", methods=["POST"])
@guard(policy.can_manage_participants)
def participants_add_ministry(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    if EmptyForm().validate_on_submit():
        try:
            added = service.add_ministry(current_actor(), meeting, request.form.get("ministry", "")[:200])
        except MeetingError as exc:
            _refused(exc)
        else:
            flash(ngettext("%(num)s participant added.", "%(num)s participants added.", len(added)), "info")
    return _to_participants(meeting.id)


@bp.route("/meetings/<int:meeting_id>/participants/check-in-many", methods=["POST"])
@guard(policy.can_manage_participants)
def participants_check_in(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    form = CheckInManyForm()
    if form.validate_on_submit():
        chosen = [_participant(meeting, i) for i in _ids("participant_ids")]
        try:
            done = service.check_in_many(current_actor(), meeting, chosen, form.mode.data)
        except MeetingError as exc:
            _refused(exc)
        else:
            flash(ngettext("%(num)s member checked in.", "%(num)s members checked in.", done), "info")
    else:
        flash(_("Choose in the room or remote."), "error")
    return _to_participants(meeting.id)


@bp.route("/meetings/<int:meeting_id>/participants/invite", methods=["POST"])
@guard(policy.can_manage_participants)
def participants_invite(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    if EmptyForm().validate_on_submit():
        chosen = [_participant(meeting, i) for i in _ids("participant_ids")]
        try:
            sent = service.send_invitations(current_actor(), meeting, chosen)
        except MeetingError as exc:
            _refused(exc)
        else:
            flash(ngettext("Invitation sent to %(num)s participant.", "Invitation sent to %(num)s participants.",
                           sent), "info")
    return _to_participants(meeting.id)


@bp.route("/meetings/<int:meeting_id>/participants/remind", methods=["POST"])
@guard(policy.can_manage_participants)
def participants_remind(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    if EmptyForm().validate_on_submit():
        try:
            sent = service.send_reminders(current_actor(), meeting)
        except MeetingError as exc:
            _refused(exc)
        else:
            flash(ngettext("Reminder sent to %(num)s participant who has not answered.",
                           "Reminder sent to %(num)s participants who have not answered.", sent), "info")
    return _to_participants(meeting.id)


# --- agenda templates ----------------------------------------------------------------------------------

def _template(template_id: int) -> AgendaTemplate:
    template = service.get_template(template_id)
    if template is None:
        abort(404)
    return template


def _meeting_choices() -> list[tuple[int, str]]:
    meetings = [m for m in service.list_meetings_for(current_user) if m.items]
    return [(0, _("(no meeting: an empty template)"))] + [(m.id, m.title) for m in meetings[:100]]


@bp.route("/meetings/templates", methods=["GET", "POST"])
@guard(policy.can_manage_templates)
def templates():
    form = TemplateNewForm()
    form.meeting_id.choices = _meeting_choices()
    if request.method == "GET" and (source := whole_number(request.args.get("meeting_id"))):
        form.meeting_id.data = source
    if form.validate_on_submit():
        try:
            source = service.get_meeting(form.meeting_id.data) if form.meeting_id.data else None
            if source is not None:
                template = service.template_from_meeting(current_actor(), source, form.name.data)
            else:
                template = service.create_template(current_actor(), form.name.data)
        except MeetingError as exc:
            _refused(exc)
        else:
            flash(_("Template saved."), "info")
            return redirect(url_for("meetings.template_edit", template_id=template.id))
    return render_template("meetings/templates.html", templates=service.list_templates(),
                           form=form), 400 if form.errors else 200


def _posted_items() -> list[TemplateItemData]:
    """The template's rows as posted (item-N-title, -ministry, -duration, -kind, -delete), in the order of
    their position numbers; blank rows and rows ticked for deletion are left out."""
    rows = []
    for n in range(1, 200):
        prefix = f"item-{n}-"
        if prefix + "title" not in request.form:
            continue
        title = request.form.get(prefix + "title", "")
        if request.form.get(prefix + "delete") or not title.strip():
            continue
        order = whole_number(request.form.get(prefix + "position")) or 1000 + n
        data = TemplateItemData(title=title[:400], ministry=request.form.get(prefix + "ministry", "")[:400],
                                duration_minutes=whole_number(request.form.get(prefix + "duration")) or 0,
                                kind=request.form.get(prefix + "kind", "")[:40])
        rows.append((order, n, data))
    return [data for _order, _n, data in sorted(rows, key=lambda r: (r[0], r[1]))]


@bp.route("/meetings/templates/<int:template_id>/edit", methods=["GET", "POST"])
@guard(policy.can_manage_templates)
def template_edit(template_id: int):
    template = _template(template_id)
    form = TemplateForm(obj=template) if request.method == "GET" else TemplateForm()
    if form.validate_on_submit():
        try:
            service.update_template(current_actor(), template, form.name.data, _posted_items())
        except MeetingError as exc:
            _refused(exc)
        else:
            flash(_("Template saved."), "info")
            return redirect(url_for("meetings.template_edit", template_id=template.id))
    return render_template("meetings/template_edit.html", template=template, form=form, new_rows=NEW_TEMPLATE_ROWS,
                           kinds=[k.value for k in ItemKind]), 400 if form.errors else 200


@bp.route("/meetings/templates/<int:template_id>/delete", methods=["POST"])
@guard(policy.can_manage_templates)
def template_delete(template_id: int):
    template = _template(template_id)
    if EmptyForm().validate_on_submit():
        try:
            service.delete_template(current_actor(), template)
        except MeetingError as exc:
            _refused(exc)
        else:
            flash(_("Template deleted."), "info")
    return redirect(url_for("meetings.templates"))


@bp.route("/meetings/templates/<int:template_id>/use", methods=["GET", "POST"])
@guard(policy.can_manage_templates)
def template_use(template_id: int):
    template = _template(template_id)
    form = MeetingForm()
    form.chair_id.choices = _chairs()
    form.timezone.choices = timezone_choices()
    if request.method == "GET":
        form.title.data = template.name
        form.timezone.data = default_timezone()
        # Next Monday at 8:00, for as long as the standing items take (at least an hour).
        today = datetime.now(zone_of(default_timezone())).date()
        start = datetime.combine(today + timedelta(days=(7 - today.weekday()) or 7), time(8, 0))
        form.starts_at.data = start
        form.ends_at.data = start + timedelta(minutes=max(template.total_minutes, 60))
        if len(form.chair_id.choices) == 2:
            form.chair_id.data = form.chair_id.choices[1][0]
    if form.validate_on_submit():
        try:
            meeting = service.meeting_from_template(current_actor(), template, _meeting_data(form))
        except MeetingError as exc:
            _refused(exc)
        else:
            flash(_("Meeting created from the template. Check its agenda."), "info")
            return redirect(url_for("meetings.show", meeting_id=meeting.id))
    return render_template("meetings/template_use.html", template=template, form=form), 400 if form.errors else 200


# --- importing agenda items ------------------------------------------------------------------------------

@bp.route("/meetings/<int:meeting_id>/import", methods=["GET", "POST"])
@guard(policy.can_edit_agenda)
def import_items(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    form = ImportForm()
    preview = confirm = None
    error = None
    if form.validate_on_submit():
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            error = _("Choose a file to import.")
        else:
            try:
                # One byte more than allowed is enough to refuse the file: a larger one is never read whole.
                preview = service.read_spreadsheet(upload.stream.read(IMPORT_MAX_BYTES + 1), upload.filename)
            except MeetingError as exc:
                error = exc.translated()
            else:
                confirm = ImportConfirmForm(formdata=None, rows=service.encode_items(preview))
    elif request.method == "POST":
        error = _("The form has expired: choose the file again.")
    editable = meeting.status in service.EDITABLE
    return render_template("meetings/import.html", meeting=meeting, form=form, preview=preview, confirm=confirm,
                           error=error, editable=editable, max_rows=IMPORT_MAX_ROWS,
                           max_mb=IMPORT_MAX_BYTES // (1024 * 1024)), 400 if error else 200


@bp.route("/meetings/<int:meeting_id>/import/confirm", methods=["POST"])
@guard(policy.can_edit_agenda)
def import_confirm(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        flash(_("The form has expired: choose the file again."), "error")
        return redirect(url_for("meetings.import_items", meeting_id=meeting.id))
    try:
        added = service.import_items(current_actor(), meeting, service.decode_items(form.rows.data or ""))
    except MeetingError as exc:
        _refused(exc)
        return redirect(url_for("meetings.import_items", meeting_id=meeting.id))
    flash(ngettext("%(num)s item imported into the agenda.", "%(num)s items imported into the agenda.", len(added)),
          "info")
    return redirect(url_for("meetings.show", meeting_id=meeting.id) + "#agenda")
