"""Acting on a live workflow: start one, run it to the next wait state, answer a user or service
task, deliver a message, throw a BPMN error to its boundary event, rewrite active data. A
SpiffWorkflow exception leaves here as :class:`~engine.errors.WorkflowError`."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from ..errors import ExpressionError, SopflowError, WorkflowError
from ..expressions import is_juel
from .reserved import public
from .scripting import SafeScriptEngine
from .tree import ACTIVE, boundaries, enclosing, has_fired, tasks, waiting_timers


def workflow_error(e: Exception) -> WorkflowError:
    task = getattr(e, "task", None)
    element = getattr(getattr(task, "task_spec", None), "bpmn_id", None) if task else None
    cause = getattr(e, "exception", None)
    msg = str(cause) if isinstance(cause, SopflowError) else public(str(e))
    return WorkflowError(
        f"The process cannot continue at '{element}': {msg}",
        f"Proses tidak dapat berlanjut di '{element}': {msg}",
        element_id=element,
    )


def new_workflow(
    spec: Any, subs: Any, engine: SafeScriptEngine, data: Mapping[str, Any]
) -> BpmnWorkflow:
    """A fresh workflow whose ready tasks (the start event) carry ``data``."""
    wf = BpmnWorkflow(spec, subs, script_engine=engine)
    for t in wf.get_tasks(state=TaskState.READY):
        t.data.update(copy.deepcopy(dict(data)))
    return wf


def run_engine_steps(wf: BpmnWorkflow) -> None:
    try:
        wf.do_engine_steps()
    except SpiffWorkflowException as e:
        raise workflow_error(e)


def advance(wf: BpmnWorkflow, refresh_timers: bool = False) -> list[tuple[str, str]]:
    """Run to the next wait state; the (task id, element id) of each timer that fired."""
    before = waiting_timers(wf)
    try:
        if refresh_timers:
            wf.refresh_timers()
        wf.do_engine_steps()
    except SpiffWorkflowException as e:
        raise workflow_error(e)
    return [(str(tid), t.task_spec.bpmn_id) for tid, t in before.items() if has_fired(t)]


def task_in(wf: BpmnWorkflow, task_id: str, state: str) -> Any:
    """The task ``task_id`` if it is ``ready`` (a user task) or ``started`` (a job), else None."""
    task = wf.get_task_from_id(UUID(task_id))
    wanted = TaskState.READY if state == "ready" else TaskState.STARTED
    return task if task is not None and task.state == wanted else None


def run_user_task(task: Any, values: Mapping[str, Any]) -> None:
    task.data.update(copy.deepcopy(dict(values)))
    try:
        task.run()
    except SpiffWorkflowException as e:
        raise workflow_error(e)


def complete_service_task(
    task: Any, variables: Mapping[str, Any], engine: SafeScriptEngine
) -> None:
    """A worker's answer: its variables, then the task's output mappings, then on."""
    task.data.update(copy.deepcopy(dict(variables)))
    outputs(task, engine)
    try:
        task.complete()
    except SpiffWorkflowException as e:
        raise workflow_error(e)


def inputs(t: Any, engine: SafeScriptEngine) -> dict[str, Any]:
    """The job's input mappings, evaluated against the task's data."""
    data = dict(t.data)
    out: dict[str, Any] = {}

    def ev(text: str) -> Any:
        return engine.evaluate_data(text, data) if is_juel(text) else text

    try:
        for name, kind, value in t.task_spec.input_parameters:
            if kind == "list":
                out[name] = [ev(v) for v in value]
            elif kind == "map":
                out[name] = {k: ev(v) for k, v in value.items()}
            else:
                out[name] = ev(value)
    except ExpressionError as e:
        raise WorkflowError(
            f"Input mapping of '{t.task_spec.bpmn_id}' failed: {e.message_en}",
            f"Pemetaan input '{t.task_spec.bpmn_id}' gagal: {e.message_id}",
            element_id=t.task_spec.bpmn_id,
        )
    return out


def outputs(task: Any, engine: SafeScriptEngine) -> None:
    for name, kind, value in task.task_spec.output_parameters:
        if kind == "text":
            task.data[name] = (
                engine.evaluate_data(value, dict(task.data)) if is_juel(value) else value
            )


def error_catcher(wf: BpmnWorkflow, task: Any, code: str) -> Any:
    """The nearest boundary event catching BPMN error ``code``, or None."""
    probe = BpmnEvent(ErrorEventDefinition(code, code=code))
    current = task
    while current is not None:
        for b in boundaries(current):
            definition = getattr(b.task_spec, "event_definition", None)
            if isinstance(definition, ErrorEventDefinition) and (
                definition.code is None or definition.catches(b, probe)
            ):
                return b
        current = enclosing(current, wf)
    return None


def throw_error(task: Any, catcher: Any, code: str, variables: Mapping[str, Any]) -> None:
    """Camunda sets only the variables the worker sent; code and message go to history."""
    task.data.update(copy.deepcopy(dict(variables)))
    event = BpmnEvent(ErrorEventDefinition(code, code=code), copy.deepcopy(dict(variables)))
    catcher.task_spec.catch(catcher, event)
    catcher.task_spec._update(catcher)


def deliver(wf: BpmnWorkflow, name: str, variables: Mapping[str, Any]) -> bool:
    """Hand a message to the first event waiting for it; its variables join the process."""
    for t in tasks(wf, TaskState.WAITING):
        definition = getattr(t.task_spec, "event_definition", None)
        if isinstance(definition, MessageEventDefinition) and definition.name == name:
            t.task_spec.catch(t, BpmnEvent(definition, payload=copy.deepcopy(dict(variables))))
            t.task_spec._update(t)
            return True
    return False


def set_data(wf: BpmnWorkflow, values: Mapping[str, Any], removed: Iterable[str]) -> None:
    """Write into every active step's data, from which later steps inherit."""
    gone = list(removed)
    for t in tasks(wf, ACTIVE):
        t.data.update(copy.deepcopy(dict(values)))
        for name in gone:
            t.data.pop(name, None)
