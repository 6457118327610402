"""Element ids SpiffWorkflow uses for its own task specs (``Start``, ``End``, ``Root``,
``<process>.EndJoin``, ``StartEventSplit``/``Join``, ``<id>.BoundaryEventSplit``/``Join``) run
like any other id, and sopflow reports the BPMN id everywhere (engine/spiff/reserved.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

from engine.actors import Actor
from engine.bpmn.diagram import _locate
from engine.bpmn.xml import safe_parse
from engine.clock import FrozenClock
from engine.runtime import Engine
from engine.spiff.reserved import MARK, RESERVED_NAMES, internal_tree, is_reserved
from engine.spiff.serializer import Serializer

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
SLOTS = ("start", "task", "boundary", "late", "gateway", "sub", "sub_start", "sub_end", "task2")
SLOTS += ("end",)


def diagram(key: str = "rsv", **ids: str) -> bytes:
    """start → task (boundary timer → late) → gateway → (skip: end | default: sub → task2 → end),
    with the diagram shapes bpmn-js writes, so every kind of reference to an id is exercised."""
    i = {slot: ids.get(slot, slot) for slot in SLOTS}
    shapes = "".join(
        f'<bpmndi:BPMNShape id="{slot}_di" bpmnElement="{i[slot]}">'
        f'<dc:Bounds x="{n * 100}" y="{n * 10}" width="36" height="36" /></bpmndi:BPMNShape>'
        for n, slot in enumerate(SLOTS)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="{BPMN}" xmlns:camunda="{CAMUNDA}"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
  xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" id="D" targetNamespace="x">
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="lane" name="Seksi TI">
      <bpmn:flowNodeRef>{i["task"]}</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>{i["task2"]}</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="{i["start"]}" name="Mulai"><bpmn:outgoing>f1</bpmn:outgoing>
      </bpmn:startEvent>
    <bpmn:userTask id="{i["task"]}" name="Periksa" camunda:candidateGroups="admin">
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="skip" label="Lewati" type="boolean" /></camunda:formData>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:boundaryEvent id="{i["boundary"]}" attachedToRef="{i["task"]}">
      <bpmn:outgoing>f_late</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>P10D</bpmn:timeDuration>
      </bpmn:timerEventDefinition></bpmn:boundaryEvent>
    <bpmn:endEvent id="{i["late"]}"><bpmn:incoming>f_late</bpmn:incoming></bpmn:endEvent>
    <bpmn:exclusiveGateway id="{i["gateway"]}" default="f3">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:outgoing>f_skip</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:subProcess id="{i["sub"]}">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:startEvent id="{i["sub_start"]}"><bpmn:outgoing>s1</bpmn:outgoing></bpmn:startEvent>
      <bpmn:endEvent id="{i["sub_end"]}"><bpmn:incoming>s1</bpmn:incoming></bpmn:endEvent>
      <bpmn:sequenceFlow id="s1" sourceRef="{i["sub_start"]}" targetRef="{i["sub_end"]}" />
    </bpmn:subProcess>
    <bpmn:userTask id="{i["task2"]}" name="Setujui" camunda:candidateGroups="admin">
      <bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="{i["end"]}"><bpmn:incoming>f5</bpmn:incoming>
      <bpmn:incoming>f_skip</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="{i["start"]}" targetRef="{i["task"]}" />
    <bpmn:sequenceFlow id="f2" sourceRef="{i["task"]}" targetRef="{i["gateway"]}" />
    <bpmn:sequenceFlow id="f3" sourceRef="{i["gateway"]}" targetRef="{i["sub"]}" />
    <bpmn:sequenceFlow id="f_skip" sourceRef="{i["gateway"]}" targetRef="{i["end"]}">
      <bpmn:conditionExpression>${{skip == true}}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f4" sourceRef="{i["sub"]}" targetRef="{i["task2"]}" />
    <bpmn:sequenceFlow id="f5" sourceRef="{i["task2"]}" targetRef="{i["end"]}" />
    <bpmn:sequenceFlow id="f_late" sourceRef="{i["boundary"]}" targetRef="{i["late"]}" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="dia"><bpmndi:BPMNPlane id="plane" bpmnElement="{key}">
    {shapes}</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>
""".encode()


# every reserved name, in every kind of element, in two diagrams (plus a control)
CASES = {
    "plain": {},
    "reserved-a": {
        "start": "Start",
        "task": "Root",
        "boundary": "Root.BoundaryEventJoin",
        "late": "End.BoundaryEventSplit",
        "gateway": "StartEventSplit",
        "sub": "StartEventJoin",
        "sub_end": "StartEventJoin.EndJoin",
        "task2": "End",
        "end": "rsv.EndJoin",
    },
    "reserved-b": {
        "start": "StartEventJoin",
        "task": "End",
        "boundary": "End.BoundaryEventSplit",
        "late": "Root",
        "gateway": "Root.BoundaryEventSplit",
        "sub": "Start",
        "sub_start": "StartEventSplit",
        "sub_end": "Start.EndJoin",
        "task2": "x.BoundaryEventSplit",
        "end": "End.BoundaryEventJoin",
    },
    "reserved-ends": {"start": "Start", "end": "End"},
}


def test_every_name_spiffworkflow_reserves_is_recognised() -> None:
    used = {v for case in CASES.values() for v in case.values()}
    assert used >= RESERVED_NAMES
    for suffix in (".EndJoin", ".BoundaryEventSplit", ".BoundaryEventJoin"):
        assert any(v.endswith(suffix) for v in used)
    assert all(is_reserved(v) for v in used)
    assert not is_reserved("start") and not is_reserved("Start_1") and not is_reserved(None)


def test_an_ordinary_diagram_is_parsed_as_it_is() -> None:
    tree = safe_parse(diagram())
    assert internal_tree(tree) == (tree, {})


@pytest.mark.parametrize("case", sorted(CASES))
def test_reserved_ids_run_and_are_reported_as_written(
    engine: Engine, admin: Actor, case: str
) -> None:
    ids = {slot: CASES[case].get(slot, slot) for slot in SLOTS}
    (definition,) = engine.deploy(admin, [(f"{case}.bpmn", diagram(**CASES[case]))]).deployed
    inst = engine.start(admin, "rsv")
    (task,) = engine.inbox(admin, instance_id=inst.id)
    assert task.element_id == ids["task"]
    assert task.lane == "Seksi TI"
    done, waiting = engine.element_states(admin, inst.id)
    assert ids["start"] in done and ids["task"] in waiting and ids["boundary"] in waiting

    engine.complete_task(admin, task.id, {"skip": False})
    (task2,) = engine.inbox(admin, instance_id=inst.id)
    assert task2.element_id == ids["task2"]
    engine.complete_task(admin, task2.id, {})
    assert engine.get_instance(admin, inst.id).state == "completed"

    done, waiting = engine.element_states(admin, inst.id)
    expected = {ids[s] for s in SLOTS if s not in ("boundary", "late")}
    assert expected <= done and not waiting
    assert not any(MARK in e for e in done)
    elements = {h.element_id for h in engine.history(admin, inst.id) if h.element_id}
    assert {ids["task"], ids["task2"]} <= elements
    assert not any(MARK in e for e in elements)
    names = engine.element_names(admin, definition.id)
    assert names[ids["task"]] == "Periksa" and names[ids["start"]] == "Mulai"


@pytest.mark.parametrize("case", ["reserved-a", "reserved-b"])
def test_a_reserved_boundary_timer_fires_under_its_own_id(
    engine: Engine, admin: Actor, clock: FrozenClock, case: str
) -> None:
    ids = {slot: CASES[case].get(slot, slot) for slot in SLOTS}
    engine.deploy(admin, [(f"{case}.bpmn", diagram(**CASES[case]))])
    inst = engine.start(admin, "rsv")
    clock.advance(timedelta(days=11))
    assert engine.fire_due_timers() == 1
    assert engine.get_instance(admin, inst.id).state == "completed"
    fired = [h.element_id for h in engine.history(admin, inst.id) if h.kind == "timer_fired"]
    assert fired == [ids["boundary"]]
    done, _ = engine.element_states(admin, inst.id)
    assert {ids["boundary"], ids["late"]} <= done and ids["task"] not in done


def test_the_stored_spec_keeps_the_bpmn_ids(engine: Engine) -> None:
    (proc,) = engine.parse("a.bpmn", diagram(**CASES["reserved-a"])).processes
    serializer = Serializer()
    text = serializer.dump_spec(proc.spec, proc.subprocess_specs)
    spec, subs = serializer.load_spec("k", text)
    bpmn_ids = {
        getattr(ts, "bpmn_id", None) for s in (spec, *subs.values()) for ts in s.task_specs.values()
    }
    assert set(CASES["reserved-a"].values()) <= bpmn_ids
    assert not any(MARK in b for b in bpmn_ids if b)


def test_a_problem_spiffworkflow_finds_names_the_bpmn_id() -> None:
    tree = safe_parse(diagram(start="Start"))
    internal, renamed = internal_tree(tree)
    (node,) = internal.getroot().xpath("//*[@id=$i]", i="Start" + MARK)
    exc = ValidationException(f"Trouble at {node.get('id')}", node=node, file_name="a.bpmn")
    problem = _locate(tree.getroot(), exc, "a.bpmn", renamed)
    assert problem.element_id == "Start" and problem.line == node.sourceline
    assert MARK not in str(problem) and "Trouble at Start" in str(problem)
