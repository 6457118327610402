"""The timer poller's step: advance every instance whose next timer is due."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ..errors import Conflict, SopflowError
from ..models import Agency, ProcessInstance
from ..unit_of_work import Tx, UnitOfWork
from .incidents import timer_incident


def fire_due_timers(uow: UnitOfWork, limit: int = 100) -> int:
    """The poller's one step: ``refresh_timers`` then ``do_engine_steps`` on due instances."""
    now = uow.ctx.now()
    with uow.ctx.sessions() as s:
        ids = list(
            s.scalars(
                select(ProcessInstance.id)
                .where(ProcessInstance.state == "running", ProcessInstance.next_timer_at <= now)
                .order_by(ProcessInstance.next_timer_at)
                .limit(limit)
            )
        )
    fired = 0
    for iid in ids:
        try:
            if _fire_instance(uow, iid, now):
                fired += 1
        except Conflict:
            continue  # someone else advanced it; the next poll sees the new due time
        except SopflowError as e:
            timer_incident(uow.ctx, iid, e)
    return fired


def _fire_instance(uow: UnitOfWork, instance_id: str, now: datetime) -> bool:
    def act(tx: Tx) -> bool:
        q = select(ProcessInstance).where(
            ProcessInstance.id == instance_id,
            ProcessInstance.state == "running",
            ProcessInstance.next_timer_at <= now,
        )
        if uow.ctx.is_pg(tx.s):
            q = q.with_for_update(skip_locked=True, of=ProcessInstance)
        inst = tx.s.scalar(q)
        if inst is None:
            return False
        agency = tx.s.get(Agency, inst.agency_id)
        assert agency is not None
        tx.open(agency, inst)
        return True

    return uow.change(act, "timer", refresh_timers=True)
