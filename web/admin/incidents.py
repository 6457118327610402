"""Incidents: the jobs that ran out of retries (and failed timers), with their error, and a
retry that puts the job back in the queue."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, url_for
from sqlalchemy import select

from engine.errors import Conflict, NotFound
from engine.models import Incident, ProcessInstance

from ..i18n import error_text, gettext
from . import bp
from .common import admin_required, engine


def _instances(incidents: list[Incident]) -> dict[str, ProcessInstance]:
    ids = {i.instance_id for i in incidents}
    if not ids:
        return {}
    with engine().sessions() as s:
        return {
            i.id: i
            for i in s.scalars(
                select(ProcessInstance).where(
                    ProcessInstance.agency_id == g.user.agency_id, ProcessInstance.id.in_(ids)
                )
            )
        }


def _names(instances: dict[str, ProcessInstance]) -> dict[str, dict[str, str]]:
    """Element names per definition, so an incident says which step of the SOP failed."""
    out: dict[str, dict[str, str]] = {}
    for inst in instances.values():
        if inst.definition_id not in out:
            try:
                out[inst.definition_id] = engine().element_names(g.actor, inst.definition_id)
            except NotFound:
                out[inst.definition_id] = {}
    return out


@bp.get("/insiden")
@admin_required
def incidents() -> str:
    every: list[Incident] = engine().incidents(g.actor, open_only=False)
    open_ = [i for i in every if i.resolved_at is None]
    resolved = sorted(
        (i for i in every if i.resolved_at is not None),
        key=lambda i: i.resolved_at or i.created_at,
        reverse=True,
    )[:200]
    instances = _instances(open_ + resolved)
    return render_template(
        "admin/incidents.html",
        open_incidents=open_,
        resolved=resolved,
        instances=instances,
        names=_names(instances),
    )


@bp.post("/insiden/<incident_id>/ulang")
@admin_required
def retry(incident_id: str) -> Any:
    try:
        # another agency's incident (or none) raises NotFound: the blueprint's 404
        engine().retry_incident(g.actor, incident_id)
    except Conflict as e:
        flash(error_text(e), "error")
    else:
        flash(
            gettext("Insiden diulang: langkah tersebut kembali ke antrean pekerjaan."),
            "ok",
        )
    return redirect(url_for("admin.incidents"))
