"""A small driver for the SOP scenario tests.

Each scenario deploys one diagram of ``bpmn/`` for one agency (as that agency's administrator)
and walks it through the engine's public API. Service-task handlers are not built yet, so the
driver plays the external worker: ``work(topic, outputs)`` fetch-and-locks the one job of the
topic, completes it with ``outputs`` and returns it, with the input mappings the diagram handed
to the worker (``job.inputs``), for the test to assert.

Scenario modules do not import from here (a second ``conftest`` module would shadow the suite's
one); they use the ``drive`` and ``forms`` fixtures.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from engine.actors import Actor
from engine.catalogue import ROLES, TOPICS
from engine.errors import NotFound, PermissionDenied
from engine.models import HumanTask, ProcessInstance
from engine.runtime import Engine, LockedTask, TopicRequest

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
WORKER = "scenario-worker"

Inst = ProcessInstance | str


def _iid(inst: Inst) -> str:
    return inst if isinstance(inst, str) else inst.id


@dataclass
class Job:
    """A job as the worker saw it: ``inputs`` are the diagram's input mappings only,
    ``variables`` what fetch-and-lock handed over (process variables plus the inputs)."""

    element_id: str
    topic: str
    inputs: dict[str, Any]
    variables: dict[str, Any]
    instance_id: str
    business_key: str


@dataclass
class Driver:
    engine: Engine
    agency: str
    key: str
    admin: Actor

    # ------------------------------------------------------------------ instances
    def start(self, who: Actor, values: Mapping[str, Any]) -> ProcessInstance:
        return self.engine.start(who, self.key, values=dict(values))

    def instance(self, inst: Inst) -> ProcessInstance:
        return self.engine.get_instance(self.admin, _iid(inst))

    def variables(self, inst: Inst) -> dict[str, Any]:
        return self.instance(inst).variables

    def history(self, inst: Inst) -> list[Any]:
        return self.engine.history(self.admin, _iid(inst))

    def kinds(self, inst: Inst) -> list[str]:
        return [h.kind for h in self.history(inst)]

    def events(self, inst: Inst, kind: str) -> list[Any]:
        return [h for h in self.history(inst) if h.kind == kind]

    def walked(self, inst: Inst) -> list[str | None]:
        """The elements completed (user tasks and jobs), in order: the path the request took."""
        return [
            h.element_id
            for h in self.history(inst)
            if h.kind in ("task_completed", "job_completed")
        ]

    # ------------------------------------------------------------------ human tasks
    def open_tasks(self, inst: Inst | None = None) -> list[HumanTask]:
        """Every open task of the agency (or of one instance), as its administrator sees them."""
        return self.engine.inbox(self.admin, instance_id=None if inst is None else _iid(inst))

    def open_elements(self, inst: Inst | None = None) -> list[str]:
        return sorted(t.element_id for t in self.open_tasks(inst))

    def task(self, who: Actor, element_id: str | None = None) -> HumanTask:
        """The single open task in ``who``'s inbox (asserting its element when given)."""
        tasks = self.engine.inbox(who)
        assert len(tasks) == 1, (who.username, [t.element_id for t in tasks])
        if element_id is not None:
            assert tasks[0].element_id == element_id, (tasks[0].element_id, element_id)
        return tasks[0]

    def complete(
        self, who: Actor, task: HumanTask, values: Mapping[str, Any] | None = None
    ) -> ProcessInstance:
        return self.engine.complete_task(who, task.id, dict(values or {}))

    def do(self, who: Actor, element_id: str, values: Mapping[str, Any] | None = None) -> HumanTask:
        """Take the single task of ``who`` (it must be ``element_id``) and complete it."""
        t = self.task(who, element_id)
        self.complete(who, t, values)
        return t

    def refused(self, who: Actor, task: HumanTask, values: Mapping[str, Any] | None = None) -> None:
        """``who`` may not do this task: refused (PermissionDenied, or NotFound for a task it
        may not even see), and the task stays open."""
        with pytest.raises((PermissionDenied, NotFound)):
            self.engine.complete_task(who, task.id, dict(values or {}))
        assert self.engine.get_task(self.admin, task.id).state == "open"

    def isolated(self, inst: ProcessInstance, task: HumanTask | None = None) -> None:
        """An officer of another agency, holding every role (admin too), sees and touches
        nothing of this request, and that agency's workers get none of its jobs."""
        elsewhere = "tapin" if self.agency == "kudus" else "kudus"
        stranger = Actor("eve", elsewhere, frozenset(ROLES))
        assert self.engine.inbox(stranger) == []
        assert self.engine.instances(stranger) == []
        with pytest.raises(NotFound):
            self.engine.get_instance(stranger, inst.id)
        with pytest.raises(NotFound):
            self.engine.history(stranger, inst.id)
        if task is not None:
            with pytest.raises(NotFound):
                self.engine.complete_task(stranger, task.id, {})
            with pytest.raises(NotFound):
                self.engine.claim(stranger, task.id)
        topics = [TopicRequest(t) for t in TOPICS]
        assert (
            self.engine.fetch_and_lock("eve-worker", topics, max_tasks=50, agency=elsewhere) == []
        )

    # ------------------------------------------------------------------ external workers
    def jobs(self, inst: Inst | None = None) -> list[tuple[str, str]]:
        """(element id, topic) of the jobs waiting in the queue, oldest first."""
        rows = self.engine.external_tasks(
            self.admin, instance_id=None if inst is None else _iid(inst)
        )
        return [(j.element_id, j.topic) for j in rows]

    def fetch(self, topic: str) -> LockedTask:
        jobs = self.engine.fetch_and_lock(
            WORKER, [TopicRequest(topic, 60_000)], max_tasks=5, agency=self.agency
        )
        assert len(jobs) == 1, (topic, [j.element_id for j in jobs])
        return jobs[0]

    def work(
        self, topic: str, outputs: Mapping[str, Any] | None = None, element_id: str | None = None
    ) -> Job:
        """Fetch-and-lock the one job of ``topic``, complete it with ``outputs``, return it."""
        locked = self.fetch(topic)
        if element_id is not None:
            assert locked.element_id == element_id, (locked.element_id, element_id)
        [row] = [
            j
            for j in self.engine.external_tasks(self.admin, instance_id=locked.instance_id)
            if j.id == locked.id
        ]
        self.engine.complete_external(WORKER, locked.id, dict(outputs or {}))
        return Job(
            element_id=locked.element_id,
            topic=locked.topic,
            inputs=dict(row.variables),
            variables=locked.variables,
            instance_id=locked.instance_id,
            business_key=locked.business_key,
        )


class Forms:
    """Form introspection: field ids in order, the required ones, the read-only ones."""

    @staticmethod
    def ids(task: HumanTask) -> list[str]:
        return [f["id"] for f in task.form["fields"]]

    @staticmethod
    def required(task: HumanTask) -> list[str]:
        return [f["id"] for f in task.form["fields"] if "required" in (f["constraints"] or {})]

    @staticmethod
    def readonly(task: HumanTask) -> list[str]:
        return [f["id"] for f in task.form["fields"] if "readonly" in (f["constraints"] or {})]

    @classmethod
    def shape(cls, task: HumanTask) -> tuple[list[str], list[str], list[str]]:
        """Field ids, read-only ones and required ones, to compare with one constant."""
        return cls.ids(task), cls.readonly(task), cls.required(task)


@pytest.fixture
def forms() -> Forms:
    return Forms()


@pytest.fixture
def drive(engine: Engine, agencies: dict[str, int]) -> Callable[..., Driver]:
    """``drive(agency, key=agency)``: deploy ``bpmn/<key>.bpmn`` for the agency as its admin."""

    def make(agency: str, key: str | None = None) -> Driver:
        key = key or agency
        admin = Actor(username=f"admin_{agency}", agency=agency, groups=frozenset({"admin"}))
        result = engine.deploy(admin, [(f"{key}.bpmn", (BPMN_DIR / f"{key}.bpmn").read_bytes())])
        assert [(d.key, d.version) for d in result.deployed] == [(key, 1)]
        return Driver(engine=engine, agency=agency, key=key, admin=admin)

    return make
