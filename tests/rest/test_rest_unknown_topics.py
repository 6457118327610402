"""Issue 12 over HTTP: a Camunda Modeler diagram on a topic sopflow does not know
(``smoke-topic``) deploys on a server with ``make run``'s settings (no
``SOPFLOW_EXTERNAL_TOPICS``), its answer carries the warning in a field Camunda clients ignore,
and camunda-external-task-client-python3, as a ``worker`` with an API token, works it to the
end. A built-in topic still runs in-process and a REST worker cannot fetch it;
``SOPFLOW_STRICT_TOPICS=1`` refuses the unknown topic."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pycamunda.deployment
import pytest
import requests
from camunda.external_task.external_task_worker import ExternalTaskWorker
from rest_support import PASSWORD, SMOKE_TOPIC

from engine.actors import Actor
from engine.topic_queue import topic_queues
from engine.workers import WorkerPool
from handlers.base import Handler, HandlerContext, Job
from handlers.registry import default_registry
from web import create_app
from web.rest.tokens import create_token

ADMIN = Actor("rest_admin", "kudus", frozenset({"admin"}))
BUILTIN = SMOKE_TOPIC.replace(b'camunda:topic="smoke-topic"', b'camunda:topic="sopflow.echo"')
BUILTIN = BUILTIN.replace(b'"smoke_process"', b'"smoke_builtin"')


class Echo(Handler):
    """A built-in handler like those ``SOPFLOW_HANDLERS`` adds."""

    topic = "sopflow.echo"

    def run(self, job: Job, ctx: HandlerContext) -> Mapping[str, Any]:
        return {"result": "done", "echoed_by": "sopflow"}


@pytest.fixture
def app_settings() -> dict[str, Any]:
    """``make run``'s settings: no external topics declared, not strict; plus one handler."""
    registry = default_registry({})
    registry.register(Echo())
    return {"EXTERNAL_TOPICS": "", "REGISTRY": registry}


def modeler_deploy(server: str, user: str, xml: bytes) -> requests.Response:
    return requests.post(
        f"{server}/deployment/create",
        data={
            "deployment-name": "diagram_1",
            "deployment-source": "Camunda Modeler",
            "enable-duplicate-filtering": "true",
        },
        files={"diagram_1.bpmn": ("diagram_1.bpmn", xml, "text/xml")},
        auth=(user, PASSWORD),
        timeout=10,
    )


def start(server: str, user: str, key: str) -> str:
    r = requests.post(
        f"{server}/process-definition/key/{key}/start",
        json={"variables": {"amount": {"value": 42, "type": "Integer"}}},
        auth=(user, PASSWORD),
        timeout=5,
    )
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


def result_of(server: str, user: str, pid: str) -> dict[str, Any]:
    hist = requests.post(
        f"{server}/history/variable-instance",
        json={"processInstanceId": pid},
        auth=(user, PASSWORD),
        timeout=5,
    ).json()
    return {v["name"]: v["value"] for v in hist}


def test_unknown_topic_deployed_and_worked_by_the_python_client(
    app: Any, server: str, users: dict[str, str]
) -> None:
    r = modeler_deploy(server, users["admin"], SMOKE_TOPIC)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [d["key"] for d in body["deployedProcessDefinitions"].values()] == ["smoke_process"]
    line = SMOKE_TOPIC[: SMOKE_TOPIC.index(b'id="Task_external"')].count(b"\n") + 1
    assert body["sopflowWarnings"] == [
        {
            "resource": "diagram_1.bpmn",
            "mainElementId": "Task_external",
            "elementIds": ["Task_external"],
            "line": line,
            "message": "Topic 'smoke-topic': no built-in handler: jobs wait for an external worker",
            "messageIndonesian": "Topic 'smoke-topic': tidak ada handler bawaan: pekerjaan "
            "menunggu worker eksternal",
        }
    ]
    # a Camunda client reads the answer as ever (pycamunda builds its Deployment from it)
    create = pycamunda.deployment.Create(url=server, name="pc", enable_duplicate_filtering=True)
    create.add_resource(("diagram_1.bpmn", SMOKE_TOPIC, "text/xml"))
    create.auth = (users["admin"], PASSWORD)
    assert create().id_ == body["id"]

    pid = start(server, users["admin"], "smoke_process")
    engine = app.extensions["sopflow"]
    token = create_token(engine, ADMIN, users["worker"], "smoke worker")
    seen: list[Any] = []

    def handle(task: Any) -> Any:
        seen.append((task.get_topic_name(), task.get_variable("amount"), task.get_tenant_id()))
        return task.complete({"result": "done"})

    ExternalTaskWorker(
        worker_id="smoke-worker",
        base_url=server,
        config={
            "auth_bearer": {"access_token": token},
            "asyncResponseTimeout": 2000,
            "maxTasks": 1,
            "lockDuration": 10000,
            "sleepSeconds": 0,
            "httpTimeoutMillis": 5000,
        },
    ).fetch_and_execute(["smoke-topic"], handle)
    assert seen == [("smoke-topic", 42, "kudus")]
    gone = requests.get(
        f"{server}/process-instance/{pid}", auth=(users["admin"], PASSWORD), timeout=5
    )
    assert gone.status_code == 404  # ended
    assert result_of(server, users["admin"], pid)["result"] == "done"
    (queue,) = topic_queues(engine, ADMIN)
    assert (queue.topic, queue.waiting, queue.locked) == ("smoke-topic", 0, 0)
    assert queue.last_worker_id == "smoke-worker" and queue.last_fetch_at is not None


def test_built_in_topic_runs_in_process_and_no_worker_fetches_it(
    app: Any, server: str, users: dict[str, str]
) -> None:
    r = modeler_deploy(server, users["admin"], BUILTIN)
    assert r.status_code == 200, r.text
    assert r.json()["sopflowWarnings"] == []
    pid = start(server, users["admin"], "smoke_builtin")
    basic = base64.b64encode(f"{users['worker']}:{PASSWORD}".encode()).decode()
    got = requests.post(
        f"{server}/external-task/fetchAndLock",
        json={
            "workerId": "sneaky",
            "maxTasks": 1,
            "topics": [{"topicName": "sopflow.echo", "lockDuration": 1000}],
        },
        headers={"Authorization": f"Basic {basic}"},
        timeout=5,
    )
    assert got.status_code == 403 and got.json()["type"] == "AuthorizationException"
    listed = requests.get(
        f"{server}/external-task", auth=(users["worker"], PASSWORD), timeout=5
    ).json()
    assert listed == []
    engine = app.extensions["sopflow"]
    pool = WorkerPool(engine, app.extensions["sopflow.registry"], threads=1)
    assert pool.run_once() == 1  # the in-process worker, as `sopflow serve` runs it
    assert result_of(server, users["admin"], pid)["echoed_by"] == "sopflow"


def test_strict_topics_refuses_the_unknown_topic(
    db_url: str, agencies: dict[str, int], users: dict[str, str], tmp_path: Path
) -> None:
    strict = create_app(
        {
            "DATABASE_URL": db_url,
            "SECRET_KEY": "test-secret-key-for-rest",
            "WORKERS": 0,
            "INSTANCE_DIR": tmp_path / "strict",
            "STRICT_TOPICS": "1",
        }
    )
    try:
        basic = base64.b64encode(f"{users['admin']}:{PASSWORD}".encode()).decode()
        r = strict.test_client().post(
            "/engine-rest/deployment/create",
            data={
                "deployment-name": "diagram_1",
                "data": (io.BytesIO(SMOKE_TOPIC), "diagram_1.bpmn"),
            },
            headers={"Authorization": f"Basic {basic}"},
            content_type="multipart/form-data",
        )
        assert r.status_code == 400 and r.get_json()["type"] == "ParseException"
        assert "Topic 'smoke-topic' has no handler" in r.get_json()["message"]
        assert "Task_external" in r.get_json()["message"]
    finally:
        strict.extensions["sopflow"].sessions.kw["bind"].dispose()
