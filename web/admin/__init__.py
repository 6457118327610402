"""Administrators: versions and their differences, activation, instances per version,
incidents with retry, the job queue per topic, users and groups, holiday overrides, DNS
records sopflow manages.

Every page belongs to group ``admin`` (others get 403) and shows only the administrator's own
agency: an id of another agency's definition, incident or user is a 404, as if it did not exist.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from ..errorpages import engine_errors
from ..i18n import add_translations
from .common import admin_required, agency_counts
from .texts import EN

bp = Blueprint("admin", __name__, url_prefix="/admin")
engine_errors(bp)
add_translations(EN)


@bp.get("/")
@admin_required
def index() -> str:
    return render_template("admin/index.html", counts=agency_counts())


# the sections register their views on ``bp``
from . import calendar, dns, incidents, queues, units, users, versions  # noqa: E402,F401
