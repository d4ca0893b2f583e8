"""The API's description and documentation page, its CSRF boundary, and the administrators' pages of
API clients. The operations themselves are in ecabinet/api/resources/."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from sqlalchemy import select

from ecabinet.accounts.models import User
from ecabinet.api import policy, service, webhooks
from ecabinet.api import resources as _resources  # noqa: F401 - registers the operations on the blueprint
from ecabinet.api.blueprint import bp
from ecabinet.api.http import PREFIX, as_problem, openapi_document
from ecabinet.api.models import SCOPES
from ecabinet.core.actor import current_actor
from ecabinet.core.errors import DomainError
from ecabinet.core.policy import guard, public
from ecabinet.extensions import csrf, db
from ecabinet.organisations import service as organisations

admin_bp = Blueprint("api_admin", __name__)

# A bearer token is never added by the browser on its own, so CSRF does not apply to bearer requests: the
# blueprint is exempted and _csrf_unless_bearer puts the check back for any state-changing request that
# comes with cookies and no bearer token (a browser's). One with neither is simply unauthenticated (401).
csrf.exempt(bp)
CHANGES = {"POST", "PUT", "PATCH", "DELETE"}


@bp.before_request
def _csrf_unless_bearer() -> None:
    if request.method in CHANGES and request.cookies and current_app.config.get("WTF_CSRF_ENABLED", True) \
            and not request.headers.get("Authorization", "").lower().startswith("bearer "):
        csrf.protect()


@bp.after_app_request
def _problems(response):  # noqa: ANN001, ANN202
    if request.path.startswith(PREFIX):
        response = as_problem(response)
        response.headers.pop("Set-Cookie", None)  # the API never starts or refreshes a browser session
    return response


@bp.get("/openapi.json")
@public
def openapi():
    return current_app.json.response(openapi_document())


@bp.get("/docs")
@public
def docs():
    document = openapi_document()
    operations = [(method.upper(), path, op) for path, ops in document["paths"].items() for method, op in ops.items()]
    return render_template("api/docs.html", document=document, operations=operations)


# --- administrators' pages ----------------------------------------------------------------------------

def _page(token: str | None = None, error: str | None = None, status: int = 200):
    readers = list(db.session.scalars(select(User).where(User.active.is_(True), User.organisation_id.is_not(None))
                                      .order_by(User.name)))
    return render_template("api/clients.html", clients=service.list_clients(), scopes=SCOPES,
                           organisations=organisations.list_organisations(active_only=True), readers=readers,
                           new_token=token, error=error), status


@admin_bp.get("/admin/api-clients")
@guard(policy.can_manage_clients)
def clients():
    return _page()


def _int(name: str) -> int | None:
    value = request.form.get(name, "")
    return int(value) if value.isdigit() and 0 < int(value) < 2**31 else None


@admin_bp.post("/admin/api-clients")
@guard(policy.can_manage_clients)
def register():
    data = service.ClientData(name=request.form.get("name", ""), organisation_id=_int("organisation_id"),
                              scopes=request.form.getlist("scopes"), reader_id=_int("reader_id"))
    try:
        _client, token = service.register_client(current_actor(), data)
    except DomainError as exc:
        return _page(error=exc.translated(), status=400)
    return _page(token=token)


def _client_from_form():  # noqa: ANN202
    client = service.get_client(_int("client_id"))
    if client is None:
        abort(404)
    return client


@admin_bp.post("/admin/api-clients/rotate")
@guard(policy.can_manage_clients)
def rotate():
    try:
        token = service.rotate_token(current_actor(), _client_from_form())
    except DomainError as exc:
        return _page(error=exc.translated(), status=400)
    return _page(token=token)


@admin_bp.post("/admin/api-clients/revoke")
@guard(policy.can_manage_clients)
def revoke():
    try:
        service.revoke_client(current_actor(), _client_from_form())
    except DomainError as exc:
        return _page(error=exc.translated(), status=400)
    return _page()


# --- a client's webhook and its delivery log (the client named by ``client_id``, as above) ------------

def _client_page(client, secret: str | None = None, error: str | None = None, status: int = 200):  # noqa: ANN001
    return render_template("api/client.html", client=client, deliveries=webhooks.deliveries(client),
                           events=webhooks.EVENTS, new_secret=secret, error=error), status


@admin_bp.get("/admin/api-clients/webhook")
@guard(policy.can_manage_clients)
def client_page():
    value = request.args.get("client_id", "")
    client = service.get_client(int(value) if value.isdigit() and 0 < int(value) < 2**31 else None)
    if client is None:
        abort(404)
    return _client_page(client)


@admin_bp.post("/admin/api-clients/webhook")
@guard(policy.can_manage_clients)
def set_webhook():
    client = _client_from_form()
    try:
        secret = webhooks.set_webhook(current_actor(), client, request.form.get("url", ""))
    except DomainError as exc:
        return _client_page(client, error=exc.translated(), status=400)
    return _client_page(client, secret=secret)


@admin_bp.post("/admin/api-clients/webhook/secret")
@guard(policy.can_manage_clients)
def rotate_webhook_secret():
    client = _client_from_form()
    try:
        secret = webhooks.rotate_secret(current_actor(), client)
    except DomainError as exc:
        return _client_page(client, error=exc.translated(), status=400)
    return _client_page(client, secret=secret)


@admin_bp.post("/admin/api-clients/webhook/resend")
@guard(policy.can_manage_clients)
def resend_delivery():
    client = _client_from_form()
    delivery = webhooks.get_delivery(_int("delivery_id"))
    if delivery is None or delivery.client_id != client.id:
        abort(404)
    try:
        webhooks.resend(current_actor(), delivery)
    except DomainError as exc:
        return _client_page(client, error=exc.translated(), status=400)
    return _client_page(client)
