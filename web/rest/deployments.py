"""``/deployment``: the Modeler's connection check and multipart deploy (Modeler and pycamunda)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from sqlalchemy import select

from engine.bpmn.namespaces import BPMN_NS as _BPMN_NS
from engine.errors import Problem
from engine.models import Agency, Deployment, ProcessDefinition

from . import dto
from .auth import actor, tenant
from .common import arg_bool, engine, has_nul, page
from .errors import RestError, bad_request, not_found

BPMN_NS = _BPMN_NS.encode()


def _check_tenant(value: str | None) -> None:
    if value and value != tenant():
        raise RestError(
            403, f"Not allowed to deploy for tenant '{value}'", "AuthorizationException"
        )


def create() -> Any:
    form = request.form
    if has_nul(form.to_dict(flat=False)):
        raise bad_request("The request contains a NUL character")
    _check_tenant(form.get("tenant-id") or None)
    files: list[tuple[str, bytes]] = []
    for field, storage in request.files.items(multi=True):
        data = storage.read()
        filename = storage.filename or field
        if filename.endswith(".bpmn") or filename.endswith(".bpmn20.xml") or BPMN_NS in data[:4096]:
            name = filename if "." in filename else f"{filename}.bpmn"
            files.append((name, data))
    if not files:
        raise bad_request("No BPMN resource in the deployment")
    dup = _bool(form.get("enable-duplicate-filtering")) or _bool(form.get("deploy-changed-only"))
    result = engine().deploy(
        actor(),
        files,
        name=form.get("deployment-name") or None,
        source=form.get("deployment-source") or None,
        duplicate_filtering=dup,
    )
    body = dto.deployment(result.deployment, tenant(), result.deployed or None)
    body["sopflowWarnings"] = [warning(w) for w in result.warnings]
    return jsonify(body)


def warning(p: Problem) -> dict[str, Any]:
    """A deploy warning (an unknown topic, accepted as external) in a field Camunda clients do
    not know and so ignore; located like the problems of Camunda's ParseException details."""
    return {
        "resource": p.filename,
        "mainElementId": p.element_id,
        "elementIds": [p.element_id] if p.element_id else [],
        "line": p.line,
        "message": p.message_en,
        "messageIndonesian": p.message_id,
    }


def _bool(v: str | None) -> bool:
    return (v or "").strip().lower() == "true"


def _deployments() -> list[Deployment]:
    with engine().sessions() as s:
        return list(
            s.scalars(
                select(Deployment)
                .join(Agency, Agency.id == Deployment.agency_id)
                .where(Agency.code == tenant())
                .order_by(Deployment.deployed_at)
            )
        )


def list_() -> Any:
    arg_bool("withoutTenantId")
    rows = _deployments()
    if request.args.get("id"):
        rows = [d for d in rows if d.id == request.args["id"]]
    if request.args.get("name"):
        rows = [d for d in rows if d.name == request.args["name"]]
    if request.args.get("sortOrder") == "desc":
        rows.reverse()
    return jsonify([dto.deployment(d, tenant(), None) for d in page(rows)])


def count() -> Any:
    return jsonify({"count": len(_deployments())})


def get(deployment_id: str) -> Any:
    for d in _deployments():
        if d.id == deployment_id:
            return jsonify(dto.deployment(d, tenant(), None))
    raise not_found(f"Deployment with id '{deployment_id}' does not exist")


def resources(deployment_id: str) -> Any:
    get(deployment_id)
    with engine().sessions() as s:
        defs = s.scalars(
            select(ProcessDefinition).where(ProcessDefinition.deployment_id == deployment_id)
        ).all()
        return jsonify(
            [{"id": d.id, "name": d.resource_name, "deploymentId": deployment_id} for d in defs]
        )


def version() -> Any:
    return jsonify({"version": "7.22.0"})


def routes(bp: Blueprint) -> None:
    bp.add_url_rule("/deployment/create", "deployment_create", create, methods=["POST"])
    bp.add_url_rule("/deployment", "deployment_list", list_, methods=["GET"])
    bp.add_url_rule("/deployment/count", "deployment_count", count, methods=["GET"])
    bp.add_url_rule("/deployment/<deployment_id>", "deployment_get", get, methods=["GET"])
    bp.add_url_rule(
        "/deployment/<deployment_id>/resources", "deployment_resources", resources, methods=["GET"]
    )
    bp.add_url_rule("/version", "version", version, methods=["GET"])
