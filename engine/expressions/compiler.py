"""The one safe evaluator behind every condition, input mapping, timer and script in a diagram.

Diagrams are uploaded by analysts, so their text is untrusted: it is never handed to ``eval`` or
``exec``. Text is parsed into a Python ``ast`` (Camunda JUEL is translated into the same node
types), checked against a whitelist when the diagram is deployed, and evaluated by walking that
tree here. Anything outside the whitelist is refused at compile time with a bilingual
:class:`~engine.errors.ExpressionError`, so a bad diagram is rejected on deploy rather than
failing in the middle of someone's request. Compiled objects are immutable, so one compiled
expression is shared by every thread and process instance that evaluates it.

What an allowed expression may *compute* is bounded by :mod:`engine.expressions.limits`
(integers up to 10**30, strings and collections up to a weight of 100,000, 1,000,000 built in
all, 0.25 s, ``round`` digits within +-100, ...). The evaluator applies those guards before each
operation that could grow a value, and deploy runs the same guards over every constant
subexpression (:class:`_Folder`), so a bound that is known from the text refuses the diagram.
"""

from __future__ import annotations

import ast
import copy
import textwrap
from collections import ChainMap
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Any

from ..errors import ExpressionError
from . import limits
from .checker import (
    _BINOPS,
    MAX_LENGTH,
    MAX_SCRIPT_LENGTH,
    SAFE_FUNCTIONS,
    ExpressionChecker,
    _Empty,
    _refuse,
)
from .evaluator import _describe, _Evaluator, _merged, _render, _run
from .juel import _JuelParser, _split_el, is_juel
from .limits import LimitExceeded

# --------------------------------------------------------------------------- deploy-time bounds


_NOT_CONSTANT: Any = object()
_FOLD_FAILURES = (ExpressionError, TypeError, ValueError, ArithmeticError, LookupError)


class _Folder:
    """Deploy: runs every constant subexpression once, with the run-time guards, to refuse it.

    A subtree without variables (or with only names a script set to constants earlier) is
    evaluated bottom-up from its children's values, so each node is computed once and only
    after the guards have bounded it: ``round(1, -10**7)`` is refused from its arguments,
    ``['a' * 100000] * 100000`` from the weights of its operands. Dead branches are checked
    too. Only a :class:`LimitExceeded` refuses; any other failure (``1 / 0``) stays a run-time
    error as before. Values are discarded: the compiled tree is not rewritten.
    """

    def __init__(self, extras: frozenset[str]) -> None:
        self.ev = _Evaluator({}, SAFE_FUNCTIONS)
        self.extras = extras
        self.known: dict[str, Any] = {}  # script targets holding a constant so far
        self.folded: dict[int, Any] = {}  # by node: each is computed once

    def fold(self, node: ast.expr) -> Any:
        key = id(node)
        if key not in self.folded:
            self.folded[key] = self.compute(node)
        return self.folded[key]

    def compute(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return self.known.get(node.id, _NOT_CONSTANT)
        if isinstance(node, _Empty):  # reads a name that may be undefined: never constant
            self.fold(node.operand)
            return _NOT_CONSTANT
        copy_ = self.with_constants(node)
        if isinstance(node, ast.Call):
            name = node.func.id  # type: ignore[attr-defined]  # the checker allows only names
            self.check_arguments(name, node)
            if name in self.extras:  # an engine function: its result is not known at deploy
                return _NOT_CONSTANT
        if copy_ is _NOT_CONSTANT:
            return _NOT_CONSTANT
        return self.attempt(lambda: self.ev.eval(copy_))

    def check_arguments(self, name: str, node: ast.Call) -> None:
        """A constant argument with a bound of its own: ``round(amount, -10**7)``."""
        spec = limits.ARGUMENT_CHECKS.get(name)
        if spec is None:
            return
        position, keyword, check = spec
        if position < len(node.args):
            arg: ast.expr | None = node.args[position]
        else:
            arg = next((k.value for k in node.keywords if keyword and k.arg == keyword), None)
        value = _NOT_CONSTANT if arg is None else self.fold(arg)
        if value is not _NOT_CONSTANT:
            self.attempt(lambda: check(value))

    def attempt(self, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except LimitExceeded:
            raise
        except _FOLD_FAILURES:
            return _NOT_CONSTANT

    def with_constants(self, node: ast.AST) -> Any:
        """A shallow copy of node whose expression children are Constants, or _NOT_CONSTANT.

        Every child is folded even when an earlier one is not constant, so that a bad constant
        anywhere in the tree is found.
        """
        new = copy.copy(node)
        constant = True
        for name, value in ast.iter_fields(node):
            if name == "func":
                continue
            if isinstance(value, list):
                parts = [self.part(v) for v in value]
                constant = constant and _NOT_CONSTANT not in parts
                setattr(new, name, parts)
            elif isinstance(value, ast.expr | ast.keyword):
                part = self.part(value)
                constant = constant and part is not _NOT_CONSTANT
                setattr(new, name, part)
        return new if constant else _NOT_CONSTANT

    def part(self, child: Any) -> Any:
        if isinstance(child, ast.Slice | ast.keyword):
            return self.with_constants(child)
        if not isinstance(child, ast.expr):
            return child  # an operator of a Compare, or None in a slice
        value = self.fold(child)
        return _NOT_CONSTANT if value is _NOT_CONSTANT else ast.Constant(value=value)

    def assign(self, target: str, op: ast.operator | None, node: ast.expr) -> None:
        """A script line: what the target holds afterwards, if that is known at deploy."""
        value = self.fold(node)
        if op is not None:
            old, operand = self.known.get(target, _NOT_CONSTANT), value
            value = _NOT_CONSTANT
            if old is not _NOT_CONSTANT and operand is not _NOT_CONSTANT:
                value = self.attempt(lambda: self.ev.apply(op, old, operand))
        if value is _NOT_CONSTANT:
            self.known.pop(target, None)
        else:
            self.known[target] = value


# --------------------------------------------------------------------------- public API


@dataclass(frozen=True, eq=False)
class Expression:
    """A checked expression: immutable, so one instance serves every thread."""

    source: str
    names: frozenset[str]
    functions: frozenset[str]
    _parts: tuple[str | ast.expr, ...] = field(repr=False)
    _template: bool = field(default=False, repr=False)

    def evaluate(
        self,
        variables: Mapping[str, Any],
        functions: Mapping[str, Callable[..., Any]] | None = None,
    ) -> Any:
        """Evaluate against process variables; ``functions`` extends or overrides SAFE_FUNCTIONS."""
        ev = _Evaluator(variables, _merged(functions))
        if not self._template:
            node = self._parts[0]
            assert isinstance(node, ast.expr)
            return _run(self.source, lambda: ev.eval(node))

        def render() -> str:
            text = "".join(p if isinstance(p, str) else _render(ev.eval(p)) for p in self._parts)
            return ev.built(text)

        return _run(self.source, render)


def compile_expression(text: str, extra_functions: Iterable[str] = ()) -> Expression:
    """Check text once (on deploy) and return a reusable Expression.

    ``${...}``/``#{...}`` is JUEL, text mixing literals and ``${...}`` is a template that yields
    a string, anything else must be the Python subset. ``extra_functions`` names what the
    engine will pass at evaluation time (e.g. ``workdays``), so deploy can accept those calls.
    """
    return _compile_expression(text, tuple(sorted(set(extra_functions))))


def _check_text(text: Any, limit: int) -> None:
    if not isinstance(text, str):
        raise ExpressionError(
            f"Expression must be text, got {_describe(text)}",
            f"Ekspresi harus berupa teks, bukan {_describe(text)}",
        )
    if len(text) > limit:
        raise ExpressionError(
            f"Expression is too long ({len(text)} characters, at most {limit})",
            f"Ekspresi terlalu panjang ({len(text)} karakter, paling banyak {limit})",
            expression=text[:200],
        )


def _parse_python(text: str, mode: str) -> ast.AST:
    try:
        return ast.parse(text, mode=mode)
    except SyntaxError as e:
        where = f" (line {e.lineno}, column {e.offset})" if e.lineno else ""
        where_id = f" (baris {e.lineno}, kolom {e.offset})" if e.lineno else ""
        raise ExpressionError(
            f"Syntax error: {e.msg}{where}",
            f"Kesalahan sintaks: {e.msg}{where_id}",
            expression=text,
        )
    except (ValueError, RecursionError, MemoryError) as e:
        raise ExpressionError(
            f"Cannot parse expression: {e}", f"Ekspresi tidak bisa dibaca: {e}", expression=text
        )


@lru_cache(maxsize=4096)
def _compile_expression(text: str, extras: tuple[str, ...]) -> Expression:
    _check_text(text, MAX_LENGTH)
    checker = ExpressionChecker(text, frozenset(SAFE_FUNCTIONS) | frozenset(extras))
    folder = _Folder(frozenset(extras))
    if is_juel(text):
        pieces = _split_el(text.strip(), text)
        template = not (len(pieces) == 1 and pieces[0][0])
        if template:
            pieces = _split_el(text, text)
        parts: list[str | ast.expr] = []
        for is_expr, piece in pieces:
            if is_expr:
                node = _JuelParser(piece, text).parse()
                checker.check(node)
                _run(text, partial(folder.fold, node))
                parts.append(node)
            else:
                parts.append(piece)
    else:
        if not text.strip():
            raise ExpressionError("Empty expression", "Ekspresi kosong", expression=text)
        tree = _parse_python(text.strip(), "eval")
        assert isinstance(tree, ast.Expression)
        checker.check(tree.body)
        _run(text, lambda: folder.fold(tree.body))
        parts, template = [tree.body], False
    return Expression(
        source=text,
        names=frozenset(checker.names),
        functions=frozenset(checker.functions),
        _parts=tuple(parts),
        _template=template,
    )


_STATEMENT_REFUSALS: dict[type, tuple[str, str]] = {
    ast.Import: ("import", "import"),
    ast.ImportFrom: ("import", "import"),
    ast.FunctionDef: ("Function definitions (def)", "Definisi fungsi (def)"),
    ast.AsyncFunctionDef: ("Function definitions (def)", "Definisi fungsi (def)"),
    ast.ClassDef: ("Class definitions", "Definisi kelas"),
    ast.For: ("Loops (for)", "Perulangan (for)"),
    ast.AsyncFor: ("Loops (for)", "Perulangan (for)"),
    ast.While: ("Loops (while)", "Perulangan (while)"),
    ast.If: (
        "if statements (use 'x = a if c else b')",
        "Pernyataan if (pakai 'x = a if c else b')",
    ),
    ast.Expr: (
        "A bare expression (write 'name = expression')",
        "Ekspresi lepas (tulis 'nama = ekspresi')",
    ),
}


@dataclass(frozen=True, eq=False)
class Script:
    """A script task body: only ``name = expr`` / ``name += expr`` lines, applied all or nothing."""

    source: str
    targets: tuple[str, ...]
    names: frozenset[str]
    functions: frozenset[str]
    _steps: tuple[tuple[str, ast.operator | None, ast.expr], ...] = field(repr=False)

    def execute(
        self,
        variables: MutableMapping[str, Any],
        functions: Mapping[str, Callable[..., Any]] | None = None,
    ) -> None:
        """Run every line; variables change only if all succeed, so a failed task can be retried."""
        staged: dict[str, Any] = {}
        ev = _Evaluator(ChainMap(staged, variables), _merged(functions))

        def run() -> None:
            for target, op, node in self._steps:
                value = ev.eval(node)
                if op is not None:
                    value = ev.apply(op, ev.lookup(target), value)
                staged[target] = value

        _run(self.source, run)
        variables.update(staged)


def compile_script(text: str, extra_functions: Iterable[str] = ()) -> Script:
    """Check a script task on deploy; anything but assignments of safe expressions is refused."""
    return _compile_script(text, tuple(sorted(set(extra_functions))))


@lru_cache(maxsize=1024)
def _compile_script(text: str, extras: tuple[str, ...]) -> Script:
    _check_text(text, MAX_SCRIPT_LENGTH)
    tree = _parse_python(textwrap.dedent(text), "exec")
    assert isinstance(tree, ast.Module)
    allowed = frozenset(SAFE_FUNCTIONS) | frozenset(extras)
    steps: list[tuple[str, ast.operator | None, ast.expr]] = []
    targets: list[str] = []
    names: set[str] = set()
    functions: set[str] = set()
    folder = _Folder(frozenset(extras))
    for stmt in tree.body:
        target, op, value = _statement(stmt, text)
        checker = ExpressionChecker(text, allowed)
        checker.check_name(target)
        checker.check(value)
        if op is not None:
            if type(op) not in _BINOPS:
                raise _refuse(op, text)
            checker.names.add(target)
        _fold_line(folder, target, op, value, stmt.lineno, text)
        names |= checker.names - set(targets)
        functions |= checker.functions
        if target not in targets:
            targets.append(target)
        steps.append((target, op, value))
    return Script(
        source=text,
        targets=tuple(targets),
        names=frozenset(names),
        functions=frozenset(functions),
        _steps=tuple(steps),
    )


def _fold_line(
    folder: _Folder, target: str, op: ast.operator | None, value: ast.expr, line: int, text: str
) -> None:
    try:
        folder.assign(target, op, value)
    except LimitExceeded as e:
        raise LimitExceeded(
            f"Script line {line}: {e.message_en}",
            f"Skrip baris {line}: {e.message_id}",
            expression=text,
            line=line,
        ) from None


def _statement(stmt: ast.stmt, source: str) -> tuple[str, ast.operator | None, ast.expr]:
    line = stmt.lineno
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target = stmt.targets[0]
        if isinstance(target, ast.Name):
            return target.id, None, stmt.value
        return _bad_target(target, line, source)
    if isinstance(stmt, ast.AugAssign):
        if isinstance(stmt.target, ast.Name):
            return stmt.target.id, stmt.op, stmt.value
        return _bad_target(stmt.target, line, source)
    en, id_ = _STATEMENT_REFUSALS.get(
        type(stmt), (f"'{type(stmt).__name__}' statements", f"Pernyataan '{type(stmt).__name__}'")
    )
    raise ExpressionError(
        f"Script line {line}: {en} is not allowed; only 'name = expression' lines are",
        f"Skrip baris {line}: {id_} tidak diizinkan; hanya baris 'nama = ekspresi'",
        expression=source,
        line=line,
    )


def _bad_target(target: ast.expr, line: int, source: str) -> Any:
    kind_en, kind_id = {
        ast.Attribute: ("an attribute (x.y = ...)", "atribut (x.y = ...)"),
        ast.Subscript: ("an item (x[k] = ...)", "elemen (x[k] = ...)"),
        ast.Tuple: ("several names at once", "beberapa nama sekaligus"),
    }.get(type(target), ("this target", "target ini"))
    raise ExpressionError(
        f"Script line {line}: assigning to {kind_en} is not allowed; assign to a plain name",
        f"Skrip baris {line}: penugasan ke {kind_id} tidak diizinkan; pakai nama biasa",
        expression=source,
        line=line,
    )
