"""Engine benchmark: the raw SpiffWorkflow step against the full engine round trip.

Run from the repository root (prints numbers, asserts nothing):

    .venv/bin/python bench/engine.py                 # SQLite + PostgreSQL, both diagrams
    .venv/bin/python bench/engine.py --profile       # then where complete_task spends its time

For each diagram, two sets of instances take the same path (same values, same loop iterations),
driven round-robin with one user task per instance per round until every instance has ended.
Rounds alternate between the two sets:

raw   what SpiffWorkflow costs for one user-task step: ``Serializer.load_state`` (spec objects
      from the ``Serializer.load_spec`` cache), ``task.data.update(values)``, ``task.run()``,
      ``do_engine_steps()``, ``Serializer.dump_state``. No database.
full  ``Engine.complete_task``: load the task row and instance from the database, check the
      actor, validate the form, complete, run to the next wait state, save state, inbox
      projection, history, commit.

Only those calls are timed. Picking the next task and its form values, and completing service
tasks (pekalongan: ``fetch_and_lock`` + ``complete_external``), happen between the timed calls.
The clock is frozen, so the working-day timers are armed on every step but never fire.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# ``python bench/engine.py`` puts bench/ first on sys.path, where this file would shadow the
# ``engine`` package; drop it and make sure the repository root is importable instead.
_HERE = Path(__file__).resolve().parent
ROOT = _HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from SpiffWorkflow.bpmn import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402
from sqlalchemy import create_engine, event, select, text  # noqa: E402

from engine.actors import Actor  # noqa: E402
from engine.calendar import WorkingCalendar  # noqa: E402
from engine.catalogue import TOPICS as CATALOGUE_TOPICS  # noqa: E402
from engine.clock import FrozenClock  # noqa: E402
from engine.commands import tasks as task_cmd  # noqa: E402
from engine.context import Context  # noqa: E402
from engine.db import make_db, make_sessions  # noqa: E402
from engine.forms import Form  # noqa: E402
from engine.models import Agency, HumanTask, ProcessDefinition, ProcessInstance  # noqa: E402
from engine.projection import Projection  # noqa: E402
from engine.runtime import Engine, TopicRequest, topics_policy  # noqa: E402
from engine.spiff import tree as spiff_tree  # noqa: E402
from engine.spiff.scripting import SafeScriptEngine  # noqa: E402
from engine.spiff.serializer import Serializer  # noqa: E402
from engine.spiff.specs import ExternalServiceTask, SopflowUserTask  # noqa: E402
from engine.unit_of_work import UnitOfWork  # noqa: E402
from web.composition import upgrade  # noqa: E402

PG_ADMIN_URL = os.environ.get(
    "SOPFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
AGENCY = "kudus"
TOPICS = CATALOGUE_TOPICS
GOAL_RATIO = 3.0
GOAL_SQLITE_TPS = 300.0


# --------------------------------------------------------------------------------- scenarios
@dataclass
class Scenario:
    """A diagram and how a clerk walks through it: values per element and visit (the loops)."""

    name: str
    path: Path
    key: str
    start_values: dict[str, Any]
    # element id -> values for the 1st, 2nd, ... visit (the last one repeats)
    decisions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # service task element id -> variables the worker returns per visit
    services: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def values(self, element_id: str, visit: int, form: dict[str, Any]) -> dict[str, Any]:
        """What a browser would post: every editable field as text, decisions overlaid."""
        out: dict[str, Any] = {}
        for f in form.get("fields", []):
            c = f.get("constraints") or {}
            if "readonly" in c:
                continue
            t = f.get("type")
            if t == "boolean":
                out[f["id"]] = "true"
            elif t == "long":
                out[f["id"]] = str(int(c.get("min") or 1))
            elif t == "date":
                out[f["id"]] = "2026-11-30"
            elif t == "enum":
                out[f["id"]] = f.get("default") or f["options"][0][0]
            else:
                n = max(int(c.get("minlength") or 0), 24)
                n = min(n, int(c.get("maxlength") or n))
                out[f["id"]] = ("Catatan benchmark " * 8)[:n].strip().ljust(n, "x")
        plan = self.decisions.get(element_id)
        if plan:
            out.update(plan[min(visit, len(plan) - 1)])
        return out

    def service_vars(self, element_id: str, visit: int) -> dict[str, Any]:
        plan = self.services.get(element_id)
        return dict(plan[min(visit, len(plan) - 1)]) if plan else {}


SOP_SIZE = Scenario(
    name="sop_size",
    path=_HERE / "data" / "sop_size.bpmn",
    key="sop_size",
    start_values={"opd_name": "Dinas Pendidikan", "subdomain": "disdik"},
    decisions={
        # three rework loops: documents once, design twice, test once -> 27 user tasks
        "verify_documents": [{"documents_complete": "false"}, {"documents_complete": "true"}],
        "present_design": [{"design_ok": "false"}, {"design_ok": "false"}, {"design_ok": "true"}],
        "test_website": [
            {"test_passed": "false", "errors": "2"},
            {"test_passed": "true", "errors": "0"},
        ],
        "design_web": [{"design_url": "https://figma.example/disdik/v1"}],
        "security_scan": [{"score": "85"}],
    },
)

PEKALONGAN = Scenario(
    name="pekalongan",
    path=ROOT / "bpmn" / "pekalongan.bpmn",
    key="pekalongan",
    start_values={
        "opd_name": "Dinas Pendidikan",
        "letter_number": "045/123/2026",
        "letter_date": "2026-11-20",
        "letter_file": "uploads/surat.pdf",
        "subdomain": "disdik",
        "purpose": "Website profil dinas dan layanan informasi publik",
        "applicant_email": "opd@pekalongankota.go.id",
        "applicant_phone": "081234567890",
    },
    decisions={
        # the programmer the clerk appoints is the user who then codes (assignee expression)
        "appoint_programmer": [{"programmer_name": "bench_officer"}],
        "forward_disposition": [{"assigned_officer": "bench_officer"}],
        # design loop once, website loop once
        "present_design": [{"approved": "false"}, {"approved": "true"}],
        "present_website": [{"approved": "false"}, {"approved": "true"}],
    },
    services={
        "check_name": [{"name_available": True}],
        "create_hosting": [{"hosting_path": "/var/www/disdik"}],
        "create_dns": [{"fqdn": "disdik.pekalongankota.go.id"}],
        "verify_website": [
            {"website_ok": False, "website_report": "HTTPS belum aktif"},
            {"website_ok": True, "website_report": "OK"},
        ],
    },
)

SCENARIOS = {s.name: s for s in (SOP_SIZE, PEKALONGAN)}


# --------------------------------------------------------------------------------- helpers
def _tasks(wf: BpmnWorkflow, state: int) -> list[Any]:
    # SpiffWorkflow 3's task iterator already descends into subprocesses.
    return list({t.id: t for t in wf.get_tasks(state=state)}.values())


def _ready_human(wf: BpmnWorkflow) -> list[Any]:
    out = [t for t in _tasks(wf, TaskState.READY) if isinstance(t.task_spec, SopflowUserTask)]
    return sorted(out, key=lambda t: t.task_spec.bpmn_id)


def _started_services(wf: BpmnWorkflow) -> list[Any]:
    return [
        t for t in _tasks(wf, TaskState.STARTED) if isinstance(t.task_spec, ExternalServiceTask)
    ]


def _pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


@dataclass
class Result:
    steps: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    ended: int = 0
    instances: int = 0
    state_bytes: list[int] = field(default_factory=list)
    statements: int = 0
    cpu: float = 0.0  # this process's CPU time in the timed calls (not PostgreSQL's)

    def add(self, dt: float, cpu: float = 0.0) -> None:
        self.steps += 1
        self.seconds += dt
        self.cpu += cpu
        self.latencies.append(dt)

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu / self.steps if self.steps else float("nan")

    @property
    def per_s(self) -> float:
        return self.steps / self.seconds if self.seconds else float("nan")

    @property
    def mean_ms(self) -> float:
        return 1000 * self.seconds / self.steps if self.steps else float("nan")


# --------------------------------------------------------------------------------- raw
class RawDriver:
    """SpiffWorkflow alone, with the engine's serializer and script engine."""

    def __init__(self, scenario: Scenario, definition: ProcessDefinition, clock: FrozenClock):
        self.sc = scenario
        self.d = definition
        self.serializer = Serializer()
        self.script_engine = SafeScriptEngine(clock, WorkingCalendar("Asia/Jakarta"))
        self.start_form = Form.from_dict(definition.start_form)

    def _spec(self) -> tuple[Any, dict]:
        return self.serializer.load_spec(self.d.id, self.d.spec_json)

    def _settle(self, wf: BpmnWorkflow, svisits: Counter[str]) -> None:
        """Complete parked service tasks as a worker would (untimed), like complete_external."""
        while True:
            started = _started_services(wf)
            if not started:
                return
            for t in started:
                eid = t.task_spec.bpmn_id
                t.data.update(self.sc.service_vars(eid, svisits[eid]))
                svisits[eid] += 1
                t.complete()
            wf.do_engine_steps()

    def start(self, n: int) -> list[dict[str, Any]]:
        spec, subs = self._spec()
        clean = self.start_form.validate(self.sc.start_values)
        initiator = self.d.properties.get("initiator")
        out = []
        for _ in range(n):
            wf = BpmnWorkflow(spec, subs, script_engine=self.script_engine)
            data = dict(clean)
            if initiator:
                data[initiator] = "bench_officer"
            for t in wf.get_tasks(state=TaskState.READY):
                t.data.update(data)
            wf.do_engine_steps()
            inst = {"visits": Counter(), "svisits": Counter()}
            self._settle(wf, inst["svisits"])
            self._after(inst, wf, self.serializer.dump_state(wf))
            out.append(inst)
        return out

    def _after(self, inst: dict[str, Any], wf: BpmnWorkflow, state: str) -> None:
        inst["state"] = state
        ready = _ready_human(wf)
        if ready:
            t = ready[0]
            eid = t.task_spec.bpmn_id
            values = self.sc.values(eid, inst["visits"][eid], t.task_spec.form)
            clean = Form.from_dict(t.task_spec.form).validate(values, current=t.data)
            inst["next"] = (t.id, eid, clean)
        else:
            inst["next"] = None
            inst["ended"] = wf.is_completed()

    def round(self, instances: list[dict[str, Any]], res: Result) -> bool:
        """One user task for every live instance; False when all have ended."""
        ser = self.serializer
        perf, cpu = time.perf_counter, time.process_time
        live = [i for i in instances if i["next"] is not None]
        for inst in live:
            tid, eid, clean = inst["next"]
            c0, t0 = cpu(), perf()
            spec, subs = ser.load_spec(self.d.id, self.d.spec_json)
            wf = ser.load_state(inst["state"], spec, subs)
            wf.script_engine = self.script_engine
            task = wf.get_task_from_id(tid)
            task.data.update(clean)
            task.run()
            wf.do_engine_steps()
            state = ser.dump_state(wf)
            res.add(perf() - t0, cpu() - c0)
            inst["visits"][eid] += 1
            if _started_services(wf):
                self._settle(wf, inst["svisits"])
                state = ser.dump_state(wf)
            self._after(inst, wf, state)
        return bool(live)

    def finish(self, instances: list[dict[str, Any]], res: Result) -> Result:
        res.instances = len(instances)
        res.ended = sum(1 for i in instances if i.get("ended"))
        res.state_bytes = [len(i["state"]) for i in instances]
        return res

    def run(self, instances: list[dict[str, Any]]) -> Result:
        res = Result()
        while self.round(instances, res):
            pass
        return self.finish(instances, res)


# --------------------------------------------------------------------------------- full
class FullDriver:
    def __init__(self, engine: Engine, scenario: Scenario, definition: ProcessDefinition):
        self.engine = engine
        self.sc = scenario
        self.d = definition
        self.topics = [TopicRequest(t) for t in definition.topics]
        spec, subs = engine.serializer.load_spec(definition.id, definition.spec_json)
        groups: set[str] = set()
        for w in (spec, *subs.values()):
            for ts in w.task_specs.values():
                groups.update(getattr(ts, "candidate_groups", None) or [])
        # A clerk, not an administrator: complete_task checks the candidate groups.
        self.actor = Actor("bench_officer", AGENCY, groups=frozenset(groups))

    def start(self, n: int, res: Result | None = None) -> list[dict[str, Any]]:
        out = []
        for _ in range(n):
            t0 = time.perf_counter()
            inst = self.engine.start(self.actor, self.d.key, values=self.sc.start_values)
            if res is not None:
                res.add(time.perf_counter() - t0)
            out.append({"id": inst.id, "visits": Counter(), "svisits": Counter()})
        self._settle(out)
        return out

    def _settle(self, instances: list[dict[str, Any]]) -> None:
        """Play the worker for every parked service task (untimed)."""
        if not self.topics:
            return
        by_id = {i["id"]: i for i in instances}
        while True:
            jobs = self.engine.fetch_and_lock("bench-worker", self.topics, max_tasks=1000)
            jobs = [j for j in jobs if j.instance_id in by_id]
            if not jobs:
                return
            for j in jobs:
                sv = by_id[j.instance_id]["svisits"]
                self.engine.complete_external(
                    "bench-worker", j.id, self.sc.service_vars(j.element_id, sv[j.element_id])
                )
                sv[j.element_id] += 1

    def _open(self, ids: list[str]) -> dict[str, tuple[str, str, dict]]:
        with self.engine.sessions() as s:
            rows = s.execute(
                select(HumanTask.id, HumanTask.instance_id, HumanTask.element_id, HumanTask.form)
                .where(HumanTask.instance_id.in_(ids), HumanTask.state == "open")
                .order_by(HumanTask.element_id)
            ).all()
        out: dict[str, tuple[str, str, dict]] = {}
        for r in rows:
            out.setdefault(r[1], (r[0], r[2], r[3]))
        return out

    def round(
        self, instances: list[dict[str, Any]], res: Result, counter: Callable[[], int]
    ) -> bool:
        """One user task for every live instance; False when all have ended."""
        by_id = {i["id"]: i for i in instances}
        nxt = self._open(list(by_id))
        work = []
        for iid, (tid, eid, form) in nxt.items():
            inst = by_id[iid]
            work.append((inst, tid, eid, self.sc.values(eid, inst["visits"][eid], form)))
        perf, cpu = time.perf_counter, time.process_time
        complete = self.engine.complete_task
        before = counter()
        for inst, tid, eid, values in work:
            c0, t0 = cpu(), perf()
            complete(self.actor, tid, values)
            res.add(perf() - t0, cpu() - c0)
            inst["visits"][eid] += 1
        res.statements += counter() - before
        self._settle(instances)
        return bool(work)

    def finish(self, instances: list[dict[str, Any]], res: Result) -> Result:
        with self.engine.sessions() as s:
            rows = s.execute(
                select(ProcessInstance.state, ProcessInstance.state_json).where(
                    ProcessInstance.id.in_([i["id"] for i in instances])
                )
            ).all()
        res.instances = len(instances)
        res.ended = sum(1 for r in rows if r[0] == "completed")
        res.state_bytes = [len(r[1]) for r in rows]
        return res

    def run(self, instances: list[dict[str, Any]], counter: Callable[[], int]) -> Result:
        res = Result()
        while self.round(instances, res, counter):
            pass
        return self.finish(instances, res)


# --------------------------------------------------------------------------------- databases
@contextmanager
def sqlite_db() -> Iterator[str]:
    d = tempfile.mkdtemp(prefix="sopflow-bench-")
    try:
        url = f"sqlite:///{d}/bench.db"
        upgrade(url)
        yield url
    finally:
        shutil.rmtree(d, ignore_errors=True)


@contextmanager
def postgres_db() -> Iterator[str]:
    """A fresh database next to the test one, dropped afterwards (as tests/conftest.py does)."""
    name = f"sopflow_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception:
        admin.dispose()
        raise
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


def make_engine(url: str) -> tuple[Engine, Any, Callable[[], int]]:
    db = make_db(url)
    count = [0]

    @event.listens_for(db, "before_cursor_execute")
    def _count(*_a: Any) -> None:
        count[0] += 1

    sessions = make_sessions(db)
    with sessions.begin() as s:
        s.add(
            Agency(
                code=AGENCY,
                name="Diskominfo Kabupaten Kudus",
                parent_domain="kuduskab.go.id",
                timezone="Asia/Jakarta",
                settings={},
            )
        )
    engine = Engine(sessions, clock=FrozenClock(), topics=topics_policy(TOPICS))
    return engine, db, lambda: count[0]


def deploy(engine: Engine, sc: Scenario) -> ProcessDefinition:
    res = engine.deploy(Actor.system_actor(AGENCY), [(sc.path.name, sc.path.read_bytes())])
    (d,) = [x for x in res.deployed + res.unchanged if x.key == sc.key]
    return d


# --------------------------------------------------------------------------------- reporting
def fmt_ms(x: float) -> str:
    return f"{1000 * x:6.2f} ms"


def report(backend: str, sc: Scenario, raw: Result, full: Result, start: Result) -> None:
    ratio = full.mean_ms / raw.mean_ms
    print(f"\n== {sc.name} on {backend} (load average now {os.getloadavg()[0]:.2f}) ==")
    print(
        f"  instances            {full.instances} (+ warm-up), ended {full.ended}/"
        f"{full.instances} (raw {raw.ended}/{raw.instances}); user-task steps: full "
        f"{full.steps}, raw {raw.steps}"
    )
    print(
        f"  state_json at end    mean {statistics.mean(full.state_bytes) / 1024:.1f} KiB "
        f"(raw {statistics.mean(raw.state_bytes) / 1024:.1f} KiB)"
    )
    print(
        f"  raw  SpiffWorkflow   {raw.per_s:8.1f} steps/s   mean {raw.mean_ms:6.2f} ms   "
        f"p50 {fmt_ms(_pct(raw.latencies, 50))}   p95 {fmt_ms(_pct(raw.latencies, 95))}   "
        f"cpu {raw.cpu_ms:5.2f} ms  ({raw.seconds:.1f} s timed)"
    )
    print(
        f"  full complete_task   {full.per_s:8.1f} steps/s   mean {full.mean_ms:6.2f} ms   "
        f"p50 {fmt_ms(_pct(full.latencies, 50))}   p95 {fmt_ms(_pct(full.latencies, 95))}   "
        f"cpu {full.cpu_ms:5.2f} ms  ({full.seconds:.1f} s timed)"
    )
    print(f"  SQL statements       {full.statements / max(full.steps, 1):.1f} per complete_task")
    print(f"  start (reference)    {start.per_s:8.1f} starts/s  mean {start.mean_ms:6.2f} ms")
    print(f"  ratio full/raw cost  {ratio:.2f}x")
    ok = "MET" if ratio <= GOAL_RATIO else "NOT MET"
    print(f"  goal full <= {GOAL_RATIO:.0f}x raw   {ok} ({ratio:.2f}x)")
    if backend == "sqlite":
        ok = "MET" if full.per_s >= GOAL_SQLITE_TPS else "NOT MET"
        print(f"  goal >= {GOAL_SQLITE_TPS:.0f} tasks/s   {ok} ({full.per_s:.0f}/s, one process)")


def bench_backend(backend: str, url: str, scenarios: list[Scenario], n: int, warm: int) -> None:
    engine, db, counter = make_engine(url)
    try:
        for sc in scenarios:
            d = deploy(engine, sc)
            raw = RawDriver(sc, d, FrozenClock())
            full = FullDriver(engine, sc, d)
            # warm-up: spec caches, SQLAlchemy's statement cache, the connection pool
            raw.run(raw.start(warm))
            full.run(full.start(warm), counter)
            start_res = Result()
            raw_insts = raw.start(n)
            full_insts = full.start(n, start_res)
            # rounds alternate between raw and full so that load from elsewhere on the machine
            # hits both alike and the ratio stays meaningful
            raw_res, full_res = Result(), Result()
            raw_live = full_live = True
            while raw_live or full_live:
                if raw_live:
                    raw_live = raw.round(raw_insts, raw_res)
                if full_live:
                    full_live = full.round(full_insts, full_res, counter)
            report(
                backend,
                sc,
                raw.finish(raw_insts, raw_res),
                full.finish(full_insts, full_res),
                start_res,
            )
    finally:
        db.dispose()


# --------------------------------------------------------------------------------- profile
class Phases:
    """Wall-clock time inside chosen functions, by wrapping them (about 1 us per call, far less
    distortion than cProfile). Nested phases are included in their parents."""

    def __init__(self) -> None:
        self.total: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self._undo: list[tuple[Any, str, Any]] = []
        self.depth: Counter[str] = Counter()

    def wrap(self, owner: Any, attr: str, label: str, unless_inside: str | None = None) -> None:
        raw = owner.__dict__[attr]
        orig = raw.__func__ if isinstance(raw, staticmethod) else raw
        total, calls, depth, perf = self.total, self.calls, self.depth, time.perf_counter

        def timed(*a: Any, **k: Any) -> Any:
            if unless_inside and depth[unless_inside]:
                return orig(*a, **k)
            depth[label] += 1
            t0 = perf()
            try:
                return orig(*a, **k)
            finally:
                total[label] += perf() - t0
                calls[label] += 1
                depth[label] -= 1

        setattr(owner, attr, staticmethod(timed) if isinstance(raw, staticmethod) else timed)
        self._undo.append((owner, attr, raw))

    def restore(self) -> None:
        for owner, attr, orig in reversed(self._undo):
            setattr(owner, attr, orig)
        self._undo.clear()


def _phase_plan() -> list[tuple[Any, str, str, str | None]]:
    from SpiffWorkflow.task import Task
    from sqlalchemy.orm import Session, SessionTransaction

    return [
        # (owner, attribute, label, not counted when inside this label)
        (Engine, "complete_task", "Engine.complete_task", None),
        (Context, "agency", "  Context.agency (SELECT agency)", None),
        (task_cmd, "find_task", "  find_task (SELECT human_task + joins)", None),
        (task_cmd, "find_instance", "  find_instance (SELECT process_instance + join)", None),
        (UnitOfWork, "load", "  UnitOfWork.load", None),
        (Serializer, "load_state", "    Serializer.load_state", None),
        (Form, "validate", "  Form.validate", None),
        (Task, "run", "  Task.run (the user task)", "    BpmnWorkflow.do_engine_steps"),
        (UnitOfWork, "advance", "  UnitOfWork.advance", None),
        (BpmnWorkflow, "do_engine_steps", "    BpmnWorkflow.do_engine_steps", None),
        (Projection, "sync", "    Projection.sync", None),
        (Projection, "create_human_task", "      Projection.create_human_task", None),
        (spiff_tree, "variables", "      spiff.tree.variables", None),
        (Serializer, "dump_state", "    Serializer.dump_state", None),
        (Context, "history", "  Context.history (all calls)", None),
        (Session, "flush", "  Session.flush (all flushes, incl. autoflush)", None),
        (SessionTransaction, "commit", "  SessionTransaction.commit", None),
    ]


def profile(scenario: Scenario, n: int, warm: int, top: int, backend: str) -> None:
    """Phase breakdown (wall clock), then cProfile, of complete_task."""
    with sqlite_db() if backend == "sqlite" else postgres_db() as url:
        engine, db, counter = make_engine(url)
        try:
            d = deploy(engine, scenario)
            full = FullDriver(engine, scenario, d)
            full.run(full.start(warm), counter)
            # 1. phases, wall clock
            insts = full.start(n)
            ph = Phases()
            for owner, attr, label, unless in _phase_plan():
                ph.wrap(owner, attr, label, unless)
            try:
                res1 = full.run(insts, counter)
            finally:
                ph.restore()
            # 2. cProfile
            insts = full.start(n)
            prof = cProfile.Profile()
            real = engine.complete_task

            def profiled(*a: Any, **k: Any) -> Any:
                prof.enable()
                try:
                    return real(*a, **k)
                finally:
                    prof.disable()

            engine.complete_task = profiled  # type: ignore[method-assign]
            res = full.run(insts, counter)
        finally:
            db.dispose()
    whole = ph.total["Engine.complete_task"]
    print(
        f"\n== where complete_task spends its time: {scenario.name} on {backend}, "
        f"{res1.steps} calls, {1000 * res1.seconds / res1.steps:.2f} ms/step with wrappers =="
    )
    print(
        f"  {'phase (wall clock; nested phases are part of their parent)':58s} ms/step   share"
        "  calls/step"
    )
    for _o, _a, label, _u in _phase_plan():
        t = ph.total[label]
        print(
            f"  {label:58s} {1000 * t / res1.steps:7.3f}  {100 * t / whole:5.1f}%  "
            f"{ph.calls[label] / res1.steps:6.2f}"
        )

    st = pstats.Stats(prof)
    stats: dict[Any, Any] = st.stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in stats.values())
    root = str(ROOT) + os.sep
    print(
        f"\n== cProfile of complete_task on {backend}: {res.steps} calls, "
        f"{1000 * total / res.steps:.2f} ms/step under the profiler (which inflates "
        "pure-Python code most) =="
    )
    mine = [(k, v) for k, v in stats.items() if k[0].startswith(root + "engine" + os.sep)]
    mine.sort(key=lambda kv: kv[1][3], reverse=True)
    print(f"  top {top} cumulative in engine/:")
    for (f, line, name), (_cc, nc, _tt, ct, _callers) in mine[:top]:
        print(
            f"    {100 * ct / total:5.1f}%  {1000 * ct / res.steps:7.3f} ms/step  "
            f"{nc / res.steps:6.1f} calls/step  {f[len(root) :]}:{line}({name})"
        )
    allf = sorted(stats.items(), key=lambda kv: kv[1][2], reverse=True)
    print(f"  top {top} own time (anywhere):")
    for (f, line, name), (_cc, nc, tt, _ct, _callers) in allf[:top]:
        short = f[len(root) :] if f.startswith(root) else f.split("site-packages/")[-1]
        print(
            f"    {100 * tt / total:5.1f}%  {1000 * tt / res.steps:7.3f} ms/step  "
            f"{nc / res.steps:7.1f} calls/step  {short}:{line}({name})"
        )


# --------------------------------------------------------------------------------- main
def _revision() -> str:
    """The commit measured, and whether engine/ or bpmn/ had uncommitted changes."""
    import subprocess

    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "engine", "bpmn"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown (no git)"
    return f"{head or 'unknown'}" + (" + uncommitted changes in engine/ or bpmn/" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--instances", type=int, default=60, help="instances per measurement")
    p.add_argument("--warmup", type=int, default=10, help="instances driven before measuring")
    p.add_argument("--backends", default="sqlite,postgresql")
    p.add_argument("--diagrams", default=",".join(SCENARIOS))
    p.add_argument("--profile", action="store_true", help="then cProfile the round trip")
    p.add_argument("--profile-instances", type=int, default=40)
    p.add_argument("--profile-backend", default="sqlite", choices=("sqlite", "postgresql"))
    p.add_argument("--top", type=int, default=15)
    args = p.parse_args(argv)

    scenarios = []
    for name in [x.strip() for x in args.diagrams.split(",") if x.strip()]:
        sc = SCENARIOS[name]
        if not sc.path.exists():
            print(f"note: {sc.path} not found; skipping diagram {name}")
            continue
        scenarios.append(sc)
    print(
        f"sopflow engine benchmark: python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"{args.instances} instances per measurement after {args.warmup} warm-up instances"
    )
    print(f"code: {_revision()}")
    print("raw  = load_state + task.run + do_engine_steps + dump_state (no database)")
    print(
        "full = Engine.complete_task (load, check, validate, complete, run, save, "
        "projections, history, commit)"
    )
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        if backend == "sqlite":
            with sqlite_db() as url:
                bench_backend("sqlite", url, scenarios, args.instances, args.warmup)
        elif backend == "postgresql":
            try:
                ctx = postgres_db()
                url = ctx.__enter__()
            except Exception as e:  # noqa: BLE001 - any failure means "no PostgreSQL here"
                print(
                    f"\n== postgresql skipped: {PG_ADMIN_URL} not reachable "
                    f"({type(e).__name__}: {str(e).splitlines()[0]}) =="
                )
                continue
            try:
                bench_backend("postgresql", url, scenarios, args.instances, args.warmup)
            finally:
                ctx.__exit__(None, None, None)
        else:
            print(f"note: unknown backend {backend!r}")
    if args.profile and scenarios:
        profile(scenarios[0], args.profile_instances, args.warmup, args.top, args.profile_backend)
    return 0


if __name__ == "__main__":
    sys.exit(main())
