"""Issue 12: a topic nothing in sopflow works deploys as an external topic with a located,
bilingual warning (strict mode refuses it), and the per-topic queue an administrator sees:
waiting and locked jobs, the age of the oldest, and the last fetch, written at most once per
few seconds per topic."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from support import CATALOGUE_TOPICS, actor

from engine.errors import DeployError, PermissionDenied
from engine.models import TopicFetch
from engine.runtime import Engine, TopicRequest, topics_policy
from engine.topic_queue import FETCH_RECORD_INTERVAL_S, topic_queues
from handlers.registry import default_registry

SMOKE = (Path(__file__).resolve().parents[1] / "data" / "rest" / "smoke_topic.bpmn").read_bytes()
WARNING_EN = "Topic 'smoke-topic': no built-in handler: jobs wait for an external worker"
WARNING_ID = "Topic 'smoke-topic': tidak ada handler bawaan: pekerjaan menunggu worker eksternal"
ADMIN = actor("adm", "kudus", "admin")
WORKER = actor("bot", "kudus", "worker")


@pytest.fixture
def lenient(make_engine: Callable[..., Engine]) -> Engine:
    """The engine as ``make run`` builds it: unknown topics are external."""
    return make_engine(strict_topics=False, builtin_topics=["dns.create"])


def test_unknown_topic_is_a_located_warning_not_a_problem(lenient: Engine) -> None:
    parsed = lenient.parse("smoke.bpmn", SMOKE)
    (w,) = parsed.warnings
    assert (w.message_en, w.message_id) == (WARNING_EN, WARNING_ID)
    assert w.element_id == "Task_external" and w.filename == "smoke.bpmn"
    assert w.line == SMOKE[: SMOKE.index(b'id="Task_external"')].count(b"\n") + 1
    assert parsed.processes[0].topics == {"smoke-topic"}


def test_deploy_answers_with_the_warnings(lenient: Engine) -> None:
    res = lenient.deploy(ADMIN, [("smoke.bpmn", SMOKE)])
    assert [d.key for d in res.deployed] == ["smoke_process"]
    assert [w.element_id for w in res.warnings] == ["Task_external"]
    again = lenient.deploy(ADMIN, [("smoke.bpmn", SMOKE)])  # unchanged: still said
    assert again.deployed == [] and [w.message_en for w in again.warnings] == [WARNING_EN]


@pytest.mark.parametrize(
    "topic, extra",
    [("dns.create", ""), ("letter.generate", ""), ("erp.invoice", ""), ("x.y", "external")],
)
def test_known_and_declared_topics_have_no_warning(
    make_engine: Callable[..., Engine], topic: str, extra: str
) -> None:
    xml = SMOKE.replace(b'camunda:topic="smoke-topic">', f'camunda:topic="{topic}">'.encode())
    if extra:
        xml = xml.replace(
            b"<bpmn:incoming>Flow_0a1</bpmn:incoming>",
            b'<bpmn:extensionElements><camunda:properties><camunda:property name="external" '
            b'value="true" /></camunda:properties></bpmn:extensionElements>'
            b"<bpmn:incoming>Flow_0a1</bpmn:incoming>",
        )
    engine = make_engine(
        strict_topics=False, topics=topics_policy(["dns.create", *CATALOGUE_TOPICS], ["erp.*"])
    )
    assert engine.parse("x.bpmn", xml).warnings == []


def test_strict_mode_refuses_the_unknown_topic(make_engine: Callable[..., Engine]) -> None:
    strict = make_engine(strict_topics=True)
    with pytest.raises(DeployError) as e:
        strict.deploy(ADMIN, [("smoke.bpmn", SMOKE)])
    (p,) = e.value.problems
    assert p.element_id == "Task_external"
    assert p.message_en.startswith("Topic 'smoke-topic' has no handler and is not declared")
    assert strict.definitions(ADMIN) == []


# ---------------------------------------------------------------- the queue per topic
def fetch(engine: Engine, worker_id: str = "w1", max_tasks: int = 1, lock_ms: int = 60_000):
    return engine.fetch_and_lock(
        worker_id, [TopicRequest("smoke-topic", lock_ms)], max_tasks, actor=WORKER
    )


def fetch_row(engine: Engine) -> TopicFetch | None:
    with engine.sessions() as s:
        return s.scalar(select(TopicFetch).where(TopicFetch.topic == "smoke-topic"))


def test_last_fetch_is_written_at_most_once_per_interval(lenient: Engine, clock: Any) -> None:
    lenient.deploy(ADMIN, [("smoke.bpmn", SMOKE)])
    assert fetch_row(lenient) is None
    assert fetch(lenient) == []  # an empty poll counts: a worker is there
    first = clock.now()
    row = fetch_row(lenient)
    assert row is not None and row.last_fetch_at == first and row.worker_id == "w1"
    clock.advance(seconds=FETCH_RECORD_INTERVAL_S / 2)
    fetch(lenient, "w2")
    row = fetch_row(lenient)
    assert row is not None and row.last_fetch_at == first and row.worker_id == "w1"
    clock.advance(seconds=FETCH_RECORD_INTERVAL_S)
    fetch(lenient, "w2")
    row = fetch_row(lenient)
    assert row is not None and row.last_fetch_at == clock.now() and row.worker_id == "w2"


def test_built_in_workers_do_not_count_as_fetches(lenient: Engine) -> None:
    lenient.deploy(ADMIN, [("smoke.bpmn", SMOKE)])
    lenient.fetch_and_lock("builtin-0", [TopicRequest("smoke-topic")], 1)
    assert fetch_row(lenient) is None


def test_made_up_topics_get_no_row(lenient: Engine) -> None:
    """Only a topic some version of the agency names is recorded: a worker asking for random
    names cannot grow the table."""
    lenient.deploy(ADMIN, [("smoke.bpmn", SMOKE)])
    names = [TopicRequest(f"made.up.{i}") for i in range(50)]
    lenient.fetch_and_lock("w1", [*names, TopicRequest("smoke-topic")], 1, actor=WORKER)
    with lenient.sessions() as s:
        assert s.scalars(select(TopicFetch.topic)).all() == ["smoke-topic"]
    # another agency's version does not make the topic recordable in this one
    tapin_worker = actor("bot", "tapin", "worker")
    lenient.fetch_and_lock("w1", [TopicRequest("smoke-topic")], 1, actor=tapin_worker)
    with lenient.sessions() as s:
        assert len(s.scalars(select(TopicFetch)).all()) == 1


def test_queue_numbers_per_topic(lenient: Engine, clock: Any) -> None:
    lenient.deploy(ADMIN, [("smoke.bpmn", SMOKE)])
    created = []
    for _ in range(3):
        lenient.start(ADMIN, "smoke_process")
        created.append(clock.now())
        clock.advance(minutes=10)
    assert len(fetch(lenient, lock_ms=15 * 60_000)) == 1  # the oldest job
    fetched_at = clock.now()
    clock.advance(minutes=2)
    (q,) = topic_queues(lenient, ADMIN)
    assert (q.topic, q.builtin, q.waiting, q.locked) == ("smoke-topic", False, 2, 1)
    assert q.oldest_created_at == created[1]
    assert q.oldest_age == clock.now() - created[1] == timedelta(minutes=22)
    assert q.last_fetch_at == fetched_at and q.last_fetch_age == timedelta(minutes=2)
    assert q.last_worker_id == "w1"
    clock.advance(minutes=14)  # the lock has expired: the job waits again
    (q,) = topic_queues(lenient, ADMIN)
    assert (q.waiting, q.locked, q.oldest_created_at) == (3, 0, created[0])
    assert q.last_fetch_age == timedelta(minutes=16)


def test_queue_is_the_admins_agency_only(lenient: Engine) -> None:
    lenient.deploy(ADMIN, [("smoke.bpmn", SMOKE)])
    lenient.start(ADMIN, "smoke_process")
    fetch(lenient)
    assert topic_queues(lenient, actor("eve", "tapin", "admin")) == []
    with pytest.raises(PermissionDenied):
        topic_queues(lenient, WORKER)
    with pytest.raises(PermissionDenied):
        topic_queues(lenient, actor("ana", "kudus", "analyst"))


def test_the_catalogue_lists_exactly_the_built_in_topics() -> None:
    """engine/catalogue.py TOPICS is the one list of the catalogue's topics (the scenarios and
    the benchmark fetch by it); the built-in handlers work exactly those, so neither drifts."""
    assert default_registry().topics() == sorted(CATALOGUE_TOPICS)
