"""Fixtures for the browser UI tests: an app on the suite's database (SQLite and PostgreSQL),
users with scrypt passwords, a logged-in test client and a worker for service tasks."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from ui_support import PASSWORD, login

from engine.actors import Actor
from engine.models import User, UserGroup
from engine.runtime import TopicRequest
from web import create_app, passwords

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
WORKER = "ui-test-worker"
TOPICS = (
    "subdomain.check",
    "subdomain.reserve",
    "dns.create",
    "hosting.create",
    "website.verify",
    "mail.send",
    "letter.generate",
    "credentials.issue",
)


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "METHOD", "scrypt:1024:8:1")


@pytest.fixture
def app(db_url: str, agencies: dict[str, int], clock: Any, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(
        {
            "DATABASE_URL": db_url,
            "SECRET_KEY": "test-secret-key-for-the-ui",
            "WORKERS": 0,
            "INSTANCE_DIR": tmp_path / "instance",
            "CLOCK": clock,
            "UPLOAD_MAX_BYTES": 64 * 1024,
        }
    )
    if "ui" not in app.blueprints:  # until create_app wires it
        from web import ui

        ui.register(app)
    app.config["TESTING"] = True
    yield app
    app.extensions["sopflow"].sessions.kw["bind"].dispose()


@pytest.fixture
def engine(app: Flask) -> Any:  # noqa: F811 - the app's own engine
    return app.extensions["sopflow"]


@pytest.fixture
def make_user(app: Flask, agencies: dict[str, int]) -> Callable[..., str]:
    def make(username: str, agency: str = "kudus", *groups: str, active: bool = True) -> str:
        with app.extensions["sopflow"].sessions.begin() as s:
            s.add(
                User(
                    username=username,
                    agency_id=agencies[agency],
                    password_hash=passwords.hash_password(PASSWORD),
                    display_name=username.title(),
                    active=active,
                    created_at=datetime.now(UTC),
                    groups=[UserGroup(group=g) for g in groups],
                )
            )
        return username

    return make


@pytest.fixture
def client_for(app: Flask) -> Callable[[str], FlaskClient]:
    def make(username: str) -> FlaskClient:
        c = app.test_client()
        r = login(c, username)
        assert r.status_code == 302, r.get_data(as_text=True)
        return c

    return make


@pytest.fixture
def deploy(engine: Any) -> Callable[[str], None]:
    def run(agency: str = "kudus", key: str | None = None) -> None:
        key = key or agency
        admin = Actor(f"admin_{agency}", agency, frozenset({"admin"}))
        engine.deploy(admin, [(f"{key}.bpmn", (BPMN_DIR / f"{key}.bpmn").read_bytes())])

    return run


@pytest.fixture
def work(engine: Any) -> Callable[..., list[str]]:
    """Play the external worker: complete every available job (outputs per topic) until the
    queue is empty; returns the element ids worked, in order."""

    def run(
        agency: str = "kudus",
        outputs: Mapping[str, Mapping[str, Any]] | None = None,
        topics: tuple[str, ...] = TOPICS,
    ) -> list[str]:
        done: list[str] = []
        for _ in range(50):
            jobs = engine.fetch_and_lock(
                WORKER, [TopicRequest(t, 60_000) for t in topics], max_tasks=10, agency=agency
            )
            if not jobs:
                return done
            for job in jobs:
                engine.complete_external(WORKER, job.id, dict((outputs or {}).get(job.topic, {})))
                done.append(job.element_id)
        raise AssertionError("the job queue never emptied")

    return run
