"""Camunda 7 REST compatibility under ``/engine-rest`` and ``/rest`` (see CAMUNDA_REST.md).

``register(app)`` adds both prefixes; every route is defined once per area module through
``routes(bp)`` and answers Camunda's DTOs, statuses and ``{type, message}`` errors."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, g, request

from . import (
    definitions,
    deployments,
    external_tasks,
    fastpath,
    history,
    instances,
    messages,
    openapi,
    permissions,
    tasks,
    users,
    wellknown,
)
from .auth import authenticate
from .auth import install as install_auth
from .common import finish, has_nul
from .errors import RestError, to_response

PREFIXES = {"engine_rest": "/engine-rest", "rest": "/rest"}
# Answered without credentials: exactly these paths under each prefix (a suffix match made
# ``/engine-rest/task/version`` public too, and its view then failed without a caller: 500).
PUBLIC_PATHS = frozenset(
    f"{p}/{name}" for p in PREFIXES.values() for name in ("version", "openapi.json")
)


def rest_blueprint(name: str, url_prefix: str) -> Blueprint:
    bp = Blueprint(name, __name__, url_prefix=url_prefix)

    @bp.before_request
    def _auth() -> Response | None:
        if request.method == "OPTIONS":
            return finish(Response(status=204), preflight=True)
        if "\x00" in request.path or has_nul(request.args.to_dict(flat=False)):
            raise RestError(400, "The request contains a NUL character")
        if request.path in PUBLIC_PATHS:
            return None
        g.rest_actor = authenticate()
        permissions.check(g.rest_actor, request.endpoint)
        return None

    @bp.after_request
    def _after(response: Response) -> Response:
        if request.method in ("POST", "PUT") and response.status_code < 400:
            # a start, completion, failure, unlock, message or retries may have made work:
            # wake the long-polling workers (the views themselves never do)
            external_tasks.notify()
        return finish(response)

    @bp.errorhandler(Exception)
    def _error(exc: Exception) -> Response:
        from werkzeug.exceptions import HTTPException

        if isinstance(exc, HTTPException):
            from .errors import error_response

            return error_response(exc.code or 500, exc.description or exc.name, "RestException")
        resp = to_response(exc)
        if resp.status_code == 401:
            resp.headers["WWW-Authenticate"] = 'Basic realm="sopflow"'
        return resp

    for module in (
        deployments,
        definitions,
        instances,
        tasks,
        external_tasks,
        messages,
        history,
        users,
        openapi,
    ):
        module.routes(bp)
    return bp


def _is_rest(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in PREFIXES.values())


def _routing_errors(app: Flask) -> None:
    """Unknown paths and wrong methods under the REST prefixes fail before any blueprint is
    chosen, so the app-wide handlers (the UI's HTML pages) would answer them, and for unsafe
    methods the UI's CSRF check (400) even before routing: answer Camunda's JSON 404/405 there
    instead and leave every other path to the handler registered before."""
    from werkzeug.exceptions import BadRequest, HTTPException, MethodNotAllowed, NotFound

    from .errors import error_response

    def routing_error(exc: HTTPException) -> Response:
        if isinstance(exc, MethodNotAllowed):
            resp = error_response(
                405, f"Method {request.method} is not allowed here", "RestException"
            )
            if exc.valid_methods:
                resp.headers["Allow"] = ", ".join(sorted(exc.valid_methods))
        else:
            resp = error_response(
                404, f"No resource at {request.method} {request.path}", "NotFoundException"
            )
        return finish(resp)

    for code, kind in ((404, NotFound), (405, MethodNotAllowed), (400, BadRequest)):
        previous = app.error_handler_spec.get(None, {}).get(code, {}).get(kind)

        def handler(exc: HTTPException, previous: Any = previous) -> Any:
            failed = request.routing_exception
            if _is_rest(request.path) and isinstance(failed, NotFound | MethodNotAllowed):
                return routing_error(failed)
            return previous(exc) if previous is not None else exc

        app.register_error_handler(kind, handler)


def register(app: Flask) -> None:
    for name, prefix in PREFIXES.items():
        app.register_blueprint(rest_blueprint(name, prefix))
    _routing_errors(app)
    wellknown.register(app)
    install_auth(app)
    fastpath.install(app, PREFIXES.values())
