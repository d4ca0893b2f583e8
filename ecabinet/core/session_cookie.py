"""The signed session cookie, re-sent only by answers that can matter to it.

The sign-in session is permanent and Flask refreshes its cookie on every answer, with the contents the
request started with. A request the browser makes in the background (a stylesheet, the service worker
caching the app's files and its offline page) that is answered after a form's redirect would put back the
cookie as it was before the form, dropping what the form stored in it: the "saved" message, for one.
Those answers leave the cookie alone unless they changed the session themselves.
"""

from __future__ import annotations

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin

# Files and shells fetched in the background, never a reader's action.
BACKGROUND_ENDPOINTS = frozenset({"static", "home.service_worker", "home.offline", "home.manifest"})


class SessionCookie(SecureCookieSessionInterface):
    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        if request.endpoint in BACKGROUND_ENDPOINTS and not session.modified:
            return False
        return super().should_set_cookie(app, session)
