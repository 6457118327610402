"""The workflow projected onto rows after every step: the inbox (human tasks and their
candidates), the job queue (external tasks), the timer and SLA columns, the current step, the
awaited messages and the variables snapshot of the instance, and the history of each change.

Only :mod:`engine.spiff` reads the workflow; this module turns what it reads into rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, lazyload

from .context import Context
from .expressions import is_juel
from .models import Agency, ExternalTask, HumanTask, Incident, ProcessInstance, TaskCandidate
from .spiff import steps, tree
from .spiff.scripting import SafeScriptEngine
from .variables import plain


def _as_datetime(value: Any, tz: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    from .timers import parse_datetime

    return parse_datetime(str(value), tz)


def moment(engine: SafeScriptEngine, text: str, data: Mapping[str, Any]) -> datetime | None:
    """A due date written in a diagram: a JUEL expression, an ISO duration or a date."""
    value: Any = text
    if is_juel(text):
        value = engine.evaluate_data(text, dict(data))
    if isinstance(value, str) and value.upper().startswith("P"):
        return engine.timer_due("duration", value)
    return _as_datetime(value, engine.calendar.tz)


class Projection:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def sync(
        self, s: Session, agency: Agency, inst: ProcessInstance, wf: Any, since: float
    ) -> None:
        """Project the workflow onto inbox, job queue, timers, SLA and variables."""
        now = self.ctx.now()
        engine: SafeScriptEngine = wf.script_engine
        steps_now = self._human_tasks(s, agency, inst, wf, engine, now)
        steps_now += self._jobs(s, agency, inst, wf, engine, now)
        self._clocks(s, agency, inst, wf, now)
        inst.current_step = ", ".join(dict.fromkeys(steps_now))[:500] or None
        waiting = tree.waiting_messages(wf)
        inst.waiting_messages = f",{','.join(waiting)}," if waiting else None
        inst.variables = plain(tree.variables(wf, inst.variables or {}, since))
        if wf.is_completed() and inst.state == "running":
            inst.state = "completed"
            inst.ended_at = now
            if inst.sla_due_at is not None and inst.sla_stopped_at is None:
                self.stop_sla(s, agency, inst, now)
            inst.next_timer_at = None
            self.ctx.history(s, agency.id, "instance_completed", None, instance_id=inst.id)

    # ------------------------------------------------------------------ inbox
    def _human_tasks(
        self,
        s: Session,
        agency: Agency,
        inst: ProcessInstance,
        wf: Any,
        engine: SafeScriptEngine,
        now: datetime,
    ) -> list[str]:
        open_rows = {
            h.id: h
            for h in s.scalars(
                select(HumanTask)
                .options(lazyload(HumanTask.candidates))
                .where(HumanTask.instance_id == inst.id, HumanTask.state == "open")
            )
        }
        names: list[str] = []
        for t in tree.ready_human_tasks(wf):
            names.append(t.task_spec.bpmn_name or t.task_spec.bpmn_id)
            if open_rows.pop(str(t.id), None) is not None:
                continue
            self.create_human_task(s, agency, inst, t, engine, now)
        self._cancel_tasks(s, open_rows.values(), now, None)
        return names

    def _cancel_tasks(
        self, s: Session, rows: Iterable[HumanTask], now: datetime, actor: str | None
    ) -> None:
        for row in rows:
            row.state = "cancelled"
            row.completed_at = now
            self.ctx.task_history(s, row, "task_cancelled", actor)

    def create_human_task(
        self,
        s: Session,
        agency: Agency,
        inst: ProcessInstance,
        t: Any,
        engine: SafeScriptEngine,
        now: datetime,
    ) -> None:
        spec = t.task_spec
        data = dict(t.data)

        def ev(text: str | None) -> Any:
            if not text:
                return None
            return engine.evaluate_data(text, data) if is_juel(text) else text

        groups = list(getattr(spec, "candidate_groups", []))
        users = list(getattr(spec, "candidate_users", []))
        groups = [str(g) for x in groups for g in ([ev(x)] if is_juel(x) else [x]) if g]
        users = [str(u) for x in users for u in ([ev(x)] if is_juel(x) else [x]) if u]
        assignee = ev(getattr(spec, "assignee", None))
        due = None
        deadlines = tree.deadlines(t)
        if deadlines:
            due = min(deadlines)
        elif getattr(spec, "due_date", None):
            due = moment(engine, spec.due_date, data)
        follow = getattr(spec, "follow_up", None)
        prio = ev(getattr(spec, "priority", None))
        row = HumanTask(
            id=str(t.id),
            agency_id=agency.id,
            instance_id=inst.id,
            element_id=spec.bpmn_id,
            name=spec.bpmn_name,
            lane=spec.lane,
            state="open",
            assignee=str(assignee) if assignee else None,
            form=getattr(spec, "form", None) or {"fields": []},
            priority=int(prio) if str(prio or "").isdigit() else 50,
            created_at=now,
            due_at=due,
            follow_up_at=moment(engine, follow, data) if follow else None,
        )
        row.candidates = [TaskCandidate(kind="group", value=g) for g in dict.fromkeys(groups)] + [
            TaskCandidate(kind="user", value=u) for u in dict.fromkeys(users)
        ]
        s.add(row)
        self.ctx.task_history(
            s,
            row,
            "task_created",
            None,
            {"candidate_groups": groups, "assignee": row.assignee, "due": due},
        )

    # ------------------------------------------------------------------ job queue
    def _jobs(
        self,
        s: Session,
        agency: Agency,
        inst: ProcessInstance,
        wf: Any,
        engine: SafeScriptEngine,
        now: datetime,
    ) -> list[str]:
        # a definition without service tasks never has jobs: skip the query
        job_rows = (
            {
                j.id: j
                for j in s.scalars(select(ExternalTask).where(ExternalTask.instance_id == inst.id))
            }
            if self.ctx.meta(s, inst.definition_id)["topics"]
            else {}
        )
        names: list[str] = []
        for t in tree.started_jobs(wf):
            tid = str(t.id)
            spec = t.task_spec
            names.append(spec.bpmn_name or spec.bpmn_id)
            if job_rows.pop(tid, None) is not None:
                continue
            s.add(
                ExternalTask(
                    id=tid,
                    agency_id=agency.id,
                    instance_id=inst.id,
                    element_id=spec.bpmn_id,
                    topic=spec.topic,
                    state="available",
                    variables=plain(steps.inputs(t, engine)),
                    available_at=now,
                    retries=spec.retries,
                    retry_interval=spec.retry_interval,
                    attempts=0,
                    priority=int(spec.priority) if (spec.priority or "").isdigit() else 0,
                    created_at=now,
                )
            )
            self.ctx.history(
                s,
                agency.id,
                "job_created",
                None,
                instance_id=inst.id,
                element_id=spec.bpmn_id,
                task_id=tid,
                data={"topic": spec.topic},
            )
        for job in job_rows.values():
            s.delete(job)
            s.execute(
                update(Incident)
                .where(Incident.external_task_id == job.id, Incident.resolved_at.is_(None))
                .values(resolved_at=now, resolved_by="engine")
            )
        return names

    # ------------------------------------------------------------------ timers and SLA
    def _clocks(
        self, s: Session, agency: Agency, inst: ProcessInstance, wf: Any, now: datetime
    ) -> None:
        """The clock runs while a subprocess carrying a timer boundary is active; a return to
        the applicant re-arms that timer, which restarts the clock."""
        dues, armed = tree.timer_dues(wf)
        if armed:
            due = min(armed)
            if inst.sla_due_at != due:
                if inst.sla_due_at is not None:
                    self.ctx.history(
                        s,
                        agency.id,
                        "sla_restarted",
                        None,
                        instance_id=inst.id,
                        data={"previous_due": inst.sla_due_at, "due": due},
                    )
                inst.sla_due_at = due
                inst.sla_breached_at = None
            inst.sla_stopped_at = None
        elif (
            inst.sla_due_at is not None
            and inst.sla_stopped_at is None
            and not self.ctx.meta(s, inst.definition_id)["properties"].get("sla")
            and not tree.sla_running(wf)
        ):
            self.stop_sla(s, agency, inst, now)
        if inst.sla_due_at and inst.sla_breached_at is None and inst.sla_stopped_at is None:
            if now >= inst.sla_due_at:
                inst.sla_breached_at = now
                self.ctx.history(
                    s,
                    agency.id,
                    "sla_breached",
                    "timer",
                    instance_id=inst.id,
                    data={"due": inst.sla_due_at},
                )
            else:
                dues.append(inst.sla_due_at)
        inst.next_timer_at = min(dues) if dues else None

    def stop_sla(self, s: Session, agency: Agency, inst: ProcessInstance, now: datetime) -> None:
        inst.sla_stopped_at = now
        on_time = inst.sla_due_at is not None and now <= inst.sla_due_at
        self.ctx.history(
            s,
            agency.id,
            "sla_stopped",
            None,
            instance_id=inst.id,
            data={"due": inst.sla_due_at, "on_time": on_time},
        )

    # ------------------------------------------------------------------ other changes
    def set_variables(
        self, inst: ProcessInstance, values: Mapping[str, Any], removed: Iterable[str]
    ) -> None:
        projected = dict(inst.variables or {})
        projected.update(plain(values))
        for name in removed:
            projected.pop(name, None)
        inst.variables = projected

    def cancelled(
        self, s: Session, agency: Agency, inst: ProcessInstance, actor: str, now: datetime
    ) -> None:
        """An instance ended at once: no open task, no job, no open incident, no clock."""
        self._cancel_tasks(
            s,
            s.scalars(
                select(HumanTask).where(HumanTask.instance_id == inst.id, HumanTask.state == "open")
            ),
            now,
            actor,
        )
        s.execute(delete(ExternalTask).where(ExternalTask.instance_id == inst.id))
        s.execute(
            update(Incident)
            .where(Incident.instance_id == inst.id, Incident.resolved_at.is_(None))
            .values(resolved_at=now, resolved_by=actor)
        )
        if inst.sla_due_at is not None and inst.sla_stopped_at is None:
            self.stop_sla(s, agency, inst, now)
        inst.state = "cancelled"
        inst.ended_at = now
        inst.next_timer_at = None
        inst.waiting_messages = None
        inst.current_step = None
