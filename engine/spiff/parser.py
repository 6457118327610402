"""A ``CamundaParser`` that keeps what Camunda 7 diagrams say about people, forms and workers.

Stock SpiffWorkflow drops ``candidateGroups``, ``assignee``, ``camunda:inputOutput`` and the
external-task topic; without them there is no inbox and no job queue. Timer events are parsed
into clock-aware definitions (see :mod:`engine.spiff.specs`).
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.util import first
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent,
    IntermediateCatchEvent,
    NoneTask,
    StartEvent,
)
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.camunda.parser.event_parsers import (
    CamundaBoundaryEventParser,
    CamundaIntermediateCatchEventParser,
    CamundaStartEventParser,
)
from SpiffWorkflow.camunda.parser.task_spec import CamundaTaskParser

from ..bpmn.namespaces import CAMUNDA as _C
from ..forms import parse_form
from .specs import TIMER_CLASSES, ExternalServiceTask, SopflowUserTask


def split_list(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def parse_io_parameter(el: etree._Element) -> list[Any]:
    """One ``camunda:inputParameter``/``outputParameter`` as ``[name, kind, value]``."""
    name = el.get("name") or ""
    lst = el.find(f"{_C}list")
    if lst is not None:
        return [name, "list", [(v.text or "") for v in lst.findall(f"{_C}value")]]
    mp = el.find(f"{_C}map")
    if mp is not None:
        return [name, "map", {e.get("key") or "": (e.text or "") for e in mp.findall(f"{_C}entry")}]
    return [name, "text", (el.text or "").strip()]


def retry_policy(node: etree._Element) -> tuple[int | None, str | None]:
    """``camunda:failedJobRetryTimeCycle`` (``R3/PT5M``) as (retries, interval)."""
    el = first(
        node.xpath(
            "./*[local-name()='extensionElements']/*[local-name()='failedJobRetryTimeCycle']"
        )
    )
    if el is None or not (el.text or "").strip():
        return None, None
    text = el.text.strip().upper()
    head, _, interval = text.partition("/")
    try:
        retries = int(head.lstrip("R"))
    except ValueError:
        return None, None
    return retries, interval or None


class _TimerEventMixin:
    """Parse timers into the clock-aware definitions of :mod:`engine.spiff.specs`."""

    node: Any
    filename: Any

    def parse_timer_event(self, event: Any) -> Any:
        name = self.node.get("name", self.node.get("id"))
        description = self.get_event_description(event)  # type: ignore[attr-defined]
        for tag, kind in (
            ("timeDate", "date"),
            ("timeDuration", "duration"),
            ("timeCycle", "cycle"),
        ):
            el = first(self.xpath(f".//bpmn:{tag}"))  # type: ignore[attr-defined]
            if el is not None:
                return TIMER_CLASSES[kind](name, (el.text or "").strip(), description=description)
        raise ValidationException(
            "Timer needs timeDate, timeDuration or timeCycle",
            node=self.node,
            file_name=self.filename,
        )


class _MessageEventMixin:
    """Camunda 7 puts a correlated message's variables in the process scope; SpiffWorkflow's
    Camunda flavour would nest them under ``<task>_Response``. Use the plain BPMN definition."""

    def parse_message_event(self, message_event: Any) -> Any:
        message_ref = message_event.get("messageRef")
        if message_ref:
            message = first(self.doc_xpath(f'.//bpmn:message[@id="{message_ref}"]'))  # type: ignore[attr-defined]
            name = message.get("name") if message is not None else message_ref
            correlations = self.get_message_correlations(message_ref)  # type: ignore[attr-defined]
        else:
            name = message_event.getparent().get("name")
            correlations = []
        return MessageEventDefinition(name, correlations)


class StartEventParser(_TimerEventMixin, _MessageEventMixin, CamundaStartEventParser):
    pass


class IntermediateCatchEventParser(
    _TimerEventMixin, _MessageEventMixin, CamundaIntermediateCatchEventParser
):
    pass


class BoundaryEventParser(_TimerEventMixin, _MessageEventMixin, CamundaBoundaryEventParser):
    pass


class UserTaskParser(CamundaTaskParser):
    def create_task(self) -> Any:
        form, _problems = parse_form(self.node)  # problems are reported by engine.bpmn
        return self.spec_class(
            self.spec,
            self.bpmn_id,
            candidate_groups=split_list(self.node.get(f"{_C}candidateGroups")),
            candidate_users=split_list(self.node.get(f"{_C}candidateUsers")),
            assignee=self.node.get(f"{_C}assignee"),
            due_date=self.node.get(f"{_C}dueDate"),
            follow_up=self.node.get(f"{_C}followUpDate"),
            priority=self.node.get(f"{_C}priority"),
            form=form.as_dict(),
            **self.bpmn_attributes,
        )


class ExternalTaskParser(CamundaTaskParser):
    def create_task(self) -> Any:
        inputs = [parse_io_parameter(e) for e in self.node.iter(f"{_C}inputParameter")]
        outputs = [parse_io_parameter(e) for e in self.node.iter(f"{_C}outputParameter")]
        retries, interval = retry_policy(self.node)
        return self.spec_class(
            self.spec,
            self.bpmn_id,
            topic=self.node.get(f"{_C}topic") or "",
            input_parameters=inputs,
            output_parameters=outputs,
            retries=retries,
            retry_interval=interval,
            priority=self.node.get(f"{_C}taskPriority"),
            **self.bpmn_attributes,
        )


class SopflowParser(CamundaParser):
    OVERRIDE_PARSER_CLASSES = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        full_tag("userTask"): (UserTaskParser, SopflowUserTask),
        full_tag("serviceTask"): (ExternalTaskParser, ExternalServiceTask),
        full_tag("sendTask"): (ExternalTaskParser, ExternalServiceTask),
        # Camunda runs manual tasks straight through; SpiffWorkflow would wait on them forever.
        full_tag("manualTask"): (CamundaTaskParser, NoneTask),
        full_tag("startEvent"): (StartEventParser, StartEvent),
        full_tag("intermediateCatchEvent"): (IntermediateCatchEventParser, IntermediateCatchEvent),
        full_tag("boundaryEvent"): (BoundaryEventParser, BoundaryEvent),
    }
