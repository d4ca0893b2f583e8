"""``/metrics``: an administrator or the bearer token gets Prometheus text; a member, a wrong token and an
anonymous client get a 404 that says nothing, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD
from tests.helpers import login

TOKEN = "scrape-token-for-tests-0123456789"


@pytest.fixture
def metrics_app(app):
    app.config["METRICS_TOKEN"] = TOKEN
    return app


def _assert_metrics(response) -> str:
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    for name in ("ecabinet_open_sockets", "ecabinet_db_pool_checked_out", "ecabinet_http_requests_total",
                 "ecabinet_http_request_duration_seconds_bucket", "ecabinet_job_queue_depth",
                 "ecabinet_live_admission_waiting"):
        assert name in text, name
    return text


def test_an_admin_reads_the_metrics(metrics_app, client, users) -> None:
    login(client, "admin@example.gov.vn", PASSWORD)
    client.get("/healthz")
    text = _assert_metrics(client.get("/metrics"))
    # The request just made is counted under its endpoint, not its path.
    assert 'ecabinet_http_requests_total{endpoint="core.healthz",method="GET",status="200"}' in text


def test_the_bearer_token_reads_the_metrics(metrics_app, client) -> None:
    _assert_metrics(client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}))


@pytest.mark.parametrize("who", ["anonymous", "member", "secretary", "wrong-token"])
def test_anyone_else_gets_a_404(metrics_app, client, users, who) -> None:
    headers = {}
    if who == "wrong-token":
        headers = {"Authorization": "Bearer not-the-token"}
    elif who != "anonymous":
        login(client, f"{who}@example.gov.vn", PASSWORD)
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 404
    assert "ecabinet_" not in response.get_data(as_text=True)


def test_without_a_configured_token_no_bearer_is_accepted(app, client) -> None:
    app.config["METRICS_TOKEN"] = ""
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404
