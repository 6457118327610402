"""What a service-task handler is: a topic, declared inputs and outputs, and a ``run`` method.

Handlers are worked through the engine's external-task queue exactly like remote Camunda
workers, so retries, incidents and BPMN errors behave the same whoever does the work. A handler
gets everything it needs through :class:`HandlerContext`; nothing happens at import time.

Every handler has one shape, the one the DNS providers have (:mod:`handlers.dns.base`): the
public :meth:`Handler.run` validates the job (:meth:`Handler.validate`), logs, does the work in
the private :meth:`Handler._run` and logs the outcome; a :class:`HandlerError` that escapes gets
the job's agency and element added to its context. A handler whose work can be rehearsed (DNS:
``dns.dry_run``) honours the dry run inside ``_run``, where it knows what would be written.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from engine.errors import BpmnErrorRaised, SopflowError
from engine.runtime import LockedTask as Job  # a handler sees exactly what a REST worker sees

__all__ = ["BpmnErrorRaised", "Handler", "HandlerContext", "HandlerError", "Job"]

log = logging.getLogger("sopflow.handlers")


class HandlerError(SopflowError):
    """A handler failed in a way worth retrying (server down, timeout); becomes a job failure.

    Carries, besides the bilingual message, the context an administrator acts on: ``record``
    (what was being written: a name, a file, a message), ``agency`` and ``element`` (the
    service task's id in the diagram; :meth:`Handler.run` fills it in)."""

    def __init__(
        self,
        en: str,
        id: str | None = None,
        *,
        record: str | None = None,
        agency: str | None = None,
        element: str | None = None,
        **context: Any,
    ) -> None:
        self.record = record
        self.agency = agency
        self.element = element
        super().__init__(en, id, record=record, agency=agency, element=element, **context)

    def add_context(self, **context: Any) -> None:
        """Fill in what the raiser did not know (never overwrites what it said)."""
        for key, value in context.items():
            if value is None or self.context.get(key) is not None:
                continue
            self.context[key] = value
            if key in ("record", "agency", "element"):
                setattr(self, key, value)


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
    errors: ClassVar[Mapping[str, str]] = {}  # BPMN error codes the handler may raise

    def run(self, job: Job, ctx: HandlerContext) -> Mapping[str, Any]:
        """Validate, log, do the work (:meth:`_run`), log the outcome.

        Returns the output variables; raises BpmnErrorRaised for a business outcome the diagram
        models, any other exception for a failure to retry."""
        self.validate(job)
        where = f"{self.topic} job {job.id} ({job.agency} {job.business_key}, {job.element_id})"
        log.debug("%s: start", where)
        t0 = time.perf_counter()
        try:
            outputs = self._run(job, ctx)
        except BpmnErrorRaised as e:
            log.info("%s: BPMN error %s", where, e.code)
            raise
        except HandlerError as e:
            e.add_context(agency=job.agency, element=job.element_id)
            log.info("%s: failed: %s", where, e)
            raise
        log.debug("%s: done in %.3f s", where, time.perf_counter() - t0)
        return outputs

    def validate(self, job: Job) -> None:
        """Checks of the job that need neither the database nor the network; a subclass adds
        its own (and calls this one)."""
        if not job.agency:
            raise HandlerError(
                f"{self.topic}: the job names no agency",
                f"{self.topic}: tugas tidak menyebut instansi",
                element=job.element_id,
            )

    def _run(self, job: Job, ctx: HandlerContext) -> Mapping[str, Any]:
        """The work itself, after :meth:`run` validated and logged."""
        raise NotImplementedError
