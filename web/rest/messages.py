"""``POST /message``: correlate to waiting instances or start by a message start event.

Correlation keys (``correlationKeys``, and ``localCorrelationKeys``, the same here as sopflow
has one variable scope) narrow the waiting instances to those whose variables have those
values; ``processVariables`` (and ``processVariablesLocal``) are set on the instance the message
reaches or starts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, jsonify

from engine.errors import Conflict
from engine.states import InstanceState

from . import dto
from .auth import actor, tenant
from .common import engine, json_body, no_content
from .errors import RestError, bad_request

MISMATCH = "MismatchingMessageCorrelationException"


def _same(stored: Any, wanted: Any) -> bool:
    if isinstance(wanted, datetime):
        return stored == wanted.isoformat() or stored == dto.fmt_date(wanted)
    return bool(stored == wanted)


def _waiting(name: str, bk: str | None, pid: str | None) -> list[Any]:
    rows = engine().instances(actor(), state=InstanceState.RUNNING, limit=10_000)
    return [
        r
        for r in rows
        if f",{name}," in (r.waiting_messages or "")
        and (bk is None or r.business_key == bk)
        and (pid is None or r.id == pid)
    ]


def _mismatch(message: str) -> RestError:
    return RestError(400, message, MISMATCH)


def correlate() -> Any:
    body = json_body()
    name = body.get("messageName")
    if not isinstance(name, str) or not name:
        raise bad_request("'messageName' is required")
    bk = body.get("businessKey")
    pid = body.get("processInstanceId")
    if (bk is not None and not isinstance(bk, str)) or (
        pid is not None and not isinstance(pid, str)
    ):
        raise bad_request("'businessKey' and 'processInstanceId' must be strings")
    bk, pid = bk or None, pid or None
    variables = dto.untyped_map(body.get("processVariables"))
    variables.update(dto.untyped_map(body.get("processVariablesLocal")))
    keys = dto.untyped_map(body.get("correlationKeys"))
    keys.update(dto.untyped_map(body.get("localCorrelationKeys")))
    every = body.get("all") is True
    t = body.get("tenantId")
    if (t is not None and t != tenant()) or body.get("withoutTenantId") is True:
        raise _mismatch(f"Cannot correlate message '{name}': no tenant matches")

    waiting = _waiting(name, bk, pid)
    matching = [
        r for r in waiting if all(_same((r.variables or {}).get(k), v) for k, v in keys.items())
    ]
    if keys and waiting and not matching:
        raise _mismatch(f"Cannot correlate message '{name}': no execution matches the keys")
    if len(matching) > 1 and not every:
        raise _mismatch(f"Cannot correlate message '{name}': {len(matching)} executions match")
    waiting_ids = {r.id for r in matching}
    try:
        if matching:
            instances = [
                inst
                for r in matching
                for inst in engine().correlate_message(
                    actor(), name, process_instance_id=r.id, variables=variables
                )
            ]
        else:
            instances = engine().correlate_message(
                actor(),
                name,
                business_key=bk,
                process_instance_id=pid,
                variables=variables,
                all=every,
            )
    except Conflict as e:  # Camunda: 400 MismatchingMessageCorrelationException
        raise _mismatch(e.message_en) from None
    if body.get("resultEnabled") is not True:
        return no_content()
    out = []
    for inst in instances:
        started = inst.id not in waiting_ids and inst.id != pid
        row: dict[str, Any] = {
            "resultType": "ProcessDefinition" if started else "Execution",
            "processInstance": dto.instance(inst, tenant()) if started else None,
            "execution": None
            if started
            else {
                "id": inst.id,
                "processInstanceId": inst.id,
                "ended": inst.state != InstanceState.RUNNING,
                "tenantId": tenant(),
            },
        }
        if body.get("variablesInResultEnabled") is True:
            row["variables"] = dto.typed_map(inst.variables)
        out.append(row)
    return jsonify(out)


def routes(bp: Blueprint) -> None:
    bp.add_url_rule("/message", "message", correlate, methods=["POST"])
