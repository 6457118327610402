"""``/external-task``: fetchAndLock with long polling, complete, failure, bpmnError, extendLock,
unlock, list/get/errorDetails.

Long polling sleeps in short steps (``POLL_S``) on a condition that in-process completions
notify, so a waiting worker holds one server thread and no database connection between polls."""

from __future__ import annotations

import threading
import time
from typing import Any

from flask import Blueprint, Response, jsonify, request

from engine.actors import Actor
from engine.runtime import Engine, TopicRequest
from engine.states import JobState

from . import dto
from .auth import actor, tenant
from .common import arg_list, engine, json_body, no_content, page
from .errors import bad_request, not_found

POLL_S = 0.2
MAX_WAIT_MS = 1_800_000
MAX_LOCK_MS = 366 * 24 * 3600 * 1000  # a year
DEFAULT_MAX_WAITING = 24  # see web/server.py: the server has more threads than this
_new_work = threading.Condition()
_waiting = 0


def notify() -> None:
    """Wake every long-polling worker (after anything that may have created external tasks)."""
    with _new_work:
        _new_work.notify_all()


def _names(t: dict[str, Any], key: str) -> list[str] | None:
    """A list-of-strings option of a topic (``null``/missing: no filter)."""
    got = t.get(key)
    if got is None:
        return None
    if not isinstance(got, list) or not all(isinstance(v, str) for v in got):
        raise bad_request(f"'{key}' must be a list of strings")
    return got


def _topic(t: Any, agency: str) -> TopicRequest | None:
    """One topic of a fetchAndLock body; None when its tenant filter excludes the caller's
    agency (every sopflow task belongs to a tenant, so ``withoutTenantId`` matches nothing)."""
    if not isinstance(t, dict) or not isinstance(t.get("topicName"), str):
        raise bad_request("Every topic needs a 'topicName'")
    lock = t.get("lockDuration")
    if lock is not None and (
        not isinstance(lock, int) or isinstance(lock, bool) or not 0 < lock <= MAX_LOCK_MS
    ):
        raise bad_request("'lockDuration' must be a positive integer")
    variables = _names(t, "variables")
    keys = _names(t, "processDefinitionKeyIn")
    if isinstance(t.get("processDefinitionKey"), str):
        keys = [*(keys or []), t["processDefinitionKey"]]
    wanted = t.get("processVariables")
    if wanted is not None and not isinstance(wanted, dict):
        raise bad_request("'processVariables' must be an object of variable values")
    if wanted:  # plain values, or typed ones as some clients send them
        wanted = {
            str(k): dto.untyped(str(k), v) if isinstance(v, dict) and "value" in v else v
            for k, v in wanted.items()
        }
    bk = t.get("businessKey")
    if bk is not None and not isinstance(bk, str):
        raise bad_request("'businessKey' must be a string")
    tenants = _names(t, "tenantIdIn")
    if (tenants is not None and agency not in tenants) or t.get("withoutTenantId") is True:
        return None
    return TopicRequest(
        t["topicName"],
        lock or 300_000,
        variables,
        business_key=bk or None,
        definition_keys=keys,
        process_variables=wanted or None,
        local_only=t.get("localVariables") is True,
    )


def _newest_first(body: dict[str, Any]) -> bool:
    sorting = body.get("sorting")
    if sorting is None:
        return False
    if not isinstance(sorting, list):
        raise bad_request("'sorting' must be a list")
    for item in sorting:
        if not isinstance(item, dict) or item.get("sortBy") != "createTime":
            raise bad_request("'sorting' supports sortBy 'createTime' only")
        order = item.get("sortOrder", "asc")
        if order not in ("asc", "desc"):
            raise bad_request("'sortOrder' must be 'asc' or 'desc'")
        return order == "desc"
    return False


def fetch_and_lock() -> Any:
    body = json_body()
    worker = body.get("workerId")
    if not isinstance(worker, str) or not worker:
        raise bad_request("'workerId' is required")
    max_tasks = body.get("maxTasks", 1)
    if not isinstance(max_tasks, int) or isinstance(max_tasks, bool) or not 0 <= max_tasks <= 1000:
        raise bad_request("'maxTasks' must be an integer from 0 to 1000")
    timeout_ms = body.get("asyncResponseTimeout") or 0
    if not isinstance(timeout_ms, int | float) or isinstance(timeout_ms, bool) or timeout_ms < 0:
        raise bad_request("'asyncResponseTimeout' must be a non-negative number")
    raw = body.get("topics")
    if not isinstance(raw, list):
        raise bad_request("'topics' must be a list")
    who = actor()
    topics = [t for t in (_topic(t, who.agency) for t in raw) if t is not None]
    names = {t.topic: (set(t.variables) if t.variables is not None else None) for t in topics}
    use_priority = body.get("usePriority") is True
    newest_first = _newest_first(body)
    deadline = time.monotonic() + min(timeout_ms, MAX_WAIT_MS) / 1000

    def fetch() -> list[Any]:
        return engine().fetch_and_lock(
            worker,
            topics,
            max_tasks,
            actor=who,
            use_priority=use_priority,
            newest_first=newest_first,
        )

    locked = fetch()
    if not locked and topics and max_tasks and time.monotonic() < deadline:
        locked = _long_poll(fetch, deadline, max_waiting())
    return jsonify([dto.locked_task(lt, tenant(), names.get(lt.topic)) for lt in locked])


def _long_poll(fetch: Any, deadline: float, limit: int) -> list[Any]:
    """Wait for work, holding a server thread but no database connection between polls. At most
    ``limit`` requests wait at once (fewer than the server's threads, see web/server.py): one
    more answers ``[]`` at once, as Camunda does when its wait ends, so long polls never take
    the threads that normal requests need."""
    global _waiting
    with _new_work:
        if _waiting >= limit:
            return []
        _waiting += 1
    try:
        while True:
            with _new_work:
                _new_work.wait(min(POLL_S, max(deadline - time.monotonic(), 0)))
            locked = fetch()
            if locked or time.monotonic() >= deadline:
                return locked
    finally:
        with _new_work:
            _waiting -= 1


def max_waiting() -> int:
    from flask import current_app

    return int(current_app.config.get("REST_MAX_LONG_POLLS", DEFAULT_MAX_WAITING))


def waiting() -> int:
    """Long polls waiting right now (for tests and monitoring)."""
    return _waiting


def _worker(body: dict[str, Any]) -> str:
    worker = body.get("workerId")
    if not isinstance(worker, str) or not worker:
        raise bad_request("'workerId' is required")
    return worker


def complete(task_id: str) -> Any:
    complete_action(engine(), actor(), task_id, json_body())
    return no_content()


def complete_action(eng: Engine, who: Actor, task_id: str, body: dict[str, Any]) -> None:
    """``POST /external-task/{id}/complete`` without Flask (also served by fastpath.py); the
    caller wakes long polls after it, as after every successful POST."""
    variables = dto.untyped_map(body.get("variables"))
    variables.update(dto.untyped_map(body.get("localVariables")))
    eng.complete_external(_worker(body), task_id, variables, actor=who)


def failure(task_id: str) -> Any:
    body = json_body()
    retries = body.get("retries")
    if retries is not None and (
        not isinstance(retries, int) or isinstance(retries, bool) or retries > 2**31 - 1
    ):
        raise bad_request("'retries' must be a 32-bit integer")
    timeout = body.get("retryTimeout") or 0
    if not isinstance(timeout, int) or isinstance(timeout, bool) or not 0 <= timeout <= MAX_LOCK_MS:
        raise bad_request("'retryTimeout' must be a non-negative integer")
    engine().fail_external(
        _worker(body),
        task_id,
        str(body.get("errorMessage") or "External task failed"),
        details=body.get("errorDetails") if isinstance(body.get("errorDetails"), str) else None,
        retries=max(retries, 0) if retries is not None else None,
        retry_timeout_ms=timeout,
        actor=actor(),
    )
    return no_content()


def bpmn_error(task_id: str) -> Any:
    body = json_body()
    code = body.get("errorCode")
    if not isinstance(code, str) or not code:
        raise bad_request("'errorCode' is required")
    engine().bpmn_error_external(
        _worker(body),
        task_id,
        code,
        body.get("errorMessage") if isinstance(body.get("errorMessage"), str) else None,
        dto.untyped_map(body.get("variables")),
        actor=actor(),
    )
    return no_content()


def extend_lock(task_id: str) -> Any:
    body = json_body()
    duration = body.get("newDuration")
    if (
        not isinstance(duration, int)
        or isinstance(duration, bool)
        or not 0 < duration <= MAX_LOCK_MS
    ):
        raise bad_request("'newDuration' must be a positive integer")
    engine().extend_lock(_worker(body), task_id, duration, actor=actor())
    return no_content()


def unlock(task_id: str) -> Any:
    engine().unlock(task_id, actor=actor())
    return no_content()


def retries(task_id: str) -> Any:
    """``PUT /external-task/{id}/retries``: retries above 0 on an incident resolve it and put
    the task back in the queue, as in Camunda."""
    value = json_body().get("retries")
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**31:
        raise bad_request("'retries' must be a non-negative 32-bit integer")
    engine().set_job_retries(actor(), task_id, value)
    return no_content()


def _jobs() -> list[Any]:
    return engine().external_tasks(actor(), topic=request.args.get("topicName") or None)


def _find(task_id: str) -> Any:
    for j in engine().external_tasks(actor()):
        if j.id == task_id:
            return j
    raise not_found(f"External task with id {task_id} does not exist")


def list_() -> Any:
    jobs = _jobs()
    if request.args.get("workerId"):
        jobs = [j for j in jobs if j.worker_id == request.args["workerId"]]
    if request.args.get("processInstanceId"):
        jobs = [j for j in jobs if j.instance_id == request.args["processInstanceId"]]
    if request.args.get("locked", "").lower() == "true":
        jobs = [j for j in jobs if j.state == JobState.LOCKED]
    ids = arg_list("externalTaskIdIn")
    if ids is not None:
        jobs = [j for j in jobs if j.id in ids]
    return jsonify([dto.external_task(j, tenant()) for j in page(jobs)])


def count() -> Any:
    return jsonify({"count": len(_jobs())})


def get(task_id: str) -> Any:
    return jsonify(dto.external_task(_find(task_id), tenant()))


def error_details(task_id: str) -> Any:
    j = _find(task_id)
    if not j.error_details:
        return no_content()
    return Response(j.error_details, mimetype="text/plain")


def routes(bp: Blueprint) -> None:
    add = bp.add_url_rule
    et = "/external-task"
    add(f"{et}/fetchAndLock", "et_fetch", fetch_and_lock, methods=["POST"])
    add(et, "et_list", list_, methods=["GET"])
    add(f"{et}/count", "et_count", count, methods=["GET"])
    add(f"{et}/<task_id>", "et_get", get, methods=["GET"])
    add(f"{et}/<task_id>/errorDetails", "et_details", error_details, methods=["GET"])
    add(f"{et}/<task_id>/complete", "et_complete", complete, methods=["POST"])
    add(f"{et}/<task_id>/failure", "et_failure", failure, methods=["POST"])
    add(f"{et}/<task_id>/bpmnError", "et_bpmn_error", bpmn_error, methods=["POST"])
    add(f"{et}/<task_id>/extendLock", "et_extend", extend_lock, methods=["POST"])
    add(f"{et}/<task_id>/unlock", "et_unlock", unlock, methods=["POST"])
    add(f"{et}/<task_id>/retries", "et_retries", retries, methods=["PUT"])
