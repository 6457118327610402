"""Deploy-time validation: a diagram either becomes process specs or a list of located problems.

Order matters for the analyst: XML safety first (no DTDs or entities, ever), then the BPMN XSD
(every schema error, not just the first), then the sopflow dialect (people on every user task,
known topics, safe expressions, supported elements), and only then SpiffWorkflow's own parser,
whose TypeErrors and KeyErrors on odd input are turned into problems instead of crashes.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn import parser as _spiff_parser_pkg
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec

from ..errors import DeployError, ExpressionError, Problem, TimerError
from ..expressions import compile_expression, compile_script, is_juel
from ..forms import CAMUNDA_NS, Form, parse_form
from ..parser import SopflowParser, parse_io_parameter, retry_policy, split_list
from ..reserved import internal_tree, public, restore_ids
from ..scripting import ENGINE_FUNCTIONS
from ..timers import parse_cycle, parse_datetime, parse_duration
from ..topics import TopicPolicy, no_builtin_handler, unknown_topic

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_B = f"{{{BPMN_NS}}}"
_C = f"{{{CAMUNDA_NS}}}"
MAX_DIAGRAM_BYTES = 5 * 1024 * 1024
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_XSD_PATH = os.path.join(os.path.dirname(_spiff_parser_pkg.__file__ or ""), "schema", "BPMN20.xsd")

# Elements of an executable process the engine runs faithfully.
SUPPORTED = {
    "startEvent",
    "endEvent",
    "userTask",
    "serviceTask",
    "sendTask",
    "scriptTask",
    "script",
    "manualTask",
    "task",
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "eventBasedGateway",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "boundaryEvent",
    "subProcess",
    "callActivity",
    "receiveTask",
    "sequenceFlow",
    "laneSet",
    "lane",
    "flowNodeRef",
    "childLaneSet",
    "textAnnotation",
    "association",
    "text",
    "dataObject",
    "dataObjectReference",
    "documentation",
    "extensionElements",
    "incoming",
    "outgoing",
    "conditionExpression",
    "timerEventDefinition",
    "timeDate",
    "timeDuration",
    "timeCycle",
    "errorEventDefinition",
    "messageEventDefinition",
    "signalEventDefinition",
    "escalationEventDefinition",
    "terminateEventDefinition",
    "dataInputAssociation",
    "dataOutputAssociation",
    "sourceRef",
    "targetRef",
    "group",
    "category",
    "categoryValue",
}
UNSUPPORTED_HINTS = {
    "businessRuleTask": (
        "DMN decisions are not supported; use a gateway with conditions",
        "Keputusan DMN tidak didukung; gunakan gateway dengan kondisi",
    ),
    "complexGateway": ("complex gateways are not supported", "gateway kompleks tidak didukung"),
    "dataStoreReference": ("data stores are not supported", "data store tidak didukung"),
    "adHocSubProcess": ("ad-hoc subprocesses are not supported", "subproses ad-hoc tidak didukung"),
    "transaction": ("transactions are not supported", "transaksi tidak didukung"),
    "multiInstanceLoopCharacteristics": (
        "multi-instance activities are not supported",
        "aktivitas multi-instance tidak didukung",
    ),
    "standardLoopCharacteristics": (
        "loop activities are not supported; model the loop with a gateway",
        "aktivitas berulang tidak didukung; buat perulangan dengan gateway",
    ),
    "compensateEventDefinition": ("compensation is not supported", "kompensasi tidak didukung"),
    "linkEventDefinition": ("link events are not supported", "event link tidak didukung"),
    "conditionalEventDefinition": (
        "conditional events are not supported",
        "event kondisional tidak didukung",
    ),
    "cancelEventDefinition": ("cancel events are not supported", "event batal tidak didukung"),
    "ioSpecification": (
        "BPMN ioSpecification is not supported; use camunda:inputOutput",
        "ioSpecification BPMN tidak didukung; gunakan camunda:inputOutput",
    ),
    "property": (
        "BPMN properties are not supported; use process variables",
        "property BPMN tidak didukung; gunakan variabel proses",
    ),
}
TOP_LEVEL_REFUSED = {"dataStore", "choreography", "globalTask", "globalUserTask"}


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


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def safe_parse(data: bytes, filename: str | None = None) -> etree._ElementTree:
    """Parse XML with no DTD, no entity expansion and no network, or raise a located DeployError."""
    if len(data) > MAX_DIAGRAM_BYTES:
        raise DeployError(
            [
                Problem(
                    f"Diagram is larger than {MAX_DIAGRAM_BYTES // 1024 // 1024} MB",
                    f"Diagram lebih besar dari {MAX_DIAGRAM_BYTES // 1024 // 1024} MB",
                    filename=filename,
                )
            ],
            filename,
        )
    # UTF-16/32 put NULs between the ASCII bytes of "<!DOCTYPE": drop them to see it
    scan = data.replace(b"\x00", b"") if b"\x00" in data[:4] else data
    m = _DTD.search(scan)
    if m:
        line = scan[: m.start()].count(b"\n") + 1
        raise DeployError(
            [
                Problem(
                    "DTDs and entity declarations are not allowed in diagrams",
                    "DTD dan deklarasi entitas tidak diizinkan dalam diagram",
                    line=line,
                    filename=filename,
                )
            ],
            filename,
        )
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )
    try:
        tree = etree.ElementTree(etree.fromstring(data, parser=parser))
    except etree.XMLSyntaxError as e:
        raise DeployError(
            [
                Problem(
                    f"Not well-formed XML: {e.msg}",
                    f"XML tidak valid: {e.msg}",
                    line=e.lineno,
                    filename=filename,
                )
            ],
            filename,
        )
    if tree.docinfo.doctype:
        # reached only when the byte scan above could not see the DOCTYPE (an exotic encoding):
        # locate it in the decoded text so the analyst still gets a line
        try:
            text = data.decode(tree.docinfo.encoding or "utf-8")
            m_text = re.search(r"<!\s*DOCTYPE", text, re.IGNORECASE)
            line = text[: m_text.start()].count("\n") + 1 if m_text else 1
        except (LookupError, UnicodeDecodeError):
            line = 1
        raise DeployError(
            [
                Problem(
                    "DTDs are not allowed in diagrams",
                    "DTD tidak diizinkan dalam diagram",
                    line=line,
                    filename=filename,
                )
            ],
            filename,
        )
    return tree


_schema_lock = threading.RLock()
_schema: etree.XMLSchema | None = None


def _xsd() -> etree.XMLSchema:
    global _schema
    with _schema_lock:
        if _schema is None:
            _schema = etree.XMLSchema(etree.parse(_XSD_PATH))
        return _schema


def xsd_problems(tree: etree._ElementTree, filename: str | None) -> list[Problem]:
    root = tree.getroot()
    by_line = {}
    for el in root.iter():
        if isinstance(el.tag, str) and el.get("id") and el.sourceline not in by_line:
            by_line[el.sourceline] = el.get("id")
    # the Spiff preprocess step: bpmn-js writes correlation retrieval expressions the XSD refuses
    for expr in root.iter(f"{_B}formalExpression"):
        parent = expr.getparent()
        if parent is not None and parent.tag == f"{_B}correlationPropertyRetrievalExpression":
            expr.tag = f"{_B}messagePath"
    with _schema_lock:
        schema = _xsd()
        ok = schema.validate(tree)
        errors = list(schema.error_log) if not ok else []
    problems = []
    for err in errors[:50]:
        msg = err.message.replace(_B, "bpmn:")
        problems.append(
            Problem(
                f"BPMN schema: {msg}",
                f"Skema BPMN: {msg}",
                element_id=by_line.get(err.line),
                line=err.line,
                filename=filename,
            )
        )
    return problems


class _Checker:
    """Walks one executable process and collects dialect problems."""

    def __init__(
        self, root: etree._Element, filename: str, topics: TopicPolicy, strict: bool = True
    ) -> None:
        self.root = root
        self.filename = filename
        self.topics = topics
        self.strict = strict  # an unknown topic refuses the diagram instead of warning
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.ids = {
            el.get("id"): el for el in root.iter() if isinstance(el.tag, str) and el.get("id")
        }
        self.errors = {e.get("id"): e for e in root.iter(f"{_B}error")}
        self.messages = {m.get("id"): m for m in root.iter(f"{_B}message")}

    def add(self, el: etree._Element | None, en: str, id_: str) -> None:
        eid = None
        line = None
        node = el
        while node is not None and eid is None:
            eid = node.get("id") if isinstance(node.tag, str) else None
            line = line or node.sourceline
            node = node.getparent()
        self.problems.append(
            Problem(en, id_, element_id=eid, line=line or None, filename=self.filename)
        )

    def expression(self, el: etree._Element, text: str | None, what: str) -> None:
        if not text or not text.strip():
            return
        try:
            compile_expression(text.strip(), ENGINE_FUNCTIONS)
        except ExpressionError as e:
            self.add(el, f"{what}: {e.message_en}", f"{what}: {e.message_id}")

    def maybe_expression(self, el: etree._Element, text: str | None, what: str) -> None:
        if text and "${" in text or (text and "#{" in text):
            self.expression(el, text, what)

    def walk_process(self, process: etree._Element) -> set[str]:
        topics: set[str] = set()
        refused: set[etree._Element] = set()
        for el in process.iter():
            if not isinstance(el.tag, str):
                continue
            local = etree.QName(el).localname
            ns = etree.QName(el).namespace
            if _inside(el, process, refused):
                continue  # already refused with its parent, or another vendor's extension
            if ns == CAMUNDA_NS:
                self._camunda_ext(el, local)
                continue
            if ns != BPMN_NS:
                continue
            if local in UNSUPPORTED_HINTS:
                en, id_ = UNSUPPORTED_HINTS[local]
                self.add(
                    el,
                    f"Unsupported element bpmn:{local}: {en}",
                    f"Elemen bpmn:{local} tidak didukung: {id_}",
                )
                refused.add(el)
                continue
            if el is not process and local not in SUPPORTED and local != "process":
                self.add(
                    el, f"Unsupported element bpmn:{local}", f"Elemen bpmn:{local} tidak didukung"
                )
                refused.add(el)
                continue
            handler = getattr(self, f"check_{local}", None)
            if handler is not None:
                found = handler(el)
                if found:
                    topics.add(found)
            if local in (
                "task",
                "userTask",
                "serviceTask",
                "sendTask",
                "scriptTask",
                "manualTask",
                "receiveTask",
                "subProcess",
                "callActivity",
                "startEvent",
                "intermediateCatchEvent",
                "intermediateThrowEvent",
                "boundaryEvent",
            ):
                self._single_outgoing(el, local)
        return topics

    def _camunda_ext(self, el: etree._Element, local: str) -> None:
        if local in ("executionListener", "taskListener"):
            self.add(
                el,
                f"camunda:{local} runs Java code and is not supported",
                f"camunda:{local} menjalankan kode Java dan tidak didukung",
            )
        elif local in ("script",):
            self.add(
                el,
                "camunda:script in input/output mappings is not supported; use an expression",
                "camunda:script dalam pemetaan input/output tidak didukung; gunakan ekspresi",
            )
        elif local == "connector":
            self.add(
                el,
                "camunda:connector is not supported; use an external service task",
                "camunda:connector tidak didukung; gunakan service task eksternal",
            )

    def _single_outgoing(self, el: etree._Element, local: str) -> None:
        out = [f for f in el.iter(f"{_B}outgoing") if f.getparent() is el]
        flows = [
            f for f in self.root.iter(f"{_B}sequenceFlow") if f.get("sourceRef") == el.get("id")
        ]
        if max(len(out), len(flows)) > 1:
            self.add(
                el,
                f"A {local} may have only one outgoing flow; split with a gateway",
                f"{local} hanya boleh punya satu alur keluar; gunakan gateway untuk percabangan",
            )

    def check_userTask(self, el: etree._Element) -> None:
        groups = split_list(el.get(f"{_C}candidateGroups"))
        users = split_list(el.get(f"{_C}candidateUsers"))
        assignee = el.get(f"{_C}assignee")
        if not groups and not users and not assignee:
            self.add(
                el,
                "User task has no candidate group or assignee: nobody could do it",
                "User task tidak punya candidate group atau assignee: "
                "tidak ada yang bisa mengerjakan",
            )
        for g in groups + users:
            if "${" in g or "#{" in g:
                self.expression(el, g, "candidateGroups")
            elif not re.fullmatch(r"[A-Za-z0-9_.@-]{1,64}", g):
                self.add(
                    el,
                    f"Candidate group '{g}' is not a valid group id",
                    f"Candidate group '{g}' bukan id grup yang sah",
                )
        for attr in ("assignee", "dueDate", "followUpDate", "priority"):
            self.maybe_expression(el, el.get(f"{_C}{attr}"), f"camunda:{attr}")
        if el.get(f"{_C}formKey") or el.get(f"{_C}formRef"):
            self.add(
                el,
                "Only camunda:formData forms are supported (not formKey/formRef)",
                "Hanya formulir camunda:formData yang didukung (bukan formKey/formRef)",
            )
        self.form(el)

    def form(self, el: etree._Element) -> None:
        _form, problems = parse_form(el)
        for p in problems:
            self.problems.append(
                Problem(
                    p.message_en,
                    p.message_id,
                    element_id=p.element_id,
                    line=p.line,
                    filename=self.filename,
                )
            )

    def check_startEvent(self, el: etree._Element) -> None:
        if el.get(f"{_C}formKey") or el.get(f"{_C}formRef"):
            self.add(
                el,
                "Only camunda:formData forms are supported (not formKey/formRef)",
                "Hanya formulir camunda:formData yang didukung (bukan formKey/formRef)",
            )
        self.form(el)

    def check_serviceTask(self, el: etree._Element) -> str | None:
        for attr in ("class", "delegateExpression", "expression"):
            if el.get(f"{_C}{attr}"):
                self.add(
                    el,
                    f'camunda:{attr} runs Java code; use camunda:type="external" with a topic',
                    f"camunda:{attr} menjalankan kode Java; "
                    'gunakan camunda:type="external" dengan topic',
                )
                return None
        if el.find(f".//{_C}connector") is not None:
            return None  # reported by _camunda_ext
        topic = el.get(f"{_C}topic")
        if el.get(f"{_C}type") != "external" or not topic:
            self.add(
                el,
                'Service task needs camunda:type="external" and a camunda:topic',
                'Service task butuh camunda:type="external" dan camunda:topic',
            )
            return None
        if unknown_topic(el, topic, self.topics) and not self.strict:
            self.warnings.append(
                no_builtin_handler(topic, el.get("id"), el.sourceline, self.filename)
            )
        elif unknown_topic(el, topic, self.topics):
            self.add(
                el,
                f"Topic '{topic}' has no handler and is not declared external "
                "(property external=true or SOPFLOW_EXTERNAL_TOPICS)",
                f"Topic '{topic}' tidak punya handler dan tidak dinyatakan eksternal "
                "(property external=true atau SOPFLOW_EXTERNAL_TOPICS)",
            )
        for p in list(el.iter(f"{_C}inputParameter")) + list(el.iter(f"{_C}outputParameter")):
            name, kind, value = parse_io_parameter(p)
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or name.startswith("__"):
                self.add(
                    p,
                    f"Parameter name '{name}' must be a plain variable name",
                    f"Nama parameter '{name}' harus nama variabel biasa",
                )
            values = value if kind == "list" else list(value.values()) if kind == "map" else [value]
            for v in values:
                self.maybe_expression(p, v, f"camunda:{etree.QName(p).localname} '{name}'")
        cycle = el.find(f"{_C}failedJobRetryTimeCycle")
        if cycle is None:
            cycle = next(el.iter(f"{_C}failedJobRetryTimeCycle"), None)
        if cycle is not None:
            retries, interval = retry_policy(el)
            try:
                if retries is None or interval is None:
                    raise TimerError("bad")
                parse_duration(interval)
            except TimerError:
                self.add(
                    cycle,
                    f"Retry cycle '{cycle.text}' must look like R3/PT5M",
                    f"Siklus ulang '{cycle.text}' harus seperti R3/PT5M",
                )
        return topic

    check_sendTask = check_serviceTask

    def check_scriptTask(self, el: etree._Element) -> None:
        fmt = (el.get("scriptFormat") or "python").lower()
        script = el.find(f"{_B}script")
        if fmt not in ("python", "juel"):
            self.add(
                el,
                f"Script format '{fmt}' is not supported; only safe assignments (python)",
                f"Format skrip '{fmt}' tidak didukung; hanya penugasan aman (python)",
            )
            return
        if script is None or not (script.text or "").strip():
            self.add(el, "Script task has no script", "Script task tidak berisi skrip")
            return
        try:
            compile_script(script.text or "", ENGINE_FUNCTIONS)
        except ExpressionError as e:
            self.add(el, f"Script: {e.message_en}", f"Skrip: {e.message_id}")

    def check_sequenceFlow(self, el: etree._Element) -> None:
        for ref in ("sourceRef", "targetRef"):
            if el.get(ref) not in self.ids:
                self.add(
                    el,
                    f"Sequence flow {ref} '{el.get(ref)}' does not exist",
                    f"{ref} alur '{el.get(ref)}' tidak ada",
                )
        cond = el.find(f"{_B}conditionExpression")
        if cond is not None:
            lang = (cond.get("language") or "").lower()
            if lang and lang not in ("juel", "python", "javascript-none"):
                self.add(
                    cond,
                    f"Condition language '{lang}' is not supported (use JUEL ${{...}})",
                    f"Bahasa kondisi '{lang}' tidak didukung (gunakan JUEL ${{...}})",
                )
            elif not (cond.text or "").strip():
                self.add(cond, "Condition is empty", "Kondisi kosong")
            else:
                self.expression(cond, cond.text, "Condition")

    def _gateway(self, el: etree._Element) -> None:
        flows = [
            f for f in self.root.iter(f"{_B}sequenceFlow") if f.get("sourceRef") == el.get("id")
        ]
        if len(flows) <= 1:
            return
        default = el.get("default")
        for f in flows:
            if f.get("id") != default and f.find(f"{_B}conditionExpression") is None:
                self.add(
                    f,
                    f"Flow '{f.get('id')}' out of gateway '{el.get('id')}' has no condition "
                    "and is not the default flow",
                    f"Alur '{f.get('id')}' dari gateway '{el.get('id')}' tidak punya kondisi "
                    "dan bukan alur default",
                )

    check_exclusiveGateway = _gateway
    check_inclusiveGateway = _gateway

    def _timer(self, el: etree._Element) -> None:
        for tag, kind in (
            ("timeDate", "date"),
            ("timeDuration", "duration"),
            ("timeCycle", "cycle"),
        ):
            t = el.find(f"{_B}{tag}")
            if t is None:
                continue
            text = (t.text or "").strip()
            if not text:
                self.add(t, "Timer is empty", "Timer kosong")
            elif is_juel(text):
                self.expression(t, text, "Timer")
            else:
                try:
                    from zoneinfo import ZoneInfo

                    tz = ZoneInfo("UTC")
                    if kind == "date":
                        parse_datetime(text, tz)
                    elif kind == "duration":
                        parse_duration(text)
                    else:
                        parse_cycle(text, tz)
                except TimerError as e:
                    self.add(t, f"Timer: {e.message_en}", f"Timer: {e.message_id}")
            return
        self.add(
            el,
            "Timer needs timeDate, timeDuration or timeCycle",
            "Timer butuh timeDate, timeDuration atau timeCycle",
        )

    check_timerEventDefinition = _timer

    def check_errorEventDefinition(self, el: etree._Element) -> None:
        ref = el.get("errorRef")
        if ref and ref not in self.errors:
            self.add(el, f"Error '{ref}' is not declared", f"Error '{ref}' tidak dideklarasikan")
        parent = el.getparent()
        if parent is not None and etree.QName(parent).localname == "endEvent" and ref:
            err = self.errors.get(ref)
            if err is not None and not err.get("errorCode"):
                self.add(
                    el, f"Error '{ref}' has no errorCode", f"Error '{ref}' tidak punya errorCode"
                )

    def check_messageEventDefinition(self, el: etree._Element) -> None:
        ref = el.get("messageRef")
        if ref is None:
            self.add(el, "Message event has no messageRef", "Event pesan tidak punya messageRef")
        elif ref not in self.messages:
            self.add(el, f"Message '{ref}' is not declared", f"Pesan '{ref}' tidak dideklarasikan")
        elif not self.messages[ref].get("name"):
            self.add(
                self.messages[ref],
                f"Message '{ref}' has no name",
                f"Pesan '{ref}' tidak punya nama",
            )

    def check_receiveTask(self, el: etree._Element) -> None:
        ref = el.get("messageRef")
        if not ref or ref not in self.messages or not self.messages[ref].get("name"):
            self.add(
                el,
                "Receive task needs a declared, named message",
                "Receive task butuh pesan yang dideklarasikan dan bernama",
            )

    def check_callActivity(self, el: etree._Element) -> None:
        called = el.get("calledElement")
        procs = {p.get("id") for p in self.root.iter(f"{_B}process")}
        if not called or called not in procs:
            self.add(
                el,
                f"Call activity calls '{called}', which is not a process in this file",
                f"Call activity memanggil '{called}', yang bukan proses dalam berkas ini",
            )

    def check_boundaryEvent(self, el: etree._Element) -> None:
        if el.get("attachedToRef") not in self.ids:
            self.add(
                el,
                "Boundary event is not attached to an existing activity",
                "Boundary event tidak menempel pada aktivitas yang ada",
            )


def _inside(el: etree._Element, stop: etree._Element, refused: set[etree._Element]) -> bool:
    """True below an element already refused (one problem per unsupported construct, not one per
    child) or inside another vendor's extension element, even where its children use the
    default BPMN namespace as Signavio and Visio exports do: not BPMN the engine has to run."""
    node = el.getparent()
    while node is not None and node is not stop:
        if node in refused:
            return True
        if isinstance(node.tag, str) and etree.QName(node).namespace not in (BPMN_NS, CAMUNDA_NS):
            return True
        node = node.getparent()
    return False


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
    if root.tag != f"{_B}definitions":
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
    checker = _Checker(root, filename, topics, strict)
    for el in root:
        if isinstance(el.tag, str) and etree.QName(el).localname in TOP_LEVEL_REFUSED:
            checker.add(
                el,
                f"bpmn:{etree.QName(el).localname} is not supported",
                f"bpmn:{etree.QName(el).localname} tidak didukung",
            )
    executable = [
        p for p in root.iter(f"{_B}process") if (p.get("isExecutable") or "").lower() == "true"
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
        if proc.find(f"{_B}startEvent") is None:
            checker.add(proc, "Process has no start event", "Proses tidak punya start event")
        topics_by_process[pid] = checker.walk_process(proc)
        sla = _process_properties(proc).get("sla")
        if sla:
            checker.expression(proc, sla, "Process property 'sla'")
        initiator = next(
            (
                st.get(f"{_C}initiator")
                for st in proc.iter(f"{_B}startEvent")
                if st.get(f"{_C}initiator")
            ),
            None,
        )
        if initiator and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", initiator):
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
            for el in proc.iter(f"{_B}userTask", f"{_B}startEvent"):
                form, _ = parse_form(el)
                if form:
                    forms[el.get("id") or ""] = form
            start = next(
                (
                    s
                    for s in proc.iter(f"{_B}startEvent")
                    if s.getparent() is proc
                    and s.find(f"{_B}timerEventDefinition") is None
                    and s.find(f"{_B}messageEventDefinition") is None
                ),
                None,
            )
            ttl = proc.get(f"{_C}historyTimeToLive")
            props = _process_properties(proc)
            message_starts = [
                checker.messages[ref].get("name")
                for st in proc.findall(f"{_B}startEvent")
                for med in st.findall(f"{_B}messageEventDefinition")
                if (ref := med.get("messageRef")) in checker.messages
            ]
            if message_starts:
                props["message_starts"] = ",".join(n for n in message_starts if n)
            if start is not None and start.get(f"{_C}initiator"):
                props["initiator"] = start.get(f"{_C}initiator") or ""
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
                    version_tag=proc.get(f"{_C}versionTag"),
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
    for lane in root.iter(f"{_B}lane"):
        for ref in lane.findall(f"{_B}flowNodeRef"):
            if ref.text and ref.text.strip():
                lanes[ref.text.strip()] = lane.get("name") or lane.get("id") or ""
    for spec in specs:
        for ts in spec.task_specs.values():
            bpmn_id = getattr(ts, "bpmn_id", None)
            if bpmn_id in lanes:
                ts.lane = lanes[bpmn_id]


def _process_properties(proc: etree._Element) -> dict[str, str]:
    """``camunda:properties`` directly on the process, such as ``sla`` = ``${workdays(7)}``."""
    ext = proc.find(f"{_B}extensionElements")
    props: dict[str, str] = {}
    if ext is not None:
        for group in ext.findall(f"{_C}properties"):
            for p in group.findall(f"{_C}property"):
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
