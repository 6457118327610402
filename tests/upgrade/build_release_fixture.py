"""Build the database of a previous release, with running requests, as a portable dump.

Run it with the OLD release's code first on the path, e.g. for the release before issue 13::

    git worktree add --detach /tmp/rel-97ba114 97ba114
    PYTHONPATH=/tmp/rel-97ba114 .venv/bin/python tests/upgrade/build_release_fixture.py \\
        --out tests/upgrade/release-97ba114.json

It migrates an empty SQLite database with that release's own migrations, deploys real SOPs of
``bpmn/`` with that release's engine and leaves requests half-way (the ``REQUESTS`` below), then
writes the Alembic revision and every row of every table as JSON (datetimes as ISO strings in
UTC). tests/upgrade/test_release_upgrade.py loads it into SQLite and PostgreSQL alike after
migrating an empty database to that revision, runs ``sopflow db upgrade`` of the current code
and drives every request to its end.

Only the public API that release had is used here: this script is part of the fixture, written
against the old code, and is not meant to follow later refactorings (a fixture for a newer
release copies it and adapts it to that release).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

FILED = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 23 November 2026, 09:00 WIB

# what each request is waiting for when the old release stops
REQUESTS = {
    # Kudus subdomain request, steps 2-4 done, in step 5 (60-minute timer, the SLA): its
    # hosting job waits for a worker; the timer comes due after the upgrade
    "kudus_timer": "kudus: create_hosting job available, step 5 timer (SLA) due 03:04 UTC",
    # Kudus request whose name check a worker has fetched and locked (and not finished)
    "kudus_locked_job": "kudus: check_name job locked by old-release-worker",
    # Kudus request waiting on the Kepala Dinas (step 2), its 10-minute timer pending
    "kudus_officer": "kudus: dispose_to_division task open (KADIS), step 2 timer due 02:20 UTC",
    # a complaint in Pekalongan, classified light: 5 working days in its own calendar
    "complaint_sla": "pekalongan: respond_complaint open, SLA timer due 30 Nov 02:10 UTC",
}
WORKER = "old-release-worker"
KUDUS_REQUEST = {
    "opd_name": "Dinas Pendidikan, Kepemudaan dan Olahraga",
    "letter_number": "421/1187/23.01/2026",
    "letter_date": "2026-11-20",
    "letter_file": "sha256:aa01bb02",
    "form_file": "sha256:formulir-ttd",
    "purpose": "Website informasi PPDB dan kegiatan olahraga",
    "applicant_email": "ani@disdikpora.kuduskab.go.id",
    "applicant_phone": "0291-438921",
}
COMPLAINT = {
    "complainant_name": "Siti Aminah",
    "opd_name": "Dinas Kesehatan",
    "complaint_channel": "whatsapp",
    "related_request": "PEKALONGAN/2026/000001",
    "complaint_text": "Subdomain yang diminta belum aktif padahal sudah dijanjikan",
    "complaint_file": "sha256:bukti-01",
    "applicant_email": "pelapor@example.id",
    "applicant_phone": "081355501234",
}
NAME_OK = {"name_available": True, "name_reason": "", "name_suggestions": ""}


def build(out: Path) -> None:
    from engine.actors import Actor
    from engine.catalogue import AGENCIES, TOPICS
    from engine.clock import FrozenClock
    from engine.db import load_all_models, make_db, make_sessions, upgrade
    from engine.models import Agency, Base
    from engine.runtime import Engine, TopicRequest, topics_policy

    old_tree = Path(sys.modules["engine"].__file__ or "").resolve().parents[1]
    bpmn = old_tree / "bpmn"
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/release.db"
        load_all_models()
        upgrade(url)
        db = make_db(url)
        sessions = make_sessions(db)
        with sessions.begin() as s:
            s.add_all(
                Agency(
                    code=a.code,
                    name=a.name,
                    parent_domain=a.parent_domain,
                    timezone=a.timezone,
                    settings={},
                )
                for a in AGENCIES
            )
        clock = FrozenClock(FILED)
        engine = Engine(sessions, clock=clock, topics=topics_policy(TOPICS))

        def admin(agency: str) -> Actor:
            return Actor(f"admin_{agency}", agency, frozenset({"admin"}))

        def person(name: str, agency: str, group: str) -> Actor:
            return Actor(name, agency, frozenset({group}))

        applicant = person("ani", "kudus", "applicant")
        kadis = person("kadis", "kudus", "head_of_office")
        kabid = person("kabid_informatika", "kudus", "head_of_division")
        kasi = person("kasi_tip", "kudus", "head_of_section")

        def at(minutes: int) -> datetime:
            return FILED + timedelta(minutes=minutes)

        def work(agency: str, topic: str, element: str, outputs: dict[str, Any]) -> None:
            [job] = engine.fetch_and_lock(
                "builder", [TopicRequest(topic, 60_000)], max_tasks=1, agency=agency
            )
            assert job.element_id == element, (job.element_id, element)
            engine.complete_external("builder", job.id, outputs)

        def do(who: Actor, element: str, values: dict[str, Any]) -> None:
            [task] = [t for t in engine.inbox(who) if t.element_id == element]
            engine.complete_task(who, task.id, values)

        def submit(subdomain: str) -> Any:
            inst = engine.start(
                applicant, "kudus", values={**KUDUS_REQUEST, "subdomain": subdomain}
            )
            work("kudus", "letter.generate", "generate_register", {"letter_pdf": "sha256:reg"})
            work("kudus", "mail.send", "send_received", {})
            return inst

        for agency, key in (("kudus", "kudus"), ("pekalongan", "complaint")):
            engine.deploy(admin(agency), [(f"{key}.bpmn", (bpmn / f"{key}.bpmn").read_bytes())])

        ids: dict[str, Any] = {}
        # kudus_timer: filed 02:00, into step 5 at 02:04 (its 60 minutes: due 03:04)
        clock.set(at(0))
        ids["kudus_timer"] = submit("disdikpora")
        clock.set(at(1))
        do(kadis, "dispose_to_division", {"disposition_note": "Kabid: proses"})
        clock.set(at(2))
        do(kabid, "sign_and_dispose", {"form_signed": True, "division_note": "Kasi: cek"})
        work("kudus", "subdomain.check", "check_name", NAME_OK)
        clock.set(at(3))
        do(kasi, "review_name", {"name_available": True, "section_note": "Diperiksa"})
        clock.set(at(4))
        work("kudus", "subdomain.reserve", "reserve_name", {})
        # kudus_locked_job: filed 02:05, its name check fetched and locked at 02:08 for a day
        clock.set(at(5))
        ids["kudus_locked_job"] = submit("dinkes")
        clock.set(at(6))
        do(kadis, "dispose_to_division", {"disposition_note": "Kabid: proses"})
        clock.set(at(8))
        do(kabid, "sign_and_dispose", {"form_signed": True, "division_note": "Kasi: cek"})
        [locked] = engine.fetch_and_lock(
            WORKER, [TopicRequest("subdomain.check", 86_400_000)], max_tasks=1, agency="kudus"
        )
        assert locked.element_id == "check_name"
        # kudus_officer: filed 02:10, waiting on the Kepala Dinas
        clock.set(at(10))
        ids["kudus_officer"] = submit("bappeda")
        # complaint_sla: Pekalongan, filed and classified light at 02:10 (due 30 November)
        officer = person("pengaduan", "pekalongan", "complaint_officer")
        ids["complaint_sla"] = engine.start(
            person("pelapor", "pekalongan", "applicant"), "complaint", values=COMPLAINT
        )
        work("pekalongan", "mail.send", "send_received", {})
        do(officer, "classify_complaint", {"complaint_category": "light"})
        clock.set(at(12))

        tables = {}
        with db.connect() as conn:
            revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
            for table in Base.metadata.sorted_tables:
                rows = [dict(r._mapping) for r in conn.execute(table.select())]
                if rows:
                    tables[table.name] = [{k: _plain(v) for k, v in r.items()} for r in rows]
        db.dispose()

    commit = subprocess.run(
        ["git", "-C", str(old_tree), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    dump = {
        "format": 1,
        "release": commit or "unknown",
        "alembic_revision": revision,
        "clock": clock.now().isoformat(),
        "requests": {
            label: {
                "id": inst.id,
                "business_key": inst.business_key,
                "waiting": REQUESTS[label],
            }
            for label, inst in ids.items()
        },
        "locked_by": WORKER,
        "tables": tables,
    }
    out.write_text(json.dumps(dump, ensure_ascii=False, sort_keys=True, separators=(",", ":")))
    size = out.stat().st_size
    print(f"{out}: release {commit}, revision {revision}, {len(tables)} tables, {size} bytes")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        raise TypeError("binary columns are not in this release's schema")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    build(parser.parse_args().out)


if __name__ == "__main__":
    main()
