"""A database of the previous release, with running requests, upgrades and its requests go on.

``release-97ba114.json.gz`` was written by ``build_release_fixture.py`` running the code of
commit 97ba114 (the release before issue 13's redesign): the Alembic revision of that release
and every row of its database, with four requests half-way through real SOPs of ``bpmn/``
(see ``REQUESTS`` there). Here, on SQLite and PostgreSQL alike, an empty database is migrated to
that revision, the rows are loaded, ``sopflow db upgrade`` of the current code runs (the CLI, as
an operator runs it), and the current engine drives every request to its end through its public
API only: the task waiting on an officer, the job a worker of the old release had locked, the
timers that come due after the upgrade (one in minutes, one in the agency's working days).

It fails when a migration breaks on existing rows, when the current engine can no longer read
the workflow state the old one saved (``process_instance.state_json``), or when the projection
rows the old release wrote (tasks, jobs, timers, SLA, history, business-key sequences) no
longer mean what they meant.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import DateTime, MetaData, create_engine, func, select, text
from support import CATALOGUE_TOPICS, PG_ADMIN_URL, unavailable

from engine.actors import Actor
from engine.clock import FrozenClock
from engine.db import make_db, make_sessions
from engine.runtime import Engine, TopicRequest, topics_policy
from web.composition import alembic_config

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FIXTURE = HERE / "release-97ba114.json.gz"
FILED = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 09:00 WIB, as in the fixture
OLD_WORKER = "old-release-worker"  # the worker that had locked a job when the old release stopped
WORKER = "new-release-worker"
NAME_OK = {"name_available": True, "name_reason": "", "name_suggestions": ""}

KADIS = Actor("kadis", "kudus", frozenset({"head_of_office"}))
KABID = Actor("kabid_informatika", "kudus", frozenset({"head_of_division"}))
KASI = Actor("kasi_tip", "kudus", frozenset({"head_of_section"}))
APPLICANT = Actor("ani", "kudus", frozenset({"applicant"}))
KUDUS_ADMIN = Actor("admin_kudus", "kudus", frozenset({"admin"}))
OFFICER = Actor("pengaduan", "pekalongan", frozenset({"complaint_officer"}))
OFFICIAL = Actor("kadis", "pekalongan", frozenset({"head_of_office"}))
PEKALONGAN_ADMIN = Actor("admin_pekalongan", "pekalongan", frozenset({"admin"}))

ON_TIME_PATH = [
    "generate_register",
    "send_received",
    "dispose_to_division",
    "sign_and_dispose",
    "check_name",
    "review_name",
    "reserve_name",
    "create_hosting",
    "create_dns",
    "send_done",
    "send_survey",
]


def at(minutes: float) -> datetime:
    return FILED + timedelta(minutes=minutes)


def _backends() -> list[str]:
    wanted = os.environ.get("SOPFLOW_TEST_DATABASES", "sqlite,postgresql")
    return [b.strip() for b in wanted.split(",") if b.strip()]


@pytest.fixture(params=_backends())
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it, not even the schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'release.db'}"
        return
    name = f"sopflow_up_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as e:  # noqa: BLE001 - any failure means "no PostgreSQL here"
        unavailable(f"PostgreSQL at {PG_ADMIN_URL} is not reachable: {e}")
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as c:
            c.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def read_fixture() -> dict[str, Any]:
    with gzip.open(FIXTURE, "rt", encoding="utf-8") as f:
        dump: dict[str, Any] = json.load(f)
    assert dump["format"] == 1 and dump["release"] == "97ba114"
    return dump


def load_release(url: str, dump: dict[str, Any]) -> None:
    """Migrate the empty database to the old release's revision and put its rows back, into the
    tables as that revision made them (reflected, not today's models)."""
    command.upgrade(alembic_config(url), dump["alembic_revision"])
    db = make_db(url)
    try:
        schema = MetaData()
        schema.reflect(db)
        rows_of = dict(dump["tables"])
        with db.begin() as c:
            for table in schema.sorted_tables:
                rows = rows_of.pop(table.name, [])
                if rows:
                    c.execute(table.insert(), [_stored(table, row) for row in rows])
            assert rows_of == {}, f"tables the old revision does not have: {sorted(rows_of)}"
            if db.dialect.name == "postgresql":
                # the rows came with their ids: move each serial past them, as the old
                # release's own inserts had (pg_get_serial_sequence is NULL for other keys)
                for table in schema.sorted_tables:
                    [*key] = table.primary_key.columns
                    if len(key) != 1 or key[0].type.python_type is not int:
                        continue
                    top = c.execute(select(func.max(key[0]))).scalar()
                    c.execute(
                        text("SELECT setval(pg_get_serial_sequence(:t, :c), :v, :called)"),
                        {
                            "t": f'"{table.name}"',
                            "c": key[0].name,
                            "v": top or 1,
                            "called": top is not None,
                        },
                    )
    finally:
        db.dispose()


def _stored(table: Any, row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, value in row.items():
        column = table.c[name]  # a KeyError: the dump has a column that revision does not
        if isinstance(column.type, DateTime) and isinstance(value, str):
            # the models store naive UTC (engine.models.UTCDateTime)
            value = datetime.fromisoformat(value).astimezone(UTC).replace(tzinfo=None)
        out[name] = value
    return out


def sopflow(url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The ``sopflow`` command of this tree, as an operator runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPFLOW_")}
    env.update(
        SOPFLOW_DATABASE_URL=url,
        SOPFLOW_INSTANCE_DIR=str(tmp_path / "instance"),
        PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])]),
    )
    return subprocess.run(
        [sys.executable, "-m", "web.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


class Requests:
    """The current engine, driven as people and workers would, through its public API."""

    def __init__(self, engine: Engine, clock: FrozenClock, dump: dict[str, Any]) -> None:
        self.engine = engine
        self.clock = clock
        self.ids = {label: r["id"] for label, r in dump["requests"].items()}
        self.keys = {label: r["business_key"] for label, r in dump["requests"].items()}

    def admin(self, label: str) -> Actor:
        return PEKALONGAN_ADMIN if label.startswith("complaint") else KUDUS_ADMIN

    def instance(self, label: str) -> Any:
        return self.engine.get_instance(self.admin(label), self.ids[label])

    def jobs(self, label: str) -> list[tuple[str, str, str]]:
        rows = self.engine.external_tasks(self.admin(label), instance_id=self.ids[label])
        return sorted((j.element_id, j.topic, j.state) for j in rows)

    def open_elements(self, label: str) -> list[str]:
        tasks = self.engine.inbox(self.admin(label), instance_id=self.ids[label])
        return sorted(t.element_id for t in tasks)

    def walked(self, label: str) -> list[str | None]:
        return [
            h.element_id
            for h in self.engine.history(self.admin(label), self.ids[label])
            if h.kind in ("task_completed", "job_completed")
        ]

    def kinds(self, label: str) -> list[str]:
        return [h.kind for h in self.engine.history(self.admin(label), self.ids[label])]

    def do(self, label: str, who: Actor, element: str, values: dict[str, Any]) -> None:
        tasks = [
            t
            for t in self.engine.inbox(who, instance_id=self.ids[label])
            if t.element_id == element
        ]
        assert len(tasks) == 1, (label, element, self.open_elements(label))
        self.engine.complete_task(who, tasks[0].id, values)

    def work(
        self, label: str, topic: str, element: str, outputs: dict[str, Any] | None = None
    ) -> Any:
        agency = "pekalongan" if label.startswith("complaint") else "kudus"
        jobs = self.engine.fetch_and_lock(
            WORKER,
            [TopicRequest(topic, 60_000)],
            max_tasks=5,
            agency=agency,
            business_key=self.keys[label],
        )
        assert [j.element_id for j in jobs] == [element], (label, topic, self.jobs(label))
        self.engine.complete_external(WORKER, jobs[0].id, outputs or {})
        return jobs[0]

    def step5_to_the_end(self, label: str, subdomain: str) -> None:
        self.work(label, "hosting.create", "create_hosting", {"hosting_path": f"/srv/{subdomain}"})
        self.work(label, "dns.create", "create_dns", {"fqdn": f"{subdomain}.kuduskab.go.id"})
        self.work(label, "mail.send", "send_done")
        self.work(label, "mail.send", "send_survey")


def test_a_release_database_upgrades_and_its_requests_go_on(empty_url: str, tmp_path: Path) -> None:
    dump = read_fixture()
    load_release(empty_url, dump)

    result = sopflow(empty_url, tmp_path, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert "database schema is up to date" in result.stdout
    cfg = alembic_config(empty_url)
    db = make_db(empty_url)
    with db.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    assert current == set(ScriptDirectory.from_config(cfg).get_heads())
    command.check(cfg)  # the upgraded schema is exactly today's models

    clock = FrozenClock(datetime.fromisoformat(dump["clock"]))
    assert clock.now() == at(12)
    engine = Engine(make_sessions(db), clock=clock, topics=topics_policy(CATALOGUE_TOPICS))
    r = Requests(engine, clock, dump)

    # ---- what each request was waiting for, read by the current engine
    assert {label: r.instance(label).state for label in r.ids} == dict.fromkeys(r.ids, "running")
    [waiting] = engine.inbox(KADIS, instance_id=r.ids["kudus_officer"])
    assert (waiting.element_id, waiting.due_at) == ("dispose_to_division", at(20))
    assert r.jobs("kudus_locked_job") == [("check_name", "subdomain.check", "locked")]
    assert r.jobs("kudus_timer") == [("create_hosting", "hosting.create", "available")]
    assert r.instance("kudus_timer").sla_due_at == at(64)
    assert r.open_elements("complaint_sla") == ["respond_complaint"]
    complaint_due = datetime(2026, 11, 30, 2, 10, tzinfo=UTC)  # 5 working days, WIB
    assert r.instance("complaint_sla").sla_due_at == complaint_due
    assert engine.fire_due_timers() == 0

    # ---- the job the old release's worker had locked: that worker finishes it
    clock.set(at(15))
    [locked] = engine.external_tasks(KUDUS_ADMIN, instance_id=r.ids["kudus_locked_job"])
    assert locked.worker_id == OLD_WORKER
    engine.complete_external(OLD_WORKER, locked.id, NAME_OK)
    r.do("kudus_locked_job", KASI, "review_name", {"name_available": True, "section_note": "Ok"})
    r.work("kudus_locked_job", "subdomain.reserve", "reserve_name")
    r.step5_to_the_end("kudus_locked_job", "dinkes")
    assert r.instance("kudus_locked_job").state == "completed"
    assert r.walked("kudus_locked_job") == ON_TIME_PATH

    # ---- the request waiting on the Kepala Dinas: on time, every step
    clock.set(at(16))
    r.do("kudus_officer", KADIS, "dispose_to_division", {"disposition_note": "Kabid: proses"})
    clock.set(at(17))
    r.do("kudus_officer", KABID, "sign_and_dispose", {"form_signed": True, "division_note": "x"})
    r.work("kudus_officer", "subdomain.check", "check_name", NAME_OK)
    clock.set(at(18))
    r.do("kudus_officer", KASI, "review_name", {"name_available": True, "section_note": "Ok"})
    r.work("kudus_officer", "subdomain.reserve", "reserve_name")
    clock.set(at(30))  # step 2's timer (due 02:20) was for a step that is done: nothing fires
    assert engine.fire_due_timers() == 0
    r.step5_to_the_end("kudus_officer", "bappeda")
    final = r.instance("kudus_officer")
    assert final.state == "completed" and final.sla_breached_at is None
    assert r.walked("kudus_officer") == ON_TIME_PATH
    assert "timer_fired" not in r.kinds("kudus_officer")
    assert final.variables["fqdn"] == "bappeda.kuduskab.go.id"
    assert final.variables["letter_pdf"] == "sha256:reg"  # written by the old release's worker

    # ---- step 5's timer of the old release comes due: escalation, SLA breached, then the end
    clock.set(at(63))
    assert engine.fire_due_timers() == 0
    clock.set(at(65))
    assert engine.fire_due_timers() == 1
    assert r.jobs("kudus_timer") == [
        ("create_hosting", "hosting.create", "available"),
        ("send_escalation_step5", "mail.send", "available"),
    ]
    job = r.work("kudus_timer", "mail.send", "send_escalation_step5")
    assert job.variables["step"] == "5"
    r.step5_to_the_end("kudus_timer", "disdikpora")
    final = r.instance("kudus_timer")
    assert final.state == "completed" and final.sla_breached_at == at(65)
    assert r.walked("kudus_timer") == [
        *ON_TIME_PATH[:7],
        "send_escalation_step5",
        *ON_TIME_PATH[7:],
    ]
    assert r.kinds("kudus_timer").count("timer_fired") == 1

    # ---- the complaint's deadline, counted in Pekalongan's working days by the old release
    clock.set(complaint_due - timedelta(minutes=1))
    assert engine.fire_due_timers() == 0
    clock.set(complaint_due + timedelta(minutes=1))
    assert engine.fire_due_timers() == 1
    r.work("complaint_sla", "mail.send", "send_escalation")
    assert r.open_elements("complaint_sla") == ["escalate", "respond_complaint"]
    r.do("complaint_sla", OFFICER, "respond_complaint", {"response": "Sudah aktif", "solved": True})
    r.work("complaint_sla", "mail.send", "send_response")
    r.work("complaint_sla", "mail.send", "send_survey")
    r.do("complaint_sla", OFFICIAL, "escalate", {"escalation_notes": "Petugas ditegur"})
    final = r.instance("complaint_sla")
    assert final.state == "completed"
    assert final.sla_breached_at == complaint_due + timedelta(minutes=1)
    assert r.walked("complaint_sla") == [
        "send_received",
        "classify_complaint",
        "send_escalation",
        "respond_complaint",
        "send_response",
        "send_survey",
        "escalate",
    ]

    # ---- a new request after the upgrade carries on the old release's numbering
    new = engine.start(APPLICANT, "kudus", values={**_kudus_request(), "subdomain": "baru"})
    assert new.business_key == "KUDUS/2026/000004"
    assert [j.element_id for j in engine.external_tasks(KUDUS_ADMIN, instance_id=new.id)] == [
        "generate_register"
    ]
    assert engine.fire_due_timers() == 0
    db.dispose()


def _kudus_request() -> dict[str, str]:
    return {
        "opd_name": "Badan Perencanaan Pembangunan Daerah",
        "letter_number": "050/12/2026",
        "letter_date": "2026-11-30",
        "letter_file": "sha256:cc03",
        "form_file": "sha256:dd04",
        "purpose": "Website data perencanaan pembangunan",
        "applicant_email": "bappeda@kuduskab.go.id",
        "applicant_phone": "0291-430000",
    }
