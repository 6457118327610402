"""The Camunda parser keeps what a Camunda 7 diagram says about people, forms and workers."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from lxml import etree
from SpiffWorkflow.bpmn.specs.defaults import NoneTask

from engine.actors import Actor
from engine.bpmn.diagram import ParsedProcess
from engine.clock import FrozenClock
from engine.forms import Form
from engine.runtime import Engine, TopicRequest, topics_policy
from engine.spiff.parser import parse_io_parameter, retry_policy, split_list
from engine.spiff.serializer import Serializer
from engine.spiff.specs import ExternalServiceTask, SopflowDuration, SopflowUserTask

FEATURES = Path(__file__).resolve().parent.parent / "data" / "bpmn" / "crafted-parser-features.bpmn"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def parse(xml: bytes) -> ParsedProcess:
    engine = Engine(cast(Any, None), topics=topics_policy(["dns.create", "mail.send"]))
    (proc,) = engine.parse("features.bpmn", xml).processes
    return proc


@pytest.fixture(scope="module")
def features() -> ParsedProcess:
    return parse(FEATURES.read_bytes())


def fields(form: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["id"]: f for f in form["fields"]}


# --------------------------------------------------------------------------- user tasks


def check_user_task(spec: Any) -> None:
    review = spec.task_specs["review"]
    assert isinstance(review, SopflowUserTask)
    assert review.bpmn_name == "Tinjau permohonan"
    assert review.candidate_groups == ["technical_officer", "head_of_office"]
    assert review.candidate_users == ["budi"]
    assert review.assignee == "${initiator}"
    assert review.due_date == "${workdays(2)}"
    assert review.priority == "70"
    form = fields(review.form)
    assert list(form) == ["decision", "note", "subdomain"]
    assert form["decision"] == {
        "id": "decision",
        "label": "Keputusan",
        "type": "enum",
        "default": "approve",
        "properties": {},
        "constraints": {"required": None},
        "options": [["approve", "Setujui"], ["reject", "Tolak"]],
    }
    assert form["note"]["properties"] == {"widget": "textarea", "rows": "4"}
    assert form["note"]["constraints"] == {"maxlength": "500"}
    assert form["subdomain"]["constraints"] == {"readonly": None}


def test_user_task_keeps_people_and_form(features: ParsedProcess) -> None:
    check_user_task(features.spec)
    assert features.forms["review"].as_dict() == features.spec.task_specs["review"].form
    assert features.forms["review"].field("note").widget == "textarea"
    assert features.forms["review"].field("subdomain").readonly


def test_user_task_without_form_has_an_empty_one() -> None:
    proc = parse(_one_task('<bpmn:userTask id="t" camunda:candidateGroups=" a ,, b " />'))
    t = proc.spec.task_specs["t"]
    assert (t.candidate_groups, t.candidate_users, t.assignee) == (["a", "b"], [], None)
    assert t.form == {"fields": []}
    assert "t" not in proc.forms


# --------------------------------------------------------------------------- external tasks


def check_external_task(spec: Any) -> None:
    provision = spec.task_specs["provision"]
    assert isinstance(provision, ExternalServiceTask)
    assert provision.topic == "dns.create"
    assert provision.input_parameters == [
        ["host", "text", "${subdomain}"],
        ["ttl", "text", "3600"],
        ["records", "list", ["A", "${decision}"]],
        ["meta", "map", {"sites": "${sites}", "zone": "kudus.go.id"}],
    ]
    assert provision.output_parameters == [["dns_status", "text", "${status}"]]
    assert (provision.retries, provision.retry_interval) == (5, "PT1M")
    assert provision.priority == "5"


def test_external_task_keeps_topic_inputs_and_retry_cycle(features: ParsedProcess) -> None:
    check_external_task(features.spec)
    assert features.topics == {"dns.create"}


def test_external_task_without_extensions() -> None:
    proc = parse(
        _one_task('<bpmn:sendTask id="t" camunda:type="external" camunda:topic="mail.send" />')
    )
    t = proc.spec.task_specs["t"]
    assert isinstance(t, ExternalServiceTask)
    assert (t.topic, t.input_parameters, t.output_parameters) == ("mail.send", [], [])
    assert (t.retries, t.retry_interval, t.priority) == (None, None, None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("R5/PT1M", (5, "PT1M")),
        ("r3/pt5m", (3, "PT5M")),
        (" R3/PT10M \n", (3, "PT10M")),
        ("R0/PT1M", (0, "PT1M")),
        ("R5", (5, None)),
        ("PT5M", (None, None)),
        ("Rx/PT5M", (None, None)),
        ("", (None, None)),
        (None, (None, None)),
    ],
)
def test_retry_policy(text: str | None, expected: tuple[Any, Any]) -> None:
    cycle = (
        ""
        if text is None
        else f"<camunda:failedJobRetryTimeCycle>{text}</camunda:failedJobRetryTimeCycle>"
    )
    node = etree.fromstring(
        f'<bpmn:serviceTask xmlns:bpmn="{BPMN}" xmlns:camunda="{CAMUNDA}" id="t">'
        f"<bpmn:extensionElements>{cycle}</bpmn:extensionElements></bpmn:serviceTask>"
    )
    assert retry_policy(node) == expected


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        (
            '<camunda:inputParameter name="a">  ${x}\n</camunda:inputParameter>',
            ["a", "text", "${x}"],
        ),
        ('<camunda:inputParameter name="a" />', ["a", "text", ""]),
        (
            '<camunda:inputParameter name="l"><camunda:list><camunda:value>1</camunda:value>'
            "<camunda:value /></camunda:list></camunda:inputParameter>",
            ["l", "list", ["1", ""]],
        ),
        (
            '<camunda:inputParameter name="m"><camunda:map><camunda:entry key="k">v'
            '</camunda:entry><camunda:entry key="e" /></camunda:map></camunda:inputParameter>',
            ["m", "map", {"k": "v", "e": ""}],
        ),
    ],
    ids=["text", "empty", "list", "map"],
)
def test_parse_io_parameter(xml: str, expected: list[Any]) -> None:
    el = etree.fromstring(
        xml.replace(
            "<camunda:inputParameter", f'<camunda:inputParameter xmlns:camunda="{CAMUNDA}"', 1
        )
    )
    assert parse_io_parameter(el) == expected


def test_split_list() -> None:
    assert split_list(" a, ,b ,c") == ["a", "b", "c"]
    assert split_list(None) == [] and split_list("") == []


# --------------------------------------------------------------------------- process level


def test_start_form_becomes_the_definitions_start_form(features: ParsedProcess) -> None:
    form = features.start_form
    assert isinstance(form, Form)
    assert form.as_dict() == features.forms["start"].as_dict()
    start = fields(form.as_dict())
    assert list(start) == ["applicant_name", "subdomain", "go_live", "sites", "agree"]
    assert start["applicant_name"]["constraints"] == {"required": None, "maxlength": "80"}
    assert start["subdomain"]["constraints"] == {
        "required": None,
        "minlength": "3",
        "pattern": "[a-z0-9-]+",
    }
    assert (start["go_live"]["type"], start["go_live"]["constraints"]) == (
        "date",
        {"min": "2026-01-01", "max": "2027-12-31"},
    )
    assert (start["sites"]["type"], start["sites"]["default"]) == ("long", "2")
    assert (start["agree"]["type"], start["agree"]["default"]) == ("boolean", "true")


def test_process_attributes_and_initiator(features: ParsedProcess) -> None:
    assert (features.key, features.name) == ("parser_features", "Fitur parser")
    assert (features.version_tag, features.history_ttl) == ("v1.2", 180)
    assert features.properties == {"sla": "${workdays(7)}", "initiator": "initiator"}


def test_initiator_variable_name_is_kept() -> None:
    xml = _one_task('<bpmn:userTask id="t" camunda:assignee="${applicant}" />').replace(
        b'<bpmn:startEvent id="start" />',
        b'<bpmn:startEvent id="start" camunda:initiator="applicant" />',
    )
    proc = parse(xml)
    assert proc.properties == {"initiator": "applicant"}
    assert proc.start_form.as_dict() == {"fields": []}


def test_no_initiator_no_property() -> None:
    proc = parse(_one_task('<bpmn:userTask id="t" camunda:candidateGroups="a" />'))
    assert proc.properties == {} and proc.version_tag is None and proc.history_ttl is None


def test_timers_and_manual_tasks(dialect_xml: bytes) -> None:
    proc = parse(dialect_xml)
    sla = proc.spec.task_specs["sla"]
    assert isinstance(sla.event_definition, SopflowDuration)
    assert sla.event_definition.expression == "${workdays(3)}"
    assert sla.cancel_activity is False
    manual = parse(_one_task('<bpmn:manualTask id="t" />')).spec.task_specs["t"]
    assert isinstance(manual, NoneTask)  # Camunda runs manual tasks straight through


def test_everything_survives_the_stored_spec(features: ParsedProcess) -> None:
    """Deploy stores the serialized spec; every run loads it back from there."""
    serializer = Serializer()
    text = serializer.dump_spec(features.spec, features.subprocess_specs)
    spec, _subs = serializer.load_spec("parser_features:1:x", text)
    check_user_task(spec)
    check_external_task(spec)


# --------------------------------------------------------------------------- at run time


def test_parsed_attributes_drive_the_runtime(
    engine: Engine, admin: Any, clock: FrozenClock
) -> None:
    engine.deploy(admin, [("features.bpmn", FEATURES.read_bytes())])
    ani = Actor("ani", "kudus", frozenset({"applicant"}))
    inst = engine.start(
        ani,
        "parser_features",
        values={"applicant_name": "Ani", "subdomain": "ppid-kudus", "go_live": "2026-12-01"},
    )
    assert inst.variables["initiator"] == "ani"
    assert inst.variables["sites"] == 2 and inst.variables["agree"] is True
    assert inst.sla_due_at == clock.now() + timedelta(days=9)  # 7 working days from a Monday

    (task,) = engine.inbox(ani, instance_id=inst.id)
    assert task.assignee == "ani"
    assert sorted(task.candidate_groups) == ["head_of_office", "technical_officer"]
    assert task.candidate_users == ["budi"]
    assert task.priority == 70
    assert task.due_at == clock.now() + timedelta(days=2)
    assert [f["id"] for f in task.form["fields"]] == ["decision", "note", "subdomain"]

    engine.complete_task(ani, task.id, {"decision": "approve", "subdomain": "changed"})
    (job,) = engine.fetch_and_lock("w", [TopicRequest("dns.create")])
    assert job.variables["host"] == "ppid-kudus"  # read-only field kept its value
    assert job.variables["ttl"] == "3600"
    assert job.variables["records"] == ["A", "approve"]
    assert job.variables["meta"] == {"sites": 2, "zone": "kudus.go.id"}

    engine.complete_external("w", job.id, {"status": "NOERROR"})
    inst = engine.get_instance(admin, inst.id)
    assert inst.state == "completed"
    assert inst.variables["dns_status"] == "NOERROR"


# --------------------------------------------------------------------------- helpers


def _one_task(task: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="{BPMN}" xmlns:camunda="{CAMUNDA}" id="d" targetNamespace="x">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="t" />
    {task}
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>
""".encode()
