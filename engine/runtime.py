"""The engine's public API: deploy versions, start instances, complete tasks, fire timers, run jobs.

One call is one transaction: load the instance (its ``lock_version`` read), act, run engine steps
to the next wait state, then save the state, the projections (inbox, job queue, timer and SLA
columns) and history together. A concurrent writer makes the UPDATE match no row; the call is
retried from a fresh load when redoing it is still meaningful, otherwise it fails as Conflict.

The engine takes its parser policy (topic checker), serializer and clock as arguments and knows
nothing of Flask.
"""

from __future__ import annotations

import copy
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, event, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, lazyload, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from . import access
from .access import Permission
from .actors import Actor
from .business_keys import BusinessKeyTaken, check_chosen, generated_key
from .calendar import WorkingCalendar
from .clock import Clock, SystemClock
from .errors import (
    Conflict,
    DeployError,
    ExpressionError,
    NotFound,
    NotLockedByWorker,
    PermissionDenied,
    Problem,
    SopflowError,
    Suspended,
    TaskAlreadyClaimed,
    WorkflowError,
)
from .expressions import is_juel
from .forms import Form
from .models import (
    Agency,
    BusinessKeySequence,
    CalendarOverride,
    Deployment,
    ExternalTask,
    HistoryEvent,
    HumanTask,
    Incident,
    ProcessDefinition,
    ProcessInstance,
    TaskCandidate,
    new_id,
)
from .spiff.reserved import public
from .spiff.scripting import SafeScriptEngine
from .spiff.serializer import Serializer
from .spiff.specs import ExternalServiceTask, SopflowUserTask
from .topic_queue import FetchRecorder
from .validation import ParsedDiagram, TopicPolicy, parse_diagram

log = logging.getLogger("sopflow.engine")
T = TypeVar("T")
_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class TopicRequest:
    topic: str
    lock_duration_ms: int = 300_000
    variables: Sequence[str] | None = None
    # filters (Camunda's per-topic fetchAndLock options); None: no filter
    business_key: str | None = None
    definition_keys: Sequence[str] | None = None
    process_variables: Mapping[str, Any] | None = None
    local_only: bool = False  # only the job's own (input) variables, not the process's

    @property
    def filtered(self) -> bool:
        return bool(
            self.business_key is not None
            or self.definition_keys is not None
            or self.process_variables
        )

    def matches(self, inst: ProcessInstance, key: str) -> bool:
        if self.business_key is not None and inst.business_key != self.business_key:
            return False
        if self.definition_keys is not None and key not in self.definition_keys:
            return False
        current = inst.variables or {}
        return all(
            name in current and current[name] == _plain(value)
            for name, value in (self.process_variables or {}).items()
        )


@dataclass
class LockedTask:
    id: str
    topic: str
    worker_id: str
    agency: str
    instance_id: str
    business_key: str
    definition_id: str
    definition_key: str
    element_id: str
    variables: dict[str, Any]
    retries: int | None
    attempts: int
    lock_expires_at: datetime
    priority: int
    error_message: str | None = None
    retry_interval: str | None = None


@dataclass
class DeployResult:
    deployment: Deployment
    deployed: list[ProcessDefinition] = field(default_factory=list)
    unchanged: list[ProcessDefinition] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)  # the diagrams', e.g. unknown topics


@dataclass
class EngineSettings:
    default_retries: int = 3
    retry_backoff_s: tuple[int, ...] = (10, 60, 300)
    calendar_ttl_s: float = 60.0
    conflict_retries: int = 5
    workflow_cache: int = 256  # live workflows kept between steps (0: always deserialize)


def _check_names(variables: Mapping[str, Any]) -> dict[str, Any]:
    """Variables from integrations become process variables: plain identifiers only."""
    for name in variables:
        if not _VAR_NAME.fullmatch(name) or name.startswith("__"):
            raise SopflowError(
                f"Invalid variable name '{name}'", f"Nama variabel '{name}' tidak sah"
            )
    return dict(variables)


def _all_workflows(wf: BpmnWorkflow) -> list[Any]:
    return [wf, *wf.subprocesses.values()]


def _tasks(wf: BpmnWorkflow, state: int) -> list[Any]:
    """Tasks in ``state`` (a mask) across the process and its subprocesses, each once."""
    return [t for w in _all_workflows(wf) for t in w.tasks.values() if t.state & state]


def _is_human(task: Any) -> bool:
    return isinstance(task.task_spec, SopflowUserTask) or (
        getattr(task.task_spec, "manual", False) and hasattr(task.task_spec, "bpmn_id")
    )


def _plain(value: Any) -> Any:
    """JSON-safe copy of task data for projections and history (dates become ISO strings)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if not callable(v)}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _as_datetime(value: Any, tz: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    from .timers import parse_datetime

    return parse_datetime(str(value), tz)


class Engine:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        clock: Clock | None = None,
        topics: TopicPolicy | None = None,
        serializer: Serializer | None = None,
        settings: EngineSettings | None = None,
        builtin_topics: Iterable[str] = (),
        strict_topics: bool = True,
    ) -> None:
        self.sessions = sessions
        # False: a topic ``topics`` does not know is deployed as external, with a warning
        self.strict_topics = strict_topics
        self.fetches = FetchRecorder()  # when REST workers last fetched each topic
        # topics the in-process handlers work: never handed to a REST worker
        self.builtin_topics = frozenset(builtin_topics)
        if sessions is not None and not event.contains(sessions, "after_commit", _after_commit):
            event.listen(sessions, "after_commit", _after_commit)
            event.listen(sessions, "after_soft_rollback", _after_rollback)
        self.clock = clock or SystemClock()
        self.topics: TopicPolicy = topics or (lambda _t: False)
        self.serializer = serializer or Serializer()
        self.settings = settings or EngineSettings()
        self._calendars: dict[int, tuple[float, WorkingCalendar]] = {}
        self._cal_lock = threading.Lock()
        self._agencies: dict[str, tuple[float, Agency]] = {}
        self._definitions: dict[str, dict[str, Any]] = {}  # id -> key/properties (immutable)
        # live workflows between steps, keyed by instance id, valid for one lock_version only
        self._workflows: OrderedDict[str, tuple[int, BpmnWorkflow]] = OrderedDict()

    # ------------------------------------------------------------------ helpers
    def now(self) -> datetime:
        return self.clock.now()

    def _is_pg(self, s: Session) -> bool:
        return s.get_bind().dialect.name == "postgresql"

    def agency(self, s: Session, code: str) -> Agency:
        """The agency row by code; cached (detached, fully loaded) for ``calendar_ttl_s``."""
        with self._cal_lock:
            hit = self._agencies.get(code)
        if hit is not None and time.monotonic() - hit[0] < self.settings.calendar_ttl_s:
            return hit[1]
        ag = s.scalar(select(Agency).where(Agency.code == code))
        if ag is None:
            raise NotFound(
                f"Unknown agency '{code}'", f"Instansi '{code}' tidak dikenal", agency=code
            )
        # detached at once: left in this session, a rollback (a lost race, a refused form)
        # would expire the cached row and every later request would fail until the TTL ends
        s.expunge(ag)
        with self._cal_lock:
            self._agencies[code] = (time.monotonic(), ag)
        return ag

    def calendar(self, s: Session, agency: Agency) -> WorkingCalendar:
        with self._cal_lock:
            hit = self._calendars.get(agency.id)
            if hit and time.monotonic() - hit[0] < self.settings.calendar_ttl_s:
                return hit[1]
        rows = s.scalars(
            select(CalendarOverride).where(
                or_(CalendarOverride.agency_id.is_(None), CalendarOverride.agency_id == agency.id)
            )
        ).all()
        overrides: dict[Any, bool] = {r.day: r.working for r in rows if r.agency_id is None}
        overrides.update({r.day: r.working for r in rows if r.agency_id is not None})
        cal = WorkingCalendar(agency.timezone, overrides=overrides)
        with self._cal_lock:
            self._calendars[agency.id] = (time.monotonic(), cal)
        return cal

    def invalidate_calendars(self) -> None:
        with self._cal_lock:
            self._calendars.clear()
            self._agencies.clear()

    def script_engine(self, s: Session, agency: Agency) -> SafeScriptEngine:
        return SafeScriptEngine(self.clock, self.calendar(s, agency))

    def _history(
        self,
        s: Session,
        agency_id: int,
        kind: str,
        actor: str | None,
        *,
        instance_id: str | None = None,
        element_id: str | None = None,
        task_id: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        s.add(
            HistoryEvent(
                agency_id=agency_id,
                instance_id=instance_id,
                at=self.now(),
                actor=actor,
                kind=kind,
                element_id=element_id,
                task_id=task_id,
                data=_plain(dict(data or {})),
            )
        )

    def _task_history(
        self,
        s: Session,
        t: HumanTask,
        kind: str,
        actor: str | None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        """A history event about one human task: its request, element and id go with it."""
        self._history(
            s,
            t.agency_id,
            kind,
            actor,
            instance_id=t.instance_id,
            element_id=t.element_id,
            task_id=t.id,
            data=data,
        )

    # ------------------------------------------------------------------ deployments
    def parse(self, filename: str, data: bytes) -> ParsedDiagram:
        return parse_diagram(data, filename, self.topics, strict=self.strict_topics)

    def deploy(
        self,
        actor: Actor,
        files: Sequence[tuple[str, bytes]],
        *,
        name: str | None = None,
        source: str | None = None,
        version_tag: str | None = None,
        note: str | None = None,
        duplicate_filtering: bool = True,
    ) -> DeployResult:
        """Deploy every process of every file, or nothing: a bad file refuses the whole batch."""
        if not actor.is_admin:
            raise PermissionDenied(
                "Only administrators deploy", "Hanya administrator yang dapat deploy"
            )
        if not files:
            raise DeployError([Problem("No BPMN file given", "Tidak ada berkas BPMN")])
        parsed: list[ParsedDiagram] = []
        problems: list[Problem] = []
        for filename, data in files:
            try:
                parsed.append(self.parse(filename, data))
            except DeployError as e:
                problems.extend(e.problems)
        if problems:
            raise DeployError(problems, files[0][0] if len(files) == 1 else None)
        keys = [p.key for d in parsed for p in d.processes]
        dupes = {k for k in keys if keys.count(k) > 1}
        if dupes:
            raise DeployError(
                [
                    Problem(
                        f"Process '{k}' appears in more than one file",
                        f"Proses '{k}' muncul di lebih dari satu berkas",
                    )
                    for k in dupes
                ]
            )
        warnings = [w for d in parsed for w in d.warnings]
        now = self.now()
        try:
            with self.sessions.begin() as s:
                agency = self.agency(s, actor.agency)
                result_rows: list[tuple[ParsedDiagram, Any, ProcessDefinition | None]] = []
                for diagram in parsed:
                    for proc in diagram.processes:
                        latest = s.scalar(
                            select(ProcessDefinition)
                            .where(
                                ProcessDefinition.agency_id == agency.id,
                                ProcessDefinition.key == proc.key,
                            )
                            .order_by(ProcessDefinition.version.desc())
                            .limit(1)
                        )
                        result_rows.append((diagram, proc, latest))
                changed = [
                    r
                    for r in result_rows
                    if not (
                        duplicate_filtering
                        and r[2] is not None
                        and r[2].sha256 == r[0].sha256
                        and (version_tag is None or r[2].version_tag == version_tag)
                    )
                ]
                if not changed:
                    unchanged = [r[2] for r in result_rows if r[2] is not None]
                    dep = s.get(Deployment, unchanged[0].deployment_id)
                    assert dep is not None
                    return DeployResult(deployment=dep, unchanged=unchanged, warnings=warnings)
                dep = Deployment(
                    agency_id=agency.id,
                    name=name or parsed[0].filename,
                    source=source,
                    note=note,
                    deployed_by=actor.username,
                    deployed_at=now,
                )
                s.add(dep)
                s.flush()
                result = DeployResult(deployment=dep, warnings=warnings)
                for diagram, proc, latest in result_rows:
                    if (diagram, proc, latest) not in changed:
                        assert latest is not None
                        result.unchanged.append(latest)
                        continue
                    version = (latest.version if latest else 0) + 1
                    d = ProcessDefinition(
                        id=f"{proc.key}:{version}:{new_id()}",
                        agency_id=agency.id,
                        deployment_id=dep.id,
                        key=proc.key,
                        name=proc.name,
                        version=version,
                        version_tag=version_tag or proc.version_tag,
                        resource_name=diagram.filename,
                        sha256=diagram.sha256,
                        xml=diagram.xml.decode("utf-8"),
                        spec_json=self.serializer.dump_spec(proc.spec, proc.subprocess_specs),
                        forms={k: f.as_dict() for k, f in proc.forms.items()},
                        start_form=proc.start_form.as_dict(),
                        topics=sorted(proc.topics),
                        properties=proc.properties,
                        history_ttl=proc.history_ttl,
                        activation=self._next_activation(s, agency.id, proc.key),
                        activated_at=now,
                        created_at=now,
                    )
                    s.add(d)
                    result.deployed.append(d)
                    self._history(
                        s,
                        agency.id,
                        "definition_deployed",
                        actor.username,
                        data={
                            "definition_id": d.id,
                            "key": d.key,
                            "version": version,
                            "version_tag": d.version_tag,
                            "note": note,
                        },
                    )
                s.flush()
                return result
        except IntegrityError:
            raise Conflict(
                "Another deployment of the same process happened at the same time; retry",
                "Deployment lain untuk proses yang sama terjadi bersamaan; ulangi",
            )

    @staticmethod
    def _next_activation(s: Session, agency_id: int, key: str) -> int:
        top = s.scalar(
            select(func.max(ProcessDefinition.activation)).where(
                ProcessDefinition.agency_id == agency_id, ProcessDefinition.key == key
            )
        )
        return (top or 0) + 1

    def definitions(self, actor: Actor, key: str | None = None) -> list[ProcessDefinition]:
        access.require(actor, Permission.READ_DEFINITIONS)
        with self.sessions() as s:
            agency = self.agency(s, actor.agency)
            q = select(ProcessDefinition).where(ProcessDefinition.agency_id == agency.id)
            if key:
                q = q.where(ProcessDefinition.key == key)
            return list(s.scalars(q.order_by(ProcessDefinition.key, ProcessDefinition.version)))

    def _current(self, s: Session, agency_id: int, key: str) -> ProcessDefinition:
        d = s.scalar(
            select(ProcessDefinition)
            .where(
                ProcessDefinition.agency_id == agency_id,
                ProcessDefinition.key == key,
                ProcessDefinition.suspended.is_(False),
            )
            .order_by(ProcessDefinition.activation.desc())
            .limit(1)
        )
        if d is None:
            raise NotFound(
                f"No active process definition '{key}'",
                f"Tidak ada definisi proses aktif '{key}'",
                key=key,
            )
        return d

    def current_definition(self, actor: Actor, key: str) -> ProcessDefinition:
        access.require(actor, Permission.READ_DEFINITIONS)
        with self.sessions() as s:
            return self._current(s, self.agency(s, actor.agency).id, key)

    def get_definition(self, actor: Actor, definition_id: str) -> ProcessDefinition:
        access.require(actor, Permission.READ_DEFINITIONS)
        with self.sessions() as s:
            return self._definition(s, self.agency(s, actor.agency).id, definition_id)

    def _definition(self, s: Session, agency_id: int, definition_id: str) -> ProcessDefinition:
        d = s.get(ProcessDefinition, definition_id)
        if d is None or d.agency_id != agency_id:
            raise NotFound(
                f"Process definition '{definition_id}' not found",
                f"Definisi proses '{definition_id}' tidak ditemukan",
            )
        return d

    def activate(self, actor: Actor, definition_id: str) -> ProcessDefinition:
        """Make a version the one new instances start on (rollback); running ones keep theirs."""
        if not actor.is_admin:
            raise PermissionDenied(
                "Only administrators change the active version",
                "Hanya administrator yang dapat mengganti versi aktif",
            )
        with self.sessions.begin() as s:
            agency = self.agency(s, actor.agency)
            d = self._definition(s, agency.id, definition_id)
            d.activation = self._next_activation(s, agency.id, d.key)
            d.activated_at = self.now()
            d.suspended = False
            self._history(
                s,
                agency.id,
                "definition_activated",
                actor.username,
                data={"definition_id": d.id, "key": d.key, "version": d.version},
            )
            return d

    # ------------------------------------------------------------------ instances
    def _next_business_key(self, agency_code: str) -> str:
        """The next generated key of the agency, ``<CODE>/<YYYY>/<NNNNNN>``.

        The number is taken and committed in its own short transaction, which the caller must
        not be inside of (on SQLite the start's transaction would hold the single write lock):
        a start that fails afterwards (a bad form, a conflict) cannot roll it back, so no number
        is ever handed out twice and numbers only grow; a failed start leaves a gap. A number
        whose key a request of the agency already has (a key chosen before chosen keys were
        refused the generated shape) is skipped."""
        with self.sessions.begin() as s:
            agency = self.agency(s, agency_code)
            year = self.calendar(s, agency).local_date(self.now()).year
            for _ in range(100):
                number = self._next_sequence_value(s, agency.id, year)
                key = generated_key(agency.code, year, number)
                taken = s.scalar(
                    select(ProcessInstance.id)
                    .where(
                        ProcessInstance.agency_id == agency.id,
                        ProcessInstance.business_key == key,
                    )
                    .limit(1)
                )
                if taken is None:
                    return key
        raise Conflict(
            "Could not allocate a business key",
            "Gagal membuat nomor permohonan",
            agency=agency_code,
        )

    @staticmethod
    def _next_sequence_value(s: Session, agency_id: int, year: int) -> int:
        for _ in range(5):
            res = s.execute(
                update(BusinessKeySequence)
                .where(BusinessKeySequence.agency_id == agency_id, BusinessKeySequence.year == year)
                .values(last_value=BusinessKeySequence.last_value + 1)
                .returning(BusinessKeySequence.last_value)
            ).scalar()
            if res is not None:
                return int(res)
            try:
                with s.begin_nested():
                    s.add(BusinessKeySequence(agency_id=agency_id, year=year, last_value=0))
            except IntegrityError:
                pass  # another start created the row first: increment it
        raise Conflict("Could not allocate a business key", "Gagal membuat nomor permohonan")

    def start(
        self,
        actor: Actor,
        key: str | None = None,
        *,
        definition_id: str | None = None,
        values: Mapping[str, Any] | None = None,
        variables: Mapping[str, Any] | None = None,
        business_key: str | None = None,
        message: str | None = None,
    ) -> ProcessInstance:
        """Start an instance; ``values`` are checked against the start form. ``variables`` are
        taken as given (names must still be plain identifiers) from integrations,
        administrators and the system, and for a process without a start form; a person's
        variables for a process with one (REST ``start`` / ``submit-form``) are form values like
        the UI's, so nobody files a request with a decision (``approved``) already made. With
        ``message`` the instance starts through its message start event.

        A chosen ``business_key`` must pass :func:`engine.business_keys.check_chosen` (never the
        generated shape) and be unused in the agency; without one the next generated key is
        taken first, in its own transaction (see :meth:`_next_business_key`)."""
        if not actor.system:
            access.require(actor, Permission.START)
        _check_names(variables or {})
        if business_key is not None:
            check_chosen(business_key)
        bk = business_key or self._next_business_key(actor.agency)
        try:
            with self.sessions.begin() as s:
                agency = self.agency(s, actor.agency)
                if definition_id:
                    d = self._definition(s, agency.id, definition_id)
                elif key:
                    d = self._current(s, agency.id, key)
                else:
                    raise NotFound("No process given", "Proses tidak disebutkan")
                if d.suspended:
                    raise Suspended("This version is suspended", "Versi ini ditangguhkan")
                form = Form.from_dict(d.start_form)
                if variables and form and not access.trusted_inputs(actor):
                    values = {**dict(variables), **dict(values or {})}
                    variables = None
                given = variables and values is None  # an integration's inputs, as given
                clean = form.validate(values or {}) if (form or values) and not given else {}
                data = {**copy.deepcopy(dict(variables or {})), **copy.deepcopy(clean)}
                initiator = d.properties.get("initiator")
                if initiator:
                    data[initiator] = actor.username
                spec, subs = self.serializer.load_spec(d.id, d.spec_json)
                engine = self.script_engine(s, agency)
                wf = BpmnWorkflow(spec, subs, script_engine=engine)
                for t in wf.get_tasks(state=TaskState.READY):
                    t.data.update(copy.deepcopy(data))
                if message is not None:
                    wf.do_engine_steps()
                    if not self._deliver(wf, message, dict(variables or {})):
                        raise Conflict(
                            f"Process '{d.key}' has no message start event '{message}'",
                            f"Proses '{d.key}' tidak punya start event pesan '{message}'",
                        )
                inst = ProcessInstance(
                    id=new_id(),
                    agency_id=agency.id,
                    definition_id=d.id,
                    business_key=bk,
                    state="running",
                    state_json="",
                    variables={},
                    started_by=actor.username,
                    work_unit_id=actor.unit_id,
                    started_at=self.now(),
                )
                inst.definition = d
                sla = d.properties.get("sla")
                if sla:
                    inst.sla_due_at = self._eval_moment(engine, sla, data, agency)
                s.add(inst)
                s.flush()
                self._history(
                    s,
                    agency.id,
                    "instance_started",
                    actor.username,
                    instance_id=inst.id,
                    data={"values": clean, "definition_id": d.id, "business_key": bk},
                )
                self._advance(s, agency, inst, wf, actor.username)
                return inst
        except IntegrityError as e:
            # unique per agency: the key is used in the caller's own agency, nothing else is
            # said (what other agencies file is neither a conflict nor to be learnt here)
            if business_key is not None and "business_key" in str(e.orig):
                raise BusinessKeyTaken(business_key) from None
            raise Conflict(
                f"The new request {bk} could not be saved; retry",
                f"Permohonan baru {bk} tidak dapat disimpan; coba lagi",
            ) from None

    def _eval_moment(
        self, engine: SafeScriptEngine, text: str, data: Mapping[str, Any], agency: Agency
    ) -> datetime | None:
        value: Any = text
        if is_juel(text):
            value = engine.evaluate_data(text, dict(data))
        if isinstance(value, str) and value.upper().startswith("P"):
            return engine.timer_due("duration", value)
        return _as_datetime(value, engine.calendar.tz)

    def _load(self, s: Session, inst: ProcessInstance, agency: Agency) -> BpmnWorkflow:
        """The instance's workflow: the live object this process saved last, if nobody has
        written since (same ``lock_version``), else deserialized from the stored state."""
        with self._cal_lock:
            cached = self._workflows.pop(inst.id, None)
        if cached is not None and cached[0] == inst.lock_version:
            wf = cached[1]
        else:
            did = inst.definition_id
            spec, subs = self.serializer.load_spec(
                did, lambda: self._definition_row(s, did).spec_json
            )
            wf = self.serializer.load_state(inst.state_json, spec, subs)
        wf.script_engine = self.script_engine(s, agency)
        return wf

    def _keep(self, inst: ProcessInstance, wf: BpmnWorkflow) -> None:
        """After a successful commit only: a failed step must never leave its object behind."""
        if self.settings.workflow_cache <= 0 or inst.state != "running":
            return
        with self._cal_lock:
            self._workflows[inst.id] = (inst.lock_version, wf)
            self._workflows.move_to_end(inst.id)
            while len(self._workflows) > self.settings.workflow_cache:
                self._workflows.popitem(last=False)

    def _definition_row(self, s: Session, definition_id: str) -> ProcessDefinition:
        d = s.get(ProcessDefinition, definition_id)
        assert d is not None
        return d

    def _meta(self, s: Session, definition_id: str) -> dict[str, Any]:
        """Key and properties of a definition: immutable once deployed, so cached forever."""
        meta = self._definitions.get(definition_id)
        if meta is None:
            d = self._definition_row(s, definition_id)
            meta = {
                "key": d.key,
                "properties": dict(d.properties or {}),
                "topics": list(d.topics or []),
            }
            self._definitions[definition_id] = meta
        return meta

    def _instance(
        self,
        s: Session,
        agency_id: int | None,
        instance_id: str,
        lock: bool = False,
        *,
        actor: Actor | None = None,
    ) -> ProcessInstance:
        """The instance of the agency; with ``actor``, only if that actor may read it (the same
        404 as for an id that does not exist, so nothing tells the two apart)."""
        q = select(ProcessInstance).where(ProcessInstance.id == instance_id)
        if actor is not None and not actor.is_admin:
            q = q.where(access.instance_filter(actor))
        if lock and self._is_pg(s):
            q = q.with_for_update(of=ProcessInstance)
        inst = s.scalar(q)
        if inst is None or (agency_id is not None and inst.agency_id != agency_id):
            raise NotFound(
                f"Process instance '{instance_id}' not found",
                f"Instance proses '{instance_id}' tidak ditemukan",
            )
        return inst

    def _with_instance(self, fn: Callable[[], T]) -> T:
        """Retry an action that re-reads everything it needs when a concurrent save won."""
        for attempt in range(self.settings.conflict_retries):
            try:
                return fn()
            except StaleDataError:
                if attempt == self.settings.conflict_retries - 1:
                    break
                time.sleep(0.005 * (attempt + 1))
        raise Conflict(
            "The request was changed by someone else at the same time; reload and retry",
            "Permohonan diubah orang lain pada saat yang sama; muat ulang lalu coba lagi",
        )

    def _advance(
        self,
        s: Session,
        agency: Agency,
        inst: ProcessInstance,
        wf: BpmnWorkflow,
        actor: str | None,
        refresh_timers: bool = False,
        since: float = 0.0,
    ) -> None:
        waiting_timers = {
            t.id: t
            for t in _tasks(wf, TaskState.WAITING)
            if isinstance(getattr(t.task_spec, "event_definition", None), TimerEventDefinition)
        }
        try:
            if refresh_timers:
                wf.refresh_timers()
            wf.do_engine_steps()
        except SpiffWorkflowException as e:
            raise self._workflow_error(e)
        for tid, t in waiting_timers.items():
            if t.state not in (TaskState.WAITING, TaskState.CANCELLED):
                self._history(
                    s,
                    agency.id,
                    "timer_fired",
                    "timer",
                    instance_id=inst.id,
                    element_id=t.task_spec.bpmn_id,
                    task_id=str(tid),
                )
        self._sync(s, agency, inst, wf, since)
        s.info.setdefault(_KEEP, []).append((self, inst, wf))  # see _after_commit
        inst.state_json = self.serializer.dump_state(wf)
        s.flush()

    def _workflow_error(self, e: Exception) -> WorkflowError:
        task = getattr(e, "task", None)
        element = getattr(getattr(task, "task_spec", None), "bpmn_id", None) if task else None
        cause = getattr(e, "exception", None)
        msg = str(cause) if isinstance(cause, SopflowError) else public(str(e))
        return WorkflowError(
            f"The process cannot continue at '{element}': {msg}",
            f"Proses tidak dapat berlanjut di '{element}': {msg}",
            element_id=element,
        )

    def _sync(
        self, s: Session, agency: Agency, inst: ProcessInstance, wf: BpmnWorkflow, since: float
    ) -> None:
        """Project the workflow onto inbox, job queue, timers, SLA and variables."""
        now = self.now()
        engine: SafeScriptEngine = wf.script_engine
        tz = engine.calendar.tz
        open_rows = {
            h.id: h
            for h in s.scalars(
                select(HumanTask)
                .options(lazyload(HumanTask.candidates))
                .where(HumanTask.instance_id == inst.id, HumanTask.state == "open")
            )
        }
        # a definition without service tasks never has jobs: skip the query
        job_rows = (
            {
                j.id: j
                for j in s.scalars(select(ExternalTask).where(ExternalTask.instance_id == inst.id))
            }
            if self._meta(s, inst.definition_id)["topics"]
            else {}
        )
        steps: list[str] = []
        ready = [t for t in _tasks(wf, TaskState.READY) if _is_human(t)]
        for t in ready:
            tid = str(t.id)
            steps.append(t.task_spec.bpmn_name or t.task_spec.bpmn_id)
            if open_rows.pop(tid, None) is not None:
                continue
            self._create_human_task(s, agency, inst, t, engine, tz, now)
        for row in open_rows.values():
            row.state = "cancelled"
            row.completed_at = now
            self._history(
                s,
                agency.id,
                "task_cancelled",
                None,
                instance_id=inst.id,
                element_id=row.element_id,
                task_id=row.id,
            )
        started = [
            t for t in _tasks(wf, TaskState.STARTED) if isinstance(t.task_spec, ExternalServiceTask)
        ]
        for t in started:
            tid = str(t.id)
            steps.append(t.task_spec.bpmn_name or t.task_spec.bpmn_id)
            if job_rows.pop(tid, None) is not None:
                continue
            inputs = self._inputs(t, engine)
            s.add(
                ExternalTask(
                    id=tid,
                    agency_id=agency.id,
                    instance_id=inst.id,
                    element_id=t.task_spec.bpmn_id,
                    topic=t.task_spec.topic,
                    state="available",
                    variables=_plain(inputs),
                    available_at=now,
                    retries=t.task_spec.retries,
                    retry_interval=t.task_spec.retry_interval,
                    attempts=0,
                    priority=int(t.task_spec.priority)
                    if (t.task_spec.priority or "").isdigit()
                    else 0,
                    created_at=now,
                )
            )
            self._history(
                s,
                agency.id,
                "job_created",
                None,
                instance_id=inst.id,
                element_id=t.task_spec.bpmn_id,
                task_id=tid,
                data={"topic": t.task_spec.topic},
            )
        for job in job_rows.values():
            s.delete(job)
            s.execute(
                update(Incident)
                .where(Incident.external_task_id == job.id, Incident.resolved_at.is_(None))
                .values(resolved_at=now, resolved_by="engine")
            )
        # timers and SLA: the clock runs while a subprocess carrying a timer boundary is active;
        # a return to the applicant re-arms that timer, which restarts the clock.
        dues: list[datetime] = []
        armed: list[datetime] = []
        for t in _tasks(wf, TaskState.WAITING):
            due = self._timer_due(t)
            if due is None:
                continue
            dues.append(due)
            attached = self._attached_to(t)
            if attached is not None and isinstance(attached.task_spec, SubWorkflowTask):
                armed.append(due)
        if armed:
            due = min(armed)
            if inst.sla_due_at != due:
                if inst.sla_due_at is not None:
                    self._history(
                        s,
                        agency.id,
                        "sla_restarted",
                        None,
                        instance_id=inst.id,
                        data={"previous_due": inst.sla_due_at, "due": due},
                    )
                inst.sla_due_at = due
                inst.sla_breached_at = None
            inst.sla_stopped_at = None
        elif (
            inst.sla_due_at is not None
            and inst.sla_stopped_at is None
            and not self._meta(s, inst.definition_id)["properties"].get("sla")
            and not self._sla_running(wf)
        ):
            self._stop_sla(s, agency, inst, now)
        if inst.sla_due_at and inst.sla_breached_at is None and inst.sla_stopped_at is None:
            if now >= inst.sla_due_at:
                inst.sla_breached_at = now
                self._history(
                    s,
                    agency.id,
                    "sla_breached",
                    "timer",
                    instance_id=inst.id,
                    data={"due": inst.sla_due_at},
                )
            else:
                dues.append(inst.sla_due_at)
        inst.next_timer_at = min(dues) if dues else None
        inst.current_step = ", ".join(dict.fromkeys(steps))[:500] or None
        waiting = sorted(
            {
                t.task_spec.event_definition.name
                for t in _tasks(wf, TaskState.WAITING)
                if isinstance(
                    getattr(t.task_spec, "event_definition", None), MessageEventDefinition
                )
            }
        )
        inst.waiting_messages = f",{','.join(waiting)}," if waiting else None
        inst.variables = _plain(self._variables(wf, inst.variables or {}, since))
        if wf.is_completed() and inst.state == "running":
            inst.state = "completed"
            inst.ended_at = now
            if inst.sla_due_at is not None and inst.sla_stopped_at is None:
                self._stop_sla(s, agency, inst, now)
            inst.next_timer_at = None
            self._history(s, agency.id, "instance_completed", None, instance_id=inst.id)

    def _create_human_task(
        self,
        s: Session,
        agency: Agency,
        inst: ProcessInstance,
        t: Any,
        engine: SafeScriptEngine,
        tz: Any,
        now: datetime,
    ) -> None:
        spec = t.task_spec
        data = dict(t.data)

        def ev(text: str | None) -> Any:
            if not text:
                return None
            return engine.evaluate_data(text, data) if is_juel(text) else text

        groups = list(getattr(spec, "candidate_groups", []))
        users = list(getattr(spec, "candidate_users", []))
        groups = [str(g) for x in groups for g in ([ev(x)] if is_juel(x) else [x]) if g]
        users = [str(u) for x in users for u in ([ev(x)] if is_juel(x) else [x]) if u]
        assignee = ev(getattr(spec, "assignee", None))
        due = None
        deadlines = self._deadlines(t)
        if deadlines:
            due = min(deadlines)
        elif getattr(spec, "due_date", None):
            due = self._eval_moment(engine, spec.due_date, data, agency)
        follow = getattr(spec, "follow_up", None)
        prio = ev(getattr(spec, "priority", None))
        row = HumanTask(
            id=str(t.id),
            agency_id=agency.id,
            instance_id=inst.id,
            element_id=spec.bpmn_id,
            name=spec.bpmn_name,
            lane=spec.lane,
            state="open",
            assignee=str(assignee) if assignee else None,
            form=getattr(spec, "form", None) or {"fields": []},
            priority=int(prio) if str(prio or "").isdigit() else 50,
            created_at=now,
            due_at=due,
            follow_up_at=self._eval_moment(engine, follow, data, agency) if follow else None,
        )
        row.candidates = [TaskCandidate(kind="group", value=g) for g in dict.fromkeys(groups)] + [
            TaskCandidate(kind="user", value=u) for u in dict.fromkeys(users)
        ]
        s.add(row)
        self._history(
            s,
            agency.id,
            "task_created",
            None,
            instance_id=inst.id,
            element_id=spec.bpmn_id,
            task_id=row.id,
            data={"candidate_groups": groups, "assignee": row.assignee, "due": due},
        )

    @staticmethod
    def _timer_due(t: Any) -> datetime | None:
        definition = getattr(t.task_spec, "event_definition", None)
        if not isinstance(definition, TimerEventDefinition):
            return None
        value = t._get_internal_data("event_value")
        if isinstance(value, dict):
            value = value.get("next") if value.get("cycles") != 0 else None
        if not value:
            return None
        return datetime.fromisoformat(value)

    def _deadlines(self, t: Any) -> list[datetime]:
        """Timers on the task and on every enclosing subprocess: the nearest is the task's due."""
        out: list[datetime] = []
        current = t
        top = t.workflow.top_workflow
        while current is not None:
            out += [d for d in (self._timer_due(b) for b in self._boundaries(current)) if d]
            parent_id = current.workflow.parent_task_id
            current = top.get_task_from_id(parent_id) if parent_id is not None else None
        return out

    @staticmethod
    def _boundaries(t: Any) -> list[Any]:
        parent = t.parent
        if parent is None or not parent.task_spec.name.endswith(".BoundaryEventSplit"):
            return []
        return [c for c in parent.children if c is not t and c.state == TaskState.WAITING]

    @staticmethod
    def _attached_to(t: Any) -> Any:
        parent = t.parent
        if parent is None or not parent.task_spec.name.endswith(".BoundaryEventSplit"):
            return None
        return next(
            (
                c
                for c in parent.children
                if not isinstance(c.task_spec, CatchingEvent)
                or c.task_spec.__class__.__name__ != "BoundaryEvent"
            ),
            None,
        )

    def _inputs(self, t: Any, engine: SafeScriptEngine) -> dict[str, Any]:
        data = dict(t.data)
        out: dict[str, Any] = {}

        def ev(text: str) -> Any:
            return engine.evaluate_data(text, data) if ("${" in text or "#{" in text) else text

        try:
            for name, kind, value in t.task_spec.input_parameters:
                if kind == "list":
                    out[name] = [ev(v) for v in value]
                elif kind == "map":
                    out[name] = {k: ev(v) for k, v in value.items()}
                else:
                    out[name] = ev(value)
        except ExpressionError as e:
            raise WorkflowError(
                f"Input mapping of '{t.task_spec.bpmn_id}' failed: {e.message_en}",
                f"Pemetaan input '{t.task_spec.bpmn_id}' gagal: {e.message_id}",
                element_id=t.task_spec.bpmn_id,
            )
        return out

    def _stop_sla(self, s: Session, agency: Agency, inst: ProcessInstance, now: datetime) -> None:
        inst.sla_stopped_at = now
        on_time = inst.sla_due_at is not None and now <= inst.sla_due_at
        self._history(
            s,
            agency.id,
            "sla_stopped",
            None,
            instance_id=inst.id,
            data={"due": inst.sla_due_at, "on_time": on_time},
        )

    @staticmethod
    def _sla_running(wf: BpmnWorkflow) -> bool:
        """Is a subprocess that carries a timer boundary (an SLA scope) still active?"""
        for t in _tasks(wf, TaskState.READY | TaskState.STARTED | TaskState.WAITING):
            if not isinstance(t.task_spec, SubWorkflowTask):
                continue
            parent = t.parent
            if (
                parent is not None
                and parent.task_spec.name.endswith(".BoundaryEventSplit")
                and any(
                    isinstance(getattr(c.task_spec, "event_definition", None), TimerEventDefinition)
                    for c in parent.children
                )
            ):
                return True
        return False

    @staticmethod
    def _variables(wf: BpmnWorkflow, previous: Mapping[str, Any], since: float) -> dict[str, Any]:
        """Process variables as Camunda keeps them: one scope, each step writing what it changed.

        SpiffWorkflow copies data into every branch, so a branch that finishes late carries old
        copies of values others changed meanwhile; applying only each touched task's own changes
        (against its parent's data), in the order they happened, keeps the newest value."""
        merged = dict(previous)
        touched = [
            t
            for w in _all_workflows(wf)
            for t in w.tasks.values()
            if t.last_state_change >= since
            and t.state
            in (TaskState.COMPLETED, TaskState.READY, TaskState.STARTED, TaskState.WAITING)
        ]
        for t in sorted(touched, key=lambda t: t.last_state_change):
            if t.parent is None:
                merged.update(_plain(t.data))
            else:
                merged.update(_plain(DeepMerge.get_updated_keys(t.parent.data, t.data)))
        return merged

    # ------------------------------------------------------------------ queries
    def get_instance(self, actor: Actor, instance_id: str) -> ProcessInstance:
        with self.sessions() as s:
            inst = self._instance(s, self.agency(s, actor.agency).id, instance_id, actor=actor)
            inst.definition  # noqa: B018 - loaded now: callers read it after the session
            inst.state_json  # noqa: B018
            return inst

    def instance_by_business_key(self, actor: Actor, business_key: str) -> ProcessInstance:
        with self.sessions() as s:
            agency = self.agency(s, actor.agency)
            inst = s.scalar(
                select(ProcessInstance)
                .options(_WITH_DEFINITION)
                .where(
                    ProcessInstance.business_key == business_key,
                    ProcessInstance.agency_id == agency.id,
                    access.instance_filter(actor),
                )
            )
            if inst is None:
                raise NotFound(
                    f"Request '{business_key}' not found",
                    f"Permohonan '{business_key}' tidak ditemukan",
                )
            return inst

    def instances(
        self,
        actor: Actor,
        *,
        state: str | None = None,
        key: str | None = None,
        limit: int = 200,
        mine: bool = False,
    ) -> list[ProcessInstance]:
        """The requests ``actor`` may read, newest first; ``mine``: only those it answers for
        (filed by it or, for an applicant, by its work unit)."""
        with self.sessions() as s:
            agency = self.agency(s, actor.agency)
            q = (
                select(ProcessInstance)
                .options(_WITH_DEFINITION)
                .where(ProcessInstance.agency_id == agency.id, access.instance_filter(actor))
            )
            if mine:
                q = q.where(access.own_requests(actor))
            if state:
                q = q.where(ProcessInstance.state == state)
            if key:
                q = q.join(ProcessDefinition).where(ProcessDefinition.key == key)
            return list(s.scalars(q.order_by(ProcessInstance.started_at.desc()).limit(limit)))

    def all_instances(self, *, limit: int = 500) -> list[tuple[str, ProcessInstance]]:
        """Every agency's instances, for the operator's command line (``sopflow instances``)."""
        with self.sessions() as s:
            rows = s.execute(
                select(Agency.code, ProcessInstance)
                .options(_WITH_DEFINITION)
                .join(ProcessInstance, ProcessInstance.agency_id == Agency.id)
                .order_by(ProcessInstance.started_at.desc())
                .limit(limit)
            ).all()
            return [(r[0], r[1]) for r in rows]

    def overdue_instances(self, actor: Actor) -> list[ProcessInstance]:
        with self.sessions() as s:
            agency = self.agency(s, actor.agency)
            return list(
                s.scalars(
                    select(ProcessInstance)
                    .options(_WITH_DEFINITION)
                    .where(
                        ProcessInstance.agency_id == agency.id,
                        access.instance_filter(actor),
                        ProcessInstance.state == "running",
                        ProcessInstance.sla_due_at < self.now(),
                        ProcessInstance.sla_stopped_at.is_(None),
                    )
                    .order_by(ProcessInstance.sla_due_at)
                )
            )

    def inbox(
        self,
        actor: Actor,
        *,
        overdue: bool = False,
        include_assigned_to_others: bool = False,
        instance_id: str | None = None,
    ) -> list[HumanTask]:
        """Open tasks the actor may work on: assigned to them, or unassigned in their groups."""
        with self.sessions() as s:
            agency = self.agency(s, actor.agency)
            q = (
                select(HumanTask)
                .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
                .where(
                    HumanTask.agency_id == agency.id,
                    HumanTask.state == "open",
                    access.task_filter(actor),
                )
            )
            if instance_id:
                q = q.where(HumanTask.instance_id == instance_id)
            if not actor.is_admin and not include_assigned_to_others:
                # a colleague's claimed task is theirs; a task returned to the unit is the unit's
                q = q.where(
                    or_(
                        HumanTask.assignee.is_(None),
                        HumanTask.assignee == actor.username,
                        access.unit_task_condition(actor),
                    )
                )
            if overdue:
                q = q.where(HumanTask.due_at < self.now())
            return list(
                s.scalars(
                    q.order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at)
                )
            )

    def get_task(self, actor: Actor, task_id: str) -> HumanTask:
        with self.sessions() as s:
            return self._task(s, self.agency(s, actor.agency).id, task_id, actor=actor)

    def _task(
        self, s: Session, agency_id: int, task_id: str, *, actor: Actor | None = None
    ) -> HumanTask:
        """The task of the agency; with ``actor``, only if that actor may see it (else 404)."""
        q = select(HumanTask).options(joinedload(HumanTask.candidates))
        q = q.where(HumanTask.id == task_id, HumanTask.agency_id == agency_id)
        if actor is not None and not actor.is_admin:
            q = q.join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id).where(
                access.task_filter(actor)
            )
        t = s.scalars(q).unique().one_or_none()
        if t is None:
            raise NotFound(f"Task '{task_id}' not found", f"Tugas '{task_id}' tidak ditemukan")
        return t

    def history(self, actor: Actor, instance_id: str) -> list[HistoryEvent]:
        with self.sessions() as s:
            agency = self.agency(s, actor.agency)
            self._instance(s, agency.id, instance_id, actor=actor)
            return list(
                s.scalars(
                    select(HistoryEvent)
                    .where(HistoryEvent.instance_id == instance_id)
                    .order_by(HistoryEvent.id)
                )
            )

    def element_names(self, actor: Actor, definition_id: str) -> dict[str, str]:
        """Element id → the name the diagram gives it, across subprocesses, so timelines and
        reports speak the SOP's language rather than ids."""
        did = self.get_definition(actor, definition_id).id

        def spec_json() -> str:
            with self.sessions() as s:
                return self._definition_row(s, did).spec_json

        spec, subs = self.serializer.load_spec(did, spec_json)
        names: dict[str, str] = {}
        for process in (spec, *subs.values()):
            for task_spec in process.task_specs.values():
                label = getattr(task_spec, "bpmn_name", None)
                element = getattr(task_spec, "bpmn_id", None)
                if label and element:
                    names.setdefault(element, " ".join(str(label).split()))
        return names

    def element_states(self, actor: Actor, instance_id: str) -> tuple[set[str], set[str]]:
        """Element ids the instance has passed and those waiting now (user tasks, jobs, armed
        timers, awaited messages), read from its workflow state: the history names tasks and
        jobs only, not the gateways, events and end event a diagram should also mark."""
        with self.sessions() as s:
            agency = self.agency(s, actor.agency)
            inst = self._instance(s, agency.id, instance_id, actor=actor)
            did = inst.definition_id
            spec, subs = self.serializer.load_spec(
                did, lambda: self._definition_row(s, did).spec_json
            )
            # a fresh copy, never the live object a step may be using
            wf = self.serializer.load_state(inst.state_json, spec, subs)
        done: set[str] = set()
        waiting: set[str] = set()
        for task in wf.get_tasks():
            element = getattr(task.task_spec, "bpmn_id", None)
            if not element:
                continue
            if task.state == TaskState.COMPLETED:
                done.add(element)
            elif task.state in (TaskState.READY, TaskState.STARTED, TaskState.WAITING):
                waiting.add(element)
        return done - waiting, waiting

    # ------------------------------------------------------------------ human tasks
    def _is_candidate(self, s: Session, actor: Actor, t: HumanTask) -> bool:
        inst = self._instance(s, t.agency_id, t.instance_id)
        return access.may_work(actor, t, inst, held_ok=True)

    def claim(self, actor: Actor, task_id: str, user: str | None = None) -> HumanTask:
        with self.sessions.begin() as s:
            agency = self.agency(s, actor.agency)
            t = self._task(s, agency.id, task_id, actor=actor)
            if t.state != "open":
                raise Conflict("Task is already finished", "Tugas sudah selesai")
            if not self._is_candidate(s, actor, t):
                raise PermissionDenied(
                    "This task is not for your groups", "Tugas ini bukan untuk grup Anda"
                )
            target = user or actor.username
            if target != actor.username and not actor.is_admin:
                raise PermissionDenied(
                    "Only administrators assign tasks to others",
                    "Hanya administrator yang dapat menugaskan ke orang lain",
                )
            if t.assignee == target:
                return t
            if t.assignee and not actor.is_admin:
                raise TaskAlreadyClaimed(
                    f"Task is already claimed by {t.assignee}",
                    f"Tugas sudah diambil oleh {t.assignee}",
                )
            res = s.execute(
                update(HumanTask)
                .where(
                    HumanTask.id == t.id,
                    HumanTask.state == "open",
                    HumanTask.assignee.is_(None)
                    if not t.assignee
                    else HumanTask.assignee == t.assignee,
                )
                .values(assignee=target)
            )
            if _rowcount(res) != 1:
                raise TaskAlreadyClaimed(
                    "Someone else claimed the task first", "Tugas sudah diambil orang lain"
                )
            self._task_history(s, t, "task_claimed", actor.username, {"assignee": target})
            t.assignee = target
            return t

    def unclaim(self, actor: Actor, task_id: str) -> HumanTask:
        with self.sessions.begin() as s:
            agency = self.agency(s, actor.agency)
            t = self._task(s, agency.id, task_id, actor=actor)
            inst = self._instance(s, agency.id, t.instance_id)
            if not access.may_release(actor, t, inst):
                if access.is_unit_task(t, inst):
                    raise PermissionDenied(
                        "A task returned to a work unit stays with that unit",
                        "Tugas yang dikembalikan ke unit kerja tetap pada unit kerja itu",
                    )
                raise PermissionDenied(
                    "Only the assignee or an administrator can release the task",
                    "Hanya pemegang tugas atau administrator yang dapat melepasnya",
                )
            t.assignee = None
            self._task_history(s, t, "task_unclaimed", actor.username)
            return t

    def complete_task(
        self,
        actor: Actor,
        task_id: str,
        values: Mapping[str, Any] | None = None,
        *,
        allow_unknown: bool = False,
    ) -> ProcessInstance:
        """Validate the form on the server, complete the task and run to the next wait state."""

        def attempt() -> ProcessInstance:
            since = time.time()
            with self.sessions.begin() as s:
                agency = self.agency(s, actor.agency)
                ht = self._task(s, agency.id, task_id, actor=actor)
                if ht.state != "open":
                    raise Conflict(
                        "This task was already completed",
                        "Tugas ini sudah diselesaikan",
                        task_id=task_id,
                    )
                inst = self._instance(s, agency.id, ht.instance_id, lock=True)
                self._check_may_work(actor, ht, inst)
                wf = self._load(s, inst, agency)
                task = wf.get_task_from_id(UUID(task_id))
                if task is None or task.state != TaskState.READY:
                    raise Conflict(
                        "This task is no longer waiting", "Tugas ini tidak lagi menunggu"
                    )
                form = Form.from_dict(ht.form)
                clean = form.validate(
                    values or {},
                    current=task.data,
                    # a person answers the task's form and nothing more (a decision another
                    # role makes is not theirs to send along); a task without a form takes
                    # what a Camunda client sends, as Camunda does
                    allow_unknown=allow_unknown and (access.trusted_inputs(actor) or not form),
                )
                task.data.update(copy.deepcopy(clean))
                try:
                    task.run()
                except SpiffWorkflowException as e:
                    raise self._workflow_error(e)
                ht.state = "completed"
                ht.completed_at = self.now()
                ht.completed_by = actor.username
                self._task_history(s, ht, "task_completed", actor.username, {"values": clean})
                self._advance(s, agency, inst, wf, actor.username, since=since)
                return inst

        return self._with_instance(attempt)

    @staticmethod
    def _check_may_work(actor: Actor, ht: HumanTask, inst: ProcessInstance) -> None:
        if access.may_work(actor, ht, inst):
            return
        if ht.assignee and ht.assignee != actor.username:
            raise PermissionDenied(
                f"This task is claimed by {ht.assignee}",
                f"Tugas ini sedang dipegang {ht.assignee}",
                task_id=ht.id,
            )
        raise PermissionDenied(
            "This task is not for your groups", "Tugas ini bukan untuk grup Anda", task_id=ht.id
        )

    # ------------------------------------------------------------------ timers
    def fire_due_timers(self, limit: int = 100) -> int:
        """The poller's one step: ``refresh_timers`` then ``do_engine_steps`` on due instances."""
        now = self.now()
        with self.sessions() as s:
            ids = list(
                s.scalars(
                    select(ProcessInstance.id)
                    .where(ProcessInstance.state == "running", ProcessInstance.next_timer_at <= now)
                    .order_by(ProcessInstance.next_timer_at)
                    .limit(limit)
                )
            )
        fired = 0
        for iid in ids:
            try:
                if self._fire_instance(iid, now):
                    fired += 1
            except Conflict:
                continue  # someone else advanced it; the next poll sees the new due time
            except SopflowError as e:
                self._timer_incident(iid, e)
        return fired

    def _fire_instance(self, instance_id: str, now: datetime) -> bool:
        def attempt() -> bool:
            since = time.time()
            with self.sessions.begin() as s:
                q = select(ProcessInstance).where(
                    ProcessInstance.id == instance_id,
                    ProcessInstance.state == "running",
                    ProcessInstance.next_timer_at <= now,
                )
                if self._is_pg(s):
                    q = q.with_for_update(skip_locked=True, of=ProcessInstance)
                inst = s.scalar(q)
                if inst is None:
                    return False
                agency = s.get(Agency, inst.agency_id)
                assert agency is not None
                wf = self._load(s, inst, agency)
                self._advance(s, agency, inst, wf, "timer", refresh_timers=True, since=since)
                return True

        return self._with_instance(attempt)

    def _timer_incident(self, instance_id: str, err: SopflowError) -> None:
        with self.sessions.begin() as s:
            inst = s.get(ProcessInstance, instance_id)
            if inst is None:
                return
            inst.next_timer_at = None  # stop polling it until an admin retries
            s.add(
                Incident(
                    agency_id=inst.agency_id,
                    instance_id=inst.id,
                    kind="failedTimer",
                    element_id=err.context.get("element_id"),
                    message=str(err),
                    created_at=self.now(),
                )
            )
            self._history(
                s,
                inst.agency_id,
                "incident_created",
                "timer",
                instance_id=inst.id,
                data={"message": str(err)},
            )

    # ------------------------------------------------------------------ external tasks
    def fetch_and_lock(
        self,
        worker_id: str,
        topics: Sequence[TopicRequest],
        max_tasks: int = 1,
        *,
        agency: str | None = None,
        business_key: str | None = None,
        use_priority: bool = True,
        newest_first: bool = False,
        actor: Actor | None = None,
    ) -> list[LockedTask]:
        """Claim up to ``max_tasks`` jobs; a conditional UPDATE makes each claim atomic on any
        database, and SKIP LOCKED keeps PostgreSQL workers from queueing behind each other.

        Order: highest priority first (``use_priority``), then by creation time (oldest first
        unless ``newest_first``). Topics with filters (business key, definition keys, process
        variable values) are matched against the job's instance after the query."""
        if actor is not None:
            agency = actor.agency
            for t in topics:
                self._check_job_access(actor, t.topic)
        if not topics or max_tasks <= 0:
            return []
        by_topic = {t.topic: t for t in topics}
        filtered = any(t.filtered for t in topics)
        now = self.now()
        claimable = or_(
            (ExternalTask.state == "available") & (ExternalTask.available_at <= now),
            (ExternalTask.state == "locked") & (ExternalTask.lock_expires_at <= now),
        )
        with self.sessions.begin() as s:
            q = select(ExternalTask).where(ExternalTask.topic.in_(list(by_topic)), claimable)
            if agency is not None:
                q = q.where(ExternalTask.agency_id == self.agency(s, agency).id)
            if business_key is not None:
                q = q.join(ProcessInstance, ProcessInstance.id == ExternalTask.instance_id).where(
                    ProcessInstance.business_key == business_key
                )
            created = ExternalTask.created_at.desc() if newest_first else ExternalTask.created_at
            order = (ExternalTask.priority.desc(), created) if use_priority else (created,)
            q = q.order_by(*order, ExternalTask.id).limit(500 if filtered else max_tasks)
            if self._is_pg(s):
                q = q.with_for_update(skip_locked=True, of=ExternalTask)
            out: list[LockedTask] = []
            for job in s.scalars(q).all():
                if len(out) >= max_tasks:
                    break
                req = by_topic[job.topic]
                if req.filtered:
                    candidate = s.get(ProcessInstance, job.instance_id)
                    if candidate is None or not req.matches(
                        candidate, self._meta(s, candidate.definition_id)["key"]
                    ):
                        continue
                expires = now + timedelta(milliseconds=max(req.lock_duration_ms, 1))
                res = s.execute(
                    update(ExternalTask)
                    .where(ExternalTask.id == job.id, claimable)
                    .values(
                        state="locked",
                        worker_id=worker_id,
                        lock_expires_at=expires,
                        attempts=ExternalTask.attempts + 1,
                    )
                    .execution_options(synchronize_session=False)
                )
                if _rowcount(res) != 1:
                    continue
                inst = s.get(ProcessInstance, job.instance_id)
                ag = s.get(Agency, job.agency_id)
                assert inst is not None and ag is not None
                variables = (
                    dict(job.variables) if req.local_only else {**inst.variables, **job.variables}
                )
                if req.variables is not None:
                    variables = {k: v for k, v in variables.items() if k in req.variables}
                out.append(
                    LockedTask(
                        id=job.id,
                        topic=job.topic,
                        worker_id=worker_id,
                        agency=ag.code,
                        instance_id=inst.id,
                        business_key=inst.business_key,
                        definition_id=inst.definition_id,
                        definition_key=self._meta(s, inst.definition_id)["key"],
                        element_id=job.element_id,
                        variables=variables,
                        retries=job.retries,
                        attempts=job.attempts + 1,
                        lock_expires_at=expires,
                        priority=job.priority,
                        error_message=job.error_message,
                        retry_interval=job.retry_interval,
                    )
                )
            if actor is not None and not actor.system and agency is not None:
                # last, so its row locks are held only until the commit
                self.fetches.record(s, self.agency(s, agency).id, by_topic, worker_id, now)
            return out

    def _check_job_access(self, actor: Actor, topic: str, *, manage: bool = False) -> None:
        """A REST caller works jobs only as a ``worker`` (``manage``: or an administrator for
        unlock and retries), and never those of topics the built-in handlers work: a name check,
        a DNS change or a letter is not something a token may skip or forge."""
        if actor.system:
            return
        if not (manage and access.allowed(actor, Permission.MANAGE_JOBS)):
            access.require(actor, Permission.WORK_JOBS)
            if topic in self.builtin_topics:
                raise PermissionDenied(
                    f"Topic '{topic}' is worked by sopflow's built-in handlers",
                    f"Topic '{topic}' dikerjakan oleh handler bawaan sopflow",
                    topic=topic,
                )

    def _job(
        self,
        s: Session,
        task_id: str,
        agency: str | None,
        worker_id: str | None,
        lock: bool = False,
        *,
        actor: Actor | None = None,
        manage: bool = False,
    ) -> ExternalTask:
        q = select(ExternalTask).where(ExternalTask.id == task_id)
        if lock and self._is_pg(s):
            q = q.with_for_update(of=ExternalTask)
        job = s.scalar(q)
        if actor is not None:
            agency = actor.agency
        if job is None or (agency is not None and job.agency_id != self.agency(s, agency).id):
            raise NotFound(
                f"External task '{task_id}' not found", f"External task '{task_id}' tidak ditemukan"
            )
        if actor is not None:
            self._check_job_access(actor, job.topic, manage=manage)
        if worker_id is not None and (job.state != "locked" or job.worker_id != worker_id):
            raise NotLockedByWorker(
                f"External task '{task_id}' is not locked by worker '{worker_id}'",
                f"External task '{task_id}' tidak dikunci oleh worker '{worker_id}'",
            )
        return job

    def complete_external(
        self,
        worker_id: str,
        task_id: str,
        variables: Mapping[str, Any] | None = None,
        *,
        agency: str | None = None,
        actor: Actor | None = None,
    ) -> None:
        variables = _check_names(variables or {})

        def attempt() -> None:
            since = time.time()
            with self.sessions.begin() as s:
                job = self._job(s, task_id, agency, worker_id, lock=True, actor=actor)
                ag = s.get(Agency, job.agency_id)
                assert ag is not None
                inst = self._instance(s, None, job.instance_id, lock=True)
                wf = self._load(s, inst, ag)
                task = wf.get_task_from_id(UUID(task_id))
                if task is None or task.state != TaskState.STARTED:
                    raise Conflict(
                        "The service task is no longer waiting", "Service task tidak lagi menunggu"
                    )
                task.data.update(copy.deepcopy(variables))
                self._outputs(task, wf.script_engine, variables)
                try:
                    task.complete()
                except SpiffWorkflowException as e:
                    raise self._workflow_error(e)
                self._history(
                    s,
                    ag.id,
                    "job_completed",
                    worker_id,
                    instance_id=inst.id,
                    element_id=job.element_id,
                    task_id=job.id,
                    data={"topic": job.topic, "variables": variables},
                )
                self._advance(s, ag, inst, wf, worker_id, since=since)

        self._with_instance(attempt)

    def _outputs(self, task: Any, engine: SafeScriptEngine, variables: Mapping[str, Any]) -> None:
        for name, kind, value in task.task_spec.output_parameters:
            if kind == "text":
                task.data[name] = (
                    engine.evaluate_data(value, dict(task.data))
                    if ("${" in value or "#{" in value)
                    else value
                )

    def fail_external(
        self,
        worker_id: str,
        task_id: str,
        message: str,
        *,
        details: str | None = None,
        retries: int | None = None,
        retry_timeout_ms: int = 0,
        agency: str | None = None,
        actor: Actor | None = None,
    ) -> ExternalTask:
        """Record a failure: back to the queue after ``retry_timeout_ms`` or, when no retries
        are left, an incident that an administrator can retry."""
        with self.sessions.begin() as s:
            job = self._job(s, task_id, agency, worker_id, lock=True, actor=actor)
            now = self.now()
            left = (
                retries
                if retries is not None
                else max((job.retries or self.settings.default_retries) - 1, 0)
            )
            job.retries = left
            job.error_message = (message or "")[:4000]
            job.error_details = details[:65000] if details else None
            job.worker_id = None
            job.lock_expires_at = None
            if left <= 0:
                job.state = "incident"
                s.add(
                    Incident(
                        agency_id=job.agency_id,
                        instance_id=job.instance_id,
                        external_task_id=job.id,
                        element_id=job.element_id,
                        kind="failedExternalTask",
                        message=job.error_message,
                        details=job.error_details,
                        created_at=now,
                    )
                )
                self._history(
                    s,
                    job.agency_id,
                    "incident_created",
                    worker_id,
                    instance_id=job.instance_id,
                    element_id=job.element_id,
                    task_id=job.id,
                    data={"topic": job.topic, "message": job.error_message},
                )
            else:
                job.state = "available"
                job.available_at = now + timedelta(milliseconds=max(retry_timeout_ms, 0))
                self._history(
                    s,
                    job.agency_id,
                    "job_failed",
                    worker_id,
                    instance_id=job.instance_id,
                    element_id=job.element_id,
                    task_id=job.id,
                    data={"topic": job.topic, "message": job.error_message, "retries": left},
                )
            return job

    def bpmn_error_external(
        self,
        worker_id: str,
        task_id: str,
        code: str,
        message: str | None = None,
        variables: Mapping[str, Any] | None = None,
        *,
        agency: str | None = None,
        actor: Actor | None = None,
    ) -> bool:
        """Route a business error to the nearest boundary event catching ``code``.

        Returns False, and raises an incident instead, when nothing catches it: dropping the
        error would silently end the request."""
        variables = dict(variables or {})

        def attempt() -> bool:
            since = time.time()
            with self.sessions.begin() as s:
                job = self._job(s, task_id, agency, worker_id, lock=True, actor=actor)
                ag = s.get(Agency, job.agency_id)
                assert ag is not None
                inst = self._instance(s, None, job.instance_id, lock=True)
                wf = self._load(s, inst, ag)
                task = wf.get_task_from_id(UUID(task_id))
                if task is None or task.state != TaskState.STARTED:
                    raise Conflict(
                        "The service task is no longer waiting", "Service task tidak lagi menunggu"
                    )
                catcher = self._error_catcher(wf, task, code)
                if catcher is None:
                    job.state = "incident"
                    job.worker_id = None
                    job.error_message = f"Unhandled BPMN error {code}: {message or ''}".strip()
                    s.add(
                        Incident(
                            agency_id=ag.id,
                            instance_id=inst.id,
                            external_task_id=job.id,
                            element_id=job.element_id,
                            kind="unhandledBpmnError",
                            message=(
                                f"Tidak ada boundary event yang menangkap galat BPMN '{code}' / "
                                f"No boundary event catches BPMN error '{code}'"
                                + (f": {message}" if message else "")
                            ),
                            details=message,
                            created_at=self.now(),
                        )
                    )
                    self._history(
                        s,
                        ag.id,
                        "incident_created",
                        worker_id,
                        instance_id=inst.id,
                        element_id=job.element_id,
                        task_id=job.id,
                        data={"code": code, "message": message},
                    )
                    return False
                task.data.update(copy.deepcopy(variables))
                # Camunda sets only the variables the worker sent; code and message go to history
                event = BpmnEvent(ErrorEventDefinition(code, code=code), copy.deepcopy(variables))
                catcher.task_spec.catch(catcher, event)
                catcher.task_spec._update(catcher)
                self._history(
                    s,
                    ag.id,
                    "bpmn_error",
                    worker_id,
                    instance_id=inst.id,
                    element_id=job.element_id,
                    task_id=job.id,
                    data={"code": code, "message": message, "caught_by": catcher.task_spec.bpmn_id},
                )
                self._advance(s, ag, inst, wf, worker_id, since=since)
                return True

        return self._with_instance(attempt)

    @staticmethod
    def _error_catcher(wf: BpmnWorkflow, task: Any, code: str) -> Any:
        probe = BpmnEvent(ErrorEventDefinition(code, code=code))
        current = task
        while current is not None:
            for b in Engine._boundaries(current):
                definition = getattr(b.task_spec, "event_definition", None)
                if isinstance(definition, ErrorEventDefinition) and (
                    definition.code is None or definition.catches(b, probe)
                ):
                    return b
            parent_id = current.workflow.parent_task_id
            current = wf.get_task_from_id(parent_id) if parent_id is not None else None
        return None

    def extend_lock(
        self,
        worker_id: str,
        task_id: str,
        new_duration_ms: int,
        *,
        agency: str | None = None,
        actor: Actor | None = None,
    ) -> None:
        with self.sessions.begin() as s:
            job = self._job(s, task_id, agency, worker_id, lock=True, actor=actor)
            job.lock_expires_at = self.now() + timedelta(milliseconds=max(new_duration_ms, 1))

    def unlock(
        self, task_id: str, *, agency: str | None = None, actor: Actor | None = None
    ) -> None:
        with self.sessions.begin() as s:
            job = self._job(s, task_id, agency, None, lock=True, actor=actor, manage=True)
            if job.state == "locked":
                job.state = "available"
                job.worker_id = None
                job.lock_expires_at = None

    def external_tasks(
        self, actor: Actor, *, topic: str | None = None, instance_id: str | None = None
    ) -> list[ExternalTask]:
        """The agency's job queue for administrators; a worker sees the jobs of the topics it
        may work; a person who may read a request sees its jobs (``instance_id``)."""
        with self.sessions() as s:
            agency = self.agency(s, actor.agency)
            q = select(ExternalTask).where(ExternalTask.agency_id == agency.id)
            if instance_id and not access.allowed(actor, Permission.READ_JOBS):
                self._instance(s, agency.id, instance_id, actor=actor)
            else:
                access.require(actor, Permission.READ_JOBS)
            if not actor.is_admin and access.allowed(actor, Permission.WORK_JOBS):
                q = q.where(ExternalTask.topic.not_in(sorted(self.builtin_topics)))
            if topic:
                q = q.where(ExternalTask.topic == topic)
            if instance_id:
                q = q.where(ExternalTask.instance_id == instance_id)
            return list(s.scalars(q.order_by(ExternalTask.created_at)))

    # ------------------------------------------------------------------ incidents
    def incidents(self, actor: Actor, *, open_only: bool = True) -> list[Incident]:
        access.require(actor, Permission.MANAGE_JOBS)
        with self.sessions() as s:
            agency = self.agency(s, actor.agency)
            q = select(Incident).where(Incident.agency_id == agency.id)
            if open_only:
                q = q.where(Incident.resolved_at.is_(None))
            return list(s.scalars(q.order_by(Incident.created_at)))

    def retry_incident(
        self, actor: Actor, incident_id: str, retries: int | None = None
    ) -> Incident:
        if not actor.is_admin:
            raise PermissionDenied(
                "Only administrators retry incidents",
                "Hanya administrator yang dapat mengulang insiden",
            )
        with self.sessions.begin() as s:
            agency = self.agency(s, actor.agency)
            inc = s.get(Incident, incident_id)
            if inc is None or inc.agency_id != agency.id:
                raise NotFound("Incident not found", "Insiden tidak ditemukan")
            if inc.resolved_at is not None:
                raise Conflict("Incident is already resolved", "Insiden sudah diselesaikan")
            now = self.now()
            if inc.external_task_id:
                job = s.get(ExternalTask, inc.external_task_id)
                if job is not None:
                    job.retries = retries if retries is not None else self.settings.default_retries
                    _requeue(job, now)
            else:
                s.execute(
                    update(ProcessInstance)
                    .where(ProcessInstance.id == inc.instance_id)
                    .values(next_timer_at=now, lock_version=ProcessInstance.lock_version + 1)
                )
            self._resolve_incident(s, inc, actor, now)
            return inc

    def _resolve_incident(self, s: Session, inc: Incident, actor: Actor, now: datetime) -> None:
        inc.resolved_at = now
        inc.resolved_by = actor.username
        self._history(
            s,
            inc.agency_id,
            "incident_retried",
            actor.username,
            instance_id=inc.instance_id,
            element_id=inc.element_id,
            data={"incident_id": inc.id, "message": inc.message},
        )

    # ------------------------------------------------------------------ messages
    @staticmethod
    def _deliver(wf: BpmnWorkflow, name: str, variables: dict[str, Any]) -> bool:
        """Hand a message to the first event waiting for it; its variables join the process."""
        for t in _tasks(wf, TaskState.WAITING):
            definition = getattr(t.task_spec, "event_definition", None)
            if isinstance(definition, MessageEventDefinition) and definition.name == name:
                t.task_spec.catch(t, BpmnEvent(definition, payload=copy.deepcopy(variables)))
                t.task_spec._update(t)
                return True
        return False

    def correlate_message(
        self,
        actor: Actor,
        name: str,
        *,
        business_key: str | None = None,
        process_instance_id: str | None = None,
        variables: Mapping[str, Any] | None = None,
        all: bool = False,  # noqa: A002 - Camunda's parameter name
    ) -> list[ProcessInstance]:
        """Correlate a message as Camunda does: to the instance(s) waiting for it, or else start
        the process whose message start event has that name. No match is an error, never a
        silently dropped message. Only the requests ``actor`` may read wait for its messages:
        another one answers as if nothing waited (no way to move or probe it)."""
        variables = _check_names(variables or {})
        access.require(actor, Permission.CORRELATE)
        with self.sessions() as s:
            agency = self.agency(s, actor.agency)
            q = select(ProcessInstance.id).where(
                ProcessInstance.agency_id == agency.id,
                ProcessInstance.state == "running",
                access.instance_filter(actor),
                # a literal substring: '%', '_' and the escape character in a name match only
                # themselves, never other messages' waiting instances
                ProcessInstance.waiting_messages.contains(f",{name},", autoescape=True),
            )
            if business_key:
                q = q.where(ProcessInstance.business_key == business_key)
            if process_instance_id:
                q = q.where(ProcessInstance.id == process_instance_id)
            ids = list(s.scalars(q.order_by(ProcessInstance.started_at)))
            starters = []
            if not ids and not process_instance_id:
                for d in s.scalars(
                    select(ProcessDefinition).where(ProcessDefinition.agency_id == agency.id)
                ):
                    names = (d.properties or {}).get("message_starts", "").split(",")
                    if name in names and self._current(s, agency.id, d.key).id == d.id:
                        starters.append(d.id)
        if len(ids) > 1 and not all:
            raise Conflict(
                f"Message '{name}' matches {len(ids)} instances; narrow it or correlate all",
                f"Pesan '{name}' cocok dengan {len(ids)} instance; "
                "persempit atau korelasikan semua",
            )
        if not ids:
            if len(starters) == 1:
                return [
                    self.start(
                        actor,
                        definition_id=starters[0],
                        variables=variables,
                        business_key=business_key,
                        message=name,
                    )
                ]
            raise Conflict(
                f"Cannot correlate message '{name}': no process instance waits for it"
                + (" and several processes start with it" if starters else ""),
                f"Pesan '{name}' tidak dapat dikorelasikan: tidak ada instance yang menunggunya",
            )
        out = []
        for iid in ids:

            def attempt(iid: str = iid) -> ProcessInstance:
                since = time.time()
                with self.sessions.begin() as s:
                    agency = self.agency(s, actor.agency)
                    inst = self._instance(s, agency.id, iid, lock=True)
                    wf = self._load(s, inst, agency)
                    if not self._deliver(wf, name, variables):
                        raise Conflict(
                            f"Instance {inst.business_key} no longer waits for '{name}'",
                            f"Instance {inst.business_key} tidak lagi menunggu '{name}'",
                        )
                    self._history(
                        s,
                        agency.id,
                        "message_correlated",
                        actor.username,
                        instance_id=inst.id,
                        data={"message": name, "variables": variables},
                    )
                    self._advance(s, agency, inst, wf, actor.username, since=since)
                    return inst

            out.append(self._with_instance(attempt))
        return out

    # ------------------------------------------------------------------ instance changes
    def _may_change(self, s: Session, actor: Actor, inst: ProcessInstance) -> bool:
        """Who may rewrite an instance's variables: an administrator of its agency, or someone
        who may complete one of its open tasks now (the person handling a step may correct the
        data that step is about) — never someone else's claimed task, never another unit's."""
        if actor.is_admin:
            return True
        rows = s.scalars(
            select(HumanTask).where(HumanTask.instance_id == inst.id, HumanTask.state == "open")
        )
        return any(access.may_work(actor, t, inst) for t in rows)

    def cancel(self, actor: Actor, instance_id: str, reason: str | None = None) -> ProcessInstance:
        """End a running instance at once (Camunda's ``DELETE /process-instance``): open tasks
        are cancelled, its jobs leave the queue, timers and the SLA clock stop.

        Only an administrator of the agency or the user who started the instance may cancel it:
        cancelling discards the work of every participant, unlike correcting a variable."""

        def attempt() -> ProcessInstance:
            with self.sessions.begin() as s:
                agency = self.agency(s, actor.agency)
                if self._is_pg(s):  # jobs before the instance, as complete_external locks them
                    s.execute(
                        select(ExternalTask.id)
                        .where(ExternalTask.instance_id == instance_id)
                        .with_for_update()
                    ).all()
                inst = self._instance(s, agency.id, instance_id, lock=True, actor=actor)
                if not (actor.is_admin or (inst.started_by and inst.started_by == actor.username)):
                    raise PermissionDenied(
                        "Only an administrator or the applicant can cancel this request",
                        "Hanya administrator atau pemohon yang dapat membatalkan permohonan ini",
                    )
                if inst.state != "running":
                    raise Conflict("The request has already ended", "Permohonan sudah selesai")
                now = self.now()
                wf = self._load(s, inst, agency)
                wf.cancel()
                for ht in s.scalars(
                    select(HumanTask).where(
                        HumanTask.instance_id == inst.id, HumanTask.state == "open"
                    )
                ):
                    ht.state = "cancelled"
                    ht.completed_at = now
                    self._task_history(s, ht, "task_cancelled", actor.username)
                s.execute(delete(ExternalTask).where(ExternalTask.instance_id == inst.id))
                s.execute(
                    update(Incident)
                    .where(Incident.instance_id == inst.id, Incident.resolved_at.is_(None))
                    .values(resolved_at=now, resolved_by=actor.username)
                )
                if inst.sla_due_at is not None and inst.sla_stopped_at is None:
                    self._stop_sla(s, agency, inst, now)
                inst.state = "cancelled"
                inst.ended_at = now
                inst.next_timer_at = None
                inst.waiting_messages = None
                inst.current_step = None
                inst.state_json = self.serializer.dump_state(wf)
                self._history(
                    s,
                    agency.id,
                    "instance_cancelled",
                    actor.username,
                    instance_id=inst.id,
                    data={"reason": reason} if reason else None,
                )
                s.flush()
                with self._cal_lock:
                    self._workflows.pop(inst.id, None)
                return inst

        return self._with_instance(attempt)

    def set_variables(
        self,
        actor: Actor,
        instance_id: str,
        modifications: Mapping[str, Any] | None = None,
        deletions: Iterable[str] = (),
        *,
        task_id: str | None = None,
    ) -> ProcessInstance:
        """Set and remove process variables of a running instance (Camunda's variable PUT,
        POST ``{modifications, deletions}`` and DELETE) without moving it on.

        The values go into the data of every active step (waiting, ready or running), from
        which later steps inherit, so gateways and scripts downstream see them, and into the
        variables projection. With ``task_id`` the rules of that task apply (its candidates or
        assignee, else an administrator); otherwise those of :meth:`_may_change`. An instance the
        actor may not read is not found."""
        values = _check_names(modifications or {})
        removed = list(dict.fromkeys(deletions))
        _check_names(dict.fromkeys(removed))

        def attempt() -> ProcessInstance:
            with self.sessions.begin() as s:
                agency = self.agency(s, actor.agency)
                inst = self._instance(s, agency.id, instance_id, lock=True, actor=actor)
                if task_id is not None:
                    ht = self._task(s, agency.id, task_id, actor=actor)
                    if ht.state != "open" or ht.instance_id != instance_id:
                        raise NotFound(
                            f"Task '{task_id}' not found", f"Tugas '{task_id}' tidak ditemukan"
                        )
                    self._check_may_work(actor, ht, inst)
                if inst.state != "running":
                    raise NotFound(
                        f"Process instance '{instance_id}' has ended",
                        f"Instance proses '{instance_id}' sudah selesai",
                    )
                if task_id is None and not self._may_change(s, actor, inst):
                    raise PermissionDenied(
                        "You may not change this request's data",
                        "Anda tidak boleh mengubah data permohonan ini",
                    )
                wf = self._load(s, inst, agency)
                active = TaskState.READY | TaskState.STARTED | TaskState.WAITING
                for t in _tasks(wf, active):
                    t.data.update(copy.deepcopy(values))
                    for name in removed:
                        t.data.pop(name, None)
                projected = dict(inst.variables or {})
                projected.update(_plain(values))
                for name in removed:
                    projected.pop(name, None)
                inst.variables = projected
                inst.state_json = self.serializer.dump_state(wf)
                self._history(
                    s,
                    agency.id,
                    "variables_changed",
                    actor.username,
                    instance_id=inst.id,
                    task_id=task_id,
                    data={"set": sorted(values), "removed": removed},
                )
                s.flush()
                s.info.setdefault(_KEEP, []).append((self, inst, wf))
                return inst

        return self._with_instance(attempt)

    def set_job_retries(self, actor: Actor, task_id: str, retries: int) -> ExternalTask:
        """Camunda's ``PUT /external-task/{id}/retries``: with retries left, a job that had
        become an incident goes back to the queue and its incident is resolved."""
        if not actor.is_admin:
            raise PermissionDenied(
                "Only administrators set retries", "Hanya administrator yang mengatur ulang coba"
            )
        if retries < 0:
            raise SopflowError(
                "Retries must not be negative", "Jumlah ulang coba tidak boleh negatif"
            )
        with self.sessions.begin() as s:
            job = self._job(s, task_id, actor.agency, None, lock=True, actor=actor, manage=True)
            now = self.now()
            job.retries = retries
            if retries > 0 and job.state == "incident":
                _requeue(job, now)
                for inc in s.scalars(
                    select(Incident).where(
                        Incident.external_task_id == job.id, Incident.resolved_at.is_(None)
                    )
                ):
                    self._resolve_incident(s, inc, actor, now)
            s.flush()
            return job

    # ------------------------------------------------------------------ calendar
    def calendar_overrides(self, actor: Actor) -> list[CalendarOverride]:
        with self.sessions() as s:
            agency = self.agency(s, actor.agency)
            return list(
                s.scalars(
                    select(CalendarOverride)
                    .where(CalendarOverride.agency_id == agency.id)
                    .order_by(CalendarOverride.day)
                )
            )

    def set_calendar_override(
        self, actor: Actor, day: date, working: bool | None, note: str | None = None
    ) -> CalendarOverride | None:
        """Make ``day`` a working day (True), a day off (False), or follow the national
        calendar again (None). Deadlines already set keep their value; new ones use it."""
        if not actor.is_admin:
            raise PermissionDenied(
                "Only administrators change the calendar",
                "Hanya administrator yang dapat mengubah kalender",
            )
        with self.sessions.begin() as s:
            agency = self.agency(s, actor.agency)
            row = s.scalar(
                select(CalendarOverride).where(
                    CalendarOverride.agency_id == agency.id, CalendarOverride.day == day
                )
            )
            if working is None:
                if row is not None:
                    s.delete(row)
            elif row is None:
                row = CalendarOverride(agency_id=agency.id, day=day, working=working, note=note)
                s.add(row)
            else:
                row.working, row.note = working, note
            self._history(
                s,
                agency.id,
                "calendar_changed",
                actor.username,
                data={"day": day, "working": working, "note": note},
            )
        self.invalidate_calendars()
        return row

    # ------------------------------------------------------------------ maintenance
    def purge_cancelled_jobs(self) -> int:
        with self.sessions.begin() as s:
            res = s.execute(
                delete(ExternalTask).where(
                    ~ExternalTask.instance_id.in_(
                        select(ProcessInstance.id).where(ProcessInstance.state == "running")
                    )
                )
            )
            return _rowcount(res) or 0

    def counts(self, actor: Actor) -> dict[str, int]:
        with self.sessions() as s:
            agency = self.agency(s, actor.agency)
            rows = s.execute(
                select(ProcessInstance.state, func.count())
                .where(ProcessInstance.agency_id == agency.id, access.instance_filter(actor))
                .group_by(ProcessInstance.state)
            ).all()
            return {r[0]: r[1] for r in rows}


_KEEP = "sopflow.keep"
# instances handed out of the engine carry their definition (without its XML and spec)
_WITH_DEFINITION = joinedload(ProcessInstance.definition)


def _after_commit(session: Session) -> None:
    for engine, inst, wf in session.info.pop(_KEEP, []):
        engine._keep(inst, wf)


def _after_rollback(session: Session, *_: Any) -> None:
    session.info.pop(_KEEP, None)


def _rowcount(result: Any) -> int:
    """Rows matched by an UPDATE/DELETE (the typed Result hides CursorResult.rowcount)."""
    return int(getattr(result, "rowcount", 0) or 0)


def topics_policy(known: Iterable[str], external: Iterable[str] = ()) -> TopicPolicy:
    """Topics with a built-in handler, plus declared external ones (``erp.*`` wildcards)."""
    known_set = set(known)
    patterns = [p.strip() for p in external if p.strip()]

    def check(topic: str) -> bool:
        if topic in known_set:
            return True
        return any(topic == p or (p.endswith("*") and topic.startswith(p[:-1])) for p in patterns)

    return check


def utcnow() -> datetime:
    return datetime.now(UTC)


def _requeue(job: ExternalTask, now: datetime) -> None:
    """Back in the queue for any worker, at once."""
    job.state = "available"
    job.available_at = now
    job.worker_id = None
    job.lock_expires_at = None
