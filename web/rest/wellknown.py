"""``/.well-known/camunda-automation-platform/webapps``: Camunda Modeler asks the host where the
Cockpit is, to link a deployed diagram; sopflow's own pages play that part."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request

from . import cors

PATH = "/.well-known/camunda-automation-platform/webapps"


def webapps() -> Any:
    root = request.url_root.rstrip("/")
    resp = jsonify(
        {
            "adminUrl": f"{root}/",
            "cockpitUrl": f"{root}/",
            "tasklistUrl": f"{root}/",
            "welcomeUrl": f"{root}/",
        }
    )
    origin = request.headers.get("Origin")
    if origin and cors.allowed(origin):
        resp.headers["Access-Control-Allow-Origin"] = origin
        resp.headers["Vary"] = "Origin"
    return resp


def register(app: Flask) -> None:
    app.add_url_rule(PATH, "camunda_webapps", webapps, methods=["GET"])
