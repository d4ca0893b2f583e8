"""The media room's HTTP side: a participant's token (join, renew, leave, "I publish"), the chair's
moderation, who is connected, and the pass-through to Janus's HTTP API on loopback (``/janus``), which lets
through only the requests a participant's page makes, about its own room (docs/media.md, "What a
participant's token allows").

Every call to Janus happens after the unit of work has committed, with no database connection held.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from ecabinet.accounts.auth import current_session
from ecabinet.core import uow
from ecabinet.core.actor import current_actor
from ecabinet.core.errors import DomainError
from ecabinet.core.policy import guard
from ecabinet.core.schemas import json_body
from ecabinet.extensions import csrf
from ecabinet.media import policy, reactions, service, signalling
from ecabinet.media.janus import JanusError
from ecabinet.media.schemas import JoinBody, ModerateBody, PublishedBody
from ecabinet.meetings import queries as meetings

bp = Blueprint("media", __name__)

PASS_THROUGH_TIMEOUT = 65.0  # Janus holds a long poll up to 30 s
MAX_SIGNALLING_BYTES = 256 * 1024


@bp.app_template_global()
def media_enabled() -> bool:
    return service.enabled()


@bp.app_template_global()
def media_viewer(meeting) -> dict[str, bool]:  # noqa: ANN001
    """How the panel treats the viewer: the meeting's chair is always heard (the server never mutes
    them); moderating (muting anyone, ending anyone's video) is what the policy allows."""
    if not current_user.is_authenticated:
        return {"chair": False, "moderate": False}
    return {"chair": meeting.chair_id == current_user.id,
            "moderate": bool(policy.can_moderate_media(current_user, meeting_id=meeting.id))}


@bp.after_app_request
def _allow_devices(response: Response) -> Response:
    """The meeting screens may open the microphone and camera (every other page may not)."""
    if request.endpoint in ("live.room", "live.console") and service.enabled():
        response.headers["Permissions-Policy"] = "camera=(self), microphone=(self), geolocation=()"
    return response


def _refused(exc: DomainError) -> tuple[Response, int]:
    uow.rollback()
    return jsonify(error=exc.translated()), exc.status


def _unavailable() -> tuple[Response, int]:
    return jsonify(error=_("The audio and video server is unavailable at the moment: try again in a few "
                           "seconds.")), 503


def _client():  # noqa: ANN202
    client = service.janus()
    if client is None:
        abort(404)
    return client


@bp.post("/media/meetings/<int:meeting_id>/join")
@guard(policy.can_join_media)
def join(meeting_id: int):
    mode = json_body(JoinBody).mode
    client = _client()
    session_row = current_session()
    try:
        ticket = service.issue_token(current_actor(), meetings.meeting_or_404(meeting_id),
                                     session_row.id if session_row else None, mode)
    except DomainError as exc:
        return _refused(exc)
    uow.commit()  # the boundary's commit, before Janus is asked anything
    reactions.start_sweeper(current_app._get_current_object())
    try:
        reactions.apply_ticket(client, ticket)
    except JanusError:
        current_app.logger.warning("media join: Janus refused or is unreachable", exc_info=True)
        return _unavailable()
    return jsonify(**ticket.public(), speaker_user_id=_speaker(meeting_id))


def _speaker(meeting_id: int) -> int | None:
    speaker = service.speaker_id(meeting_id)
    uow.release()
    return speaker


@bp.post("/media/meetings/<int:meeting_id>/renew")
@guard(policy.can_join_media)
def renew(meeting_id: int):
    client = _client()
    try:
        ticket = service.renew_token(current_actor(), meetings.meeting_or_404(meeting_id))
    except DomainError as exc:
        return _refused(exc)
    uow.commit()
    try:
        client.add_token(ticket.token)  # again: Janus may have restarted since
        client.create_room(ticket.room, ticket.secret, ticket.description, service.MAX_PUBLISHERS)
        client.allow(ticket.room, ticket.secret, [ticket.token])
    except JanusError:
        return _unavailable()
    return jsonify(expires_in=ticket.expires_in)


@bp.post("/media/meetings/<int:meeting_id>/published")
@guard(policy.can_join_media)
def published(meeting_id: int):
    """The page publishes: Janus, not the page, says which of its streams is audio (signalling.py)."""
    data = json_body(PublishedBody)
    client = _client()
    meeting = meetings.meeting_or_404(meeting_id)
    try:
        place = signalling.publishing(current_actor(), meeting)
    except DomainError as exc:
        return _refused(exc)
    uow.release()  # no database connection held while Janus answers
    try:
        info = client.handle_info(data.session_id, data.handle_id)
    except JanusError:
        return _refused(service.MediaError("This connection does not publish as you in this meeting's room."))
    try:
        audio_mid, video_mid = signalling.published_streams(info, place)
        plan = service.published(current_actor(), meetings.meeting_or_404(meeting_id), audio_mid, video_mid, data.mode)
    except DomainError as exc:
        return _refused(exc)
    uow.commit()
    failed = reactions.apply_moderations(client, plan)
    if any(step.mute and step.mid == audio_mid for step in failed):
        # The page sends its microphone once this answers: never while it is unmuted at Janus.
        revocations = service.left(current_actor(), meetings.meeting_or_404(meeting_id))
        uow.commit()
        reactions.apply_revocations(client, revocations)
        return _unavailable()
    return jsonify(muted=any(step.mute for step in plan if step.mid == audio_mid), audio_mid=audio_mid,
                   video_mid=video_mid)


@bp.post("/media/meetings/<int:meeting_id>/leave")
@guard(policy.can_see_media)
def leave(meeting_id: int):
    client = _client()
    plan = service.left(current_actor(), meetings.meeting_or_404(meeting_id))
    uow.commit()
    reactions.apply_revocations(client, plan)
    return jsonify(ok=True)


@bp.post("/media/meetings/<int:meeting_id>/moderate")
@guard(policy.can_moderate_media)
def moderate(meeting_id: int):
    data = json_body(ModerateBody)
    client = _client()
    try:
        plan = service.chair_moderate(current_actor(), meetings.meeting_or_404(meeting_id), data.user_id, data.action)
    except DomainError as exc:
        return _refused(exc)
    uow.commit()
    reactions.apply_moderations(client, plan)
    return jsonify(ok=True)


@bp.get("/media/meetings/<int:meeting_id>/state")
@guard(policy.can_see_media)
def state(meeting_id: int):
    answer = {"connected": service.connected(meeting_id), "speaker_user_id": service.speaker_id(meeting_id)}
    return jsonify(answer)


# --- the pass-through to Janus's HTTP API ------------------------------------------------------------

def _signed_in(user, **_: object) -> bool:  # noqa: ANN001
    return True


def _janus_refusal(body: Any, reason: str, status: int = 403) -> tuple[Response, int]:
    """A refusal in Janus's own words (janus.js shows its reason)."""
    transaction = body.get("transaction") if isinstance(body, dict) else None
    answer = {"janus": "error", "error": {"code": status, "reason": reason}}
    if isinstance(transaction, str):
        answer["transaction"] = transaction
    response = jsonify(answer)
    response.headers["Cache-Control"] = "no-store"
    return response, status


def _checked_body(raw: bytes) -> tuple[bytes | None, tuple[Response, int] | None]:
    """The request to forward, re-encoded from what was parsed (Janus reads exactly what was checked), or
    the refusal. Every request must carry a media token the app gave to this signed-in user; a VideoRoom
    request must be one a participant's page makes, and may name no other room than the token's."""
    try:
        body = json.loads(raw or b"null")
    except ValueError:
        return None, _janus_refusal(None, "The request is not JSON.", 400)
    if not isinstance(body, dict) or not isinstance(body.get("janus"), str):
        return None, _janus_refusal(None, "The request is not a Janus request.", 400)
    token = body.get("token")
    place = signalling.token_place(token, current_user.id) if isinstance(token, str) else None
    uow.release()  # a long poll may follow: holding no database connection
    if place is None:
        return None, _janus_refusal(body, "This token is not yours or has ended.")
    if body["janus"] == "message":
        refusal = signalling.refused_request(body.get("body"), place) or signalling.refused_offer(body.get("jsep"),
                                                                                                  place)
        if refusal is not None:
            return None, _janus_refusal(body, refusal)
    return json.dumps(body).encode(), None


@bp.route("/janus", methods=["GET", "POST"], defaults={"rest": ""})
@bp.route("/janus/<path:rest>", methods=["GET", "POST"])
@csrf.exempt  # every POST must carry a media token the app gave to this user (checked), and is JSON
@guard(_signed_in)
def pass_through(rest: str):
    url = current_app.config.get("JANUS_URL")
    if not url:
        abort(404)
    if not all(part.isdigit() for part in rest.split("/") if part) or rest.count("/") > 1:
        abort(404)
    body = None
    if request.method == "POST":
        if (request.content_length or 0) > MAX_SIGNALLING_BYTES:
            abort(413)
        body, refusal = _checked_body(request.get_data())
        if refusal is not None:
            return refusal
    uow.release()  # a long poll waits up to 30 s: holding no database connection
    target = url.rstrip("/") + ("/" + rest if rest else "")
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    forwarded = urllib.request.Request(target, data=body, method=request.method,  # noqa: S310
                                       headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(forwarded, timeout=PASS_THROUGH_TIMEOUT) as answer:  # noqa: S310
            payload, status = answer.read(), answer.status
    except urllib.error.HTTPError as exc:
        payload, status = exc.read(), exc.code
    except OSError:
        return _unavailable()
    response = Response(payload, status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response
