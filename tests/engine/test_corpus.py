"""The shared corpus: every MIWG reference model deploys or is refused with located, human
problems (never a crash or a hang), and the dialect example deploys and runs on every path."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from support import SHARED

from engine.actors import Actor
from engine.bpmn.diagram import ParsedDiagram
from engine.clock import FrozenClock
from engine.errors import DeployError, FormValidationError, Problem
from engine.runtime import Engine, TopicRequest, topics_policy

MIWG = SHARED / "bpmn-corpus" / "miwg"
FILES = sorted(MIWG.glob("*.bpmn"))
PER_FILE_BUDGET_S = 60.0  # generous: only proves the parse finishes, this is no timing test

# What the corpus must keep saying: a problem matching this is among those reported.
# (None: the file deploys.)  The table is the behaviour the analysts are told about.
EXPECTED: dict[str, str | None] = {
    "A.1.0.bpmn": r"^No executable process",
    "A.2.0.bpmn": r"^No executable process",
    "A.2.1.bpmn": r"^No executable process",
    "A.3.0.bpmn": r"^No executable process",
    "A.4.0.bpmn": r"^No executable process",
    "A.4.1.bpmn": r"^No executable process",
    "B.1.0.bpmn": r"^bpmn:dataStore is not supported",
    "B.2.0.bpmn": r"^bpmn:globalUserTask is not supported",
    "C.1.0.bpmn": r"^User task has no candidate group or assignee",
    "C.1.1.bpmn": r"^bpmn:dataStore is not supported",
    "C.2.0.bpmn": r"^No executable process",
    "C.3.0.bpmn": r"has no condition and is not the default flow",
    "C.4.0.bpmn": r"^bpmn:dataStore is not supported",
    "C.5.0.bpmn": r"^bpmn:dataStore is not supported",
    "C.6.0.bpmn": r"^No executable process",
    "C.7.0.bpmn": r"^No executable process",
    "C.8.0.bpmn": r"^No executable process",
    "C.8.1.bpmn": r"^Unsupported element bpmn:ioSpecification",
    "C.9.0.bpmn": r"^Condition: ",
    "C.9.1.bpmn": r"^Topic 'emailService' has no handler",
    "C.9.2.bpmn": r"^Unsupported element bpmn:multiInstanceLoopCharacteristics",
}
_PYTHON_ERRORS = re.compile(r"\b(TypeError|KeyError|AttributeError|IndexError|Traceback)\b")


def _parser_engine() -> Engine:
    return Engine(cast(Any, None), topics=topics_policy(["dns.create", "mail.send"]))


def _parse_in_time(path: Path) -> ParsedDiagram | DeployError:
    """Parse in a thread and require it to finish: a hang fails here instead of stalling CI."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["result"] = _parser_engine().parse(path.name, path.read_bytes())
        except BaseException as e:  # noqa: BLE001 - anything but DeployError fails below
            out["result"] = e

    t = threading.Thread(target=run, daemon=True, name=f"parse-{path.name}")
    t.start()
    t.join(PER_FILE_BUDGET_S)
    assert not t.is_alive(), f"{path.name}: parsing did not finish"
    result = out["result"]
    if not isinstance(result, (ParsedDiagram, DeployError)):
        raise AssertionError(f"{path.name}: {type(result).__name__}: {result}") from result
    return result


def test_the_corpus_is_there() -> None:
    """An empty glob would make the walk below vacuously green."""
    assert {p.name for p in FILES} == set(EXPECTED), MIWG


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_miwg_file_deploys_or_is_refused_with_located_problems(path: Path) -> None:
    result = _parse_in_time(path)
    xml = path.read_text(encoding="utf-8")
    if isinstance(result, ParsedDiagram):
        assert result.processes, path.name
        assert EXPECTED[path.name] is None, f"{path.name} deployed but was expected refused"
        return
    problems: list[Problem] = result.problems
    assert problems
    for p in problems:
        assert p.message_en.strip() and p.message_id.strip(), p
        assert p.element_id or p.line, f"{path.name}: problem without location: {p}"
        assert p.filename == path.name
        assert not _PYTHON_ERRORS.search(p.message_en), p
        if p.element_id:  # the id names a real element of the file
            assert f'id="{p.element_id}"' in xml, p
        if p.line:
            assert 1 <= p.line <= xml.count("\n") + 1, p
    expected = EXPECTED[path.name]
    assert expected is not None, f"{path.name} refused: {problems[0]}"
    assert any(re.search(expected, p.message_en) for p in problems), (
        f"{path.name}: {[str(p) for p in problems]}"
    )
    # located: "file, line N, element 'x': message" for the analyst
    assert path.name in str(result)


def test_corpus_facts_about_spiffworkflow_are_caught_before_it_runs() -> None:
    """The README's measured SpiffWorkflow failures (dataStore, DMN tasks without decisionRef,
    gateway flows with names but no conditions) surface as dialect problems instead."""
    messages = []
    for path in FILES:
        result = _parse_in_time(path)
        if isinstance(result, DeployError):
            messages += [p.message_en for p in result.problems]
    for pattern in (
        r"^bpmn:dataStore is not supported$",
        r"^Unsupported element bpmn:businessRuleTask: DMN decisions are not supported",
        r"^Flow '[^']+' out of gateway '[^']+' has no condition and is not the default flow$",
    ):
        assert any(re.search(pattern, m) for m in messages), pattern


# --------------------------------------------------------------------------- dialect example

APPLICANT = Actor("ani", "kudus", frozenset({"applicant"}))
OFFICER = Actor("budi", "kudus", frozenset({"technical_officer"}))
HEAD = Actor("kadis", "kudus", frozenset({"head_of_office"}))
# reads whole requests whether or not a step of theirs was on the path
ADMIN = Actor("admin_kudus", "kudus", frozenset({"admin"}))
WORKER = "dns-worker-1"
START_VALUES = {
    "opd_name": "Dinas Komunikasi dan Informatika",
    "subdomain": "ppid-diskominfo",
    "purpose": "Portal informasi publik",
    "letter_file": "attachment:3f2a",
    "sites": "2",
}


@pytest.fixture
def dialect(engine: Engine, admin: Any, dialect_xml: bytes) -> Engine:
    result = engine.deploy(admin, [("dialect-example.bpmn", dialect_xml)])
    (d,) = result.deployed
    assert (d.key, d.version, d.name) == ("dialect_example", 1, "Contoh dialek sopflow")
    assert d.topics == ["dns.create"]
    assert d.history_ttl == 365
    assert d.properties == {"initiator": "initiator"}
    assert set(d.forms) == {"start", "verify"}
    return engine


def kinds(engine: Engine, instance_id: str) -> list[str]:
    return [h.kind for h in engine.history(ADMIN, instance_id)]


def start(engine: Engine, **values: Any) -> Any:
    inst = engine.start(APPLICANT, "dialect_example", values={**START_VALUES, **values})
    assert re.fullmatch(r"KUDUS/2026/\d{6}", inst.business_key)
    return inst


def only_task(engine: Engine, who: Any, instance_id: str, element: str) -> Any:
    tasks = engine.inbox(who, instance_id=instance_id)
    assert [t.element_id for t in tasks] == [element]
    return tasks[0]


def test_start_form_is_enforced(dialect: Engine) -> None:
    with pytest.raises(FormValidationError) as info:
        dialect.start(
            APPLICANT,
            "dialect_example",
            values={"subdomain": "Bad Name!", "sites": "6", "letter_file": ""},
        )
    assert {e.field for e in info.value.errors} == {"opd_name", "subdomain", "letter_file", "sites"}
    assert dialect.instances(HEAD) == []


def test_happy_path(dialect: Engine, clock: FrozenClock) -> None:
    inst = start(dialect)
    assert inst.state == "running" and inst.started_by == "ani"
    assert inst.current_step == "Verifikasi berkas"

    verify = only_task(dialect, OFFICER, inst.id, "verify")
    assert verify.candidate_groups == ["technical_officer"]
    assert verify.lane == "Petugas teknis"
    assert [(f["id"], f["type"]) for f in verify.form["fields"]] == [
        ("documents_complete", "boolean"),
        ("record_type", "enum"),
    ]
    assert verify.form["fields"][1]["options"] == [
        ["A", "Alamat IPv4 (A)"],
        ["CNAME", "Alias (CNAME)"],
    ]
    # due when the SLA boundary timer fires: 3 working days, Monday 09:00 -> Thursday 09:00 WIB
    assert verify.due_at == clock.now() + timedelta(days=3)
    assert dialect.inbox(HEAD, instance_id=inst.id) == []  # not the head's group
    assert dialect.inbox(APPLICANT, instance_id=inst.id) == []

    inst = dialect.complete_task(
        OFFICER, verify.id, {"documents_complete": True, "record_type": "CNAME"}
    )
    assert inst.state == "running" and inst.current_step == "Buat rekaman DNS"
    assert inst.variables["documents_complete"] is True
    assert inst.variables["sites"] == 2 and inst.variables["initiator"] == "ani"
    assert dialect.inbox(OFFICER, instance_id=inst.id) == []

    (job,) = dialect.fetch_and_lock(WORKER, [TopicRequest("dns.create", 60_000)])
    assert (job.topic, job.element_id, job.business_key) == (
        "dns.create",
        "provision",
        inst.business_key,
    )
    assert job.variables["record_type"] == "CNAME" and job.variables["ttl"] == "3600"
    assert job.variables["subdomain"] == "ppid-diskominfo"
    assert dialect.fetch_and_lock("other", [TopicRequest("dns.create")]) == []

    dialect.complete_external(WORKER, job.id, {"record_id": 42})
    inst = dialect.get_instance(ADMIN, inst.id)
    assert inst.state == "completed" and inst.ended_at == clock.now()
    assert inst.variables["record_id"] == 42
    assert inst.next_timer_at is None
    assert kinds(dialect, inst.id) == [
        "instance_started",
        "task_created",
        "task_completed",
        "job_created",
        "job_completed",
        "instance_completed",
    ]
    completed = [h for h in dialect.history(ADMIN, inst.id) if h.kind == "task_completed"]
    assert completed[0].actor == "budi"
    assert completed[0].data["values"] == {"documents_complete": True, "record_type": "CNAME"}
    # the SLA timer died with the verify task: nothing fires later
    clock.advance(days=30)
    assert dialect.fire_due_timers() == 0


def test_incomplete_documents_end_rejected(dialect: Engine) -> None:
    inst = start(dialect)
    verify = only_task(dialect, OFFICER, inst.id, "verify")
    # an unchecked box is not sent by the browser: it means "no"
    inst = dialect.complete_task(OFFICER, verify.id, {"record_type": "A"})
    assert inst.state == "completed"
    assert inst.variables["documents_complete"] is False
    assert dialect.fetch_and_lock(WORKER, [TopicRequest("dns.create")]) == []
    assert "job_created" not in kinds(dialect, inst.id)
    assert kinds(dialect, inst.id)[-1] == "instance_completed"


def test_too_many_sites_end_rejected_even_with_complete_documents(dialect: Engine) -> None:
    """``${documents_complete && sites <= 5}`` - both halves count (sites=5 is the limit)."""
    inst = start(dialect, sites="5")
    verify = only_task(dialect, OFFICER, inst.id, "verify")
    inst = dialect.complete_task(OFFICER, verify.id, {"documents_complete": True})
    assert inst.state == "running"
    assert inst.variables["record_type"] == "A"  # the enum default
    (job,) = dialect.fetch_and_lock(WORKER, [TopicRequest("dns.create")])
    assert job.variables["record_type"] == "A"


def test_dns_failure_goes_to_fix_dns_and_provisions_again(dialect: Engine) -> None:
    inst = start(dialect)
    verify = only_task(dialect, OFFICER, inst.id, "verify")
    dialect.complete_task(OFFICER, verify.id, {"documents_complete": True, "record_type": "A"})

    (job,) = dialect.fetch_and_lock(WORKER, [TopicRequest("dns.create")])
    assert dialect.bpmn_error_external(
        WORKER, job.id, "DNS_FAILED", "SERVFAIL from ns1", {"dns_error": "SERVFAIL"}
    )
    inst = dialect.get_instance(ADMIN, inst.id)
    assert inst.state == "running" and inst.current_step == "Perbaiki konfigurasi DNS"
    assert inst.variables["dns_error"] == "SERVFAIL"
    assert dialect.fetch_and_lock(WORKER, [TopicRequest("dns.create")]) == []
    fix = only_task(dialect, OFFICER, inst.id, "fix_dns")
    assert fix.candidate_groups == ["technical_officer"] and fix.form == {"fields": []}
    error = [h for h in dialect.history(ADMIN, inst.id) if h.kind == "bpmn_error"]
    assert error[0].data["code"] == "DNS_FAILED" and error[0].data["caught_by"] == "dns_failed"

    dialect.complete_task(OFFICER, fix.id, {})
    (again,) = dialect.fetch_and_lock(WORKER, [TopicRequest("dns.create")])
    assert again.id != job.id and again.element_id == "provision"
    dialect.complete_external(WORKER, again.id, {})
    inst = dialect.get_instance(ADMIN, inst.id)
    assert inst.state == "completed"
    assert kinds(dialect, inst.id) == [
        "instance_started",
        "task_created",  # verify
        "task_completed",
        "job_created",
        "bpmn_error",
        "task_created",  # fix_dns
        "task_completed",
        "job_created",
        "job_completed",
        "instance_completed",
    ]


def test_sla_timer_escalates_after_three_working_days(dialect: Engine, clock: FrozenClock) -> None:
    inst = start(dialect)
    verify = only_task(dialect, OFFICER, inst.id, "verify")
    due = clock.now() + timedelta(days=3)  # Monday 09:00 WIB -> Thursday 09:00 WIB
    assert inst.next_timer_at == due

    clock.advance(days=2, hours=23, minutes=59)
    assert dialect.fire_due_timers() == 0
    assert dialect.inbox(HEAD, instance_id=inst.id) == []

    clock.advance(minutes=1)
    assert dialect.fire_due_timers() == 1
    escalate = [t for t in dialect.inbox(HEAD, instance_id=inst.id) if t.element_id == "escalate"]
    assert len(escalate) == 1
    assert escalate[0].candidate_groups == ["head_of_office"]
    # non-interrupting: verify stays open for the officer
    assert only_task(dialect, OFFICER, inst.id, "verify").id == verify.id
    inst = dialect.get_instance(ADMIN, inst.id)
    assert inst.state == "running"
    assert set(inst.current_step.split(", ")) == {
        "Verifikasi berkas",
        "Tindak lanjut keterlambatan",
    }
    history = dialect.history(ADMIN, inst.id)
    fired = [h for h in history if h.kind == "timer_fired"]
    assert [(h.element_id, h.actor) for h in fired] == [("sla", "timer")]

    # it fires once
    clock.advance(days=10)
    assert dialect.fire_due_timers() == 0
    dialect.complete_task(HEAD, escalate[0].id, {})
    assert dialect.get_instance(ADMIN, inst.id).state == "running"
    dialect.complete_task(OFFICER, verify.id, {"documents_complete": False})
    assert dialect.get_instance(ADMIN, inst.id).state == "completed"


def test_sla_counts_working_days_over_a_weekend(dialect: Engine, clock: FrozenClock) -> None:
    clock.set(datetime(2026, 11, 26, 2, 0, tzinfo=UTC))  # Thursday 09:00 WIB
    inst = start(dialect)
    due = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # Fri, (Sat, Sun), Mon, Tue 09:00 WIB
    assert only_task(dialect, OFFICER, inst.id, "verify").due_at == due
    clock.set(due - timedelta(seconds=1))
    assert dialect.fire_due_timers() == 0
    clock.set(due)
    assert dialect.fire_due_timers() == 1
    assert "escalate" in {t.element_id for t in dialect.inbox(HEAD, instance_id=inst.id)}
