"""What changed between two versions of a process: BPMN elements and form fields.

An administrator about to activate (or roll back to) a version needs to see what the switch
means for new requests, in the terms of the diagram: which steps appeared or went away, whose
inbox a step now lands in, which topic a service task calls, which timers and conditions moved,
and which form fields an applicant or officer now sees differently. The diff is computed from
the stored BPMN XML (parsed with the same DTD-refusing parser as a deployment), so it works for
any two stored versions, including ones deployed before a field was added to the form JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from lxml import etree

from .bpmn.namespaces import BPMN as _B
from .bpmn.namespaces import CAMUNDA as _C
from .bpmn.xml import safe_parse
from .forms import FormField, parse_form

# Not steps of their own: containers, and parts that are reported on their owning element.
_SKIPPED = frozenset(
    {
        "laneSet",
        "lane",
        "childLaneSet",
        "incoming",
        "outgoing",
        "conditionExpression",
        "documentation",
        "extensionElements",
        "multiInstanceLoopCharacteristics",
        "standardLoopCharacteristics",
        "ioSpecification",
        "dataInput",
        "dataOutput",
        "inputSet",
        "outputSet",
        "dataInputAssociation",
        "dataOutputAssociation",
        "property",
        "script",
        "timeDuration",
        "timeDate",
        "timeCycle",
        "condition",
        "text",
        "textAnnotation",
        "association",
    }
)
_TIMER_PARTS = ("timeDuration", "timeDate", "timeCycle")
_ASSIGNMENT = ("candidateGroups", "candidateUsers", "assignee", "topic")
_FORM_OWNERS = frozenset({"userTask", "startEvent"})


@dataclass(frozen=True)
class Change:
    """One attribute that differs; ``None`` on a side where it is absent."""

    attribute: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class ElementChange:
    id: str
    type: str
    name: str | None
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True)
class FieldChange:
    form: str  # id of the user task or start event that owns the form
    form_name: str | None
    field: str
    label: str
    changes: tuple[Change, ...] = ()


@dataclass
class VersionDiff:
    added_elements: list[ElementChange] = field(default_factory=list)
    removed_elements: list[ElementChange] = field(default_factory=list)
    changed_elements: list[ElementChange] = field(default_factory=list)
    added_fields: list[FieldChange] = field(default_factory=list)
    removed_fields: list[FieldChange] = field(default_factory=list)
    changed_fields: list[FieldChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (
            self.added_elements
            or self.removed_elements
            or self.changed_elements
            or self.added_fields
            or self.removed_fields
            or self.changed_fields
        )

    def __bool__(self) -> bool:
        return not self.empty


@dataclass(frozen=True)
class _Element:
    id: str
    type: str
    name: str | None
    facts: Mapping[str, str]


@dataclass(frozen=True)
class _Diagram:
    elements: dict[str, _Element]
    forms: dict[str, tuple[str | None, dict[str, FormField]]]  # owner -> (owner name, fields)


def diff_definitions(
    old_xml: bytes | str, new_xml: bytes | str, process_key: str | None = None
) -> VersionDiff:
    """Elements and form fields added, removed and changed from ``old_xml`` to ``new_xml``.

    With ``process_key`` only that process of each file is compared (a file may hold several
    processes, each its own definition); without it, every process of the file.
    """
    old, new = _read(old_xml, process_key), _read(new_xml, process_key)
    out = VersionDiff()
    for eid in _ordered(new.elements, old.elements):
        a, b = old.elements.get(eid), new.elements.get(eid)
        if a is None and b is not None:
            out.added_elements.append(ElementChange(b.id, b.type, b.name))
        elif b is None and a is not None:
            out.removed_elements.append(ElementChange(a.id, a.type, a.name))
        elif a is not None and b is not None:
            changes = _compare(a.facts, b.facts)
            if changes:
                out.changed_elements.append(ElementChange(b.id, b.type, b.name, changes))
    for owner in _ordered(new.forms, old.forms):
        old_name, old_fields = old.forms.get(owner, (None, {}))
        new_name, new_fields = new.forms.get(owner, (None, {}))
        name = new_name or old_name
        for fid in _ordered(new_fields, old_fields):
            fa, fb = old_fields.get(fid), new_fields.get(fid)
            if fa is None and fb is not None:
                out.added_fields.append(FieldChange(owner, name, fid, fb.label))
            elif fb is None and fa is not None:
                out.removed_fields.append(FieldChange(owner, name, fid, fa.label))
            elif fa is not None and fb is not None:
                changes = _compare(_field_facts(fa), _field_facts(fb))
                if changes:
                    out.changed_fields.append(FieldChange(owner, name, fid, fb.label, changes))
    return out


def _ordered(primary: Mapping[str, object], secondary: Mapping[str, object]) -> list[str]:
    """Keys in document order of the newer diagram, then the ones only the older one has."""
    return [*primary, *(k for k in secondary if k not in primary)]


def _compare(old: Mapping[str, str], new: Mapping[str, str]) -> tuple[Change, ...]:
    return tuple(
        Change(k, old.get(k), new.get(k)) for k in _ordered(new, old) if old.get(k) != new.get(k)
    )


def _read(xml: bytes | str, process_key: str | None) -> _Diagram:
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    root = safe_parse(data).getroot()
    processes = [
        p for p in root.iter(f"{_B}process") if process_key is None or p.get("id") == process_key
    ]
    elements: dict[str, _Element] = {}
    forms: dict[str, tuple[str | None, dict[str, FormField]]] = {}
    for proc in processes:
        flows = list(proc.iter(f"{_B}sequenceFlow"))
        incoming: dict[str, list[str]] = {}
        outgoing: dict[str, list[str]] = {}
        for f in flows:
            fid = f.get("id") or ""
            incoming.setdefault(f.get("targetRef") or "", []).append(fid)
            outgoing.setdefault(f.get("sourceRef") or "", []).append(fid)
        for el in proc.iter():
            if not isinstance(el.tag, str) or not el.tag.startswith(_B):
                continue
            kind = el.tag[len(_B) :]
            eid = el.get("id")
            if el is proc or not eid or kind in _SKIPPED or kind.endswith("EventDefinition"):
                continue
            facts = _facts(el, kind, root, incoming.get(eid, []), outgoing.get(eid, []))
            elements[eid] = _Element(eid, kind, _name(el), facts)
            if kind in _FORM_OWNERS:
                form, _problems = parse_form(el)
                if form.fields:
                    forms[eid] = (_name(el), {f.id: f for f in form.fields})
    return _Diagram(elements, forms)


def _name(el: etree._Element) -> str | None:
    name = el.get("name")
    return " ".join(name.split()) if name else None


def _text(el: etree._Element | None) -> str | None:
    if el is None:
        return None
    return " ".join("".join(el.itertext()).split()) or None


def _facts(
    el: etree._Element,
    kind: str,
    root: etree._Element,
    incoming: Iterable[str],
    outgoing: Iterable[str],
) -> dict[str, str]:
    facts: dict[str, str] = {"type": kind}
    name = _name(el)
    if name:
        facts["name"] = name
    for attr in _ASSIGNMENT:
        value = el.get(f"{_C}{attr}")
        if value:
            facts[attr] = ", ".join(sorted(v.strip() for v in value.split(",") if v.strip()))
    if el.get(f"{_C}type"):
        facts["implementation"] = el.get(f"{_C}type") or ""
    for attr in ("attachedToRef", "cancelActivity", "default", "calledElement"):
        value = el.get(attr)
        if value:
            facts[attr] = value
    if kind == "sequenceFlow":
        facts["sourceRef"] = el.get("sourceRef") or ""
        facts["targetRef"] = el.get("targetRef") or ""
        condition = _text(el.find(f"{_B}conditionExpression"))
        if condition:
            facts["condition"] = condition
    else:
        if incoming:
            facts["incoming"] = ", ".join(sorted(incoming))
        if outgoing:
            facts["outgoing"] = ", ".join(sorted(outgoing))
    events = []
    for child in el:
        if not isinstance(child.tag, str) or not child.tag.startswith(_B):
            continue
        ckind = child.tag[len(_B) :]
        if ckind == "timerEventDefinition":
            parts = [
                f"{p}={_text(child.find(f'{_B}{p}')) or ''}"
                for p in _TIMER_PARTS
                if child.find(f"{_B}{p}") is not None
            ]
            facts["timer"] = "; ".join(parts)
        elif ckind == "conditionalEventDefinition":
            facts["condition"] = _text(child.find(f"{_B}condition")) or ""
        elif ckind == "messageEventDefinition":
            events.append(f"message:{_ref_name(root, 'message', child.get('messageRef'))}")
        elif ckind == "errorEventDefinition":
            events.append(f"error:{_error_code(root, child.get('errorRef'))}")
        elif ckind == "signalEventDefinition":
            events.append(f"signal:{_ref_name(root, 'signal', child.get('signalRef'))}")
        elif ckind.endswith("EventDefinition"):
            events.append(ckind[: -len("EventDefinition")])
        elif ckind == "script":
            facts["script"] = _text(child) or ""
    if kind == "receiveTask" and el.get("messageRef"):
        events.append(f"message:{_ref_name(root, 'message', el.get('messageRef'))}")
    if events:
        facts["event"] = ", ".join(events)
    return facts


def _ref_name(root: etree._Element, tag: str, ref: str | None) -> str:
    if not ref:
        return ""
    for el in root.iter(f"{_B}{tag}"):
        if el.get("id") == ref:
            return el.get("name") or ref
    return ref


def _error_code(root: etree._Element, ref: str | None) -> str:
    if not ref:
        return ""
    for el in root.iter(f"{_B}error"):
        if el.get("id") == ref:
            return el.get("errorCode") or el.get("name") or ref
    return ref


def _field_facts(f: FormField) -> dict[str, str]:
    facts = {"label": f.label, "type": f.type}
    if f.default is not None:
        facts["default"] = f.default
    facts["required"] = "true" if f.required else "false"
    validation = [
        f"{k}={v}" if v is not None else k
        for k, v in sorted(f.constraints.items())
        if k != "required"
    ]
    if validation:
        facts["validation"] = ", ".join(validation)
    if f.options:
        facts["options"] = ", ".join(f"{k}={v}" for k, v in f.options)
    if f.properties:
        facts["properties"] = ", ".join(f"{k}={v}" for k, v in sorted(f.properties.items()))
    return facts
