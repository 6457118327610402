"""Runtime behaviour: versions, business keys, inbox, permissions, locking, timers, SLA, history."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from support import CORPUS, ROOT, actor

from engine.errors import Conflict, DeployError, FormValidationError, NotFound, PermissionDenied
from engine.models import CalendarOverride, HistoryEvent, HumanTask, ProcessInstance

APPLICANT = actor("ani", "kudus", "applicant")
OFFICER = actor("budi", "kudus", "technical_officer")
SECTION = actor("sari", "kudus", "head_of_section")
HEAD = actor("kadis", "kudus", "head_of_office")


def bpmn(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def versioned(label: str) -> bytes:
    return bpmn("versioned.bpmn").replace(b'label="LABEL"', f'label="{label}"'.encode())


def kinds(engine, who, instance_id):
    return [h.kind for h in engine.history(who, instance_id)]


# ---------------------------------------------------------------- deployments and versions
def test_versions_duplicate_filter_and_rollback(engine, admin):
    v1 = engine.deploy(admin, [("v.bpmn", versioned("Catatan lama"))], version_tag="2024")
    assert [(d.key, d.version, d.version_tag) for d in v1.deployed] == [("versioned", 1, "2024")]

    again = engine.deploy(admin, [("v.bpmn", versioned("Catatan lama"))])
    assert again.deployed == [] and [d.version for d in again.unchanged] == [1]
    assert again.deployment.id == v1.deployment.id

    old = engine.start(APPLICANT, "versioned")
    v2 = engine.deploy(admin, [("v.bpmn", versioned("Catatan baru"))])
    assert [d.version for d in v2.deployed] == [2]
    new = engine.start(APPLICANT, "versioned")
    assert new.definition_id == v2.deployed[0].id

    # running instances keep their version and its form
    labels = {t.instance_id: t.form["fields"][0]["label"] for t in engine.inbox(OFFICER)}
    assert labels == {old.id: "Catatan lama", new.id: "Catatan baru"}
    done = engine.complete_task(
        OFFICER, engine.inbox(OFFICER, instance_id=old.id)[0].id, {"note": "x"}
    )
    assert done.state == "completed" and done.definition_id == v1.deployed[0].id

    # rollback: new instances start on v1 again, no code involved
    engine.activate(admin, v1.deployed[0].id)
    assert engine.start(APPLICANT, "versioned").definition_id == v1.deployed[0].id
    assert engine.current_definition(APPLICANT, "versioned").version == 1


def test_spec_is_stored_once_and_state_without_it(engine, admin, sessions):
    engine.deploy(admin, [("v.bpmn", versioned("A"))])
    inst = engine.start(APPLICANT, "versioned")
    with sessions() as s:
        row = s.get(ProcessInstance, inst.id)
        state = json.loads(row.state_json)
        assert "spec" not in state and "subprocess_specs" not in state
        assert len(row.state_json) < len(row.definition.spec_json)


def test_a_bad_file_refuses_the_whole_batch(engine, admin):
    with pytest.raises(DeployError) as e:
        engine.deploy(admin, [("v.bpmn", versioned("A")), ("bad.bpmn", b"<bpmn:definitions")])
    assert e.value.problems[0].filename == "bad.bpmn"
    assert engine.definitions(admin) == []


def test_only_admins_deploy(engine):
    with pytest.raises(PermissionDenied):
        engine.deploy(OFFICER, [("v.bpmn", versioned("A"))])


# ---------------------------------------------------------------- business keys and isolation
def test_business_keys_are_per_agency_sequences(engine, admin):
    engine.deploy(admin, [("v.bpmn", versioned("A"))])
    engine.deploy(actor("adm", "tapin", "admin"), [("v.bpmn", versioned("A"))])
    keys = [engine.start(APPLICANT, "versioned").business_key for _ in range(3)]
    assert keys == ["KUDUS/2026/000001", "KUDUS/2026/000002", "KUDUS/2026/000003"]
    assert (
        engine.start(actor("x", "tapin", "applicant"), "versioned").business_key
        == "TAPIN/2026/000001"
    )


def test_other_agencies_see_nothing(engine, admin):
    engine.deploy(admin, [("v.bpmn", versioned("A"))])
    inst = engine.start(APPLICANT, "versioned")
    task = engine.inbox(OFFICER)[0]
    stranger = actor("eve", "tapin", "technical_officer", "admin")
    assert engine.inbox(stranger) == []
    with pytest.raises(NotFound):
        engine.get_instance(stranger, inst.id)
    with pytest.raises(NotFound):
        engine.complete_task(stranger, task.id, {})
    with pytest.raises(NotFound):
        engine.history(stranger, inst.id)
    with pytest.raises(NotFound):
        engine.start(stranger, "nonexistent")


# ---------------------------------------------------------------- inbox and permissions
def test_inbox_groups_claim_and_permissions(engine, admin):
    engine.deploy(admin, [("p.bpmn", bpmn("parallel.bpmn"))])
    inst = engine.start(APPLICANT, "parallel")
    assert sorted(t.element_id for t in engine.inbox(admin)) == ["review_a", "review_b"]
    [a] = engine.inbox(SECTION)
    [b] = engine.inbox(OFFICER)
    assert (a.element_id, a.candidate_groups, b.element_id) == (
        "review_a",
        ["head_of_section"],
        "review_b",
    )

    with pytest.raises(NotFound):  # another group's task is not even seen
        engine.complete_task(OFFICER, a.id, {"a_ok": True})
    other_officer = actor("dedi", "kudus", "technical_officer")
    engine.claim(OFFICER, b.id)
    assert engine.inbox(other_officer) == []
    with pytest.raises(Conflict):
        engine.claim(other_officer, b.id)
    with pytest.raises(PermissionDenied):
        engine.complete_task(other_officer, b.id, {"b_ok": True})
    engine.unclaim(OFFICER, b.id)
    engine.complete_task(other_officer, b.id, {"b_ok": True})
    engine.complete_task(SECTION, a.id, {"a_ok": True})

    # the join waits for both; then the task goes back to the initiator only
    [c] = engine.inbox(APPLICANT)
    assert (c.element_id, c.assignee) == ("confirm", "ani")
    assert engine.inbox(actor("other", "kudus", "applicant")) == []
    done = engine.complete_task(APPLICANT, c.id, {})
    assert done.state == "completed" and done.variables["a_ok"] and done.variables["b_ok"]
    assert kinds(engine, admin, inst.id).count("task_completed") == 3


def test_form_is_enforced_and_failure_changes_nothing(engine, admin, sessions):
    engine.deploy(admin, [("s.bpmn", bpmn("sla.bpmn"))])
    with pytest.raises(FormValidationError) as e:
        engine.start(APPLICANT, "sla_demo", values={"needed_by": "kemarin"})
    assert {x.field for x in e.value.errors} == {"subdomain", "needed_by"}
    with sessions() as s:
        assert s.scalars(select(ProcessInstance)).all() == []

    inst = engine.start(
        APPLICANT, "sla_demo", values={"subdomain": "dinkes", "needed_by": "2026-12-01"}
    )
    assert inst.variables["needed_by"] == "2026-12-01"
    job = engine.fetch_and_lock("w", [_req("subdomain.reserve")])[0]
    assert job.variables["label"] == "dinkes"
    engine.bpmn_error_external("w", job.id, "NAME_TAKEN", "dipakai")
    [rename] = engine.inbox(APPLICANT)
    before = engine.get_instance(APPLICANT, inst.id)
    history_before = len(engine.history(APPLICANT, inst.id))
    with pytest.raises(FormValidationError):
        engine.complete_task(APPLICANT, rename.id, {"subdomain": "", "approved": True})
    after = engine.get_instance(APPLICANT, inst.id)
    assert after.lock_version == before.lock_version
    assert len(engine.history(APPLICANT, inst.id)) == history_before
    assert engine.get_task(APPLICANT, rename.id).state == "open"


def _req(topic, ms=60_000):
    from engine.runtime import TopicRequest

    return TopicRequest(topic, ms)


# ---------------------------------------------------------------- optimistic locking
def test_stale_write_is_refused_not_lost(engine, admin, sessions):
    engine.deploy(admin, [("p.bpmn", bpmn("parallel.bpmn"))])
    inst = engine.start(APPLICANT, "parallel")
    s = sessions()
    stale = s.get(ProcessInstance, inst.id)  # read version N
    s.commit()  # end the read; the object keeps version N
    engine.complete_task(SECTION, engine.inbox(SECTION)[0].id, {"a_ok": True})  # writes N+1
    stale.current_step = "overwritten"
    with pytest.raises(StaleDataError):
        s.commit()
    s.close()
    assert engine.get_instance(APPLICANT, inst.id).current_step == "Tinjau B"


def test_racing_completions_of_one_task_one_wins(engine, admin):
    engine.deploy(admin, [("v.bpmn", versioned("A"))])
    inst = engine.start(APPLICANT, "versioned")
    task = engine.inbox(OFFICER)[0]
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def go(i):
        who = actor(f"officer{i}", "kudus", "technical_officer")
        barrier.wait()
        try:
            engine.complete_task(who, task.id, {"note": str(i)})
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=go, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "ok"]
    assert kinds(engine, admin, inst.id).count("task_completed") == 1


def test_parallel_branches_completed_concurrently_lose_nothing(engine, admin):
    engine.deploy(admin, [("p.bpmn", bpmn("parallel.bpmn"))])
    inst = engine.start(APPLICANT, "parallel")
    a, b = engine.inbox(SECTION)[0], engine.inbox(OFFICER)[0]
    barrier = threading.Barrier(2)
    errors = []

    def go(who, task, values):
        barrier.wait()
        try:
            engine.complete_task(who, task.id, values)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    ts = [
        threading.Thread(target=go, args=(SECTION, a, {"a_ok": True})),
        threading.Thread(target=go, args=(OFFICER, b, {"b_ok": False})),
    ]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert errors == []
    final = engine.get_instance(APPLICANT, inst.id)
    assert final.variables["a_ok"] is True and final.variables["b_ok"] is False
    assert [t.element_id for t in engine.inbox(APPLICANT)] == ["confirm"]


# ---------------------------------------------------------------- timers and SLA
def test_timers_fire_only_when_due_and_sla_is_recorded(engine, admin, clock):
    engine.deploy(admin, [("s.bpmn", bpmn("sla.bpmn"))])
    # Friday 2026-12-18 10:00 WIB; Christmas Eve (cuti bersama) and Christmas are not working days
    clock.set(datetime(2026, 12, 18, 3, 0, tzinfo=UTC))
    inst = engine.start(APPLICANT, "sla_demo", values={"subdomain": "dinkes"})
    # SLA: 2 working days → Tuesday 22 Dec 10:00 WIB
    assert inst.sla_due_at == datetime(2026, 12, 22, 3, 0, tzinfo=UTC)
    job = engine.fetch_and_lock("w", [_req("subdomain.reserve")])[0]
    engine.complete_external("w", job.id, {"reserved": True})
    [build] = engine.inbox(OFFICER)
    assert build.due_at == datetime(2026, 12, 18, 3, 15, tzinfo=UTC)  # PT15M reminder

    assert engine.fire_due_timers() == 0
    clock.advance(minutes=16)
    assert engine.fire_due_timers() == 1
    assert [t.element_id for t in engine.inbox(OFFICER)] == ["build"]  # non-interrupting
    assert "timer_fired" in kinds(engine, admin, inst.id)
    assert engine.overdue_instances(admin) == []
    assert [t.element_id for t in engine.inbox(OFFICER, overdue=True)] == ["build"]

    clock.set(datetime(2026, 12, 22, 2, 59, tzinfo=UTC))
    engine.fire_due_timers()
    assert engine.inbox(HEAD) == []
    clock.advance(minutes=2)
    engine.fire_due_timers()
    assert [t.element_id for t in engine.inbox(HEAD)] == ["escalate"]
    assert [i.id for i in engine.overdue_instances(admin)] == [inst.id]
    events = kinds(engine, admin, inst.id)
    assert events.count("sla_breached") == 1
    # the deadline does not cancel work
    done = engine.complete_task(OFFICER, build.id, {})
    assert done.state == "running"
    engine.complete_task(HEAD, engine.inbox(HEAD)[0].id, {})
    assert engine.get_instance(admin, inst.id).state == "completed"


def test_calendar_overrides_move_deadlines(engine, admin, clock, sessions, agencies):
    engine.deploy(admin, [("s.bpmn", bpmn("sla.bpmn"))])
    clock.set(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))  # Monday 09:00 WIB
    with sessions.begin() as s:
        s.add(
            CalendarOverride(
                agency_id=agencies["kudus"],
                day=date(2026, 11, 24),
                working=False,
                note="cuti bersama tambahan",
            )
        )
    engine.invalidate_calendars()
    inst = engine.start(APPLICANT, "sla_demo", values={"subdomain": "dinkes"})
    assert inst.sla_due_at == datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # Tuesday skipped


# ---------------------------------------------------------------- history
def test_history_is_append_only_and_complete(engine, admin, sessions):
    engine.deploy(admin, [("v.bpmn", versioned("A"))])
    inst = engine.start(APPLICANT, "versioned")
    engine.complete_task(OFFICER, engine.inbox(OFFICER)[0].id, {"note": "selesai"})
    events = engine.history(admin, inst.id)
    assert [e.kind for e in events] == [
        "instance_started",
        "task_created",
        "task_completed",
        "instance_completed",
    ]
    done = events[2]
    assert (done.actor, done.element_id, done.data) == (
        "budi",
        "check",
        {"values": {"note": "selesai"}},
    )
    with sessions() as s:
        ids = [
            e.id for e in s.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == inst.id))
        ]
    assert ids == sorted(ids)


def test_human_task_rows_stay_as_history(engine, admin, sessions):
    engine.deploy(admin, [("v.bpmn", versioned("A"))])
    engine.start(APPLICANT, "versioned")
    t = engine.inbox(OFFICER)[0]
    engine.complete_task(OFFICER, t.id, {"note": "x"})
    with sessions() as s:
        row = s.get(HumanTask, t.id)
        assert (row.state, row.completed_by) == ("completed", "budi")
    with pytest.raises(Conflict):
        engine.complete_task(OFFICER, t.id, {"note": "again"})


def test_timer_clock_is_injected(engine, admin, clock):
    engine.deploy(admin, [("s.bpmn", bpmn("sla.bpmn"))])
    start = clock.now()
    inst = engine.start(APPLICANT, "sla_demo", values={"subdomain": "a"})
    assert inst.started_at == start
    clock.advance(timedelta(days=30))
    engine.fire_due_timers()
    assert engine.get_instance(admin, inst.id).sla_breached_at == start + timedelta(days=30)


def test_element_names_cover_subprocesses_for_timelines(engine, admin):
    engine.deploy(admin, [("kudus.bpmn", (ROOT / "bpmn" / "kudus.bpmn").read_bytes())])
    definition = engine.current_definition(admin, "kudus")
    names = engine.element_names(admin, definition.id)
    # tasks inside subprocesses carry their SOP names, whitespace folded
    assert names["dispose_to_division"] == "Disposisi surat ke Kepala Bidang Informatika"
    assert names["review_name"] == "Periksa subdomain dan disposisi ke staf teknis"
    with pytest.raises(NotFound):
        engine.element_names(actor("x", "pekalongan", "admin"), definition.id)


def test_element_states_mark_gateways_events_and_the_end_reached(engine, admin):
    engine.deploy(admin, [("route.bpmn", bpmn("route.bpmn"))])
    inst = engine.start(APPLICANT, "route_demo", variables={"route": "slow"})
    assert engine.element_states(admin, inst.id) == ({"s"}, {"check"})
    (task,) = engine.inbox(OFFICER, instance_id=inst.id)
    engine.complete_task(OFFICER, task.id, {})
    (task,) = engine.inbox(OFFICER, instance_id=inst.id)
    engine.complete_task(OFFICER, task.id, {})
    done, waiting = engine.element_states(admin, inst.id)
    # the default path: the gateway and the end it leads to, not the other branch
    assert waiting == set()
    assert done == {"s", "check", "gw", "slow", "e2"}
    with pytest.raises(NotFound):
        engine.element_states(actor("x", "pekalongan", "admin"), inst.id)
