"""Writing variables (PUT one, POST ``{modifications, deletions}``, DELETE one) and reading a
binary one's raw bytes, shared by ``/process-instance`` and ``/task``.

sopflow has one variable scope per instance (as Camunda's process scope): task variables, local
ones included, are written to the instance, where the task and every later step see them."""

from __future__ import annotations

from typing import Any

from flask import Response

from . import dto
from .common import json_body
from .errors import RestError, bad_request, not_found


def single(name: str) -> dict[str, Any]:
    """The value of ``PUT …/variables/{name}`` (a typed value object) as a modification."""
    return {name: dto.untyped(name, json_body())}


def batch() -> tuple[dict[str, Any], list[str]]:
    """``POST …/variables``: ``{"modifications": {name: typed}, "deletions": [name]}``."""
    body = json_body()
    changes = dto.untyped_map(body.get("modifications"))
    deletions = body.get("deletions") or []
    if not isinstance(deletions, list) or not all(isinstance(d, str) for d in deletions):
        raise bad_request("'deletions' must be a list of variable names")
    return changes, deletions


def data(values: dict[str, Any] | None, name: str, scope: str) -> Response:
    """``GET …/variables/{name}/data``: raw bytes of a File or Bytes variable, typed."""
    if name not in (values or {}):
        raise not_found(f"{scope} variable with name {name} does not exist")
    found = dto.binary((values or {})[name])
    if found is None:
        raise RestError(
            400,
            f"Value of variable {name} is not a binary value.",
            "InvalidRequestException",
        )
    raw, mime, filename = found
    resp = Response(raw, content_type=mime)
    if filename:
        safe = "".join(c for c in filename if c.isprintable() and c not in '"\\') or "data"
        resp.headers["Content-Disposition"] = f'attachment; filename="{safe}"'
    return resp


def upload(name: str) -> dict[str, Any]:
    """``POST …/variables/{name}/data`` (multipart, as pycamunda sends binaries): part ``data``
    holds the bytes, field ``valueType`` is ``File`` or ``Bytes`` (Camunda's default)."""
    import base64

    from flask import request

    part = request.files.get("data")
    if part is None:
        raise bad_request("The multipart request needs a part 'data'")
    kind = (request.form.get("valueType") or "Bytes").strip()
    if kind not in ("File", "Bytes"):
        raise bad_request(f"valueType must be File or Bytes, not '{kind[:40]}'")
    raw = part.read(dto.MAX_BINARY + 1)
    info = {"filename": part.filename or name, "mimeType": part.mimetype or None}
    if part.mimetype_params.get("charset"):
        info["encoding"] = part.mimetype_params["charset"]
    var = {"value": base64.b64encode(raw).decode("ascii"), "type": kind, "valueInfo": info}
    return {name: dto.untyped(name, var)}
