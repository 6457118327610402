"""Human tasks: claim, release (unclaim) and complete."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import update

from .. import access
from ..actors import Actor
from ..context import rowcount
from ..errors import Conflict, PermissionDenied, TaskAlreadyClaimed
from ..forms import Form
from ..models import HumanTask, ProcessInstance
from ..queries.instances import find_instance
from ..queries.tasks import find_task
from ..spiff import steps
from ..unit_of_work import Tx, UnitOfWork


def check_may_work(actor: Actor, ht: HumanTask, inst: ProcessInstance) -> None:
    if access.may_work(actor, ht, inst):
        return
    if ht.assignee and ht.assignee != actor.username:
        raise PermissionDenied(
            f"This task is claimed by {ht.assignee}",
            f"Tugas ini sedang dipegang {ht.assignee}",
            task_id=ht.id,
        )
    raise PermissionDenied(
        "This task is not for your groups", "Tugas ini bukan untuk grup Anda", task_id=ht.id
    )


def claim(uow: UnitOfWork, actor: Actor, task_id: str, user: str | None = None) -> HumanTask:
    ctx = uow.ctx
    with ctx.sessions.begin() as s:
        agency = ctx.agency(s, actor.agency)
        t = find_task(s, agency.id, task_id, actor=actor)
        if t.state != "open":
            raise Conflict("Task is already finished", "Tugas sudah selesai")
        inst = find_instance(s, t.agency_id, t.instance_id)
        if not access.may_work(actor, t, inst, held_ok=True):
            raise PermissionDenied(
                "This task is not for your groups", "Tugas ini bukan untuk grup Anda"
            )
        target = user or actor.username
        if target != actor.username and not actor.is_admin:
            raise PermissionDenied(
                "Only administrators assign tasks to others",
                "Hanya administrator yang dapat menugaskan ke orang lain",
            )
        if t.assignee == target:
            return t
        if t.assignee and not actor.is_admin:
            raise TaskAlreadyClaimed(
                f"Task is already claimed by {t.assignee}",
                f"Tugas sudah diambil oleh {t.assignee}",
            )
        res = s.execute(
            update(HumanTask)
            .where(
                HumanTask.id == t.id,
                HumanTask.state == "open",
                HumanTask.assignee.is_(None)
                if not t.assignee
                else HumanTask.assignee == t.assignee,
            )
            .values(assignee=target)
        )
        if rowcount(res) != 1:
            raise TaskAlreadyClaimed(
                "Someone else claimed the task first", "Tugas sudah diambil orang lain"
            )
        ctx.task_history(s, t, "task_claimed", actor.username, {"assignee": target})
        t.assignee = target
        return t


def unclaim(uow: UnitOfWork, actor: Actor, task_id: str) -> HumanTask:
    ctx = uow.ctx
    with ctx.sessions.begin() as s:
        agency = ctx.agency(s, actor.agency)
        t = find_task(s, agency.id, task_id, actor=actor)
        inst = find_instance(s, agency.id, t.instance_id)
        if not access.may_release(actor, t, inst):
            if access.is_unit_task(t, inst):
                raise PermissionDenied(
                    "A task returned to a work unit stays with that unit",
                    "Tugas yang dikembalikan ke unit kerja tetap pada unit kerja itu",
                )
            raise PermissionDenied(
                "Only the assignee or an administrator can release the task",
                "Hanya pemegang tugas atau administrator yang dapat melepasnya",
            )
        t.assignee = None
        ctx.task_history(s, t, "task_unclaimed", actor.username)
        return t


def complete_task(
    uow: UnitOfWork,
    actor: Actor,
    task_id: str,
    values: Mapping[str, Any] | None = None,
    *,
    allow_unknown: bool = False,
) -> ProcessInstance:
    """Validate the form on the server, complete the task and run to the next wait state."""

    def act(tx: Tx) -> ProcessInstance:
        s = tx.s
        agency = tx.agency_of(actor.agency)
        ht = find_task(s, agency.id, task_id, actor=actor)
        if ht.state != "open":
            raise Conflict(
                "This task was already completed",
                "Tugas ini sudah diselesaikan",
                task_id=task_id,
            )
        inst = find_instance(s, agency.id, ht.instance_id, lock=True)
        check_may_work(actor, ht, inst)
        wf = tx.open(agency, inst)
        task = steps.task_in(wf, task_id, "ready")
        if task is None:
            raise Conflict("This task is no longer waiting", "Tugas ini tidak lagi menunggu")
        form = Form.from_dict(ht.form)
        clean = form.validate(
            values or {},
            current=task.data,
            # a person answers the task's form and nothing more (a decision another role
            # makes is not theirs to send along); a task without a form takes what a Camunda
            # client sends, as Camunda does
            allow_unknown=allow_unknown and (access.trusted_inputs(actor) or not form),
        )
        steps.run_user_task(task, clean)
        ht.state = "completed"
        ht.completed_at = uow.ctx.now()
        ht.completed_by = actor.username
        uow.ctx.task_history(s, ht, "task_completed", actor.username, {"values": clean})
        return inst

    return uow.change(act, actor.username)
