"""Task specs and timer event definitions of the sopflow dialect.

SpiffWorkflow's Camunda support parks every service task as a no-op and ignores candidate
groups, assignees and input mappings; these specs keep what a Camunda 7 diagram says so the
engine can project inboxes and job queues from it. Timers ask the workflow's script engine for
the time, so a test clock (or an agency calendar for ``workdays(n)``) reaches them without
patching module globals.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.defaults import ServiceTask, UserTask
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
)
from SpiffWorkflow.bpmn.util import PendingBpmnEvent
from SpiffWorkflow.util.task import TaskState


class SopflowUserTask(UserTask):
    """A human task: who may do it, what form they fill, when it is due."""

    def __init__(
        self,
        wf_spec: Any,
        bpmn_id: str,
        candidate_groups: list[str] | None = None,
        candidate_users: list[str] | None = None,
        assignee: str | None = None,
        due_date: str | None = None,
        follow_up: str | None = None,
        priority: str | None = None,
        form: dict | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.candidate_groups = candidate_groups or []
        self.candidate_users = candidate_users or []
        self.assignee = assignee
        self.due_date = due_date
        self.follow_up = follow_up
        self.priority = priority
        self.form = form or {"fields": []}


class ExternalServiceTask(ServiceTask):
    """A ``camunda:type="external"`` service task: it parks until a worker completes its job."""

    def __init__(
        self,
        wf_spec: Any,
        bpmn_id: str,
        topic: str = "",
        input_parameters: list[list[Any]] | None = None,
        output_parameters: list[list[Any]] | None = None,
        retries: int | None = None,
        retry_interval: str | None = None,
        priority: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.topic = topic
        # [name, kind, value]: kind is "text" (constant or ${...}), "list" or "map"
        self.input_parameters = input_parameters or []
        self.output_parameters = output_parameters or []
        self.retries = retries
        self.retry_interval = retry_interval
        self.priority = priority

    def _run_hook(self, task: Any) -> None:
        # None leaves the task STARTED: the engine turns it into an external_task row.
        return None


def _engine(my_task: Any) -> Any:
    return my_task.workflow.script_engine


def _timer_value(my_task: Any, expression: str) -> Any:
    """A timer's text may be plain ISO 8601 (as the Modeler writes it) or an expression."""
    from ..expressions import is_juel

    text = (expression or "").strip()
    if is_juel(text):
        return _engine(my_task).evaluate(my_task, text)
    return text


class SopflowTimeDate(TimeDateEventDefinition):
    def has_fired(self, my_task: Any) -> bool:
        return _one_shot_fired(self, my_task, "date")


class SopflowDuration(DurationTimerEventDefinition):
    def has_fired(self, my_task: Any) -> bool:
        return _one_shot_fired(self, my_task, "duration")


def _one_shot_fired(definition: Any, my_task: Any, kind: str) -> bool:
    engine = _engine(my_task)
    event_value = my_task._get_internal_data("event_value")
    if event_value is None:
        due = engine.timer_due(kind, _timer_value(my_task, definition.expression))
        event_value = due.isoformat()
        my_task._set_internal_data(event_value=event_value)
    if datetime.fromisoformat(event_value) <= engine.now():
        my_task._set_internal_data(event_fired=True)
    return bool(my_task._get_internal_data("event_fired", False))


class SopflowCycle(CycleTimerEventDefinition):
    """``R3/P1D`` and friends: fires once per due moment, spawning the boundary path each time."""

    def cycle_complete(self, my_task: Any) -> bool:
        engine = _engine(my_task)
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            text = _timer_value(my_task, self.expression)
            cycle = engine.parse_cycle(text)
            first = cycle.first_due(engine.now())
            event_value = {
                "cycles": -1 if cycle.repetitions is None else cycle.repetitions,
                "next": first.isoformat(),
                "text": text,
            }
        ready = False
        if event_value["cycles"] != 0:
            next_due = datetime.fromisoformat(event_value["next"])
            if next_due <= engine.now():
                cycle = engine.parse_cycle(event_value["text"])
                event_value["next"] = cycle.next_due(next_due).isoformat()
                event_value["cycles"] -= 1
                ready = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
            return False
        my_task._set_internal_data(event_value=event_value)
        return ready

    def update_task(self, my_task: Any) -> None:
        if self.cycle_complete(my_task):
            for output in my_task.task_spec.outputs:
                child = my_task._add_child(output, TaskState.FUTURE)
                child.task_spec._predict(child, mask=TaskState.NOT_FINISHED_MASK)
                child.task_spec._update(child)

    def details(self, my_task: Any) -> PendingBpmnEvent:
        event_value = my_task._get_internal_data("event_value")
        if event_value is not None and event_value["cycles"] != 0:
            event_value = event_value["next"]
        return PendingBpmnEvent(self.name, self.__class__.__name__, event_value)


TIMER_CLASSES = {"date": SopflowTimeDate, "duration": SopflowDuration, "cycle": SopflowCycle}
