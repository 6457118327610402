"""In-process workers: built-in handlers and the timer poller, on the same queue REST workers use.

A handler's exception becomes a job failure with backoff and, when retries run out, an incident;
``BpmnErrorRaised`` becomes a BPMN error for the diagram's boundary event. A worker that dies
mid-task leaves its job locked only until the lock expires; then any worker takes it again.
"""

from __future__ import annotations

import logging
import threading
import traceback
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from .errors import BpmnErrorRaised, Conflict, NotFound, SopflowError
from .runtime import Engine, LockedTask, TopicRequest
from .timers import parse_duration

log = logging.getLogger("sopflow.workers")


class _Handler(Protocol):
    topic: str

    def run(self, job: LockedTask, ctx: Any) -> Mapping[str, Any]: ...


class _Registry(Protocol):
    def get(self, topic: str) -> _Handler | None: ...

    def topics(self) -> list[str]: ...


class WorkerPool:
    def __init__(
        self,
        engine: Engine,
        registry: _Registry,
        *,
        context: Any = None,
        threads: int = 2,
        poll_interval: float = 0.5,
        lock_ms: int = 300_000,
        name: str | None = None,
    ) -> None:
        self.engine = engine
        self.registry = registry
        self.context = context
        self.threads = threads
        self.poll_interval = poll_interval
        self.lock_ms = lock_ms
        self.name = name or f"sopflow-{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def backoff_ms(self, job: LockedTask) -> int:
        """The diagram's retry interval (``R3/PT5M``) if it has one, else the growing default."""
        if job.retry_interval:
            now = self.engine.now()
            return int(
                (parse_duration(job.retry_interval).add_to(now) - now).total_seconds() * 1000
            )
        steps = self.engine.settings.retry_backoff_s
        return 1000 * steps[min(max(job.attempts - 1, 0), len(steps) - 1)]

    def run_once(self, worker_id: str | None = None) -> int:
        """Fetch and work at most one job; returns how many were worked (0 or 1)."""
        topics = self.registry.topics()
        if not topics:
            return 0
        worker_id = worker_id or f"{self.name}-0"
        jobs = self.engine.fetch_and_lock(
            worker_id, [TopicRequest(t, self.lock_ms) for t in topics], max_tasks=1
        )
        for job in jobs:
            self._work(worker_id, job)
        return len(jobs)

    def _work(self, worker_id: str, job: LockedTask) -> None:
        handler = self.registry.get(job.topic)
        if handler is None:
            self.engine.unlock(job.id)
            return
        try:
            output = handler.run(job, self.context)
        except BpmnErrorRaised as err:
            code, text, variables = err.code, err.message_en, err.variables
            self._safely(
                lambda: self.engine.bpmn_error_external(worker_id, job.id, code, text, variables)
            )
            return
        except Exception as err:  # noqa: BLE001 - any handler failure is a retriable job failure
            left = (
                job.retries if job.retries is not None else self.engine.settings.default_retries
            ) - 1
            message, details = str(err) or type(err).__name__, _details(err)
            log.warning("job %s (%s) failed: %s", job.id, job.topic, message)
            self._safely(
                lambda: self.engine.fail_external(
                    worker_id,
                    job.id,
                    message,
                    details=details,
                    retries=max(left, 0),
                    retry_timeout_ms=self.backoff_ms(job),
                )
            )
            return
        try:
            self.engine.complete_external(worker_id, job.id, dict(output or {}))
        except (NotFound, Conflict) as err:
            log.info("job %s vanished or moved on: %s", job.id, err)
        except SopflowError as err:  # the process could not continue (e.g. a bad expression ahead)
            reason = str(err)
            self._safely(lambda: self.engine.fail_external(worker_id, job.id, reason, retries=0))

    def _safely(self, fn: Callable[[], Any]) -> None:
        try:
            fn()
        except (NotFound, Conflict) as e:
            log.info("job outcome not recorded (%s); the lock will expire", e)

    def _loop(self, index: int) -> None:
        worker_id = f"{self.name}-{index}"
        while not self._stop.is_set():
            try:
                worked = self.run_once(worker_id)
            except Exception:  # noqa: BLE001 - a DB hiccup must not kill the worker thread
                log.exception("worker %s: unexpected error", worker_id)
                worked = 0
            if not worked:
                self._stop.wait(self.poll_interval)

    def start(self) -> None:
        self._stop.clear()
        for i in range(self.threads):
            t = threading.Thread(target=self._loop, args=(i,), name=f"{self.name}-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout)
        self._threads.clear()


class PeriodicThread:
    """A daemon thread calling :meth:`tick` until stopped; a tick that reports more work
    waiting runs again at once, otherwise the thread sleeps ``interval`` seconds."""

    name = "sopflow-periodic"

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> bool:
        """One round of work; return True when more is waiting right now."""
        raise NotImplementedError

    def _loop(self) -> None:
        while not self._stop.is_set():
            busy = False
            try:
                busy = self.tick()
            except Exception:  # noqa: BLE001 - a DB hiccup must not kill the thread
                log.exception("%s: unexpected error", self.name)
            if not busy:
                self._stop.wait(self.interval)

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None


class TimerPoller(PeriodicThread):
    name = "sopflow-timers"

    def __init__(self, engine: Engine, interval: float = 1.0) -> None:
        super().__init__(interval)
        self.engine = engine

    def tick(self) -> bool:
        self.engine.fire_due_timers()
        return False


def _details(e: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(e), e)).strip()
