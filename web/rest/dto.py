"""DTO builders: every key Camunda returns, dates as ``yyyy-MM-dd'T'HH:mm:ss.SSSZ`` and
typed variables ``{value, type, valueInfo}``."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from flask import request

from engine.states import InstanceState, JobState

from .errors import RestError, bad_request

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)


def fmt_date(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (
        value.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{value.microsecond // 1000:03d}"
        + (value.strftime("%z") or "+0000")
    )


def parse_date(text: str) -> datetime:
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f"):
        try:
            d = datetime.strptime(text, fmt)
            return d if d.tzinfo else d.replace(tzinfo=UTC)
        except ValueError:
            continue
    try:
        d = datetime.fromisoformat(text)
    except ValueError:
        raise bad_request(f"Cannot convert value '{text}' of type 'Date'") from None
    return d if d.tzinfo else d.replace(tzinfo=UTC)


# ------------------------------------------------------------------ variables
# File, Bytes and Object values are kept as a small JSON object tagged with MARK, so that they
# survive the JSON projection and come back with their Camunda type (see CAMUNDA_REST.md).
MARK = "@camunda"
MAX_BINARY = 1_048_576  # decoded bytes per File/Bytes variable
OBJECT_FORMATS = ("application/json",)


def binary(value: Any) -> tuple[bytes, str, str | None] | None:
    """The raw bytes, media type and file name of a File or Bytes value (None for others)."""
    if not isinstance(value, dict) or value.get(MARK) not in ("File", "Bytes"):
        return None
    try:
        raw = base64.b64decode(str(value.get("base64") or ""))
    except ValueError:
        raw = b""
    if value[MARK] == "Bytes":
        return raw, "application/octet-stream", None
    mime = str(value.get("mimeType") or "application/octet-stream")
    if value.get("encoding") and "charset" not in mime:
        mime += f"; charset={value['encoding']}"
    return raw, mime, value.get("filename")


def _tagged(value: dict[str, Any]) -> dict[str, Any] | None:
    kind = value.get(MARK)
    if kind == "File":
        info = {k: value.get(k) for k in ("filename", "mimeType", "encoding")}
        return {"value": None, "type": "File", "valueInfo": info}
    if kind == "Bytes":
        return {"value": value.get("base64") or "", "type": "Bytes", "valueInfo": {}}
    if kind == "Object":
        info = {
            "objectTypeName": value.get("objectTypeName"),
            "serializationDataFormat": value.get("serializationDataFormat"),
        }
        return {"value": value.get("value"), "type": "Object", "valueInfo": info}
    return None


def typed(value: Any) -> dict[str, Any]:
    """A plain engine value as Camunda's typed value (inferred type)."""
    if isinstance(value, dict) and MARK in value:
        tagged = _tagged(value)
        if tagged is not None:
            return tagged
    if value is None:
        return {"value": None, "type": "Null", "valueInfo": {}}
    if isinstance(value, bool):
        return {"value": value, "type": "Boolean", "valueInfo": {}}
    if isinstance(value, int):
        kind = "Integer" if INT32[0] <= value <= INT32[1] else "Long"
        return {"value": value, "type": kind, "valueInfo": {}}
    if isinstance(value, float):
        return {"value": value if math.isfinite(value) else None, "type": "Double", "valueInfo": {}}
    if isinstance(value, datetime):
        return {"value": fmt_date(value), "type": "Date", "valueInfo": {}}
    if isinstance(value, date):
        return {"value": value.isoformat(), "type": "String", "valueInfo": {}}
    if isinstance(value, dict | list | tuple):
        return {"value": json.dumps(value, default=str), "type": "Json", "valueInfo": {}}
    return {"value": str(value), "type": "String", "valueInfo": {}}


def typed_map(variables: Mapping[str, Any] | None, names: Any = None) -> dict[str, Any]:
    out = {}
    for k, v in (variables or {}).items():
        if names is not None and k not in names:
            continue
        out[k] = typed(v)
    return out


def _infer(value: Any) -> Any:
    return value


def untyped(name: str, var: Any) -> Any:
    """One incoming ``{value, type, valueInfo}`` (type may be missing/null) as a plain value."""
    if not isinstance(var, dict):
        raise bad_request(f"Variable '{name}' must be an object with 'value' and 'type'")
    kind = str(var.get("type") or "").strip().lower()
    got = _untyped(name, var, kind)
    if isinstance(got, dict) and MARK in got and kind not in ("object", "bytes", "file"):
        raise bad_request(f"Variable '{name}' uses the reserved key '{MARK}'")
    return got


def _untyped(name: str, var: dict[str, Any], kind: str) -> Any:
    value = var.get("value")
    try:
        if not kind:
            return value
        if kind == "null":
            return None
        if kind == "string":
            return None if value is None else str(value)
        if kind == "boolean":
            if isinstance(value, str):
                if value.lower() not in ("true", "false"):
                    raise ValueError
                return value.lower() == "true"
            if value is None or isinstance(value, bool):
                return value
            raise ValueError
        if kind in ("integer", "long", "short"):
            if value is None:
                return None
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            n = int(value)
            lo, hi = INT64 if kind == "long" else INT32 if kind == "integer" else (-32768, 32767)
            if not lo <= n <= hi:
                raise ValueError
            return n
        if kind == "double":
            if value is None:
                return None
            if isinstance(value, bool):
                raise ValueError
            f = float(value)
            if not math.isfinite(f):
                raise ValueError
            return f
        if kind == "date":
            return None if value is None else parse_date(str(value))
        if kind == "json":
            if value is None:
                return None
            return json.loads(value) if isinstance(value, str) else value
        if kind == "object":
            return _object(name, value, var.get("valueInfo"))
        if kind in ("bytes", "file"):
            return _binary(name, kind, value, var.get("valueInfo"))
        if kind == "xml":
            return None if value is None else str(value)
    except (ValueError, TypeError, OverflowError, json.JSONDecodeError):
        raise bad_request(
            f"Cannot convert value '{str(value)[:200]}' of type '{var.get('type')}' "
            f"for variable '{name}'"
        ) from None
    raise bad_request(f"Unsupported value type '{var.get('type')}' for variable '{name}'")


def _binary(name: str, kind: str, value: Any, info: Any) -> Any:
    if value is None and kind == "bytes":
        return None
    if not isinstance(value, str | type(None)):
        raise ValueError
    raw = base64.b64decode(value or "", validate=True)
    if len(raw) > MAX_BINARY:
        raise RestError(
            400,
            f"Variable '{name}' is too large: {len(raw)} bytes, at most {MAX_BINARY}",
            "InvalidRequestException",
        )
    encoded = base64.b64encode(raw).decode("ascii")
    if kind == "bytes":
        return {MARK: "Bytes", "base64": encoded}
    info = info if isinstance(info, dict) else {}
    mime = info.get("mimeType") or info.get("mimetype")
    return {
        MARK: "File",
        "base64": encoded,
        "filename": str(info.get("filename") or name)[:255],
        "mimeType": str(mime)[:255] if mime else None,
        "encoding": str(info["encoding"])[:40] if info.get("encoding") else None,
    }


def _object(name: str, value: Any, info: Any) -> Any:
    """An Object is kept serialized, as Camunda keeps it; only JSON serialization is read."""
    if value is None:
        return None
    info = info if isinstance(info, dict) else {}
    fmt = info.get("serializationDataFormat") or "application/json"
    if fmt not in OBJECT_FORMATS:
        raise bad_request(
            f"Cannot deserialize object of variable '{name}': serialization data format "
            f"'{fmt}' is not supported (only application/json)"
        )
    text = value if isinstance(value, str) else json.dumps(value)
    json.loads(text)  # a serialization that does not parse is a 400, not a stored surprise
    return {
        MARK: "Object",
        "value": text,
        "objectTypeName": str(info.get("objectTypeName") or "java.util.HashMap")[:255],
        "serializationDataFormat": fmt,
    }


def untyped_map(variables: Any) -> dict[str, Any]:
    if variables is None:
        return {}
    if not isinstance(variables, dict):
        raise bad_request("'variables' must be an object")
    return {str(k): untyped(str(k), v) for k, v in variables.items()}


# ------------------------------------------------------------------ entities
def link(path: str, rel: str = "self", method: str = "GET") -> dict[str, str]:
    base = request.url_root.rstrip("/") + (request.blueprint and _prefix() or "")
    return {"method": method, "href": base + path, "rel": rel}


def _prefix() -> str:
    return "/rest" if request.path.startswith("/rest") else "/engine-rest"


def deployment(dep: Any, tenant: str | None, deployed: list[Any] | None) -> dict[str, Any]:
    return {
        "links": [link(f"/deployment/{dep.id}")],
        "id": dep.id,
        "name": dep.name,
        "source": dep.source,
        "deploymentTime": fmt_date(dep.deployed_at),
        "tenantId": tenant,
        "deployedProcessDefinitions": (
            {d.id: definition(d, tenant) for d in deployed} if deployed else None
        ),
        "deployedCaseDefinitions": None,
        "deployedDecisionDefinitions": None,
        "deployedDecisionRequirementsDefinitions": None,
    }


def definition(d: Any, tenant: str | None) -> dict[str, Any]:
    return {
        "id": d.id,
        "key": d.key,
        "category": "http://bpmn.io/schema/bpmn",
        "description": None,
        "name": d.name,
        "version": d.version,
        "resource": d.resource_name,
        "deploymentId": d.deployment_id,
        "diagram": None,
        "suspended": bool(d.suspended),
        "tenantId": tenant,
        "versionTag": d.version_tag,
        "historyTimeToLive": d.history_ttl,
        "startableInTasklist": True,
    }


def instance(inst: Any, tenant: str | None, variables: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "links": [link(f"/process-instance/{inst.id}")],
        "id": inst.id,
        "definitionId": inst.definition_id,
        "definitionKey": _def_key(inst.definition_id),
        "businessKey": inst.business_key,
        "caseInstanceId": None,
        "tenantId": tenant,
        "ended": inst.state != InstanceState.RUNNING,
        "suspended": False,
    }
    if variables:
        out["variables"] = typed_map(inst.variables)
    return out


def _def_key(definition_id: str) -> str:
    return definition_id.split(":", 1)[0]


def task(t: Any, tenant: str | None, definition_id: str | None) -> dict[str, Any]:
    return {
        "id": t.id,
        "name": t.name or t.element_id,
        "assignee": t.assignee,
        "owner": None,
        "created": fmt_date(t.created_at),
        "lastUpdated": None,
        "due": fmt_date(t.due_at),
        "followUp": fmt_date(t.follow_up_at),
        "delegationState": None,
        "description": None,
        "executionId": t.instance_id,
        "formKey": None,
        "camundaFormRef": None,
        "parentTaskId": None,
        "priority": t.priority,
        "processDefinitionId": definition_id,
        "processInstanceId": t.instance_id,
        "caseDefinitionId": None,
        "caseExecutionId": None,
        "caseInstanceId": None,
        "suspended": False,
        "taskDefinitionKey": t.element_id,
        "tenantId": tenant,
    }


def external_task(j: Any, tenant: str | None, definition_id: str | None = None) -> dict[str, Any]:
    """An ExternalTask row (GET /external-task)."""
    return {
        "activityId": j.element_id,
        "activityInstanceId": f"{j.element_id}:{j.id}",
        "errorMessage": j.error_message,
        "executionId": j.instance_id,
        "id": j.id,
        "lockExpirationTime": fmt_date(j.lock_expires_at) if j.state == JobState.LOCKED else None,
        "processDefinitionId": definition_id,
        "processDefinitionKey": _def_key(definition_id) if definition_id else None,
        "processDefinitionVersionTag": None,
        "processInstanceId": j.instance_id,
        "retries": j.retries,
        "suspended": False,
        "workerId": j.worker_id,
        "topicName": j.topic,
        "tenantId": tenant,
        "priority": j.priority,
        "businessKey": None,
        "createTime": fmt_date(j.created_at),
    }


def locked_task(lt: Any, tenant: str | None, names: Any = None) -> dict[str, Any]:
    return {
        "activityId": lt.element_id,
        "activityInstanceId": f"{lt.element_id}:{lt.id}",
        "errorMessage": lt.error_message,
        "errorDetails": None,
        "executionId": lt.instance_id,
        "id": lt.id,
        "lockExpirationTime": fmt_date(lt.lock_expires_at),
        "createTime": None,
        "processDefinitionId": lt.definition_id,
        "processDefinitionKey": lt.definition_key,
        "processDefinitionVersionTag": None,
        "processInstanceId": lt.instance_id,
        "retries": lt.retries,
        "suspended": False,
        "workerId": lt.worker_id,
        "topicName": lt.topic,
        "tenantId": tenant,
        "priority": lt.priority,
        "businessKey": lt.business_key,
        "variables": typed_map(lt.variables, names),
        "extensionProperties": {},
    }
