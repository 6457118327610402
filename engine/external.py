"""What a worker asks the job queue for (:class:`TopicRequest`) and what it gets
(:class:`LockedTask`), the same for REST workers and the built-in handlers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .models import ProcessInstance
from .variables import plain


@dataclass(frozen=True)
class TopicRequest:
    topic: str
    lock_duration_ms: int = 300_000
    variables: Sequence[str] | None = None
    # filters (Camunda's per-topic fetchAndLock options); None: no filter
    business_key: str | None = None
    definition_keys: Sequence[str] | None = None
    process_variables: Mapping[str, Any] | None = None
    local_only: bool = False  # only the job's own (input) variables, not the process's

    @property
    def filtered(self) -> bool:
        return bool(
            self.business_key is not None
            or self.definition_keys is not None
            or self.process_variables
        )

    def matches(self, inst: ProcessInstance, key: str) -> bool:
        if self.business_key is not None and inst.business_key != self.business_key:
            return False
        if self.definition_keys is not None and key not in self.definition_keys:
            return False
        current = inst.variables or {}
        return all(
            name in current and current[name] == plain(value)
            for name, value in (self.process_variables or {}).items()
        )


@dataclass
class LockedTask:
    id: str
    topic: str
    worker_id: str
    agency: str
    instance_id: str
    business_key: str
    definition_id: str
    definition_key: str
    element_id: str
    variables: dict[str, Any]
    retries: int | None
    attempts: int
    lock_expires_at: datetime
    priority: int
    error_message: str | None = None
    retry_interval: str | None = None
