"""``/history``: process instances, tasks and variables; ``/incident`` and ``/job`` stubs."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from . import dto
from .auth import actor, tenant
from .common import arg, arg_list, engine, json_body, page

STATES = {
    "running": "ACTIVE",
    "completed": "COMPLETED",
    "cancelled": "EXTERNALLY_TERMINATED",
    "failed": "INTERNALLY_TERMINATED",
}


def _hpi(inst: Any) -> dict[str, Any]:
    d = inst.definition_id
    return {
        "id": inst.id,
        "rootProcessInstanceId": inst.id,
        "superProcessInstanceId": None,
        "superCaseInstanceId": None,
        "caseInstanceId": None,
        "processDefinitionName": None,
        "processDefinitionKey": d.split(":")[0],
        "processDefinitionVersion": int(d.split(":")[1]) if d.count(":") >= 2 else None,
        "processDefinitionId": d,
        "businessKey": inst.business_key,
        "startTime": dto.fmt_date(inst.started_at),
        "endTime": dto.fmt_date(inst.ended_at),
        "removalTime": None,
        "durationInMillis": int((inst.ended_at - inst.started_at).total_seconds() * 1000)
        if inst.ended_at
        else None,
        "startUserId": inst.started_by,
        "startActivityId": None,
        "deleteReason": None,
        "tenantId": tenant(),
        "state": STATES.get(inst.state, str(inst.state).upper()),
    }


def _instances(body: dict[str, Any]) -> list[Any]:
    key = arg("processDefinitionKey", body)
    rows = engine().instances(actor(), key=key or None, limit=10_000)
    pid = arg("processInstanceId", body)
    if pid:
        rows = [r for r in rows if r.id == pid]
    ids = arg_list("processInstanceIds", body)
    if ids is not None:
        rows = [r for r in rows if r.id in ids]
    bk = arg("processInstanceBusinessKey", body)
    if bk:
        rows = [r for r in rows if r.business_key == bk]
    if arg("finished", body) in (True, "true"):
        rows = [r for r in rows if r.state != "running"]
    if arg("unfinished", body) in (True, "true"):
        rows = [r for r in rows if r.state == "running"]
    return rows


def process_instances() -> Any:
    body = json_body() if request.method == "POST" else {}
    return jsonify([_hpi(i) for i in page(_instances(body))])


def process_instances_count() -> Any:
    body = json_body() if request.method == "POST" else {}
    return jsonify({"count": len(_instances(body))})


def process_instance(instance_id: str) -> Any:
    return jsonify(_hpi(engine().get_instance(actor(), instance_id)))


def _htask(e: Any, inst: Any, ended: Any) -> dict[str, Any]:
    data = e.data or {}
    return {
        "id": e.task_id,
        "processDefinitionKey": inst.definition_id.split(":")[0],
        "processDefinitionId": inst.definition_id,
        "processInstanceId": inst.id,
        "executionId": inst.id,
        "caseDefinitionKey": None,
        "caseDefinitionId": None,
        "caseInstanceId": None,
        "caseExecutionId": None,
        "activityInstanceId": f"{e.element_id}:{e.task_id}",
        "name": data.get("name") or e.element_id,
        "description": None,
        "deleteReason": "completed" if ended else None,
        "owner": None,
        "assignee": ended.actor if ended else None,
        "startTime": dto.fmt_date(e.at),
        "endTime": dto.fmt_date(ended.at) if ended else None,
        "duration": int((ended.at - e.at).total_seconds() * 1000) if ended else None,
        "taskDefinitionKey": e.element_id,
        "priority": 50,
        "due": None,
        "parentTaskId": None,
        "followUp": None,
        "tenantId": tenant(),
        "removalTime": None,
        "rootProcessInstanceId": inst.id,
        "taskState": "Completed" if ended else "Created",
    }


def _task_history(body: dict[str, Any]) -> list[dict[str, Any]]:
    pid = arg("processInstanceId", body)
    insts = [engine().get_instance(actor(), pid)] if pid else engine().instances(actor(), limit=500)
    out = []
    for inst in insts:
        events = engine().history(actor(), inst.id)
        created = {e.task_id: e for e in events if e.task_id and e.kind == "task_created"}
        done = {e.task_id: e for e in events if e.task_id and e.kind == "task_completed"}
        for tid, e in created.items():
            out.append(_htask(e, inst, done.get(tid)))
    return out


def tasks() -> Any:
    body = json_body() if request.method == "POST" else {}
    return jsonify(page(_task_history(body)))


def _variables(body: dict[str, Any], historic: bool) -> list[dict[str, Any]]:
    pid = arg("processInstanceId", body)
    ids = arg_list("processInstanceIdIn", body)
    if pid:
        ids = [*(ids or []), pid]
    insts = (
        [engine().get_instance(actor(), i) for i in ids]
        if ids
        else engine().instances(actor(), limit=500)
    )
    name = arg("variableName", body)
    out = []
    for inst in insts:
        if not historic and inst.state != "running":
            continue
        for k, v in (inst.variables or {}).items():
            if name and k != name:
                continue
            tv = dto.typed(v)
            row = {
                "id": _var_id(inst.id, k),
                "name": k,
                "type": tv["type"],
                "value": tv["value"],
                "valueInfo": tv["valueInfo"],
                "processDefinitionKey": inst.definition_id.split(":")[0],
                "processDefinitionId": inst.definition_id,
                "processInstanceId": inst.id,
                "executionId": inst.id,
                "activityInstanceId": inst.id,
                "caseDefinitionKey": None,
                "caseDefinitionId": None,
                "caseInstanceId": None,
                "caseExecutionId": None,
                "taskId": None,
                "batchId": None,
                "tenantId": tenant(),
                "errorMessage": None,
                "state": "CREATED",
                "createTime": dto.fmt_date(inst.started_at),
                "removalTime": None,
                "rootProcessInstanceId": inst.id,
            }
            out.append(row)
    return out


def _var_id(instance_id: str, name: str) -> str:
    import uuid

    return str(uuid.uuid5(uuid.UUID(instance_id), name)) if _is_uuid(instance_id) else name


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def variable_instances() -> Any:
    body = json_body() if request.method == "POST" else {}
    return jsonify(page(_variables(body, historic=False)))


def historic_variables() -> Any:
    body = json_body() if request.method == "POST" else {}
    return jsonify(page(_variables(body, historic=True)))


def incidents() -> Any:
    rows = engine().incidents(actor())
    pid = request.args.get("processInstanceId")
    if pid:
        rows = [r for r in rows if r.instance_id == pid]
    return jsonify(
        [
            {
                "id": i.id,
                "processDefinitionId": None,
                "processInstanceId": i.instance_id,
                "executionId": i.instance_id,
                "incidentTimestamp": dto.fmt_date(i.created_at),
                "incidentType": "failedExternalTask" if i.external_task_id else "failedJob",
                "activityId": i.element_id,
                "failedActivityId": i.element_id,
                "causeIncidentId": i.id,
                "rootCauseIncidentId": i.id,
                "configuration": i.external_task_id,
                "tenantId": tenant(),
                "incidentMessage": i.message,
                "jobDefinitionId": None,
                "annotation": None,
            }
            for i in page(rows)
        ]
    )


def jobs() -> Any:
    return jsonify([])


def routes(bp: Blueprint) -> None:
    add = bp.add_url_rule
    add("/history/process-instance", "hpi_list", process_instances, methods=["GET", "POST"])
    add(
        "/history/process-instance/count",
        "hpi_count",
        process_instances_count,
        methods=["GET", "POST"],
    )
    add("/history/process-instance/<instance_id>", "hpi_get", process_instance, methods=["GET"])
    add("/history/task", "htask_list", tasks, methods=["GET", "POST"])
    add("/variable-instance", "var_list", variable_instances, methods=["GET", "POST"])
    add("/history/variable-instance", "hvar_list", historic_variables, methods=["GET", "POST"])
    add("/incident", "incident_list", incidents, methods=["GET"])
    add("/job", "job_list", jobs, methods=["GET"])
