"""Odd input, generated: every route of the URL map and every Socket.IO event, fed huge and negative
numbers, lone surrogates, NUL, long strings and deep JSON by a signed-in secretary and member, never
answers with a 5xx, never leaves an event unacknowledged, and never echoes the injected markup raw.

Routes and events are walked from the app (``app.url_map``, ``EVENT_RULES``), so a new one is covered.
The field names a view reads are found in its source and its forms. Examples are derandomized: CI
sees the same inputs on every run.
"""

from __future__ import annotations

import inspect
import json
import re
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.routing.converters import IntegerConverter
from wtforms.fields.core import UnboundField

from ecabinet.core.policy import EVENT_RULES, EVENT_SCHEMAS
from ecabinet.core.schemas import MAX_ID
from ecabinet.extensions import db
from tests.conftest import PASSWORD
from tests.documents.app_fixtures import meeting_doc, storage, with_guest  # noqa: F401 - fixtures
from tests.helpers import csrf_from, login
from tests.meetings.conftest import actor
from tests.minutes.conftest import closed_meeting, signing_pair  # noqa: F401 - fixtures

MARKER = "<x-fuzz-\"'>"
ROLES = ("secretary", "member")
# Small enough for the whole file to run in about a minute per database on a 2-core machine.
FUZZ = settings(max_examples=12, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])

ODD_INTS = st.one_of(
    st.sampled_from([0, -1, MAX_ID, MAX_ID + 1, 2**63, -(2**63), 2**70]),
    st.integers(min_value=MAX_ID + 1, max_value=10**40),
    st.integers(min_value=-(10**40), max_value=0),
)
ODD_TEXT = st.one_of(
    st.sampled_from([MARKER, "\ud800", "a\x00b", "\x00", MARKER * 500, "x" * 20_000, "", " ", "1_000", "١٢",
                     "9" * 5_000, "+5", "1.5", "-0", "//evil.example", "../../etc/passwd"]),
    st.text(max_size=20).map(lambda text: MARKER + text),
    st.text(max_size=20),
)
FORM_VALUES = st.one_of(ODD_INTS.map(str), ODD_TEXT)
JSON_LEAVES = st.one_of(ODD_INTS, ODD_TEXT, st.none(), st.booleans(), st.floats(allow_nan=False))
JSON_VALUES = st.recursive(JSON_LEAVES, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)
DEEP = "[" * 10_000 + "]" * 10_000

FIELD_READ = re.compile(r"""(?:request\.(?:args|form|values)\.get(?:list)?|arg_int|form_int)\(\s*f?["'](\w+)""")
FORM_CLASS = re.compile(r"\b([A-Z]\w*Form)\(")


def _fields_read_by(view: Any) -> list[str]:
    """The query and form fields a view reads: by name in its source, and the fields of its forms."""
    function = inspect.unwrap(view)
    source = inspect.getsource(function)
    names = set(FIELD_READ.findall(source))
    for form_name in FORM_CLASS.findall(source):
        form = function.__globals__.get(form_name)
        if isinstance(form, type):
            names |= {name for name in dir(form) if isinstance(getattr(form, name, None), UnboundField)}
    return sorted(names)


def _reads_json(view: Any) -> bool:
    source = inspect.getsource(inspect.unwrap(view))
    return "get_json" in source or "request.json" in source or "json_body(" in source


def _encode(pairs: list[tuple[str, str]]) -> bytes:
    """Form or query text as a browser would send it; a lone surrogate goes out as its (invalid) UTF-8 bytes."""
    return urlencode(pairs, encoding="utf-8", errors="surrogatepass").encode("ascii")


def _path_value(value: Any) -> str:
    return quote(str(value), safe="", encoding="utf-8", errors="surrogatepass")


@pytest.fixture
def world(app, client, cabinet, published, meeting_doc):  # noqa: F811 - fixtures imported above
    """A published meeting in session with a document, and real ids to put in URLs besides odd ones."""
    from ecabinet.meetings import service

    service.start_meeting(actor(cabinet["chair"]), published)
    submission = _a_submission(cabinet, published)
    db.session.commit()
    return {"meeting_id": [published.id], "item_id": [item.id for item in published.items],
            "document_id": [meeting_doc.id], "participant_id": [p.id for p in published.participants][:2],
            "submission_id": [submission.id], "file_id": [d.id for d in submission.latest.documents]}


def _a_submission(cabinet, published):  # noqa: ANN001, ANN202
    """A ministry's submission with its document, waiting for the secretariat."""
    import io
    from datetime import timedelta

    from ecabinet.accounts import service as accounts
    from ecabinet.accounts.models import Role
    from ecabinet.documents import service as documents
    from ecabinet.documents.models import Document
    from ecabinet.organisations import service as organisations
    from ecabinet.submissions import service as submissions

    ministry = organisations.create(actor(cabinet["admin"]), organisations.OrganisationData(name="Bộ Tư pháp"))
    liaison = accounts.update_user(actor(cabinet["admin"]), cabinet["liaison"], accounts.UserData(
        email="liaison@example.gov.vn", name="Test liaison", role=Role.LIAISON, organisation_id=ministry.id))
    pdf = documents.blobs().path(db.session.query(Document).first().latest.sha256).read_bytes()
    return submissions.create_submission(actor(liaison), submissions.SubmissionData(
        title="Dự thảo Nghị định", kind="decree", handling="meeting", deadline=published.ends_at + timedelta(days=9)),
        [documents.receive(io.BytesIO(pdf), "to-trinh.pdf")])


def _signed_in(app, role: str):  # noqa: ANN001, ANN202
    """A test client of its own (the ``client`` fixture makes it isolate each request), signed in."""
    http = app.test_client()
    assert login(http, f"{role}@example.gov.vn", PASSWORD).status_code in (200, 302)
    return http


def _routes(app) -> list[tuple[Any, str]]:  # noqa: ANN001
    """Every rule and method of the URL map; signing out goes last, so the rest is fuzzed signed in."""
    pairs = [(rule, method) for rule in app.url_map.iter_rules() if rule.endpoint != "static"
             for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return sorted(pairs, key=lambda pair: ("logout" in pair[0].endpoint, pair[0].rule, pair[1]))


def _check(response, what: Any) -> None:  # noqa: ANN001
    assert response.status_code < 500, (what, response.status_code, response.get_data(as_text=True)[:500])
    if response.mimetype == "text/html":
        assert MARKER not in response.get_data(as_text=True), (what, "the marker is echoed unescaped")


def _fuzz_route(http, token: str, rule, method: str, world: dict[str, list[int]]) -> None:  # noqa: ANN001
    """Hypothesis examples of one rule and method: its URL arguments, query fields and form fields or JSON."""
    view = http.application.view_functions[rule.endpoint]
    fields, json_route = _fields_read_by(view) or ["q"], _reads_json(view)
    converters = rule._converters  # noqa: SLF001 - werkzeug keeps no public name for them

    def path_strategy(name: str) -> st.SearchStrategy[str]:
        if isinstance(converters[name], IntegerConverter):
            return st.one_of(st.sampled_from(world.get(name, [1])), ODD_INTS).map(str)
        return ODD_TEXT.map(_path_value)

    @FUZZ
    # A rule's defaults count among its arguments but are not in its path (``/janus`` with rest="").
    @given(args=st.fixed_dictionaries({name: path_strategy(name) for name in rule.arguments if name in converters}),
           query=st.lists(st.tuples(st.sampled_from(fields), FORM_VALUES), max_size=4),
           form=st.lists(st.tuples(st.sampled_from(fields), FORM_VALUES), max_size=6),
           body=st.one_of(st.just("deep"), JSON_VALUES))
    def fuzz(args: dict[str, str], query: list[tuple[str, str]], form: list[tuple[str, str]], body: Any) -> None:
        url = rule.rule
        for name, value in args.items():
            url = re.sub(rf"<(?:[^<>:]+:)?{name}>", lambda _match, value=value: value, url)
        url += "?" + _encode(query).decode("ascii")
        kwargs: dict[str, Any] = {"method": method, "headers": {"X-CSRFToken": token}}
        if method != "GET" and json_route:
            text = DEEP if body == "deep" else json.dumps(body)
            kwargs.update(data=text.encode("utf-8", "surrogatepass"), content_type="application/json")
        elif method != "GET":
            kwargs.update(data=_encode([*form, ("csrf_token", token)]),
                          content_type="application/x-www-form-urlencoded")
        _check(http.open(url, **kwargs), (method, url[:200], form[:3]))

    fuzz()


@pytest.mark.parametrize("role", ROLES)
def test_no_route_answers_odd_input_with_a_5xx_or_an_unescaped_echo(app, world, role):
    http = _signed_in(app, role)
    token = csrf_from(http.get("/").get_data(as_text=True))
    for rule, method in _routes(app):
        _fuzz_route(http, token, rule, method, world)
        if http.get("/").status_code != 200:  # the route signed out or locked the session: sign in again
            http = _signed_in(app, role)
            token = csrf_from(http.get("/").get_data(as_text=True))


def test_an_edit_conflict_shows_the_unsaved_text_only_sanitised(app, client, closed_meeting, cabinet):  # noqa: F811
    """The 409 of the minutes editor shows the posted text again, in the editor, as HTML: sanitised."""
    from ecabinet.minutes import service

    minutes = service.create_draft(actor(cabinet["secretary"]), closed_meeting)
    db.session.commit()
    http = _signed_in(app, "secretary")
    token = csrf_from(http.get(f"/minutes/{minutes.id}/edit").get_data(as_text=True))
    posted = f"<p>Kết luận</p><script>alert(1)</script><img src=x onerror=alert(1)>{MARKER}"
    response = http.post(f"/minutes/{minutes.id}/edit", data={"csrf_token": token, "body": posted,
                                                               "base_revision": str(minutes.revision + 7)})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert MARKER not in page and "<script>alert" not in page and "onerror" not in page.replace("&", "")
    assert "<p>Kết luận</p>" in page  # the merge still has the text to work from
    for odd in (str(MAX_ID + 1), "9" * 5_000, "-1", "١"):
        response = http.post(f"/minutes/{minutes.id}/edit", data={"csrf_token": token, "body": "<p>x</p>",
                                                                   "base_revision": odd})
        assert response.status_code == 400 and "base_revision" in response.get_json()["fields"], odd


# --- Socket.IO ---------------------------------------------------------------------------------------

def _event_payloads(event: str) -> st.SearchStrategy[Any]:
    fields = sorted(EVENT_SCHEMAS[event].model_json_schema().get("properties", {}))
    return st.one_of(
        st.dictionaries(st.sampled_from(fields) if fields else st.text(max_size=8), JSON_VALUES, max_size=6),
        JSON_VALUES,
    )


def _fuzz_event(sio, event: str) -> None:  # noqa: ANN001
    @FUZZ
    @given(payload=_event_payloads(event))
    def fuzz(payload: Any) -> None:
        ack = sio.emit(event, payload, callback=True)
        assert isinstance(ack, dict) and "ok" in ack, (event, payload, ack)

    fuzz()


@pytest.mark.parametrize("role", ROLES)
def test_every_event_answers_odd_payloads(app, world, role):
    """Every odd payload must reach its schema: the rate limits (tested in tests/live/test_flood.py) are
    lifted, or the many events sent here would be refused, and their socket closed, before that."""
    from ecabinet.core.ratelimit import RATES, Rate

    app.config["SOCKET_RATE_LIMITS"] = {name: Rate(count=10_000, seconds=1, burst=10_000) for name in RATES}
    http = _signed_in(app, role)
    sio = app.extensions["socketio"].test_client(app, flask_test_client=http, headers={"Origin": "http://localhost"})
    assert sio.is_connected()
    try:
        for event in sorted(EVENT_RULES):
            _fuzz_event(sio, event)
            db.session.rollback()
    finally:
        if sio.is_connected():
            sio.disconnect()
