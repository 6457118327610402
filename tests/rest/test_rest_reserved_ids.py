"""A diagram written with ids SpiffWorkflow reserves (``Start``, ``Root``, ``End``,
``<process>.EndJoin``) deploys, starts and completes over REST, and every answer and the
request page's diagram state name the BPMN ids (engine/spiff/reserved.py)."""

from __future__ import annotations

from typing import Any

from rest_support import PASSWORD

XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="D" targetNamespace="x">
  <bpmn:process id="rsv_rest" name="Reserved ids" isExecutable="true">
    <bpmn:startEvent id="Start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Root" name="Periksa" camunda:candidateGroups="technical_officer">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:serviceTask id="End" camunda:type="external" camunda:topic="rest.work">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:endEvent id="rsv_rest.EndJoin"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Root" />
    <bpmn:sequenceFlow id="f2" sourceRef="Root" targetRef="End" />
    <bpmn:sequenceFlow id="f3" sourceRef="End" targetRef="rsv_rest.EndJoin" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_reserved_ids_over_rest_and_on_the_request_page(
    app: Any, server: str, users: dict[str, str], http: Any
) -> None:
    admin, officer, worker = (http(users[u]) for u in ("admin", "officer", "worker"))
    deployed = admin.post(
        f"{server}/deployment/create",
        data={"deployment-name": "rsv"},
        files={"data": ("rsv.bpmn", XML, "text/xml")},
        timeout=10,
    )
    assert deployed.status_code == 200, deployed.text
    started = officer.post(f"{server}/process-definition/key/rsv_rest/start", json={}, timeout=10)
    assert started.status_code == 200, started.text
    iid = started.json()["id"]

    (task,) = officer.get(f"{server}/task", params={"processInstanceId": iid}, timeout=10).json()
    assert task["taskDefinitionKey"] == "Root" and task["name"] == "Periksa"
    tree = officer.get(f"{server}/process-instance/{iid}/activity-instances", timeout=10).json()
    assert [c["activityId"] for c in tree["childActivityInstances"]] == ["Root"]
    page = app.test_client()
    with page.session_transaction() as session:
        session["csrf"] = "t" * 43
    login = {"username": users["officer"], "password": PASSWORD, "csrf_token": "t" * 43}
    assert page.post("/masuk", data=login).status_code == 302
    state = page.get(f"/permohonan/{iid}/diagram.json").get_json()
    assert state["current"] == ["Root"] and "Start" in state["done"]

    done = officer.post(f"{server}/task/{task['id']}/complete", json={}, timeout=10)
    assert done.status_code == 204, done.text
    fetch = {
        "workerId": "w",
        "maxTasks": 1,
        "topics": [{"topicName": "rest.work", "lockDuration": 60_000}],
    }
    (job,) = worker.post(f"{server}/external-task/fetchAndLock", json=fetch, timeout=10).json()
    assert job["activityId"] == "End"
    finished = worker.post(
        f"{server}/external-task/{job['id']}/complete", json={"workerId": "w"}, timeout=10
    )
    assert finished.status_code == 204, finished.text

    history = officer.get(f"{server}/history/process-instance/{iid}", timeout=10).json()
    assert history["state"] == "COMPLETED"
    (done_task,) = officer.get(
        f"{server}/history/task", params={"processInstanceId": iid}, timeout=10
    ).json()
    assert done_task["taskDefinitionKey"] == "Root"
    state = page.get(f"/permohonan/{iid}/diagram.json").get_json()
    assert {"Start", "Root", "End", "rsv_rest.EndJoin"} <= set(state["done"])
    assert not any("#" in e for e in state["done"])
