import pytest

from tests.documents.app_fixtures import briefing  # noqa: F401 - fixtures reused here
from tests.meetings.conftest import actor, cabinet, draft, published  # noqa: F401 - fixtures reused here


@pytest.fixture
def production_client(db_url, users, monkeypatch):
    """A test client of the app in its production configuration (Secure cookies, SSL-strict CSRF)."""
    from ecabinet import create_app
    from ecabinet.extensions import db

    monkeypatch.delenv("SESSION_COOKIE_SECURE")
    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "LOGIN_RATE_LIMIT": "1000 per minute"})
    yield app.test_client()
    with app.app_context():
        db.engine.dispose()
