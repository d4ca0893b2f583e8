"""Every page, for every role, in both languages: no English message left on a Vietnamese page (and no
Vietnamese one on an English page), and no raw state code where words belong.

The pages are every GET route of the app's own URL map, filled from the access matrix's world (a
meeting in session with a ballot, a briefing document, draft minutes and an action item). What counts
as "the app's own strings" is every translated message of the catalogues: a message of three words or
more found in the wrong language's page is a miss. The people's data (titles, names) may be in either
language and is not checked."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from ecabinet.extensions import db
from tests.conftest import PASSWORD, ROOT, IsolatedClient
from tests.documents.app_fixtures import briefing  # noqa: F401 - fixtures reused here
from tests.helpers import login
from tests.meetings.conftest import cabinet, draft, published  # noqa: F401 - fixtures reused here
from tests.security.test_access_matrix import _url, world  # noqa: F401 - the fixture is used by name

ROLES = ["guest", "member", "chair", "secretary", "admin", "liaison"]
_TAGS = re.compile(r"<script\b.*?</script>|<style\b.*?</style>|<[^>]+>", re.DOTALL | re.IGNORECASE)
# Not the app's words: raw entries shown as such (the audit log's JSON), and the minutes' own text and
# its comparison lines, which are an official document in Vietnamese whatever the reader's language.
_NOT_WORDS = re.compile(r"<pre\b.*?</pre>|<textarea\b.*?</textarea>|"
                        r"<(div|article)\b[^>]*\bminutes-text\b[^>]*>.*?</\1>|"
                        r"<p class=\"diff-line[^>]*>.*?</p>", re.DOTALL | re.IGNORECASE)
# The codes of the app's states and outcomes, as stored: shown raw, they are a miss.
RAW_CODES = re.compile(r"\b(in_session|adopted_by_vote|rejected_by_vote|adopted_by_consent|partly_adopted|no_quorum|"
                       r"majority_cast|majority_all|two_thirds|in_progress|all_answered|not_started)\b")


def _catalogue_pairs() -> list[tuple[str, str]]:
    pairs = []
    for path in sorted(Path(ROOT, "ecabinet").glob("**/translations/vi/LC_MESSAGES/messages.po")):
        with path.open("rb") as fh:
            for message in read_po(fh, locale="vi"):
                if not message.id or not message.string or isinstance(message.id, tuple):
                    continue
                if message.id != message.string and "%" not in message.id and len(message.id.split()) >= 3 \
                        and len(message.string.split()) >= 3:
                    pairs.append((message.id, message.string))
    return pairs


PAIRS = _catalogue_pairs()


def _visible(page: str) -> str:
    return " ".join(html.unescape(_TAGS.sub(" ", _NOT_WORDS.sub(" ", page))).split())


@pytest.mark.parametrize("role", ROLES)
def test_every_page_speaks_one_language(app, world, cabinet, role):  # noqa: F811 - fixtures
    user = cabinet[role]
    misses: list[str] = []
    for language in ("vi", "en"):
        user.locale = language
        db.session.commit()
        app.test_client_class = IsolatedClient
        client = app.test_client()  # a browser of its own for each language
        login(client, user.email, PASSWORD)
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint in ("static", "home.service_worker"):
                continue
            response = client.get(_url(rule, world))
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            text = _visible(response.get_data(as_text=True))
            where = f"{language} {role} {rule.rule}"
            for code in sorted(set(RAW_CODES.findall(text))):
                misses.append(f"{where}: raw code {code!r}")
            for english, vietnamese in PAIRS:
                wrong = english if language == "vi" else vietnamese
                if wrong in text:
                    misses.append(f"{where}: {'English' if language == 'vi' else 'Vietnamese'} {wrong!r}")
    assert misses == [], "\n".join(sorted(set(misses))[:60])
