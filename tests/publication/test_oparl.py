"""Every OParl answer is valid against the official OParl 1.1 JSON schema (vendored in oparl_schema/, with
its licence), embedded objects and the external lists' pagination included."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest

from tests.publication.test_public import _publish_all, crawl_oparl

SCHEMA_DIR = Path(__file__).parent / "oparl_schema"
SCHEMAS = {path.stem: json.loads(path.read_text()) for path in SCHEMA_DIR.glob("*.json")}
TYPE = re.compile(r"^https://schema\.oparl\.org/1\.1/([A-Za-z]+)$")

# OParl's formats: "url" is its own; "date-time" and "date" are checked here rather than by an optional
# package of jsonschema's.
FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("url")
def _is_url(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    # OParl asks for ISO 8601 with a time zone.
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


@FORMATS.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    return not isinstance(value, str) or bool(date.fromisoformat(value))


def validate_object(found: dict, expected: str | None = None) -> None:
    """Valid against the schema of its type, and so is every object it embeds (the schema names them in
    its "schema" hints, which JSON schema itself does not follow)."""
    kind = TYPE.match(found.get("type", ""))
    assert kind, found.get("type")
    name = kind.group(1)
    assert expected is None or name == expected, (name, expected)
    schema = SCHEMAS[name]
    jsonschema.Draft4Validator(schema, format_checker=FORMATS).validate(found)
    for key, spec in schema["properties"].items():
        if key not in found:
            continue
        hint = spec.get("schema") or (spec.get("items") or {}).get("schema")
        if not hint or spec.get("format") == "url":
            continue
        embedded = found[key] if isinstance(found[key], list) else [found[key]]
        for inner in embedded:
            validate_object(inner, hint.removesuffix(".json"))


def validate_list(found: dict) -> None:
    """OParl's external list: ``data``, ``pagination`` and ``links``."""
    assert set(found) == {"data", "pagination", "links"}
    pagination = found["pagination"]
    assert {"totalElements", "elementsPerPage", "currentPage", "totalPages"} <= set(pagination)
    assert all(isinstance(v, int) for v in pagination.values())
    assert len(found["data"]) <= pagination["elementsPerPage"]
    assert {"first", "last", "self"} <= set(found["links"])
    for item in found["data"]:
        validate_object(item)


def test_the_vendored_schemas_are_oparl_1_1():
    assert {"System", "Body", "Organization", "Person", "Meeting", "AgendaItem", "Paper", "File"} <= set(SCHEMAS)
    for schema in SCHEMAS.values():
        jsonschema.Draft4Validator.check_schema(schema)
    assert "1\\.1" in SCHEMAS["System"]["properties"]["type"]["pattern"]
    assert (SCHEMA_DIR / "LICENSE").exists() and "CC BY-SA 4.0" in (SCHEMA_DIR / "README.md").read_text()


@pytest.mark.parametrize("published", [False, True], ids=["empty", "published"])
def test_every_oparl_answer_is_valid_oparl_1_1(client, world, cabinet, published):
    if published:
        _publish_all(world, cabinet)
    answers = crawl_oparl(client)
    expected = {"/oparl/v1/system", "/oparl/v1/body", "/oparl/v1/body/1", "/oparl/v1/organization",
                "/oparl/v1/person", "/oparl/v1/meeting", "/oparl/v1/agendaItem", "/oparl/v1/paper", "/oparl/v1/file"}
    assert expected <= set(answers)
    kinds = set()
    for found in answers.values():
        if "data" in found:
            validate_list(found)
            kinds |= {TYPE.match(item["type"]).group(1) for item in found["data"]}
        else:
            validate_object(found)
            kinds.add(TYPE.match(found["type"]).group(1))
    if published:
        assert {"System", "Body", "Person", "Meeting", "AgendaItem", "Paper", "File"} <= kinds
        assert answers["/oparl/v1/system"]["oparlVersion"] == "https://schema.oparl.org/1.1/"


def test_an_organization_presenting_a_published_decision_is_valid_oparl(client, world, cabinet):
    from ecabinet.extensions import db
    from ecabinet.organisations import service as organisations
    from tests.meetings.conftest import actor
    from tests.publication.conftest import NAMED_ITEM

    ministry = organisations.create(actor(cabinet["secretary"]), organisations.OrganisationData(
        name="Bộ Kế hoạch và Đầu tư", short_name="BKHĐT"))
    world.item(NAMED_ITEM).organisation_id = ministry.id
    db.session.commit()
    _publish_all(world, cabinet)
    answers = crawl_oparl(client)
    organizations = answers["/oparl/v1/organization"]["data"]
    assert [o["name"] for o in organizations] == ["Bộ Kế hoạch và Đầu tư"]
    validate_object(answers[f"/oparl/v1/organization/{ministry.id}"], "Organization")
    meeting = answers["/oparl/v1/meeting"]["data"][0]
    assert meeting["organization"] == [organizations[0]["id"]]


def _chair_of_a_ministry(world, cabinet):
    """The chair, with a title, in an organisation of the list."""
    from ecabinet.extensions import db
    from ecabinet.organisations import service as organisations
    from tests.meetings.conftest import actor

    office = organisations.create(actor(cabinet["secretary"]), organisations.OrganisationData(
        name="Văn phòng Chính phủ", short_name="VPCP"))
    chair = cabinet["chair"]
    chair.organisation_id, chair.title = office.id, "Thủ tướng Chính phủ"
    db.session.commit()
    return office


def test_consultations_locations_and_memberships_are_valid_oparl_and_link_up(client, world, cabinet):
    office = _chair_of_a_ministry(world, cabinet)
    conclusion, named, _secret = _publish_all(world, cabinet)
    answers = crawl_oparl(client)
    body = answers["/oparl/v1/body/1"]
    for key in ("consultation", "locationList", "membership"):
        assert urlsplit(body[key]).path in answers, key

    # Consultation: a decision's paper at its agenda item, in its meeting.
    consultation = answers[f"/oparl/v1/consultation/{named.id}"]
    validate_object(consultation, "Consultation")
    assert urlsplit(consultation["paper"]).path == f"/oparl/v1/paper/{named.id}"
    assert urlsplit(consultation["agendaItem"]).path == f"/oparl/v1/agendaItem/{named.id}"
    assert urlsplit(consultation["meeting"]).path == f"/oparl/v1/meeting/{world.meeting.id}"
    assert consultation["authoritative"] is True
    assert answers[f"/oparl/v1/agendaItem/{named.id}"]["consultation"] == consultation["id"]
    assert answers[f"/oparl/v1/paper/{named.id}"]["consultation"] == [consultation]
    assert "consultation" not in answers[f"/oparl/v1/paper/{conclusion.id}"]  # conclusions are not consulted
    assert f"/oparl/v1/consultation/{conclusion.id}" not in answers
    assert client.get(f"/oparl/v1/consultation/{conclusion.id}").status_code == 404
    assert answers["/oparl/v1/consultation"]["pagination"]["totalElements"] == 2

    # Location: the meeting's place.
    meeting = answers[f"/oparl/v1/meeting/{world.meeting.id}"]
    location = answers[f"/oparl/v1/location/{world.meeting.id}"]
    validate_object(location, "Location")
    assert location["description"] == "Phòng họp 1" and meeting["location"] == location
    assert urlsplit(location["meetings"][0]).path == f"/oparl/v1/meeting/{world.meeting.id}"
    assert client.get(f"/oparl/v1/location/{world.confidential.id}").status_code == 404  # nothing published

    # Membership: the chair in their organisation, with their title.
    chair = cabinet["chair"]
    membership = answers[f"/oparl/v1/membership/{chair.id}"]
    validate_object(membership, "Membership")
    assert membership["role"] == "Thủ tướng Chính phủ"
    assert urlsplit(membership["organization"]).path == f"/oparl/v1/organization/{office.id}"
    assert answers[f"/oparl/v1/person/{chair.id}"]["membership"] == [membership]
    assert answers[f"/oparl/v1/organization/{office.id}"]["membership"] == [membership["id"]]
    assert [m["id"] for m in answers["/oparl/v1/membership"]["data"]] == [membership["id"]]

    kinds = {TYPE.match(found["type"]).group(1) for found in answers.values() if "type" in found}
    assert {"Consultation", "Location", "Membership"} <= kinds
    for found in answers.values():
        if "data" in found:
            validate_list(found)
        else:
            validate_object(found)


def test_the_lists_filter_on_created_and_modified(client, world, cabinet):
    from datetime import UTC, timedelta

    from ecabinet.extensions import db

    conclusion, named, secret = _publish_all(world, cabinet)
    now = datetime.now(UTC).replace(microsecond=0)
    conclusion.published_at = now - timedelta(days=10)
    named.published_at = now - timedelta(days=5)
    secret.published_at = now - timedelta(days=1)
    db.session.commit()

    def ids(path: str, **filters: str) -> list[str]:
        response = client.get(path, query_string=filters)
        assert response.status_code == 200, response.get_data(as_text=True)
        found = response.get_json()
        validate_list(found)
        return sorted(urlsplit(o["id"]).path for o in found["data"])

    since = (now - timedelta(days=7)).isoformat()
    until = (now - timedelta(days=3)).isoformat()
    assert ids("/oparl/v1/paper", created_since=since) == sorted(
        [f"/oparl/v1/paper/{named.id}", f"/oparl/v1/paper/{secret.id}"])
    assert ids("/oparl/v1/paper", created_since=since, created_until=until) == [f"/oparl/v1/paper/{named.id}"]
    assert ids("/oparl/v1/file", modified_until=until) == sorted(
        [f"/oparl/v1/file/{conclusion.id}", f"/oparl/v1/file/{named.id}"])
    assert ids("/oparl/v1/agendaItem", modified_since=until) == [f"/oparl/v1/agendaItem/{secret.id}"]
    assert ids("/oparl/v1/consultation", created_until=until) == [f"/oparl/v1/consultation/{named.id}"]
    # A meeting was created with its first publication and modified with its latest.
    meeting = [f"/oparl/v1/meeting/{world.meeting.id}"]
    assert ids("/oparl/v1/meeting", modified_since=since) == meeting
    assert ids("/oparl/v1/meeting", created_since=since) == []
    assert ids("/oparl/v1/location", created_until=until) == [f"/oparl/v1/location/{world.meeting.id}"]
    assert ids("/oparl/v1/person", modified_since=now.isoformat()) == []
    assert len(ids("/oparl/v1/body", created_since=now.isoformat())) == 1  # the body has no dates of its own
    # The filters stay in the lists' links; a "Z" is an offset too.
    found = client.get("/oparl/v1/paper", query_string={"created_since": since}).get_json()
    assert all("created_since=" in link for link in found["links"].values())
    assert client.get("/oparl/v1/paper?created_since=2026-01-01T00:00:00Z").status_code == 200

    for bad in ("yesterday", "2026-12-01T00:00:00", "2026-13-01T00:00:00+07:00", ""):
        response = client.get("/oparl/v1/meeting", query_string={"modified_since": bad})
        assert response.status_code == 400, bad
        assert set(response.get_json()["fields"]) == {"modified_since"}
