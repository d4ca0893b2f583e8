"""Schemathesis against /api/v1/openapi.json, through the app's WSGI interface: generated requests, valid
and invalid, for every operation; no answer is a 500, and every answer conforms to the description."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

# Imported here, at collection, not lazily inside the test: pytest rewrites schemathesis's modules as it
# imports them, and CPython 3.11.7's compiler failed ("AST constructor recursion depth mismatch") when
# that first happened deep in a test, with the app's greenlets about.
from schemathesis.specs.openapi.schemas import OpenApiSchema  # noqa: F401

from tests.api.conftest import bearer

EXAMPLES = 20  # per operation and mode: keeps the run within seconds per database


def test_the_api_conforms_to_its_description(app, world, submitter):
    app.config.update(API_RATE_BURST=100_000, API_RATE_PER_SECOND=1000.0)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    known = {"meeting_id": world["meeting"], "document_id": world["doc_first"], "action_id": world["own_action"],
             "submission_id": submitter["submission"]}
    reader, liaison = bearer(world["clients"]["finance"][1]), bearer(submitter["token"])
    ran = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        real = {p.name: known[p.name] for p in operation.path_parameters if p.name in known}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategies = [operation.as_strategy(mode)]
            if real:
                strategies.append(operation.as_strategy(mode, path_parameters=real))

            @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
            @given(case=st.one_of(strategies))
            def check(case):  # noqa: ANN001
                # Every check but one: a cursor is opaque and signed, so a schema-valid string is still refused
                # (400), by design; the description says so, and test_api tests the cursors themselves.
                # The submissions are acted on by the client whose reader is the ministry's liaison.
                headers = liaison if "/submissions" in case.operation.path else reader
                case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

            check()
            ran += 1
    assert ran >= 26  # every operation of the description, both ways
