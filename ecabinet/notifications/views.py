"""Notification actions: marking one's notifications as read (they are listed on the home page)."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for

from ecabinet.accounts.forms import EmptyForm
from ecabinet.core.actor import current_actor
from ecabinet.core.policy import guard
from ecabinet.notifications import policy, service

bp = Blueprint("notifications", __name__)


@bp.route("/notifications/read", methods=["POST"])
@guard(policy.can_read_notifications)
def mark_read():
    if EmptyForm().validate_on_submit():
        service.mark_all_read(current_actor())
    return redirect(url_for("home.index"))
