"""The sopflow dialect: people on every user task, known topics, safe expressions, supported
elements. Walks one executable process and collects located problems."""

from __future__ import annotations

import re

from lxml import etree

from ..errors import ExpressionError, Problem, TimerError
from ..expressions import compile_expression, compile_script, is_juel
from ..forms import parse_form
from ..names import is_variable_name
from ..spiff.parser import parse_io_parameter, retry_policy, split_list
from ..spiff.scripting import ENGINE_FUNCTIONS
from ..timers import parse_cycle, parse_datetime, parse_duration
from ..topics import TopicPolicy, no_builtin_handler, unknown_topic
from .elements import SUPPORTED, UNSUPPORTED_HINTS
from .namespaces import BPMN, BPMN_NS, CAMUNDA, CAMUNDA_NS


class DialectChecker:
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
        self.errors = {e.get("id"): e for e in root.iter(f"{BPMN}error")}
        self.messages = {m.get("id"): m for m in root.iter(f"{BPMN}message")}

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
        if is_juel(text):
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
        out = [f for f in el.iter(f"{BPMN}outgoing") if f.getparent() is el]
        flows = [
            f for f in self.root.iter(f"{BPMN}sequenceFlow") if f.get("sourceRef") == el.get("id")
        ]
        if max(len(out), len(flows)) > 1:
            self.add(
                el,
                f"A {local} may have only one outgoing flow; split with a gateway",
                f"{local} hanya boleh punya satu alur keluar; gunakan gateway untuk percabangan",
            )

    def check_userTask(self, el: etree._Element) -> None:
        groups = split_list(el.get(f"{CAMUNDA}candidateGroups"))
        users = split_list(el.get(f"{CAMUNDA}candidateUsers"))
        assignee = el.get(f"{CAMUNDA}assignee")
        if not groups and not users and not assignee:
            self.add(
                el,
                "User task has no candidate group or assignee: nobody could do it",
                "User task tidak punya candidate group atau assignee: "
                "tidak ada yang bisa mengerjakan",
            )
        for g in groups + users:
            if is_juel(g):
                self.expression(el, g, "candidateGroups")
            elif not re.fullmatch(r"[A-Za-z0-9_.@-]{1,64}", g):
                self.add(
                    el,
                    f"Candidate group '{g}' is not a valid group id",
                    f"Candidate group '{g}' bukan id grup yang sah",
                )
        for attr in ("assignee", "dueDate", "followUpDate", "priority"):
            self.maybe_expression(el, el.get(f"{CAMUNDA}{attr}"), f"camunda:{attr}")
        if el.get(f"{CAMUNDA}formKey") or el.get(f"{CAMUNDA}formRef"):
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
        if el.get(f"{CAMUNDA}formKey") or el.get(f"{CAMUNDA}formRef"):
            self.add(
                el,
                "Only camunda:formData forms are supported (not formKey/formRef)",
                "Hanya formulir camunda:formData yang didukung (bukan formKey/formRef)",
            )
        self.form(el)

    def check_serviceTask(self, el: etree._Element) -> str | None:
        for attr in ("class", "delegateExpression", "expression"):
            if el.get(f"{CAMUNDA}{attr}"):
                self.add(
                    el,
                    f'camunda:{attr} runs Java code; use camunda:type="external" with a topic',
                    f"camunda:{attr} menjalankan kode Java; "
                    'gunakan camunda:type="external" dengan topic',
                )
                return None
        if el.find(f".//{CAMUNDA}connector") is not None:
            return None  # reported by _camunda_ext
        topic = el.get(f"{CAMUNDA}topic")
        if el.get(f"{CAMUNDA}type") != "external" or not topic:
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
        for p in list(el.iter(f"{CAMUNDA}inputParameter")) + list(
            el.iter(f"{CAMUNDA}outputParameter")
        ):
            name, kind, value = parse_io_parameter(p)
            if not is_variable_name(name):
                self.add(
                    p,
                    f"Parameter name '{name}' must be a plain variable name",
                    f"Nama parameter '{name}' harus nama variabel biasa",
                )
            values = value if kind == "list" else list(value.values()) if kind == "map" else [value]
            for v in values:
                self.maybe_expression(p, v, f"camunda:{etree.QName(p).localname} '{name}'")
        cycle = el.find(f"{CAMUNDA}failedJobRetryTimeCycle")
        if cycle is None:
            cycle = next(el.iter(f"{CAMUNDA}failedJobRetryTimeCycle"), None)
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
        script = el.find(f"{BPMN}script")
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
        cond = el.find(f"{BPMN}conditionExpression")
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
            f for f in self.root.iter(f"{BPMN}sequenceFlow") if f.get("sourceRef") == el.get("id")
        ]
        if len(flows) <= 1:
            return
        default = el.get("default")
        for f in flows:
            if f.get("id") != default and f.find(f"{BPMN}conditionExpression") is None:
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
            t = el.find(f"{BPMN}{tag}")
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
        procs = {p.get("id") for p in self.root.iter(f"{BPMN}process")}
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
