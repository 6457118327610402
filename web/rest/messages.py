"""``POST /message``: correlate to waiting instances or start by a message start event."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from engine.errors import Conflict

from . import dto
from .auth import actor, tenant
from .common import engine, json_body, no_content
from .errors import RestError, bad_request, not_found


def correlate() -> Any:
    body = json_body()
    name = body.get("messageName")
    if not isinstance(name, str) or not name:
        raise bad_request("'messageName' is required")
    t = body.get("tenantId")
    if t is not None and t != tenant():
        raise not_found(f"No process definition or execution matches the message '{name}'")
    variables = dto.untyped_map(body.get("processVariables"))
    variables.update(dto.untyped_map(body.get("processVariablesLocal")))
    bk = body.get("businessKey")
    pid = body.get("processInstanceId")
    if (bk is not None and not isinstance(bk, str)) or (
        pid is not None and not isinstance(pid, str)
    ):
        raise bad_request("'businessKey' and 'processInstanceId' must be strings")
    try:
        instances = engine().correlate_message(
            actor(),
            name,
            business_key=bk or None,
            process_instance_id=pid or None,
            variables=variables,
            all=bool(body.get("all")),
        )
    except Conflict as e:  # Camunda: 400 MismatchingMessageCorrelationException
        raise RestError(400, e.message_en, "MismatchingMessageCorrelationException") from None
    if not body.get("resultEnabled"):
        return no_content()
    with_vars = bool(body.get("variablesInResultEnabled"))
    out = []
    for inst in instances:
        started = inst.id != pid and (bk is None or inst.business_key != bk)
        out.append(
            {
                "resultType": "ProcessDefinition" if started else "Execution",
                "processInstance": dto.instance(inst, tenant()) if started else None,
                "execution": None
                if started
                else {
                    "id": inst.id,
                    "processInstanceId": inst.id,
                    "ended": inst.state != "running",
                    "tenantId": tenant(),
                },
            }
        )
    if with_vars:
        for row, inst in zip(out, instances, strict=True):
            row["variables"] = dto.typed_map(inst.variables)
    return jsonify(out)


def routes(bp: Blueprint) -> None:
    bp.add_url_rule("/message", "message", correlate, methods=["POST"])
