"""Browser-facing security: headers (a CSP that runs only the app's own scripts) and CSRF.

:func:`register` is idempotent. CSRF: one random token per session, put in every form as
``csrf_token`` (or sent as the ``X-CSRFToken`` header); every POST/PUT/PATCH/DELETE without
the right token is refused with 400. Blueprints that do not use the session cookie are
exempted by name in ``app.config["CSRF_EXEMPT_BLUEPRINTS"]``: by default the Camunda REST
API (``web.rest``: blueprints ``engine_rest`` and ``rest``, HTTP Basic only, no cookie).
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, Response, abort, request, session

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRFToken"
REST_BLUEPRINTS = ("engine_rest", "rest")  # authenticate with HTTP Basic, never the cookie
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def csrf_token() -> str:
    token = session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def rotate_csrf_token() -> None:
    session["csrf"] = secrets.token_urlsafe(32)


def _csrf_ok() -> bool:
    expected = session.get("csrf")
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    return (
        isinstance(expected, str)
        and bool(expected)
        and hmac.compare_digest(expected.encode(), sent.encode())
    )


def is_rest() -> bool:
    """A request the Camunda REST API answers: its own headers (web/rest/common.py), no
    session cookie read or written."""
    return request.blueprint in REST_BLUEPRINTS


def register(app: Flask) -> None:
    if app.extensions.get("sopflow.security"):
        return
    app.extensions["sopflow.security"] = True
    app.config.setdefault("CSRF_EXEMPT_BLUEPRINTS", set(REST_BLUEPRINTS))

    @app.before_request
    def _check_csrf() -> None:
        if request.method not in UNSAFE_METHODS:
            return
        if request.blueprint in app.config["CSRF_EXEMPT_BLUEPRINTS"]:
            return
        if not _csrf_ok():
            abort(400)

    @app.after_request
    def _headers(response: Response) -> Response:
        # registered after create_app's hook, so this runs first and its values win over
        # the factory's defaults; a view that set its own (a stricter CSP on a download) keeps it
        if is_rest():
            return response
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if session.get("sid") and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response

    app.jinja_env.globals["csrf_token"] = csrf_token
