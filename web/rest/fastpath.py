"""The completions workers and task clients send all day (``POST /task/{id}/complete``, its
``submit-form`` twin and ``POST /external-task/{id}/complete``), answered in front of Flask.

Why: for these calls Flask's request dispatch (request context, the UI's hooks, response
objects) cost ~0.2 ms on a warm CPU and 0.5-0.7 ms in a server thread between other work, a
third of what HTTP added to a completion (bench/rest.py, bench/README.md). Nothing is
implemented twice: the same action functions as the Flask views run
(``tasks.complete_action``, ``external_tasks.complete_action``) with the same credential cache,
body checks and error mapping, and the answer carries the same status, body and headers
(tests/rest/test_rest_fastpath.py sends every case to both and compares).

Only the plain case is taken: a POST with a JSON body of known, modest length, no query string,
an ASCII path, no ``Origin`` (a browser's CORS goes through Flask), and credentials the cache
already holds for a caller the login limiter has not locked (the cache also drops a user when
they are locked, reset or deactivated; web/rest/auth.py). Anything else reaches Flask
untouched, so authentication, routing, CORS, the lockout's 429 and the limits keep one
implementation, and the first request of a worker (or the first after the cache's few seconds)
passes through Flask and fills the cache."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from typing import Any

from flask import Flask

from engine.actors import Actor
from engine.runtime import Engine
from web.auth import login_limiter

from . import external_tasks, permissions, tasks
from .auth import credential_cache
from .common import REST_HEADERS, checked_body
from .errors import error_parts

Action = Callable[[Engine, Actor, str, dict[str, Any]], Any]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

MAX_BODY = 256 * 1024  # larger bodies (file variables) take the Flask path and its limits
# the action and the endpoint whose permission gate it passes (web/rest/permissions.py)
ACTIONS: dict[tuple[str, str], tuple[Action, str]] = {
    ("task", "complete"): (tasks.complete_action, "task_complete"),
    ("task", "submit-form"): (tasks.complete_action, "task_submit"),
    ("external-task", "complete"): (external_tasks.complete_action, "et_complete"),
}


class FastPath:
    """WSGI middleware in front of ``app.wsgi_app`` (installed by ``web.rest.register``)."""

    def __init__(self, app: Flask, prefixes: Iterable[str]) -> None:
        self.app = app
        self.wsgi_app: WSGIApp = app.wsgi_app
        self.engine: Engine = app.extensions["sopflow"]
        self.credentials = credential_cache(app)
        self.limiter = login_limiter(app)
        alternatives = "|".join(re.escape(p) for p in prefixes)
        self.route = re.compile(
            rf"^(?:{alternatives})/(task|external-task)/([^/]+)/(complete|submit-form)$"
        )

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        taken = self._take(environ)
        if taken is None:
            return self.wsgi_app(environ, start_response)
        (action, endpoint), who, task_id, length = taken
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            permissions.check(who, endpoint)
            # the app's settings (attachment store, upload limit) for a File on an upload field
            with self.app.app_context():
                result = action(self.engine, who, task_id, checked_body(_loads(raw) if raw else {}))
        except Exception as exc:  # mapped exactly as the blueprint's error handler maps it
            status, message, type_ = error_parts(exc)
            return self._answer(start_response, status, {"type": type_, "message": message})
        external_tasks.notify()  # as the blueprint does after every successful POST
        if result is None:
            return self._answer(start_response, 204, None)
        return self._answer(start_response, 200, result)

    def _take(self, environ: dict[str, Any]) -> tuple[tuple[Action, str], Actor, str, int] | None:
        """The action, caller, task id and body length when this request is the plain case."""
        if environ.get("REQUEST_METHOD") != "POST" or environ.get("QUERY_STRING"):
            return None
        if not self.app.config["REST_FAST_PATH"]:
            return None
        path = environ.get("PATH_INFO", "")
        match = self.route.match(path)
        if match is None or not path.isascii() or "HTTP_ORIGIN" in environ:
            return None
        action = ACTIONS.get((match[1], match[3]))
        if action is None or "HTTP_TRANSFER_ENCODING" in environ:
            return None
        length = environ.get("CONTENT_LENGTH") or "0"
        if not length.isdigit() or int(length) > MAX_BODY:
            return None
        size = int(length)
        if size and _mimetype(environ.get("CONTENT_TYPE", "")) != "application/json":
            return None
        who = self.credentials.get(environ.get("HTTP_AUTHORIZATION", ""))
        if who is None:
            return None
        if self.limiter.locked_for(who.username, environ.get("REMOTE_ADDR") or "?") > 0:
            return None  # Flask answers the lockout (429)
        return action, who, match[2], size

    def _answer(
        self, start_response: Callable[..., Any], status: int, body: Any
    ) -> Iterator[bytes]:
        headers = list(REST_HEADERS)
        payload = b""
        if body is not None:
            # Flask's jsonify, byte for byte: its provider's settings, compact, a final newline
            payload = (self.app.json.dumps(body, separators=(",", ":")) + "\n").encode()
            headers += [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
        start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        return iter((payload,) if payload else ())


def _loads(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:  # also UnicodeDecodeError: Flask's get_json(silent=True) gives None too
        return None


def _mimetype(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def install(app: Flask, prefixes: Iterable[str]) -> None:
    """``app.config["REST_FAST_PATH"] = False`` sends every request through Flask (tests
    compare the two on one app)."""
    app.config.setdefault("REST_FAST_PATH", True)
    app.wsgi_app = FastPath(app, prefixes)  # type: ignore[method-assign]
