"""The /api/v1 blueprint that every resource module adds its operations to."""

from __future__ import annotations

from flask import Blueprint
from werkzeug.exceptions import HTTPException

from ecabinet.api.http import ProblemError, problem, problem_for
from ecabinet.core.errors import DomainError
from ecabinet.core.policy import Denied, Hidden

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.errorhandler(ProblemError)
@bp.errorhandler(HTTPException)
def _problem(exc: Exception):
    return problem_for(exc)


@bp.errorhandler(DomainError)
def _refused(exc: DomainError):
    return problem(422, exc.translated() if hasattr(exc, "translated") else exc.message)


@bp.errorhandler(Denied)
def _denied(exc: Denied):
    return problem(403, exc.message)


@bp.errorhandler(Hidden)
def _hidden(_exc: Hidden):
    return problem(404, "No such resource, or this client may not see it.")
