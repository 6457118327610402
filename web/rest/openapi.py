"""``GET /openapi.json``: an OpenAPI 3 document of the served endpoints, built from the URL map
so it never drifts from the routes."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from . import permissions

QUERY = {
    "maxResults": {"type": "integer", "minimum": 0},
    "firstResult": {"type": "integer", "minimum": 0},
}
JSON_BODY = {
    "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}},
    "required": False,
}
MULTIPART = {
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "deployment-name": {"type": "string"},
                    "enable-duplicate-filtering": {"type": "string"},
                    "data": {"type": "string", "format": "binary"},
                },
            }
        }
    },
    "required": True,
}


VARIABLES: dict[str, Any] = {
    "type": "object",
    "nullable": True,
    "additionalProperties": {
        "type": "object",
        "properties": {
            "value": {},
            "type": {
                "type": "string",
                "nullable": True,
                "enum": [
                    "String",
                    "Boolean",
                    "Integer",
                    "Long",
                    "Short",
                    "Double",
                    "Date",
                    "Json",
                    "Null",
                    "Object",
                    "Bytes",
                    "File",
                ],
            },
            "valueInfo": {"type": "object", "nullable": True},
        },
    },
}
TYPED_VALUE: dict[str, Any] = VARIABLES["additionalProperties"]
MODIFY = {
    "type": "object",
    "properties": {
        "modifications": VARIABLES,
        "deletions": {"type": "array", "nullable": True, "items": {"type": "string"}},
    },
}
RETRIES = {
    "type": "object",
    "required": ["retries"],
    "properties": {"retries": {"type": "integer", "minimum": 0}},
}
UPLOAD = {
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "data": {"type": "string", "format": "binary"},
                    "valueType": {"type": "string", "enum": ["File", "Bytes"]},
                },
            }
        }
    },
    "required": True,
}
DELETE_QUERY = {
    name: {"type": "boolean"}
    for name in ("skipCustomListeners", "skipIoMappings", "skipSubprocesses", "failIfNotExists")
}
WORKER = {"type": "string", "minLength": 1}
BODIES: dict[str, dict[str, Any]] = {
    "/external-task/fetchAndLock": {
        "type": "object",
        "required": ["workerId", "topics"],
        "properties": {
            "workerId": WORKER,
            "maxTasks": {"type": "integer", "minimum": 0, "maximum": 100},
            "asyncResponseTimeout": {"type": "integer", "minimum": 0, "maximum": 1000},
            "usePriority": {"type": "boolean"},
            "topics": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["topicName", "lockDuration"],
                    "properties": {
                        "topicName": {"type": "string"},
                        "lockDuration": {"type": "integer", "minimum": 1},
                        "variables": {"type": "array", "items": {"type": "string"}},
                        "processVariables": {"type": "object", "nullable": True},
                        "localVariables": {"type": "boolean"},
                        "businessKey": {"type": "string", "nullable": True},
                        "processDefinitionKey": {"type": "string", "nullable": True},
                        "processDefinitionKeyIn": {
                            "type": "array",
                            "nullable": True,
                            "items": {"type": "string"},
                        },
                        "tenantIdIn": {
                            "type": "array",
                            "nullable": True,
                            "items": {"type": "string"},
                        },
                        "withoutTenantId": {"type": "boolean"},
                    },
                },
            },
            "sorting": {
                "type": "array",
                "nullable": True,
                "items": {
                    "type": "object",
                    "properties": {
                        "sortBy": {"type": "string", "enum": ["createTime"]},
                        "sortOrder": {"type": "string", "enum": ["asc", "desc"]},
                    },
                },
            },
        },
    },
    "/external-task/{task_id}/complete": {
        "type": "object",
        "required": ["workerId"],
        "properties": {"workerId": WORKER, "variables": VARIABLES, "localVariables": VARIABLES},
    },
    "/external-task/{task_id}/failure": {
        "type": "object",
        "required": ["workerId"],
        "properties": {
            "workerId": WORKER,
            "errorMessage": {"type": "string"},
            "errorDetails": {"type": "string"},
            "retries": {"type": "integer", "minimum": 0},
            "retryTimeout": {"type": "integer", "minimum": 0},
        },
    },
    "/external-task/{task_id}/bpmnError": {
        "type": "object",
        "required": ["workerId", "errorCode"],
        "properties": {
            "workerId": WORKER,
            "errorCode": {"type": "string", "minLength": 1},
            "errorMessage": {"type": "string"},
            "variables": VARIABLES,
        },
    },
    "/external-task/{task_id}/extendLock": {
        "type": "object",
        "required": ["workerId", "newDuration"],
        "properties": {"workerId": WORKER, "newDuration": {"type": "integer", "minimum": 1}},
    },
    "/message": {
        "type": "object",
        "required": ["messageName"],
        "properties": {
            "messageName": {"type": "string", "minLength": 1},
            "businessKey": {"type": "string", "nullable": True},
            "processInstanceId": {"type": "string", "nullable": True},
            "processVariables": VARIABLES,
            "processVariablesLocal": VARIABLES,
            "correlationKeys": VARIABLES,
            "localCorrelationKeys": VARIABLES,
            "tenantId": {"type": "string", "nullable": True},
            "withoutTenantId": {"type": "boolean"},
            "all": {"type": "boolean"},
            "resultEnabled": {"type": "boolean"},
            "variablesInResultEnabled": {"type": "boolean"},
        },
    },
    "/external-task/{task_id}/retries": RETRIES,
    "/job/{job_id}/retries": RETRIES,
    "/process-instance/{instance_id}/variables": MODIFY,
    "/process-instance/{instance_id}/variables/{name}": TYPED_VALUE,
    "/task/{task_id}/variables": MODIFY,
    "/task/{task_id}/variables/{name}": TYPED_VALUE,
    "/task/{task_id}/localVariables": MODIFY,
    "/task/{task_id}/localVariables/{name}": TYPED_VALUE,
}
START = {
    "type": "object",
    "properties": {
        "variables": VARIABLES,
        "businessKey": {"type": "string", "nullable": True},
        "withVariablesInReturn": {"type": "boolean"},
    },
}
COMPLETE = {
    "type": "object",
    "properties": {"variables": VARIABLES, "withVariablesInReturn": {"type": "boolean"}},
}


def _body(path: str) -> dict[str, Any]:
    schema = BODIES.get(path)
    if schema is None and path.endswith(("/start", "/submit-form")) and "definition" in path:
        schema = START
    elif (
        schema is None
        and path.startswith("/task/")
        and path.endswith(("/complete", "/submit-form"))
    ):
        schema = COMPLETE
    if schema is None:
        return JSON_BODY
    return {"content": {"application/json": {"schema": schema}}, "required": True}


def _permission(endpoint: str) -> str | None:
    """The permission the route needs (web/rest/permissions.py, engine/access.py)."""
    needed = permissions.needed(endpoint)
    return needed.value if needed is not None else None


def document(prefix: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith(prefix + "/") or rule.endpoint.endswith("openapi"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len(prefix) :])
        params = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"{([^}]+)}", path)
        ]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op: dict[str, Any] = {
                "operationId": f"{rule.endpoint.split('.')[-1]}_{method.lower()}",
                "x-sopflow-permission": _permission(rule.endpoint),
                "parameters": list(params),
                "responses": {
                    "200": {"description": "OK"},
                    "204": {"description": "No content"},
                    "400": {"description": "Bad request"},
                    "401": {"description": "Unauthorized"},
                    "403": {"description": "Forbidden"},
                    "404": {"description": "Not found"},
                },
            }
            if method == "GET":
                op["parameters"] += [
                    {"name": n, "in": "query", "required": False, "schema": s}
                    for n, s in QUERY.items()
                ]
            elif path == "/deployment/create":
                op["requestBody"] = MULTIPART
            elif path.endswith("/data") and method == "POST":
                op["requestBody"] = UPLOAD
            elif method == "DELETE" and path == "/process-instance/{instance_id}":
                op["parameters"] += [
                    {"name": n, "in": "query", "required": False, "schema": sch}
                    for n, sch in DELETE_QUERY.items()
                ]
            elif method in ("POST", "PUT"):
                op["requestBody"] = _body(path)
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.0.3",
        "info": {"title": "sopflow Camunda 7 REST subset", "version": "7.22.0"},
        "servers": [{"url": request.url_root.rstrip("/") + prefix}],
        "components": {"securitySchemes": {"basic": {"type": "http", "scheme": "basic"}}},
        "security": [{"basic": []}],
        "paths": dict(sorted(paths.items())),
    }


def openapi() -> Any:
    prefix = "/rest" if request.path.startswith("/rest/") else "/engine-rest"
    return jsonify(document(prefix))


def routes(bp: Blueprint) -> None:
    bp.add_url_rule("/openapi.json", "openapi", openapi, methods=["GET"])
