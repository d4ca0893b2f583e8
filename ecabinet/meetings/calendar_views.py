"""A person's calendar subscription: the page that makes or revokes its address, and the feed itself.

The feed is public on purpose: a calendar program has no session. Its token is the whole key, so it
opens one person's feed of titles, times and places, and nothing else.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ecabinet.accounts.forms import EmptyForm
from ecabinet.core.actor import current_actor
from ecabinet.core.policy import guard, public
from ecabinet.meetings import ics, policy, service
from ecabinet.meetings.views import bp


def _page(address: str | None = None):
    return render_template("meetings/calendar_feed.html", feed=service.calendar_feed_of(current_user),
                           address=address, form=EmptyForm())


@bp.route("/meetings/calendar")
@guard(policy.can_list_meetings)
def calendar_feed():
    return _page()


@bp.route("/meetings/calendar", methods=["POST"])
@guard(policy.can_list_meetings)
def make_calendar_feed():
    if not EmptyForm().validate_on_submit():
        abort(400)
    token = service.make_calendar_feed(current_actor())
    # Shown on this answer only: the token is not kept, and not put in a flash message (a cookie).
    return _page(url_for("meetings.calendar_subscription", token=token, _external=True))


@bp.route("/meetings/calendar/revoke", methods=["POST"])
@guard(policy.can_list_meetings)
def revoke_calendar_feed():
    if not EmptyForm().validate_on_submit():
        abort(400)
    if service.revoke_calendar_feed(current_actor()):
        flash(_("The calendar address no longer works. Remove the subscription from your calendar."), "info")
    return redirect(url_for("meetings.calendar_feed"))


@bp.route("/calendar/<token>.ics")
@public
def calendar_subscription(token: str):
    user = service.feed_owner(token)
    if user is None:
        abort(404)
    meetings = [(m, url_for("meetings.show", meeting_id=m.id, _external=True)) for m in service.feed_meetings(user)]
    body = ics.meetings_calendar(meetings, name=f"e-Cabinet – {user.name}")
    return Response(body, mimetype="text/calendar",
                    headers={"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer",
                             "Content-Disposition": 'inline; filename="e-cabinet.ics"'})
