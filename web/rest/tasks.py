"""``/task``: list (GET query or POST body), count, get, claim, unclaim, assignee, complete,
submit-form, variables, identity links and generated form variables."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from engine.errors import NotFound

from . import dto
from .auth import actor, tenant
from .common import arg, arg_bool, arg_list, engine, json_body, no_content, page
from .errors import not_found


def _definition_ids(tasks: list[Any]) -> dict[str, str]:
    ids: dict[str, str] = {}
    for iid in {t.instance_id for t in tasks}:
        try:
            ids[iid] = engine().get_instance(actor(), iid).definition_id
        except NotFound:  # an instance gone meanwhile
            continue
    return ids


def _dto_list(tasks: list[Any]) -> list[dict[str, Any]]:
    defs = _definition_ids(tasks)
    return [dto.task(t, tenant(), defs.get(t.instance_id)) for t in tasks]


def _filter(body: dict[str, Any]) -> list[Any]:
    pid = arg("processInstanceId", body)
    tasks = engine().inbox(actor(), include_assigned_to_others=True, instance_id=pid or None)
    if arg("assignee", body):
        tasks = [t for t in tasks if t.assignee == arg("assignee", body)]
    if arg_bool("unassigned", body):
        tasks = [t for t in tasks if t.assignee is None]
    if arg_bool("assigned", body):
        tasks = [t for t in tasks if t.assignee is not None]
    if arg("taskDefinitionKey", body):
        tasks = [t for t in tasks if t.element_id == arg("taskDefinitionKey", body)]
    group = arg("candidateGroup", body)
    if group:
        tasks = [t for t in tasks if group in t.candidate_groups and t.assignee is None]
    user = arg("candidateUser", body)
    if user:
        tasks = [t for t in tasks if t.assignee is None and user in t.candidate_users]
    if arg("name", body):
        tasks = [t for t in tasks if t.name == arg("name", body)]
    pids = arg_list("processInstanceIdIn", body)
    if pids is not None:
        tasks = [t for t in tasks if t.instance_id in pids]
    ids = arg_list("taskIdIn", body)
    if ids is not None:
        tasks = [t for t in tasks if t.id in ids]
    key = arg("processDefinitionKey", body)
    did = arg("processDefinitionId", body)
    keys = arg_list("processDefinitionKeyIn", body)
    if keys is not None:
        defs = _definition_ids(tasks)
        tasks = [t for t in tasks if defs.get(t.instance_id, "").split(":")[0] in keys]
    if key or did:
        defs = _definition_ids(tasks)
        tasks = [
            t
            for t in tasks
            if (not did or defs.get(t.instance_id) == did)
            and (not key or defs.get(t.instance_id, "").split(":")[0] == key)
        ]
    tenants = arg_list("tenantIdIn", body)
    if tenants is not None and tenant() not in tenants:
        tasks = []
    return tasks


def list_() -> Any:
    body = json_body() if request.method == "POST" else {}
    return jsonify(_dto_list(page(_filter(body))))


def count() -> Any:
    body = json_body() if request.method == "POST" else {}
    return jsonify({"count": len(_filter(body))})


def _task(task_id: str) -> Any:
    t = engine().get_task(actor(), task_id)
    if t.state != "open":
        raise not_found(f"Cannot find task with id {task_id}")
    return t


def get(task_id: str) -> Any:
    return jsonify(_dto_list([_task(task_id)])[0])


def claim(task_id: str) -> Any:
    body = json_body()
    user = body.get("userId")
    engine().claim(actor(), task_id, user if isinstance(user, str) and user else None)
    return no_content()


def unclaim(task_id: str) -> Any:
    engine().unclaim(actor(), task_id)
    return no_content()


def assignee(task_id: str) -> Any:
    user = json_body().get("userId")
    if user:
        engine().claim(actor(), task_id, str(user))
    else:
        engine().unclaim(actor(), task_id)
    return no_content()


def complete(task_id: str) -> Any:
    body = json_body()
    values = dto.untyped_map(body.get("variables"))
    _task(task_id)
    inst = engine().complete_task(actor(), task_id, values, allow_unknown=True)
    if body.get("withVariablesInReturn") is True:
        return jsonify(dto.typed_map(inst.variables))
    return no_content()


def _variables(task_id: str) -> dict[str, Any]:
    t = _task(task_id)
    return engine().get_instance(actor(), t.instance_id).variables or {}


def variables(task_id: str) -> Any:
    return jsonify(dto.typed_map(_variables(task_id)))


def variable(task_id: str, name: str) -> Any:
    values = _variables(task_id)
    if name not in values:
        raise not_found(f"task variable with name {name} does not exist")
    return jsonify(dto.typed(values[name]))


def local_variables(task_id: str) -> Any:
    _task(task_id)
    return jsonify({})


def local_variable(task_id: str, name: str) -> Any:
    _task(task_id)
    raise not_found(f"task variable with name {name} does not exist")


def identity_links(task_id: str) -> Any:
    t = _task(task_id)
    wanted = request.args.get("type")
    links = []
    if t.assignee:
        links.append({"userId": t.assignee, "groupId": None, "type": "assignee"})
    for g in t.candidate_groups:
        links.append({"userId": None, "groupId": g, "type": "candidate"})
    for u in t.candidate_users:
        links.append({"userId": u, "groupId": None, "type": "candidate"})
    if wanted:
        links = [link for link in links if link["type"] == wanted]
    return jsonify(links)


def form_variables(task_id: str) -> Any:
    t = _task(task_id)
    current = engine().get_instance(actor(), t.instance_id).variables or {}
    out = dto.form_variables(t.form, current)
    names = arg_list("variableNames")
    if names is not None:
        out = {k: v for k, v in out.items() if k in names}
    return jsonify(out)


def form(task_id: str) -> Any:
    _task(task_id)
    return jsonify({"key": None, "camundaFormRef": None, "contextPath": None})


def routes(bp: Blueprint) -> None:
    add = bp.add_url_rule
    add("/task", "task_list", list_, methods=["GET", "POST"])
    add("/task/count", "task_count", count, methods=["GET", "POST"])
    add("/task/<task_id>", "task_get", get, methods=["GET"])
    add("/task/<task_id>/claim", "task_claim", claim, methods=["POST"])
    add("/task/<task_id>/unclaim", "task_unclaim", unclaim, methods=["POST"])
    add("/task/<task_id>/assignee", "task_assignee", assignee, methods=["POST"])
    add("/task/<task_id>/complete", "task_complete", complete, methods=["POST"])
    add("/task/<task_id>/submit-form", "task_submit", complete, methods=["POST"])
    add("/task/<task_id>/variables", "task_vars", variables, methods=["GET"])
    add("/task/<task_id>/variables/<name>", "task_var", variable, methods=["GET"])
    add("/task/<task_id>/localVariables", "task_lvars", local_variables, methods=["GET"])
    add("/task/<task_id>/localVariables/<name>", "task_lvar", local_variable, methods=["GET"])
    add("/task/<task_id>/identity-links", "task_links", identity_links, methods=["GET"])
    add("/task/<task_id>/form-variables", "task_formvars", form_variables, methods=["GET"])
    add("/task/<task_id>/form", "task_form", form, methods=["GET"])
