"""The browser UI: ``register(app)`` wires security (headers, CSRF), the user loader, the
blueprints (auth, requests, inbox, files), template helpers and the error pages."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, g, redirect, url_for

from engine.states import HistoryKind, InstanceState

from . import security
from .auth import bp as auth_bp
from .auth import init_app as auth_init_app
from .auth import login_required
from .errorpages import bad_request, forbidden, not_found, too_large
from .i18n import LANGUAGES, current_language, gettext
from .i18n import init_app as i18n_init_app

bp = Blueprint("ui", __name__)

HISTORY_LABELS = {
    HistoryKind.INSTANCE_STARTED: "Permohonan diajukan",
    HistoryKind.TASK_CREATED: "Tugas dibuat",
    HistoryKind.TASK_COMPLETED: "Tugas diselesaikan",
    HistoryKind.TASK_CLAIMED: "Tugas diambil",
    HistoryKind.TASK_UNCLAIMED: "Tugas dilepas",
    HistoryKind.JOB_CREATED: "Langkah otomatis dimulai",
    HistoryKind.JOB_COMPLETED: "Langkah otomatis selesai",
    HistoryKind.JOB_FAILED: "Langkah otomatis gagal",
    HistoryKind.INSTANCE_COMPLETED: "Permohonan selesai",
    HistoryKind.INSTANCE_CANCELLED: "Permohonan dibatalkan",
    HistoryKind.SLA_BREACHED: "Batas waktu terlewati",
    HistoryKind.TIMER_FIRED: "Pengingat waktu",
}
STATE_LABELS = {
    InstanceState.RUNNING: "berjalan",
    InstanceState.COMPLETED: "selesai",
    InstanceState.CANCELLED: "dibatalkan",
}


@bp.get("/beranda")
@login_required
def home() -> Any:
    if g.user.is_officer:
        return redirect(url_for("inbox.index"))
    return redirect(url_for("requests.catalogue"))


def local_time(value: datetime | None, fmt: str = "%d-%m-%Y %H:%M") -> str:
    if value is None:
        return "-"
    tz = ZoneInfo(g.user.timezone if g.get("user") else "Asia/Jakarta")
    local = value.astimezone(tz)
    return f"{local.strftime(fmt)} {local.tzname() or ''}".strip()


def diagram_assets_built(app: Flask) -> bool:
    """Whether ``make assets`` built the bpmn-js bundles (it needs nodejs and npm; without them
    the app runs and the diagram viewer and modeler say they are not installed)."""
    static = Path(app.static_folder or "")
    return (static / "vendor" / "viewer.js").is_file() and (
        static / "vendor" / "modeler.js"
    ).is_file()


def _bool_setting(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in ("0", "false", "no", "off")


def register(app: Flask) -> None:
    from datetime import timedelta

    from .admin import bp as admin_bp
    from .designer import bp as designer_bp
    from .files import bp as files_bp
    from .inbox import bp as inbox_bp
    from .reports import bp as reports_bp
    from .requests import bp as requests_bp
    from .survey import bp as survey_bp

    settings = app.config.get("SOPFLOW") or {}
    app.config["SESSION_COOKIE_SECURE"] = _bool_setting(settings.get("COOKIE_SECURE"), True)
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    idle = float(settings.get("SESSION_IDLE_MINUTES") or 30)
    app.config["SOPFLOW_SESSION_IDLE_MINUTES"] = idle
    app.config["SOPFLOW_SESSION_MAX_HOURS"] = float(settings.get("SESSION_MAX_HOURS") or 12)
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=idle)
    upload = int(settings.get("UPLOAD_MAX_BYTES") or 10 * 1024 * 1024)
    # room for the other fields of a form with two files
    app.config["MAX_CONTENT_LENGTH"] = max(app.config.get("MAX_CONTENT_LENGTH") or 0, 3 * upload)

    security.register(app)
    i18n_init_app(app)
    auth_init_app(app)
    # every feature has the one shape: web/<feature>/__init__.py defines ``bp`` (its views in
    # that package, its pages in templates/<feature>/), and is registered here
    for feature_bp in (
        auth_bp,
        bp,
        requests_bp,
        inbox_bp,
        files_bp,
        designer_bp,
        admin_bp,
        reports_bp,
        survey_bp,
    ):
        app.register_blueprint(feature_bp)
    app.register_error_handler(404, not_found)
    app.register_error_handler(403, forbidden)
    app.register_error_handler(400, bad_request)
    app.register_error_handler(413, too_large)
    app.jinja_env.globals.update(
        _=gettext,
        lang=current_language,
        LANGUAGES=LANGUAGES,
        local_time=local_time,
        HISTORY_LABELS=HISTORY_LABELS,
        STATE_LABELS=STATE_LABELS,
        endpoints=lambda: app.view_functions.keys(),
        diagram_assets=lambda: diagram_assets_built(app),
    )
