"""The list of organisations, for administrators and the secretariat. Thin: policy, then service, then
render; the guard commits once."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ecabinet.audit import words as audit_words
from ecabinet.core.actor import current_actor
from ecabinet.core.policy import guard
from ecabinet.extensions import db
from ecabinet.organisations import policy, service
from ecabinet.organisations.forms import ConfirmForm, OrganisationForm
from ecabinet.organisations.models import Organisation
from ecabinet.organisations.service import OrganisationData, OrganisationError

bp = Blueprint("organisations", __name__)


@audit_words.names.register("organisation")
def _names_for_audit(ids: Collection[int]) -> Mapping[int, str]:
    query = select(Organisation.id, Organisation.name).where(Organisation.id.in_(list(ids)))
    return {row.id: row.name for row in db.session.execute(query)}


def _organisation_or_404(organisation_id: int) -> Organisation:
    organisation = service.get(organisation_id)
    if organisation is None:
        abort(404)
    return organisation


def _data(form: OrganisationForm) -> OrganisationData:
    return OrganisationData(name=form.name.data or "", short_name=form.short_name.data or "")


@bp.route("/admin/organisations")
@guard(policy.can_manage_organisations)
def index():
    organisations = service.list_organisations()
    return render_template("organisations/index.html", organisations=organisations, form=ConfirmForm(),
                           active_count=sum(1 for o in organisations if o.active))


@bp.route("/admin/organisations/new", methods=["GET", "POST"])
@guard(policy.can_manage_organisations)
def new():
    form = OrganisationForm()
    error = None
    if form.validate_on_submit():
        try:
            organisation = service.create(current_actor(), _data(form))
        except OrganisationError as exc:
            error = exc.translated()
        else:
            flash(_("Organisation %(name)s added.", name=organisation.name), "info")
            return redirect(url_for("organisations.index"))
    failed = bool(form.errors or error)
    return render_template("organisations/form.html", form=form, organisation=None, error=error), \
        400 if failed else 200


@bp.route("/admin/organisations/<int:organisation_id>", methods=["GET", "POST"])
@guard(policy.can_manage_organisations)
def edit(organisation_id: int):
    organisation = _organisation_or_404(organisation_id)
    form = OrganisationForm(obj=organisation) if request.method == "GET" else OrganisationForm()
    error = None
    if form.validate_on_submit():
        try:
            service.update(current_actor(), organisation, _data(form))
        except OrganisationError as exc:
            error = exc.translated()
        else:
            flash(_("Changes saved."), "info")
            return redirect(url_for("organisations.index"))
    failed = bool(form.errors or error)
    return render_template("organisations/form.html", form=form, organisation=organisation, error=error,
                           confirm=ConfirmForm()), 400 if failed else 200


@bp.route("/admin/organisations/<int:organisation_id>/deactivate")
@guard(policy.can_manage_organisations)
def confirm_deactivate(organisation_id: int):
    """Deactivating takes the organisation out of every picker: the manager confirms it here first."""
    organisation = _organisation_or_404(organisation_id)
    if not organisation.active:
        return redirect(url_for("organisations.index"))
    return render_template("organisations/deactivate.html", organisation=organisation, form=ConfirmForm())


@bp.route("/admin/organisations/<int:organisation_id>/active", methods=["POST"])
@guard(policy.can_manage_organisations)
def set_active(organisation_id: int):
    organisation = _organisation_or_404(organisation_id)
    active = request.form.get("active") == "1"
    if not active and request.form.get("confirm") != "1":
        # Only the confirmation page's button carries "confirm": anything else asks first.
        return redirect(url_for("organisations.confirm_deactivate", organisation_id=organisation.id))
    if ConfirmForm().validate_on_submit():
        try:
            service.set_active(current_actor(), organisation, active)
        except OrganisationError as exc:
            flash(exc.translated(), "error")
        else:
            flash(_("%(name)s is active again.", name=organisation.name) if active
                  else _("%(name)s is deactivated: it is no longer offered in the lists.", name=organisation.name),
                  "info")
    else:
        flash(_("The form had expired; please try again."), "error")
    return redirect(url_for("organisations.index"))


@bp.route("/admin/organisations/<int:organisation_id>/move", methods=["POST"])
@guard(policy.can_manage_organisations)
def move(organisation_id: int):
    organisation = _organisation_or_404(organisation_id)
    direction = request.form.get("direction", "")
    if direction not in ("up", "down"):
        flash(_("Choose to move the organisation up or down."), "error")
    elif ConfirmForm().validate_on_submit():
        try:
            service.move(current_actor(), organisation, direction)
        except OrganisationError as exc:
            flash(exc.translated(), "error")
    else:
        flash(_("The form had expired; please try again."), "error")
    return redirect(url_for("organisations.index", _anchor=f"organisation-{organisation.id}"))
