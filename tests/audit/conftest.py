from tests.meetings.conftest import cabinet, draft, published  # noqa: F401 - fixtures reused here
