"""Property: any small diagram an analyst might write, however awkward (ids SpiffWorkflow
reserves, odd names, missing incoming/outgoing references, flows to nowhere, gateways no flow
of which matches, expressions on undefined variables), is either refused at deploy with
located problems, or starts; and a start or a completion never fails with anything the REST
API would answer 5xx (web/rest/errors.py: a 500 is only for a real bug)."""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from engine.actors import Actor
from engine.errors import DeployError, SopflowError
from engine.runtime import Engine
from engine.spiff.reserved import MARK, RESERVED_NAMES
from web.rest.errors import error_parts

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
KEY = "prop"

AWKWARD_IDS = [
    *sorted(RESERVED_NAMES),
    f"{KEY}.EndJoin",
    "Start.EndJoin",
    "x.BoundaryEventSplit",
    "x.BoundaryEventJoin",
    "_",
    "a-b",
    "a.b",
    "ñandú",
    "Tugas_ü",
    "t" * 100,
    "1abc",  # not an XML id: the schema refuses it, located
    "a b",
    "Start#sopflow",
]
IDS = st.one_of(
    st.sampled_from(AWKWARD_IDS), st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,8}", fullmatch=True)
)
NAMES = st.one_of(
    st.none(),
    st.text(" <>&\"'ñü✓Tugas\n.", max_size=12),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=6),  # control characters too:
)  # not well-formed XML, refused with a line
CONDITIONS = st.sampled_from(
    [
        "${undefined_var == 1}",
        "${amount > 10}",
        "${true}",
        "${false}",
        "${x.y.z}",
        "${",
        "not an expression",
        "${amount / 0 == 1}",
    ]
)
SCRIPTS = st.sampled_from(["y = 1", "y = undefined_var + 1", "y = 1 / 0", "y = amount * 2"])


@dataclass
class Step:
    kind: str  # user, task, script, xor
    id: str
    name: str | None
    conditions: tuple[str | None, str | None] = (None, None)
    default: int | None = None
    script: str = "y = 1"


@st.composite
def steps(draw: st.DrawFn) -> list[Step]:
    ids = draw(st.lists(IDS, min_size=3, max_size=6, unique=True))
    out = []
    for element_id in ids[2:]:
        kind = draw(st.sampled_from(["user", "task", "script", "xor"]))
        out.append(
            Step(
                kind,
                element_id,
                draw(NAMES),
                conditions=(
                    draw(st.one_of(st.none(), CONDITIONS)),
                    draw(st.one_of(st.none(), CONDITIONS)),
                ),
                default=draw(st.sampled_from([None, 0, 1])),
                script=draw(SCRIPTS),
            )
        )
    return [Step("start", ids[0], draw(NAMES)), *out, Step("end", ids[1], draw(NAMES))]


PERTURBATIONS = st.one_of(
    st.just([]),
    st.lists(
        st.sampled_from(["drop_incoming", "drop_outgoing", "flow_to_nowhere", "duplicate_id"]),
        max_size=2,
        unique=True,
    ),
)


def render(chain: list[Step], perturb: list[str], start_vars: bool) -> bytes:
    """The chain start → steps → end; an exclusive gateway also has a flow straight to the end."""
    flows: list[tuple[str, str, str, str | None]] = []  # id, source, target, condition
    for n, (a, b) in enumerate(zip(chain, chain[1:], strict=False)):
        if a.kind == "xor":
            flows.append((f"f{n}", a.id, b.id, a.conditions[0]))
            flows.append((f"f{n}x", a.id, chain[-1].id, a.conditions[1]))
        else:
            flows.append((f"f{n}", a.id, b.id, None))
    if "flow_to_nowhere" in perturb:
        flows[0] = (flows[0][0], flows[0][1], "nowhere", None)
    nodes = []
    for n, step in enumerate(chain):
        incoming = [f for f in flows if f[2] == step.id]
        outgoing = [f for f in flows if f[1] == step.id]
        if "drop_incoming" in perturb and n == len(chain) - 1:
            incoming = incoming[1:]
        if "drop_outgoing" in perturb and n == 0:
            outgoing = []
        refs = "".join(f"<bpmn:incoming>{f[0]}</bpmn:incoming>" for f in incoming)
        refs += "".join(f"<bpmn:outgoing>{f[0]}</bpmn:outgoing>" for f in outgoing)
        attrs = f"id={quoteattr(step.id)}"
        if step.name is not None:
            attrs += f" name={quoteattr(step.name)}"
        if step.kind == "start":
            nodes.append(f"<bpmn:startEvent {attrs}>{refs}</bpmn:startEvent>")
        elif step.kind == "end":
            nodes.append(f"<bpmn:endEvent {attrs}>{refs}</bpmn:endEvent>")
        elif step.kind == "user":
            nodes.append(
                f'<bpmn:userTask {attrs} camunda:candidateGroups="admin">{refs}</bpmn:userTask>'
            )
        elif step.kind == "task":
            nodes.append(f"<bpmn:task {attrs}>{refs}</bpmn:task>")
        elif step.kind == "script":
            nodes.append(
                f'<bpmn:scriptTask {attrs} scriptFormat="python">{refs}'
                f"<bpmn:script>{escape(step.script)}</bpmn:script></bpmn:scriptTask>"
            )
        else:
            mine = [f for f in flows if f[1] == step.id]
            default = ""
            if step.default is not None and step.default < len(mine):
                default = f" default={quoteattr(mine[step.default][0])}"
            nodes.append(f"<bpmn:exclusiveGateway {attrs}{default}>{refs}</bpmn:exclusiveGateway>")
    if "duplicate_id" in perturb and len(chain) > 2:
        nodes.append(f"<bpmn:task id={quoteattr(chain[1].id)} />")
    flow_xml = []
    for fid, source, target, condition in flows:
        cond = (
            f"<bpmn:conditionExpression>{escape(condition)}</bpmn:conditionExpression>"
            if condition
            else ""
        )
        flow_xml.append(
            f"<bpmn:sequenceFlow id={quoteattr(fid)} sourceRef={quoteattr(source)} "
            f"targetRef={quoteattr(target)}>{cond}</bpmn:sequenceFlow>"
        )
    body = "\n    ".join(nodes + flow_xml)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="{BPMN}" xmlns:camunda="{CAMUNDA}" id="D" targetNamespace="x">
  <bpmn:process id="{KEY}" isExecutable="true">
    {body}
  </bpmn:process>
</bpmn:definitions>
""".encode()


def _never_a_server_error(exc: BaseException) -> None:
    """What the REST API would answer for ``exc`` is a 4xx with Camunda's type."""
    assert isinstance(exc, SopflowError), repr(exc)
    status, message, type_ = error_parts(exc)
    assert 400 <= status < 500 and message and type_, (status, message, type_)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
@given(chain=steps(), perturb=PERTURBATIONS, start_vars=st.booleans())
def test_a_diagram_is_refused_located_or_runs_without_a_server_error(
    engine: Engine, admin: Actor, chain: list[Step], perturb: list[str], start_vars: bool
) -> None:
    xml = render(chain, perturb, start_vars)
    try:
        engine.deploy(admin, [("prop.bpmn", xml)])
    except DeployError as e:
        assert e.problems
        for problem in e.problems:
            assert problem.element_id or problem.line, problem
        _never_a_server_error(e)
        event(f"refused: {e.problems[0].message_en[:40]}")
        return
    variables = {"amount": 20} if start_vars else None
    try:
        inst = engine.start(admin, KEY, variables=variables)
    except Exception as e:  # noqa: BLE001 - the property is about every exception
        _never_a_server_error(e)
        event(f"start refused: {type(e).__name__}")
        return
    event("started")
    for _ in range(len(chain)):
        tasks = engine.inbox(admin, instance_id=inst.id)
        if not tasks:
            break
        for task in tasks:
            assert MARK not in task.element_id
            try:
                engine.complete_task(admin, task.id, {})
            except Exception as e:  # noqa: BLE001
                _never_a_server_error(e)
                event(f"completion refused: {type(e).__name__}")
                # nothing of the refused step was kept: the task still waits
                assert task.id in {t.id for t in engine.inbox(admin, instance_id=inst.id)}
                return
            event("completed a task")
