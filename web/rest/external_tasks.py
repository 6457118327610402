"""``/external-task``: fetchAndLock with long polling, complete, failure, bpmnError, extendLock,
unlock, list/get/errorDetails.

Long polling sleeps in short steps (``POLL_S``) on a condition that in-process completions
notify, so a waiting worker holds one server thread and no database connection between polls."""

from __future__ import annotations

import threading
import time
from typing import Any

from flask import Blueprint, Response, jsonify, request

from engine.runtime import TopicRequest

from . import dto
from .auth import actor, tenant
from .common import arg_list, engine, json_body, no_content, page
from .errors import bad_request, not_found

POLL_S = 0.2
MAX_WAIT_MS = 1_800_000
MAX_LOCK_MS = 366 * 24 * 3600 * 1000  # a year
_new_work = threading.Condition()


def notify() -> None:
    """Wake every long-polling worker (after anything that may have created external tasks)."""
    with _new_work:
        _new_work.notify_all()


def _topics(body: dict[str, Any]) -> tuple[list[TopicRequest], dict[str, Any], str | None]:
    raw = body.get("topics")
    if not isinstance(raw, list):
        raise bad_request("'topics' must be a list")
    out: list[TopicRequest] = []
    names: dict[str, Any] = {}
    business_key = None
    for t in raw:
        if not isinstance(t, dict) or not isinstance(t.get("topicName"), str):
            raise bad_request("Every topic needs a 'topicName'")
        lock = t.get("lockDuration")
        if lock is not None and (
            not isinstance(lock, int) or isinstance(lock, bool) or not 0 < lock <= MAX_LOCK_MS
        ):
            raise bad_request("'lockDuration' must be a positive integer")
        variables = t.get("variables")
        if variables is not None and not isinstance(variables, list):
            raise bad_request("'variables' must be a list of names")
        out.append(TopicRequest(t["topicName"], lock or 300_000, variables))
        names[t["topicName"]] = set(variables) if variables is not None else None
        if t.get("businessKey"):
            business_key = str(t["businessKey"])
    return out, names, business_key


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
    topics, names, business_key = _topics(body)
    who = actor()
    deadline = time.monotonic() + min(timeout_ms, MAX_WAIT_MS) / 1000
    while True:
        locked = engine().fetch_and_lock(
            worker, topics, max_tasks, agency=who.agency, business_key=business_key
        )
        if locked or time.monotonic() >= deadline or not topics or max_tasks == 0:
            break
        with _new_work:
            _new_work.wait(min(POLL_S, max(deadline - time.monotonic(), 0)))
    return jsonify([dto.locked_task(lt, tenant(), names.get(lt.topic)) for lt in locked])


def _worker(body: dict[str, Any]) -> str:
    worker = body.get("workerId")
    if not isinstance(worker, str) or not worker:
        raise bad_request("'workerId' is required")
    return worker


def complete(task_id: str) -> Any:
    body = json_body()
    variables = dto.untyped_map(body.get("variables"))
    variables.update(dto.untyped_map(body.get("localVariables")))
    engine().complete_external(_worker(body), task_id, variables, agency=tenant())
    notify()
    return no_content()


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
        agency=tenant(),
    )
    notify()
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
        agency=tenant(),
    )
    notify()
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
    engine().extend_lock(_worker(body), task_id, duration, agency=tenant())
    return no_content()


def unlock(task_id: str) -> Any:
    engine().unlock(task_id, agency=tenant())
    notify()
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
        jobs = [j for j in jobs if j.state == "locked"]
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
