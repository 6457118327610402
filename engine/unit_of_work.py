"""The one transaction skeleton every command that changes an instance goes through.

An attempt: begin a transaction, let the command find and lock its instance (``Tx.open`` loads
the workflow: the live object this process saved last if nobody has written since, else
deserialized from the stored state), act on it, run engine steps to the next wait state,
project the workflow onto the rows (:mod:`engine.projection`) and save its state. The save's
UPDATE carries the ``lock_version`` read: when a concurrent writer won, it matches no row and
the whole attempt is redone from a fresh load, up to ``conflict_retries`` times, then fails as
:class:`~engine.errors.Conflict`. After the commit the live workflow is kept for the next step;
after a rollback it is dropped (a failed step must never leave its object behind).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from SpiffWorkflow.bpmn import BpmnWorkflow
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from .context import Context
from .errors import Conflict
from .models import Agency, ProcessInstance
from .projection import Projection
from .spiff import steps

T = TypeVar("T")
_KEEP = "sopflow.keep"


class LiveWorkflows:
    """Live workflows between steps, by instance id, each valid for one ``lock_version`` only;
    the least recently used go first beyond ``size`` entries (0: keep none)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[str, tuple[int, BpmnWorkflow]] = OrderedDict()

    def take(self, instance_id: str, version: int) -> BpmnWorkflow | None:
        """The workflow saved at ``version``, removed from the cache (a step owns it now)."""
        with self._lock:
            hit = self._items.pop(instance_id, None)
        return hit[1] if hit is not None and hit[0] == version else None

    def keep(self, instance_id: str, version: int, wf: BpmnWorkflow) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._items[instance_id] = (version, wf)
            self._items.move_to_end(instance_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def drop(self, instance_id: str) -> None:
        with self._lock:
            self._items.pop(instance_id, None)


class Tx:
    """One attempt of a change: its session, its start time, and the instance it changes.

    After the command's ``act`` returns, the opened workflow is advanced and saved (the
    default), only saved (:meth:`save_only`: the command projected what it changed itself),
    or left unsaved (:meth:`leave`: nothing in the workflow changed)."""

    def __init__(self, uow: UnitOfWork, s: Session, since: float) -> None:
        self.uow = uow
        self.s = s
        self.since = since
        self.agency: Agency | None = None
        self.inst: ProcessInstance | None = None
        self.wf: BpmnWorkflow | None = None
        self.mode = "advance"

    def agency_of(self, code: str) -> Agency:
        return self.uow.ctx.agency(self.s, code)

    def open(
        self, agency: Agency, inst: ProcessInstance, wf: BpmnWorkflow | None = None
    ) -> BpmnWorkflow:
        """Make ``inst`` (locked or new) the instance this attempt changes; its workflow."""
        self.agency, self.inst = agency, inst
        self.wf = wf if wf is not None else self.uow.load(self.s, inst, agency)
        return self.wf

    def save_only(self) -> None:
        self.mode = "save"

    def leave(self) -> None:
        self.mode = "none"


class UnitOfWork:
    def __init__(self, ctx: Context, projection: Projection, workflows: LiveWorkflows) -> None:
        self.ctx = ctx
        self.projection = projection
        self.workflows = workflows
        watch(ctx.sessions)

    def change(
        self,
        act: Callable[[Tx], T],
        actor: str | None,
        *,
        refresh_timers: bool = False,
        retry: bool = True,
    ) -> T:
        """Run ``act`` in a transaction, then advance and save the instance it opened."""

        def attempt() -> T:
            since = time.time()
            with self.ctx.sessions.begin() as s:
                tx = Tx(self, s, since)
                result = act(tx)
                if tx.inst is not None and tx.wf is not None and tx.agency is not None:
                    if tx.mode == "advance":
                        self.advance(s, tx.agency, tx.inst, tx.wf, actor, refresh_timers, since)
                    elif tx.mode == "save":
                        self.save(s, tx.inst, tx.wf)
                return result

        return self.retrying(attempt) if retry else attempt()

    def retrying(self, fn: Callable[[], T]) -> T:
        """Retry an action that re-reads everything it needs when a concurrent save won."""
        retries = self.ctx.settings.conflict_retries
        for attempt in range(retries):
            try:
                return fn()
            except StaleDataError:
                if attempt == retries - 1:
                    break
                time.sleep(0.005 * (attempt + 1))
        raise Conflict(
            "The request was changed by someone else at the same time; reload and retry",
            "Permohonan diubah orang lain pada saat yang sama; muat ulang lalu coba lagi",
        )

    def load(self, s: Session, inst: ProcessInstance, agency: Agency) -> BpmnWorkflow:
        """The instance's workflow: the live object this process saved last, if nobody has
        written since (same ``lock_version``), else deserialized from the stored state."""
        wf = self.workflows.take(inst.id, inst.lock_version)
        if wf is None:
            spec, subs = self.ctx.spec(s, inst.definition_id)
            wf = self.ctx.serializer.load_state(inst.state_json, spec, subs)
        wf.script_engine = self.ctx.script_engine(s, agency)
        return wf

    def advance(
        self,
        s: Session,
        agency: Agency,
        inst: ProcessInstance,
        wf: BpmnWorkflow,
        actor: str | None,
        refresh_timers: bool = False,
        since: float = 0.0,
    ) -> None:
        """Engine steps to the next wait state, then the projection and the save."""
        for task_id, element_id in steps.advance(wf, refresh_timers):
            self.ctx.history(
                s,
                agency.id,
                "timer_fired",
                "timer",
                instance_id=inst.id,
                element_id=element_id,
                task_id=task_id,
            )
        self.projection.sync(s, agency, inst, wf, since)
        self.save(s, inst, wf)

    def save(self, s: Session, inst: ProcessInstance, wf: BpmnWorkflow) -> None:
        s.info.setdefault(_KEEP, []).append((self, inst, wf))  # see _after_commit
        inst.state_json = self.ctx.serializer.dump_state(wf)
        s.flush()

    def keep(self, inst: ProcessInstance, wf: BpmnWorkflow) -> None:
        """After a successful commit only: a failed step must never leave its object behind."""
        if self.ctx.settings.workflow_cache <= 0 or inst.state != "running":
            return
        self.workflows.keep(inst.id, inst.lock_version, wf)


def watch(sessions: sessionmaker[Session] | None) -> None:
    """Hook the after-commit keep and after-rollback drop into ``sessions`` (once)."""
    if sessions is not None and not event.contains(sessions, "after_commit", _after_commit):
        event.listen(sessions, "after_commit", _after_commit)
        event.listen(sessions, "after_soft_rollback", _after_rollback)


def _after_commit(session: Session) -> None:
    for uow, inst, wf in session.info.pop(_KEEP, []):
        uow.keep(inst, wf)


def _after_rollback(session: Session, *_: Any) -> None:
    session.info.pop(_KEEP, None)
