"""The Flask application: an app factory around one :class:`engine.runtime.Engine`.

The web layer calls the engine's public API only; ``engine/`` never imports Flask.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response

from engine.catalogue import TOPICS as CATALOGUE_TOPICS
from engine.db import make_db, make_sessions
from engine.runtime import Engine, topics_policy

from .config import flag, load_settings
from .context import EXTENSION

__all__ = ["build_engine", "create_app", "load_settings"]

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
}


def build_engine(settings: Mapping[str, Any], registry: Any = None) -> tuple[Engine, Any]:
    """The engine and handler registry every entry point (web, CLI, workers) shares.

    A topic is known when a built-in handler serves it, when it is a catalogue topic (without
    a built-in handler its jobs wait for an external worker), or when
    ``SOPFLOW_EXTERNAL_TOPICS`` declares it (``erp.*`` wildcards allowed). Deploy accepts any
    other topic as external with a warning, as Camunda runs it (engine/topics.py), unless
    ``SOPFLOW_STRICT_TOPICS`` makes it refuse them.
    """
    if registry is None:
        from handlers.registry import default_registry

        registry = default_registry(settings)
    kwargs: dict[str, Any] = {}
    url = str(settings["DATABASE_URL"])
    if url.startswith("postgresql"):
        kwargs["connect_args"] = {"connect_timeout": 10}
    sessions = make_sessions(make_db(url, **kwargs))
    engine = Engine(
        sessions,
        clock=settings.get("CLOCK"),
        topics=topics_policy(
            registry.topics(), [*CATALOGUE_TOPICS, *(settings.get("EXTERNAL_TOPICS") or ())]
        ),
        builtin_topics=registry.topics(),
        strict_topics=flag("STRICT_TOPICS", settings.get("STRICT_TOPICS")),
    )
    return engine, registry


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Settings come from ``SOPFLOW_*`` variables; ``config`` overrides them (keys without the
    prefix, e.g. ``{"DATABASE_URL": ...}``). The schema is not migrated here: ``sopflow serve``
    and ``sopflow db upgrade`` do that, so several web processes never race on it."""
    settings = load_settings(config)
    instance = settings["INSTANCE_DIR"]
    instance.mkdir(parents=True, exist_ok=True)
    app = Flask(__name__, instance_path=str(instance))
    app.config.update(
        SECRET_KEY=settings["SECRET_KEY"],
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        SOPFLOW=settings,
    )
    engine, registry = build_engine(settings, settings.get("REGISTRY"))
    app.extensions[EXTENSION] = engine
    app.extensions["sopflow.registry"] = registry

    from .health import bp as health_bp

    app.register_blueprint(health_bp)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        from .security import is_rest

        if is_rest():
            return response
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    from . import rest, ui  # after the header hook: the UI's stricter CSP must win

    ui.register(app)
    rest.register(app)  # Camunda 7 REST at /engine-rest and /rest
    return app
