"""Meeting pages. Thin: the policy decides (``@guard``), the service acts, the view renders or redirects."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ecabinet.accounts import service as accounts
from ecabinet.accounts.forms import EmptyForm
from ecabinet.accounts.models import Role
from ecabinet.core.actor import current_actor
from ecabinet.core.i18n import default_timezone, is_known_timezone, zone_of
from ecabinet.core.policy import guard
from ecabinet.core.schemas import form_int, json_body
from ecabinet.meetings import ics, policy, service
from ecabinet.meetings.forms import (
    LABELS,
    BulkForm,
    CheckInForm,
    CheckInManyForm,
    CopyForm,
    GuestForm,
    InterestForm,
    ItemForm,
    MeetingForm,
    ParticipantForm,
    PositionForm,
    ResponseForm,
    offer_item_choices,
    timezone_choices,
)
from ecabinet.meetings.models import Meeting, MeetingItem, MeetingParticipant, ParticipantRole
from ecabinet.meetings.queries import meeting_or_404
from ecabinet.meetings.schemas import ReorderAgenda
from ecabinet.meetings.service import BulkChanges, ItemData, MeetingData, MeetingError, NotInvited

bp = Blueprint("meetings", __name__)


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"meeting_labels": LABELS}


# --- helpers -------------------------------------------------------------------------------------

def _item(meeting: Meeting, item_id: int) -> MeetingItem:
    item = next((i for i in policy.visible_items(current_user, meeting) if i.id == item_id), None)
    if item is None:
        abort(404)
    return item


def _participant(meeting: Meeting, participant_id: int) -> MeetingParticipant:
    participant = service.get_participant(meeting, participant_id)
    if participant is None:
        abort(404)
    return participant


def _attempt(action: Callable[..., Any], *args: Any, done: str | None = None, **kwargs: Any) -> bool:
    """Run a service call; show its refusal as a clear message instead of an error page."""
    try:
        action(*args, **kwargs)
    except NotInvited:
        abort(404)
    except MeetingError as exc:
        flash(exc.translated(), "error")
        return False
    if done:
        flash(done, "info")
    return True


def _form_errors(form) -> None:  # noqa: ANN001
    for errors in form.errors.values():
        for error in errors:
            flash(str(error), "error")


def _back(meeting: Meeting, anchor: str = "") -> Response:
    return redirect(url_for("meetings.show", meeting_id=meeting.id) + anchor)


def _aware(value: datetime, zone: str) -> datetime:
    return value.replace(tzinfo=zone_of(zone))


def _local(value: datetime, zone: str) -> datetime:
    return value.astimezone(zone_of(zone)).replace(tzinfo=None)


def _chairs() -> list[tuple[int, str]]:
    return [(0, _("(none)"))] + [(u.id, u.name) for u in service.users_with_role(Role.CHAIR)]


def _meeting_data(form: MeetingForm) -> MeetingData:
    zone = (form.timezone.data or "").strip()
    if not is_known_timezone(zone):
        raise MeetingError("“%(zone)s” is not a known time zone: choose one from the list, e.g. Asia/Ho_Chi_Minh.",
                           zone=zone[:64])
    return MeetingData(title=form.title.data, kind=form.kind.data, starts_at=_aware(form.starts_at.data, zone),
                       ends_at=_aware(form.ends_at.data, zone), timezone=zone, place=form.place.data or "",
                       mode=form.mode.data, chair_id=form.chair_id.data or None,
                       conflict_policy=form.conflict_policy.data, quorum_rule=form.quorum_rule.data,
                       quorum_fixed=form.quorum_fixed.data)


def _item_data(form: ItemForm, item: MeetingItem | None = None) -> ItemData:
    # A ministry or presenter typed before the lists existed (and not linked) stays until one is picked.
    ministry = item.ministry if item is not None and item.organisation_id is None else ""
    presenter = item.presenter if item is not None and item.presenter_id is None else ""
    return ItemData(title=form.title.data, ministry=ministry, presenter=presenter,
                    organisation_id=form.organisation_id.picked, presenter_id=form.presenter_id.picked,
                    duration_minutes=form.duration_minutes.data, summary=form.summary.data or "",
                    kind=form.kind.data, confidentiality=form.confidentiality.data)


# --- meetings ------------------------------------------------------------------------------------

@bp.route("/meetings")
@guard(policy.can_list_meetings)
def index():
    meetings = [m for m in service.list_meetings_for(current_user) if policy.can_see_meeting(current_user, m)]
    return render_template("meetings/index.html", meetings=meetings,
                           can_create=policy.can_create_meeting(current_user))


@bp.route("/meetings/new", methods=["GET", "POST"])
@guard(policy.can_create_meeting)
def create():
    form = MeetingForm()
    form.chair_id.choices = _chairs()
    form.timezone.choices = timezone_choices()
    if request.method == "GET":
        form.timezone.data = default_timezone()
        if len(form.chair_id.choices) == 2:
            form.chair_id.data = form.chair_id.choices[1][0]
    if form.validate_on_submit():
        try:
            meeting = service.create_meeting(current_actor(), _meeting_data(form))
        except MeetingError as exc:
            flash(exc.translated(), "error")
        else:
            flash(_("Meeting created. Now build its agenda."), "info")
            return _back(meeting)
    return render_template("meetings/meeting_form.html", form=form, meeting=None), 400 if form.errors else 200


@bp.route("/meetings/<int:meeting_id>/edit", methods=["GET", "POST"])
@guard(policy.can_edit_agenda)
def edit(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    form = MeetingForm(obj=meeting) if request.method == "GET" else MeetingForm()
    form.chair_id.choices = _chairs()
    form.timezone.choices = timezone_choices(meeting.timezone)
    if request.method == "GET":
        form.starts_at.data = _local(meeting.starts_at, meeting.timezone)
        form.ends_at.data = _local(meeting.ends_at, meeting.timezone)
        form.chair_id.data = meeting.chair_id or 0
        for name in ("kind", "mode", "conflict_policy", "quorum_rule"):
            getattr(form, name).data = getattr(meeting, name).value
    if form.validate_on_submit():
        try:
            service.update_meeting(current_actor(), meeting, _meeting_data(form))
        except MeetingError as exc:
            flash(exc.translated(), "error")
        else:
            flash(_("Changes saved."), "info")
            return _back(meeting)
    return render_template("meetings/meeting_form.html", form=form, meeting=meeting), 400 if form.errors else 200


@bp.route("/meetings/<int:meeting_id>/copy", methods=["GET", "POST"])
@guard(policy.can_edit_agenda)
def copy(meeting_id: int):
    source = meeting_or_404(meeting_id)
    form = CopyForm()
    if request.method == "GET":
        form.title.data = source.title
        form.starts_at.data = _local(source.starts_at + timedelta(days=7), source.timezone)
    if form.validate_on_submit():
        try:
            meeting = service.copy_meeting(current_actor(), source, _aware(form.starts_at.data, source.timezone),
                                           form.title.data)
        except MeetingError as exc:
            flash(exc.translated(), "error")
        else:
            flash(_("A new draft was made from this meeting."), "info")
            return _back(meeting)
    return render_template("meetings/copy.html", form=form, meeting=source), 400 if form.errors else 200


@bp.route("/meetings/<int:meeting_id>")
@guard(policy.can_view_meeting)
def show(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    user = current_user
    participant = service.participant_of(meeting, user)
    items = policy.visible_items(user, meeting)
    diff = None
    if participant is not None and meeting.agenda_version:
        if participant.last_seen_version == 0:
            service.mark_version_seen(current_actor(), meeting)  # first look: nothing to compare with
        elif participant.last_seen_version < meeting.agenda_version:
            diff = service.diff_versions(meeting, participant.last_seen_version,
                                         visible_ids={i.id for i in items})
    # Held until the page is rendered: the session keeps loaded objects only while something refers to them.
    agenda = service.agenda_for_page(meeting)  # noqa: F841
    is_member = participant is not None and participant.is_voting_member
    response_form = ResponseForm()
    if participant is not None and request.method == "GET" and participant.responded_at:
        response_form.attendance.data = participant.attendance.value
        response_form.substitute_name.data = participant.substitute_name
    return render_template(
        "meetings/meeting.html", meeting=meeting, items=items, participant=participant, diff=diff,
        is_member=is_member, is_secretary=policy.can_edit_agenda(user, meeting_id=meeting.id),
        is_chair=policy.is_chair_of(user, meeting),
        can_see_positions=policy.can_see_positions(user, meeting_id=meeting.id),
        can_see_participants=policy.can_see_participants(user, meeting_id=meeting.id),
        positions={i.id: service.position_of(i, user) for i in items},
        recused={i.id for i in items if policy.is_recused(user, i)},
        quorum=service.quorum(meeting), steps=service.available_steps(user, meeting),
        consent=service.consent_block(meeting), interests=service.interests_of(meeting),
        item_form=offer_item_choices(ItemForm(formdata=None)),
        bulk_form=offer_item_choices(BulkForm(formdata=None, prefix="bulk")), position_form=PositionForm,
        response_form=response_form, check_in_form=CheckInForm(formdata=None), empty=EmptyForm(),
        editable=meeting.status in service.EDITABLE)


@bp.route("/meetings/<int:meeting_id>/publish", methods=["POST"])
@guard(policy.can_edit_agenda)
def publish(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    if EmptyForm().validate_on_submit():
        _attempt(service.publish, current_actor(), meeting,
                 done=_("Agenda published; every participant has been notified."))
    return _back(meeting)


@bp.route("/meetings/<int:meeting_id>/step/<step>", methods=["POST"])
@guard(policy.can_run_meeting)
def step(meeting_id: int, step: str):
    meeting = meeting_or_404(meeting_id)
    action = service.STEP_FUNCTIONS.get(step)
    if action is None:
        abort(404)
    if EmptyForm().validate_on_submit():
        _attempt(action, current_actor(), meeting, done=_("Done."))
    return _back(meeting)


@bp.route("/meetings/<int:meeting_id>/seen", methods=["POST"])
@guard(policy.can_view_meeting)
def seen(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    if EmptyForm().validate_on_submit():
        _attempt(service.mark_version_seen, current_actor(), meeting)
    return _back(meeting)


@bp.route("/meetings/<int:meeting_id>/calendar.ics")
@guard(policy.can_download_calendar)
def calendar(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    body = ics.meeting_calendar(meeting, url_for("meetings.show", meeting_id=meeting.id, _external=True))
    return Response(body, mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="meeting-{meeting.id}.ics"'})


# --- agenda items ----------------------------------------------------------------------------------

@bp.route("/meetings/<int:meeting_id>/items", methods=["POST"])
@guard(policy.can_edit_agenda)
def item_add(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    form = offer_item_choices(ItemForm())
    if form.validate_on_submit():
        _attempt(service.add_item, current_actor(), meeting, _item_data(form), done=_("Item added."))
    else:
        _form_errors(form)
    return _back(meeting, "#agenda")


@bp.route("/meetings/<int:meeting_id>/items/<int:item_id>")
@guard(policy.can_view_item)
def item(meeting_id: int, item_id: int):
    meeting = meeting_or_404(meeting_id)
    it = _item(meeting, item_id)
    user = current_user
    participant = service.participant_of(meeting, user)
    is_secretary = policy.can_edit_agenda(user, meeting_id=meeting.id)
    mine = service.position_of(it, user)
    position_form = PositionForm(formdata=None, position=mine.position.value if mine else None,
                                 comment=mine.comment if mine else "")
    guest_form = None
    if is_secretary:
        guest_form = GuestForm(formdata=None)
        invited = {p.user_id for p in service.guests_of(it)}
        guest_form.user_id.choices = [(u.id, u.name) for u in service.users_with_role(Role.GUEST)
                                      if u.id not in invited]
    return render_template(
        "meetings/item.html", meeting=meeting, item=it, participant=participant,
        is_member=participant is not None and participant.is_voting_member, is_secretary=is_secretary,
        can_see_positions=policy.can_see_positions(user, meeting_id=meeting.id),
        position=mine, position_form=position_form, interest_form=InterestForm(formdata=None),
        recused=policy.is_recused(user, it), guests=service.guests_of(it), guest_form=guest_form,
        empty=EmptyForm(), item_quorum=service.item_quorum(meeting, it),
        missing=service.missing_positions(meeting, it) if it.kind.value == "decision" else [],
        speakers=service.speaker_requests(meeting, it))


@bp.route("/meetings/<int:meeting_id>/items/<int:item_id>/edit", methods=["GET", "POST"])
@guard(policy.can_edit_item)
def item_edit(meeting_id: int, item_id: int):
    meeting = meeting_or_404(meeting_id)
    it = _item(meeting, item_id)
    form = offer_item_choices(ItemForm(obj=it) if request.method == "GET" else ItemForm(), it.organisation_id,
                              it.presenter_id)
    if request.method == "GET":
        form.kind.data, form.confidentiality.data = it.kind.value, it.confidentiality.value
    if form.validate_on_submit():
        if _attempt(service.update_item, current_actor(), it, _item_data(form, it), done=_("Changes saved.")):
            return _back(meeting, "#agenda")
    return render_template("meetings/item_form.html", form=form, meeting=meeting, item=it), \
        400 if form.errors else 200


@bp.route("/meetings/<int:meeting_id>/items/<int:item_id>/delete", methods=["POST"])
@guard(policy.can_edit_item)
def item_delete(meeting_id: int, item_id: int):
    meeting = meeting_or_404(meeting_id)
    it = _item(meeting, item_id)
    if EmptyForm().validate_on_submit():
        _attempt(service.delete_item, current_actor(), it, done=_("Item deleted."))
    return _back(meeting, "#agenda")


@bp.route("/meetings/<int:meeting_id>/items/<int:item_id>/move", methods=["POST"])
@guard(policy.can_edit_item)
def item_move(meeting_id: int, item_id: int):
    meeting = meeting_or_404(meeting_id)
    it = _item(meeting, item_id)
    if EmptyForm().validate_on_submit():
        _attempt(service.move_item, current_actor(), it, -1 if request.form.get("direction") == "up" else 1)
    return _back(meeting, f"#item-{it.id}")


@bp.route("/meetings/<int:meeting_id>/reorder", methods=["POST"])
@guard(policy.can_edit_agenda)
def reorder(meeting_id: int):
    """JSON ``{"order": [item ids]}``; the CSRF token comes in the X-CSRFToken header."""
    order = json_body(ReorderAgenda).order  # not a list of ids: a 400 naming the field
    meeting = meeting_or_404(meeting_id)
    try:
        service.reorder_items(current_actor(), meeting, order)
    except MeetingError as exc:
        return {"ok": False, "error": exc.translated()}, 400
    return {"ok": True, "order": [i.id for i in meeting.items]}


@bp.route("/meetings/<int:meeting_id>/bulk", methods=["POST"])
@guard(policy.can_edit_agenda)
def bulk(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    # Prefixed: the add-item form on the same page has fields of the same names.
    form = offer_item_choices(BulkForm(prefix="bulk"))
    if not form.validate_on_submit():
        _form_errors(form)
        return _back(meeting, "#agenda")
    ids = request.form.getlist("item_ids")
    if request.form.get("action") == "delete":
        _attempt(service.bulk_delete, current_actor(), meeting, ids, done=_("Selected items deleted."))
    else:
        changes = BulkChanges(kind=form.kind.data or None, confidentiality=form.confidentiality.data or None,
                              organisation_id=form.organisation_id.picked, duration_minutes=form.duration_minutes.data)
        _attempt(service.bulk_edit, current_actor(), meeting, ids, changes, done=_("Selected items changed."))
    return _back(meeting, "#agenda")


@bp.route("/meetings/<int:meeting_id>/items/<int:item_id>/position", methods=["POST"])
@guard(policy.can_mark_position)
def position(meeting_id: int, item_id: int):
    meeting = meeting_or_404(meeting_id)
    it = _item(meeting, item_id)
    form = PositionForm()
    if form.validate_on_submit():
        _attempt(service.mark_position, current_actor(), it, form.position.data, form.comment.data or "",
                 done=_("Your position is saved."))
    else:
        _form_errors(form)
    if request.form.get("next") == "item":
        return redirect(url_for("meetings.item", meeting_id=meeting.id, item_id=it.id))
    return _back(meeting, f"#item-{it.id}")


@bp.route("/meetings/<int:meeting_id>/items/<int:item_id>/interest", methods=["POST"])
@guard(policy.can_declare_interest)
def interest(meeting_id: int, item_id: int):
    meeting = meeting_or_404(meeting_id)
    it = _item(meeting, item_id)
    form = InterestForm()
    if form.validate_on_submit():
        _attempt(service.declare_interest, current_actor(), it, form.reason.data or "",
                 done=_("Your declaration of interest is recorded."))
    else:
        _form_errors(form)
    return _back(meeting)


@bp.route("/meetings/<int:meeting_id>/items/<int:item_id>/guests", methods=["POST"])
@guard(policy.can_edit_item)
def guest_add(meeting_id: int, item_id: int):
    meeting = meeting_or_404(meeting_id)
    it = _item(meeting, item_id)
    form = GuestForm()
    form.user_id.choices = [(u.id, u.name) for u in service.users_with_role(Role.GUEST, active_only=False)]
    if form.validate_on_submit():
        user = accounts.get_user(form.user_id.data)
        if user is not None:
            _attempt(service.invite_guest, current_actor(), it, user, done=_("Guest invited to this item."))
    else:
        _form_errors(form)
    return redirect(url_for("meetings.item", meeting_id=meeting.id, item_id=it.id))


@bp.route("/meetings/<int:meeting_id>/items/<int:item_id>/guests/<int:participant_id>/remove", methods=["POST"])
@guard(policy.can_edit_item)
def guest_remove(meeting_id: int, item_id: int, participant_id: int):
    meeting = meeting_or_404(meeting_id)
    it = _item(meeting, item_id)
    participant = _participant(meeting, participant_id)
    if EmptyForm().validate_on_submit():
        _attempt(service.uninvite_guest, current_actor(), it, participant, done=_("Guest removed from this item."))
    return redirect(url_for("meetings.item", meeting_id=meeting.id, item_id=it.id))


# --- participants, attendance, positions overview ----------------------------------------------------

@bp.route("/meetings/<int:meeting_id>/respond", methods=["POST"])
@guard(policy.can_respond)
def respond(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    form = ResponseForm()
    if form.validate_on_submit():
        _attempt(service.respond, current_actor(), meeting, form.attendance.data,
                 substitute_name=form.substitute_name.data or "", done=_("Your answer is saved."))
    else:
        _form_errors(form)
    return _back(meeting)


@bp.route("/meetings/<int:meeting_id>/check-in", methods=["POST"])
@guard(policy.can_check_in)
def check_in(meeting_id: int):
    """Check oneself in (members), or — with participant_id — someone else (the secretariat)."""
    meeting = meeting_or_404(meeting_id)
    form = CheckInForm()
    target = form_int("participant_id")
    participant = _participant(meeting, target) if target else service.participant_of(meeting, current_user)
    if participant is None:
        abort(404)
    if form.validate_on_submit():
        _attempt(service.check_in, current_actor(), meeting, participant, form.mode.data, done=_("Checked in."))
    if target:
        return redirect(url_for("meetings.participants", meeting_id=meeting.id))
    return _back(meeting)


@bp.route("/meetings/<int:meeting_id>/check-out", methods=["POST"])
@guard(policy.can_check_in)
def check_out(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    target = form_int("participant_id")
    participant = _participant(meeting, target) if target else service.participant_of(meeting, current_user)
    if participant is None:
        abort(404)
    if EmptyForm().validate_on_submit():
        _attempt(service.check_out, current_actor(), meeting, participant, done=_("Checked out."))
    if target:
        return redirect(url_for("meetings.participants", meeting_id=meeting.id))
    return _back(meeting)


@bp.route("/meetings/<int:meeting_id>/participants")
@guard(policy.can_see_participants)
def participants(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    is_secretary = policy.can_manage_participants(current_user, meeting_id=meeting.id)
    order = {ParticipantRole.CHAIR: 0, ParticipantRole.MEMBER: 1, ParticipantRole.SECRETARY: 2,
             ParticipantRole.GUEST: 3}
    rows = sorted(meeting.participants, key=lambda p: (order[p.role], p.user.name))
    secretariat = {}
    if is_secretary:  # the bulk tools: invite by list or ministry, check in, invitations and reminders
        secretariat = {"groups": service.ministry_groups(service.invitable_users(meeting)),
                       "told": service.notices_of(meeting),
                       "acknowledged": {p.id for p in rows if service.has_acknowledged(meeting, p)},
                       "waiting": len(service.awaiting_acknowledgement(meeting)),
                       "check_in_many_form": CheckInManyForm(formdata=None)}
    return render_template("meetings/participants.html", meeting=meeting, rows=rows, is_secretary=is_secretary,
                           is_chair=policy.is_chair_of(current_user, meeting), quorum=service.quorum(meeting),
                           empty=EmptyForm(), **secretariat)


@bp.route("/meetings/<int:meeting_id>/participants/add", methods=["POST"])
@guard(policy.can_manage_participants)
def participant_add(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    form = ParticipantForm()
    form.user_id.choices = [(u.id, u.name) for u in service.users_with_role(*Role, active_only=False)]
    if form.validate_on_submit():
        user = accounts.get_user(form.user_id.data)
        if user is not None:
            _attempt(service.add_participant, current_actor(), meeting, user, form.role.data,
                     done=_("Participant added."))
    else:
        _form_errors(form)
    return redirect(url_for("meetings.participants", meeting_id=meeting.id))


@bp.route("/meetings/<int:meeting_id>/participants/<int:participant_id>/remove", methods=["POST"])
@guard(policy.can_manage_participants)
def participant_remove(meeting_id: int, participant_id: int):
    meeting = meeting_or_404(meeting_id)
    participant = _participant(meeting, participant_id)
    if EmptyForm().validate_on_submit():
        _attempt(service.remove_participant, current_actor(), participant, done=_("Participant removed."))
    return redirect(url_for("meetings.participants", meeting_id=meeting.id))


@bp.route("/meetings/<int:meeting_id>/participants/<int:participant_id>/substitute", methods=["POST"])
@guard(policy.can_run_meeting)
def substitute_vote(meeting_id: int, participant_id: int):
    meeting = meeting_or_404(meeting_id)
    participant = _participant(meeting, participant_id)
    if EmptyForm().validate_on_submit():
        _attempt(service.set_substitute_may_vote, current_actor(), participant,
                 request.form.get("may_vote") == "1", done=_("Changes saved."))
    return redirect(url_for("meetings.participants", meeting_id=meeting.id))


@bp.route("/meetings/<int:meeting_id>/positions")
@guard(policy.can_see_positions)
def positions(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    return render_template("meetings/positions.html", meeting=meeting, rows=service.positions_overview(meeting),
                           consent=service.consent_block(meeting), quorum=service.quorum(meeting),
                           is_chair=policy.is_chair_of(current_user, meeting), empty=EmptyForm())


@bp.route("/meetings/<int:meeting_id>/consent", methods=["POST"])
@guard(policy.can_run_meeting)
def consent(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    if EmptyForm().validate_on_submit():
        _attempt(service.adopt_consent_block, current_actor(), meeting,
                 done=_("The consent block is adopted."))
    return redirect(url_for("meetings.positions", meeting_id=meeting.id))


# The secretariat's bulk work (several people at once, notices, templates, imports) registers its routes
# on this blueprint.
from ecabinet.meetings import calendar_views as _calendar_views  # noqa: E402, F401 - a person's calendar feed
from ecabinet.meetings import secretariat_views as _secretariat_views  # noqa: E402, F401
