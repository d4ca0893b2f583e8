"""The admin's view of the audit log: each entry in words, with the raw entry a tap away, and the
chain's verification status."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _

from ecabinet.audit import policy, service, words
from ecabinet.audit.models import AuditEntry
from ecabinet.core.actor import current_actor
from ecabinet.core.policy import guard
from ecabinet.core.schemas import whole_number
from ecabinet.core.views import refused_requests

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")

PAGE = 50
# A family ("ballot") or one action ("ballot.open"): the shape of every code the domains record.
_ACTION = re.compile(r"[a-z][a-z_]{0,31}(\.[a-z][a-z_]{0,31})?\Z")


@refused_requests.register("audit")
def record_refused_request(action: str, details: dict[str, Any]) -> None:
    """A CSRF failure or a rate limit is a security event: it is audited like a failed sign-in."""
    service.record(current_actor(), action, details=details)


@dataclass(frozen=True)
class Line:
    """One entry as the page shows it."""

    entry: AuditEntry
    sentence: str
    meeting: str | None
    raw: str


def _read_filters() -> tuple[service.LogFilter, int | None, list[str]]:
    """The query string's filters, each checked; a malformed one is named to the reader, never guessed."""
    problems: list[str] = []

    def number(name: str, message: str) -> int | None:
        raw = (request.args.get(name) or "").strip()
        if not raw:
            return None
        value = whole_number(raw)
        if value is None:
            problems.append(message)
        return value

    meeting = number("meeting", _("The meeting filter must be a meeting from the list."))
    person = number("person", _("The person filter must be a person from the list."))
    before = number("before", _("The link to older entries is not valid."))
    action = (request.args.get("action") or "").strip()
    if action and not _ACTION.match(action):
        problems.append(_("The action filter must be a kind of action from the list."))
        action = ""
    return service.LogFilter(meeting_id=meeting, actor_id=person, action=action or None), before, problems


def _choices(names: words.Names, actor_ids: list[int], meeting_ids: list[int]) -> dict[str, list[tuple[str, str]]]:
    people = sorted(((str(i), names.name("user", i) or _("the user no. %(id)s", id=i)) for i in actor_ids),
                    key=lambda c: c[1].casefold())
    meetings = [(str(i), names.name("meeting", i) or _("Meeting no. %(id)s", id=i)) for i in meeting_ids]
    families = sorted({a.split(".", 1)[0] for a in service.actions_in_log()},
                      key=lambda f: list(words.FAMILIES).index(f) if f in words.FAMILIES else len(words.FAMILIES))
    return {"people": people, "meetings": meetings,
            "actions": [(f, words.family_label(f)) for f in families]}


@bp.route("/")
@guard(policy.can_view_audit)
def log():
    where, before, problems = _read_filters()
    entries = [] if problems else service.read_entries(where, before=before, limit=PAGE)
    actors, meetings = service.actors_in_log(), service.meetings_in_log()
    names = words.Names.for_ids({"user": set(actors), "meeting": set(meetings)})
    on_page = words.Names.for_entries(entries)
    for kind, found in on_page.by_kind.items():
        names.by_kind[kind].update(found)
    lines = [Line(e, words.describe(e, names), names.name("meeting", e.meeting_id) if e.meeting_id else None,
                  json.dumps(words.details_of(e), ensure_ascii=False, indent=1, sort_keys=True))
             for e in entries]
    filters = {"meeting": where.meeting_id, "person": where.actor_id, "action": where.action}
    kept = {k: v for k, v in filters.items() if v}
    older = url_for("audit.log", **kept, before=entries[-1].id) if len(entries) == PAGE else None
    newest = url_for("audit.log", **kept) if before else None
    return render_template("audit/log.html", lines=lines, report=service.verify_chain(), filters=filters,
                           choices=_choices(names, actors, meetings), problems=problems, older=older, newest=newest,
                           filtered=bool(kept)), 400 if problems else 200
