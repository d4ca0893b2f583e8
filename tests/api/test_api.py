"""The REST API under /api/v1: tokens and scopes, what each organisation sees, idempotency keys, cursors,
rate limits, and problem+json for every error."""

from __future__ import annotations

from sqlalchemy import func, select

from ecabinet.api import service as api
from ecabinet.api.models import ApiClient
from ecabinet.audit.models import AuditEntry
from ecabinet.extensions import db
from tests.api.conftest import ADMIN, bearer
from tests.conftest import PASSWORD
from tests.helpers import login

PROBLEM = "application/problem+json"


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:300])
    assert response.mimetype == PROBLEM, response.mimetype
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"]
    return body


def token(world, name: str = "finance") -> str:
    return world["clients"][name][1]


def test_a_token_lists_the_meetings_of_its_organisation(client, world):
    response = client.get("/api/v1/meetings", headers=bearer(token(world)))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [m["id"] for m in response.get_json()["data"]] == [world["meeting"]]
    assert "Set-Cookie" not in response.headers


def test_no_token_is_a_401_problem(client, world):
    body = assert_problem(client.get("/api/v1/meetings"), 401)
    assert "Bearer" in body["detail"]
    assert_problem(client.get("/api/v1/meetings", headers=bearer("ecab_not-a-token")), 401)


def test_a_token_without_the_scope_is_a_403_problem(client, world):
    assert_problem(client.get("/api/v1/meetings", headers=bearer(token(world, "narrow"))), 403)
    assert_problem(client.get(f"/api/v1/meetings/{world['meeting']}/documents",
                              headers=bearer(token(world, "narrow"))), 403)


def test_a_rotated_token_is_a_401_and_the_new_one_works(app, client, world):
    client_id, old = world["clients"]["finance"]
    new = api.rotate_token(ADMIN, db.session.get(ApiClient, client_id))
    db.session.commit()
    assert_problem(client.get("/api/v1/meetings", headers=bearer(old)), 401)
    assert client.get("/api/v1/meetings", headers=bearer(new)).status_code == 200


def test_a_revoked_client_is_a_401(client, world):
    client_id, value = world["clients"]["finance"]
    api.revoke_client(ADMIN, db.session.get(ApiClient, client_id))
    db.session.commit()
    assert_problem(client.get("/api/v1/meetings", headers=bearer(value)), 401)


def test_the_agenda_shows_only_what_the_organisation_may_see(client, world):
    finance = client.get(f"/api/v1/meetings/{world['meeting']}", headers=bearer(token(world))).get_json()
    # A member takes part: the normal items and its own; not the other ministry's restricted item.
    assert [i["id"] for i in finance["items"]] == [world["first"], world["third"]]
    foreign = client.get(f"/api/v1/meetings/{world['meeting']}", headers=bearer(token(world, "foreign"))).get_json()
    # It only presents an item: that item, nothing else of the agenda.
    assert [i["id"] for i in foreign["items"]] == [world["second"]]


def test_another_organisations_data_is_invisible(client, world):
    headers = bearer(token(world))
    documents = client.get(f"/api/v1/meetings/{world['meeting']}/documents", headers=headers).get_json()["data"]
    assert [d["id"] for d in documents] == [world["doc_first"]]
    assert_problem(client.get(f"/api/v1/documents/{world['doc_second']}/copy", headers=headers), 404)
    outcomes = client.get(f"/api/v1/meetings/{world['meeting']}/outcomes", headers=headers).get_json()
    assert [b["id"] for b in outcomes["ballots"]] == [world["ballot"]]
    assert set(outcomes["ballots"][0]) == {"id", "item_id", "title", "secret", "closed_at", "outcome", "votes_cast",
                                           "eligible_count"}
    actions = client.get("/api/v1/actions", headers=headers).get_json()["data"]
    assert [a["id"] for a in actions] == [world["own_action"]]
    other = client.post(f"/api/v1/actions/{world['other_action']}/updates", json={"status": "done"},
                        headers=bearer(token(world), **{"Idempotency-Key": "k-other"}))
    assert_problem(other, 404)


def test_the_watermarked_copy_is_the_readers_and_audited(client, world):
    response = client.get(f"/api/v1/documents/{world['doc_first']}/copy", headers=bearer(token(world)))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF")
    db.session.rollback()
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"document.copy_made", "api.document_copy"} <= actions
    # A client with no reader account gets no copy.
    assert_problem(client.get(f"/api/v1/documents/{world['doc_second']}/copy",
                              headers=bearer(token(world, "foreign"))), 403)


def test_an_action_update_is_idempotent(client, world):
    url = f"/api/v1/actions/{world['own_action']}/updates"
    headers = bearer(token(world), **{"Idempotency-Key": "update-1"})
    first = client.post(url, json={"status": "in_progress", "note": "Đang soạn"}, headers=headers)
    assert first.status_code == 201, first.get_data(as_text=True)
    again = client.post(url, json={"status": "in_progress", "note": "Đang soạn"}, headers=headers)
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "action.update")) == 1
    conflict = client.post(url, json={"status": "done"}, headers=headers)
    assert_problem(conflict, 422)
    assert_problem(client.post(url, json={"status": "done"}, headers=bearer(token(world))), 400)


def test_a_bad_body_is_a_422_problem_with_fields(client, world):
    url = f"/api/v1/actions/{world['own_action']}/updates"
    body = assert_problem(client.post(url, json={"status": "finished"},
                                      headers=bearer(token(world), **{"Idempotency-Key": "bad"})), 422)
    assert "status" in body["errors"]


def test_cursors_page_and_refuse_tampering_and_other_queries(client, world):
    from datetime import date, timedelta

    from ecabinet.meetings.queries import get_meeting
    from ecabinet.minutes import service as minutes

    meeting = get_meeting(world["meeting"])
    for n in range(3):
        minutes.add_action(ADMIN, meeting, minutes.ActionData(title=f"Việc {n}", ministry="",
                                                              organisation_id=world["finance"],
                                                              due_date=date.today() + timedelta(days=5)))
    db.session.commit()
    headers = bearer(token(world))
    page = client.get("/api/v1/actions?limit=2", headers=headers).get_json()
    assert len(page["data"]) == 2 and page["next_cursor"]
    rest = client.get(f"/api/v1/actions?limit=2&cursor={page['next_cursor']}", headers=headers).get_json()
    assert len(rest["data"]) == 2 and rest["next_cursor"] is None
    assert {a["id"] for a in page["data"]}.isdisjoint({a["id"] for a in rest["data"]})
    tampered = page["next_cursor"][:-2] + ("AA" if not page["next_cursor"].endswith("AA") else "BB")
    assert_problem(client.get(f"/api/v1/actions?limit=2&cursor={tampered}", headers=headers), 400)
    # The same cursor with another filter, on another endpoint, or by another client.
    assert_problem(client.get(f"/api/v1/actions?status=open&cursor={page['next_cursor']}", headers=headers), 400)
    assert_problem(client.get(f"/api/v1/meetings?cursor={page['next_cursor']}", headers=headers), 400)
    assert_problem(client.get(f"/api/v1/actions?cursor={page['next_cursor']}",
                              headers=bearer(token(world, "foreign"))), 400)


def test_a_client_over_its_rate_is_a_429_with_retry_after(app, client, world):
    app.config.update(API_RATE_BURST=3, API_RATE_PER_SECOND=0.01)
    headers = bearer(token(world))
    statuses = [client.get("/api/v1/actions", headers=headers).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/actions", headers=headers)
    assert_problem(response, 429)
    assert int(response.headers["Retry-After"]) >= 1
    # Per client: another client still has its own bucket.
    assert client.get("/api/v1/meetings", headers=bearer(token(world, "foreign"))).status_code == 200


def test_every_error_is_problem_json(client, world):
    headers = bearer(token(world))
    assert_problem(client.get("/api/v1/nowhere", headers=headers), 404)
    assert_problem(client.get("/api/v1/meetings/999999", headers=headers), 404)
    assert_problem(client.get("/api/v1/meetings/99999999999999999999", headers=headers), 404)
    response = client.delete("/api/v1/meetings", headers=headers)
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]
    assert_problem(client.get("/api/v1/meetings?limit=0", headers=headers), 422)
    assert_problem(client.get("/api/v1/meetings?limit=abc", headers=headers), 422)
    assert_problem(client.post(f"/api/v1/actions/{world['own_action']}/updates", data=b"{not json",
                               content_type="application/json",
                               headers=bearer(token(world), **{"Idempotency-Key": "broken"})), 422)


def test_an_unexpected_error_is_a_500_problem(app, client, world, monkeypatch):
    from ecabinet.api import policy

    def boom(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(policy, "visible_meetings", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert_problem(client.get("/api/v1/meetings", headers=bearer(token(world))), 500)


def test_a_signed_in_browser_cannot_use_the_api(app, client, world):
    login(client, "member@example.gov.vn", PASSWORD)
    assert_problem(client.get("/api/v1/meetings"), 403)
    # A POST with the session's cookie but no bearer meets the CSRF check (it is exempt for bearer requests only).
    response = client.post(f"/api/v1/actions/{world['own_action']}/updates", json={"status": "done"},
                           headers={"Idempotency-Key": "cookie"})
    assert_problem(response, 400)


def test_reads_are_audited_in_aggregate(client, world):
    headers = bearer(token(world))
    for _ in range(5):
        assert client.get("/api/v1/actions", headers=headers).status_code == 200
    db.session.rollback()
    entries = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "api.reads")))
    assert len(entries) == 1  # the first read of the window; the next four are counted on the token


def test_the_description_is_valid_openapi_3_1(client, world):
    from openapi_spec_validator import validate
    from openapi_spec_validator.versions.shortcuts import get_spec_version

    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    validate(document)
    assert str(get_spec_version(document)).endswith("3.1")
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and b"/api/v1/meetings/{meeting_id}" in page.data


def test_an_administrator_registers_rotates_and_revokes_a_client(app, client, world, users):
    from tests.helpers import csrf_from

    login(client, "admin@example.gov.vn", PASSWORD)
    page = client.get("/admin/api-clients")
    assert page.status_code == 200
    csrf = csrf_from(page.get_data(as_text=True))
    response = client.post("/admin/api-clients", data={
        "csrf_token": csrf, "name": "Hệ thống Bộ Tài chính", "organisation_id": str(world["finance"]),
        "scopes": ["meetings:read"]})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    value = html.split("<code>ecab_", 1)[1].split("</code>", 1)[0]
    assert client.get("/api/v1/meetings", headers=bearer("ecab_" + value)).status_code == 200
    db.session.rollback()
    new = db.session.scalar(select(ApiClient).where(ApiClient.name == "Hệ thống Bộ Tài chính"))
    assert new.tokens[0].token_hash == api.token_hash("ecab_" + value) and value not in new.tokens[0].token_hash
    client.post("/admin/api-clients/revoke", data={"csrf_token": csrf, "client_id": str(new.id)})
    assert client.get("/api/v1/meetings", headers=bearer("ecab_" + value)).status_code == 401
    secretary = app.test_client()
    login(secretary, "secretary@example.gov.vn", PASSWORD)
    assert secretary.get("/admin/api-clients").status_code == 403
