from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from engine.errors import ExpressionError
from engine.expressions import (
    SAFE_FUNCTIONS,
    compile_expression,
    compile_script,
    is_juel,
)


def ev(text: str, functions: dict[str, Any] | None = None, **variables: Any) -> Any:
    extra = tuple(functions or ())
    return compile_expression(text, extra).evaluate(variables, functions)


def refused(text: str, *fragments: str, extra: tuple[str, ...] = ()) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        compile_expression(text, extra)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message
    return info.value


# --------------------------------------------------------------------------- JUEL


@pytest.mark.parametrize(
    ("text", "variables", "expected"),
    [
        ("${approved}", {"approved": True}, True),
        ("${approved}", {"approved": False}, False),
        ("${!x}", {"x": False}, True),
        ("${!x}", {"x": True}, False),
        ("${a == 'b' && n > 2}", {"a": "b", "n": 3}, True),
        ("${a == 'b' && n > 2}", {"a": "b", "n": 2}, False),
        ("${a == 'b' && n > 2}", {"a": "c", "n": 3}, False),
        ("${documents_complete && sites <= 5}", {"documents_complete": True, "sites": 5}, True),
        ("${documents_complete && sites <= 5}", {"documents_complete": True, "sites": 6}, False),
        ("#{approved}", {"approved": True}, True),
        ("  \n ${approved}\n  ", {"approved": True}, True),
    ],
)
def test_juel_design_examples(text: str, variables: dict[str, Any], expected: Any) -> None:
    assert ev(text, **variables) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, True), ("", True), ([], True), ({}, True), (0, False), ("x", False), ([0], False)],
)
def test_juel_empty(value: Any, expected: bool) -> None:
    assert ev("${empty x}", x=value) is expected
    assert ev("${not empty x}", x=value) is (not expected)


def test_juel_empty_of_undefined_variable_is_true() -> None:
    assert ev("${empty x}") is True
    assert ev("${!empty x && y}", y=True) is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${a eq 'b' and n gt 2}", True),
        ("${a ne 'b' or n lt 2}", False),
        ("${n ge 3 and n le 3}", True),
        ("${not (n == 3)}", False),
        ("${n div 2}", 1.5),
        ("${n / 2}", 1.5),
        ("${n mod 2}", 1),
        ("${n % 2}", 1),
        ("${-n + 10}", 7),
        ("${(n + 1) * 2}", 8),
        ("${n - 1 * 2}", 1),
        ("${a == 'b' || false}", True),
        ("${null == null}", True),
        ("${1.5 + 1}", 2.5),
    ],
)
def test_juel_operators(text: str, expected: Any) -> None:
    assert ev(text, a="b", n=3) == expected


def test_juel_ternary_and_precedence() -> None:
    text = "${gender == 'male' ? 'Mr.' : 'Mrs.'}"
    assert ev(text, gender="male") == "Mr."
    assert ev(text, gender="female") == "Mrs."
    nested = "${n > 5 ? 'big' : n > 2 ? 'mid' : 'small'}"
    assert [ev(nested, n=n) for n in (9, 3, 1)] == ["big", "mid", "small"]
    assert ev("${a || b ? 1 : 2}", a=False, b=False) == 2


def test_juel_string_literals_keep_operators_and_quotes() -> None:
    assert ev("${s == 'a && b'}", s="a && b") is True
    assert ev("${s == 'a && b'}", s="a") is False
    assert ev('${s == "!x || y"}', s="!x || y") is True
    assert ev("${s == 'it\\'s'}", s="it's") is True
    assert ev("${s == '}'}", s="}") is True
    assert ev("${'not empty and mod'}") == "not empty and mod"


def test_juel_function_calls() -> None:
    assert ev("${len(items) > 1}", items=[1, 2]) is True
    due = datetime(2026, 12, 1, tzinfo=UTC)
    assert ev("${workdays(3)}", {"workdays": lambda n: due}) == due
    assert ev("${lower(name) == 'budi'}", name="BUDI") is True
    assert ev("${contains(groups, 'kominfo')}", groups=["kominfo"]) is True


def test_juel_index_access() -> None:
    assert ev("${form['opd']}", form={"opd": "Dinkes"}) == "Dinkes"
    assert ev("${items[0] + items[1]}", items=[1, 2]) == 3


def test_juel_compile_reports_names_and_functions() -> None:
    compiled = compile_expression("${a == 'b' && workdays(n) != null}", ["workdays"])
    assert compiled.names == {"a", "n"}
    assert compiled.functions == {"workdays"}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("${a.b}", "Member access"),
        ("${execution.getVariable('x')}", "Member access ('.getVariable')"),
        ("${a = 1}", "use '=='"),
        ("${a & b}", "use '&&'"),
        ("${a b}", "Unexpected 'b'"),
        ("${}", "Empty expression"),
        ("${(a}", "Unexpected end"),
        ("${a ? b}", "Unexpected end"),
        ("${x instanceof y}", "instanceof"),
        ("${__class__}", "'__'"),
        ("${a[0](1)}", "Only named functions"),
        ("${open('x')}", "Function 'open' is not allowed"),
        ("${a", "missing '}'"),
        ("${s == 'unterminated}", "missing '}'"),
    ],
)
def test_juel_refusals(text: str, fragment: str) -> None:
    refused(text, fragment)


def test_juel_messages_are_bilingual_with_context() -> None:
    err = refused("${a.b}")
    assert err.text("en") != err.text("id")
    assert "tidak didukung" in err.text("id")
    assert err.context["expression"] == "${a.b}"


# --------------------------------------------------------------------------- templates


def test_template_renders_a_string() -> None:
    text = "Permohonan ${opd_name} diterima"
    assert ev(text, opd_name="Dinas Kesehatan") == "Permohonan Dinas Kesehatan diterima"
    assert ev("${a}-${b}", a=1, b=2) == "1-2"
    assert ev("ok=${ok}, none=[${x}]", ok=True, x=None) == "ok=true, none=[]"
    assert compile_expression("Hi ${first} ${last}").names == {"first", "last"}


def test_template_needs_its_variables() -> None:
    with pytest.raises(ExpressionError, match="Unknown variable 'opd_name'"):
        ev("Permohonan ${opd_name} diterima")


def test_is_juel() -> None:
    assert is_juel("${x}")
    assert is_juel("#{x}")
    assert is_juel("Permohonan ${x} diterima")
    assert not is_juel("x > 2")
    assert not is_juel("P3D")
    assert not is_juel("plain text with $ and {braces}")


# --------------------------------------------------------------------------- Python subset


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("approved", True),
        ("not x", True),
        ("a == 'b' and n > 2", True),
        ("a != 'b' or n <= 2", False),
        ("1 < n < 5", True),
        ("1 < n < 2", False),
        ("'b' in [a, 'c']", True),
        ("'z' not in ('a', 'b')", True),
        ("x is None", False),
        ("maybe is not None", False),
        ("'yes' if approved else 'no'", "yes"),
        ("n // 2 + n % 2 - -1", 3),
        ("+n", 3),
        ("d['k'][0]", 1),
        ("l[-1]", 3),
        ("l[1:]", [2, 3]),
        ("{'a': n, 'b': [1, (2,)]}", {"a": 3, "b": [1, (2,)]}),
        ("len({1, 2, 2})", 2),
        ("max(l) + min(l) + sum(l)", 10),
        ("sorted(l, reverse=True)", [3, 2, 1]),
        ("round(2.567, ndigits=2)", 2.57),
        ("int('42') + float('0.5') + abs(-1)", 43.5),
        ("str(n) + upper('x') + strip('  y ')", "3Xy"),
        ("any([False, n]) and all([1, True]) and bool(1)", True),
        ("'a' * 3", "aaa"),
    ],
)
def test_python_subset(text: str, expected: Any) -> None:
    variables = {
        "approved": True,
        "x": False,
        "a": "b",
        "n": 3,
        "maybe": None,
        "d": {"k": [1]},
        "l": [1, 2, 3],
    }
    assert compile_expression(text).evaluate(variables) == expected


def test_boolean_operators_short_circuit() -> None:
    assert ev("missing_ok or undefined_name", missing_ok=True) is True
    assert ev("${x && undefined_name}", x=False) is False


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("().__class__", "Attribute access"),
        ("().__class__.__bases__[0].__subclasses__()", "not allowed"),
        ("__import__('os')", "'__import__'"),
        ("open('x')", "Function 'open' is not allowed"),
        ("eval('1')", "Function 'eval' is not allowed"),
        ("getattr(x, 'y')", "Function 'getattr' is not allowed"),
        ("[x for x in y]", "comprehension"),
        ("{k: 1 for k in y}", "comprehension"),
        ("(x for x in y)", "Generator expression"),
        ("lambda: 1", "lambda"),
        ("a.b", "Attribute access"),
        ("'abc'.upper()", "Method calls"),
        ("f(x)(y)", "Only named functions"),
        ("9**9**9", "power operator"),
        ("'a'*10**9", "power operator"),
        ("(y := 1)", "walrus"),
        ("f'{x}'", "f-string"),
        ("len(*x)", "Unpacking with *"),
        ("max(**x)", "Unpacking with **"),
        ("{**x}", "Unpacking with **"),
        ("x['__class__']", "'__class__'"),
        ("x is 1", "'is'"),
        ("~x", "bitwise"),
        ("x | y", "bitwise"),
        ("b'x'", "bytes"),
        ("1j", "complex"),
        ("...", "ellipsis"),
        ("x if", "Syntax error"),
        ("x = 1", "Syntax error"),
        ("import os", "Syntax error"),
        ("", "Empty expression"),
        ("10000000000000000000000000000000", "too large"),
    ],
)
def test_python_refusals(text: str, fragment: str) -> None:
    refused(text, fragment)


def test_refusal_messages_are_bilingual() -> None:
    err = refused("a.b")
    assert "Attribute access" in err.text("en")
    assert "Akses atribut" in err.text("id")


def test_too_long_and_too_deep_are_refused() -> None:
    refused("x + " * 1000 + "x", "too long")
    refused("not " * 60 + "x", "nested too deeply")
    refused("[" * 60 + "]" * 60, "nested too deeply")
    refused("${" + "!" * 60 + "x}", "nested too deeply")
    assert ev("(((((x)))))", x=1) == 1  # parentheses alone add no depth
    assert ev("not " * 40 + "x", x=True) is True


def test_extra_functions_are_allowed_only_when_declared_and_supplied() -> None:
    refused("workdays(3)", "Function 'workdays' is not allowed")
    compiled = compile_expression("workdays(3)", ["workdays"])
    assert compiled.evaluate({}, {"workdays": lambda n: n * 10}) == 30
    with pytest.raises(ExpressionError, match="'workdays' is not available"):
        compiled.evaluate({})


def test_functions_at_evaluate_time_override_safe_ones() -> None:
    compiled = compile_expression("len(x)")
    assert compiled.evaluate({"x": [1, 2]}) == 2
    assert compiled.evaluate({"x": [1, 2]}, {"len": lambda v: 99}) == 99
    assert compiled.evaluate({"x": [1, 2]}) == 2  # the override did not stick


def test_safe_functions_whitelist_is_short_and_read_only() -> None:
    assert set(SAFE_FUNCTIONS) == {
        "len", "str", "int", "float", "bool", "abs", "min", "max", "round", "sum",
        "any", "all", "sorted", "lower", "upper", "strip", "contains",
    }  # fmt: skip
    with pytest.raises(TypeError):
        SAFE_FUNCTIONS["open"] = open  # type: ignore[index]


# --------------------------------------------------------------------------- runtime errors


def test_unknown_variable_is_bilingual() -> None:
    with pytest.raises(ExpressionError) as info:
        ev("x > 1")
    assert info.value.text("en") == "Unknown variable 'x'"
    assert info.value.text("id") == "Variabel 'x' tidak dikenal"
    assert info.value.context["expression"] == "x > 1"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("'a' < 1", "Cannot compare str and int with '<'"),
        ("'a' + 1", "Cannot apply '+' to str and int"),
        ("-s", "unary minus"),
        ("1 / 0", "Division by zero"),
        ("n % 0", "Division by zero"),
        ("d['missing']", "Key 'missing' not found"),
        ("l[10]", "Index 10 is out of range"),
        ("n[0]", "Cannot index int"),
        ("int('x')", "int() failed"),
        ("len(n)", "len() failed"),
        ("lower(n)", "lower() needs text"),
        ("sum([[1], [2]])", "sum() adds numbers only"),
        ("{[1]: 2}", "Expression failed"),
        ("1 in n", "Cannot compare"),
        ("'%s' % s", "formatting"),
        ("d[k]", "'__"),
    ],
)
def test_runtime_errors_are_expression_errors(text: str, fragment: str) -> None:
    variables = {"s": "a", "n": 3, "d": {"a": 1}, "l": [1], "k": "__class__"}
    with pytest.raises(ExpressionError) as info:
        compile_expression(text).evaluate(variables)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "'a' * 1000000000",
        "1000000000 * [1]",
        "s * 100001",
        "big + big",
        "[1] * 60000 + [2] * 60000",
        "100000000000000 * 100000000000000 * 1000000000000",
        "int(digits)",
        "'%*d' % (1000000000, 1)",
    ],
)
def test_resource_abuse_is_refused(text: str) -> None:
    variables = {"s": "x", "big": "y" * 60_000, "digits": "9" * 40}
    with pytest.raises(ExpressionError, match="too large|formatting"):
        compile_expression(text).evaluate(variables)


def test_sizes_just_under_the_limits_are_fine() -> None:
    assert len(ev("'a' * 100000")) == 100_000
    assert ev("1000000000000000 * 1000000000000000") == 10**30


def test_compiled_expressions_are_cached_and_immutable() -> None:
    first = compile_expression("x + 1")
    assert compile_expression("x + 1") is first
    with pytest.raises(AttributeError):
        first.source = "y"  # type: ignore[misc]


def test_one_expression_shared_by_threads() -> None:
    compiled = compile_expression("${n * 2 + (empty extra ? 0 : extra)}")
    results: dict[int, Any] = {}

    def work(n: int) -> None:
        for _ in range(200):
            results[n] = compiled.evaluate({"n": n} if n % 2 else {"n": n, "extra": 1})

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {n: n * 2 + (0 if n % 2 else 1) for n in range(8)}


# --------------------------------------------------------------------------- scripts


def test_script_assignments_in_order() -> None:
    script = compile_script("x = 1\ny = x + 1\nz += y\n")
    variables: dict[str, Any] = {"z": 10}
    script.execute(variables)
    assert variables == {"x": 1, "y": 2, "z": 12}
    assert script.targets == ("x", "y", "z")
    assert script.names == {"z"}  # x and y are set by the script itself


def test_script_indented_as_in_xml_and_uses_functions() -> None:
    script = compile_script(
        """
        total = len(items) * price
        label = upper(name) + ': ' + str(total)
        due = workdays(2)
        """,
        ["workdays"],
    )
    variables: dict[str, Any] = {"items": [1, 2], "price": 5, "name": "opd"}
    script.execute(variables, {"workdays": lambda n: f"in {n} days"})
    assert variables["label"] == "OPD: 10"
    assert variables["due"] == "in 2 days"
    assert script.functions == {"len", "upper", "str", "workdays"}


def test_failed_script_changes_nothing() -> None:
    script = compile_script("a = 2\nb = missing")
    variables = {"a": 1}
    with pytest.raises(ExpressionError, match="Unknown variable 'missing'"):
        script.execute(variables)
    assert variables == {"a": 1}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("import os", "import"),
        ("from os import path", "import"),
        ("def f():\n    return 1", "Function definitions"),
        ("class A: pass", "Class definitions"),
        ("x.y = 1", "attribute"),
        ("x[0] = 1", "an item"),
        ("a, b = 1, 2", "several names"),
        ("for i in x:\n    y = i", "Loops (for)"),
        ("while True:\n    pass", "Loops (while)"),
        ("if x:\n    y = 1", "if statements"),
        ("print(x)", "bare expression"),
        ("x = open('f')", "Function 'open' is not allowed"),
        ("x = ().__class__", "Attribute access"),
        ("__builtins__ = 1", "'__'"),
        ("x **= 2", "power operator"),
        ("x = (", "Syntax error"),
    ],
)
def test_script_refusals(text: str, fragment: str) -> None:
    with pytest.raises(ExpressionError) as info:
        compile_script(text)
    assert fragment in str(info.value)


def test_script_refusal_names_the_line() -> None:
    with pytest.raises(ExpressionError) as info:
        compile_script("a = 1\nimport os")
    assert info.value.context["line"] == 2
    assert "line 2" in info.value.text("en")
    assert "baris 2" in info.value.text("id")
