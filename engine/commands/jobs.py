"""The job queue (Camunda's external tasks): fetch and lock, extend, unlock, retries, and a
worker's answer (complete, failure, BPMN error). Built-in handlers and REST workers alike."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from .. import access
from ..access import Permission
from ..actors import Actor
from ..context import Context, rowcount
from ..errors import Conflict, NotFound, NotLockedByWorker, PermissionDenied, SopflowError
from ..external import LockedTask, TopicRequest
from ..models import Agency, ExternalTask, Incident, ProcessInstance
from ..queries.instances import find_instance
from ..spiff import steps
from ..topic_queue import FetchRecorder
from ..unit_of_work import Tx, UnitOfWork
from ..variables import check_names
from .incidents import requeue, resolve


class Jobs:
    """The queue's commands; ``builtin_topics`` are never handed to a REST worker."""

    def __init__(self, uow: UnitOfWork, builtin_topics: Iterable[str], fetches: FetchRecorder):
        self.uow = uow
        self.ctx: Context = uow.ctx
        self.builtin_topics = frozenset(builtin_topics)
        self.fetches = fetches

    # ------------------------------------------------------------------ access
    def check_access(self, actor: Actor, topic: str, *, manage: bool = False) -> None:
        """A REST caller works jobs only as a ``worker`` (``manage``: or an administrator for
        unlock and retries), and never those of topics the built-in handlers work: a name
        check, a DNS change or a letter is not something a token may skip or forge."""
        if actor.system:
            return
        if not (manage and access.allowed(actor, Permission.MANAGE_JOBS)):
            access.require(actor, Permission.WORK_JOBS)
            if topic in self.builtin_topics:
                raise PermissionDenied(
                    f"Topic '{topic}' is worked by sopflow's built-in handlers",
                    f"Topic '{topic}' dikerjakan oleh handler bawaan sopflow",
                    topic=topic,
                )

    def find(
        self,
        s: Session,
        task_id: str,
        agency: str | None,
        worker_id: str | None,
        *,
        actor: Actor | None = None,
        manage: bool = False,
    ) -> ExternalTask:
        """The job, locked for this transaction; with ``worker_id``, only while it holds it."""
        q = select(ExternalTask).where(ExternalTask.id == task_id)
        if self.ctx.is_pg(s):
            q = q.with_for_update(of=ExternalTask)
        job = s.scalar(q)
        if actor is not None:
            agency = actor.agency
        if job is None or (agency is not None and job.agency_id != self.ctx.agency(s, agency).id):
            raise NotFound(
                f"External task '{task_id}' not found", f"External task '{task_id}' tidak ditemukan"
            )
        if actor is not None:
            self.check_access(actor, job.topic, manage=manage)
        if worker_id is not None and (job.state != "locked" or job.worker_id != worker_id):
            raise NotLockedByWorker(
                f"External task '{task_id}' is not locked by worker '{worker_id}'",
                f"External task '{task_id}' tidak dikunci oleh worker '{worker_id}'",
            )
        return job

    def _history(
        self, s: Session, job: ExternalTask, kind: str, worker: str, data: Mapping[str, Any]
    ) -> None:
        self.ctx.history(
            s,
            job.agency_id,
            kind,
            worker,
            instance_id=job.instance_id,
            element_id=job.element_id,
            task_id=job.id,
            data=data,
        )

    def _incident(
        self,
        s: Session,
        job: ExternalTask,
        kind: str,
        message: str | None,
        details: str | None,
        worker: str,
        data: Mapping[str, Any],
        now: datetime | None = None,
    ) -> None:
        job.state = "incident"
        job.worker_id = None
        s.add(
            Incident(
                agency_id=job.agency_id,
                instance_id=job.instance_id,
                external_task_id=job.id,
                element_id=job.element_id,
                kind=kind,
                message=message,
                details=details,
                created_at=now or self.ctx.now(),
            )
        )
        self._history(s, job, "incident_created", worker, data)

    # ------------------------------------------------------------------ the queue
    def fetch_and_lock(
        self,
        worker_id: str,
        topics: Sequence[TopicRequest],
        max_tasks: int = 1,
        *,
        agency: str | None = None,
        business_key: str | None = None,
        use_priority: bool = True,
        newest_first: bool = False,
        actor: Actor | None = None,
    ) -> list[LockedTask]:
        """Claim up to ``max_tasks`` jobs; a conditional UPDATE makes each claim atomic on any
        database, and SKIP LOCKED keeps PostgreSQL workers from queueing behind each other.

        Order: highest priority first (``use_priority``), then by creation time (oldest first
        unless ``newest_first``). Topics with filters (business key, definition keys, process
        variable values) are matched against the job's instance after the query."""
        ctx = self.ctx
        if actor is not None:
            agency = actor.agency
            for t in topics:
                self.check_access(actor, t.topic)
        if not topics or max_tasks <= 0:
            return []
        by_topic = {t.topic: t for t in topics}
        filtered = any(t.filtered for t in topics)
        now = ctx.now()
        claimable = or_(
            (ExternalTask.state == "available") & (ExternalTask.available_at <= now),
            (ExternalTask.state == "locked") & (ExternalTask.lock_expires_at <= now),
        )
        with ctx.sessions.begin() as s:
            q = select(ExternalTask).where(ExternalTask.topic.in_(list(by_topic)), claimable)
            if agency is not None:
                q = q.where(ExternalTask.agency_id == ctx.agency(s, agency).id)
            if business_key is not None:
                q = q.join(ProcessInstance, ProcessInstance.id == ExternalTask.instance_id).where(
                    ProcessInstance.business_key == business_key
                )
            created = ExternalTask.created_at.desc() if newest_first else ExternalTask.created_at
            order = (ExternalTask.priority.desc(), created) if use_priority else (created,)
            q = q.order_by(*order, ExternalTask.id).limit(500 if filtered else max_tasks)
            if ctx.is_pg(s):
                q = q.with_for_update(skip_locked=True, of=ExternalTask)
            out: list[LockedTask] = []
            for job in s.scalars(q).all():
                if len(out) >= max_tasks:
                    break
                req = by_topic[job.topic]
                if req.filtered:
                    candidate = s.get(ProcessInstance, job.instance_id)
                    if candidate is None or not req.matches(
                        candidate, ctx.meta(s, candidate.definition_id)["key"]
                    ):
                        continue
                expires = now + timedelta(milliseconds=max(req.lock_duration_ms, 1))
                res = s.execute(
                    update(ExternalTask)
                    .where(ExternalTask.id == job.id, claimable)
                    .values(
                        state="locked",
                        worker_id=worker_id,
                        lock_expires_at=expires,
                        attempts=ExternalTask.attempts + 1,
                    )
                    .execution_options(synchronize_session=False)
                )
                if rowcount(res) != 1:
                    continue
                out.append(self._locked(s, job, req, worker_id, expires))
            if actor is not None and not actor.system and agency is not None:
                # last, so its row locks are held only until the commit
                self.fetches.record(s, ctx.agency(s, agency).id, by_topic, worker_id, now)
            return out

    def _locked(
        self, s: Session, job: ExternalTask, req: TopicRequest, worker_id: str, expires: Any
    ) -> LockedTask:
        inst = s.get(ProcessInstance, job.instance_id)
        ag = s.get(Agency, job.agency_id)
        assert inst is not None and ag is not None
        variables = dict(job.variables) if req.local_only else {**inst.variables, **job.variables}
        if req.variables is not None:
            variables = {k: v for k, v in variables.items() if k in req.variables}
        return LockedTask(
            id=job.id,
            topic=job.topic,
            worker_id=worker_id,
            agency=ag.code,
            instance_id=inst.id,
            business_key=inst.business_key,
            definition_id=inst.definition_id,
            definition_key=self.ctx.meta(s, inst.definition_id)["key"],
            element_id=job.element_id,
            variables=variables,
            retries=job.retries,
            attempts=job.attempts + 1,
            lock_expires_at=expires,
            priority=job.priority,
            error_message=job.error_message,
            retry_interval=job.retry_interval,
        )

    def extend_lock(
        self,
        worker_id: str,
        task_id: str,
        new_duration_ms: int,
        *,
        agency: str | None = None,
        actor: Actor | None = None,
    ) -> None:
        with self.ctx.sessions.begin() as s:
            job = self.find(s, task_id, agency, worker_id, actor=actor)
            job.lock_expires_at = self.ctx.now() + timedelta(milliseconds=max(new_duration_ms, 1))

    def unlock(
        self, task_id: str, *, agency: str | None = None, actor: Actor | None = None
    ) -> None:
        with self.ctx.sessions.begin() as s:
            job = self.find(s, task_id, agency, None, actor=actor, manage=True)
            if job.state == "locked":
                job.state = "available"
                job.worker_id = None
                job.lock_expires_at = None

    def set_retries(self, actor: Actor, task_id: str, retries: int) -> ExternalTask:
        """Camunda's ``PUT /external-task/{id}/retries``: with retries left, a job that had
        become an incident goes back to the queue and its incident is resolved."""
        if not actor.is_admin:
            raise PermissionDenied(
                "Only administrators set retries", "Hanya administrator yang mengatur ulang coba"
            )
        if retries < 0:
            raise SopflowError(
                "Retries must not be negative", "Jumlah ulang coba tidak boleh negatif"
            )
        with self.ctx.sessions.begin() as s:
            job = self.find(s, task_id, actor.agency, None, actor=actor, manage=True)
            now = self.ctx.now()
            job.retries = retries
            if retries > 0 and job.state == "incident":
                requeue(job, now)
                for inc in s.scalars(
                    select(Incident).where(
                        Incident.external_task_id == job.id, Incident.resolved_at.is_(None)
                    )
                ):
                    resolve(self.ctx, s, inc, actor, now)
            s.flush()
            return job

    # ------------------------------------------------------------------ a worker's answer
    def _open(self, tx: Tx, task_id: str, agency: str | None, worker_id: str, actor: Any) -> Any:
        """Lock the job, then its instance; the job's task, still waiting for the worker."""
        job = self.find(tx.s, task_id, agency, worker_id, actor=actor)
        ag = tx.s.get(Agency, job.agency_id)
        assert ag is not None
        inst = find_instance(tx.s, None, job.instance_id, lock=True)
        wf = tx.open(ag, inst)
        task = steps.task_in(wf, task_id, "started")
        if task is None:
            raise Conflict(
                "The service task is no longer waiting", "Service task tidak lagi menunggu"
            )
        return job, wf, task

    def complete(
        self,
        worker_id: str,
        task_id: str,
        variables: Mapping[str, Any] | None = None,
        *,
        agency: str | None = None,
        actor: Actor | None = None,
    ) -> None:
        values = check_names(variables or {})

        def act(tx: Tx) -> None:
            job, wf, task = self._open(tx, task_id, agency, worker_id, actor)
            steps.complete_service_task(task, values, wf.script_engine)
            self._history(
                tx.s, job, "job_completed", worker_id, {"topic": job.topic, "variables": values}
            )

        self.uow.change(act, worker_id)

    def fail(
        self,
        worker_id: str,
        task_id: str,
        message: str,
        *,
        details: str | None = None,
        retries: int | None = None,
        retry_timeout_ms: int = 0,
        agency: str | None = None,
        actor: Actor | None = None,
    ) -> ExternalTask:
        """Record a failure: back to the queue after ``retry_timeout_ms`` or, when no retries
        are left, an incident that an administrator can retry."""
        with self.ctx.sessions.begin() as s:
            job = self.find(s, task_id, agency, worker_id, actor=actor)
            now = self.ctx.now()
            left = (
                retries
                if retries is not None
                else max((job.retries or self.ctx.settings.default_retries) - 1, 0)
            )
            job.retries = left
            job.error_message = (message or "")[:4000]
            job.error_details = details[:65000] if details else None
            job.worker_id = None
            job.lock_expires_at = None
            if left <= 0:
                data: dict[str, Any] = {"topic": job.topic, "message": job.error_message}
                kind = "failedExternalTask"
                self._incident(
                    s, job, kind, job.error_message, job.error_details, worker_id, data, now
                )
            else:
                job.state = "available"
                job.available_at = now + timedelta(milliseconds=max(retry_timeout_ms, 0))
                data = {"topic": job.topic, "message": job.error_message, "retries": left}
                self._history(s, job, "job_failed", worker_id, data)
            return job

    def bpmn_error(
        self,
        worker_id: str,
        task_id: str,
        code: str,
        message: str | None = None,
        variables: Mapping[str, Any] | None = None,
        *,
        agency: str | None = None,
        actor: Actor | None = None,
    ) -> bool:
        """Route a business error to the nearest boundary event catching ``code``.

        Returns False, and raises an incident instead, when nothing catches it: dropping the
        error would silently end the request."""
        values = dict(variables or {})

        def act(tx: Tx) -> bool:
            job, wf, task = self._open(tx, task_id, agency, worker_id, actor)
            catcher = steps.error_catcher(wf, task, code)
            if catcher is None:
                job.error_message = f"Unhandled BPMN error {code}: {message or ''}".strip()
                text = (
                    f"Tidak ada boundary event yang menangkap galat BPMN '{code}' / "
                    f"No boundary event catches BPMN error '{code}'"
                    + (f": {message}" if message else "")
                )
                data = {"code": code, "message": message}
                self._incident(tx.s, job, "unhandledBpmnError", text, message, worker_id, data)
                tx.leave()
                return False
            steps.throw_error(task, catcher, code, values)
            data = {"code": code, "message": message, "caught_by": catcher.task_spec.bpmn_id}
            self._history(tx.s, job, "bpmn_error", worker_id, data)
            return True

        return self.uow.change(act, worker_id)
