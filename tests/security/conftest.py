from tests.documents.app_fixtures import briefing  # noqa: F401 - fixtures reused here
from tests.meetings.conftest import actor, cabinet, draft, published  # noqa: F401 - fixtures reused here
