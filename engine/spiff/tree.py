"""Reading a live workflow's task tree: which tasks wait, which are human, which timers are armed
and when they are due, what boundary events a task carries, what the process variables are.

SpiffWorkflow keeps a process and each of its subprocesses as separate workflows with their own
task dicts, and boundary events as children of a ``<name>.BoundaryEventSplit`` task; these
functions are the only code that knows that."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

from ..variables import plain
from .specs import ExternalServiceTask, SopflowUserTask

ACTIVE = TaskState.READY | TaskState.STARTED | TaskState.WAITING
_BOUNDARY_SPLIT = ".BoundaryEventSplit"


def all_workflows(wf: BpmnWorkflow) -> list[Any]:
    return [wf, *wf.subprocesses.values()]


def tasks(wf: BpmnWorkflow, state: int) -> list[Any]:
    """Tasks in ``state`` (a mask) across the process and its subprocesses, each once."""
    return [t for w in all_workflows(wf) for t in w.tasks.values() if t.state & state]


def is_human(task: Any) -> bool:
    return isinstance(task.task_spec, SopflowUserTask) or (
        getattr(task.task_spec, "manual", False) and hasattr(task.task_spec, "bpmn_id")
    )


def ready_human_tasks(wf: BpmnWorkflow) -> list[Any]:
    return [t for t in tasks(wf, TaskState.READY) if is_human(t)]


def started_jobs(wf: BpmnWorkflow) -> list[Any]:
    """Service tasks handed to a worker and not yet answered."""
    return [t for t in tasks(wf, TaskState.STARTED) if isinstance(t.task_spec, ExternalServiceTask)]


def is_timer(t: Any) -> bool:
    return isinstance(getattr(t.task_spec, "event_definition", None), TimerEventDefinition)


def waiting_timers(wf: BpmnWorkflow) -> dict[Any, Any]:
    return {t.id: t for t in tasks(wf, TaskState.WAITING) if is_timer(t)}


def has_fired(t: Any) -> bool:
    """A timer that waited before a step and neither waits nor was cancelled after it."""
    return t.state not in (TaskState.WAITING, TaskState.CANCELLED)


def waiting_messages(wf: BpmnWorkflow) -> list[str]:
    """The names of the messages the instance waits for, sorted."""
    return sorted(
        {
            t.task_spec.event_definition.name
            for t in tasks(wf, TaskState.WAITING)
            if isinstance(getattr(t.task_spec, "event_definition", None), MessageEventDefinition)
        }
    )


def timer_due(t: Any) -> datetime | None:
    definition = getattr(t.task_spec, "event_definition", None)
    if not isinstance(definition, TimerEventDefinition):
        return None
    value = t._get_internal_data("event_value")
    if isinstance(value, dict):
        value = value.get("next") if value.get("cycles") != 0 else None
    if not value:
        return None
    return datetime.fromisoformat(value)


def timer_dues(wf: BpmnWorkflow) -> tuple[list[datetime], list[datetime]]:
    """Due times of every armed timer, and of those on a subprocess (an SLA clock)."""
    dues: list[datetime] = []
    armed: list[datetime] = []
    for t in tasks(wf, TaskState.WAITING):
        due = timer_due(t)
        if due is None:
            continue
        dues.append(due)
        attached = attached_to(t)
        if attached is not None and isinstance(attached.task_spec, SubWorkflowTask):
            armed.append(due)
    return dues, armed


def boundaries(t: Any) -> list[Any]:
    parent = t.parent
    if parent is None or not parent.task_spec.name.endswith(_BOUNDARY_SPLIT):
        return []
    return [c for c in parent.children if c is not t and c.state == TaskState.WAITING]


def attached_to(t: Any) -> Any:
    parent = t.parent
    if parent is None or not parent.task_spec.name.endswith(_BOUNDARY_SPLIT):
        return None
    return next(
        (
            c
            for c in parent.children
            if not isinstance(c.task_spec, CatchingEvent)
            or c.task_spec.__class__.__name__ != "BoundaryEvent"
        ),
        None,
    )


def enclosing(t: Any, wf: Any) -> Any:
    """The subprocess task whose workflow holds ``t`` (None at the top)."""
    parent_id = t.workflow.parent_task_id
    return wf.get_task_from_id(parent_id) if parent_id is not None else None


def deadlines(t: Any) -> list[datetime]:
    """Timers on the task and on every enclosing subprocess: the nearest is the task's due."""
    out: list[datetime] = []
    current = t
    top = t.workflow.top_workflow
    while current is not None:
        out += [d for d in (timer_due(b) for b in boundaries(current)) if d]
        current = enclosing(current, top)
    return out


def sla_running(wf: BpmnWorkflow) -> bool:
    """Is a subprocess that carries a timer boundary (an SLA scope) still active?"""
    for t in tasks(wf, ACTIVE):
        if not isinstance(t.task_spec, SubWorkflowTask):
            continue
        parent = t.parent
        if (
            parent is not None
            and parent.task_spec.name.endswith(_BOUNDARY_SPLIT)
            and any(is_timer(c) for c in parent.children)
        ):
            return True
    return False


def variables(wf: BpmnWorkflow, previous: Mapping[str, Any], since: float) -> dict[str, Any]:
    """Process variables as Camunda keeps them: one scope, each step writing what it changed.

    SpiffWorkflow copies data into every branch, so a branch that finishes late carries old
    copies of values others changed meanwhile; applying only each touched task's own changes
    (against its parent's data), in the order they happened, keeps the newest value."""
    merged = dict(previous)
    touched = [
        t
        for w in all_workflows(wf)
        for t in w.tasks.values()
        if t.last_state_change >= since
        and t.state in (TaskState.COMPLETED, TaskState.READY, TaskState.STARTED, TaskState.WAITING)
    ]
    for t in sorted(touched, key=lambda t: t.last_state_change):
        if t.parent is None:
            merged.update(plain(t.data))
        else:
            merged.update(plain(DeepMerge.get_updated_keys(t.parent.data, t.data)))
    return merged


def element_states(wf: BpmnWorkflow) -> tuple[set[str], set[str]]:
    """Element ids passed, and those waiting now (user tasks, jobs, timers, messages)."""
    done: set[str] = set()
    waiting: set[str] = set()
    for task in wf.get_tasks():
        element = getattr(task.task_spec, "bpmn_id", None)
        if not element:
            continue
        if task.state == TaskState.COMPLETED:
            done.add(element)
        elif task.state in (TaskState.READY, TaskState.STARTED, TaskState.WAITING):
            waiting.add(element)
    return done - waiting, waiting


def element_names(spec: Any, subs: Mapping[str, Any]) -> dict[str, str]:
    """Element id → the name the diagram gives it, across subprocesses."""
    names: dict[str, str] = {}
    for process in (spec, *subs.values()):
        for task_spec in process.task_specs.values():
            label = getattr(task_spec, "bpmn_name", None)
            element = getattr(task_spec, "bpmn_id", None)
            if label and element:
                names.setdefault(element, " ".join(str(label).split()))
    return names
