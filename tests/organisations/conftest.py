"""Fixtures reused from the meetings and minutes tests: a small cabinet, a draft and a closed meeting."""

from tests.meetings.conftest import cabinet, draft, published  # noqa: F401 - fixtures reused here
from tests.minutes.conftest import closed_meeting, signing_pair  # noqa: F401 - fixtures reused here
