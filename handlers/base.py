"""What a service-task handler is: a topic, declared inputs and outputs, and a ``run`` method.

Handlers are worked through the engine's external-task queue exactly like remote Camunda
workers, so retries, incidents and BPMN errors behave the same whoever does the work. A handler
gets everything it needs through :class:`HandlerContext`; nothing happens at import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from engine.errors import BpmnErrorRaised, SopflowError
from engine.runtime import LockedTask as Job  # a handler sees exactly what a REST worker sees

__all__ = ["BpmnErrorRaised", "Handler", "HandlerContext", "HandlerError", "Job"]


class HandlerError(SopflowError):
    """A handler failed in a way worth retrying (server down, timeout); becomes a job failure."""


@dataclass
class HandlerContext:
    """Everything a handler may use; built once per worker pool."""

    clock: Any
    sessions: Any
    settings: Mapping[str, Any] = field(default_factory=dict)

    def now(self) -> datetime:
        return self.clock.now()


class Handler:
    topic: ClassVar[str]
    description: ClassVar[str] = ""
    inputs: ClassVar[Mapping[str, str]] = {}
    outputs: ClassVar[Mapping[str, str]] = {}

    def run(self, job: Job, ctx: HandlerContext) -> Mapping[str, Any]:
        """Do the work; return output variables, raise BpmnErrorRaised for a business outcome
        the diagram models, any other exception for a failure to retry."""
        raise NotImplementedError
