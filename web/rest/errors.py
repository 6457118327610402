"""Camunda-style error bodies: ``{"type": "<ExceptionClass>", "message": "..."}``."""

from __future__ import annotations

import logging
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

log = logging.getLogger("sopflow.rest")
PARSE_PREFIX = "ENGINE-09005 Could not parse BPMN process."


class RestError(Exception):
    """An answer with Camunda's ``{type, message}`` body; ``headers`` go along (Retry-After)."""

    def __init__(
        self,
        status: int,
        message: str,
        type_: str = "InvalidRequestException",
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.headers = dict(headers or {})


def error_response(status: int, message: str, type_: str) -> Response:
    resp = jsonify({"type": type_, "message": message})
    resp.status_code = status
    return resp


def to_response(exc: Exception) -> Response:
    resp = error_response(*error_parts(exc))
    if isinstance(exc, RestError):
        resp.headers.update(exc.headers)
    return resp


def error_parts(exc: Exception) -> tuple[int, str, str]:
    """Camunda's status, message and exception type for an error, without Flask (the hot
    paths in fastpath.py answer with the same parts)."""
    if isinstance(exc, RestError):
        return exc.status, exc.message, exc.type
    if isinstance(exc, DeployError):
        located = " ".join(f"{p};" for p in exc.problems) or str(exc)
        return 400, f"{PARSE_PREFIX} Errors: {located}", "ParseException"
    if isinstance(exc, NotFound):
        return 404, exc.message_en, "InvalidRequestException"
    if isinstance(exc, PermissionDenied):
        return 403, exc.message_en, "AuthorizationException"
    if isinstance(exc, Conflict):  # a lost race is the client's concern (Camunda: 500)
        return 409, exc.message_en, exc.camunda_type
    if isinstance(exc, FormValidationError):
        details = "; ".join(f"{e.field}: {e.message_en}" for e in exc.errors)
        return 400, f"{exc.message_en} ({details})", "FormFieldValidatorException"
    if isinstance(exc, SopflowError):
        return 400, exc.message_en, "ProcessEngineException"
    log.error("REST request failed unexpectedly", exc_info=exc)
    return 500, str(exc) or type(exc).__name__, "ProcessEngineException"


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
