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
