"""Work units (OPD) of the administrator's agency: the list with each unit's members, one
unit added by hand, or a CSV file (``code,name``) imported whole or not at all."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select

from engine import units
from engine.models import User

from ..i18n import error_text, gettext
from . import bp
from .common import admin_required, engine

MAX_CSV_BYTES = 1024 * 1024


def _members() -> dict[int, int]:
    with engine().sessions() as s:
        rows = s.execute(
            select(User.work_unit_id, func.count())
            .where(User.agency_id == g.user.agency_id, User.work_unit_id.is_not(None))
            .group_by(User.work_unit_id)
        ).all()
    return {int(r[0] or 0): int(r[1]) for r in rows}


def _page(status: int = 200, code: str = "", name: str = "", error: str = "") -> Any:
    return (
        render_template(
            "admin/units.html",
            units=units.list_units(engine(), g.actor),
            members=_members(),
            code=code,
            name=name,
            error=error,
        ),
        status,
    )


@bp.get("/unit")
@admin_required
def units_page() -> Any:
    return _page()


@bp.post("/unit")
@admin_required
def add_unit() -> Any:
    code = request.form.get("code", "").strip()[:64]
    name = request.form.get("name", "").strip()[:200]
    try:
        unit = units.add_unit(engine(), g.actor, code, name)
    except units.UnitError as e:
        return _page(422, code, name, error_text(e))
    flash(gettext("Unit kerja %(name)s ditambahkan.", name=unit.name), "ok")
    return redirect(url_for("admin.units_page"))


@bp.post("/unit/impor")
@admin_required
def import_units() -> Any:
    upload = request.files.get("file")
    data = upload.read(MAX_CSV_BYTES + 1) if upload else b""
    if not data or len(data) > MAX_CSV_BYTES:
        return _page(422, error=gettext("Pilih berkas CSV (paling besar 1 MiB)."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _page(422, error=gettext("Berkas harus berupa teks UTF-8 (CSV)."))
    try:
        result = units.import_units(engine(), g.actor, units.parse_csv(text))
    except units.UnitError as e:
        return _page(422, error=error_text(e))
    flash(
        gettext(
            "%(added)s unit ditambahkan, %(renamed)s diganti namanya, %(same)s tetap.",
            added=len(result.added),
            renamed=len(result.renamed),
            same=len(result.unchanged),
        ),
        "ok",
    )
    return redirect(url_for("admin.units_page"))
