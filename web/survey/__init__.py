"""Pages reached from letters and mail: the satisfaction survey (IKM) after a request
completes and the one-time reveal of hosting credentials."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("survey", __name__)
