"""The one way a request handler reaches the engine: the composition root puts it on the app
(``app.extensions["sopflow"]``) and every blueprint reads it through :func:`engine`, so a test or
a second app can wire another engine without touching any view."""

from __future__ import annotations

from flask import current_app

from engine.runtime import Engine

EXTENSION = "sopflow"


def engine() -> Engine:
    return current_app.extensions[EXTENSION]
