"""A real sopflow server on a loopback port (waitress, as `sopflow serve` runs it) with the
Camunda REST API, users with scrypt passwords in two agencies, and helpers for the PyPI Camunda
clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from rest_support import DATA, PASSWORD, SMOKE  # noqa: E402,F401 - shared with the tests

from engine.models import User, UserGroup
from web import create_app, passwords
from web.rest.server import Server, start_in_thread

SERVER_THREADS = 12  # small, so that the long-polling limit is reached in a test


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "METHOD", "scrypt:1024:8:1")


@pytest.fixture
def app_settings() -> dict[str, Any]:
    """Extra settings of the app; a test module overrides this fixture to change them."""
    return {}


@pytest.fixture
def app(
    db_url: str, agencies: dict[str, int], tmp_path: Path, app_settings: dict[str, Any]
) -> Iterator[Any]:
    app = create_app(
        {
            "DATABASE_URL": db_url,
            "SECRET_KEY": "test-secret-key-for-rest",
            "WORKERS": 0,
            "INSTANCE_DIR": tmp_path / "instance",
            "EXTERNAL_TOPICS": "rest.*",
            **app_settings,
        }
    )
    if "engine_rest" not in app.blueprints:  # until create_app wires it
        from web import rest

        rest.register(app)
    yield app
    app.extensions["sopflow"].sessions.kw["bind"].dispose()


@pytest.fixture
def make_user(app: Any, agencies: dict[str, int]) -> Callable[..., str]:
    def make(username: str, agency: str = "kudus", *groups: str) -> str:
        with app.extensions["sopflow"].sessions.begin() as s:
            s.add(
                User(
                    username=username,
                    agency_id=agencies[agency],
                    password_hash=passwords.hash_password(PASSWORD),
                    display_name=username,
                    active=True,
                    created_at=datetime.now(UTC),
                    groups=[UserGroup(group=g) for g in groups],
                )
            )
        return username

    return make


@pytest.fixture
def users(make_user: Callable[..., str]) -> dict[str, str]:
    return {
        "admin": make_user("rest_admin", "kudus", "admin"),
        "officer": make_user("rest_officer", "kudus", "technical_officer"),
        "outsider": make_user("rest_outsider", "tapin", "admin"),
        "applicant": make_user("rest_applicant", "kudus", "applicant"),
        "colleague": make_user("rest_colleague", "kudus", "technical_officer"),
        "integration": make_user("rest_integration", "kudus", "integration"),
        "worker": make_user("rest_worker", "kudus", "worker"),
    }


@pytest.fixture
def live(app: Any, users: dict[str, str]) -> Iterator[Server]:
    """The server ``sopflow serve`` runs (waitress), on a free loopback port."""
    srv = start_in_thread(app, threads=SERVER_THREADS)
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.thread.join(5)  # type: ignore[attr-defined]


@pytest.fixture
def server(live: Server) -> str:
    return f"http://127.0.0.1:{live.port}/engine-rest"


@pytest.fixture
def http() -> Callable[[str], requests.Session]:
    def session(user: str) -> requests.Session:
        s = requests.Session()
        s.auth = (user, PASSWORD)
        return s

    return session


@pytest.fixture
def deployed(server: str, users: dict[str, str], http: Callable[..., Any]) -> dict[str, Any]:
    r = http(users["admin"]).post(
        f"{server}/deployment/create",
        data={"deployment-name": "rest", "enable-duplicate-filtering": "true"},
        files={"data": ("rest_smoke.bpmn", SMOKE, "text/xml")},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def world(app: Any, make_user: Callable[..., str], agencies: dict[str, int]) -> Any:
    """One Kudus office with work units, every role, and a1's requests at an officer's task,
    returned to its unit and in the built-in queue (tests/rest/matrix_world.py)."""
    from matrix_world import build

    return build(app, make_user)
