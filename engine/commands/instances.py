"""Starting a request, cancelling it, and rewriting its variables."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import access
from ..access import Permission
from ..actors import Actor
from ..business_keys import BusinessKeyTaken, check_chosen
from ..errors import Conflict, NotFound, PermissionDenied, Suspended
from ..forms import Form
from ..models import ExternalTask, HumanTask, ProcessInstance, new_id
from ..projection import moment
from ..queries.definitions import current, find_definition
from ..queries.instances import find_instance
from ..queries.tasks import find_task
from ..spiff import steps
from ..unit_of_work import Tx, UnitOfWork
from ..variables import check_names
from .business_keys import next_business_key
from .tasks import check_may_work


def start(
    uow: UnitOfWork,
    actor: Actor,
    key: str | None = None,
    *,
    definition_id: str | None = None,
    values: Mapping[str, Any] | None = None,
    variables: Mapping[str, Any] | None = None,
    business_key: str | None = None,
    message: str | None = None,
) -> ProcessInstance:
    """Start an instance; ``values`` are checked against the start form. ``variables`` are
    taken as given (names must still be plain identifiers) from integrations,
    administrators and the system, and for a process without a start form; a person's
    variables for a process with one (REST ``start`` / ``submit-form``) are form values like
    the UI's, so nobody files a request with a decision (``approved``) already made. With
    ``message`` the instance starts through its message start event.

    A chosen ``business_key`` must pass :func:`engine.business_keys.check_chosen` (never the
    generated shape) and be unused in the agency; without one the next generated key is
    taken first, in its own transaction (see :func:`.business_keys.next_business_key`)."""
    ctx = uow.ctx
    if not actor.system:
        access.require(actor, Permission.START)
    check_names(variables or {})
    if business_key is not None:
        check_chosen(business_key)
    bk = business_key or next_business_key(ctx, actor.agency)

    def act(tx: Tx) -> ProcessInstance:
        nonlocal values, variables
        s = tx.s
        agency = tx.agency_of(actor.agency)
        if definition_id:
            d = find_definition(s, agency.id, definition_id)
        elif key:
            d = current(s, agency.id, key)
        else:
            raise NotFound("No process given", "Proses tidak disebutkan")
        if d.suspended:
            raise Suspended("This version is suspended", "Versi ini ditangguhkan")
        form = Form.from_dict(d.start_form)
        if variables and form and not access.trusted_inputs(actor):
            values = {**dict(variables), **dict(values or {})}
            variables = None
        given = variables and values is None  # an integration's inputs, as given
        clean = form.validate(values or {}) if (form or values) and not given else {}
        data = {**copy.deepcopy(dict(variables or {})), **copy.deepcopy(clean)}
        initiator = d.properties.get("initiator")
        if initiator:
            data[initiator] = actor.username
        spec, subs = ctx.serializer.load_spec(d.id, d.spec_json)
        engine = ctx.script_engine(s, agency)
        wf = steps.new_workflow(spec, subs, engine, data)
        if message is not None:
            steps.run_engine_steps(wf)
            if not steps.deliver(wf, message, dict(variables or {})):
                raise Conflict(
                    f"Process '{d.key}' has no message start event '{message}'",
                    f"Proses '{d.key}' tidak punya start event pesan '{message}'",
                )
        inst = ProcessInstance(
            id=new_id(),
            agency_id=agency.id,
            definition_id=d.id,
            business_key=bk,
            state="running",
            state_json="",
            variables={},
            started_by=actor.username,
            work_unit_id=actor.unit_id,
            started_at=ctx.now(),
        )
        inst.definition = d
        sla = d.properties.get("sla")
        if sla:
            inst.sla_due_at = moment(engine, sla, data)
        s.add(inst)
        s.flush()
        ctx.history(
            s,
            agency.id,
            "instance_started",
            actor.username,
            instance_id=inst.id,
            data={"values": clean, "definition_id": d.id, "business_key": bk},
        )
        tx.open(agency, inst, wf)
        return inst

    try:
        return uow.change(act, actor.username, retry=False)
    except IntegrityError as e:
        # unique per agency: the key is used in the caller's own agency, nothing else is
        # said (what other agencies file is neither a conflict nor to be learnt here)
        if business_key is not None and "business_key" in str(e.orig):
            raise BusinessKeyTaken(business_key) from None
        raise Conflict(
            f"The new request {bk} could not be saved; retry",
            f"Permohonan baru {bk} tidak dapat disimpan; coba lagi",
        ) from None


def cancel(
    uow: UnitOfWork, actor: Actor, instance_id: str, reason: str | None = None
) -> ProcessInstance:
    """End a running instance at once (Camunda's ``DELETE /process-instance``): open tasks
    are cancelled, its jobs leave the queue, timers and the SLA clock stop.

    Only an administrator of the agency or the user who started the instance may cancel it:
    cancelling discards the work of every participant, unlike correcting a variable."""
    ctx = uow.ctx

    def act(tx: Tx) -> ProcessInstance:
        s = tx.s
        agency = tx.agency_of(actor.agency)
        if ctx.is_pg(s):  # jobs before the instance, as complete_external locks them
            s.execute(
                select(ExternalTask.id)
                .where(ExternalTask.instance_id == instance_id)
                .with_for_update()
            ).all()
        inst = find_instance(s, agency.id, instance_id, lock=True, actor=actor)
        if not (actor.is_admin or (inst.started_by and inst.started_by == actor.username)):
            raise PermissionDenied(
                "Only an administrator or the applicant can cancel this request",
                "Hanya administrator atau pemohon yang dapat membatalkan permohonan ini",
            )
        if inst.state != "running":
            raise Conflict("The request has already ended", "Permohonan sudah selesai")
        now = ctx.now()
        wf = tx.open(agency, inst)
        wf.cancel()
        uow.projection.cancelled(s, agency, inst, actor.username, now)
        ctx.history(
            s,
            agency.id,
            "instance_cancelled",
            actor.username,
            instance_id=inst.id,
            data={"reason": reason} if reason else None,
        )
        tx.save_only()  # an ended instance is not kept live
        return inst

    return uow.change(act, actor.username)


def _may_change(s: Session, actor: Actor, inst: ProcessInstance) -> bool:
    """Who may rewrite an instance's variables: an administrator of its agency, or someone
    who may complete one of its open tasks now (the person handling a step may correct the
    data that step is about) — never someone else's claimed task, never another unit's."""
    if actor.is_admin:
        return True
    rows = s.scalars(
        select(HumanTask).where(HumanTask.instance_id == inst.id, HumanTask.state == "open")
    )
    return any(access.may_work(actor, t, inst) for t in rows)


def set_variables(
    uow: UnitOfWork,
    actor: Actor,
    instance_id: str,
    modifications: Mapping[str, Any] | None = None,
    deletions: Iterable[str] = (),
    *,
    task_id: str | None = None,
) -> ProcessInstance:
    """Set and remove process variables of a running instance (Camunda's variable PUT,
    POST ``{modifications, deletions}`` and DELETE) without moving it on.

    The values go into the data of every active step (waiting, ready or running), from
    which later steps inherit, so gateways and scripts downstream see them, and into the
    variables projection. With ``task_id`` the rules of that task apply (its candidates or
    assignee, else an administrator); otherwise those of :func:`_may_change`. An instance the
    actor may not read is not found."""
    values = check_names(modifications or {})
    removed = list(dict.fromkeys(deletions))
    check_names(dict.fromkeys(removed))

    def act(tx: Tx) -> ProcessInstance:
        s = tx.s
        agency = tx.agency_of(actor.agency)
        inst = find_instance(s, agency.id, instance_id, lock=True, actor=actor)
        if task_id is not None:
            ht = find_task(s, agency.id, task_id, actor=actor)
            if ht.state != "open" or ht.instance_id != instance_id:
                raise NotFound(f"Task '{task_id}' not found", f"Tugas '{task_id}' tidak ditemukan")
            check_may_work(actor, ht, inst)
        if inst.state != "running":
            raise NotFound(
                f"Process instance '{instance_id}' has ended",
                f"Instance proses '{instance_id}' sudah selesai",
            )
        if task_id is None and not _may_change(s, actor, inst):
            raise PermissionDenied(
                "You may not change this request's data",
                "Anda tidak boleh mengubah data permohonan ini",
            )
        wf = tx.open(agency, inst)
        steps.set_data(wf, values, removed)
        uow.projection.set_variables(inst, values, removed)
        uow.ctx.history(
            s,
            agency.id,
            "variables_changed",
            actor.username,
            instance_id=inst.id,
            task_id=task_id,
            data={"set": sorted(values), "removed": removed},
        )
        tx.save_only()
        return inst

    return uow.change(act, actor.username)
