"""The REST permission matrix: every route of ``/engine-rest`` and ``/rest`` (issue 11) x every
role of one Kudus office (tests/rest/matrix_world.py) -> the status the product must answer.

The table below is written by hand, per endpoint: the roles the endpoint's gate lets through
(``gate``: everyone else gets 403, anonymous 401), which of those may then act on the row
(``allowed``) and which see the row but may not act (``seen``: 403); the rest of the gate's
roles get 404 (the row is not theirs to see). A route of ``app.url_map`` without a case fails
:func:`test_every_rest_route_has_a_case` with its endpoint name.

Reads run in one world; every state-changing case gets its own world, denied roles first
(they must change nothing) and the allowed ones last: the first allowed role must get exactly
``ok``, the later ones (the step may be gone by then) anything but 401, 403 or a 5xx. List
endpoints are also read for leaks: callers who may not read a1's requests get no row of them.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from matrix_world import (
    ALL_ROLES,
    ANONYMOUS,
    APPLICANTS,
    OFFICERS,
    SECRET_SUBDOMAIN,
    WORKER_ID,
    World,
)

from engine.runtime import TopicRequest
from web.rest import PREFIXES

EVERYONE = frozenset(ALL_ROLES) - {ANONYMOUS}
PEOPLE = APPLICANTS | OFFICERS
TAPIN = "tapin_admin"
ADMINS = frozenset({"admin", TAPIN})
# who passes each permission's gate (engine/access.py GRANTS, restated here on purpose)
DEFINITION_READERS = PEOPLE | {"integration", "analyst"} | ADMINS
STARTERS = PEOPLE | {"integration"} | ADMINS
REQUEST_READERS = PEOPLE | {"integration"} | ADMINS
TASK_WORKERS = PEOPLE | ADMINS
JOB_WORKERS = frozenset({"worker"}) | ADMINS
MANAGERS = ADMINS
CORRELATORS = OFFICERS | {"integration"} | ADMINS
SELF_READERS = EVERYONE - {"worker"}
DEPLOYERS = ADMINS
PUBLIC = frozenset(ALL_ROLES)

# who may read which of a1's requests (r1 waits on the Kepala Dinas; Kadis, Kabid and Kasi
# worked r2 before it came back to unit A)
R1_READERS = frozenset({"a1", "a2", "head_of_office", "admin"})
R2_READERS = frozenset({"a1", "a2", "head_of_office", "head_of_division", "head_of_section"})
R2_READERS |= {"admin"}
# callers who must never get a row of a1's requests from a list
OUTSIDERS = ("b1", "technical_officer", "worker", "integration", "analyst", TAPIN)


@dataclass(frozen=True)
class Case:
    endpoint: str
    method: str
    path: str  # after the prefix; {r1}, {r1_task}, ... are the world's ids
    gate: frozenset[str]
    allowed: tuple[str, ...] | frozenset[str]  # in the order they act (writes)
    ok: int = 200  # the status of an allowed role (the first one, for writes)
    seen: frozenset[str] = frozenset()  # pass the gate, see the row, may not: 403
    body: Any = None
    files: Mapping[str, tuple[str, bytes, str]] | None = None
    write: bool = False
    label: str = ""
    lists_a1: bool = False  # a list: outsiders get no row of a1's requests, a1 and a2 do
    setup: Callable[[World], None] | None = None
    statuses: Mapping[str, int] = field(default_factory=dict)  # exact overrides per role

    @property
    def id(self) -> str:
        return f"{self.endpoint}-{self.method}" + (f"-{self.label}" if self.label else "")

    def expected(self, role: str) -> int | None:
        """The status ``role`` must get; None: allowed (``ok``, or for a later writer any
        status but an authorization failure or a server error)."""
        if role in self.statuses:
            return self.statuses[role]
        if role == ANONYMOUS and ANONYMOUS not in self.gate:
            return 401
        if role not in self.gate:
            return 403
        if role in self.allowed:
            return None
        if role in self.seen:
            return 403
        return 404


def every(roles: Iterable[str]) -> frozenset[str]:
    return frozenset(roles)


def lock(job: str) -> Callable[[World], None]:
    """Lock the world's job ``job`` (an attribute name) for the matrix worker id."""

    def run(w: World) -> None:
        topic = "rest.work" if job == "ext_job" else "letter.generate"
        locked = w.engine.fetch_and_lock(
            WORKER_ID, [TopicRequest(topic, 600_000)], max_tasks=10, agency="kudus"
        )
        assert getattr(w, job) in {j.id for j in locked}

    return run


def _var_id(instance_id: str, name: str) -> str:
    return str(uuid.uuid5(uuid.UUID(instance_id), name))


def _timer_job(instance_id: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sopflow:timer:{instance_id}"))


def fill(text: str, w: World, **extra: str) -> str:
    """``text`` with every ``{name}`` of the world's ids replaced."""
    names = {k: v for k, v in vars(w).items() if isinstance(v, str)}
    names.update(r1_var=_var_id(w.r1, "subdomain"), r1_timer=_timer_job(w.r1), **extra)
    return re.sub(r"\{(\w+)\}", lambda m: names.get(m[1], m[0]), text)


# ---------------------------------------------------------------------------- the table
def reads() -> list[Case]:
    defs = DEFINITION_READERS
    everyone_but_tapin = defs - {TAPIN}
    out = [
        Case("version", "GET", "/version", PUBLIC, PUBLIC),
        Case("openapi", "GET", "/openapi.json", PUBLIC, PUBLIC),
        Case("deployment_list", "GET", "/deployment", defs, defs),
        Case("deployment_count", "GET", "/deployment/count", defs, defs),
        Case("pd_list", "GET", "/process-definition", defs, defs),
        Case("pd_count", "GET", "/process-definition/count", defs, defs),
    ]
    by_id = "/process-definition/{definition}"
    by_key = "/process-definition/key/kudus"
    by_tenant = "/process-definition/key/kudus/tenant-id/kudus"
    for endpoint, path in (
        ("pd_get", by_id),
        ("pd_xml", f"{by_id}/xml"),
        ("pd_formvars", f"{by_id}/form-variables"),
        ("pd_key", by_key),
        ("pd_key_xml", f"{by_key}/xml"),
        ("pd_key_formvars", f"{by_key}/form-variables"),
        ("pd_key_t", by_tenant),
        ("pd_key_xml_t", f"{by_tenant}/xml"),
        ("pd_key_formvars_t", f"{by_tenant}/form-variables"),
    ):
        out.append(Case(endpoint, "GET", path, defs, everyone_but_tapin))
    out += [
        Case("deployment_get", "GET", "/deployment/{deployment}", defs, everyone_but_tapin),
        Case(
            "deployment_resources",
            "GET",
            "/deployment/{deployment}/resources",
            defs,
            everyone_but_tapin,
        ),
    ]
    # requests: lists are filtered, one request is a 404 to whoever may not read it
    lists = (
        ("pi_list", "/process-instance"),
        ("pi_count", "/process-instance/count"),
        ("hpi_list", "/history/process-instance"),
        ("hpi_count", "/history/process-instance/count"),
        ("htask_list", "/history/task"),
        ("var_list", "/variable-instance"),
        ("hvar_list", "/history/variable-instance"),
    )
    for endpoint, path in lists:
        counted = endpoint.endswith("count")
        for method in ("GET", "POST"):
            out.append(
                Case(
                    endpoint,
                    method,
                    path,
                    REQUEST_READERS,
                    REQUEST_READERS,
                    body={} if method == "POST" else None,
                    lists_a1=not counted,
                )
            )
    one = (
        ("pi_get", "/process-instance/{r1}", 200),
        ("pi_activities", "/process-instance/{r1}/activity-instances", 200),
        ("pi_vars", "/process-instance/{r1}/variables", 200),
        ("pi_var", "/process-instance/{r1}/variables/subdomain", 200),
        ("pi_var_data", "/process-instance/{r1}/variables/subdomain/data", 400),  # not binary
        ("hpi_get", "/history/process-instance/{r1}", 200),
        ("var_data", "/variable-instance/{r1_var}/data", 400),
        ("hvar_data", "/history/variable-instance/{r1_var}/data", 400),
    )
    for endpoint, path, ok in one:
        out.append(Case(endpoint, "GET", path, REQUEST_READERS, R1_READERS, ok=ok))
    out.append(
        Case(
            "pi_get",
            "GET",
            "/process-instance/{r2}",
            REQUEST_READERS,
            R2_READERS,
            label="returned",
        )
    )
    # tasks: the officer's task of r1, and r2's task returned to unit A
    task_reads = (
        ("task_get", "", 200),
        ("task_form", "/form", 200),
        ("task_formvars", "/form-variables", 200),
        ("task_links", "/identity-links", 200),
        ("task_vars", "/variables", 200),
        ("task_var", "/variables/subdomain", 200),
        ("task_var_data", "/variables/subdomain/data", 400),
        ("task_lvars", "/localVariables", 200),
        ("task_lvar", "/localVariables/subdomain", 200),
        ("task_lvar_data", "/localVariables/subdomain/data", 400),
    )
    for endpoint, suffix, ok in task_reads:
        out.append(
            Case(
                endpoint,
                "GET",
                "/task/{r1_task}" + suffix,
                TASK_WORKERS,
                every({"head_of_office", "admin"}),
                ok=ok,
            )
        )
        out.append(
            Case(
                endpoint,
                "GET",
                "/task/{r2_task}" + suffix,
                TASK_WORKERS,
                every({"a1", "a2", "admin"}),
                ok=ok,
                label="returned",
            )
        )
    for method in ("GET", "POST"):
        for endpoint, path in (("task_list", "/task"), ("task_count", "/task/count")):
            out.append(
                Case(
                    endpoint,
                    method,
                    path,
                    TASK_WORKERS,
                    TASK_WORKERS,
                    body={} if method == "POST" else None,
                    lists_a1=endpoint == "task_list",
                )
            )
    # the job queue
    out += [
        Case("et_list", "GET", "/external-task", JOB_WORKERS, JOB_WORKERS, lists_a1=True),
        Case("et_count", "GET", "/external-task/count", JOB_WORKERS, JOB_WORKERS),
        Case("et_get", "GET", "/external-task/{ext_job}", JOB_WORKERS, every({"worker", "admin"})),
        Case(
            "et_get",
            "GET",
            "/external-task/{builtin_job}",
            JOB_WORKERS,
            every({"admin"}),
            label="builtin",
        ),
        Case(
            "et_details",
            "GET",
            "/external-task/{incident_job}/errorDetails",
            JOB_WORKERS,
            every({"worker", "admin"}),
            ok=204,  # failed without details
        ),
        Case("job_list", "GET", "/job", MANAGERS, MANAGERS, lists_a1=True),
        Case("incident_list", "GET", "/incident", MANAGERS, MANAGERS, lists_a1=True),
        Case("user_list", "GET", "/user", SELF_READERS, SELF_READERS, lists_a1=True),
    ]
    return out


ANSWER = {"variables": {"subdomain": {"value": "namalain", "type": "String"}}}
START = {"variables": {"applicant": {"value": "Matrix", "type": "String"}}}


def writes() -> list[Case]:
    out: list[Case] = []
    for endpoint, path in (
        ("pd_start", "/process-definition/{user_definition}/start"),
        ("pd_submit", "/process-definition/{user_definition}/submit-form"),
        ("pd_key_start", "/process-definition/key/rest_user/start"),
        ("pd_key_submit", "/process-definition/key/rest_user/submit-form"),
        ("pd_key_start_t", "/process-definition/key/rest_user/tenant-id/kudus/start"),
        ("pd_key_submit_t", "/process-definition/key/rest_user/tenant-id/kudus/submit-form"),
    ):
        # starting needs no row: every starter may, Tapin's administrator its own rest_user
        # by key only
        tapin = TAPIN if endpoint in ("pd_key_start", "pd_key_submit") else None
        body = START if "start" in endpoint else {"variables": START["variables"]}
        out.append(
            Case(
                endpoint,
                "POST",
                path,
                STARTERS,
                (*sorted(STARTERS - {TAPIN}), *([tapin] if tapin else [])),
                body=body,
                write=True,
            )
        )
    out.append(
        Case(
            "deployment_create",
            "POST",
            "/deployment/create",
            DEPLOYERS,
            ("admin", TAPIN),
            files={"data": ("matrix.bpmn", b"", "text/xml")},
            write=True,
        )
    )
    # rewriting a request's data: who may complete one of its open tasks now
    var_writes = (
        ("pi_var_put", "PUT", "/variables/subdomain", {"value": "ditulis", "type": "String"}),
        (
            "pi_vars_modify",
            "POST",
            "/variables",
            {"modifications": {"subdomain": {"value": "ditulis", "type": "String"}}},
        ),
        ("pi_var_delete", "DELETE", "/variables/purpose", None),
        ("pi_var_upload", "POST", "/variables/berkas/data", None),
    )
    for endpoint, method, suffix, body in var_writes:
        files = (
            {"data": ("a.pdf", b"%PDF-1.4\n", "application/pdf")}
            if endpoint.endswith("upload")
            else None
        )
        out.append(
            Case(
                endpoint,
                method,
                "/process-instance/{r1}" + suffix,
                TASK_WORKERS,
                ("head_of_office", "admin"),
                ok=204,
                seen=every({"a1", "a2"}),
                body=body,
                files=files,
                write=True,
            )
        )
        out.append(
            Case(
                endpoint,
                method,
                "/process-instance/{r2}" + suffix,
                TASK_WORKERS,
                ("a2", "a1", "admin"),
                ok=204,
                seen=every({"head_of_office", "head_of_division", "head_of_section"}),
                body=body,
                files=files,
                write=True,
                label="returned",
            )
        )
    out.append(
        Case(
            "pi_delete",
            "DELETE",
            "/process-instance/{r1}",
            REQUEST_READERS,
            ("a1", "admin"),
            ok=204,
            seen=every({"a2", "head_of_office"}),
            write=True,
        )
    )
    # working the officer's task of r1, and r2's task returned to unit A
    task_writes: tuple[tuple[str, str, str, Any], ...] = (
        ("task_claim", "POST", "/claim", {"userId": "{claimer}"}),
        ("task_unclaim", "POST", "/unclaim", None),
        ("task_assignee", "POST", "/assignee", {"userId": "{claimer}"}),
        ("task_complete", "POST", "/complete", {"variables": {}}),
        ("task_submit", "POST", "/submit-form", {"variables": {}}),
        ("task_var_put", "PUT", "/variables/subdomain", {"value": "x", "type": "String"}),
        ("task_var_delete", "DELETE", "/variables/purpose", None),
        ("task_var_upload", "POST", "/variables/berkas/data", None),
        (
            "task_vars_modify",
            "POST",
            "/variables",
            {"modifications": {"subdomain": {"value": "x", "type": "String"}}},
        ),
        ("task_lvar_put", "PUT", "/localVariables/subdomain", {"value": "x", "type": "String"}),
        ("task_lvar_delete", "DELETE", "/localVariables/purpose", None),
        ("task_lvar_upload", "POST", "/localVariables/berkas/data", None),
        (
            "task_lvars_modify",
            "POST",
            "/localVariables",
            {"modifications": {"subdomain": {"value": "x", "type": "String"}}},
        ),
    )
    for endpoint, method, suffix, body in task_writes:
        files = (
            {"data": ("a.pdf", b"%PDF-1.4\n", "application/pdf")}
            if endpoint.endswith("upload")
            else None
        )
        out.append(
            Case(
                endpoint,
                method,
                "/task/{r1_task}" + suffix,
                TASK_WORKERS,
                ("head_of_office", "admin"),
                ok=204,
                body=body,
                files=files,
                write=True,
            )
        )
        returned = Case(
            endpoint,
            method,
            "/task/{r2_task}" + suffix,
            TASK_WORKERS,
            ("a2", "a1", "admin"),
            ok=204,
            body=ANSWER if endpoint in ("task_complete", "task_submit") else body,
            files=files,
            write=True,
            label="returned",
        )
        if endpoint in ("task_claim", "task_assignee"):
            # a1 holds it: a1 keeps it, a2 hears who holds it (409
            # TaskAlreadyClaimedException: a conflict, never a 500), an administrator reassigns it
            returned = Case(
                endpoint,
                method,
                "/task/{r2_task}" + suffix,
                TASK_WORKERS,
                ("a1", "admin"),
                ok=204,
                body=body,
                write=True,
                label="returned",
                statuses={"a2": 409},
            )
        if endpoint == "task_unclaim":
            # a task returned to a unit is never released to a pool (only an administrator)
            returned = Case(
                endpoint,
                method,
                "/task/{r2_task}/unclaim",
                TASK_WORKERS,
                ("admin",),
                ok=204,
                seen=every({"a1", "a2"}),
                write=True,
                label="returned",
            )
        out.append(returned)
    # the job queue: the worker on external topics only, never the built-in handlers' jobs
    fetch = {"workerId": WORKER_ID, "maxTasks": 5, "topics": []}
    for topic, label, allowed in (
        ("rest.work", "external", ("worker", "admin", TAPIN)),
        ("letter.generate", "builtin", ()),
    ):
        body = {**fetch, "topics": [{"topicName": topic, "lockDuration": 1000}]}
        out.append(
            Case(
                "et_fetch",
                "POST",
                "/external-task/fetchAndLock",
                JOB_WORKERS,
                allowed,
                body=body,
                write=True,
                label=label,
                seen=JOB_WORKERS if not allowed else frozenset(),
            )
        )
    job_writes = (
        ("et_complete", "/complete", {"workerId": WORKER_ID, "variables": {}}),
        ("et_failure", "/failure", {"workerId": WORKER_ID, "errorMessage": "x", "retries": 1}),
        ("et_bpmn_error", "/bpmnError", {"workerId": WORKER_ID, "errorCode": "BIZ"}),
        ("et_extend", "/extendLock", {"workerId": WORKER_ID, "newDuration": 60_000}),
        ("et_unlock", "/unlock", None),
    )
    for endpoint, suffix, body in job_writes:
        gate = JOB_WORKERS
        out.append(
            Case(
                endpoint,
                "POST",
                "/external-task/{ext_job}" + suffix,
                gate,
                ("worker", "admin"),
                ok=204,
                body=body,
                write=True,
                label="external",
                setup=lock("ext_job"),
            )
        )
        # nobody works a built-in handler's job over REST; an administrator may unlock it
        admin_may = endpoint == "et_unlock"
        out.append(
            Case(
                endpoint,
                "POST",
                "/external-task/{builtin_job}" + suffix,
                gate,
                ("admin",) if admin_may else (),
                ok=204,
                seen=every({"worker"}) | (frozenset() if admin_may else {"admin"}),
                body=body,
                write=True,
                label="builtin",
                setup=lock("builtin_job"),
            )
        )
    out += [
        Case(
            "et_retries",
            "PUT",
            "/external-task/{incident_job}/retries",
            MANAGERS,
            ("admin",),
            ok=204,
            body={"retries": 1},
            write=True,
        ),
        Case(
            "job_retries",
            "PUT",
            "/job/{r1_timer}/retries",
            MANAGERS,
            ("admin",),
            ok=204,
            body={"retries": 1},
            write=True,
        ),
        # a message moves a request on: only into a request the caller may read
        Case(
            "message",
            "POST",
            "/message",
            CORRELATORS,
            ("admin",),
            # as if nothing waited: a request one may not read is neither moved nor probed
            statuses=dict.fromkeys(CORRELATORS - {"admin"}, 400),
            body={"messageName": "rest_go", "processInstanceId": "{msg_instance}"},
            ok=204,
            write=True,
        ),
    ]
    return out


READS = reads()
WRITES = writes()


# ---------------------------------------------------------------------------- running it
def _send(client: Any, w: World, prefix: str, case: Case, role: str) -> Any:
    url = PREFIXES[prefix] + fill(case.path, w)
    headers = w.auth(role)
    kwargs: dict[str, Any] = {"headers": headers}
    if case.files is not None:
        data: dict[str, Any] = {"valueType": "File"}
        for name, (filename, raw, mime) in case.files.items():
            data[name] = (io.BytesIO(raw or _deployable(w)), filename, mime)
        kwargs["data"] = data
        kwargs["content_type"] = "multipart/form-data"
    elif case.body is not None:
        claimer = w.username(role) if role in w.actors else "nobody"
        kwargs["json"] = json.loads(fill(json.dumps(case.body), w, claimer=claimer))
    return client.open(url, method=case.method, **kwargs)


def _deployable(w: World) -> bytes:
    from rest_support import SMOKE

    return SMOKE.replace(b'id="rest_user"', b'id="matrix_user"')


def _check(
    case: Case, role: str, answer: Any, first_allowed: bool, problems: list[str], where: str
) -> None:
    status = answer.status_code
    want = case.expected(role)
    if want is not None:
        if status != want:
            problems.append(f"{where}: {role} got {status}, expected {want}")
    elif first_allowed or not case.write:
        if status != case.ok:
            problems.append(f"{where}: {role} (allowed) got {status}, expected {case.ok}")
    elif status in (401, 403) or status >= 500:
        # a later writer may find the step moved on: that is a 409, never a 500
        problems.append(f"{where}: {role} (allowed) got {status}")


def _leaks(case: Case, w: World, role: str, body: bytes, problems: list[str], where: str) -> None:
    text = body.decode("utf-8", "replace")
    if role in OUTSIDERS:
        found = [m for m in w.a1_markers() if m in text]
        if found:
            problems.append(f"{where}: {role} read a1's request data {found[:3]}")
    elif role in ("a1", "a2") and case.endpoint in (
        "pi_list",
        "hpi_list",
        "htask_list",
        "var_list",
        "hvar_list",
    ):
        if w.r1 not in text:
            problems.append(f"{where}: {role} does not see its unit's request r1")
    elif role in ("a1", "a2") and case.endpoint == "task_list" and w.r2_task not in text:
        problems.append(f"{where}: {role} does not see the task returned to its unit")


def _run(w: World, case: Case, problems: list[str], prefixes: Iterable[str]) -> None:
    client = w.app.test_client()
    denied = [r for r in ALL_ROLES if case.expected(r) is not None]
    allowed = [r for r in case.allowed if case.expected(r) is None]
    for prefix in prefixes:
        for role in denied if case.write else ALL_ROLES:
            r = _send(client, w, prefix, case, role)
            where = f"{case.method} {PREFIXES[prefix]}{case.path} [{case.id}]"
            _check(case, role, r, False, problems, where)
            if case.lists_a1 and r.status_code == 200:
                _leaks(case, w, role, r.data, problems, where)
    if case.write:
        for i, role in enumerate(allowed):
            r = _send(client, w, "engine_rest", case, role)
            where = f"{case.method} /engine-rest{case.path} [{case.id}]"
            _check(case, role, r, i == 0, problems, where)


def test_every_rest_route_has_a_case(app: Any) -> None:
    covered = {(c.endpoint, c.method) for c in READS + WRITES}
    missing = sorted(
        f"{rule.endpoint} {method}"
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in PREFIXES
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        if (rule.endpoint.split(".", 1)[1], method) not in covered
    )
    assert not missing, f"REST routes without a permission-matrix case: {missing}"


def test_rest_reads(world: World) -> None:
    problems: list[str] = []
    for case in READS:
        _run(world, case, problems, PREFIXES)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("case", WRITES, ids=lambda c: c.id)
def test_rest_writes(world: World, case: Case) -> None:
    if case.setup is not None:
        case.setup(world)
    problems: list[str] = []
    _run(world, case, problems, PREFIXES)
    assert not problems, "\n".join(problems)


def test_secret_value_is_in_the_world(world: World) -> None:
    """The leak checks look for a1's values: they must be there for a1 to see."""
    r = world.app.test_client().get(
        f"/engine-rest/process-instance/{world.r1}/variables", headers=world.auth("a1")
    )
    assert r.status_code == 200 and SECRET_SUBDOMAIN in r.get_data(as_text=True)
