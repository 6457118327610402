"""Which service-task topics a diagram may use, and what the analyst is told about them.

A topic with a built-in handler is worked in-process. A catalogue topic (engine/catalogue.py)
or one the operator declared (``SOPFLOW_EXTERNAL_TOPICS``, or ``external=true`` on the task) is
known to wait for an external worker. Any other topic is what a Camunda Modeler user draws for
a new integration (``smoke-topic`` for camunda-external-task-client-python3): Camunda runs it,
so sopflow accepts it too and says so as a located warning, instead of refusing the deploy
until an operator restarts the server with a new setting. ``SOPFLOW_STRICT_TOPICS=1`` keeps
the refusal for operators who want every external topic declared first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from lxml import etree

from .bpmn.namespaces import BPMN as _B
from .bpmn.namespaces import CAMUNDA as _C
from .errors import Problem

TopicPolicy = Callable[[str], bool]


def declared_external(el: etree._Element) -> bool:
    """The task says itself that an external worker works it (``external=true`` property)."""
    return any(
        p.get("name") == "external" and (p.get("value") or "").lower() == "true"
        for p in el.iter(f"{_C}property")
    )


def unknown_topic(el: etree._Element, topic: str, known: TopicPolicy) -> bool:
    """Neither built in, nor in the catalogue, nor declared external anywhere."""
    return not declared_external(el) and not known(topic)


def no_builtin_handler(
    topic: str, element_id: str | None, line: int | None, filename: str | None
) -> Problem:
    """The warning an accepted unknown topic gets, located on its task."""
    return Problem(
        f"Topic '{topic}': no built-in handler: jobs wait for an external worker",
        f"Topic '{topic}': tidak ada handler bawaan: pekerjaan menunggu worker eksternal",
        element_id=element_id,
        line=line,
        filename=filename,
    )


def topic_tasks(root: etree._Element) -> list[tuple[etree._Element, str]]:
    """Every external service or send task with its topic, in document order."""
    return [
        (el, el.get(f"{_C}topic") or "")
        for el in root.iter(f"{_B}serviceTask", f"{_B}sendTask")
        if el.get(f"{_C}type") == "external" and el.get(f"{_C}topic")
    ]


@dataclass(frozen=True)
class UnknownTopic:
    """A task of a deployed version whose topic nothing in sopflow works."""

    topic: str
    element_id: str | None
    line: int | None

    def problem(self, filename: str | None = None) -> Problem:
        return no_builtin_handler(self.topic, self.element_id, self.line, filename)


def may_have_unknown(topics: Iterable[str] | None, known: TopicPolicy) -> bool:
    """From a version's stored topic list, without its XML: whether to look closer."""
    return any(not known(t) for t in topics or ())


def unknown_topics(xml: str | bytes, known: TopicPolicy) -> list[UnknownTopic]:
    """The unknown topics of a deployed version under today's configuration (a handler added
    since the deploy silences them), located on their tasks."""
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(data, parser=parser)
    return [
        UnknownTopic(topic, el.get("id"), el.sourceline)
        for el, topic in topic_tasks(root)
        if unknown_topic(el, topic, known)
    ]
