"""Administrators: versions and their differences, activation, instances per version,
incidents with retry, users and groups, holiday overrides, DNS records sopflow manages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
