"""fetchAndLock options, message correlation options, retries of external tasks and jobs, JSON
404/405, the Modeler's webapps URL, UUID user ids (camunda-client) and long polling at capacity
against the production server."""

from __future__ import annotations

import asyncio
import threading
import time
from http.client import HTTPConnection
from typing import Any
from uuid import UUID

import httpx
import pycamunda.externaltask
import requests
from camunda_client import CamundaEngineClient, VariableValueSchema
from camunda_client.clients.dto import AuthData
from camunda_client.clients.engine.schemas.body import SendCorrelationMessageSchema
from rest_support import PASSWORD

from web.rest import external_tasks
from web.rest.server import RESERVED
from web.rest.users import user_uuid

TOPIC = "rest.work"


def _start(s: requests.Session, server: str, key: str, **variables: Any) -> dict[str, Any]:
    r = s.post(
        f"{server}/process-definition/key/{key}/start",
        json={"variables": {k: {"value": v} for k, v in variables.items()}},
        timeout=5,
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def _fetch(s: requests.Session, server: str, **options: Any) -> list[dict[str, Any]]:
    topic = {"topicName": TOPIC, "lockDuration": 10000, **options.pop("topic", {})}
    body = {"workerId": "w", "maxTasks": 10, "topics": [topic], **options}
    r = s.post(f"{server}/external-task/fetchAndLock", json=body, timeout=5)
    assert r.status_code == 200, r.text
    return list(r.json())


def _unlock(s: requests.Session, server: str, tasks: list[dict[str, Any]]) -> None:
    for t in tasks:
        assert s.post(f"{server}/external-task/{t['id']}/unlock").status_code == 204


def test_fetch_and_lock_filters_sorting_and_variables(
    server: str, users: dict[str, str], deployed: dict[str, Any], http: Any
) -> None:
    s = http(users["admin"])
    first = _start(s, server, "rest_ext", region="north", amount=1)
    time.sleep(0.01)
    second = _start(s, server, "rest_ext", region="south", amount=2)

    newest = _fetch(s, server, maxTasks=1, sorting=[{"sortBy": "createTime", "sortOrder": "desc"}])
    assert [t["processInstanceId"] for t in newest] == [second["id"]]
    _unlock(s, server, newest)
    oldest = _fetch(s, server, maxTasks=1, sorting=[{"sortBy": "createTime", "sortOrder": "asc"}])
    assert [t["processInstanceId"] for t in oldest] == [first["id"]]
    _unlock(s, server, oldest)

    south = _fetch(
        s, server, topic={"processVariables": {"region": "south"}, "variables": ["amount"]}
    )
    assert [t["processInstanceId"] for t in south] == [second["id"]]
    assert south[0]["variables"] == {"amount": {"value": 2, "type": "Integer", "valueInfo": {}}}
    _unlock(s, server, south)
    by_key = _fetch(s, server, topic={"businessKey": first["businessKey"]})
    assert [t["processInstanceId"] for t in by_key] == [first["id"]]
    _unlock(s, server, by_key)
    local = _fetch(s, server, topic={"localVariables": True})
    assert len(local) == 2 and all(t["variables"] == {} for t in local)
    _unlock(s, server, local)

    assert _fetch(s, server, topic={"processDefinitionKey": "rest_user"}) == []
    assert _fetch(s, server, topic={"processDefinitionKeyIn": ["nope"]}) == []
    assert _fetch(s, server, topic={"tenantIdIn": ["tapin"]}) == []
    assert _fetch(s, server, topic={"withoutTenantId": True}) == []
    both = _fetch(
        s,
        server,
        usePriority=True,
        topic={"tenantIdIn": ["kudus"], "processDefinitionKeyIn": ["rest_ext"]},
    )
    assert {t["processInstanceId"] for t in both} == {first["id"], second["id"]}
    bad = s.post(
        f"{server}/external-task/fetchAndLock",
        json={"workerId": "w", "topics": [], "sorting": [{"sortBy": "priority"}]},
    )
    assert bad.status_code == 400


def test_message_correlation_options(
    server: str, users: dict[str, str], deployed: dict[str, Any], http: Any
) -> None:
    s = http(users["admin"])
    a = _start(s, server, "rest_msg", order=1)
    b = _start(s, server, "rest_msg", order=2)
    ambiguous = s.post(f"{server}/message", json={"messageName": "rest_go"})
    assert ambiguous.status_code == 400
    assert ambiguous.json()["type"] == "MismatchingMessageCorrelationException"
    nothing = s.post(
        f"{server}/message",
        json={"messageName": "rest_go", "correlationKeys": {"order": {"value": 9}}},
    )
    assert nothing.status_code == 400
    for wrong_tenant in ({"tenantId": "tapin"}, {"withoutTenantId": True}):
        r = s.post(f"{server}/message", json={"messageName": "rest_go", **wrong_tenant})
        assert r.status_code == 400

    async def run() -> Any:
        client = CamundaEngineClient(
            base_url=server,
            auth_data=AuthData(username=users["admin"], password=PASSWORD),
            transport=httpx.AsyncHTTPTransport(),
        )
        return await client.send_correlation_message(
            SendCorrelationMessageSchema(
                message_name="rest_go",
                tenant_id="kudus",
                correlation_keys={"order": VariableValueSchema(value=2, type="Integer")},
                process_variables={"answer": VariableValueSchema(value="yes", type="String")},
                result_enabled=True,
                variables_in_result_enabled=True,
            )
        )

    [result] = asyncio.run(run())
    assert result["resultType"] == "Execution" and result["execution"]["id"] == b["id"]
    assert result["variables"]["answer"]["value"] == "yes"
    assert s.get(f"{server}/process-instance/{b['id']}").status_code == 404  # it went on
    hist = s.post(f"{server}/history/variable-instance", json={"processInstanceId": b["id"]})
    assert {v["name"]: v["value"] for v in hist.json()}["answer"] == "yes"

    c = _start(s, server, "rest_msg", order=1)
    every = s.post(
        f"{server}/message",
        json={
            "messageName": "rest_go",
            "localCorrelationKeys": {"order": {"value": 1}},
            "all": True,
            "resultEnabled": True,
        },
    )
    assert every.status_code == 200, every.text
    assert sorted(r["execution"]["id"] for r in every.json()) == sorted([a["id"], c["id"]])
    assert all(r["resultType"] == "Execution" for r in every.json())


def test_retries_resolve_incidents(
    server: str, users: dict[str, str], deployed: dict[str, Any], http: Any
) -> None:
    s = http(users["admin"])
    pid = _start(s, server, "rest_ext")["id"]
    [task] = _fetch(s, server)
    failed = s.post(
        f"{server}/external-task/{task['id']}/failure",
        json={"workerId": "w", "errorMessage": "down", "retries": 0, "retryTimeout": 0},
    )
    assert failed.status_code == 204
    assert [i["processInstanceId"] for i in s.get(f"{server}/incident").json()] == [pid]
    assert _fetch(s, server) == []
    officer = http(users["officer"]).put(
        f"{server}/external-task/{task['id']}/retries", json={"retries": 2}
    )
    assert officer.status_code == 403
    other = http(users["outsider"]).put(
        f"{server}/external-task/{task['id']}/retries", json={"retries": 2}
    )
    assert other.status_code == 404
    assert (
        s.put(f"{server}/external-task/{task['id']}/retries", json={"retries": -1}).status_code
        == 400
    )

    retry = pycamunda.externaltask.SetRetries(url=server, id_=task["id"], retries=2)
    retry.auth = (users["admin"], PASSWORD)
    retry()
    assert s.get(f"{server}/incident").json() == []
    [again] = _fetch(s, server)
    assert again["id"] == task["id"] and again["retries"] == 2

    assert s.get(f"{server}/job?processInstanceId={pid}").json() == []  # no timer here
    unknown = s.put(
        f"{server}/job/00000000-0000-0000-0000-000000000000/retries", json={"retries": 1}
    )
    assert unknown.status_code == 404


def test_unknown_paths_and_methods_answer_json(
    server: str, users: dict[str, str], http: Any
) -> None:
    s = http(users["officer"])
    for base in (server, server.replace("/engine-rest", "/rest")):
        missing = s.get(f"{base}/no/such/thing")
        assert missing.status_code == 404
        assert missing.headers["Content-Type"].startswith("application/json")
        assert missing.json()["type"] == "NotFoundException" and missing.json()["message"]
        wrong = s.patch(f"{base}/task")
        assert wrong.status_code == 405 and wrong.json()["type"] == "RestException"
        assert "GET" in wrong.headers["Allow"]
    root = server.rsplit("/engine-rest", 1)[0]
    page = requests.get(f"{root}/no-such-page", timeout=5)
    assert page.status_code == 404 and "text/html" in page.headers["Content-Type"]


def test_webapps_well_known(server: str) -> None:
    root = server.rsplit("/engine-rest", 1)[0]
    r = requests.get(
        f"{root}/.well-known/camunda-automation-platform/webapps",
        headers={"Origin": "null"},
        timeout=5,
    )
    assert r.status_code == 200 and r.json()["cockpitUrl"].startswith(root)
    assert r.headers["Access-Control-Allow-Origin"] == "null"


def test_camunda_client_claims_with_uuid_user_ids(
    server: str, users: dict[str, str], deployed: dict[str, Any], http: Any
) -> None:
    s = http(users["admin"])
    pid = _start(s, server, "rest_user")["id"]
    [task] = s.get(f"{server}/task?processInstanceId={pid}").json()
    listed = {u["id"]: u["uuid"] for u in s.get(f"{server}/user").json()}
    officer_id = UUID(listed[users["officer"]])
    assert str(officer_id) == user_uuid(users["officer"])
    assert users["outsider"] not in listed  # another agency's users stay hidden

    async def run() -> None:
        client = CamundaEngineClient(
            base_url=server,
            auth_data=AuthData(username=users["admin"], password=PASSWORD),
            transport=httpx.AsyncHTTPTransport(),
        )
        await client.claim_task(task["id"], officer_id)
        got = await client.get_task(task["id"])
        assert got is not None

    asyncio.run(run())
    assert s.get(f"{server}/task/{task['id']}").json()["assignee"] == users["officer"]
    nobody = s.post(
        f"{server}/task/{task['id']}/assignee",
        json={"userId": "00000000-0000-0000-0000-000000000001"},
    )
    assert nobody.status_code == 400 and "No user with id" in nobody.json()["message"]
    outsider = s.post(
        f"{server}/task/{task['id']}/claim", json={"userId": user_uuid(users["outsider"])}
    )
    assert outsider.status_code == 400  # not a user of this tenant


def test_many_waiting_workers_and_normal_traffic(
    server: str, live: Any, users: dict[str, str], deployed: dict[str, Any], http: Any
) -> None:
    """30 workers long-poll a 12-thread server: at most ``threads - RESERVED`` wait, the rest
    get ``[]`` at once, and normal requests keep answering quickly meanwhile."""
    auth = (users["admin"], PASSWORD)
    results: list[tuple[float, Any]] = []
    lock = threading.Lock()

    def poll(i: int) -> None:
        began = time.monotonic()
        r = requests.post(
            f"{server}/external-task/fetchAndLock",
            json={
                "workerId": f"many-{i}",
                "maxTasks": 1,
                "asyncResponseTimeout": 2500,
                "topics": [{"topicName": TOPIC, "lockDuration": 10000}],
            },
            auth=auth,
            timeout=15,
        )
        with lock:
            results.append((time.monotonic() - began, r.json()))

    pollers = [threading.Thread(target=poll, args=(i,)) for i in range(30)]
    for p in pollers:
        p.start()
    time.sleep(0.5)
    cap = live.threads - RESERVED
    assert 0 < external_tasks.waiting() <= cap
    with requests.Session() as s:  # keep-alive: one connection for all of these
        s.auth = auth
        for _ in range(10):
            began = time.monotonic()
            r = s.get(f"{server}/process-definition", timeout=3)
            assert r.status_code == 200 and time.monotonic() - began < 1.0
        browser = requests.get(server.rsplit("/engine-rest", 1)[0] + "/health", timeout=3)
        assert browser.status_code == 200
    conn = HTTPConnection("127.0.0.1", live.port, timeout=3)
    sockets = []
    for _ in range(3):  # keep-alive: the server leaves the connection open between requests
        conn.request("GET", "/engine-rest/version")
        answer = conn.getresponse()
        answer.read()
        assert answer.status == 200
        sockets.append(conn.sock)
    assert sockets[0] is not None and all(sock is sockets[0] for sock in sockets)
    conn.close()
    for p in pollers:
        p.join(20)
    assert len(results) == 30
    quick = [r for elapsed, r in results if elapsed < 1.5]
    assert len(quick) >= 30 - cap and all(r == [] for r in quick)
    assert external_tasks.waiting() == 0
