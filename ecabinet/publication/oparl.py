"""The published matter as OParl 1.1 objects (https://schema.oparl.org/1.1/), read-only.

| OParl | here |
|---|---|
| System, Body | this installation; the Government is the one body |
| Organization | a ministry or agency that presented a published decision, or a public person's own |
| Person | the chair of a meeting with something published (a name, nothing else) |
| Membership | a public person in their organisation, with their title as the role |
| Meeting | a meeting with something published; its agenda items are the published decisions only |
| Location | the place of such a meeting, as the meeting gives it |
| AgendaItem | a published decision: its item's number, title and outcome, with the counts as its resolution text |
| Consultation | a published decision's paper taken at its agenda item, in its meeting |
| Paper | a publication (conclusions or decision), with its text as the main file |
| File | the text of a publication, as the public page shows it |

Everything is built from ``queries``' public publications (``Public``, read once per answer), never from
the other domains' rows directly: what the OParl endpoints serve is exactly what the public page shows.
An object's id is its URL. Its ``created`` and ``modified`` are the times of the first and the latest
publication that make it public; the lists' ``created_since``, ``created_until``, ``modified_since`` and
``modified_until`` filters compare those.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from html import unescape
from typing import Any

from flask import current_app, url_for

from ecabinet.core.i18n import zone_of
from ecabinet.extensions import db
from ecabinet.meetings.models import Meeting
from ecabinet.publication import queries
from ecabinet.publication.models import Publication, PublicationKind
from ecabinet.voting.record import OPTIONS, OUTCOMES

OPARL = "https://schema.oparl.org/1.1/"
PER_PAGE = 20

# An item's outcome in the official words of the record (OParl carries one language; the minutes' own).
ITEM_OUTCOMES = {**OUTCOMES, "adopted_by_consent": "thông qua theo đồng thuận", "adopted_by_vote": "thông qua",
                 "rejected_by_vote": "không thông qua"}
PAPER_TYPES = {PublicationKind.CONCLUSION: "Thông báo kết luận", PublicationKind.DECISION: "Quyết định"}


def url(endpoint: str, **values: Any) -> str:
    return url_for(f"publication.{endpoint}", _external=True, **values)


def iso(value: datetime, tz: str | None = None) -> str:
    """An OParl date-time: with its offset, in the meeting's zone."""
    return value.astimezone(zone_of(tz)).isoformat(timespec="seconds")


def plain_text(html: str) -> str:
    text = re.sub(r"<(br|/p|/h[1-4]|/li|/tr)[^>]*>", "\n", html or "")
    text = unescape(re.sub(r"<[^>]+>", " ", text))
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


def outcome_words(code: str | None) -> str:
    return ITEM_OUTCOMES.get(code or "", code or "")


def resolution_text(publication: Publication) -> str:
    """A decision in words: its outcome, then each ballot's counts per question."""
    result = publication.result_data
    lines = [f"Kết quả: {outcome_words(result.get('outcome'))}"] if result.get("outcome") else []
    for ballot in result.get("ballots", []):
        for question in ballot.get("questions", []):
            counts = "; ".join(f"{OPTIONS.get(c['key'], c['label'])}: {c['count']}" for c in question["counts"])
            lines.append(f"{ballot['title']}: {counts} ({outcome_words(question.get('outcome'))})")
    return "\n".join(lines)


def body_name() -> str:
    return current_app.config.get("PUBLIC_BODY_NAME") or "Chính phủ nước Cộng hòa xã hội chủ nghĩa Việt Nam"


# --- what is public, read once per answer ------------------------------------------------------------

Stamps = tuple[datetime, datetime]  # created, modified


def stamps_of(publications: Iterable[Publication]) -> Stamps | None:
    times = [p.published_at for p in publications]
    return (min(times), max(times)) if times else None


class Public:
    """The public publications and what they make public: meetings, their chairs and organisations."""

    def __init__(self) -> None:
        from ecabinet.accounts.models import User
        from ecabinet.organisations.models import Organisation

        self.publications = queries.public_publications()  # newest first
        self.by_meeting: dict[int, list[Publication]] = {}
        for publication in self.publications:
            self.by_meeting.setdefault(publication.meeting_id, []).append(publication)
        ids = queries.public_meeting_ids()
        found = {m.id: m for m in db.session.query(Meeting).filter(Meeting.id.in_(ids))} if ids else {}
        self.meetings = [found[i] for i in ids if i in found]
        chair_ids = sorted({m.chair_id for m in self.meetings if m.chair_id is not None})
        self.people = list(db.session.query(User).filter(User.id.in_(chair_ids)).order_by(User.id)) \
            if chair_ids else []
        organisation_ids = {p.organisation_id for p in self.publications if p.organisation_id} \
            | {u.organisation_id for u in self.people if u.organisation_id}
        self.organisations = list(db.session.query(Organisation).filter(Organisation.id.in_(organisation_ids))
                                  .order_by(Organisation.precedence, Organisation.id)) if organisation_ids else []

    # Each object's own publications, for its created and modified.
    def of_meeting(self, meeting_id: int) -> list[Publication]:
        return self.by_meeting.get(meeting_id, [])

    def of_person(self, user_id: int) -> list[Publication]:
        return [p for m in self.meetings if m.chair_id == user_id for p in self.of_meeting(m.id)]

    def of_organisation(self, organisation_id: int) -> list[Publication]:
        members = {u.id for u in self.people if u.organisation_id == organisation_id}
        return [p for p in self.publications if p.organisation_id == organisation_id
                or p.meeting.chair_id in members]

    def members_of(self, organisation_id: int) -> list[Any]:
        return [u for u in self.people if u.organisation_id == organisation_id]

    def located(self) -> list[Meeting]:
        return [m for m in self.meetings if (m.place or "").strip()]

    def decisions(self) -> list[Publication]:
        return [p for p in self.publications if p.kind is PublicationKind.DECISION]


def _stamped(found: dict[str, Any], publications: Iterable[Publication], tz: str | None = None) -> dict[str, Any]:
    stamps = stamps_of(publications)
    if stamps is not None:
        found["created"], found["modified"] = iso(stamps[0], tz), iso(stamps[1], tz)
    return found


# --- the objects ----------------------------------------------------------------------------------------

def system() -> dict[str, Any]:
    return {"id": url("oparl_system"), "type": OPARL + "System", "oparlVersion": OPARL, "body": url("oparl_bodies"),
            "name": "e-Cabinet", "website": url("open_index"), "web": url("open_index")}


def body() -> dict[str, Any]:
    return {"id": url("oparl_body"), "type": OPARL + "Body", "system": url("oparl_system"), "name": body_name(),
            "shortName": current_app.config.get("PUBLIC_BODY_SHORT_NAME") or "Chính phủ",
            "website": url("open_index"), "organization": url("oparl_organizations"), "person": url("oparl_people"),
            "meeting": url("oparl_meetings"), "paper": url("oparl_papers"), "agendaItem": url("oparl_agenda_items"),
            "consultation": url("oparl_consultations"), "file": url("oparl_files"),
            "locationList": url("oparl_locations"), "membership": url("oparl_memberships"), "legislativeTerm": [],
            "web": url("open_index")}


def file(publication: Publication) -> dict[str, Any]:
    meeting = publication.meeting
    text = plain_text(publication.body) if publication.kind is PublicationKind.CONCLUSION \
        else resolution_text(publication)
    found = {"id": url("oparl_file", number=publication.id), "type": OPARL + "File", "name": publication.title,
             "fileName": f"{publication.kind.value}-{publication.id}.html", "mimeType": "text/html",
             "date": publication.published_at.astimezone(zone_of(meeting.timezone)).date().isoformat(),
             "text": text, "accessUrl": url("open_detail", number=publication.id),
             "meeting": [url("oparl_meeting", meeting_id=meeting.id)],
             "paper": [url("oparl_paper", number=publication.id)],
             "created": iso(publication.published_at, meeting.timezone),
             "modified": iso(publication.published_at, meeting.timezone),
             "web": url("open_detail", number=publication.id)}
    if publication.kind is PublicationKind.DECISION:
        found["agendaItem"] = [url("oparl_agenda_item", number=publication.id)]
    return found


def agenda_item(publication: Publication) -> dict[str, Any]:
    meeting = publication.meeting
    result = publication.result_data
    number = result.get("item_number")
    found = {"id": url("oparl_agenda_item", number=publication.id), "type": OPARL + "AgendaItem",
             "meeting": url("oparl_meeting", meeting_id=meeting.id),
             "order": int(number) if isinstance(number, int) else 0, "name": publication.title, "public": True,
             "consultation": url("oparl_consultation", number=publication.id),
             "resolutionText": resolution_text(publication), "resolutionFile": file(publication),
             "created": iso(publication.published_at, meeting.timezone),
             "modified": iso(publication.published_at, meeting.timezone),
             "web": url("open_detail", number=publication.id)}
    if isinstance(number, int):
        found["number"] = str(number)
    if result.get("outcome"):
        found["result"] = outcome_words(result["outcome"])
    return found


def consultation(publication: Publication) -> dict[str, Any]:
    """A decision's paper, taken at its agenda item: the meeting decided on it (``authoritative``)."""
    meeting = publication.meeting
    found = {"id": url("oparl_consultation", number=publication.id), "type": OPARL + "Consultation",
             "paper": url("oparl_paper", number=publication.id),
             "agendaItem": url("oparl_agenda_item", number=publication.id),
             "meeting": url("oparl_meeting", meeting_id=meeting.id), "authoritative": True,
             "role": "Quyết định", "created": iso(publication.published_at, meeting.timezone),
             "modified": iso(publication.published_at, meeting.timezone),
             "web": url("open_detail", number=publication.id)}
    if publication.organisation_id:
        found["organization"] = [url("oparl_organization", organisation_id=publication.organisation_id)]
    return found


def paper(publication: Publication) -> dict[str, Any]:
    meeting = publication.meeting
    found = {"id": url("oparl_paper", number=publication.id), "type": OPARL + "Paper", "body": url("oparl_body"),
             "name": publication.title, "reference": f"{publication.kind.value}-{publication.id}",
             "date": meeting.starts_at.astimezone(zone_of(meeting.timezone)).date().isoformat(),
             "paperType": PAPER_TYPES[publication.kind], "mainFile": file(publication),
             "created": iso(publication.published_at, meeting.timezone),
             "modified": iso(publication.published_at, meeting.timezone),
             "web": url("open_detail", number=publication.id)}
    if publication.kind is PublicationKind.DECISION:
        found["consultation"] = [consultation(publication)]
        if publication.organisation_id:
            found["underDirectionOf"] = [url("oparl_organization", organisation_id=publication.organisation_id)]
    return found


def location(meeting: Meeting, public: Public) -> dict[str, Any]:
    """Where a public meeting took place: its place, as the meeting gives it (one Location per meeting)."""
    found = {"id": url("oparl_location", meeting_id=meeting.id), "type": OPARL + "Location",
             "description": " ".join(meeting.place.split()), "meetings": [url("oparl_meeting", meeting_id=meeting.id)]}
    return _stamped(found, public.of_meeting(meeting.id), meeting.timezone)


def meeting_object(meeting: Meeting, public: Public) -> dict[str, Any]:
    publications = public.of_meeting(meeting.id)
    decisions = [p for p in publications if p.kind is PublicationKind.DECISION]
    conclusions = [p for p in publications if p.kind is PublicationKind.CONCLUSION]
    found = {"id": url("oparl_meeting", meeting_id=meeting.id), "type": OPARL + "Meeting", "name": meeting.title,
             "meetingState": meeting.status.value, "cancelled": False,
             "start": iso(meeting.starts_at, meeting.timezone), "end": iso(meeting.ends_at, meeting.timezone),
             "organization": sorted({url("oparl_organization", organisation_id=p.organisation_id)
                                     for p in decisions if p.organisation_id}),
             "agendaItem": [agenda_item(p) for p in sorted(decisions, key=lambda p: p.result_data.get("item_number")
                                                           or 0)],
             "auxiliaryFile": [file(p) for p in decisions]}
    if (meeting.place or "").strip():
        found["location"] = location(meeting, public)
    if meeting.chair_id is not None:
        found["participant"] = [url("oparl_person", user_id=meeting.chair_id)]
    if conclusions:
        found["resultsProtocol"] = file(conclusions[0])
    return _stamped(found, publications, meeting.timezone)


def organization(organisation: Any, public: Public) -> dict[str, Any]:
    found = {"id": url("oparl_organization", organisation_id=organisation.id), "type": OPARL + "Organization",
             "body": url("oparl_body"), "name": organisation.name, "organizationType": "Bộ, cơ quan ngang Bộ"}
    if organisation.short_name:
        found["shortName"] = organisation.short_name
    members = public.members_of(organisation.id)
    if members:
        found["membership"] = [url("oparl_membership", user_id=u.id) for u in members]
    return _stamped(found, public.of_organisation(organisation.id))


def membership(user: Any, public: Public) -> dict[str, Any]:
    """A public person in their organisation; their title (as the accounts give it) is the role."""
    found = {"id": url("oparl_membership", user_id=user.id), "type": OPARL + "Membership",
             "person": url("oparl_person", user_id=user.id),
             "organization": url("oparl_organization", organisation_id=user.organisation_id)}
    title = " ".join((user.title or "").split())
    if title:
        found["role"] = title
    return _stamped(found, public.of_person(user.id))


def person(user: Any, public: Public) -> dict[str, Any]:
    found = {"id": url("oparl_person", user_id=user.id), "type": OPARL + "Person", "body": url("oparl_body"),
             "name": user.name}
    if user.organisation_id:
        found["membership"] = [membership(user, public)]
    return _stamped(found, public.of_person(user.id))


# --- external lists and their filters --------------------------------------------------------------------

FILTERS = ("created_since", "created_until", "modified_since", "modified_until")


@dataclass(frozen=True)
class Window:
    """OParl 1.1's list filters: each a date-time with its offset, or None."""

    created_since: datetime | None = None
    created_until: datetime | None = None
    modified_since: datetime | None = None
    modified_until: datetime | None = None

    @classmethod
    def parse(cls, args: Any) -> tuple[Window, dict[str, str]]:
        """The filters of a query string, and the messages for those that are malformed."""
        found: dict[str, datetime] = {}
        errors: dict[str, str] = {}
        for name in FILTERS:
            raw = args.get(name)
            if raw is None:
                continue
            try:
                value = datetime.fromisoformat(raw.strip())
            except ValueError:
                value = None
            if value is None or value.tzinfo is None:
                errors[name] = "must be a date-time with its offset (ISO 8601), such as 2026-12-01T00:00:00+07:00"
            else:
                found[name] = value
        return cls(**found), errors

    def given(self) -> dict[str, str]:
        """The filters in use, as they go back into the lists' links."""
        return {name: getattr(self, name).isoformat() for name in FILTERS if getattr(self, name) is not None}

    def holds(self, stamps: Stamps | None) -> bool:
        if not self.given():
            return True
        if stamps is None:
            return False
        created, modified = stamps
        return (self.created_since is None or created >= self.created_since) \
            and (self.created_until is None or created <= self.created_until) \
            and (self.modified_since is None or modified >= self.modified_since) \
            and (self.modified_until is None or modified <= self.modified_until)


def external_list(endpoint: str, page: int, total: int, data: list[dict[str, Any]],
                  window: Window | None = None) -> dict[str, Any]:
    """OParl's paginated external list: ``data``, ``pagination`` and ``links`` (which keep the filters)."""
    pages = max(1, -(-total // PER_PAGE))
    given = window.given() if window is not None else {}
    links = {"first": url(endpoint, page=1, **given), "last": url(endpoint, page=pages, **given),
             "self": url(endpoint, page=page, **given)}
    if page > 1:
        links["prev"] = url(endpoint, page=min(page - 1, pages), **given)
    if page < pages:
        links["next"] = url(endpoint, page=page + 1, **given)
    return {"data": data, "pagination": {"totalElements": total, "elementsPerPage": PER_PAGE, "currentPage": page,
                                         "totalPages": pages}, "links": links}


def listed(endpoint: str, page: int, rows: list[Any], build: Callable[[Any], dict[str, Any]],
           window: Window | None = None, stamps: Callable[[Any], Stamps | None] | None = None) -> dict[str, Any]:
    """A page of ``rows``, those the window holds (by ``stamps``: an object's created and modified)."""
    if window is not None and stamps is not None:
        rows = [r for r in rows if window.holds(stamps(r))]
    start = (page - 1) * PER_PAGE
    return external_list(endpoint, page, len(rows), [build(r) for r in rows[start:start + PER_PAGE]], window)
