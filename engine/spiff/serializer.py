"""Serialization of specs (once per deployed version) and of instance state (without the spec).

Each SpiffWorkflow serialization normally embeds its spec (~16 KB); storing that once per
process-definition version and the instance state alone cuts load+complete+save roughly in
three. Deserialized specs are cached per definition, so a warm process never parses them twice.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from copy import deepcopy
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.event_definition import (
    MessageEventDefinitionConverter,
    TimerConditionalEventDefinitionConverter,
)
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.serializer.helpers.spec import TaskSpecConverter
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.camunda.serializer import DEFAULT_CONFIG

from .specs import (
    ExternalServiceTask,
    SopflowCycle,
    SopflowDuration,
    SopflowTimeDate,
    SopflowUserTask,
)


class UserTaskConverter(TaskSpecConverter):
    FIELDS: tuple[str, ...] = (
        "candidate_groups",
        "candidate_users",
        "assignee",
        "due_date",
        "follow_up",
        "priority",
        "form",
    )

    def to_dict(self, spec: Any) -> dict:
        dct = self.get_default_attributes(spec)
        for f in self.FIELDS:
            dct[f] = getattr(spec, f)
        return dct

    def from_dict(self, dct: dict) -> Any:
        return self.task_spec_from_dict(dct)


class ExternalTaskConverter(UserTaskConverter):
    FIELDS: tuple[str, ...] = (
        "topic",
        "input_parameters",
        "output_parameters",
        "retries",
        "retry_interval",
        "priority",
    )


class SpeclessWorkflowConverter(BpmnWorkflowConverter):
    """Leaves the spec out; :meth:`from_dict` takes the cached spec objects instead."""

    def to_dict(self, workflow: Any) -> dict:
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict, spec: Any = None, subprocess_specs: Any = None) -> Any:
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _config() -> dict:
    config = deepcopy(DEFAULT_CONFIG)
    config[SopflowUserTask] = UserTaskConverter
    config[ExternalServiceTask] = ExternalTaskConverter
    for cls in (SopflowTimeDate, SopflowDuration, SopflowCycle):
        config[cls] = TimerConditionalEventDefinitionConverter
    config[BpmnWorkflow] = SpeclessWorkflowConverter
    config[MessageEventDefinition] = MessageEventDefinitionConverter  # plain BPMN messages
    return config


class Serializer:
    """Thread-safe facade: spec <-> JSON, state <-> JSON, with an LRU of deserialized specs."""

    VERSION_KEY = "serializer_version"

    def __init__(self, cache_size: int = 256) -> None:
        registry = BpmnWorkflowSerializer.configure(_config())
        registry.register(
            date,
            lambda v: {"value": v.isoformat()},
            lambda v: date.fromisoformat(v["value"]),
            "date",
        )
        registry.register(
            Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]), "Decimal"
        )
        self._wf = BpmnWorkflowSerializer(registry)
        self.registry = registry
        self._cache: OrderedDict[str, tuple[Any, dict]] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    # specs -------------------------------------------------------------------------------
    def dump_spec(self, spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]) -> str:
        return json.dumps(
            {
                "spec": self.registry.convert(spec),
                "subprocess_specs": {
                    k: self.registry.convert(v) for k, v in subprocess_specs.items()
                },
            }
        )

    def load_spec(self, cache_key: str, text: str | Callable[[], str]) -> tuple[Any, dict]:
        """The spec objects of a definition; ``text`` may be a loader, called only on a miss."""
        with self._lock:
            hit = self._cache.get(cache_key)
            if hit is not None:
                self._cache.move_to_end(cache_key)
                return hit
        dct = json.loads(text if isinstance(text, str) else text())
        spec = self.registry.restore(dct["spec"])
        subs = {k: self.registry.restore(v) for k, v in dct["subprocess_specs"].items()}
        with self._lock:
            self._cache[cache_key] = (spec, subs)
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return spec, subs

    # instance state ----------------------------------------------------------------------
    def dump_state(self, workflow: BpmnWorkflow) -> str:
        dct = self._wf.to_dict(workflow)
        dct[self.VERSION_KEY] = self._wf.VERSION
        return json.dumps(dct, default=_json_default)

    def load_state(self, text: str, spec: Any, subprocess_specs: dict) -> BpmnWorkflow:
        dct = json.loads(text)
        self._wf.migrate(dct)
        return self.registry.restore(dct, spec=spec, subprocess_specs=subprocess_specs)


def _json_default(value: Any) -> Any:
    if isinstance(value, (date, Decimal)):
        return value.isoformat() if isinstance(value, date) else str(value)
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not serializable")
