"""``/history``: process instances, tasks and variables; ``/incident`` and ``/job`` stubs."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from engine.states import HistoryKind, IncidentKind, InstanceState

from . import dto
from .auth import actor, tenant
from .common import arg, arg_list, engine, json_body, page

STATES = {
    InstanceState.RUNNING: "ACTIVE",
    InstanceState.COMPLETED: "COMPLETED",
    InstanceState.CANCELLED: "EXTERNALLY_TERMINATED",
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
        "deleteReason": "cancelled" if inst.state == InstanceState.CANCELLED else None,
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
        rows = [r for r in rows if r.state != InstanceState.RUNNING]
    if arg("unfinished", body) in (True, "true"):
        rows = [r for r in rows if r.state == InstanceState.RUNNING]
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
        created = {e.task_id: e for e in events if e.task_id and e.kind == HistoryKind.TASK_CREATED}
        done = {e.task_id: e for e in events if e.task_id and e.kind == HistoryKind.TASK_COMPLETED}
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
        if not historic and inst.state != InstanceState.RUNNING:
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


def _variable_data(variable_id: str, historic: bool) -> Any:
    """``GET /(history/)variable-instance/{id}/data``: the id names (instance, variable)."""
    from . import variables as writes
    from .errors import not_found

    for inst in engine().instances(actor(), limit=10_000):
        if not historic and inst.state != InstanceState.RUNNING:
            continue
        for name in inst.variables or {}:
            if _var_id(inst.id, name) == variable_id:
                return writes.data(inst.variables, name, "variable instance")
    raise not_found(f"Variable instance with Id '{variable_id}' does not exist.")


def variable_data(variable_id: str) -> Any:
    return _variable_data(variable_id, historic=False)


def historic_variable_data(variable_id: str) -> Any:
    return _variable_data(variable_id, historic=True)


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


def _job_id(instance_id: str) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sopflow:timer:{instance_id}"))


def _timer_jobs() -> list[dict[str, Any]]:
    """Camunda's jobs here are the instances' timers: one job per instance with a timer (or an
    SLA clock) due, carrying the failedTimer incident when firing it failed."""
    failed = {
        i.instance_id: i
        for i in engine().incidents(actor())
        if i.kind == IncidentKind.FAILED_TIMER and i.resolved_at is None
    }
    out = []
    for inst in engine().instances(actor(), state=InstanceState.RUNNING, limit=10_000):
        inc = failed.get(inst.id)
        if inst.next_timer_at is None and inc is None:
            continue
        out.append(
            {
                "id": _job_id(inst.id),
                "jobDefinitionId": None,
                "dueDate": dto.fmt_date(inst.next_timer_at),
                "processInstanceId": inst.id,
                "executionId": inst.id,
                "processDefinitionId": inst.definition_id,
                "processDefinitionKey": inst.definition_id.split(":")[0],
                "retries": 0 if inc else 1,
                "exceptionMessage": inc.message if inc else None,
                "failedActivityId": inc.element_id if inc else None,
                "suspended": False,
                "priority": 0,
                "tenantId": tenant(),
                "createTime": dto.fmt_date(inst.started_at),
                "batchId": None,
                "_incident": inc.id if inc else None,
            }
        )
    return out


def jobs() -> Any:
    rows = _timer_jobs()
    pid = request.args.get("processInstanceId")
    if pid:
        rows = [r for r in rows if r["processInstanceId"] == pid]
    ids = arg_list("jobIds")
    if ids is not None:
        rows = [r for r in rows if r["id"] in ids]
    if arg("withException") in ("true", True):
        rows = [r for r in rows if r["exceptionMessage"]]
    return jsonify([{k: v for k, v in r.items() if k != "_incident"} for r in page(rows)])


def job_retries(job_id: str) -> Any:
    """``PUT /job/{id}/retries``: retries above 0 on a failed timer retry it (the incident is
    resolved and the timer fires at the next poll), as Camunda does."""
    from .common import no_content
    from .errors import bad_request, not_found

    retries = json_body().get("retries")
    if not isinstance(retries, int) or isinstance(retries, bool) or not 0 <= retries < 2**31:
        raise bad_request("'retries' must be a non-negative 32-bit integer")
    for row in _timer_jobs():
        if row["id"] == job_id:
            if retries > 0 and row["_incident"]:
                engine().retry_incident(actor(), row["_incident"])
            return no_content()
    raise not_found(f"Job with id {job_id} does not exist")


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
    add("/variable-instance/<variable_id>/data", "var_data", variable_data, methods=["GET"])
    add(
        "/history/variable-instance/<variable_id>/data",
        "hvar_data",
        historic_variable_data,
        methods=["GET"],
    )
    add("/incident", "incident_list", incidents, methods=["GET"])
    add("/job", "job_list", jobs, methods=["GET"])
    add("/job/<job_id>/retries", "job_retries", job_retries, methods=["PUT"])
