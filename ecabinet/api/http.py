"""The API's boundary: problem+json errors, bearer authentication, scopes, the per-client rate limit,
idempotency keys on POSTs, signed cursors and the OpenAPI description (spectree, from pydantic models)."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, g, request
from itsdangerous import BadSignature, URLSafeSerializer
from spectree import Response as SpecResponse
from spectree import SecurityScheme, SecuritySchemeData, SpecTree
from spectree.plugins.flask_plugin import FlaskPlugin
from spectree.utils import get_multidict_items
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from ecabinet.api import service
from ecabinet.api.schemas import Problem
from ecabinet.core import uow
from ecabinet.core.policy import POLICY_ATTR

PREFIX = "/api/v1"
PROBLEM = "application/problem+json"
ERROR_STATUSES = (400, 401, 403, 404, 406, 422, 429)


class ProblemError(Exception):
    def __init__(self, status: int, detail: str | None = None, *, errors: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail or HTTP_STATUS_CODES.get(status, "Error"))
        self.status, self.detail, self.errors, self.headers = status, detail, errors, headers or {}


def problem(status: int, detail: str | None = None, errors: dict[str, str] | None = None,
            headers: dict[str, str] | Any = None) -> Response:
    body = Problem(title=HTTP_STATUS_CODES.get(status, "Error"), status=status, detail=detail,
                   instance=request.path, errors=errors)
    response = current_app.response_class(body.model_dump_json(exclude_none=True), status=status, mimetype=PROBLEM)
    if headers:
        for name, value in (headers.items() if isinstance(headers, dict) else headers):
            response.headers[name] = value
    return response


def as_problem(response: Response) -> Response:
    """Flask's own answers under /api/v1 (404 of an unknown path, 405, 413, a CSRF refusal, 500) made
    problem+json, keeping their status and headers (Allow, Retry-After)."""
    if not request.path.startswith(PREFIX) or response.status_code < 400 or response.mimetype == PROBLEM:
        return response
    detail = None
    if response.is_json:
        data = response.get_json(silent=True) or {}
        detail = data.get("error") if isinstance(data, dict) and isinstance(data.get("error"), str) else None
    keep = {k: v for k, v in response.headers.items() if k not in ("Content-Type", "Content-Length")}
    if response.status_code == 405 and "Allow" not in keep:  # the app's error page drops it
        adapter = current_app.url_map.bind_to_environ(request.environ)
        keep["Allow"] = ", ".join(sorted(adapter.allowed_methods()))
    return problem(response.status_code, detail, headers=keep)


def problem_for(exc: Exception) -> Response:
    if isinstance(exc, ProblemError):
        return problem(exc.status, exc.detail, exc.errors, exc.headers)
    if isinstance(exc, HTTPException):
        kept = {k: v for k, v in exc.get_headers() if k != "Content-Type"}  # Allow, Retry-After
        return problem(exc.code or 500, None, headers=kept)
    raise exc


# --- the OpenAPI description ----------------------------------------------------------------------

def _validation_failed(req: Any, resp: Any, req_validation_error: Any, instance: Any, *_: Any) -> None:
    """Spectree calls this before the view: a body or query that does not fit is a 422 problem."""
    if req_validation_error is None:
        return
    fields: dict[str, str] = {}
    for error in req_validation_error.errors():
        where = ".".join(str(p) for p in error.get("loc", ())) or "payload"
        fields.setdefault(where, error.get("msg", "invalid"))
    raise ProblemError(422, "The request does not fit the description.", errors=fields)


class _FlaskPlugin(FlaskPlugin):
    def fill_form(self, request: Any) -> dict:
        """A form's files are validated as their names (the view reads them from the request): spectree
        lists the inputs of a refused body as JSON, which a file object is not."""
        data: dict[str, Any] = dict(get_multidict_items(request.form))
        for name in request.files:
            names = [upload.filename or "" for upload in request.files.getlist(name)]
            data[name] = names if len(names) > 1 else names[0]
        return data


spec = SpecTree(
    "flask", backend=_FlaskPlugin, mode="strict", annotations=False, before=_validation_failed, path="api/v1/_spectree",
    title="e-Cabinet API", version="1.0.0",
    description="Meetings, agendas, documents, outcomes and action items for the ministries' own systems.",
    security_schemes=[SecurityScheme(name="bearer", data=SecuritySchemeData(type="http", scheme="bearer"))],
    security={"bearer": []},
    naming_strategy=lambda model: model.__name__,
)


def responses(**ok: Any) -> SpecResponse:
    return SpecResponse(**ok)


def openapi_document() -> dict[str, Any]:
    """Spectree's description, with every error answer declared as the problem+json it is."""
    document = json.loads(json.dumps(spec.spec))
    document["servers"] = [{"url": "/"}]
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = Problem.model_json_schema()
    ref = {"$ref": "#/components/schemas/Problem"}
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            answers = operation.setdefault("responses", {})
            for code in list(answers):
                if code.isdigit() and int(code) >= 400:
                    del answers[code]
            for code in ERROR_STATUSES + ((409,) if method == "post" else ()):
                answers[str(code)] = {"description": HTTP_STATUS_CODES[code], "content": {PROBLEM: {"schema": ref}}}
            special = OPERATION_EXTRAS.get((path, method))
            if special:
                special(operation)
    # Spectree names models by module; drop unused ValidationError models it adds for the 422 answers.
    for name in [n for n in schemas if "ValidationError" in n]:
        del schemas[name]
    return document


# (path, method) -> a function that amends the generated operation (a binary answer, a request header).
OPERATION_EXTRAS: dict[tuple[str, str], Callable[[dict], None]] = {}


# --- cursors ---------------------------------------------------------------------------------------

def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="ecabinet.api.cursor")


def query_key(client_id: int, **query: Any) -> str:
    """What a cursor is bound to: the client, the endpoint, its path arguments and filters (not the limit)."""
    bound = {"client": client_id, "endpoint": request.endpoint, "path": request.view_args, **query}
    return hashlib.sha256(service.canonical(bound).encode()).hexdigest()[:32]


def make_cursor(key: str, after: Any) -> str:
    return _serializer().dumps({"q": key, "after": after})


def read_cursor(key: str, cursor: str | None) -> Any:
    """The position a cursor stands for; a tampered cursor, or one from another query, is a 400."""
    if cursor is None:
        return None
    try:
        data = _serializer().loads(cursor)
    except (BadSignature, ValueError, UnicodeDecodeError) as exc:
        raise ProblemError(400, "The cursor is not one this API issued.") from exc
    if not isinstance(data, dict) or data.get("q") != key:
        raise ProblemError(400, "The cursor belongs to another query: start again without it.")
    return data.get("after")


# --- the operation decorator ------------------------------------------------------------------------

def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def client_rule(scope: str) -> Callable[..., bool]:
    def rule(_user: Any = None, **_: object) -> bool:
        """An API client holding the scope, authenticated by its bearer token (never a browser session)."""
        return False

    rule.__name__ = f"api_scope_{scope.replace(':', '_')}"
    rule.__doc__ = f"API clients with the {scope} scope"
    return rule


def operation(scope: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wrap an API view: bearer token, rate limit, scope, idempotency (POST), then one commit."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = _authenticated()
            client = token.client
            wait = _buckets().take(client.id, float(current_app.config.get("API_RATE_PER_SECOND", 5.0)),
                                int(current_app.config.get("API_RATE_BURST", 60)))
            if wait is not None:
                raise ProblemError(429, "Too many requests for this client.",
                                   headers={"Retry-After": str(max(1, int(wait + 0.999)))})
            if scope not in client.scope_set:
                raise ProblemError(403, f"This client does not hold the {scope} scope.")
            g.api_client, g.api_token = client, token
            g.api_actor = service.client_actor(client, request.remote_addr)
            if request.method == "POST":
                return _idempotent(token, lambda: view(*args, **kwargs))
            result = view(*args, **kwargs)
            service.record_use(g.api_actor, token, write=False)
            uow.commit()
            return result

        setattr(wrapper, POLICY_ATTR, client_rule(scope))
        return wrapper

    return decorate


def _buckets() -> service.TokenBuckets | service.RedisTokenBuckets:
    """The app's buckets: in Redis when REDIS_URL is set, so that every instance shares one budget per
    client; else in this process (docs/api.md, "Rate limits")."""
    found = current_app.extensions.get("ecabinet_api_buckets")
    if found is None:
        url = current_app.config.get("REDIS_URL")
        found = service.RedisTokenBuckets(url, current_app.config.get("API_RATE_REDIS_PREFIX", "ecabinet:api:rate:")) \
            if url else service.TokenBuckets()
        current_app.extensions["ecabinet_api_buckets"] = found
    return found


def _authenticated() -> Any:
    value = _bearer()
    if value is None:
        if request.cookies and "auth_token" in _session_keys():
            raise ProblemError(403, "A signed-in browser cannot use the API: send an API client's bearer token.")
        raise ProblemError(401, "Send an API client's token as Authorization: Bearer <token>.",
                           headers={"WWW-Authenticate": 'Bearer realm="ecabinet"'})
    token = service.authenticate(value)
    if token is None:
        raise ProblemError(401, "This token is unknown, rotated or revoked.",
                           headers={"WWW-Authenticate": 'Bearer realm="ecabinet", error="invalid_token"'})
    return token


def _session_keys() -> set[str]:
    from flask import session

    return set(session.keys())


def _body() -> bytes:
    """What a POST's key is bound to: its raw body, or for multipart/form-data its fields and the bytes of
    its files (the boundary differs at every send, so the raw body of a retry would not match)."""
    if request.mimetype != "multipart/form-data":
        return request.get_data()
    files = []
    for name, upload in request.files.items(multi=True):
        digest = hashlib.sha256()
        while chunk := upload.stream.read(1 << 16):
            digest.update(chunk)
        upload.stream.seek(0)
        files.append([name, upload.filename or "", digest.hexdigest()])
    fields = sorted([k, v] for k, v in request.form.items(multi=True))
    return service.canonical({"fields": fields, "files": files}).encode()


def _idempotent(token: Any, run: Callable[[], Any]) -> Response:
    key = request.headers.get("Idempotency-Key", "")
    if not key or len(key) > 200 or not key.isprintable():
        raise ProblemError(400, "Every POST needs an Idempotency-Key header of 1 to 200 printable characters.")
    client = token.client
    fingerprint = service.body_hash(request.method, request.path, _body())
    stored = service.stored_answer(client, key)
    if stored is not None:
        if stored.request_hash != fingerprint:
            raise ProblemError(422, "This Idempotency-Key was used with another request.")
        uow.rollback()
        return current_app.response_class(stored.body, status=stored.status, mimetype=stored.content_type,
                                          headers={"Idempotent-Replayed": "true"})
    response = current_app.make_response(run())
    service.record_use(g.api_actor, token, write=True)
    if 200 <= response.status_code < 300:
        try:
            service.store_answer(client, key, request.method, request.path, fingerprint, response.status_code,
                                 response.mimetype or "application/json", response.get_data(as_text=True))
        except IntegrityError as exc:  # the same key, sent twice at once: the other request holds it
            uow.rollback()  # this one's change goes with it
            raise ProblemError(409, "A request with this Idempotency-Key is in progress; retry it later.") from exc
    if not uow.commit():
        raise ProblemError(422, "The request was refused.")
    return response

