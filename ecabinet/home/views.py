"""The home page: what each domain has for the signed-in user (meetings, and through the meetings'
``home_sections`` hook documents and ballots), and their notifications."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from ecabinet.accounts import policy as account_policy
from ecabinet.core.policy import guard
from ecabinet.meetings import service as meetings
from ecabinet.notifications import service as notifications

bp = Blueprint("home", __name__)

RECENT_NOTIFICATIONS = 10


@bp.route("/")
@guard(account_policy.signed_in)
def index():
    return render_template("home/home.html", user=current_user, home=meetings.member_home(current_user),
                           notifications=notifications.notifications_for(current_user, RECENT_NOTIFICATIONS),
                           unread=notifications.unread_count(current_user),
                           notification_text=notifications.notification_text)
