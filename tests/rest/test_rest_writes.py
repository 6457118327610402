"""Changing instances over HTTP: DELETE /process-instance (a cancel), writing variables of an
instance or a task (later gateways see them), and File / Bytes / Object variables with their
raw ``/data``; with pycamunda and camunda-client where they have the call."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import httpx
import pycamunda.processinst
import pycamunda.task
import pytest
import requests
from camunda_client import CamundaEngineClient, VariableValueSchema
from camunda_client.clients.dto import AuthData
from camunda_client.clients.engine.dto import GetTaskVariableDTO, UpdateTaskVariableDTO
from camunda_client.clients.engine.schemas.body import UpdateProcessVariablesSchema
from rest_support import PASSWORD
from support import CORPUS

GATEWAY = (CORPUS / "route.bpmn").read_bytes()  # a user task, then a gateway on ${route}


@pytest.fixture
def route(server: str, users: dict[str, str], http: Any, deployed: dict[str, Any]) -> Any:
    r = http(users["admin"]).post(
        f"{server}/deployment/create",
        data={"deployment-name": "route"},
        files={"data": ("route.bpmn", GATEWAY, "text/xml")},
        timeout=10,
    )
    assert r.status_code == 200, r.text

    def start(user: str, variables: dict[str, Any]) -> str:
        got = http(user).post(
            f"{server}/process-definition/key/route_demo/start",
            json={"variables": {k: {"value": v} for k, v in variables.items()}},
            timeout=5,
        )
        assert got.status_code == 200, got.text
        return str(got.json()["id"])

    return start


def _tasks(server: str, session: requests.Session, pid: str) -> list[dict[str, Any]]:
    return list(session.get(f"{server}/task?processInstanceId={pid}", timeout=5).json())


# ------------------------------------------------------------------ DELETE /process-instance
def test_delete_with_pycamunda(server: str, users: dict[str, str], route: Any, http: Any) -> None:
    officer, admin = http(users["officer"]), http(users["admin"])
    pid = route(users["officer"], {"route": "slow"})  # the officer started it
    [task] = _tasks(server, officer, pid)
    assert http(users["outsider"]).delete(f"{server}/process-instance/{pid}").status_code == 404
    applicant = http(users["applicant"]).delete(f"{server}/process-instance/{pid}")
    assert applicant.status_code == 404  # another's request: not even seen
    # a colleague of the officer's group sees it (a step of the group) but may not discard it
    colleague = http(users["colleague"]).delete(f"{server}/process-instance/{pid}")
    assert colleague.status_code == 403 and colleague.json()["type"] == "AuthorizationException"

    delete = pycamunda.processinst.Delete(
        url=server, id_=pid, skip_custom_listeners=True, skip_io_mappings=True
    )
    delete.auth = (users["officer"], PASSWORD)
    delete()
    assert officer.get(f"{server}/process-instance/{pid}").status_code == 404
    assert officer.get(f"{server}/task/{task['id']}").status_code == 404
    done = officer.post(f"{server}/task/{task['id']}/complete", json={})
    assert done.status_code == 404 and set(done.json()) == {"type", "message"}
    hist = admin.get(f"{server}/history/process-instance/{pid}").json()
    assert hist["state"] == "EXTERNALLY_TERMINATED" and hist["endTime"]
    again = admin.delete(f"{server}/process-instance/{pid}")
    assert again.status_code == 404 and again.json()["type"]
    quiet = admin.delete(f"{server}/process-instance/{pid}?failIfNotExists=false")
    assert quiet.status_code == 204
    unknown = admin.delete(f"{server}/process-instance/00000000-0000-0000-0000-000000000000")
    assert unknown.status_code == 404
    bad = admin.delete(f"{server}/process-instance/{pid}?skipCustomListeners=maybe")
    assert bad.status_code == 400


def test_delete_with_camunda_client_stops_external_work(
    server: str, users: dict[str, str], deployed: dict[str, Any], http: Any
) -> None:
    admin = http(users["admin"])
    pid = admin.post(f"{server}/process-definition/key/rest_ext/start", json={}).json()["id"]
    body = {"workerId": "w", "topics": [{"topicName": "rest.work", "lockDuration": 10000}]}
    [job] = admin.post(f"{server}/external-task/fetchAndLock", json=body).json()

    async def run() -> None:
        client = CamundaEngineClient(
            base_url=server,
            auth_data=AuthData(username=users["admin"], password=PASSWORD),
            transport=httpx.AsyncHTTPTransport(),
        )
        await client.delete_process(pid)

    asyncio.run(run())
    gone = admin.post(f"{server}/external-task/{job['id']}/complete", json={"workerId": "w"})
    assert gone.status_code == 404
    assert admin.post(f"{server}/external-task/fetchAndLock", json=body).json() == []
    assert admin.get(f"{server}/external-task?processInstanceId={pid}").json() == []


# ------------------------------------------------------------------ writing variables
def test_instance_variables_put_post_delete(
    server: str, users: dict[str, str], route: Any, http: Any
) -> None:
    officer = http(users["officer"])
    pid = route(users["officer"], {"route": "slow", "note": "x"})
    base = f"{server}/process-instance/{pid}/variables"
    put = officer.put(f"{base}/route", json={"value": "fast", "type": "String"})
    assert put.status_code == 204, put.text
    update = pycamunda.processinst.VariablesModify(
        url=server, process_instance_id=pid, deletions=["note"]
    )
    update.add_variable("pages", 7, type_="Integer")
    update.add_variable("when", "2026-01-02T03:04:05.678+0000", type_="Date")
    update.auth = (users["officer"], PASSWORD)
    update()
    got = officer.get(base).json()
    assert got["route"] == {"value": "fast", "type": "String", "valueInfo": {}}
    assert got["pages"]["value"] == 7 and "note" not in got
    assert got["when"]["type"] == "String" or got["when"]["value"].startswith("2026-01-02")
    assert officer.delete(f"{base}/pages").status_code == 204
    assert officer.get(f"{base}/pages").status_code == 404

    for wrong in (
        officer.put(f"{base}/bad%20name", json={"value": 1}),
        officer.put(f"{base}/n", json={"value": "abc", "type": "Integer"}),
        officer.post(base, json={"modifications": {}, "deletions": "note"}),
        officer.put(f"{base}/n", json={"value": 1, "type": "Nonsense"}),
    ):
        assert wrong.status_code == 400, wrong.text
    assert http(users["outsider"]).put(f"{base}/route", json={"value": "x"}).status_code == 404
    assert http(users["applicant"]).put(f"{base}/route", json={"value": "x"}).status_code == 404

    # the gateway after the task sees the written value
    [task] = _tasks(server, officer, pid)
    assert officer.post(f"{server}/task/{task['id']}/complete", json={}).status_code == 204
    assert [t["taskDefinitionKey"] for t in _tasks(server, officer, pid)] == ["fast"]


def test_task_variables_with_camunda_client(
    server: str, users: dict[str, str], route: Any, http: Any
) -> None:
    officer = http(users["officer"])
    pid = route(users["officer"], {"route": "slow"})
    [task] = _tasks(server, officer, pid)

    async def run() -> None:
        client = CamundaEngineClient(
            base_url=server,
            auth_data=AuthData(username=users["officer"], password=PASSWORD),
            transport=httpx.AsyncHTTPTransport(),
        )
        await client.update_task_variable(
            UpdateTaskVariableDTO(
                task_id=task["id"],
                variable_name="route",
                variable=VariableValueSchema(value="fast", type="String"),
                is_local_variable=True,
            )
        )
        await client.update_variable_instances(
            process_instance_id=pid,
            schema=UpdateProcessVariablesSchema(
                modifications={"size": VariableValueSchema(value=3, type="Integer")}
            ),
        )
        got = await client.get_task_variable(
            GetTaskVariableDTO(task_id=task["id"], variable_name="route")
        )
        assert got is not None and got.value == "fast"

    asyncio.run(run())
    post = officer.post(
        f"{server}/task/{task['id']}/variables",
        json={"modifications": {"extra": {"value": True}}, "deletions": ["size"]},
    )
    assert post.status_code == 204, post.text
    got = officer.get(f"{server}/process-instance/{pid}/variables").json()
    assert got["route"]["value"] == "fast" and got["extra"]["value"] is True and "size" not in got
    local = officer.get(f"{server}/task/{task['id']}/localVariables/route").json()
    assert local["value"] == "fast"
    nobody = http(users["applicant"]).put(
        f"{server}/task/{task['id']}/variables/route", json={"value": "slow"}
    )
    assert nobody.status_code in (403, 404)
    assert officer.delete(f"{server}/task/{task['id']}/variables/extra").status_code == 204
    assert officer.post(f"{server}/task/{task['id']}/complete", json={}).status_code == 204
    assert [t["taskDefinitionKey"] for t in _tasks(server, officer, pid)] == ["fast"]


# ------------------------------------------------------------------ File, Bytes, Object
def test_file_bytes_and_object_variables(
    server: str, users: dict[str, str], route: Any, http: Any
) -> None:
    officer = http(users["officer"])
    pdf = b"%PDF-1.4 surat permohonan\x00\xff"
    pid = route(users["officer"], {"route": "slow"})
    base = f"{server}/process-instance/{pid}/variables"
    put = officer.put(
        f"{base}/surat",
        json={
            "value": base64.b64encode(pdf).decode(),
            "type": "File",
            "valueInfo": {"filename": "surat.pdf", "mimetype": "application/pdf"},
        },
    )
    assert put.status_code == 204, put.text
    got = officer.get(f"{base}/surat").json()
    assert got == {
        "value": None,
        "type": "File",
        "valueInfo": {"filename": "surat.pdf", "mimeType": "application/pdf", "encoding": None},
    }
    raw = officer.get(f"{base}/surat/data")
    assert raw.status_code == 200 and raw.content == pdf
    assert raw.headers["Content-Type"].startswith("application/pdf")
    assert "surat.pdf" in raw.headers["Content-Disposition"]

    officer.put(
        f"{base}/blob", json={"value": base64.b64encode(b"\x01\x02").decode(), "type": "Bytes"}
    )
    assert officer.get(f"{base}/blob").json() == {"value": "AQI=", "type": "Bytes", "valueInfo": {}}
    assert officer.get(f"{base}/blob/data").content == b"\x01\x02"

    info = {"objectTypeName": "java.util.HashMap", "serializationDataFormat": "application/json"}
    obj = {"value": json.dumps({"a": [1, 2]}), "type": "Object", "valueInfo": info}
    assert officer.put(f"{base}/obj", json=obj).status_code == 204
    back = officer.get(f"{base}/obj").json()
    assert back["type"] == "Object" and json.loads(back["value"]) == {"a": [1, 2]}
    assert back["valueInfo"]["serializationDataFormat"] == "application/json"

    # pycamunda uploads binaries as multipart to …/data
    upload = pycamunda.processinst.VariablesUpdate(
        url=server, process_instance_id=pid, var_name="scan", value=b"PNG\x89", type_="File"
    )
    upload.auth = (users["officer"], PASSWORD)
    upload()
    assert officer.get(f"{base}/scan/data").content == b"PNG\x89"
    # requests drops pycamunda's JSON valueType next to files: Camunda's default, Bytes
    assert officer.get(f"{base}/scan").json()["type"] == "Bytes"
    form = officer.post(
        f"{base}/photo/data",
        data={"valueType": "File"},
        files={"data": ("foto.png", b"\x89PNG", "image/png")},
    )
    assert form.status_code == 204, form.text
    assert officer.get(f"{base}/photo").json()["valueInfo"]["filename"] == "foto.png"
    assert officer.get(f"{base}/photo/data").headers["Content-Type"] == "image/png"

    # the task and history views of the same variable
    [task] = _tasks(server, officer, pid)
    assert officer.get(f"{server}/task/{task['id']}/variables/surat/data").content == pdf
    hist = officer.post(
        f"{server}/history/variable-instance", json={"processInstanceId": pid}
    ).json()
    [row] = [h for h in hist if h["name"] == "surat"]
    assert officer.get(f"{server}/history/variable-instance/{row['id']}/data").content == pdf

    too_big = base64.b64encode(b"x" * (1_048_576 + 1)).decode()
    big = officer.put(f"{base}/big", json={"value": too_big, "type": "Bytes"})
    assert big.status_code == 400 and "too large" in big.json()["message"]
    assert officer.get(f"{base}/route/data").status_code == 400  # not binary
    bad_b64 = officer.put(f"{base}/b", json={"value": "not base64!", "type": "Bytes"})
    assert bad_b64.status_code == 400
    xml_obj = officer.put(
        f"{base}/o",
        json={"value": "<a/>", "type": "Object",
              "valueInfo": {"serializationDataFormat": "application/xml"}},
    )  # fmt: skip
    assert xml_obj.status_code == 400
    reserved = officer.put(f"{base}/j", json={"value": '{"@camunda": "File"}', "type": "Json"})
    assert reserved.status_code == 400
