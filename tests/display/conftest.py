"""The meeting fixtures the room display's tests share with the live room and voting."""

from tests.live.conftest import in_session  # noqa: F401 - fixtures reused here
from tests.meetings.conftest import cabinet, draft, published  # noqa: F401
from tests.voting.conftest import live_open, quorate  # noqa: F401
