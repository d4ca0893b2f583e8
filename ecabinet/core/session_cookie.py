"""The signed session cookie, re-sent only by answers that can matter to it.

The sign-in session is permanent and Flask refreshes its cookie on every answer, with the contents the
request started with. A request the browser makes in the background (a stylesheet, the service worker
caching the app's files and its offline page, a page's script asking for JSON on a timer or as it is left)
that is answered after a form's redirect would put back the cookie as it was before the form, dropping what
the form stored in it: the "saved" message, for one. Those answers leave the cookie alone unless they
changed the session themselves. The pages a reader opens keep refreshing it, and so the sign-in alive.

A socket's events are not answers: Flask-SocketIO gives each event the session as it was at the socket's
handshake (its "managed session"), so the cookie is not decoded again for every event.
"""

from __future__ import annotations

from flask import Flask, Request, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin

# Files and shells fetched in the background, never a reader's action.
BACKGROUND_FILES = frozenset({"static", "home.service_worker", "home.offline", "home.manifest"})
# JSON a page's script asks for by itself: an offline pack's check-in (and the CSRF token it takes), its
# download and the changes made offline sent back; the remote attendance's token renewal, the room's media
# state and the leave sent as the page is left (while a form posted from it is being answered).
BACKGROUND_JSON = frozenset({
    "offline.token", "offline.check_in", "offline.manifest", "offline.pack_held", "offline.changes",
    "media.renew", "media.state", "media.leave",
})
BACKGROUND_ENDPOINTS = BACKGROUND_FILES | BACKGROUND_JSON


class SessionCookie(SecureCookieSessionInterface):
    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        # A socket's event: Flask pushes a request context on the handshake's environ and opens its session,
        # which Flask-SocketIO then replaces with the copy it keeps there. Decoding and checking the
        # cookie's signature for nothing was 3.5 % of the worker's CPU per vote in a 2,000-voter ballot.
        kept = request.environ.get("saved_session")
        if kept is not None:
            return kept
        return super().open_session(app, request)

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        if request.endpoint in BACKGROUND_ENDPOINTS and not session.modified:
            return False
        return super().should_set_cookie(app, session)
