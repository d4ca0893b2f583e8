"""The published matter as OParl 1.1 objects (https://schema.oparl.org/1.1/), read-only.

| OParl | here |
|---|---|
| System, Body | this installation; the Government is the one body |
| Organization | a ministry or agency that presented a published decision |
| Person | the chair of a meeting with something published (a name, nothing else) |
| Meeting | a meeting with something published; its agenda items are the published decisions only |
| AgendaItem | a published decision: its item's number, title and outcome, with the counts as its resolution text |
| Paper | a publication (conclusions or decision), with its text as the main file |
| File | the text of a publication, as the public page shows it |

Everything is built from ``queries``' public publications, never from the other domains' rows directly:
what the OParl endpoints serve is exactly what the public page shows. An object's id is its URL.
"""

from __future__ import annotations

import re
from collections.abc import Callable
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


# --- the objects ----------------------------------------------------------------------------------------

def system() -> dict[str, Any]:
    return {"id": url("oparl_system"), "type": OPARL + "System", "oparlVersion": OPARL, "body": url("oparl_bodies"),
            "name": "e-Cabinet", "website": url("open_index"), "web": url("open_index")}


def body() -> dict[str, Any]:
    return {"id": url("oparl_body"), "type": OPARL + "Body", "system": url("oparl_system"), "name": body_name(),
            "shortName": current_app.config.get("PUBLIC_BODY_SHORT_NAME") or "Chính phủ",
            "website": url("open_index"), "organization": url("oparl_organizations"), "person": url("oparl_people"),
            "meeting": url("oparl_meetings"), "paper": url("oparl_papers"), "agendaItem": url("oparl_agenda_items"),
            "file": url("oparl_files"), "legislativeTerm": [], "web": url("open_index")}


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
             "resolutionText": resolution_text(publication), "resolutionFile": file(publication),
             "created": iso(publication.published_at, meeting.timezone),
             "modified": iso(publication.published_at, meeting.timezone),
             "web": url("open_detail", number=publication.id)}
    if isinstance(number, int):
        found["number"] = str(number)
    if result.get("outcome"):
        found["result"] = outcome_words(result["outcome"])
    return found


def paper(publication: Publication) -> dict[str, Any]:
    meeting = publication.meeting
    return {"id": url("oparl_paper", number=publication.id), "type": OPARL + "Paper", "body": url("oparl_body"),
            "name": publication.title, "reference": f"{publication.kind.value}-{publication.id}",
            "date": meeting.starts_at.astimezone(zone_of(meeting.timezone)).date().isoformat(),
            "paperType": PAPER_TYPES[publication.kind], "mainFile": file(publication),
            "created": iso(publication.published_at, meeting.timezone),
            "modified": iso(publication.published_at, meeting.timezone),
            "web": url("open_detail", number=publication.id)}


def meeting_object(meeting: Meeting, publications: list[Publication]) -> dict[str, Any]:
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
    if meeting.chair_id is not None:
        found["participant"] = [url("oparl_person", user_id=meeting.chair_id)]
    if conclusions:
        found["resultsProtocol"] = file(conclusions[0])
    return found


def organization(organisation: Any) -> dict[str, Any]:
    found = {"id": url("oparl_organization", organisation_id=organisation.id), "type": OPARL + "Organization",
             "body": url("oparl_body"), "name": organisation.name, "organizationType": "Bộ, cơ quan ngang Bộ"}
    if organisation.short_name:
        found["shortName"] = organisation.short_name
    return found


def person(user: Any) -> dict[str, Any]:
    return {"id": url("oparl_person", user_id=user.id), "type": OPARL + "Person", "body": url("oparl_body"),
            "name": user.name}


# --- who and what is public -------------------------------------------------------------------------------

def public_meetings() -> list[Meeting]:
    ids = queries.public_meeting_ids()
    found = {m.id: m for m in db.session.query(Meeting).filter(Meeting.id.in_(ids))} if ids else {}
    return [found[i] for i in ids if i in found]


def public_people() -> list[Any]:
    from ecabinet.accounts.models import User

    chair_ids = sorted({m.chair_id for m in public_meetings() if m.chair_id is not None})
    return list(db.session.query(User).filter(User.id.in_(chair_ids)).order_by(User.id)) if chair_ids else []


def public_organisations() -> list[Any]:
    from ecabinet.organisations.models import Organisation

    ids = sorted({p.organisation_id for p in queries.public_publications() if p.organisation_id})
    return list(db.session.query(Organisation).filter(Organisation.id.in_(ids)).order_by(Organisation.precedence,
                                                                                           Organisation.id)) \
        if ids else []


# --- external lists -------------------------------------------------------------------------------------

def external_list(endpoint: str, page: int, total: int, data: list[dict[str, Any]]) -> dict[str, Any]:
    """OParl's paginated external list: ``data``, ``pagination`` and ``links``."""
    pages = max(1, -(-total // PER_PAGE))
    links = {"first": url(endpoint, page=1), "last": url(endpoint, page=pages), "self": url(endpoint, page=page)}
    if page > 1:
        links["prev"] = url(endpoint, page=min(page - 1, pages))
    if page < pages:
        links["next"] = url(endpoint, page=page + 1)
    return {"data": data, "pagination": {"totalElements": total, "elementsPerPage": PER_PAGE, "currentPage": page,
                                         "totalPages": pages}, "links": links}


def listed(endpoint: str, page: int, rows: list[Any], build: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    start = (page - 1) * PER_PAGE
    return external_list(endpoint, page, len(rows), [build(r) for r in rows[start:start + PER_PAGE]])


def publications_list(endpoint: str, page: int, build: Callable[[Publication], dict[str, Any]],
                      kind: PublicationKind | None = None) -> dict[str, Any]:
    rows = [p for p in queries.public_publications() if kind is None or p.kind is kind]
    return listed(endpoint, page, rows, build)
