"""Cancelling an instance (Camunda's DELETE /process-instance) and rewriting its variables: who
may, what stops (tasks, jobs, timers, SLA) and that later steps see changed variables."""

from __future__ import annotations

import threading

import pytest
from support import CORPUS, actor

from engine.errors import Conflict, NotFound, PermissionDenied, SopflowError
from engine.runtime import TopicRequest

APPLICANT = actor("ani", "kudus", "applicant")
OTHER_APPLICANT = actor("eko", "kudus", "applicant")
OFFICER = actor("budi", "kudus", "technical_officer")
RESERVE = TopicRequest("subdomain.reserve", 60_000)

GATEWAY = (CORPUS / "route.bpmn").read_bytes()  # a user task, then a gateway on ${route}


@pytest.fixture
def sla(engine, admin):
    engine.deploy(admin, [("s.bpmn", (CORPUS / "sla.bpmn").read_bytes())])

    def start(name: str = "dinkes", who=APPLICANT):
        return engine.start(who, "sla_demo", values={"subdomain": name})

    return start


def test_cancel_stops_tasks_jobs_timers_and_sla(engine, sla, admin, clock):
    inst = sla()
    [job] = engine.fetch_and_lock("w", [RESERVE])
    before = engine.get_instance(admin, inst.id)
    assert before.sla_due_at is not None and before.next_timer_at is not None

    done = engine.cancel(admin, inst.id, reason="duplikat")
    assert done.state == "cancelled" and done.ended_at == clock.now()
    again = engine.get_instance(admin, inst.id)
    assert (again.state, again.next_timer_at, again.waiting_messages) == ("cancelled", None, None)
    assert again.sla_stopped_at == clock.now()
    assert engine.external_tasks(admin, instance_id=inst.id) == []
    with pytest.raises(NotFound):  # the worker's lock is gone with the job
        engine.complete_external("w", job.id, {})
    clock.advance(days=30)
    assert engine.fire_due_timers() == 0
    assert engine.fetch_and_lock("w2", [RESERVE]) == []
    history = engine.history(admin, inst.id)
    [event] = [h for h in history if h.kind == "instance_cancelled"]
    assert (event.actor, event.data) == (admin.username, {"reason": "duplikat"})
    assert "sla_stopped" in [h.kind for h in history]
    with pytest.raises(Conflict):
        engine.cancel(admin, inst.id)


def test_cancel_closes_open_human_tasks(engine, sla, admin):
    inst = sla()
    [job] = engine.fetch_and_lock("w", [RESERVE])
    engine.complete_external("w", job.id, {})
    [task] = engine.inbox(OFFICER)
    engine.cancel(APPLICANT, inst.id)  # the applicant withdraws the request
    assert engine.inbox(OFFICER) == []
    assert engine.get_task(admin, task.id).state == "cancelled"
    with pytest.raises(Conflict):
        engine.complete_task(OFFICER, task.id, {})


def test_who_may_cancel(engine, sla):
    inst = sla()
    with pytest.raises(NotFound):
        engine.cancel(OTHER_APPLICANT, inst.id)
    with pytest.raises(NotFound):  # no step of theirs yet: they do not even see it
        engine.cancel(OFFICER, inst.id)
    engine.complete_external("w", engine.fetch_and_lock("w", [RESERVE])[0].id, {})
    assert engine.inbox(OFFICER)
    with pytest.raises(PermissionDenied):  # working on a step is not enough to discard it all
        engine.cancel(OFFICER, inst.id)
    with pytest.raises(NotFound):
        engine.cancel(actor("x", "tapin", "admin"), inst.id)
    with pytest.raises(NotFound):
        engine.cancel(actor("x", "kudus", "admin"), "00000000-0000-0000-0000-000000000000")


def test_cancel_races_with_a_completion(engine, sla, admin):
    """Optimistic locking: exactly one of a concurrent cancel and completion wins cleanly."""
    inst = sla()
    [job] = engine.fetch_and_lock("w", [RESERVE])
    errors: list[Exception] = []
    barrier = threading.Barrier(2)

    def run(fn):
        barrier.wait()
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - anything but a clean refusal fails below
            errors.append(e)

    threads = [
        threading.Thread(target=run, args=(lambda: engine.cancel(admin, inst.id),)),
        threading.Thread(target=run, args=(lambda: engine.complete_external("w", job.id, {}),)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(isinstance(e, Conflict | NotFound) for e in errors), errors  # no deadlock
    final = engine.get_instance(admin, inst.id)
    assert final.state == "cancelled" or errors, errors
    if final.state == "cancelled":
        assert engine.inbox(OFFICER) == []  # a completion that won first left no open task
    assert engine.external_tasks(admin, instance_id=inst.id) == []


def test_set_variables_reach_later_gateways(engine, admin):
    engine.deploy(admin, [("g.bpmn", GATEWAY)])
    inst = engine.start(OFFICER, "route_demo", variables={"route": "slow", "note": "x"})
    [check] = engine.inbox(OFFICER)
    engine.set_variables(OFFICER, inst.id, {"route": "fast", "size": 3}, ["note"])
    got = engine.get_instance(admin, inst.id).variables
    assert got["route"] == "fast" and got["size"] == 3 and "note" not in got
    engine.complete_task(OFFICER, check.id, {})
    assert [t.element_id for t in engine.inbox(OFFICER)] == ["fast"]
    after = engine.get_instance(admin, inst.id).variables
    assert "note" not in after and after["size"] == 3
    assert "variables_changed" in [h.kind for h in engine.history(admin, inst.id)]


def test_set_task_variables_follows_the_task_rules(engine, admin):
    engine.deploy(admin, [("g.bpmn", GATEWAY)])
    inst = engine.start(OFFICER, "route_demo", variables={"route": "slow"})
    [check] = engine.inbox(OFFICER)
    with pytest.raises(NotFound):  # another's request: not even seen
        engine.set_variables(APPLICANT, inst.id, {"route": "fast"}, task_id=check.id)
    engine.set_variables(OFFICER, inst.id, {"route": "fast"}, task_id=check.id)
    engine.complete_task(OFFICER, check.id, {})
    assert [t.element_id for t in engine.inbox(OFFICER)] == ["fast"]


def test_set_variables_rules(engine, sla, admin):
    inst = sla()
    with pytest.raises(NotFound):  # another applicant's request: not even seen
        engine.set_variables(OTHER_APPLICANT, inst.id, {"a": 1})
    with pytest.raises(SopflowError):
        engine.set_variables(admin, inst.id, {"bad name": 1})
    with pytest.raises(SopflowError):
        engine.set_variables(admin, inst.id, {}, ["__private"])
    with pytest.raises(NotFound):
        engine.set_variables(actor("x", "tapin", "admin"), inst.id, {"a": 1})
    with pytest.raises(PermissionDenied):  # the starter, while the request is with the office
        engine.set_variables(APPLICANT, inst.id, {"a": 1})
    engine.set_variables(admin, inst.id, {"a": 1})
    engine.cancel(admin, inst.id)
    with pytest.raises(NotFound):
        engine.set_variables(admin, inst.id, {"a": 2})


def test_set_job_retries_resolves_the_incident(engine, sla, admin):
    sla()
    [job] = engine.fetch_and_lock("w", [RESERVE])
    engine.fail_external("w", job.id, "mati", retries=0)
    assert len(engine.incidents(admin)) == 1
    with pytest.raises(PermissionDenied):
        engine.set_job_retries(OFFICER, job.id, 2)
    with pytest.raises(NotFound):
        engine.set_job_retries(actor("x", "tapin", "admin"), job.id, 2)
    engine.set_job_retries(admin, job.id, 2)
    assert engine.incidents(admin) == []
    [again] = engine.fetch_and_lock("w", [RESERVE])
    assert (again.id, again.retries) == (job.id, 2)


def test_fetch_filters_and_order(engine, sla, admin, clock):
    a = sla("satu")
    clock.advance(seconds=1)
    b = sla("dua")
    newest = engine.fetch_and_lock(
        "w", [RESERVE], use_priority=False, newest_first=True, max_tasks=1
    )
    assert newest[0].instance_id == b.id
    engine.unlock(newest[0].id)
    by_key = TopicRequest("subdomain.reserve", 1000, business_key=a.business_key)
    [only_a] = engine.fetch_and_lock("w", [by_key], max_tasks=5)
    assert only_a.instance_id == a.id
    by_var = TopicRequest("subdomain.reserve", 1000, process_variables={"subdomain": "dua"})
    [only_b] = engine.fetch_and_lock("w", [by_var], max_tasks=5)
    assert only_b.instance_id == b.id
    clock.advance(seconds=5)
    wrong_key = TopicRequest("subdomain.reserve", 1000, definition_keys=["other"])
    assert engine.fetch_and_lock("w", [wrong_key], max_tasks=5) == []
    local = TopicRequest("subdomain.reserve", 1000, definition_keys=["sla_demo"], local_only=True)
    jobs = engine.fetch_and_lock("w", [local], max_tasks=5)
    assert len(jobs) == 2 and all(set(j.variables) == {"label"} for j in jobs)
