"""Process versions: every key, every version of a key (who deployed it, why, how many requests
still run on it), what changed between two versions, and which one new requests start on."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select

from engine.errors import NotFound, SopflowError
from engine.models import Deployment, ProcessDefinition, ProcessInstance
from engine.states import InstanceState
from engine.topics import UnknownTopic, may_have_unknown, unknown_topics
from engine.versions import diff_definitions

from ..i18n import error_text, gettext
from . import bp
from .common import admin_required, engine
from .texts import ATTRIBUTE_LABELS


def running_counts() -> dict[str, int]:
    """Running instances per definition id, in the administrator's agency."""
    with engine().sessions() as s:
        rows = s.execute(
            select(ProcessInstance.definition_id, func.count())
            .where(
                ProcessInstance.agency_id == g.user.agency_id,
                ProcessInstance.state == InstanceState.RUNNING,
            )
            .group_by(ProcessInstance.definition_id)
        ).all()
    return {r[0]: int(r[1]) for r in rows}


def active_id(key: str) -> str | None:
    try:
        return str(engine().current_definition(g.actor, key).id)
    except NotFound:
        return None  # every version suspended


def definition_xml(definition_id: str) -> str:
    with engine().sessions() as s:
        xml = s.scalar(
            select(ProcessDefinition.xml).where(
                ProcessDefinition.id == definition_id,
                ProcessDefinition.agency_id == g.user.agency_id,
            )
        )
    if xml is None:
        abort(404)
    return str(xml)


def topic_warnings(defs: list[ProcessDefinition]) -> dict[str, list[UnknownTopic]]:
    """Per version, the tasks whose topic no built-in handler works; only a version whose
    stored topics include such a topic has its XML read again."""
    known = engine().topics
    out = {}
    for d in defs:
        if may_have_unknown(d.topics, known):
            found = unknown_topics(definition_xml(d.id), known)
            if found:
                out[d.id] = found
    return out


@bp.get("/versi/")
@admin_required
def version_keys() -> str:
    by_key: dict[str, list[ProcessDefinition]] = {}
    for d in engine().definitions(g.actor):
        by_key.setdefault(d.key, []).append(d)
    counts = running_counts()
    rows = []
    for key, defs in sorted(by_key.items()):
        current = active_id(key)
        rows.append(
            {
                "key": key,
                "name": defs[-1].name,
                "versions": len(defs),
                "active": next((d for d in defs if d.id == current), None),
                "running": sum(counts.get(d.id, 0) for d in defs),
            }
        )
    return render_template("admin/version_keys.html", rows=rows)


@bp.get("/versi/<key>")
@admin_required
def versions(key: str) -> str:
    defs = engine().definitions(g.actor, key)
    if not defs:
        abort(404)
    with engine().sessions() as s:
        deployments = {
            d.id: d
            for d in s.scalars(
                select(Deployment).where(
                    Deployment.agency_id == g.user.agency_id,
                    Deployment.id.in_({d.deployment_id for d in defs}),
                )
            )
        }
    return render_template(
        "admin/versions.html",
        key=key,
        definitions=list(reversed(defs)),
        deployments=deployments,
        active=active_id(key),
        counts=running_counts(),
        previous={b.id: a.id for a, b in zip(defs, defs[1:], strict=False)},
        warnings=topic_warnings(defs),
    )


@bp.get("/versi/<key>/perbandingan")
@admin_required
def compare(key: str) -> str:
    defs = engine().definitions(g.actor, key)
    if not defs:
        abort(404)
    by_id = {d.id: d for d in defs}
    new_id = request.args.get("ke") or defs[-1].id
    if new_id not in by_id:
        abort(404)
    position = [d.id for d in defs].index(new_id)
    old_id = request.args.get("dari") or (defs[position - 1].id if position > 0 else None)
    if old_id is not None and old_id not in by_id:
        abort(404)
    diff = None
    if old_id is not None:
        diff = diff_definitions(definition_xml(old_id), definition_xml(new_id), key)
    return render_template(
        "admin/compare.html",
        key=key,
        definitions=defs,
        old=by_id.get(old_id) if old_id else None,
        new=by_id[new_id],
        diff=diff,
        labels=ATTRIBUTE_LABELS,
    )


@bp.post("/versi/<definition_id>/aktifkan")
@admin_required
def activate(definition_id: str) -> Any:
    d = engine().get_definition(g.actor, definition_id)  # another agency's: 404
    try:
        d = engine().activate(g.actor, definition_id)
    except SopflowError as e:
        flash(error_text(e), "error")
    else:
        flash(
            gettext(
                "Versi %(version)s dari %(key)s sekarang aktif: permohonan baru memakai versi "
                "ini, permohonan yang sedang berjalan tetap pada versinya.",
                version=d.version,
                key=d.key,
            ),
            "ok",
        )
    return redirect(url_for("admin.versions", key=d.key))


@bp.get("/versi/<definition_id>/instances")
@admin_required
def version_instances(definition_id: str) -> str:
    d = engine().get_definition(g.actor, definition_id)  # another agency's: 404
    with engine().sessions() as s:
        instances = list(
            s.scalars(
                select(ProcessInstance)
                .where(
                    ProcessInstance.agency_id == g.user.agency_id,
                    ProcessInstance.definition_id == d.id,
                )
                .order_by(
                    (ProcessInstance.state == InstanceState.RUNNING).desc(),
                    ProcessInstance.started_at.desc(),
                )
                .limit(1000)
            )
        )
    return render_template(
        "admin/version_instances.html",
        definition=d,
        instances=instances,
        running=sum(1 for i in instances if i.state == InstanceState.RUNNING),
    )
