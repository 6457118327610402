"""The XML namespaces of a BPMN diagram, in one place: the URIs and the ``{uri}`` prefixes lxml
uses in tag and attribute names (``f"{BPMN}userTask"``, ``el.get(f"{CAMUNDA}topic")``)."""

from __future__ import annotations

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"

BPMN = f"{{{BPMN_NS}}}"
CAMUNDA = f"{{{CAMUNDA_NS}}}"
