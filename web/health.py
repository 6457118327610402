"""Liveness for load balancers and ``make run`` users; shows no data, so it needs no login."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, redirect, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from web import context

bp = Blueprint("health", __name__)
log = logging.getLogger("sopflow.web")


@bp.get("/health")
def health() -> tuple[Response, int]:
    engine = context.engine()
    try:
        with engine.sessions() as s:
            s.execute(text("SELECT 1"))
    except SQLAlchemyError as e:
        # the reason goes to the log, not to an anonymous caller
        log.warning("health check: database unreachable: %s", e.__class__.__name__)
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok"), 200


@bp.get("/")
def index() -> ResponseReturnValue:
    """The front door: the home page of the signed-in user, or the login page."""
    return redirect(url_for("ui.home"))
