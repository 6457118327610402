"""The DNS handlers driven by the engine's own workers: retries and incidents when the server
is down, resuming when an administrator retries, TSIG rejections, and secrets that never show
up in variables, history, incidents, audit rows or logs."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select
from support import actor

from engine.models import ExternalTask, HistoryEvent, Incident, ProcessInstance
from engine.workers import WorkerPool
from handlers.dns.handler import DnsChangeHandler, DnsCreateHandler, DnsDeleteHandler
from handlers.dns.models import DnsChange
from handlers.names.handler import SubdomainCheckHandler, SubdomainReserveHandler
from handlers.names.models import Subdomain
from handlers.registry import HandlerRegistry

DIAGRAM = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs_dns"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="dns_demo" name="Subdomain baru" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:serviceTask id="check_name" name="Cek nama" camunda:type="external"
        camunda:topic="subdomain.check">
      <bpmn:extensionElements><camunda:inputOutput>
        <camunda:inputParameter name="subdomain">${subdomain}</camunda:inputParameter>
      </camunda:inputOutput></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:serviceTask id="reserve_name" name="Pesan nama" camunda:type="external"
        camunda:topic="subdomain.reserve">
      <bpmn:extensionElements><camunda:inputOutput>
        <camunda:inputParameter name="subdomain">${subdomain}</camunda:inputParameter>
      </camunda:inputOutput></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:serviceTask id="create_dns" name="Buat subdomain" camunda:type="external"
        camunda:topic="dns.create">
      <bpmn:extensionElements><camunda:inputOutput>
        <camunda:inputParameter name="subdomain">${subdomain}</camunda:inputParameter>
      </camunda:inputOutput></bpmn:extensionElements>
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:userTask id="confirm" name="Periksa hasil" camunda:candidateGroups="technical_officer">
      <bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check_name" />
    <bpmn:sequenceFlow id="f2" sourceRef="check_name" targetRef="reserve_name" />
    <bpmn:sequenceFlow id="f3" sourceRef="reserve_name" targetRef="create_dns" />
    <bpmn:sequenceFlow id="f4" sourceRef="create_dns" targetRef="confirm" />
    <bpmn:sequenceFlow id="f5" sourceRef="confirm" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def registry() -> HandlerRegistry:
    return HandlerRegistry(
        [
            SubdomainCheckHandler(),
            SubdomainReserveHandler(),
            DnsCreateHandler(),
            DnsChangeHandler(),
            DnsDeleteHandler(),
        ]
    )


@pytest.fixture
def flow(engine, configure_dns):
    """Deploy the diagram for kudus (rfc2136) and tapin (zonefile); start(agency, name)."""
    for code in ("kudus", "tapin"):
        engine.deploy(actor(f"admin_{code}", code, "admin"), [("dns.bpmn", DIAGRAM)])

    def start(agency: str, name: str):
        return engine.start(
            actor("ani", agency, "applicant"), "dns_demo", variables={"subdomain": name}
        )

    return start


def work(pool: WorkerPool, n: int = 10) -> int:
    done = 0
    while done < n and pool.run_once():
        done += 1
    return done


def jobs(sessions, instance_id):
    with sessions() as s:
        return list(s.scalars(select(ExternalTask).where(ExternalTask.instance_id == instance_id)))


@pytest.mark.parametrize(
    ("agency", "zone"), [("kudus", "kuduskab.go.id"), ("tapin", "tapinkab.go.id")]
)
def test_a_request_creates_its_subdomain(flow, engine, handler_ctx, dns_server, agency, zone):
    inst = flow(agency, "Dinas-Kesehatan")
    pool = WorkerPool(engine, registry(), context=handler_ctx)
    assert work(pool) == 3
    variables = engine.get_instance(actor("a", agency, "admin"), inst.id).variables
    assert variables["name_available"] is True
    assert variables["fqdn"] == f"dinas-kesehatan.{zone}"
    assert variables["dns_records"][0]["value"] == "192.0.2.80"
    assert dns_server.query(f"dinas-kesehatan.{zone}", "A") == ["192.0.2.80"]


def test_server_down_retries_then_incident_then_resumes(
    flow, engine, handler_ctx, dns_server, clock, admin, sessions
):
    inst = flow("kudus", "dinkes")
    pool = WorkerPool(engine, registry(), context=handler_ctx)
    assert work(pool, 2) == 2  # check + reserve while the server is up
    dns_server.stop()
    assert pool.run_once() == 1  # attempt 1
    [job] = jobs(sessions, inst.id)
    assert (job.state, job.retries) == ("available", 2)
    assert "tidak menjawab" in job.error_message and "did not answer" in job.error_message
    assert pool.run_once() == 0  # backing off
    for wait in (10, 60):
        clock.advance(seconds=wait + 1)
        assert pool.run_once() == 1
    [incident] = engine.incidents(admin)
    assert incident.kind == "failedExternalTask" and incident.element_id == "create_dns"
    assert f"127.0.0.1:{dns_server.port}" in incident.message
    assert "Server DNS" in incident.message and "did not answer" in incident.message
    assert engine.get_instance(admin, inst.id).state == "running"
    clock.advance(hours=1)
    assert pool.run_once() == 0  # nothing runs while the incident is open

    dns_server.start()
    engine.retry_incident(admin, incident.id)
    assert pool.run_once() == 1
    again = engine.get_instance(admin, inst.id)
    assert again.variables["fqdn"] == "dinkes.kuduskab.go.id"
    assert dns_server.query("dinkes.kuduskab.go.id", "A") == ["192.0.2.80"]
    assert [t.name for t in engine.inbox(actor("budi", "kudus", "technical_officer"))] == [
        "Periksa hasil"
    ]
    with sessions() as s:
        results = [r.result for r in s.scalars(select(DnsChange).order_by(DnsChange.id))]
        [reg] = s.scalars(select(Subdomain)).all()
    assert results == ["failed", "failed", "failed", "applied"]
    assert (reg.label, reg.state, reg.instance_id) == ("dinkes", "active", inst.id)


@pytest.mark.parametrize(
    ("key_settings", "code", "says"),
    [
        (
            {"TSIG_SOPFLOW_TEST": "c29wZmxvdy13cm9uZy1zZWNyZXQtc29wZmxvdy13cm9uZw=="},
            "BADSIG",
            "secret tidak cocok",
        ),
        (
            {"TSIG_OTHER_KEY": "c29wZmxvdy13cm9uZy1zZWNyZXQtc29wZmxvdy13cm9uZw=="},
            "BADKEY",
            "tidak mengenal nama kunci",
        ),
    ],
)
def test_a_rejected_tsig_key_becomes_an_incident_saying_so(
    flow, engine, handler_ctx, dns_server, configure_dns, clock, admin, key_settings, code, says
):
    from handlers.base import HandlerContext

    if code == "BADKEY":
        configure_dns(tsig_key_name="other-key", default_target="192.0.2.80")
    ctx = HandlerContext(clock=clock, sessions=handler_ctx.sessions, settings=key_settings)
    inst = flow("kudus", "dinkes")
    pool = WorkerPool(engine, registry(), context=ctx)
    assert work(pool, 2) == 2
    for _ in range(3):
        assert pool.run_once() == 1
        clock.advance(minutes=10)
    [incident] = engine.incidents(admin)
    assert code in incident.message and says in incident.message
    assert engine.get_instance(admin, inst.id).state == "running"
    assert dns_server.query("dinkes.kuduskab.go.id", "A") == []


def test_secrets_never_leave_the_configuration(
    flow, engine, handler_ctx, dns_server, clock, admin, sessions, caplog
):
    """Neither the good secret nor a wrong one shows up in job variables, history, incidents,
    audit rows or logs, through a failure and a success."""
    from handlers.base import HandlerContext

    caplog.set_level(logging.DEBUG)
    wrong = "c29wZmxvdy13cm9uZy1zZWNyZXQtc29wZmxvdy13cm9uZw=="
    bad_ctx = HandlerContext(clock=clock, sessions=sessions, settings={"TSIG_SOPFLOW_TEST": wrong})
    flow("kudus", "dinkes")
    bad = WorkerPool(engine, registry(), context=bad_ctx)
    assert work(bad, 2) == 2
    for _ in range(3):
        bad.run_once()
        clock.advance(minutes=10)
    [incident] = engine.incidents(admin)
    engine.retry_incident(admin, incident.id)
    assert WorkerPool(engine, registry(), context=handler_ctx).run_once() == 1
    assert dns_server.query("dinkes.kuduskab.go.id", "A") == ["192.0.2.80"]

    with sessions() as s:
        stored = json.dumps(
            [
                [h.data for h in s.scalars(select(HistoryEvent))],
                [(i.message, i.details) for i in s.scalars(select(Incident))],
                [
                    (j.variables, j.error_message, j.error_details)
                    for j in s.scalars(select(ExternalTask))
                ],
                [(p.variables, p.state_json) for p in s.scalars(select(ProcessInstance))],
                [(c.before, c.after, c.error) for c in s.scalars(select(DnsChange))],
            ],
            default=str,
        )
    assert "BADSIG" in stored  # the failure is there...
    for secret in (dns_server.key_secret, wrong):  # ...the secrets are not
        assert secret not in stored
        assert secret not in caplog.text
    assert "dinkes.kuduskab.go.id" in caplog.text
