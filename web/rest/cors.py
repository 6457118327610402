"""Which browser origins may read REST answers (CORS), decided once for the blueprint, its
routing errors and the Modeler's well-known URL.

Why not echo any ``Origin``: with ``Allow-Credentials: true`` that let every web page a logged-in
officer visited call the API with the browser's stored Basic credentials and read the answers
(issue 11). Now only ``SOPFLOW_CORS_ORIGINS`` (exact origins, e.g. ``https://portal.go.id``) are
answered, plus Camunda Modeler's ``file://`` page (browsers send ``Origin: null`` or
``file://``) when the server is on loopback only: the address sopflow was told to listen on
(``sopflow serve --host``) and the Host the browser asked for are both 127.0.0.1, ::1 or
localhost, so no page elsewhere on the network can reach it through a victim's browser, and a
DNS-rebinding name is no loopback Host. Any other origin gets no CORS header at all, and its
preflight no ``Allow-*``: the browser refuses the call."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import current_app, request

from web.config import FILE_ORIGINS
from web.config import normal_origin as normal

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def _hostname(host: str) -> str:
    try:
        return (urlsplit("//" + host).hostname or "").lower()
    except ValueError:
        return ""


def on_loopback() -> bool:
    listen = (current_app.config.get("SOPFLOW") or {}).get("LISTEN_HOST")
    if listen and _hostname(str(listen)) not in LOOPBACK and str(listen) not in LOOPBACK:
        return False
    return _hostname(request.host) in LOOPBACK


def configured() -> Iterable[str]:
    return (current_app.config.get("SOPFLOW") or {}).get("CORS_ORIGINS") or ()


def allowed(origin: str | None) -> bool:
    if not origin:
        return False
    o = normal(origin)
    if o in configured():
        return True
    return o in FILE_ORIGINS and on_loopback()
