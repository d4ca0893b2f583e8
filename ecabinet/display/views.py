"""Room displays: the secretariat's page that issues and revokes them, and the screen's own pages.

The screen's pages are public on purpose: a screen has no account. What lets it in is its token
(``policy.display_of``), first in its link, then in an HttpOnly cookie, so that the address bar and
the browser's history of a projector in a room do not show it.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ecabinet.core.actor import current_actor
from ecabinet.core.errors import DomainError
from ecabinet.core.policy import guard, public
from ecabinet.display import events, policy, service
from ecabinet.display.forms import IssueDisplayForm
from ecabinet.display.models import WithheldItems
from ecabinet.meetings.models import Meeting
from ecabinet.meetings.queries import meeting_or_404

bp = Blueprint("display", __name__)

COOKIE_DAYS = 30


def _manage_page(meeting: Meeting, form: IssueDisplayForm, *, link: str | None = None, status: int = 200):
    return render_template("display/manage.html", meeting=meeting, form=form, link=link,
                           displays=service.displays_of(meeting), WithheldItems=WithheldItems), status


@bp.route("/meetings/<int:meeting_id>/displays")
@guard(policy.can_manage_displays)
def manage(meeting_id: int):
    return _manage_page(meeting_or_404(meeting_id), IssueDisplayForm())


@bp.route("/meetings/<int:meeting_id>/displays", methods=["POST"])
@guard(policy.can_manage_displays)
def issue(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    form = IssueDisplayForm()
    if not form.validate_on_submit():
        return _manage_page(meeting, form, status=400)
    try:
        _display, token = service.issue_display(current_actor(), meeting, form.label.data, form.withheld.data)
    except DomainError as exc:
        form.label.errors = [exc.translated()]
        return _manage_page(meeting, form, status=400)
    # Shown once, on this answer only: the token is not kept, and not put in a flash message (a cookie).
    link = url_for("display.open_link", token=token, _external=True)
    return _manage_page(meeting, IssueDisplayForm(formdata=None), link=link)


@bp.route("/meetings/<int:meeting_id>/displays/<int:display_id>/revoke", methods=["POST"])
@guard(policy.can_manage_displays)
def revoke(meeting_id: int, display_id: int):
    meeting = meeting_or_404(meeting_id)
    try:
        display = service.revoke_display(current_actor(), meeting, display_id)
    except DomainError:
        abort(404)
    events.tell_screen(display.id)  # after the commit: the screen asks again, is refused, goes dark
    return redirect(url_for("display.manage", meeting_id=meeting.id))


# --- the screen ------------------------------------------------------------------------------------

@bp.route("/display/open/<token>")
@public
def open_link(token: str):
    """The link given to the screen: keeps its token in a cookie and goes to the screen's page."""
    display = policy.display_of(token)
    if display is None:
        return render_template("display/not_connected.html", reason="invalid"), 404
    response = make_response(redirect(url_for("display.screen")))
    response.set_cookie(policy.COOKIE, token, max_age=COOKIE_DAYS * 86400, path="/", httponly=True,
                        secure=current_app.config.get("SESSION_COOKIE_SECURE", True), samesite="Strict")
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/display")
@public
def screen():
    display = policy.display_of(request.cookies.get(policy.COOKIE))
    if display is None:
        return render_template("display/not_connected.html", reason="none"), 403
    service.seen(display)
    return render_template("display/screen.html", display=display, meeting=display.meeting)


@bp.route("/display/state")
@public
def state():
    display = policy.display_of(request.cookies.get(policy.COOKIE))
    if display is None:
        return jsonify(error=_("This screen is no longer connected to a meeting.")), 403
    service.seen(display)
    answer = jsonify(service.room_state(display))
    answer.headers["Cache-Control"] = "no-store"
    return answer


@bp.route("/display/after")
@public
def after():
    """Where a screen goes when it is revoked: nothing of the meeting, and no way back without a new link."""
    response = make_response(render_template("display/not_connected.html", reason="revoked"), 403)
    response.delete_cookie(policy.COOKIE, path="/")
    return response

