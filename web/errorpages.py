"""Error pages (404/403/400/409) in the user's language, for the UI's blueprints and the app.

Paths of the REST API keep werkzeug's default responses (the API blueprint renders its own).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from werkzeug.exceptions import HTTPException

from engine.errors import Conflict, NotFound, PermissionDenied, SopflowError

from .i18n import error_text, gettext

API_PREFIXES = ("/engine-rest", "/rest")


def _wants_default(_e: HTTPException) -> bool:
    return request.path.startswith(API_PREFIXES)


def _error_page(code: int, title: str, message: str) -> tuple[str, int]:
    return (
        render_template("errors/error.html", code=code, title=title, message=message),
        code,
    )


def not_found(e: Any = None) -> Any:
    if isinstance(e, HTTPException) and _wants_default(e):
        return e
    return _error_page(
        404,
        gettext("Halaman tidak ditemukan"),
        gettext("Halaman atau data yang Anda cari tidak ada."),
    )


def forbidden(e: Any = None) -> Any:
    if isinstance(e, HTTPException) and _wants_default(e):
        return e
    message = (
        error_text(e)
        if isinstance(e, SopflowError)
        else gettext("Anda tidak berhak melakukan tindakan ini.")
    )
    return _error_page(403, gettext("Akses ditolak"), message)


def bad_request(e: Any = None) -> Any:
    if isinstance(e, HTTPException) and _wants_default(e):
        return e
    return _error_page(
        400,
        gettext("Permintaan tidak sah"),
        gettext("Permintaan tidak dapat diproses. Muat ulang halaman lalu coba lagi."),
    )


def too_large(e: Any = None) -> Any:
    if isinstance(e, HTTPException) and _wants_default(e):
        return e
    return _error_page(
        413,
        gettext("Berkas terlalu besar"),
        gettext("Kiriman melebihi batas ukuran. Perkecil berkas lalu coba lagi."),
    )


def conflict(e: Any) -> Any:
    return _error_page(409, gettext("Konflik"), error_text(e))


def engine_errors(blueprint: Blueprint) -> None:
    """Engine exceptions raised in ``blueprint``'s views become the matching pages."""
    blueprint.register_error_handler(NotFound, not_found)
    blueprint.register_error_handler(PermissionDenied, forbidden)
    blueprint.register_error_handler(Conflict, conflict)
