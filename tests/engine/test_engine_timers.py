"""Timers inside the engine: dates in the agency's zone, cycles, failures that become incidents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from support import CORPUS, actor

from engine.runtime import TopicRequest

APPLICANT = actor("ani", "kudus", "applicant")
OFFICER = actor("budi", "kudus", "technical_officer")


def deploy(engine, admin, name):
    engine.deploy(admin, [(name, (CORPUS / name).read_bytes())])


def test_time_date_is_read_in_the_agency_zone_and_cycles_repeat(engine, admin, clock):
    deploy(engine, admin, "timers.bpmn")
    clock.set(datetime(2026, 11, 30, 0, 0, tzinfo=UTC))
    inst = engine.start(APPLICANT, "timers")
    # 09:00 WIB is 02:00 UTC
    assert inst.next_timer_at == datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    clock.set(datetime(2026, 12, 1, 1, 59, tzinfo=UTC))
    assert engine.fire_due_timers() == 0 and engine.inbox(OFFICER) == []
    clock.advance(minutes=1)
    assert engine.fire_due_timers() == 1
    [task] = engine.inbox(OFFICER)

    reminders = []
    for _ in range(5):
        clock.advance(hours=1)
        engine.fire_due_timers()
        jobs = engine.fetch_and_lock("mailer", [TopicRequest("mail.send")], max_tasks=5)
        for job in jobs:
            engine.complete_external("mailer", job.id, {})
        reminders.append(len(jobs))
    assert reminders == [1, 1, 1, 0, 0]  # R3: exactly three reminders, the task stays open
    assert [t.id for t in engine.inbox(OFFICER)] == [task.id]
    assert engine.complete_task(OFFICER, task.id, {}).state == "completed"


def test_a_timer_path_that_fails_becomes_an_incident_and_loses_nothing(engine, admin, clock):
    deploy(engine, admin, "broken_gateway.bpmn")
    inst = engine.start(APPLICANT, "broken_gateway")
    before = engine.get_instance(admin, inst.id)
    clock.advance(timedelta(hours=2))
    assert engine.fire_due_timers() == 0
    [incident] = engine.incidents(admin)
    assert incident.kind == "failedTimer" and "never_set" in incident.message
    after = engine.get_instance(admin, inst.id)
    assert (after.state, after.state_json, after.next_timer_at) == (
        "running",
        before.state_json,
        None,
    )
    assert engine.fire_due_timers() == 0  # not retried in a loop
    engine.retry_incident(admin, incident.id)
    assert engine.get_instance(admin, inst.id).next_timer_at == clock.now()
    engine.fire_due_timers()
    assert len(engine.incidents(admin)) == 1  # still broken: a new incident, state intact
    assert engine.get_instance(admin, inst.id).state_json == before.state_json
