"""The home page: what each domain has for the signed-in user (meetings, and through the meetings'
``home_sections`` hook documents and ballots), and their notifications."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, send_from_directory
from flask_babel import gettext as _
from flask_login import current_user

from ecabinet.accounts import policy as account_policy
from ecabinet.core.i18n import select_locale
from ecabinet.core.policy import guard, public
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


# --- the installable app shell ------------------------------------------------------------------------

@bp.route("/manifest.webmanifest")
@public
def manifest():
    """The web app manifest: from a tablet's home screen the app opens full-screen, in the app's colour."""
    response = jsonify({
        "name": _("e-Cabinet"), "short_name": "e-Cabinet", "lang": str(select_locale()),
        "start_url": "/", "scope": "/", "display": "standalone", "orientation": "any",
        "background_color": "#f2f4f7", "theme_color": "#10243f",  # static/css/tokens.css
        "icons": [{"src": "/static/icons/icon-192.png", "sizes": "192x192", "type": "image/png"},
                  {"src": "/static/icons/icon-512.png", "sizes": "512x512", "type": "image/png"},
                  {"src": "/static/icons/icon-512-maskable.png", "sizes": "512x512", "type": "image/png",
                   "purpose": "maskable"}]})
    response.mimetype = "application/manifest+json"
    return response


@bp.route("/sw.js")
@public
def service_worker():
    """Served from the root so that its scope is the whole app; never cached, so a new one is seen."""
    response = send_from_directory(current_app.static_folder, "js/service-worker.js", mimetype="text/javascript",
                                   max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/offline")
@public
def offline():
    """What the service worker shows when a page cannot load. The same for everyone: nothing personal."""
    return render_template("home/offline.html")
