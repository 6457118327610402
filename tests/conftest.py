"""Fixtures shared by the whole suite.

Every test that touches the database runs twice, on SQLite and on PostgreSQL. Each run creates
its own databases (a temp SQLite file; a fresh PostgreSQL database named after the process) and
migrates them with Alembic, so nothing depends on what a previous run left behind. Tables are
emptied after every test.

Integration parts that may be missing on a developer machine (PostgreSQL here) are skipped with
a reason; with ``SOPFLOW_REQUIRE_INTEGRATION=1`` (set by ``.ci/run``) their absence fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from dns_server import BASE_RECORDS, RFC2136_ZONE, ZONEFILE_ZONE, NamedServer, NamedUnavailable
from sqlalchemy import create_engine, inspect, text
from support import CATALOGUE_TOPICS, PG_ADMIN_URL, SHARED, actor, unavailable

from engine.actors import Actor
from engine.catalogue import AGENCIES
from engine.clock import FrozenClock
from engine.db import make_db, make_sessions
from engine.models import Agency, Base
from engine.runtime import Engine, topics_policy
from web.composition import load_models, upgrade

load_models()  # every model module of the composition root: the cleanup empties their tables


def _backends() -> list[str]:
    wanted = os.environ.get("SOPFLOW_TEST_DATABASES", "sqlite,postgresql")
    return [b.strip() for b in wanted.split(",") if b.strip()]


@pytest.fixture(scope="session", params=_backends())
def db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db')}/sopflow.db"
        upgrade(url)
        yield url
        return
    name = f"sopflow_t_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as e:  # noqa: BLE001 - any failure means "no PostgreSQL here"
        unavailable(f"PostgreSQL at {PG_ADMIN_URL} is not reachable: {e}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as c:
            c.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture
def db(db_url: str) -> Iterator[Any]:
    engine = make_db(db_url)
    try:
        yield engine
    finally:
        existing = set(inspect(engine).get_table_names())
        with engine.begin() as c:
            for table in reversed(Base.metadata.sorted_tables):
                if table.name in existing:
                    c.execute(table.delete())
        engine.dispose()


@pytest.fixture
def sessions(db: Any) -> Any:
    return make_sessions(db)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def agencies(sessions: Any) -> dict[str, int]:
    with sessions.begin() as s:
        rows = [
            Agency(
                code=a.code,
                name=a.name,
                parent_domain=a.parent_domain,
                timezone=a.timezone,
                settings={},
            )
            for a in AGENCIES
        ]
        s.add_all(rows)
        s.flush()
        return {r.code: r.id for r in rows}


@pytest.fixture
def make_engine(
    sessions: Any, clock: FrozenClock, agencies: dict[str, int]
) -> Callable[..., Engine]:
    def factory(**kwargs: Any) -> Engine:
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("topics", topics_policy(CATALOGUE_TOPICS))
        return Engine(sessions, **kwargs)

    return factory


@pytest.fixture
def engine(make_engine: Callable[..., Engine]) -> Engine:
    return make_engine()


@pytest.fixture
def admin() -> Actor:
    return actor("admin_kudus", "kudus", "admin")


@pytest.fixture
def dialect_xml() -> bytes:
    return (SHARED / "bpmn-corpus" / "dialect-example.bpmn").read_bytes()


# ---------------------------------------------------------------- DNS
# One real BIND ``named`` per test session (tests/dns_server.py): a dynamic zone for the rfc2136
# provider (kuduskab.go.id) and a static zone the zonefile provider edits (tapinkab.go.id).
@pytest.fixture(scope="session")
def named(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NamedServer]:
    server = NamedServer(tmp_path_factory.mktemp("named"))
    server.add_zone(RFC2136_ZONE, BASE_RECORDS)
    server.add_zone(ZONEFILE_ZONE, BASE_RECORDS, dynamic=False)
    try:
        server.start()
    except NamedUnavailable as e:
        unavailable(f"BIND named could not be started: {e}")
    yield server
    server.stop()


@pytest.fixture
def dns_server(named: NamedServer) -> NamedServer:
    """The session's named, running, with both zones reset to ``BASE_RECORDS``."""
    try:
        named.start()
        named.reset_zone(RFC2136_ZONE, BASE_RECORDS)
        named.reset_zone(ZONEFILE_ZONE, BASE_RECORDS)
    except NamedUnavailable as e:
        unavailable(f"BIND named: {e}")
    return named
