"""The version diff (engine.versions): each kind of change an administrator must see before
activating a version is reported, and an unchanged diagram gives an empty diff."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import DeployError
from engine.versions import Change, VersionDiff, diff_definitions

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"

START_FIELDS = """
<camunda:formField id="subdomain" label="Nama subdomain" type="string">
  <camunda:validation>
    <camunda:constraint name="required" />
    <camunda:constraint name="maxlength" config="63" />
  </camunda:validation>
</camunda:formField>
<camunda:formField id="kind" label="Jenis" type="enum" defaultValue="web">
  <camunda:value id="web" name="Website" /><camunda:value id="mail" name="Surel" />
</camunda:formField>
"""
TASK_FIELDS = """
<camunda:formField id="approved" label="Disetujui" type="boolean" defaultValue="false" />
"""
TIMER = (
    '<bpmn:timerEventDefinition id="td"><bpmn:timeDuration>P3D</bpmn:timeDuration>'
    "</bpmn:timerEventDefinition>"
)
CONDITION = (
    '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${approved}'
    "</bpmn:conditionExpression>"
)
DEFAULTS = {
    "start_fields": START_FIELDS,
    "task_fields": TASK_FIELDS,
    "review_name": "Periksa permohonan",
    "review_type": "userTask",
    "groups": "head_of_section",
    "topic": "dns.create",
    "timer": TIMER,
    "condition": CONDITION,
    "extra": "",
    "review_target": "review",
}


def diagram(**changes: str) -> bytes:
    p = {**DEFAULTS, **changes}
    groups = f' camunda:candidateGroups="{p["groups"]}"' if p["groups"] else ""
    task_form = (
        f"<bpmn:extensionElements><camunda:formData>{p['task_fields']}"
        "</camunda:formData></bpmn:extensionElements>"
        if p["review_type"] == "userTask"
        else ""
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs" targetNamespace="x">
  <bpmn:process id="demo" isExecutable="true">
    <bpmn:startEvent id="start" name="Diajukan">
      <bpmn:extensionElements><camunda:formData>{p["start_fields"]}</camunda:formData></bpmn:extensionElements>
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="{p["review_target"]}" />
    <bpmn:{p["review_type"]} id="review" name="{p["review_name"]}"{groups}>
      {task_form}
    </bpmn:{p["review_type"]}>
    <bpmn:boundaryEvent id="late" name="Terlambat" attachedToRef="review"
        cancelActivity="false">{p["timer"]}</bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="gw" />
    <bpmn:exclusiveGateway id="gw" name="Disetujui?" default="f4" />
    <bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="dns">{p["condition"]}</bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f4" sourceRef="gw" targetRef="end" />
    <bpmn:serviceTask id="dns" name="Buat DNS" camunda:type="external"
        camunda:topic="{p["topic"]}" />
    <bpmn:sequenceFlow id="f5" sourceRef="dns" targetRef="end" />
    {p["extra"]}
    <bpmn:endEvent id="end" name="Selesai" />
  </bpmn:process>
</bpmn:definitions>""".encode()


def element_changes(d: VersionDiff, element_id: str) -> dict[str, Change]:
    [el] = [e for e in d.changed_elements if e.id == element_id]
    return {c.attribute: c for c in el.changes}


def field_changes(d: VersionDiff, form: str, field_id: str) -> dict[str, Change]:
    [f] = [f for f in d.changed_fields if f.form == form and f.field == field_id]
    return {c.attribute: c for c in f.changes}


def test_identical_diagrams_give_an_empty_diff() -> None:
    d = diff_definitions(diagram(), diagram())
    assert d.empty and not d
    assert d == VersionDiff()


def test_whitespace_and_formatting_are_not_changes() -> None:
    reformatted = diagram(review_name="Periksa\n        permohonan").replace(b"  ", b"\t")
    assert diff_definitions(diagram(), reformatted).empty


def test_the_real_kudus_diagram_against_itself_is_empty() -> None:
    xml = (BPMN_DIR / "kudus.bpmn").read_bytes()
    assert diff_definitions(xml, xml, "kudus").empty


def test_added_and_removed_elements() -> None:
    extra = (
        '<bpmn:manualTask id="archive" name="Arsipkan" />'
        '<bpmn:sequenceFlow id="f6" sourceRef="archive" targetRef="end" />'
    )
    d = diff_definitions(diagram(), diagram(extra=extra))
    assert [(e.id, e.type, e.name) for e in d.added_elements] == [
        ("archive", "manualTask", "Arsipkan"),
        ("f6", "sequenceFlow", None),
    ]
    assert d.removed_elements == []
    assert element_changes(d, "end") == {"incoming": Change("incoming", "f4, f5", "f4, f5, f6")}
    back = diff_definitions(diagram(extra=extra), diagram())
    assert [e.id for e in back.removed_elements] == ["archive", "f6"]
    assert back.added_elements == []


def test_renamed_element() -> None:
    d = diff_definitions(diagram(), diagram(review_name="Verifikasi permohonan"))
    assert element_changes(d, "review") == {
        "name": Change("name", "Periksa permohonan", "Verifikasi permohonan")
    }
    assert [e.name for e in d.changed_elements] == ["Verifikasi permohonan"]


def test_changed_element_type() -> None:
    d = diff_definitions(diagram(), diagram(review_type="manualTask", groups=""))
    changes = element_changes(d, "review")
    assert changes["type"] == Change("type", "userTask", "manualTask")
    assert changes["candidateGroups"] == Change("candidateGroups", "head_of_section", None)
    # a manual task has no form: the task's field goes away with it
    assert [(f.form, f.field) for f in d.removed_fields] == [("review", "approved")]


def test_candidate_groups_and_assignee() -> None:
    d = diff_definitions(diagram(), diagram(groups="head_of_division, head_of_section"))
    assert element_changes(d, "review") == {
        "candidateGroups": Change(
            "candidateGroups", "head_of_section", "head_of_division, head_of_section"
        )
    }
    # the order of the list is not a change
    same = diff_definitions(
        diagram(groups="head_of_section,head_of_division"),
        diagram(groups="head_of_division, head_of_section"),
    )
    assert same.empty
    assigned = diagram().replace(b'id="review"', b'id="review" camunda:assignee="kasi"')
    assert element_changes(diff_definitions(diagram(), assigned), "review") == {
        "assignee": Change("assignee", None, "kasi")
    }


def test_service_task_topic() -> None:
    d = diff_definitions(diagram(), diagram(topic="dns.change"))
    assert element_changes(d, "dns") == {"topic": Change("topic", "dns.create", "dns.change")}


def test_timer_definition() -> None:
    new_timer = TIMER.replace("P3D", "P5D")
    d = diff_definitions(diagram(), diagram(timer=new_timer))
    assert element_changes(d, "late") == {
        "timer": Change("timer", "timeDuration=P3D", "timeDuration=P5D")
    }
    cycle = (
        '<bpmn:timerEventDefinition id="td"><bpmn:timeCycle>R3/PT1H</bpmn:timeCycle>'
        "</bpmn:timerEventDefinition>"
    )
    assert element_changes(diff_definitions(diagram(), diagram(timer=cycle)), "late") == {
        "timer": Change("timer", "timeDuration=P3D", "timeCycle=R3/PT1H")
    }


def test_condition_expression() -> None:
    d = diff_definitions(diagram(), diagram(condition=CONDITION.replace("approved", "ok")))
    assert element_changes(d, "f3") == {"condition": Change("condition", "${approved}", "${ok}")}
    dropped = diff_definitions(diagram(), diagram(condition=""))
    assert element_changes(dropped, "f3") == {"condition": Change("condition", "${approved}", None)}


def test_rerouted_flow_changes_the_flow_and_both_ends() -> None:
    d = diff_definitions(diagram(), diagram(review_target="dns"))
    assert element_changes(d, "f1") == {"targetRef": Change("targetRef", "review", "dns")}
    assert element_changes(d, "review")["incoming"] == Change("incoming", "f1", None)
    assert element_changes(d, "dns")["incoming"] == Change("incoming", "f3", "f1, f3")


def test_form_field_label_type_and_default() -> None:
    fields = START_FIELDS.replace(
        'label="Nama subdomain"', 'label="Subdomain yang diminta"'
    ).replace('type="enum" defaultValue="web"', 'type="enum" defaultValue="mail"')
    d = diff_definitions(diagram(), diagram(start_fields=fields))
    assert field_changes(d, "start", "subdomain") == {
        "label": Change("label", "Nama subdomain", "Subdomain yang diminta")
    }
    assert field_changes(d, "start", "kind") == {"default": Change("default", "web", "mail")}
    assert d.changed_elements == []  # the diagram's flow did not change
    typed = TASK_FIELDS.replace('type="boolean" defaultValue="false"', 'type="string"')
    changes = field_changes(
        diff_definitions(diagram(), diagram(task_fields=typed)), "review", "approved"
    )
    assert changes == {
        "type": Change("type", "boolean", "string"),
        "default": Change("default", "false", None),
    }


def test_form_field_required_and_validation() -> None:
    fields = START_FIELDS.replace('<camunda:constraint name="required" />', "").replace(
        'config="63"', 'config="40"'
    )
    d = diff_definitions(diagram(), diagram(start_fields=fields))
    assert field_changes(d, "start", "subdomain") == {
        "required": Change("required", "true", "false"),
        "validation": Change("validation", "maxlength=63", "maxlength=40"),
    }
    [changed] = d.changed_fields
    assert (changed.form_name, changed.label) == ("Diajukan", "Nama subdomain")


def test_form_field_enum_values() -> None:
    fields = START_FIELDS.replace(
        '<camunda:value id="mail" name="Surel" />',
        '<camunda:value id="mail" name="E-mail" /><camunda:value id="app" name="Aplikasi" />',
    )
    d = diff_definitions(diagram(), diagram(start_fields=fields))
    assert field_changes(d, "start", "kind") == {
        "options": Change(
            "options", "web=Website, mail=Surel", "web=Website, mail=E-mail, app=Aplikasi"
        )
    }


def test_form_fields_added_and_removed() -> None:
    more = TASK_FIELDS + '<camunda:formField id="note" label="Catatan" type="string" />'
    d = diff_definitions(diagram(), diagram(task_fields=more))
    assert [(f.form, f.form_name, f.field, f.label) for f in d.added_fields] == [
        ("review", "Periksa permohonan", "note", "Catatan")
    ]
    assert d.removed_fields == [] and d.changed_fields == []
    back = diff_definitions(diagram(task_fields=more), diagram())
    assert [(f.form, f.field) for f in back.removed_fields] == [("review", "note")]


def test_only_the_named_process_is_compared() -> None:
    other = b'<bpmn:process id="other"><bpmn:task id="t1" name="Lain" /></bpmn:process>'
    new = diagram().replace(b"</bpmn:definitions>", other + b"</bpmn:definitions>")
    assert diff_definitions(diagram(), new, "demo").empty
    assert [e.id for e in diff_definitions(diagram(), new).added_elements] == ["t1"]


def test_xml_with_a_doctype_is_refused() -> None:
    evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]>' + diagram().split(b"?>", 1)[1]
    with pytest.raises(DeployError):
        diff_definitions(diagram(), evil)
