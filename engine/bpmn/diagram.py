"""Deploy-time validation: a diagram either becomes process specs or a list of located problems.

Order matters for the analyst: XML safety first (no DTDs or entities, ever), then the BPMN XSD
(every schema error, not just the first), then the sopflow dialect (people on every user task,
known topics, safe expressions, supported elements), and only then SpiffWorkflow's own parser,
whose TypeErrors and KeyErrors on odd input are turned into problems instead of crashes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec

from ..errors import DeployError, Problem
from ..forms import Form, parse_form
from ..names import is_variable_name
from ..spiff.parser import SopflowParser
from ..spiff.reserved import internal_tree, public, restore_ids
from ..topics import TopicPolicy
from .dialect import DialectChecker
from .elements import TOP_LEVEL_REFUSED
from .namespaces import BPMN, CAMUNDA
from .xml import safe_parse, sha256
from .xsd import xsd_problems


@dataclass
class ParsedProcess:
    key: str
    name: str | None
    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]
    forms: dict[str, Form]
    start_form: Form
    topics: set[str]
    version_tag: str | None
    history_ttl: int | None
    properties: dict[str, str] = field(default_factory=dict)


@dataclass
class ParsedDiagram:
    xml: bytes
    sha256: str
    filename: str
    processes: list[ParsedProcess] = field(default_factory=list)
    # located notes that do not refuse the diagram (an unknown topic waits for a worker)
    warnings: list[Problem] = field(default_factory=list)


def _locate(
    root: etree._Element, exc: Exception, filename: str, renamed: dict[str, str]
) -> Problem:
    eid = getattr(exc, "id", None) or None
    eid = renamed.get(eid, eid) if eid else None
    line = None
    if eid:
        found = root.xpath("//*[@id=$i]", i=eid)
        line = found[0].sourceline if found else None
    msg = public(
        str(exc).split(". ")[0]
        if isinstance(exc, ValidationException)
        else f"{type(exc).__name__}: {exc}"
    )
    return Problem(
        f"The engine cannot run this diagram: {msg}",
        f"Mesin tidak dapat menjalankan diagram ini: {msg}",
        element_id=eid,
        line=line,
        filename=filename,
    )


def parse_diagram(
    data: bytes, filename: str, topics: TopicPolicy, *, strict: bool = True
) -> ParsedDiagram:
    """Validate and parse one BPMN file; raise DeployError listing every problem found.

    ``strict``: a topic ``topics`` does not know refuses the diagram; otherwise it is accepted
    as an external topic with a located warning (``ParsedDiagram.warnings``)."""
    tree = safe_parse(data, filename)
    root = tree.getroot()
    if root.tag != f"{BPMN}definitions":
        raise DeployError(
            [
                Problem(
                    "Not a BPMN 2.0 file (root must be bpmn:definitions)",
                    "Bukan berkas BPMN 2.0 (akar harus bpmn:definitions)",
                    line=root.sourceline,
                    filename=filename,
                )
            ],
            filename,
        )
    problems = xsd_problems(tree, filename)
    checker = DialectChecker(root, filename, topics, strict)
    for el in root:
        if isinstance(el.tag, str) and etree.QName(el).localname in TOP_LEVEL_REFUSED:
            checker.add(
                el,
                f"bpmn:{etree.QName(el).localname} is not supported",
                f"bpmn:{etree.QName(el).localname} tidak didukung",
            )
    executable = [
        p for p in root.iter(f"{BPMN}process") if (p.get("isExecutable") or "").lower() == "true"
    ]
    if not executable:
        checker.add(
            root,
            'No executable process: set isExecutable="true" on the process to deploy',
            'Tidak ada proses yang dapat dijalankan: setel isExecutable="true" pada proses',
        )
    topics_by_process: dict[str, set[str]] = {}
    for proc in executable:
        pid = proc.get("id") or ""
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]{0,99}", pid):
            checker.add(
                proc,
                f"Process id '{pid}' is not a valid key",
                f"Id proses '{pid}' bukan kunci yang sah",
            )
        if proc.find(f"{BPMN}startEvent") is None:
            checker.add(proc, "Process has no start event", "Proses tidak punya start event")
        topics_by_process[pid] = checker.walk_process(proc)
        sla = _process_properties(proc).get("sla")
        if sla:
            checker.expression(proc, sla, "Process property 'sla'")
        initiator = next(
            (
                st.get(f"{CAMUNDA}initiator")
                for st in proc.iter(f"{BPMN}startEvent")
                if st.get(f"{CAMUNDA}initiator")
            ),
            None,
        )
        if initiator and not is_variable_name(initiator):
            checker.add(
                proc,
                f"camunda:initiator '{initiator}' must be a plain variable name",
                f"camunda:initiator '{initiator}' harus nama variabel biasa",
            )
    problems += checker.problems
    if problems:
        raise DeployError(_dedupe(problems), filename)

    parser = SopflowParser()
    result = ParsedDiagram(
        xml=data, sha256=sha256(data), filename=filename, warnings=_dedupe(checker.warnings)
    )
    internal, renamed = internal_tree(tree)  # ids SpiffWorkflow reserves (engine/reserved.py)
    try:
        parser.add_bpmn_xml(internal, filename)
        for proc in executable:
            pid = proc.get("id") or ""
            spec = parser.get_spec(pid)
            subs = parser.get_subprocess_specs(pid)
            restore_ids([spec, *subs.values()], renamed)
            _assign_lanes(root, [spec, *subs.values()])
            forms = {}
            for el in proc.iter(f"{BPMN}userTask", f"{BPMN}startEvent"):
                form, _ = parse_form(el)
                if form:
                    forms[el.get("id") or ""] = form
            start = next(
                (
                    s
                    for s in proc.iter(f"{BPMN}startEvent")
                    if s.getparent() is proc
                    and s.find(f"{BPMN}timerEventDefinition") is None
                    and s.find(f"{BPMN}messageEventDefinition") is None
                ),
                None,
            )
            ttl = proc.get(f"{CAMUNDA}historyTimeToLive")
            props = _process_properties(proc)
            message_starts = [
                checker.messages[ref].get("name")
                for st in proc.findall(f"{BPMN}startEvent")
                for med in st.findall(f"{BPMN}messageEventDefinition")
                if (ref := med.get("messageRef")) in checker.messages
            ]
            if message_starts:
                props["message_starts"] = ",".join(n for n in message_starts if n)
            if start is not None and start.get(f"{CAMUNDA}initiator"):
                props["initiator"] = start.get(f"{CAMUNDA}initiator") or ""
            result.processes.append(
                ParsedProcess(
                    key=pid,
                    name=proc.get("name"),
                    spec=spec,
                    subprocess_specs=subs,
                    forms=forms,
                    start_form=forms.get(start.get("id") or "", Form())
                    if start is not None
                    else Form(),
                    topics=topics_by_process[pid],
                    version_tag=proc.get(f"{CAMUNDA}versionTag"),
                    history_ttl=int(ttl) if ttl and ttl.isdigit() else None,
                    properties=props,
                )
            )
    except DeployError:
        raise
    except Exception as e:  # SpiffWorkflow raises TypeError/KeyError on some inputs
        raise DeployError([_locate(root, e, filename, renamed)], filename)
    return result


def _assign_lanes(root: etree._Element, specs: Iterable[Any]) -> None:
    """Lane of each element from the lane listing it (innermost wins); SpiffWorkflow gives
    elements inside a subprocess the lane of the subprocess shape instead."""
    lanes: dict[str, str] = {}
    for lane in root.iter(f"{BPMN}lane"):
        for ref in lane.findall(f"{BPMN}flowNodeRef"):
            if ref.text and ref.text.strip():
                lanes[ref.text.strip()] = lane.get("name") or lane.get("id") or ""
    for spec in specs:
        for ts in spec.task_specs.values():
            bpmn_id = getattr(ts, "bpmn_id", None)
            if bpmn_id in lanes:
                ts.lane = lanes[bpmn_id]


def _process_properties(proc: etree._Element) -> dict[str, str]:
    """``camunda:properties`` directly on the process, such as ``sla`` = ``${workdays(7)}``."""
    ext = proc.find(f"{BPMN}extensionElements")
    props: dict[str, str] = {}
    if ext is not None:
        for group in ext.findall(f"{CAMUNDA}properties"):
            for p in group.findall(f"{CAMUNDA}property"):
                if p.get("name"):
                    props[p.get("name") or ""] = p.get("value") or ""
    return props


def _dedupe(problems: Iterable[Problem]) -> list[Problem]:
    seen: set[tuple[Any, ...]] = set()
    out = []
    for p in problems:
        key = (p.message_en, p.element_id, p.line)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out
