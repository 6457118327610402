"""External tasks over HTTP with camunda-external-task-client-python3 (and pycamunda):
fetch-and-lock, complete, failure until incident, BPMN error into a boundary event, message
correlation, and long polling that does not block other requests."""

from __future__ import annotations

import threading
import time
from typing import Any

import pycamunda.externaltask
import pycamunda.message
import requests
from camunda.external_task.external_task_worker import ExternalTaskWorker
from rest_support import PASSWORD

TOPIC = "rest.work"


def worker(server: str, user: str, worker_id: str = "w1") -> ExternalTaskWorker:
    return ExternalTaskWorker(
        worker_id=worker_id,
        base_url=server,
        config={
            "auth_basic": {"username": user, "password": PASSWORD},
            "asyncResponseTimeout": 2000,
            "maxTasks": 1,
            "lockDuration": 10000,
            "retries": 2,
            "retryTimeout": 0,
            "sleepSeconds": 0,
            "httpTimeoutMillis": 5000,
        },
    )


def start(server: str, user: str, key: str, variables: dict[str, Any] | None = None) -> str:
    r = requests.post(
        f"{server}/process-definition/key/{key}/start",
        json={"variables": variables or {}, "businessKey": None},
        auth=(user, PASSWORD),
        timeout=5,
    )
    assert r.status_code == 200, r.text
    return r.json()["id"]


def test_fetch_and_complete(server: str, users: dict[str, str], deployed: dict[str, Any]) -> None:
    pid = start(server, users["admin"], "rest_ext", {"amount": {"value": 42}})
    seen: list[Any] = []

    def handle(task: Any) -> Any:
        seen.append(
            (task.get_variable("amount"), task.get_tenant_id(), task.get_process_instance_id())
        )
        return task.complete({"result": "done"})

    worker(server, users["admin"]).fetch_and_execute([TOPIC], handle)
    assert seen == [(42, "kudus", pid)]
    r = requests.get(f"{server}/process-instance/{pid}", auth=(users["admin"], PASSWORD), timeout=5)
    assert r.status_code == 404  # ended
    hist = requests.post(
        f"{server}/history/variable-instance",
        json={"processInstanceId": pid},
        auth=(users["admin"], PASSWORD),
        timeout=5,
    ).json()
    assert {v["name"]: v["value"] for v in hist}["result"] == "done"


def test_failure_until_incident(
    server: str, users: dict[str, str], deployed: dict[str, Any]
) -> None:
    pid = start(server, users["admin"], "rest_ext")
    w = worker(server, users["admin"])
    for _ in range(3):
        w.fetch_and_execute([TOPIC], lambda t: t.failure("boom", "trace", 2, 0))
    incidents = requests.get(
        f"{server}/incident", auth=(users["admin"], PASSWORD), timeout=5
    ).json()
    assert [i["processInstanceId"] for i in incidents] == [pid]
    assert incidents[0]["incidentMessage"] == "boom"
    # nothing is left to fetch
    got = requests.post(
        f"{server}/external-task/fetchAndLock",
        json={
            "workerId": "w1",
            "maxTasks": 5,
            "topics": [{"topicName": TOPIC, "lockDuration": 1000}],
        },
        auth=(users["admin"], PASSWORD),
        timeout=5,
    )
    assert got.json() == []


def test_bpmn_error_into_boundary_event(
    server: str, users: dict[str, str], deployed: dict[str, Any]
) -> None:
    pid = start(server, users["admin"], "rest_ext")
    worker(server, users["admin"]).fetch_and_execute(
        [TOPIC], lambda t: t.bpmn_error("BIZ", "business failure", {"why": "taken"})
    )
    tasks = requests.get(
        f"{server}/task?processInstanceId={pid}", auth=(users["officer"], PASSWORD), timeout=5
    ).json()
    assert [t["taskDefinitionKey"] for t in tasks] == ["handle"]


def test_pycamunda_external_and_message(
    server: str, users: dict[str, str], deployed: dict[str, Any]
) -> None:
    auth = (users["admin"], PASSWORD)
    pid = start(server, users["admin"], "rest_ext")
    fetch = pycamunda.externaltask.FetchAndLock(url=server, worker_id="pc", max_tasks=2)
    fetch.add_topic(name=TOPIC, lock_duration=10000)
    fetch.auth = auth
    tasks = fetch()
    assert [t.process_instance_id for t in tasks] == [pid]
    extend = pycamunda.externaltask.ExtendLock(
        url=server, id_=tasks[0].id_, new_duration=20000, worker_id="pc"
    )
    extend.auth = auth
    extend()
    wrong = requests.post(
        f"{server}/external-task/{tasks[0].id_}/complete",
        json={"workerId": "other"},
        auth=auth,
        timeout=5,
    )
    assert wrong.status_code == 409 and wrong.json()["type"] == "BadUserRequestException"
    complete = pycamunda.externaltask.Complete(url=server, id_=tasks[0].id_, worker_id="pc")
    complete.auth = auth
    complete()

    waiting = start(server, users["admin"], "rest_msg")
    correlate = pycamunda.message.CorrelateSingle(
        url=server, message_name="rest_go", process_instance_id=waiting, result_enabled=True
    )
    correlate.auth = auth
    correlate()
    r = requests.get(f"{server}/process-instance/{waiting}", auth=auth, timeout=5)
    assert r.status_code == 404
    nobody = requests.post(
        f"{server}/message", json={"messageName": "nothing_waits"}, auth=auth, timeout=5
    )
    assert 400 <= nobody.status_code < 500


def test_long_polling_does_not_block(
    server: str, users: dict[str, str], deployed: dict[str, Any]
) -> None:
    auth = (users["admin"], PASSWORD)
    results: list[Any] = []

    def poll() -> None:
        r = requests.post(
            f"{server}/external-task/fetchAndLock",
            json={
                "workerId": f"lp-{threading.get_ident()}",
                "maxTasks": 1,
                "asyncResponseTimeout": 3000,
                "topics": [{"topicName": TOPIC, "lockDuration": 10000}],
            },
            auth=auth,
            timeout=10,
        )
        results.append(r.json())

    pollers = [threading.Thread(target=poll) for _ in range(12)]
    for p in pollers:
        p.start()
    time.sleep(0.3)
    # normal traffic answers while the workers wait
    for _ in range(5):
        r = requests.get(f"{server}/process-definition", auth=auth, timeout=2)
        assert r.status_code == 200
    start(server, users["admin"], "rest_ext")  # wakes one waiting worker
    for p in pollers:
        p.join(15)
    assert len(results) == 12
    assert sum(len(r) for r in results) == 1
