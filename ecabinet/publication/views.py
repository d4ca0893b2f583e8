"""Open data: the chair's publish and withdraw actions, the public page, its Atom feed and OParl 1.1.

The public routes are ``@public`` on purpose and read only ``queries``' public publications. They are
rendered fresh on every request (a publication is on the page, the feed and OParl as soon as it is
committed); the feed and the JSON answers may be kept by a cache for 5 seconds at most, the page not at all
(it carries the reader's form token). Each address may make ``PUBLIC_RATE`` requests to them (a token
bucket in this process's memory): above it, a 429 that costs no database access.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import feedgenerator
from flask import Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import escape

from ecabinet.core.actor import current_actor
from ecabinet.core.i18n import local_time, select_locale
from ecabinet.core.policy import guard, public
from ecabinet.core.ratelimit import Rate, SocketLimiter
from ecabinet.core.schemas import MAX_ID, arg_int, form_int, whole_number
from ecabinet.meetings import queries as meetings
from ecabinet.meetings.queries import meeting_or_404
from ecabinet.minutes import service as minutes
from ecabinet.publication import oparl, policy, queries, service
from ecabinet.publication.forms import EmptyForm
from ecabinet.publication.models import Publication, PublicationKind

bp = Blueprint("publication", __name__)

PER_PAGE = 20
# Per address: 600 requests a minute sustained, 300 at once (an office behind one address, an OParl
# harvester walking every list). A flood above it is answered without touching the database.
PUBLIC_RATE = Rate(count=600, seconds=60, burst=300)
CACHE_SECONDS = 5
PUBLIC_ENDPOINTS = {"open_index", "open_detail", "open_feed", "open_latest", "oparl_system", "oparl_bodies",
                    "oparl_body", "oparl_organizations", "oparl_organization", "oparl_people", "oparl_person",
                    "oparl_meetings", "oparl_meeting", "oparl_agenda_items", "oparl_agenda_item", "oparl_papers",
                    "oparl_paper", "oparl_files", "oparl_file", "oparl_memberships", "oparl_membership",
                    "oparl_locations", "oparl_location", "oparl_consultations", "oparl_consultation"}
_LIMITER_KEY = "publication.rate_limiter"

KIND_WORDS = {PublicationKind.CONCLUSION: _l("Conclusions"), PublicationKind.DECISION: _l("Decision")}
OUTCOME_WORDS = {"adopted": _l("Adopted"), "rejected": _l("Not adopted"), "no_quorum": _l("No quorum"),
                 "partly_adopted": _l("Partly adopted"), "adopted_by_consent": _l("Adopted by consent"),
                 "adopted_by_vote": _l("Adopted"), "rejected_by_vote": _l("Not adopted")}
OPTION_WORDS = {"approve": _l("Approve"), "reject": _l("Reject"), "abstain": _l("Abstain"), "agree": _l("Agree"),
                "disagree": _l("Disagree"), "other": _l("Other opinion")}


@bp.app_template_filter("publication_kind")
def publication_kind(kind: PublicationKind) -> str:
    return str(KIND_WORDS.get(kind, kind))


@bp.app_template_filter("publication_outcome")
def publication_outcome(code: str | None) -> str:
    return str(OUTCOME_WORDS.get(code or "", code or ""))


@bp.app_template_filter("publication_option")
def publication_option(count: dict[str, Any]) -> str:
    return str(OPTION_WORDS.get(count.get("key"), count.get("label") or count.get("key")))


# --- the public routes' limits and caching -------------------------------------------------------------

def _limiter() -> SocketLimiter:
    app = current_app._get_current_object()
    found = app.extensions.get(_LIMITER_KEY)
    if found is None:
        found = app.extensions[_LIMITER_KEY] = SocketLimiter({"public": app.config.get("PUBLIC_RATE", PUBLIC_RATE)})
    return found


@bp.before_request
def _rate_limit():  # noqa: ANN202
    if (request.endpoint or "").removeprefix("publication.") not in PUBLIC_ENDPOINTS:
        return None
    wait = _limiter().take(f"ip:{request.remote_addr}", "public")
    if wait is None:
        return None
    seconds = str(max(1, math.ceil(wait)))
    if request.path.startswith("/oparl/"):
        response = jsonify(error="rate_limited", retry_after=int(seconds))
        response.status_code = 429
    else:
        response = Response(_("Too many requests. Please wait a minute and try again."), 429, mimetype="text/plain")
    response.headers["Retry-After"] = seconds
    return response


@bp.after_request
def _public_headers(response: Response) -> Response:
    endpoint = (request.endpoint or "").removeprefix("publication.")
    if endpoint in PUBLIC_ENDPOINTS and endpoint not in ("open_index", "open_detail") and response.status_code < 400:
        # Open data: anyone may read it, from any site; a shared cache may keep it a few seconds at most.
        response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# --- the chair's publish and withdraw ------------------------------------------------------------------

@bp.route("/meetings/<int:meeting_id>/publication")
@guard(policy.can_manage)
def manage(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    conclusion = minutes.conclusion_of(meeting)
    active = queries.active_of_meeting(meeting.id)
    by_item = {p.item_id: p for p in active if p.kind is PublicationKind.DECISION}
    items = [(item, policy.item_refusal(meeting, item), by_item.get(item.id)) for item in meeting.items]
    return render_template("publication/manage.html", meeting=meeting, conclusion=conclusion,
                           conclusion_refusal=policy.conclusion_refusal(meeting, conclusion),
                           conclusion_publication=queries.active_conclusion(meeting.id), items=items,
                           form=EmptyForm())


def _done(meeting_id: int, act, ok: str):  # noqa: ANN001, ANN202
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        act()
    except service.PublicationError as exc:
        flash(exc.translated(), "error")
    else:
        flash(ok, "info")
    return redirect(url_for("publication.manage", meeting_id=meeting_id))


@bp.route("/meetings/<int:meeting_id>/publication/conclusion", methods=["POST"])
@guard(policy.can_manage)
def publish_conclusion(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    return _done(meeting.id, lambda: service.publish_conclusion(current_actor(), meeting),
                 _("The conclusions are published on the public page."))


@bp.route("/meetings/<int:meeting_id>/publication/items/<int:item_id>", methods=["POST"])
@guard(policy.can_manage)
def publish_decision(meeting_id: int, item_id: int):
    meeting = meeting_or_404(meeting_id)
    item = meetings.get_item(meeting, item_id)
    if item is None:
        abort(404)
    return _done(meeting.id, lambda: service.publish_decision(current_actor(), meeting, item),
                 _("The decision is published on the public page."))


@bp.route("/meetings/<int:meeting_id>/publication/withdraw", methods=["POST"])
@guard(policy.can_manage)
def withdraw(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    number = form_int("publication")  # a malformed number is a 400 naming the field
    publication = queries.get_publication(number) if number else None
    if publication is None or publication.meeting_id != meeting.id:
        abort(404)
    return _done(meeting.id, lambda: service.withdraw(current_actor(), meeting, publication),
                 _("The publication is withdrawn from the public page."))


# --- the public page and its feed ----------------------------------------------------------------------

@bp.route("/open/")
@public
def open_index():
    total = queries.public_count()
    pages = max(1, -(-total // PER_PAGE))
    page = min(arg_int("page") or 1, pages)
    rows = queries.public_publications(offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
    return render_template("publication/index.html", publications=rows, page=page, pages=pages, total=total,
                           stamp=queries.stamp())


@bp.route("/open/<int:number>")
@public
def open_detail(number: int):
    publication = queries.public_publication(number)
    if publication is None:
        abort(404)
    return render_template("publication/detail.html", publication=publication, result=publication.result_data)


@bp.route("/open/latest.json")
@public
def open_latest():
    """What the public page polls: it offers to show the new list when the stamp changes."""
    return jsonify(stamp=queries.stamp(), count=queries.public_count())


def _entry_summary(publication: Publication) -> str:
    meeting = publication.meeting
    when = local_time(meeting.starts_at, "medium", meeting.timezone)
    summary = _("Meeting: %(meeting)s, %(when)s.", meeting=meeting.title, when=when)
    outcome = publication.result_data.get("outcome")
    if outcome:
        summary += " " + _("Outcome: %(outcome)s.", outcome=publication_outcome(outcome))
    return str(escape(summary))  # Atom's summary is declared HTML: a title's "<" must stay text


@bp.route("/open/feed.atom")
@public
def open_feed():
    feed = feedgenerator.Atom1Feed(
        title=_("e-Cabinet: published conclusions and decisions"),
        link=url_for("publication.open_index", _external=True),
        description=_("Conclusions and decisions of the Government's meetings, as their chairs publish them."),
        language=select_locale(),
        author_name=oparl.body_name(),  # Atom asks for an author of the feed or of every entry
        feed_url=url_for("publication.open_feed", _external=True),
        feed_guid=url_for("publication.open_index", _external=True))
    for publication in queries.public_publications(limit=50):
        link = url_for("publication.open_detail", number=publication.id, _external=True)
        title = f"{publication_kind(publication.kind)}: {publication.title}"
        if publication.kind is PublicationKind.DECISION:
            title += f" ({publication.meeting.title})"
        feed.add_item(title=title,
                      link=link, unique_id=link, description=_entry_summary(publication),
                      pubdate=publication.published_at, updateddate=publication.published_at,
                      categories=[publication.kind.value])
    return Response(feed.writeString("utf-8"), mimetype="application/atom+xml")


# --- OParl 1.1 ----------------------------------------------------------------------------------------------

def _invalid(fields: dict[str, str]) -> Response:
    response = jsonify(error="invalid", fields=fields)
    response.status_code = 400
    return response


def _page() -> int | Response:
    raw = request.args.get("page")
    if raw is None:
        return 1
    page = whole_number(raw)
    if page is None:
        return _invalid({"page": f"must be a whole number between 1 and {MAX_ID}"})
    return page


def _json_list(endpoint: str, build_list: Callable[[str, int, oparl.Window, oparl.Public], dict[str, Any]]) \
        -> Response:
    """A list answer: its page and its filters (``created_since`` ... ``modified_until``) checked first."""
    page = _page()
    if isinstance(page, Response):
        return page
    window, errors = oparl.Window.parse(request.args)
    if errors:
        return _invalid(errors)
    return jsonify(build_list(endpoint, page, window, oparl.Public()))


def _not_found() -> Response:
    response = jsonify(error="not_found", status=404)
    response.status_code = 404
    return response


def _one(rows: list[Any], key: int, build: Callable[[Any, oparl.Public], dict[str, Any]],
         public: oparl.Public) -> Response:
    found = next((r for r in rows if r.id == key), None)
    return jsonify(build(found, public)) if found is not None else _not_found()


@bp.route("/oparl/v1/system")
@public
def oparl_system():
    return jsonify(oparl.system())


@bp.route("/oparl/v1/body")
@public
def oparl_bodies():
    # The one body has no created or modified of its own: the filters leave it in the list.
    return _json_list("oparl_bodies", lambda endpoint, page, window, _public: oparl.listed(
        endpoint, page, [None], lambda _: oparl.body(), window))


@bp.route("/oparl/v1/body/1")
@public
def oparl_body():
    return jsonify(oparl.body())


@bp.route("/oparl/v1/organization")
@public
def oparl_organizations():
    return _json_list("oparl_organizations", lambda endpoint, page, window, found: oparl.listed(
        endpoint, page, found.organisations, lambda o: oparl.organization(o, found), window,
        lambda o: oparl.stamps_of(found.of_organisation(o.id))))


@bp.route("/oparl/v1/organization/<int:organisation_id>")
@public
def oparl_organization(organisation_id: int):
    found = oparl.Public()
    return _one(found.organisations, organisation_id, oparl.organization, found)


@bp.route("/oparl/v1/person")
@public
def oparl_people():
    return _json_list("oparl_people", lambda endpoint, page, window, found: oparl.listed(
        endpoint, page, found.people, lambda u: oparl.person(u, found), window,
        lambda u: oparl.stamps_of(found.of_person(u.id))))


@bp.route("/oparl/v1/person/<int:user_id>")
@public
def oparl_person(user_id: int):
    found = oparl.Public()
    return _one(found.people, user_id, oparl.person, found)


@bp.route("/oparl/v1/membership")
@public
def oparl_memberships():
    return _json_list("oparl_memberships", lambda endpoint, page, window, found: oparl.listed(
        endpoint, page, [u for u in found.people if u.organisation_id], lambda u: oparl.membership(u, found), window,
        lambda u: oparl.stamps_of(found.of_person(u.id))))


@bp.route("/oparl/v1/membership/<int:user_id>")
@public
def oparl_membership(user_id: int):
    found = oparl.Public()
    return _one([u for u in found.people if u.organisation_id], user_id, oparl.membership, found)


@bp.route("/oparl/v1/meeting")
@public
def oparl_meetings():
    return _json_list("oparl_meetings", lambda endpoint, page, window, found: oparl.listed(
        endpoint, page, found.meetings, lambda m: oparl.meeting_object(m, found), window,
        lambda m: oparl.stamps_of(found.of_meeting(m.id))))


@bp.route("/oparl/v1/meeting/<int:meeting_id>")
@public
def oparl_meeting(meeting_id: int):
    found = oparl.Public()
    return _one(found.meetings, meeting_id, oparl.meeting_object, found)


@bp.route("/oparl/v1/location")
@public
def oparl_locations():
    return _json_list("oparl_locations", lambda endpoint, page, window, found: oparl.listed(
        endpoint, page, found.located(), lambda m: oparl.location(m, found), window,
        lambda m: oparl.stamps_of(found.of_meeting(m.id))))


@bp.route("/oparl/v1/location/<int:meeting_id>")
@public
def oparl_location(meeting_id: int):
    found = oparl.Public()
    return _one(found.located(), meeting_id, oparl.location, found)


def _publication_routes(name: str, plural: str, build: Callable[[Publication], dict[str, Any]],
                        kind: PublicationKind | None) -> None:
    def listing():  # noqa: ANN202
        return _json_list(f"oparl_{plural}", lambda endpoint, page, window, found: oparl.listed(
            endpoint, page, [p for p in found.publications if kind is None or p.kind is kind], build, window,
            lambda p: oparl.stamps_of([p])))

    def detail(number: int):  # noqa: ANN202
        publication = queries.public_publication(number)
        if publication is None or (kind is not None and publication.kind is not kind):
            return _not_found()
        return jsonify(build(publication))

    listing.__name__, detail.__name__ = f"oparl_{plural}", f"oparl_{name}"
    path = {"agenda_item": "agendaItem"}.get(name, name)
    bp.add_url_rule(f"/oparl/v1/{path}", f"oparl_{plural}", public(listing))
    bp.add_url_rule(f"/oparl/v1/{path}/<int:number>", f"oparl_{name}", public(detail))


_publication_routes("agenda_item", "agenda_items", oparl.agenda_item, PublicationKind.DECISION)
_publication_routes("consultation", "consultations", oparl.consultation, PublicationKind.DECISION)
_publication_routes("paper", "papers", oparl.paper, None)
_publication_routes("file", "files", oparl.file, None)
