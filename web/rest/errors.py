"""Camunda-style error bodies: ``{"type": "<ExceptionClass>", "message": "..."}``."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from engine.errors import (
    Conflict,
    DeployError,
    FormValidationError,
    NotFound,
    PermissionDenied,
    SopflowError,
)

PARSE_PREFIX = "ENGINE-09005 Could not parse BPMN process."


class RestError(Exception):
    def __init__(self, status: int, message: str, type_: str = "InvalidRequestException"):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_


def error_response(status: int, message: str, type_: str) -> Response:
    resp = jsonify({"type": type_, "message": message})
    resp.status_code = status
    return resp


def to_response(exc: Exception) -> Response:
    if isinstance(exc, RestError):
        return error_response(exc.status, exc.message, exc.type)
    if isinstance(exc, DeployError):
        located = " ".join(f"{p};" for p in exc.problems) or str(exc)
        return error_response(400, f"{PARSE_PREFIX} Errors: {located}", "ParseException")
    if isinstance(exc, NotFound):
        return error_response(404, exc.message_en, "InvalidRequestException")
    if isinstance(exc, PermissionDenied):
        return error_response(403, exc.message_en, "AuthorizationException")
    if isinstance(exc, Conflict):
        return error_response(500, exc.message_en, "OptimisticLockingException")
    if isinstance(exc, FormValidationError):
        details = "; ".join(f"{e.field}: {e.message_en}" for e in exc.errors)
        return error_response(400, f"{exc.message_en} ({details})", "FormFieldValidatorException")
    if isinstance(exc, SopflowError):
        return error_response(400, exc.message_en, "ProcessEngineException")
    return error_response(500, str(exc) or type(exc).__name__, "ProcessEngineException")


def bad_request(message: str) -> RestError:
    return RestError(400, message)


def not_found(message: str) -> RestError:
    return RestError(404, message)


def body_dict(data: Any) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise bad_request("The request body must be a JSON object")
    return data
