"""``/task``: list (GET query or POST body), count, get, claim, unclaim, assignee, complete,
submit-form, variables, identity links and generated form variables."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from engine import access
from engine.actors import Actor
from engine.errors import Conflict, FormValidationError, NotFound
from engine.forms import Form
from engine.runtime import Engine
from engine.states import TaskState

from . import dto, forms, users
from . import variables as writes
from .auth import actor, tenant
from .common import arg, arg_bool, arg_list, engine, json_body, no_content, page
from .errors import RestError, bad_request, not_found


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
    if t.state != TaskState.OPEN:
        raise not_found(f"Cannot find task with id {task_id}")
    return t


def get(task_id: str) -> Any:
    return jsonify(_dto_list([_task(task_id)])[0])


def _user(value: Any) -> str | None:
    """A ``userId`` as a sopflow username. camunda-client types user ids as UUIDs, so a UUID
    is accepted when it is the user id :func:`users.user_uuid` gives a user of the tenant;
    one that is nobody's is a 400 (a task must never be assigned to no-one in particular)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise bad_request("'userId' must be a string")
    if not users.looks_like_uuid(value):
        return value
    found = users.username_for_uuid(engine(), tenant(), value)
    if found is None:
        raise RestError(
            400,
            f"No user with id {value} in tenant {tenant()}; use the username or the UUID "
            "sopflow gives that user (see /user)",
            "InvalidRequestException",
        )
    return found


def claim(task_id: str) -> Any:
    engine().claim(actor(), task_id, _user(json_body().get("userId")))
    return no_content()


def unclaim(task_id: str) -> Any:
    engine().unclaim(actor(), task_id)
    return no_content()


def assignee(task_id: str) -> Any:
    user = _user(json_body().get("userId"))
    if user:
        engine().claim(actor(), task_id, user)
    else:
        engine().unclaim(actor(), task_id)
    return no_content()


def complete(task_id: str) -> Any:
    result = complete_action(engine(), actor(), task_id, json_body())
    return no_content() if result is None else jsonify(result)


def complete_action(
    eng: Engine, who: Actor, task_id: str, body: dict[str, Any]
) -> dict[str, Any] | None:
    """``POST /task/{id}/complete`` and ``submit-form`` without Flask's request (also served by
    fastpath.py): None answers 204, a mapping is the JSON body (``withVariablesInReturn``).

    A person's variables answer the task's form as the browser's form does, files stored as
    uploads (web/rest/forms.py); that needs the task's form first. A trusted caller's typed
    variables are converted as Camunda converts them and need no lookup unless they carry a
    ``File`` (which may be meant for an upload field)."""
    raw = body.get("variables")
    trusted = access.trusted_inputs(who)
    if raw and (not trusted or forms.has_files(raw)):
        values = _form_values(eng, who, task_id, raw, trusted)
    else:
        values = dto.untyped_map(raw)
    # no separate lookup otherwise: the engine reads the task anyway, and a task that is no
    # longer open (its Conflict names the task) is Camunda's "Cannot find task" 404
    try:
        inst = eng.complete_task(who, task_id, values, allow_unknown=True)
    except NotFound:
        raise _gone(task_id) from None
    except FormValidationError as e:
        raise forms.refused(e) from None
    except Conflict as e:
        if e.context.get("task_id") != task_id:
            raise
        raise _gone(task_id) from None
    if body.get("withVariablesInReturn") is True:
        return dto.typed_map(inst.variables)
    return None


def _gone(task_id: str) -> RestError:
    return not_found(f"Cannot complete task {task_id}: Cannot find task with id {task_id}")


def _form_values(eng: Engine, who: Actor, task_id: str, raw: Any, trusted: bool) -> dict[str, Any]:
    """The variables read against the task's form, files checked (with the whole form, so a
    refused submission stores no file) and stored on the request."""
    try:
        t = eng.get_task(who, task_id)
    except NotFound:
        raise _gone(task_id) from None
    if t.state != TaskState.OPEN:
        raise _gone(task_id)
    form = Form.from_dict(t.form)
    sub = forms.read(form, raw, trusted=trusted)
    if sub.errors or sub.uploads:
        current = eng.get_instance(who, t.instance_id).variables or {}
        forms.check(form, sub, current, trusted=trusted)
        forms.save(eng, who, sub, instance_id=t.instance_id)
    return sub.values


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


def variable_data(task_id: str, name: str) -> Any:
    return writes.data(_variables(task_id), name, "task")


def put_variable(task_id: str, name: str) -> Any:
    _write(task_id, writes.single(name), [])
    return no_content()


def modify_variables(task_id: str) -> Any:
    changes, deletions = writes.batch()
    _write(task_id, changes, deletions)
    return no_content()


def upload_variable(task_id: str, name: str) -> Any:
    _write(task_id, writes.upload(name), [])
    return no_content()


def delete_variable(task_id: str, name: str) -> Any:
    _write(task_id, {}, [name])
    return no_content()


def _write(task_id: str, changes: dict[str, Any], deletions: list[str]) -> None:
    """Task (and task-local) variables are written to the instance: sopflow has one scope."""
    t = _task(task_id)
    engine().set_variables(actor(), t.instance_id, changes, deletions, task_id=task_id)


def local_variables(task_id: str) -> Any:
    return variables(task_id)  # one scope: what a task "local" write set reads back here


def local_variable(task_id: str, name: str) -> Any:
    return variable(task_id, name)


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
    out = forms.form_variables(t.form, current)
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
    add("/task/<task_id>/variables", "task_vars_modify", modify_variables, methods=["POST"])
    add("/task/<task_id>/variables/<name>", "task_var_put", put_variable, methods=["PUT"])
    add("/task/<task_id>/variables/<name>", "task_var_delete", delete_variable, methods=["DELETE"])
    add("/task/<task_id>/variables/<name>/data", "task_var_data", variable_data, methods=["GET"])
    add(
        "/task/<task_id>/variables/<name>/data",
        "task_var_upload",
        upload_variable,
        methods=["POST"],
    )
    add(
        "/task/<task_id>/localVariables/<name>/data",
        "task_lvar_data",
        variable_data,
        methods=["GET"],
    )
    add(
        "/task/<task_id>/localVariables/<name>/data",
        "task_lvar_upload",
        upload_variable,
        methods=["POST"],
    )
    add("/task/<task_id>/localVariables", "task_lvars", local_variables, methods=["GET"])
    add("/task/<task_id>/localVariables", "task_lvars_modify", modify_variables, methods=["POST"])
    add("/task/<task_id>/localVariables/<name>", "task_lvar", local_variable, methods=["GET"])
    add("/task/<task_id>/localVariables/<name>", "task_lvar_put", put_variable, methods=["PUT"])
    add(
        "/task/<task_id>/localVariables/<name>",
        "task_lvar_delete",
        delete_variable,
        methods=["DELETE"],
    )
    add("/task/<task_id>/identity-links", "task_links", identity_links, methods=["GET"])
    add("/task/<task_id>/form-variables", "task_formvars", form_variables, methods=["GET"])
    add("/task/<task_id>/form", "task_form", form, methods=["GET"])
