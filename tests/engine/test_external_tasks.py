"""The job queue: fetch-and-lock, completion, failures and retries, incidents, BPMN errors, and the
in-process workers that run built-in handlers through the very same mechanism."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from support import CORPUS, actor

from engine.errors import BpmnErrorRaised, Conflict, NotFound, PermissionDenied
from engine.runtime import TopicRequest
from engine.workers import TimerPoller, WorkerPool
from handlers.base import Handler
from handlers.registry import HandlerRegistry

APPLICANT = actor("ani", "kudus", "applicant")
OFFICER = actor("budi", "kudus", "technical_officer")
RESERVE = TopicRequest("subdomain.reserve", 60_000)


@pytest.fixture
def sla(engine, admin):
    engine.deploy(admin, [("s.bpmn", (CORPUS / "sla.bpmn").read_bytes())])

    def start(name: str = "dinkes"):
        return engine.start(APPLICANT, "sla_demo", values={"subdomain": name})

    return start


def test_lock_is_exclusive_until_it_expires(engine, sla, clock):
    inst = sla()
    [job] = engine.fetch_and_lock("w1", [RESERVE])
    assert (job.business_key, job.element_id, job.variables["label"]) == (
        inst.business_key,
        "reserve",
        "dinkes",
    )
    assert engine.fetch_and_lock("w2", [RESERVE]) == []
    with pytest.raises(Conflict):
        engine.complete_external("w2", job.id, {})
    # worker w1 dies: after the lock expires another worker gets the job
    clock.advance(seconds=61)
    [again] = engine.fetch_and_lock("w2", [RESERVE])
    assert again.id == job.id and again.attempts == 2
    with pytest.raises(Conflict):
        engine.complete_external("w1", job.id, {})
    engine.complete_external("w2", job.id, {"reserved": True})
    assert engine.get_instance(APPLICANT, inst.id).variables["reserved"] is True
    with pytest.raises(NotFound):
        engine.complete_external("w2", job.id, {})


def test_failures_back_off_then_become_an_incident_an_admin_retries(engine, sla, clock, admin):
    inst = sla()
    [job] = engine.fetch_and_lock("w", [RESERVE])
    engine.fail_external(
        "w", job.id, "DNS server tidak menjawab", retries=1, retry_timeout_ms=30_000
    )
    assert engine.fetch_and_lock("w", [RESERVE]) == []  # backoff
    clock.advance(seconds=31)
    [job] = engine.fetch_and_lock("w", [RESERVE])
    assert (job.retries, job.error_message) == (1, "DNS server tidak menjawab")
    engine.fail_external("w", job.id, "masih mati", details="Traceback ...", retries=0)
    clock.advance(hours=1)
    assert engine.fetch_and_lock("w", [RESERVE]) == []
    [incident] = engine.incidents(admin)
    assert (incident.kind, incident.element_id, incident.message) == (
        "failedExternalTask",
        "reserve",
        "masih mati",
    )
    assert engine.get_instance(admin, inst.id).state == "running"  # nothing lost

    with pytest.raises(PermissionDenied):
        engine.retry_incident(OFFICER, incident.id)
    with pytest.raises(NotFound):
        engine.retry_incident(actor("a", "tapin", "admin"), incident.id)
    engine.retry_incident(admin, incident.id)
    assert engine.incidents(admin) == []
    [job] = engine.fetch_and_lock("w", [RESERVE])
    engine.complete_external("w", job.id, {})
    assert [t.element_id for t in engine.inbox(OFFICER)] == ["build"]
    kinds = [h.kind for h in engine.history(admin, inst.id)]
    assert (
        kinds.count("job_failed") == 1
        and "incident_created" in kinds
        and "incident_retried" in kinds
    )


def test_bpmn_error_reaches_the_boundary_event(engine, sla, admin):
    inst = sla("www")
    [job] = engine.fetch_and_lock("w", [RESERVE])
    assert (
        engine.bpmn_error_external(
            "w", job.id, "NAME_TAKEN", "sudah dipakai", {"name_reason": "reserved"}
        )
        is True
    )
    [rename] = engine.inbox(APPLICANT)
    assert rename.element_id == "rename"
    assert engine.external_tasks(admin, instance_id=inst.id) == []
    assert engine.get_instance(admin, inst.id).variables["name_reason"] == "reserved"


def test_uncaught_bpmn_error_is_an_incident_not_a_silent_end(engine, sla, admin):
    inst = sla()
    [job] = engine.fetch_and_lock("w", [RESERVE])
    assert engine.bpmn_error_external("w", job.id, "SOMETHING_ELSE", "?") is False
    [incident] = engine.incidents(admin)
    assert incident.kind == "unhandledBpmnError" and "SOMETHING_ELSE" in incident.message
    assert engine.get_instance(admin, inst.id).state == "running"


def test_jobs_are_scoped_to_agency_for_remote_workers(engine, sla):
    sla()
    assert engine.fetch_and_lock("w", [RESERVE], agency="tapin") == []
    [job] = engine.fetch_and_lock("w", [RESERVE], agency="kudus")
    with pytest.raises(NotFound):
        engine.complete_external("w", job.id, {}, agency="tapin")


def test_concurrent_workers_claim_each_job_exactly_once(engine, sla):
    for i in range(12):
        sla(f"situs{i}")
    claimed: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(4)

    def worker(i):
        barrier.wait()
        while True:
            jobs = engine.fetch_and_lock(f"w{i}", [RESERVE], max_tasks=2)
            if not jobs:
                return
            with lock:
                claimed.extend(j.id for j in jobs)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(claimed) == 12 and len(set(claimed)) == 12


def test_extend_lock_and_unlock(engine, sla, clock):
    sla()
    [job] = engine.fetch_and_lock("w", [RESERVE])
    engine.extend_lock("w", job.id, 600_000)
    clock.advance(seconds=120)
    assert engine.fetch_and_lock("w2", [RESERVE]) == []
    engine.unlock(job.id)
    assert [j.id for j in engine.fetch_and_lock("w2", [RESERVE])] == [job.id]


# ---------------------------------------------------------------- in-process workers
class Reserve(Handler):
    topic = "subdomain.reserve"
    inputs = {"label": "the label to reserve"}
    outputs = {"reserved_label": "the label reserved"}

    def __init__(self, behaviour):
        self.behaviour = behaviour
        self.calls = 0

    def run(self, job, ctx):
        self.calls += 1
        return self.behaviour(job, self.calls)


def test_builtin_handler_runs_through_the_queue(engine, sla):
    inst = sla("dinkes")
    pool = WorkerPool(
        engine,
        HandlerRegistry([Reserve(lambda job, n: {"reserved_label": job.variables["label"]})]),
    )
    assert pool.run_once() == 1
    assert engine.get_instance(APPLICANT, inst.id).variables["reserved_label"] == "dinkes"
    assert pool.run_once() == 0


def test_failing_handler_retries_with_backoff_then_incident(engine, sla, clock, admin):
    sla()

    def boom(job, n):
        raise OSError("connection refused 127.0.0.1:53")

    handler = Reserve(boom)
    pool = WorkerPool(engine, HandlerRegistry([handler]))
    assert pool.run_once() == 1
    assert pool.run_once() == 0  # waiting for the backoff
    for _ in range(5):
        clock.advance(seconds=400)
        pool.run_once()
    assert handler.calls == engine.settings.default_retries
    [incident] = engine.incidents(admin)
    assert "connection refused" in incident.message


def test_handler_business_error_goes_to_the_diagram(engine, sla):
    sla("www")

    def taken(job, n):
        raise BpmnErrorRaised("NAME_TAKEN", "Nama sudah dipakai", {"name_reason": "reserved"})

    WorkerPool(engine, HandlerRegistry([Reserve(taken)])).run_once()
    assert [t.element_id for t in engine.inbox(APPLICANT)] == ["rename"]


def test_worker_threads_and_timer_poller_run_in_background(engine, sla, clock):
    inst = sla()
    done = threading.Event()

    def ok(job, n):
        done.set()
        return {}

    pool = WorkerPool(engine, HandlerRegistry([Reserve(ok)]), threads=2, poll_interval=0.01)
    poller = TimerPoller(engine, interval=0.01)
    pool.start()
    poller.start()
    try:
        assert done.wait(10)
        for _ in range(500):
            if engine.inbox(OFFICER):
                break
            threading.Event().wait(0.01)
        clock.advance(timedelta(days=7))
        for _ in range(500):
            if engine.get_instance(APPLICANT, inst.id).sla_breached_at:
                break
            threading.Event().wait(0.01)
    finally:
        pool.stop()
        poller.stop()
    assert [t.element_id for t in engine.inbox(OFFICER)] == ["build"]
    assert engine.get_instance(APPLICANT, inst.id).sla_breached_at is not None


def test_retry_cycle_of_the_diagram_drives_builtin_workers(engine, admin, clock):
    xml = (
        (CORPUS / "sla.bpmn")
        .read_bytes()
        .replace(
            b"<camunda:inputOutput>",
            b"<camunda:failedJobRetryTimeCycle>R2/PT2M</camunda:failedJobRetryTimeCycle>"
            b"<camunda:inputOutput>",
        )
    )
    engine.deploy(admin, [("s.bpmn", xml)])
    engine.start(APPLICANT, "sla_demo", values={"subdomain": "dinkes"})

    def down(job, n):
        raise ConnectionRefusedError("named tidak menjawab")

    handler = Reserve(down)
    pool = WorkerPool(engine, HandlerRegistry([handler]))
    assert pool.run_once() == 1
    [job] = engine.external_tasks(admin)
    assert (job.retries, job.retry_interval) == (1, "PT2M")
    clock.advance(seconds=119)
    assert pool.run_once() == 0
    clock.advance(seconds=2)
    assert pool.run_once() == 1
    assert handler.calls == 2
    [incident] = engine.incidents(admin)
    assert "named tidak menjawab" in incident.message
