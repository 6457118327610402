"""The deploy-time whitelist: which Python ``ast`` nodes, names and calls an expression may use."""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

from ..errors import ExpressionError
from . import limits
from .limits import MAX_INT

MAX_LENGTH = 4000  # an expression longer than this is a program, not a condition
MAX_SCRIPT_LENGTH = 20_000
MAX_DEPTH = 50  # bounds recursion in the checker and the evaluator


# --------------------------------------------------------------------------- safe functions


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ExpressionError(
            f"{name}() needs text, got {type(value).__name__}",
            f"{name}() butuh teks, bukan {type(value).__name__}",
        )
    return value


def _lower(value: Any) -> str:
    return _text("lower", value).lower()


def _upper(value: Any) -> str:
    return _text("upper", value).upper()


def _strip(value: Any) -> str:
    return _text("strip", value).strip()


def _contains(container: Any, item: Any) -> bool:
    return item in container


def _sum(values: Iterable[Any], start: int | float = 0) -> int | float:
    """Numbers only: ``sum`` over lists would concatenate them past every size guard."""
    items = list(values)
    if not all(isinstance(v, int | float) for v in [*items, start]):
        raise ExpressionError("sum() adds numbers only", "sum() hanya menjumlahkan angka")
    return sum(items, start)


SAFE_FUNCTIONS: Mapping[str, Callable[..., Any]] = MappingProxyType(
    {
        "len": len,
        "str": limits.safe_str,
        "int": limits.safe_int,
        "float": float,
        "bool": bool,
        "abs": abs,
        "min": min,
        "max": max,
        "round": limits.safe_round,
        "sum": _sum,
        "any": any,
        "all": all,
        "sorted": sorted,
        "lower": _lower,
        "upper": _upper,
        "strip": _strip,
        "contains": _contains,
    }
)


# --------------------------------------------------------------------------- AST whitelist


class _Empty(ast.expr):
    """JUEL ``empty x``: its own node because, unlike any other read, x may be undefined."""

    _fields = ("operand",)

    def __init__(self, operand: ast.expr) -> None:
        super().__init__()
        self.operand = operand


_BINOPS: dict[type, tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ("+", operator.add),
    ast.Sub: ("-", operator.sub),
    ast.Mult: ("*", operator.mul),
    ast.Div: ("/", operator.truediv),
    ast.FloorDiv: ("//", operator.floordiv),
    ast.Mod: ("%", operator.mod),
}

_COMPARES: dict[type, tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Eq: ("==", operator.eq),
    ast.NotEq: ("!=", operator.ne),
    ast.Lt: ("<", operator.lt),
    ast.LtE: ("<=", operator.le),
    ast.Gt: (">", operator.gt),
    ast.GtE: (">=", operator.ge),
    ast.In: ("in", lambda a, b: a in b),
    ast.NotIn: ("not in", lambda a, b: a not in b),
    ast.Is: ("is", operator.is_),
    ast.IsNot: ("is not", operator.is_not),
}

_REFUSED: dict[type, tuple[str, str]] = {
    ast.Attribute: ("Attribute access (a.b)", "Akses atribut (a.b)"),
    ast.Lambda: ("A lambda", "Lambda"),
    ast.ListComp: ("A comprehension", "Comprehension"),
    ast.SetComp: ("A comprehension", "Comprehension"),
    ast.DictComp: ("A comprehension", "Comprehension"),
    ast.GeneratorExp: ("A generator expression", "Generator expression"),
    ast.NamedExpr: ("The walrus operator (:=)", "Operator walrus (:=)"),
    ast.JoinedStr: ("An f-string", "f-string"),
    ast.FormattedValue: ("An f-string", "f-string"),
    ast.Starred: ("Unpacking with *", "Unpacking dengan *"),
    ast.Await: ("await", "await"),
    ast.Yield: ("yield", "yield"),
    ast.YieldFrom: ("yield", "yield"),
    ast.Pow: ("The power operator (**)", "Operator pangkat (**)"),
    ast.MatMult: ("The operator @", "Operator @"),
    ast.BitAnd: ("A bitwise operator", "Operator bitwise"),
    ast.BitOr: ("A bitwise operator", "Operator bitwise"),
    ast.BitXor: ("A bitwise operator", "Operator bitwise"),
    ast.LShift: ("A bitwise operator", "Operator bitwise"),
    ast.RShift: ("A bitwise operator", "Operator bitwise"),
    ast.Invert: ("A bitwise operator", "Operator bitwise"),
}


def _refuse(node: ast.AST, source: str) -> ExpressionError:
    en, id_ = _REFUSED.get(type(node), (f"'{type(node).__name__}'", f"'{type(node).__name__}'"))
    return ExpressionError(
        f"{en} is not allowed in an expression",
        f"{id_} tidak diizinkan dalam ekspresi",
        expression=source,
    )


def _is_dunder(name: str) -> bool:
    return name.startswith("__")


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


class ExpressionChecker:
    """Walks a parsed tree once at compile time; evaluation trusts what passed here."""

    def __init__(self, source: str, allowed: frozenset[str]) -> None:
        self.source = source
        self.allowed = allowed
        self.names: set[str] = set()
        self.functions: set[str] = set()

    def fail(self, en: str, id_: str) -> ExpressionError:
        return ExpressionError(en, id_, expression=self.source)

    def check(self, node: ast.expr, depth: int = 0) -> None:
        if depth > MAX_DEPTH:
            raise self.fail(
                f"Expression is nested too deeply (more than {MAX_DEPTH} levels)",
                f"Ekspresi terlalu bertingkat (lebih dari {MAX_DEPTH} tingkat)",
            )
        d = depth + 1
        match node:
            case ast.Constant(value=value):
                self.check_constant(value)
            case ast.Name(id=name):
                self.check_name(name)
                self.names.add(name)
            case ast.BoolOp(values=values):
                for v in values:
                    self.check(v, d)
            case ast.UnaryOp(op=op, operand=operand):
                if not isinstance(op, ast.Not | ast.USub | ast.UAdd):
                    raise _refuse(op, self.source)
                self.check(operand, d)
            case ast.BinOp(left=left, op=op, right=right):
                if type(op) not in _BINOPS:
                    raise _refuse(op, self.source)
                self.check(left, d)
                self.check(right, d)
            case ast.Compare(left=left, ops=ops, comparators=comparators):
                self.check_compare(left, ops, comparators, d)
            case ast.IfExp(test=test, body=body, orelse=orelse):
                for part in (test, body, orelse):
                    self.check(part, d)
            case ast.List(elts=elts) | ast.Tuple(elts=elts) | ast.Set(elts=elts):
                for e in elts:
                    self.check(e, d)
            case ast.Dict(keys=keys, values=values):
                for k, v in zip(keys, values, strict=True):
                    if k is None:
                        raise self.fail(
                            "Unpacking with ** is not allowed in an expression",
                            "Unpacking dengan ** tidak diizinkan dalam ekspresi",
                        )
                    self.check(k, d)
                    self.check(v, d)
            case ast.Subscript(value=value, slice=index):
                self.check(value, d)
                self.check_index(index, d)
            case ast.Call():
                self.check_call(node, d)
            case _Empty(operand=operand):
                self.check(operand, d)
            case _:
                raise _refuse(node, self.source)

    def check_constant(self, value: Any) -> None:
        if value is not None and not isinstance(value, bool | int | float | str):
            raise self.fail(
                f"Literal of type {type(value).__name__} is not allowed",
                f"Literal bertipe {type(value).__name__} tidak diizinkan",
            )
        if isinstance(value, int) and abs(value) > MAX_INT:
            raise self.fail("Number literal is too large", "Angka literal terlalu besar")

    def check_name(self, name: str) -> None:
        if _is_dunder(name):
            raise self.fail(
                f"Names starting with '__' are not allowed: '{name}'",
                f"Nama yang diawali '__' tidak diizinkan: '{name}'",
            )

    def check_compare(
        self, left: ast.expr, ops: list[ast.cmpop], comparators: list[ast.expr], d: int
    ) -> None:
        operands = [left, *comparators]
        for i, op in enumerate(ops):
            if type(op) not in _COMPARES:
                raise _refuse(op, self.source)
            if isinstance(op, ast.Is | ast.IsNot) and not (
                _is_none(operands[i]) or _is_none(operands[i + 1])
            ):
                raise self.fail(
                    "'is' / 'is not' may only compare with None",
                    "'is' / 'is not' hanya boleh dibandingkan dengan None",
                )
        for operand in operands:
            self.check(operand, d)

    def check_index(self, index: ast.expr, d: int) -> None:
        if (
            isinstance(index, ast.Constant)
            and isinstance(index.value, str)
            and _is_dunder(index.value)
        ):
            raise self.fail(
                f"Keys starting with '__' are not allowed: '{index.value}'",
                f"Kunci yang diawali '__' tidak diizinkan: '{index.value}'",
            )
        if isinstance(index, ast.Slice):
            for part in (index.lower, index.upper, index.step):
                if part is not None:
                    self.check(part, d)
            return
        self.check(index, d)

    def check_call(self, node: ast.Call, d: int) -> None:
        if not isinstance(node.func, ast.Name):
            if isinstance(node.func, ast.Attribute):
                raise self.fail(
                    "Method calls (a.b()) are not allowed; call a named function",
                    "Pemanggilan method (a.b()) tidak diizinkan; panggil fungsi bernama",
                )
            raise self.fail(
                "Only named functions can be called",
                "Hanya fungsi bernama yang boleh dipanggil",
            )
        name = node.func.id
        self.check_name(name)
        if name not in self.allowed:
            allowed = ", ".join(sorted(self.allowed))
            raise self.fail(
                f"Function '{name}' is not allowed (allowed: {allowed})",
                f"Fungsi '{name}' tidak diizinkan (yang boleh: {allowed})",
            )
        self.functions.add(name)
        for arg in node.args:
            self.check(arg, d)
        for kw in node.keywords:
            if kw.arg is None:
                raise self.fail(
                    "Unpacking with ** is not allowed in an expression",
                    "Unpacking dengan ** tidak diizinkan dalam ekspresi",
                )
            self.check(kw.value, d)
