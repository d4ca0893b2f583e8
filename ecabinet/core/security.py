"""Security headers, the Socket.IO Origin allow-list, and error pages that leak nothing."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, request

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    # 'self': the meeting room embeds the document viewer of its own origin; no other site may frame a page.
    "frame-ancestors 'self'",
])


def set_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "SAMEORIGIN")  # the room frames the viewer; nobody else may
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.endpoint != "static":
        # Pages carry confidential material: never keep them in shared or back-button caches.
        headers.setdefault("Cache-Control", "no-store")
    return response


def origin_allowed(origin: str | None, host_url: str, allowed: list[str]) -> bool:
    """Same origin as the request's host, or one of the configured origins. A missing Origin is refused:
    browsers always send it on WebSocket and cross-site requests; non-browser clients must set it."""
    if not origin:
        return False
    origin = origin.rstrip("/").lower()
    own = urlsplit(host_url)
    if origin == f"{own.scheme}://{own.netloc}".lower():
        return True
    return origin in {o.rstrip("/").lower() for o in allowed}


def init_security(app: Flask) -> None:
    app.after_request(set_security_headers)
