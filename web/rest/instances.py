"""``/process-instance``: list, get (404 once ended), delete, variables."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from engine.errors import NotFound
from engine.states import InstanceState

from . import dto
from . import variables as writes
from .auth import actor, tenant
from .common import arg_bool, arg_list, engine, json_body, no_content, page
from .errors import RestError, not_found


def _running(instance_id: str) -> Any:
    inst = engine().get_instance(actor(), instance_id)
    if inst.state != InstanceState.RUNNING:
        raise not_found(f"Process instance with id {instance_id} does not exist")
    return inst


def _filter(body: dict[str, Any]) -> list[Any]:
    key = request.args.get("processDefinitionKey") or body.get("processDefinitionKey")
    rows = engine().instances(actor(), state=InstanceState.RUNNING, key=key or None, limit=10_000)
    ids = arg_list("processInstanceIds", body)
    if ids is not None:
        rows = [r for r in rows if r.id in ids]
    bk = request.args.get("businessKey") or body.get("businessKey")
    if bk:
        rows = [r for r in rows if r.business_key == bk]
    did = request.args.get("processDefinitionId") or body.get("processDefinitionId")
    if did:
        rows = [r for r in rows if r.definition_id == did]
    tenants = arg_list("tenantIdIn", body)
    if tenants is not None and tenant() not in tenants:
        rows = []
    for cond in arg_list("variables") or []:
        parts = cond.split("_")
        if len(parts) >= 3 and parts[-2] == "eq":
            name, value = "_".join(parts[:-2]), parts[-1]
            rows = [r for r in rows if str((r.variables or {}).get(name)) == value]
    return rows


def list_() -> Any:
    body = json_body() if request.method == "POST" else {}
    return jsonify([dto.instance(i, tenant()) for i in page(_filter(body))])


def count() -> Any:
    body = json_body() if request.method == "POST" else {}
    return jsonify({"count": len(_filter(body))})


def get(instance_id: str) -> Any:
    return jsonify(dto.instance(_running(instance_id), tenant()))


def delete(instance_id: str) -> Any:
    """Camunda's delete is a cancel here: the instance ends as EXTERNALLY_TERMINATED and stays in
    history. ``skipCustomListeners``, ``skipIoMappings``, ``skipSubprocesses`` are accepted
    (sopflow has no listeners or I/O mappings that run on cancel)."""
    for flag in ("skipCustomListeners", "skipIoMappings", "skipSubprocesses", "failIfNotExists"):
        arg_bool(flag)  # a malformed flag is a 400, as in Camunda
    raise_missing = arg_bool("failIfNotExists", default=True)
    try:
        _running(instance_id)
    except NotFound:
        if raise_missing:
            raise not_found(f"Process instance with id {instance_id} does not exist") from None
        return no_content()
    except RestError:
        if raise_missing:
            raise
        return no_content()
    reason = request.args.get("deleteReason") or None
    engine().cancel(actor(), instance_id, reason=reason[:500] if reason else None)
    return no_content()


def variables(instance_id: str) -> Any:
    inst = engine().get_instance(actor(), instance_id)
    return jsonify(dto.typed_map(inst.variables))


def variable(instance_id: str, name: str) -> Any:
    inst = engine().get_instance(actor(), instance_id)
    if name not in (inst.variables or {}):
        raise not_found(f"process instance variable with name {name} does not exist")
    return jsonify(dto.typed(inst.variables[name]))


def variable_data(instance_id: str, name: str) -> Any:
    inst = engine().get_instance(actor(), instance_id)
    return writes.data(inst.variables, name, "process instance")


def put_variable(instance_id: str, name: str) -> Any:
    engine().set_variables(actor(), instance_id, writes.single(name))
    return no_content()


def modify_variables(instance_id: str) -> Any:
    changes, deletions = writes.batch()
    engine().set_variables(actor(), instance_id, changes, deletions)
    return no_content()


def upload_variable(instance_id: str, name: str) -> Any:
    engine().set_variables(actor(), instance_id, writes.upload(name))
    return no_content()


def delete_variable(instance_id: str, name: str) -> Any:
    engine().set_variables(actor(), instance_id, {}, [name])
    return no_content()


def activity_instances(instance_id: str) -> Any:
    inst = _running(instance_id)
    children = []
    for t in engine().inbox(actor(), instance_id=instance_id, include_assigned_to_others=True):
        children.append(_activity(t.element_id, t.name, "userTask", t.id, instance_id))
    for j in engine().external_tasks(actor(), instance_id=instance_id):
        children.append(_activity(j.element_id, j.element_id, "serviceTask", j.id, instance_id))
    root = _activity(
        inst.definition_id.split(":")[0], None, "processDefinition", instance_id, instance_id
    )
    root["id"] = instance_id
    root["parentActivityInstanceId"] = None
    root["processDefinitionId"] = inst.definition_id
    root["childActivityInstances"] = children
    return jsonify(root)


def _activity(aid: str, name: Any, kind: str, iid: str, pid: str) -> dict[str, Any]:
    return {
        "id": f"{aid}:{iid}",
        "parentActivityInstanceId": pid,
        "activityId": aid,
        "activityType": kind,
        "processInstanceId": pid,
        "processDefinitionId": None,
        "childActivityInstances": [],
        "childTransitionInstances": [],
        "executionIds": [pid],
        "activityName": name,
        "name": name,
        "incidentIds": [],
        "incidents": [],
    }


def routes(bp: Blueprint) -> None:
    add = bp.add_url_rule
    pi = "/process-instance"
    add(pi, "pi_list", list_, methods=["GET", "POST"])
    add(f"{pi}/count", "pi_count", count, methods=["GET", "POST"])
    add(f"{pi}/<instance_id>", "pi_get", get, methods=["GET"])
    add(f"{pi}/<instance_id>", "pi_delete", delete, methods=["DELETE"])
    add(f"{pi}/<instance_id>/variables", "pi_vars", variables, methods=["GET"])
    add(f"{pi}/<instance_id>/variables", "pi_vars_modify", modify_variables, methods=["POST"])
    add(f"{pi}/<instance_id>/variables/<name>", "pi_var", variable, methods=["GET"])
    add(f"{pi}/<instance_id>/variables/<name>", "pi_var_put", put_variable, methods=["PUT"])
    add(
        f"{pi}/<instance_id>/variables/<name>",
        "pi_var_delete",
        delete_variable,
        methods=["DELETE"],
    )
    add(f"{pi}/<instance_id>/variables/<name>/data", "pi_var_data", variable_data, methods=["GET"])
    add(
        f"{pi}/<instance_id>/variables/<name>/data",
        "pi_var_upload",
        upload_variable,
        methods=["POST"],
    )
    add(
        f"{pi}/<instance_id>/activity-instances",
        "pi_activities",
        activity_instances,
        methods=["GET"],
    )
