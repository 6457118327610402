"""What the REST API shows a browser page and a caller without credentials (issue 11): CORS
only for ``SOPFLOW_CORS_ORIGINS`` and, on loopback, Camunda Modeler's ``file://`` page; no CORS
header at all for any other origin; only ``/version`` and ``/openapi.json`` are public."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from rest_support import PASSWORD

from engine.errors import ConfigurationError
from web.config import load_settings

PORTAL = "https://portal.kuduskab.go.id"
EVIL = "https://evil.example"


@pytest.fixture
def app_settings() -> dict[str, Any]:
    return {"CORS_ORIGINS": f"{PORTAL}, http://127.0.0.1:8080/"}


def cors_headers(r: requests.Response) -> dict[str, str]:
    return {k: v for k, v in r.headers.items() if k.lower().startswith("access-control-")}


def preflight(server: str, origin: str, **headers: str) -> requests.Response:
    return requests.options(
        f"{server}/deployment/create",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
            **headers,
        },
        timeout=5,
    )


def get(server: str, origin: str, user: str, **headers: str) -> requests.Response:
    return requests.get(
        f"{server}/task?maxResults=0",
        headers={"Origin": origin, **headers},
        auth=(user, PASSWORD),
        timeout=5,
    )


def test_an_unlisted_origin_gets_no_cors_headers(server: str, users: dict[str, str]) -> None:
    r = get(server, EVIL, users["officer"])
    assert r.status_code == 200 and cors_headers(r) == {}
    pre = preflight(server, EVIL)
    assert pre.status_code == 204 and cors_headers(pre) == {}
    # errors and unknown paths neither
    r = requests.get(f"{server}/task", headers={"Origin": EVIL}, timeout=5)
    assert r.status_code == 401 and cors_headers(r) == {}
    r = requests.get(f"{server}/no/such/thing", headers={"Origin": EVIL}, timeout=5)
    assert r.status_code == 404 and cors_headers(r) == {}
    # an origin that only starts like a listed one is another origin
    assert cors_headers(get(server, PORTAL + ".evil.example", users["officer"])) == {}
    webapps = server.rsplit("/", 1)[0] + "/.well-known/camunda-automation-platform/webapps"
    assert cors_headers(requests.get(webapps, headers={"Origin": EVIL}, timeout=5)) == {}


def test_a_configured_origin_gets_cors_with_credentials(server: str, users: dict[str, str]) -> None:
    for origin in (PORTAL, "http://127.0.0.1:8080"):
        r = get(server, origin, users["officer"])
        assert r.status_code == 200
        assert r.headers["Access-Control-Allow-Origin"] == origin
        assert r.headers["Access-Control-Allow-Credentials"] == "true"
        assert r.headers["Vary"] == "Origin"
        assert "Access-Control-Allow-Methods" not in r.headers  # only on the preflight
    pre = preflight(server, PORTAL)
    assert pre.headers["Access-Control-Allow-Origin"] == PORTAL
    assert "POST" in pre.headers["Access-Control-Allow-Methods"]
    assert "authorization" in pre.headers["Access-Control-Allow-Headers"].lower()


@pytest.mark.parametrize("origin", ["null", "file://"])
def test_the_modelers_file_origin_is_allowed_on_loopback_only(
    server: str, users: dict[str, str], app: Any, monkeypatch: pytest.MonkeyPatch, origin: str
) -> None:
    r = get(server, origin, users["officer"])
    assert r.headers["Access-Control-Allow-Origin"] == origin
    assert preflight(server, origin).headers["Access-Control-Allow-Origin"] == origin
    for host in ("localhost", "[::1]:5000"):
        assert (
            get(server, origin, users["officer"], Host=host).headers.get(
                "Access-Control-Allow-Origin"
            )
            == origin
        )
    # the browser asked for another host (a public name, a DNS-rebinding name): no CORS
    for host in ("sopflow.kuduskab.go.id", "127.0.0.1.evil.example"):
        assert cors_headers(get(server, origin, users["officer"], Host=host)) == {}
        assert cors_headers(preflight(server, origin, Host=host)) == {}
    # served on every address (sopflow serve --host 0.0.0.0): no CORS even via 127.0.0.1
    monkeypatch.setitem(app.config["SOPFLOW"], "LISTEN_HOST", "0.0.0.0")  # noqa: S104
    assert cors_headers(get(server, origin, users["officer"])) == {}
    assert get(server, PORTAL, users["officer"]).headers["Access-Control-Allow-Origin"] == PORTAL
    monkeypatch.setitem(app.config["SOPFLOW"], "LISTEN_HOST", "::1")
    assert get(server, origin, users["officer"]).headers["Access-Control-Allow-Origin"] == origin


def test_a_wildcard_or_url_is_refused_at_start_up() -> None:
    for bad in ("*", "https://portal.kuduskab.go.id/app", "portal.kuduskab.go.id"):
        with pytest.raises(ConfigurationError) as err:
            load_settings({"CORS_ORIGINS": bad}, environ={}, secret=False)
        assert "SOPFLOW_CORS_ORIGINS" in err.value.message_en
        assert "SOPFLOW_CORS_ORIGINS" in err.value.message_id
    settings = load_settings(
        {"CORS_ORIGINS": "HTTPS://Portal.example/, null"}, environ={}, secret=False
    )
    assert settings["CORS_ORIGINS"] == {"https://portal.example", "null"}
    assert load_settings({}, environ={}, secret=False)["CORS_ORIGINS"] == frozenset()


@pytest.mark.parametrize("prefix", ["/engine-rest", "/rest"])
def test_only_version_and_openapi_are_public(
    server: str, users: dict[str, str], prefix: str
) -> None:
    root = server.rsplit("/", 1)[0] + prefix
    for path in ("/version", "/openapi.json"):
        assert requests.get(root + path, timeout=5).status_code == 200, path
    for path in ("/task/version", "/task/openapi.json", "/deployment/version"):
        r = requests.get(root + path, timeout=5)
        assert r.status_code == 401, (path, r.status_code, r.text)
        assert r.json()["type"] == "AuthenticationException"
        assert r.headers["WWW-Authenticate"].startswith("Basic")
    r = requests.get(root + "/task/version", auth=(users["officer"], PASSWORD), timeout=5)
    assert r.status_code == 404, r.text  # an unknown task id, as for any other
    assert r.json()["type"]
