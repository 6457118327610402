"""Request helpers shared by the area modules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Response, request

from web.context import engine as engine  # the REST modules' accessor

from . import cors
from .errors import bad_request, body_dict

# What every REST answer carries, on the Flask path and the fast path alike: an API answer is
# never a page to frame, sniff or keep in a cache (task data), so the UI's longer CSP and
# browser policies stay off it.
REST_HEADERS = (
    ("Cache-Control", "no-store"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
)
CORS_HEADERS = "Authorization, Content-Type, Accept"
CORS_METHODS = "GET, POST, PUT, DELETE, OPTIONS"


def finish(response: Response, preflight: bool = False) -> Response:
    """The REST headers, and CORS for an allowed browser origin (web/rest/cors.py): the
    allowed methods and headers only on the preflight, where a browser reads them; nothing at
    all for another origin."""
    for name, value in REST_HEADERS:
        response.headers.setdefault(name, value)
    origin = request.headers.get("Origin")
    if not cors.allowed(origin):
        return response
    response.headers["Access-Control-Allow-Origin"] = str(origin)
    response.headers["Access-Control-Allow-Credentials"] = "true"
    response.headers["Vary"] = "Origin"
    if preflight:
        response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
        response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"
    return response


def no_content() -> Response:
    resp = Response(status=204)
    del resp.headers["Content-Type"]  # there is no content to have a type
    return resp


def json_body() -> dict[str, Any]:
    if request.method == "GET" or not request.get_data():
        return {}
    return checked_body(request.get_json(silent=True))


def checked_body(data: Any) -> dict[str, Any]:
    """A parsed JSON body (None: missing or not JSON) as the object every action expects."""
    if data is None:
        raise bad_request("The request body is not valid JSON")
    if has_nul(data):
        raise bad_request("The request body contains a NUL character")
    return body_dict(data)


def has_nul(value: Any) -> bool:
    """NUL characters never make sense here and PostgreSQL refuses them in text: 400, not 500."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return False


def arg_list(name: str, body: dict[str, Any] | None = None) -> list[str] | None:
    values: list[str] = []
    for raw in request.args.getlist(name):
        values.extend(v for v in raw.split(",") if v)
    if body and body.get(name) is not None:
        got = body[name]
        values.extend(str(v) for v in (got if isinstance(got, list) else [got]))
    return values or None


def arg(name: str, body: dict[str, Any] | None = None) -> Any:
    if name in request.args:
        return request.args.get(name)
    if body:
        return body.get(name)
    return None


def arg_bool(name: str, body: dict[str, Any] | None = None, default: bool = False) -> bool:
    v = arg(name, body)
    if v is None or v == "":
        return default
    if isinstance(v, bool):
        return v
    s = str(v).strip().lower()
    if s in ("true", "1"):
        return True
    if s in ("false", "0"):
        return False
    raise bad_request(f"Cannot convert value '{v}' of '{name}' to a boolean")


def arg_int(
    name: str, body: dict[str, Any] | None = None, default: int | None = None
) -> int | None:
    v = arg(name, body)
    if v is None or v == "":
        return default
    try:
        return int(v)
    except (TypeError, ValueError):
        raise bad_request(f"Cannot convert value '{v}' of '{name}' to an integer") from None


def page(items: Sequence[Any], body: dict[str, Any] | None = None) -> list[Any]:
    first = max(arg_int("firstResult", None, 0) or 0, 0)
    limit = arg_int("maxResults", None)
    items = list(items)[first:]
    if limit is not None:
        items = items[: max(limit, 0)]
    return items
