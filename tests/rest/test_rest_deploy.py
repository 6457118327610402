"""Deployment: the Modeler's exact multipart request, pycamunda, duplicates, parse errors,
auth, CORS and isolation between agencies."""

from __future__ import annotations

import re
from typing import Any

import pycamunda.deployment
import pycamunda.processdef
import requests
from rest_support import PASSWORD, SMOKE

DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$")
BOUNDARY = "----WebKitFormBoundaryAbc123"


def modeler_body(xml: bytes) -> bytes:
    parts = [
        ("deployment-name", "diagram_1"),
        ("deployment-source", "Camunda Modeler"),
        ("enable-duplicate-filtering", "true"),
    ]
    out = b""
    for name, value in parts:
        out += (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
    out += (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; "
        f'name="diagram_1.bpmn"; filename="diagram_1.bpmn"\r\nContent-Type: text/xml\r\n\r\n'
    ).encode()
    out += xml + f"\r\n--{BOUNDARY}--\r\n".encode()
    return out


def modeler_deploy(server: str, user: str, xml: bytes) -> requests.Response:
    return requests.post(
        f"{server.replace('/engine-rest', '/rest')}/deployment/create",
        data=modeler_body(xml),
        headers={
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "Accept": "application/json",
            "Origin": "null",
        },
        auth=(user, PASSWORD),
        timeout=5,
    )


def test_modeler_deploy_duplicate_and_start(server: str, users: dict[str, str]) -> None:
    r = modeler_deploy(server, users["admin"], SMOKE)
    assert r.status_code == 200, r.text
    assert r.headers["Access-Control-Allow-Origin"] == "null"
    body = r.json()
    assert set(body) >= {
        "links",
        "id",
        "name",
        "source",
        "deploymentTime",
        "tenantId",
        "deployedProcessDefinitions",
        "deployedCaseDefinitions",
        "deployedDecisionDefinitions",
        "deployedDecisionRequirementsDefinitions",
    }
    assert body["tenantId"] == "kudus" and body["name"] == "diagram_1"
    assert DATE.match(body["deploymentTime"])
    defs = body["deployedProcessDefinitions"]
    assert {d["key"] for d in defs.values()} == {"rest_user", "rest_ext", "rest_msg"}
    first = next(iter(defs.values()))
    assert first["resource"] == "diagram_1.bpmn" and first["version"] == 1
    again = modeler_deploy(server, users["admin"], SMOKE).json()
    assert again["id"] == body["id"] and again["deployedProcessDefinitions"] is None
    # the Modeler's start button: start by definition id
    started = requests.post(
        f"{server}/process-definition/{first['id']}/start",
        json={},
        auth=(users["admin"], PASSWORD),
        timeout=5,
    )
    assert started.status_code == 200, started.text
    assert set(started.json()) >= {"links", "id", "definitionId", "businessKey", "ended"}


def test_parse_error(server: str, users: dict[str, str]) -> None:
    broken = SMOKE.replace(b'targetRef="end" />', b'targetRef="nowhere" />')
    r = modeler_deploy(server, users["admin"], broken)
    assert r.status_code == 400
    assert r.json()["type"] == "ParseException"
    assert r.json()["message"].startswith("ENGINE-09005 Could not parse BPMN process.")
    assert len(r.json()["message"]) > len("ENGINE-09005 Could not parse BPMN process.") + 5


def test_pycamunda_deploy_and_definitions(server: str, users: dict[str, str]) -> None:
    auth = (users["admin"], PASSWORD)
    create = pycamunda.deployment.Create(url=server, name="pc", enable_duplicate_filtering=False)
    create.add_resource(("rest_smoke.bpmn", SMOKE, "text/xml"))
    create.auth = auth
    dep = create()
    assert dep.id_ and dep.tenant_id == "kudus"
    listed = pycamunda.deployment.GetList(url=server)
    listed.auth = auth
    assert [d.id_ for d in listed()] == [dep.id_]
    get_defs = pycamunda.processdef.GetList(url=server, key="rest_user", latest_version=True)
    get_defs.auth = auth
    defs = get_defs()
    assert len(defs) == 1 and defs[0].key == "rest_user"
    one = pycamunda.processdef.Get(url=server, key="rest_user")
    one.auth = auth
    assert one().id_ == defs[0].id_
    xml = pycamunda.processdef.GetXML(url=server, id_=defs[0].id_)
    xml.auth = auth
    assert "rest_user" in xml()


def test_auth_cors_and_isolation(
    server: str, users: dict[str, str], deployed: dict[str, Any]
) -> None:
    r = requests.get(f"{server}/deployment?maxResults=0", timeout=5)
    assert r.status_code == 401 and r.json()["type"]
    assert requests.get(f"{server}/deployment", auth=("x", "y"), timeout=5).status_code == 401
    pre = requests.options(
        f"{server}/deployment/create",
        headers={
            "Origin": "null",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
        timeout=5,
    )
    assert pre.status_code in (200, 204)
    assert pre.headers["Access-Control-Allow-Origin"] == "null"
    allowed = pre.headers["Access-Control-Allow-Headers"].lower()
    assert {"authorization", "content-type", "accept"} <= {h.strip() for h in allowed.split(",")}
    ok = requests.get(
        f"{server}/deployment?maxResults=0", auth=(users["admin"], PASSWORD), timeout=5
    )
    assert ok.status_code == 200
    def_id = next(iter(deployed["deployedProcessDefinitions"]))
    other = (users["outsider"], PASSWORD)
    r = requests.get(f"{server}/process-definition/{def_id}", auth=other, timeout=5)
    assert r.status_code == 404 and r.json()["type"]
    r = requests.get(f"{server}/process-definition/key/rest_user", auth=other, timeout=5)
    assert r.status_code == 404
    r = requests.get(f"{server}/deployment/{deployed['id']}", auth=other, timeout=5)
    assert r.status_code == 404
    assert requests.get(f"{server}/process-definition", auth=other, timeout=5).json() == []
    # a non-admin cannot deploy
    r = modeler_deploy(server, users["officer"], SMOKE)
    assert r.status_code == 403


def test_bearer_token(server: str, users: dict[str, str], app: Any) -> None:
    from engine.actors import Actor
    from web.rest.tokens import create_token, revoke_token

    engine = app.extensions["sopflow"]
    admin = Actor(users["admin"], "kudus", frozenset({"admin"}))
    token = create_token(engine, admin, users["admin"], "modeler")
    r = modeler_deploy_bearer(server, token)
    assert r.status_code == 200, r.text
    assert r.json()["tenantId"] == "kudus"
    bad = requests.get(f"{server}/deployment", headers={"Authorization": "Bearer nope"}, timeout=5)
    assert bad.status_code == 401
    from sqlalchemy import select

    from web.rest.models import ApiToken

    with engine.sessions() as s:
        token_id = s.scalar(select(ApiToken.id))
    revoke_token(engine, admin, token_id)
    from web.rest import auth

    auth.credential_cache(app).clear()
    gone = requests.get(
        f"{server}/deployment", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    assert gone.status_code == 401


def modeler_deploy_bearer(server: str, token: str) -> requests.Response:
    return requests.post(
        f"{server}/deployment/create",
        data=modeler_body(SMOKE),
        headers={
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "Authorization": f"Bearer {token}",
        },
        timeout=5,
    )
