"""Fixtures of a whole sopflow app on the suite's database (SQLite and PostgreSQL), shared by the
packages that test through it (tests/webui with Flask's test client, tests/browser with
Chromium). Each package's conftest imports the fixtures by name, which registers them there, and
overrides ``app_settings`` for what differs (upload limits, cookies over plain http).

- ``app`` / ``engine``: ``create_app`` with the suite's frozen ``clock`` and no built-in workers
  (``WORKERS=0``): service tasks are played by ``work``, so a test decides when they run.
- ``make_user(username, agency="kudus", *groups, active=True)`` with password ``PASSWORD``.
- ``deploy(agency="kudus", key=None)``: ``bpmn/<key>.bpmn`` as that agency's administrator.
- ``work(agency="kudus", outputs=None, topics=SERVICE_TOPICS)``: every available job completed
  with ``outputs[topic]`` until the queue is empty; the element ids worked, in order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from engine.actors import Actor
from engine.models import User, UserGroup
from engine.runtime import TopicRequest
from web import create_app, passwords

PASSWORD = "kata-sandi-rahasia-1"
BPMN_DIR = Path(__file__).resolve().parents[1] / "bpmn"
WORKER = "test-worker"
SERVICE_TOPICS = (
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
def app_settings() -> dict[str, Any]:
    return {}


@pytest.fixture
def app(
    db_url: str,
    agencies: dict[str, int],
    clock: Any,
    tmp_path: Path,
    app_settings: dict[str, Any],
) -> Iterator[Any]:
    app = create_app(
        {
            "DATABASE_URL": db_url,
            "SECRET_KEY": "test-secret-key-for-the-app",
            "WORKERS": 0,
            "INSTANCE_DIR": tmp_path / "instance",
            "CLOCK": clock,
            **app_settings,
        }
    )
    app.config["TESTING"] = True
    yield app
    app.extensions["sopflow"].sessions.kw["bind"].dispose()


@pytest.fixture
def engine(app: Any) -> Any:
    return app.extensions["sopflow"]


@pytest.fixture
def make_user(app: Any, agencies: dict[str, int]) -> Callable[..., str]:
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
def deploy(engine: Any) -> Callable[..., Any]:
    def run(agency: str = "kudus", key: str | None = None) -> Any:
        key = key or agency
        admin = Actor(f"admin_{agency}", agency, frozenset({"admin"}))
        return engine.deploy(admin, [(f"{key}.bpmn", (BPMN_DIR / f"{key}.bpmn").read_bytes())])

    return run


@pytest.fixture
def work(engine: Any) -> Callable[..., list[str]]:
    def run(
        agency: str = "kudus",
        outputs: Mapping[str, Mapping[str, Any]] | None = None,
        topics: tuple[str, ...] = SERVICE_TOPICS,
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
