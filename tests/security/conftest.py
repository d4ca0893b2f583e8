from tests.meetings.conftest import actor, cabinet, draft, published  # noqa: F401 - fixtures reused here
