"""What the REST conformance suite (test_rest_conformance.py) drives each SOP with: typed
variables built from ``form-variables`` the way a client renders a form, and one loop that
answers every open user task with camunda-client's ``submit-form`` until the request ends.

A plain module (imported by name, like rest_support) so the test module stays readable."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import httpx
import requests
from camunda_client import CamundaEngineClient, VariableValueSchema
from camunda_client.clients.dto import AuthData
from rest_support import PASSWORD

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TEXT = "Isian uji kesesuaian REST untuk permohonan ini"
TODAY = date.today()


def camunda_date(d: date) -> str:
    return datetime(d.year, d.month, d.day, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def typed_value(name: str, spec: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """One variable for field ``name`` of a ``form-variables`` answer: the SOP's own value when
    the test gives one, else a valid value of the declared type (enum: the default or the first
    value; file: a small PDF)."""
    kind, info = spec["type"], spec["valueInfo"]
    if kind == "File":
        return {
            "type": "File",
            "value": base64.b64encode(PDF).decode(),
            "valueInfo": {"filename": f"{name}.pdf", "mimetype": "application/pdf"},
        }
    if name in given:
        value = given[name]
    elif kind == "Boolean":
        value = True
    elif kind == "Long":
        value = 1
    elif kind == "Date":
        value = camunda_date(TODAY)
    elif info.get("enumValues"):
        value = spec["value"] or info["enumValues"][0]["id"]
    else:
        value = TEXT
    return {"type": kind, "value": value, "valueInfo": {}}


def answer(form: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The variables a person sends for a form: every editable field that is required, a
    boolean (the decisions: ``documents_complete``, ``approved``) or given by the test."""
    out = {}
    for name, spec in form.items():
        info = spec["valueInfo"]
        if info["readonly"]:
            continue
        if info["required"] or spec["type"] == "Boolean" or name in given:
            out[name] = typed_value(name, spec, given)
    return out


def cc_variables(variables: Mapping[str, Mapping[str, Any]]) -> dict[str, VariableValueSchema]:
    """The same variables as camunda-client's schema objects. Its ``type`` literal has no
    ``File`` (it never reads one back), so a file is built without validation and sent as is."""
    out = {}
    for name, v in variables.items():
        if v["type"] == "File":
            out[name] = VariableValueSchema.model_construct(
                value=v["value"], type="File", value_info=v["valueInfo"]
            )
        else:
            out[name] = VariableValueSchema(value=v["value"], type=v["type"])
    return out


@dataclass
class Walk:
    """One request through the REST API: who works which group's tasks, what they answer."""

    server: str
    admin: str
    people: Mapping[str, str]  # group -> username
    applicant: str
    answers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # task -> field values
    done: list[str] = field(default_factory=list)

    def get(self, user: str, path: str, **params: Any) -> Any:
        r = requests.get(f"{self.server}{path}", auth=(user, PASSWORD), params=params, timeout=10)
        assert r.status_code == 200, (path, r.status_code, r.text)
        return r.json()

    def worker_of(self, task: Mapping[str, Any]) -> str:
        if task["assignee"]:
            return str(task["assignee"])
        links = self.get(self.admin, f"/task/{task['id']}/identity-links")
        groups = [link["groupId"] for link in links if link["groupId"]]
        if "applicant" in groups:
            return self.applicant
        for g in groups:
            if g in self.people:
                return self.people[g]
        raise AssertionError(f"nobody works {task['taskDefinitionKey']} ({groups})")

    def state(self, instance_id: str) -> str:
        return str(self.get(self.admin, f"/history/process-instance/{instance_id}")["state"])

    def run(self, instance_id: str, deadline_s: float = 90.0) -> list[str]:
        """Answer every task as it opens (built-in handlers work the service tasks in between)
        until the request completes; the task definition keys answered, in order."""
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            if self.state(instance_id) == "COMPLETED":
                return self.done
            tasks = self.get(self.admin, "/task", processInstanceId=instance_id)
            if not tasks:
                self._incidents(instance_id)
                time.sleep(0.2)
                continue
            for task in tasks:
                self.submit(task)
        raise AssertionError(
            f"request {instance_id} did not complete; done {self.done}, jobs "
            f"{self.get(self.admin, '/external-task', processInstanceId=instance_id)}"
        )

    def _incidents(self, instance_id: str) -> None:
        jobs = self.get(self.admin, "/external-task", processInstanceId=instance_id)
        failed = [j for j in jobs if j["errorMessage"] and j["retries"] == 0]
        assert not failed, failed

    def submit(self, task: Mapping[str, Any]) -> None:
        user = self.worker_of(task)
        key = str(task["taskDefinitionKey"])
        form = self.get(user, f"/task/{task['id']}/form-variables")
        variables = answer(form, self.answers.get(key, {}))
        run_cc(
            user,
            self.server,
            lambda c: c.submit_task_form(UUID(task["id"]), cc_variables(variables)),
        )
        self.done.append(key)


def run_cc(user: str, server: str, call: Callable[[CamundaEngineClient], Any]) -> Any:
    async def go() -> Any:
        client = CamundaEngineClient(
            base_url=server,
            auth_data=AuthData(username=user, password=PASSWORD),
            transport=httpx.AsyncHTTPTransport(),
        )
        return await call(client)

    return asyncio.run(go())
