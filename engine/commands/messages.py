"""Messages: correlate one to the instances waiting for it, or start the process it starts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from .. import access
from ..access import Permission
from ..actors import Actor
from ..errors import Conflict
from ..models import ProcessDefinition, ProcessInstance
from ..queries.definitions import current
from ..queries.instances import find_instance
from ..spiff import steps
from ..unit_of_work import Tx, UnitOfWork
from ..variables import check_names
from .instances import start


def correlate_message(
    uow: UnitOfWork,
    actor: Actor,
    name: str,
    *,
    business_key: str | None = None,
    process_instance_id: str | None = None,
    variables: Mapping[str, Any] | None = None,
    all: bool = False,  # noqa: A002 - Camunda's parameter name
) -> list[ProcessInstance]:
    """Correlate a message as Camunda does: to the instance(s) waiting for it, or else start
    the process whose message start event has that name. No match is an error, never a
    silently dropped message. Only the requests ``actor`` may read wait for its messages:
    another one answers as if nothing waited (no way to move or probe it)."""
    ctx = uow.ctx
    values = check_names(variables or {})
    access.require(actor, Permission.CORRELATE)
    with ctx.sessions() as s:
        agency = ctx.agency(s, actor.agency)
        q = select(ProcessInstance.id).where(
            ProcessInstance.agency_id == agency.id,
            ProcessInstance.state == "running",
            access.instance_filter(actor),
            # a literal substring: '%', '_' and the escape character in a name match only
            # themselves, never other messages' waiting instances
            ProcessInstance.waiting_messages.contains(f",{name},", autoescape=True),
        )
        if business_key:
            q = q.where(ProcessInstance.business_key == business_key)
        if process_instance_id:
            q = q.where(ProcessInstance.id == process_instance_id)
        ids = list(s.scalars(q.order_by(ProcessInstance.started_at)))
        starters = []
        if not ids and not process_instance_id:
            for d in s.scalars(
                select(ProcessDefinition).where(ProcessDefinition.agency_id == agency.id)
            ):
                names = (d.properties or {}).get("message_starts", "").split(",")
                if name in names and current(s, agency.id, d.key).id == d.id:
                    starters.append(d.id)
    if len(ids) > 1 and not all:
        raise Conflict(
            f"Message '{name}' matches {len(ids)} instances; narrow it or correlate all",
            f"Pesan '{name}' cocok dengan {len(ids)} instance; persempit atau korelasikan semua",
        )
    if not ids:
        if len(starters) == 1:
            return [
                start(
                    uow,
                    actor,
                    definition_id=starters[0],
                    variables=values,
                    business_key=business_key,
                    message=name,
                )
            ]
        raise Conflict(
            f"Cannot correlate message '{name}': no process instance waits for it"
            + (" and several processes start with it" if starters else ""),
            f"Pesan '{name}' tidak dapat dikorelasikan: tidak ada instance yang menunggunya",
        )
    return [_deliver(uow, actor, iid, name, values) for iid in ids]


def _deliver(
    uow: UnitOfWork, actor: Actor, instance_id: str, name: str, values: Mapping[str, Any]
) -> ProcessInstance:
    def act(tx: Tx) -> ProcessInstance:
        agency = tx.agency_of(actor.agency)
        inst = find_instance(tx.s, agency.id, instance_id, lock=True)
        wf = tx.open(agency, inst)
        if not steps.deliver(wf, name, values):
            raise Conflict(
                f"Instance {inst.business_key} no longer waits for '{name}'",
                f"Instance {inst.business_key} tidak lagi menunggu '{name}'",
            )
        uow.ctx.history(
            tx.s,
            agency.id,
            "message_correlated",
            actor.username,
            instance_id=inst.id,
            data={"message": name, "variables": values},
        )
        return inst

    return uow.change(act, actor.username)
