"""BPMN ids that SpiffWorkflow uses for its own task specs, renamed before it parses a diagram.

Why: SpiffWorkflow names a task spec after the element's id and keeps its own specs in the same
namespace. ``Start``, ``End``, ``<process>.EndJoin``, ``StartEventSplit``/``StartEventJoin``
(several start events), ``<id>.BoundaryEventSplit``/``<id>.BoundaryEventJoin`` (boundary
events) are created by its parsers, and ``Root`` is silently dropped when a spec is restored.
An element with one of those ids is then never parsed as itself: a start event ``Start``
answers every start with ``No output task connected.``, a user task ``End`` ends the request
at once, a task ``Root`` breaks after the spec is stored.

Instead of refusing hand-written diagrams that use such ids, the parser gets a copy of the
tree in which those flow nodes (and every reference to them) carry ``<id>#sopflow``: ``#`` is
not allowed in an XML id, so the internal name can never collide with a real one. Afterwards
every task spec gets its BPMN id back in ``bpmn_id`` (kept by the serializer), which is what
sopflow reports everywhere (inbox, history, REST, the diagram viewer); :func:`public` removes
the marker from any SpiffWorkflow message that still names the internal spec.
"""

from __future__ import annotations

from collections.abc import Iterable
from copy import deepcopy
from typing import Any

from lxml import etree

from ..bpmn.namespaces import BPMN

MARK = "#sopflow"

# SpiffWorkflow 3.x: BpmnProcessSpec (Start, End, <name>.EndJoin), ProcessParser
# (StartEventSplit/Join), TaskParser (boundary split/join, "<id> [child]" for loops), the
# process-spec converter ("Root" is dropped on restore).
RESERVED_NAMES = frozenset({"Start", "End", "Root", "StartEventSplit", "StartEventJoin"})
RESERVED_SUFFIXES = (".EndJoin", ".BoundaryEventSplit", ".BoundaryEventJoin", " [child]")

# Elements that become task specs (their id is the spec's name)
FLOW_NODES = frozenset(
    {
        "startEvent",
        "endEvent",
        "intermediateCatchEvent",
        "intermediateThrowEvent",
        "boundaryEvent",
        "task",
        "userTask",
        "serviceTask",
        "sendTask",
        "receiveTask",
        "scriptTask",
        "manualTask",
        "businessRuleTask",
        "subProcess",
        "transaction",
        "adHocSubProcess",
        "callActivity",
        "exclusiveGateway",
        "inclusiveGateway",
        "parallelGateway",
        "eventBasedGateway",
        "complexGateway",
    }
)
# where a flow node's id is referenced, as an attribute or as an element's text
REF_ATTRIBUTES = ("sourceRef", "targetRef", "attachedToRef", "bpmnElement")
REF_TEXTS = ("flowNodeRef", "sourceRef", "targetRef")


def is_reserved(element_id: str | None) -> bool:
    """True for an id SpiffWorkflow would take for one of its own task specs."""
    if not element_id:
        return False
    return element_id in RESERVED_NAMES or element_id.endswith(RESERVED_SUFFIXES)


def internal_tree(tree: etree._ElementTree) -> tuple[etree._ElementTree, dict[str, str]]:
    """The tree SpiffWorkflow should parse and a map internal name → BPMN id (empty, and the
    tree itself, when no id is reserved, which is nearly always)."""
    root = tree.getroot()
    nodes = [
        el
        for el in root.iter(f"{BPMN}*")
        if etree.QName(el).localname in FLOW_NODES and is_reserved(el.get("id"))
    ]
    if not nodes:
        return tree, {}
    copy = deepcopy(tree)
    renamed = {el.get("id") or "": (el.get("id") or "") + MARK for el in nodes}
    for el in copy.getroot().iter():
        if not isinstance(el.tag, str):
            continue
        if el.get("id") in renamed and etree.QName(el).localname in FLOW_NODES:
            el.set("id", renamed[el.get("id") or ""])
        for attr in REF_ATTRIBUTES:
            value = el.get(attr)
            if value in renamed:
                el.set(attr, renamed[value])
        if etree.QName(el).localname in REF_TEXTS and (el.text or "").strip() in renamed:
            el.text = renamed[(el.text or "").strip()]
    return copy, {internal: bpmn_id for bpmn_id, internal in renamed.items()}


def restore_ids(specs: Iterable[Any], renamed: dict[str, str]) -> None:
    """Give every renamed task spec its BPMN id back (the name stays internal)."""
    if not renamed:
        return
    for spec in specs:
        for task_spec in spec.task_specs.values():
            bpmn_id = getattr(task_spec, "bpmn_id", None)
            if bpmn_id in renamed:
                task_spec.bpmn_id = renamed[bpmn_id]


def public(text: str) -> str:
    """A SpiffWorkflow message with internal spec names turned back into BPMN ids."""
    return text.replace(MARK, "")
