"""Expressions are bounded in time and size while they run, and refused on deploy when the
bound is already known from the text (engine/expressions/limits.py).

Each pathological case is checked twice: written with constants, it is refused by
``compile_expression`` (so by deploy validation, with the element id); written with variables,
the same shape compiles and is stopped by ``evaluate`` before the work is done. The tests assert
that the refusal happens, never how long it took; bench/expressions.py measures that.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest
from support import actor

from engine.calendar import WorkingCalendar
from engine.clock import FrozenClock
from engine.errors import DeployError, ExpressionError, SopflowError
from engine.expressions import compile_expression, compile_script
from engine.expressions import limits as expression_limits
from engine.expressions.limits import (
    MAX_INT,
    MAX_ROUND_DIGITS,
    MAX_SIZE,
    MAX_WORKDAYS,
    LimitExceeded,
    weight,
)
from engine.models import ProcessInstance
from engine.spiff.scripting import ENGINE_FUNCTIONS, SafeScriptEngine

# --------------------------------------------------------------------------- deploy: constants


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("round(1, -10000000)", "round() digits must be between -100 and 100"),
        ("round(1, 10000000)", "round() digits must be between -100 and 100"),
        ("${round(1.5, -101) == 0}", "round() digits"),
        ("round(2.5, ndigits=-1000)", "round() digits"),
        ("'a' * 100000 * 100000", "too large"),
        ("100000 * 'a' * 100000", "too large"),
        ("['a' * 100000] * 100000", "too large"),
        ("[[1] * 1000] * 1000", "too large"),
        ("[[[0] * 100] * 100] * 100", "too large"),
        ("((('a' * 30000) + ('b' * 30000)) + ('c' * 30000)) + ('d' * 30000)", "too large"),
        ("${'a' * 60000 + 'b' * 60000}", "too large"),
        ("[('x' * 50000, 'y' * 50000), 'z']", "too large"),
        ("{'k': 'v' * 100000, 'l': 'w'}", "too large"),
        ("1000000000000000 * 1000000000000000 * 10", "too large"),
        ("${100000000000 * 100000000000 * 100000000000}", "too large"),
        ("str([[1] * 300] * 300)", "too large"),
        ("int('9' * 101)", "too long to be a number"),
        # dead branches and short circuits are checked too: their bound is just as static
        ("${true ? 1 : round(1, -1000)}", "round() digits"),
        ("x == 1 or round(2, -200)", "round() digits"),
        ("x > 0 and len([[1] * 1000] * 1000) > 0", "too large"),
        ("${workdays(100000)}", "workdays() counts at most 2,500 working days"),
    ],
)
def test_static_bounds_are_refused_on_compile(text: str, fragment: str) -> None:
    with pytest.raises(LimitExceeded) as info:
        compile_expression(text, ENGINE_FUNCTIONS)
    assert fragment in info.value.text("en")
    assert info.value.text("id") != info.value.text("en")  # bilingual
    assert info.value.context["expression"] == text


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("2 ** 100000", "power operator"),
        ("10 ** 10 ** 10", "power operator"),
        ("1 << 100000", "bitwise"),
        ("x >> 3", "bitwise"),
        ("${2 ** 10}", "Unexpected '\\*'"),  # JUEL has no power operator at all
    ],
)
def test_power_and_shift_are_not_in_the_subset(text: str, fragment: str) -> None:
    with pytest.raises(ExpressionError, match=fragment.replace("(", r"\(")):
        compile_expression(text)


def test_constants_names_and_functions_stay_deferred_when_not_known() -> None:
    # ordinary failures of constants are still run-time errors, as before
    compile_expression("1 / 0")
    compile_expression("'a' < 1")
    # a value known only at run time compiles: its bound is checked when it is evaluated
    compile_expression("round(x, n)")
    compile_expression("s * n")
    compile_expression("${workdays(n)}", ENGINE_FUNCTIONS)
    compile_expression("${workdays(2500)}", ENGINE_FUNCTIONS)


@pytest.mark.parametrize(
    ("script", "line", "fragment"),
    [
        ("s = 'a' * 1000\n" + "s = s + s\n" * 7, 8, "too large"),  # doubling, line by line
        ("s = 'ab'\n" + "s += s\n" * 16, 17, "too large"),
        ("a = [1] * 1000\nb = [a] * 1000", 2, "too large"),
        ("a = [0] * 100\nb = [a, a, a, a, a, a, a, a, a, a]\nc = [b] * 101", 3, "too large"),
        ("x = 'a' * 1000\nx *= 1000", 2, "too large"),
        ("n = -10000000\ny = round(1, n)", 2, "round() digits"),
        ("n = 100000000\ny = n * n * n * n", 2, "too large"),
        ("a = 1\na = [a]\n" + "a = [a]\n" * (expression_limits.MAX_NESTING + 1), 103, "nested"),
        ("x = workdays(3000)", 1, "workdays()"),
    ],
)
def test_script_constants_are_followed_line_by_line(script: str, line: int, fragment: str) -> None:
    with pytest.raises(LimitExceeded) as info:
        compile_script(script, ENGINE_FUNCTIONS)
    assert fragment in info.value.text("en")
    assert info.value.context["line"] == line
    assert info.value.text("en").startswith(f"Script line {line}: ")
    assert info.value.text("id").startswith(f"Skrip baris {line}: ")


def test_a_script_line_reading_process_data_ends_what_is_known() -> None:
    # s is reassigned from a process variable: nothing about it is static any more
    script = compile_script("s = 'a' * 100000\ns = name\nt = s * 2")
    with pytest.raises(LimitExceeded, match="too large"):
        script.execute({"name": "x" * 50_001})
    variables: dict[str, Any] = {"name": "ok"}
    script.execute(variables)
    assert variables["t"] == "okok"


# --------------------------------------------------------------------------- run time: variables


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("text", "variables", "fragment"),
    [
        ("round(x, n)", {"x": 1, "n": -10_000_000}, "round() digits"),
        ("round(x, n)", {"x": 1.5, "n": 10_000_000}, "round() digits"),
        ("${round(x, n) > 0}", {"x": 7, "n": -MAX_ROUND_DIGITS - 1}, "round() digits"),
        ("s * n", {"s": "a" * 1000, "n": 1000}, "too large"),
        ("n * s", {"s": "a", "n": 10**12}, "too large"),
        ("[s] * n", {"s": "a" * 100_000, "n": 100_000}, "too large"),
        ("l * n", {"l": [[1] * 1000], "n": 1000}, "too large"),
        ("[l, l, l]", {"l": ["x" * 40_000]}, "too large"),
        ("${s + s}", {"s": "x" * 60_000}, "too large"),
        ("(s + s) + (s + s)", {"s": "x" * 30_000}, "too large"),
        ("a + b", {"a": [[0] * 60_000], "b": [[0] * 60_000]}, "too large"),
        ("a * b", {"a": 10**20, "b": 10**20}, "too large"),
        ("a * a * a", {"a": 10**4000}, "too large"),
        ("a + 1", {"a": 10**31}, "too large"),
        ("str(l)", {"l": [["a" * 100] * 100] * 100}, "too large"),
        ("'Total: ' + str(l)", {"l": [1] * 40_000}, "too large"),
        ("Nomor ${l}", {"l": [[0] * 1000] * 50}, "too large"),
        ("int(t)", {"t": "9" * 5000}, "too long to be a number"),
        ("sorted(s)", {"s": "a" * 100_000}, "too large"),
        ("upper(s)", {"s": "ß" * 60_000}, "too large"),  # upper() doubles it: 'SS'
        ("[x]", {"x": _nested(expression_limits.MAX_NESTING + 1)}, "nested too deeply"),
    ],
)
def test_bounds_known_only_at_run_time_stop_the_evaluation(
    text: str, variables: dict[str, Any], fragment: str
) -> None:
    compiled = compile_expression(text)
    with pytest.raises(LimitExceeded) as info:
        compiled.evaluate(variables)
    assert fragment in info.value.text("en")
    assert info.value.context["expression"] == text


def test_workdays_is_bounded_in_the_script_engine() -> None:
    script_engine = SafeScriptEngine(
        FrozenClock(datetime(2025, 1, 6, tzinfo=UTC)), WorkingCalendar()
    )
    with pytest.raises(LimitExceeded, match="workdays"):
        script_engine.evaluate_data("${workdays(n)}", {"n": 10**9})
    assert script_engine.evaluate_data("${workdays(n)}", {"n": MAX_WORKDAYS}) is not None


def test_just_under_the_bounds_is_fine() -> None:
    assert len(compile_expression("'a' * 100000").evaluate({})) == MAX_SIZE
    assert compile_expression("s * n").evaluate({"s": "ab", "n": MAX_SIZE // 2}) == "ab" * 50_000
    assert compile_expression("a * b").evaluate({"a": 10**15, "b": 10**15}) == MAX_INT
    assert compile_expression("round(x, n)").evaluate({"x": 1234.5678, "n": 2}) == 1234.57
    assert compile_expression("round(x, -100)").evaluate({"x": 10**29}) == 0
    assert compile_expression("round(x, 100)").evaluate({"x": 2.5}) == 2.5
    assert compile_expression("len([s] * 10)").evaluate({"s": "x" * 9_999}) == 10
    assert compile_expression("int(t)").evaluate({"t": " 42 "}) == 42
    assert compile_expression("str(l)").evaluate({"l": [1, "a", None]}) == "[1, 'a', None]"


def test_the_work_of_one_evaluation_is_bounded_in_all() -> None:
    # every value is under MAX_SIZE, but together they are over MAX_WORK
    script = compile_script("\n".join(f"y{i} = s + 'a'" for i in range(20)))
    with pytest.raises(LimitExceeded, match="builds too much"):
        script.execute({"s": "x" * 99_000})
    # each evaluation has its own budget
    small = compile_script("\n".join(f"y{i} = s + 'a'" for i in range(5)))
    for _ in range(3):
        small.execute({"s": "x" * 99_000})


def test_the_time_of_one_evaluation_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = itertools.count(0.0, 0.1)  # every costly step seems to take 100 ms
    monkeypatch.setattr(expression_limits, "clock", lambda: next(ticks))
    script = compile_script("\n".join(["y = max(x)"] * 10))
    with pytest.raises(LimitExceeded) as info:
        script.execute({"x": [3, 1, 2]})
    assert "takes too long (over 250 ms)" in info.value.text("en")
    assert "terlalu lama" in info.value.text("id")
    # an evaluation with no costly step never looks at the clock
    assert compile_expression("${approved && name != ''}").evaluate({"approved": True, "name": "x"})


def test_the_time_bound_stops_a_real_slow_script() -> None:
    # 2,000 scans of a million numbers are seconds of work on any machine, and none builds
    # anything: only the time bound can stop it
    script = compile_script("\n".join(["y=max(x)"] * 2_000))
    with pytest.raises(LimitExceeded, match="takes too long"):
        script.execute({"x": list(range(1_000_000))})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("abc", 3),
        (7, 1),
        (10**30, 2),
        (None, 1),
        ([], 0),
        ([[]], 1),
        ([1, 2, 3], 3),
        (["ab", "c", ""], 6),
        ([["ab"], ("c",)], 5),
        ({"k": "vv"}, 5),
        ([{"a": 1}] * 3, 9),
        ([[0] * 10] * 10, 100),
    ],
)
def test_weight(value: Any, expected: int) -> None:
    assert weight(value) == expected


def test_weight_stops_past_its_limit() -> None:
    shared = [0] * 1000
    assert weight([shared] * 1000, limit=5000) > 5000
    assert weight([shared] * 1000, limit=10**7) == 1_000_000


# --------------------------------------------------------------------------- deploy and run


NAMESPACES = (
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
)


def _diagram(script: str, condition: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NAMESPACES} id="defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="bounded" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="compute" />
    <bpmn:scriptTask id="compute" scriptFormat="python"><bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f1" sourceRef="compute" targetRef="gw" />
    <bpmn:exclusiveGateway id="gw" default="f_no" />
    <bpmn:sequenceFlow id="f_yes" sourceRef="gw" targetRef="review">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}
      </bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_no" sourceRef="gw" targetRef="review" />
    <bpmn:userTask id="review" camunda:candidateGroups="clerk" />
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>
""".encode()


GOOD = _diagram("label = s * n", "${round(amount, digits) &gt; 0}")


@pytest.mark.parametrize(
    ("script", "condition", "element"),
    [
        ("label = 'a' * 100000\nlabels = [label] * 100000", "${x}", "compute"),
        ("label = 'x'", "${round(amount, -10000000) &gt; 0}", "f_yes"),
        ("label = 'x'", "${'a' * 1000 * 1000 == ''}", "f_yes"),
    ],
)
def test_deploy_refuses_static_bounds_with_the_element(
    engine: Any, admin: Any, script: str, condition: str, element: str
) -> None:
    with pytest.raises(DeployError) as info:
        engine.deploy(admin, [("bounded.bpmn", _diagram(script, condition))])
    (problem,) = info.value.problems
    assert problem.element_id == element
    assert "too large" in problem.message_en or "round() digits" in problem.message_en
    assert problem.message_id.startswith(("Skrip: ", "Condition: "))


@pytest.mark.parametrize(
    ("variables", "element"),
    [
        ({"s": "a" * 1000, "n": 1000, "amount": 5, "digits": 0}, "compute"),
        ({"s": "a", "n": 2, "amount": 5, "digits": -10_000_000}, "gw"),
    ],
)
def test_run_time_bounds_are_a_located_engine_error_not_a_crash(
    engine: Any, admin: Any, sessions: Any, variables: dict[str, Any], element: str
) -> None:
    engine.deploy(admin, [("bounded.bpmn", GOOD)])
    starter = actor("ani", "kudus", "clerk")
    with pytest.raises(SopflowError) as info:
        engine.start(starter, "bounded", variables=variables)
    assert not isinstance(info.value, ExpressionError)  # the engine's own error, with a place
    assert info.value.context.get("element_id") == element
    assert "Proses tidak dapat berlanjut" in info.value.text("id")
    with sessions() as s:
        assert s.query(ProcessInstance).count() == 0  # nothing half-started was stored
    ok = engine.start(starter, "bounded", variables={**variables, "n": 3, "digits": 1})
    assert ok.state == "running"
