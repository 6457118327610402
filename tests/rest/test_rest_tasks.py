"""User tasks over HTTP with pycamunda and camunda-client: start, list, claim, complete,
submit-form, form variables, instance variables and history."""

from __future__ import annotations

import asyncio
import re
from typing import Any
from uuid import UUID

import httpx
import pycamunda.processdef
import pycamunda.processinst
import pycamunda.task
import pycamunda.variable
import requests
from camunda_client import CamundaEngineClient, VariableValueSchema
from camunda_client.clients.dto import AuthData
from camunda_client.clients.engine.schemas.body import GetTasksFilterSchema
from rest_support import PASSWORD

DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$")
TASK_KEYS = {
    "id", "name", "assignee", "owner", "created", "due", "followUp", "delegationState",
    "description", "executionId", "formKey", "parentTaskId", "priority", "processDefinitionId",
    "processInstanceId", "caseDefinitionId", "caseExecutionId", "caseInstanceId", "suspended",
    "taskDefinitionKey", "tenantId",
}  # fmt: skip


def test_pycamunda_start_list_claim_complete(
    server: str, users: dict[str, str], deployed: dict[str, Any], http: Any
) -> None:
    officer = (users["officer"], PASSWORD)
    start = pycamunda.processdef.StartInstance(url=server, key="rest_user", business_key="BK-1")
    start.add_variable("amount", 42)
    start.add_variable("order", {"items": [1, 2]}, type_="Json")
    start.auth = (users["integration"], PASSWORD)  # an integration's variables are as given
    inst = start()
    UUID(inst.id_)
    assert inst.business_key == "BK-1"
    variables = pycamunda.processinst.VariablesGetList(url=server, process_instance_id=inst.id_)
    variables.auth = officer
    vs = variables()
    assert vs["amount"].value == 42 and vs["amount"].type_ == "Integer"
    assert vs["order"].type_ == "Json"

    listing = pycamunda.task.GetList(url=server, process_instance_id=inst.id_)
    listing.auth = officer
    tasks = listing()
    assert [t.task_definition_key for t in tasks] == ["review"]
    raw = http(users["officer"]).get(f"{server}/task/{tasks[0].id_}", timeout=5).json()
    assert set(raw) >= TASK_KEYS and DATE.match(raw["created"]) and raw["tenantId"] == "kudus"
    form = http(users["officer"]).get(f"{server}/task/{tasks[0].id_}/form-variables", timeout=5)
    assert form.json()["approved"]["type"] == "Boolean"
    assert form.json()["comment"] == {
        "value": "ok",
        "type": "String",
        "valueInfo": {"label": "Comment", "required": False, "readonly": False},
    }
    links = http(users["officer"]).get(f"{server}/task/{tasks[0].id_}/identity-links", timeout=5)
    assert {"userId": None, "groupId": "technical_officer", "type": "candidate"} in links.json()

    # another group sees nothing, another agency gets 404
    other = pycamunda.task.GetList(url=server, process_instance_id=inst.id_)
    other.auth = (users["applicant"], PASSWORD)
    assert list(other()) == []
    r = http(users["outsider"]).get(f"{server}/task/{tasks[0].id_}", timeout=5)
    assert r.status_code == 404
    r = http(users["outsider"]).get(f"{server}/process-instance/{inst.id_}", timeout=5)
    assert r.status_code == 404

    claim = pycamunda.task.Claim(url=server, id_=tasks[0].id_, user_id=users["officer"])
    claim.auth = officer
    claim()
    complete = pycamunda.task.Complete(url=server, id_=tasks[0].id_)
    complete.add_variable("approved", True)
    complete.auth = officer
    complete()
    gone = http(users["officer"]).get(f"{server}/process-instance/{inst.id_}", timeout=5)
    assert gone.status_code == 404
    unknown = http(users["officer"]).post(
        f"{server}/task/{tasks[0].id_}/complete", json={"variables": {}}, timeout=5
    )
    assert unknown.status_code == 404 and set(unknown.json()) == {"type", "message"}
    hist = http(users["officer"]).get(f"{server}/history/process-instance/{inst.id_}", timeout=5)
    assert hist.json()["state"] == "COMPLETED"


def test_camunda_client_start_and_submit_form(
    server: str, users: dict[str, str], deployed: dict[str, Any], http: Any
) -> None:
    async def run() -> None:
        client = CamundaEngineClient(
            base_url=server,
            auth_data=AuthData(username=users["admin"], password=PASSWORD),
            transport=httpx.AsyncHTTPTransport(),
        )
        inst = await client.start_process(
            "rest_user", business_key="CC-1", variables={"n": VariableValueSchema(value=5)}
        )
        tasks = await client.get_tasks(GetTasksFilterSchema(process_instance_id=inst.id))
        assert len(tasks) == 1 and tasks[0].task_definition_key == "review"
        task = await client.get_task(tasks[0].id)
        assert task is not None
        await client.submit_task_form(
            tasks[0].id, {"approved": VariableValueSchema(value=False, type="Boolean")}
        )
        assert await client.get_task(tasks[0].id) is None
        hist = await client.get_history_process_instance(inst.id)
        assert hist is not None

    asyncio.run(run())


def test_start_form_variables(
    server: str, users: dict[str, str], deployed: dict[str, Any], http: Any
) -> None:
    r = http(users["officer"]).get(f"{server}/process-definition/key/rest_user/form-variables")
    assert r.status_code == 200, r.text
    assert r.json()["applicant"] == {
        "value": "Budi",
        "type": "String",
        "valueInfo": {"label": "Applicant", "required": False, "readonly": False},
    }
    assert r.json()["pages"]["type"] == "Long" and r.json()["pages"]["value"] == 3
    alias = http(users["officer"]).get(
        f"{server.replace('/engine-rest', '/rest')}/process-definition/key/rest_user"
    )
    assert alias.status_code == 200 and alias.json()["key"] == "rest_user"
    assert http(users["officer"]).get(f"{server}/version").json()["version"]
    bad = http(users["officer"]).post(
        f"{server}/process-definition/key/rest_user/start",
        json={"variables": {"x": {"value": "abc", "type": "Integer"}}},
    )
    assert bad.status_code == 400 and bad.json()["type"]
    # a person's typed value that is not the field's type: the form's own message, both languages
    wrong = http(users["applicant"]).post(
        f"{server}/process-definition/key/rest_user/start",
        json={"variables": {"pages": {"value": "tiga", "type": "String"}}},
    )
    assert wrong.status_code == 400 and wrong.json()["type"] == "FormFieldValidatorException"
    assert "pages: Harus bilangan bulat / Must be a whole number" in wrong.json()["message"]
    as_long = http(users["applicant"]).post(
        f"{server}/process-definition/key/rest_user/start",
        json={"variables": {"pages": {"value": "tiga", "type": "Long"}}},
    )
    assert as_long.status_code == 400 and "pages: Harus bilangan bulat" in as_long.json()["message"]
    missing = http(users["officer"]).post(f"{server}/process-definition/key/nope/start", json={})
    assert missing.status_code == 404


def test_wrong_requests_stay_4xx(server: str, users: dict[str, str], http: Any) -> None:
    s = http(users["officer"])
    assert requests.get(f"{server}/task/nope", auth=s.auth, timeout=5).status_code == 404
    r = s.post(f"{server}/task", data="{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
