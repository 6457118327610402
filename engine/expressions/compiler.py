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
import operator
import re
import textwrap
from collections import ChainMap
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sized
from dataclasses import dataclass, field
from functools import lru_cache, partial
from types import MappingProxyType
from typing import Any

from ..errors import ExpressionError, SopflowError
from . import limits
from .limits import MAX_INT, MAX_SIZE, MAX_WORK, LimitExceeded, check_value

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


class _Checker:
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


# --------------------------------------------------------------------------- JUEL


_JUEL_TOKEN = re.compile(
    r"""(?P<ws>\s+)
      |(?P<num>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
      |(?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      |(?P<name>[^\W\d]\w*)
      |(?P<op>&&|\|\||==|!=|<=|>=|[-+*/%<>!?:()\[\],.])""",
    re.VERBOSE | re.DOTALL,
)
_JUEL_WORD_OPS = {
    "and": "&&",
    "or": "||",
    "not": "!",
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "gt": ">",
    "le": "<=",
    "ge": ">=",
    "div": "/",
    "mod": "%",
    "empty": "empty",
}
_JUEL_CONSTANTS = {"true": True, "false": False, "null": None}
_JUEL_INFIX: dict[str, tuple[int, Callable[[ast.expr, ast.expr], ast.expr]]] = {}
_PREFIX_BP = 8


def _juel_bool(op: ast.boolop) -> Callable[[ast.expr, ast.expr], ast.expr]:
    def build(left: ast.expr, right: ast.expr) -> ast.expr:
        # a && b && c becomes one flat BoolOp, as Python parses a and b and c
        if isinstance(left, ast.BoolOp) and type(left.op) is type(op):
            return ast.BoolOp(op=op, values=[*left.values, right])
        return ast.BoolOp(op=op, values=[left, right])

    return build


def _juel_compare(op: ast.cmpop) -> Callable[[ast.expr, ast.expr], ast.expr]:
    return lambda left, right: ast.Compare(left=left, ops=[op], comparators=[right])


def _juel_binop(op: ast.operator) -> Callable[[ast.expr, ast.expr], ast.expr]:
    return lambda left, right: ast.BinOp(left=left, op=op, right=right)


_JUEL_INFIX.update(
    {
        "||": (2, _juel_bool(ast.Or())),
        "&&": (3, _juel_bool(ast.And())),
        "==": (4, _juel_compare(ast.Eq())),
        "!=": (4, _juel_compare(ast.NotEq())),
        "<": (5, _juel_compare(ast.Lt())),
        ">": (5, _juel_compare(ast.Gt())),
        "<=": (5, _juel_compare(ast.LtE())),
        ">=": (5, _juel_compare(ast.GtE())),
        "+": (6, _juel_binop(ast.Add())),
        "-": (6, _juel_binop(ast.Sub())),
        "*": (7, _juel_binop(ast.Mult())),
        "/": (7, _juel_binop(ast.Div())),
        "%": (7, _juel_binop(ast.Mod())),
    }
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # num, str, name, const, op, end
    value: Any
    pos: int


def _juel_tokens(inner: str, source: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(inner):
        m = _JUEL_TOKEN.match(inner, pos)
        if m is None:
            raise _juel_bad_char(inner[pos], pos, source)
        kind, text = m.lastgroup or "", m.group()
        if kind == "num":
            tokens.append(
                _Token("num", float(text) if "." in text or "e" in text.lower() else int(text), pos)
            )
        elif kind == "str":
            tokens.append(_Token("str", re.sub(r"\\([\\'\"])", r"\1", text[1:-1]), pos))
        elif kind == "name" and text in _JUEL_CONSTANTS:
            tokens.append(_Token("const", _JUEL_CONSTANTS[text], pos))
        elif kind == "name" and text in _JUEL_WORD_OPS:
            tokens.append(_Token("op", _JUEL_WORD_OPS[text], pos))
        elif kind == "name" and text == "instanceof":
            raise ExpressionError(
                "JUEL 'instanceof' is not supported",
                "'instanceof' pada JUEL tidak didukung",
                expression=source,
            )
        elif kind != "ws":
            tokens.append(_Token(kind, text, pos))
        pos = m.end()
    tokens.append(_Token("end", None, len(inner)))
    return tokens


def _juel_bad_char(char: str, pos: int, source: str) -> ExpressionError:
    hint_en, hint_id = "", ""
    if char == "=":
        hint_en, hint_id = " (use '==' to compare)", " (pakai '==' untuk membandingkan)"
    elif char in "&|":
        hint_en, hint_id = " (use '&&' or '||')", " (pakai '&&' atau '||')"
    return ExpressionError(
        f"Unexpected character '{char}' at position {pos + 1}{hint_en}",
        f"Karakter '{char}' tidak terduga di posisi {pos + 1}{hint_id}",
        expression=source,
    )


class _JuelParser:
    """A Pratt parser from the JUEL subset to the Python node types the checker knows."""

    def __init__(self, inner: str, source: str) -> None:
        self.tokens = _juel_tokens(inner, source)
        self.source = source
        self.i = 0
        self.depth = 0

    def fail(self, en: str, id_: str) -> ExpressionError:
        return ExpressionError(en, id_, expression=self.source)

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def advance(self) -> _Token:
        tok = self.tokens[self.i]
        if tok.kind != "end":
            self.i += 1
        return tok

    def unexpected(self, tok: _Token) -> ExpressionError:
        if tok.kind == "end":
            return self.fail("Unexpected end of expression", "Ekspresi berakhir tiba-tiba")
        return self.fail(
            f"Unexpected '{tok.value}' at position {tok.pos + 1}",
            f"'{tok.value}' tidak terduga di posisi {tok.pos + 1}",
        )

    def expect(self, op: str) -> None:
        tok = self.advance()
        if tok.kind != "op" or tok.value != op:
            raise self.unexpected(tok)

    def parse(self) -> ast.expr:
        if self.peek().kind == "end":
            raise self.fail("Empty expression", "Ekspresi kosong")
        node = self.expr(0)
        if self.peek().kind != "end":
            raise self.unexpected(self.peek())
        return node

    def expr(self, min_bp: int) -> ast.expr:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(
                f"Expression is nested too deeply (more than {MAX_DEPTH} levels)",
                f"Ekspresi terlalu bertingkat (lebih dari {MAX_DEPTH} tingkat)",
            )
        left = self.prefix()
        while (tok := self.peek()).kind == "op":
            if tok.value in ("(", "[", "."):
                left = self.postfix(left)
                continue
            if tok.value == "?":
                if min_bp >= 1:
                    break
                self.advance()
                body = self.expr(0)
                self.expect(":")
                left = ast.IfExp(test=left, body=body, orelse=self.expr(0))
                continue
            infix = _JUEL_INFIX.get(tok.value)
            if infix is None or infix[0] <= min_bp:
                break
            self.advance()
            left = infix[1](left, self.expr(infix[0]))
        self.depth -= 1
        return left

    def prefix(self) -> ast.expr:
        tok = self.advance()
        if tok.kind in ("num", "str", "const"):
            return ast.Constant(value=tok.value)
        if tok.kind == "name":
            return ast.Name(id=tok.value, ctx=ast.Load())
        if tok.kind == "op":
            if tok.value == "(":
                node = self.expr(0)
                self.expect(")")
                return node
            if tok.value == "-":
                return ast.UnaryOp(op=ast.USub(), operand=self.expr(_PREFIX_BP))
            if tok.value == "!":
                return ast.UnaryOp(op=ast.Not(), operand=self.expr(_PREFIX_BP))
            if tok.value == "empty":
                return _Empty(self.expr(_PREFIX_BP))
        raise self.unexpected(tok)

    def postfix(self, left: ast.expr) -> ast.expr:
        tok = self.advance()
        if tok.value == ".":
            member = self.peek().value if self.peek().kind == "name" else "..."
            raise self.fail(
                f"Member access ('.{member}') is not supported; pass the value as a variable",
                f"Akses anggota ('.{member}') tidak didukung; kirim nilainya sebagai variabel",
            )
        if tok.value == "[":
            index = self.expr(0)
            self.expect("]")
            return ast.Subscript(value=left, slice=index, ctx=ast.Load())
        if not isinstance(left, ast.Name):
            raise self.fail(
                "Only named functions can be called", "Hanya fungsi bernama yang boleh dipanggil"
            )
        args: list[ast.expr] = []
        if not (self.peek().kind == "op" and self.peek().value == ")"):
            args.append(self.expr(0))
            while self.peek().kind == "op" and self.peek().value == ",":
                self.advance()
                args.append(self.expr(0))
        self.expect(")")
        return ast.Call(func=left, args=args, keywords=[])


def _split_el(text: str, source: str) -> list[tuple[bool, str]]:
    """Split text into (is_expression, text) parts; a '}' inside a string literal is not an end."""
    parts: list[tuple[bool, str]] = []
    pos = 0
    while (start := _next_opener(text, pos)) >= 0:
        if start > pos:
            parts.append((False, text[pos:start]))
        i = start + 2
        while i < len(text) and text[i] != "}":
            if text[i] in "'\"":
                quote, i = text[i], i + 1
                while i < len(text) and text[i] != quote:
                    i += 2 if text[i] == "\\" else 1
            i += 1
        if i >= len(text):
            raise ExpressionError(
                f"Unterminated expression starting at position {start + 1} (missing '}}')",
                f"Ekspresi mulai posisi {start + 1} tidak ditutup (kurang '}}')",
                expression=source,
            )
        parts.append((True, text[start + 2 : i]))
        pos = i + 1
    if pos < len(text):
        parts.append((False, text[pos:]))
    return parts


def _next_opener(text: str, pos: int) -> int:
    found = [i for i in (text.find("${", pos), text.find("#{", pos)) if i >= 0]
    return min(found) if found else -1


def is_juel(text: str) -> bool:
    """True when Camunda would read the text as EL: a ``${...}``/``#{...}`` alone or in a template.

    Text without any ``${``/``#{`` is plain: a constant to Camunda, or the Python subset where
    an expression is expected. The caller decides which.
    """
    return isinstance(text, str) and _next_opener(text, 0) >= 0


# --------------------------------------------------------------------------- evaluation


class _Undefined(ExpressionError):
    """A read of a missing variable; separate so ``empty x`` can treat it as empty."""


def _guard_binop(op: ast.operator, a: Any, b: Any) -> None:
    """Refuse before computing: the memory for 'a' * 10**9 must never be allocated."""
    seq = str | list | tuple
    if isinstance(op, ast.Mult):
        if isinstance(a, int) and isinstance(b, int):
            limits.guard_int_product(a, b)
        elif isinstance(a, seq) and isinstance(b, int):
            limits.guard_repeat(a, b)
        elif isinstance(b, seq) and isinstance(a, int):
            limits.guard_repeat(b, a)
    elif isinstance(op, ast.Add) and isinstance(a, seq) and isinstance(b, seq):
        if type(a) is str and type(b) is str:  # the common case, in one line
            if len(a) + len(b) > MAX_SIZE:
                raise limits.too_large()
        else:
            limits.guard_concat(a, b)
    elif isinstance(op, ast.Mod) and isinstance(a, str | bytes):
        # '%*d' % (10**9, 1) builds a gigabyte string; formatting is not part of the subset
        raise ExpressionError(
            "String formatting with % is not supported", "Format teks dengan % tidak didukung"
        )


_SCALARS = (bool, int, float, type(None))
_WALKED = frozenset({list, tuple, set, frozenset, dict})  # what == and < walk item by item


def _describe(value: Any) -> str:
    return "None" if value is None else type(value).__name__


def _render(value: Any) -> str:
    """How a template shows a value: as Camunda does, null is empty and booleans are lower case."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    limits.guard_render(value)
    return str(value)


class _Evaluator:
    """Walks a checked tree; the costly steps (see expression_limits) call :meth:`spend`."""

    __slots__ = ("deadline", "functions", "variables", "work")

    def __init__(self, variables: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]]):
        self.variables = variables
        self.functions = functions
        self.work = MAX_WORK  # what is left of this evaluation's budget
        self.deadline = 0.0  # set by the first costly step

    def spend(self, units: int = 0) -> None:
        self.work -= units
        if self.work < 0:
            raise limits.work_exceeded()
        now = limits.clock()
        if not self.deadline:
            self.deadline = now + limits.MAX_SECONDS
        elif now > self.deadline:
            raise limits.too_slow()

    def built(self, value: Any) -> Any:
        """A value this evaluation made: within the bounds, and paid for from the budget."""
        if isinstance(value, _SCALARS):
            return check_value(value)
        size = len(value) if type(value) is str else limits.weight(value)
        if size > MAX_SIZE:
            raise limits.too_large()
        self.spend(size)
        return value

    def eval(self, node: ast.expr) -> Any:
        return _HANDLERS[type(node)](self, node)

    def constant(self, node: ast.Constant) -> Any:
        return node.value

    def name(self, node: ast.Name) -> Any:
        return self.lookup(node.id)

    def lookup(self, name: str) -> Any:
        if name not in self.variables:
            raise _Undefined(f"Unknown variable '{name}'", f"Variabel '{name}' tidak dikenal")
        return self.variables[name]

    def boolop(self, node: ast.BoolOp) -> Any:
        value: Any = None
        for part in node.values:
            value = self.eval(part)
            if isinstance(node.op, ast.And) and not value:
                return value
            if isinstance(node.op, ast.Or) and value:
                return value
        return value

    def unaryop(self, node: ast.UnaryOp) -> Any:
        value = self.eval(node.operand)
        if isinstance(node.op, ast.Not):
            return not value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ExpressionError(
                f"Cannot apply unary minus/plus to {_describe(value)}",
                f"Tanda minus/plus tidak bisa dipakai untuk {_describe(value)}",
            )
        return -value if isinstance(node.op, ast.USub) else value

    def binop(self, node: ast.BinOp) -> Any:
        return self.apply(node.op, self.eval(node.left), self.eval(node.right))

    def apply(self, op: ast.operator, a: Any, b: Any) -> Any:
        symbol, fn = _BINOPS[type(op)]
        _guard_binop(op, a, b)
        try:
            return self.built(fn(a, b))
        except ZeroDivisionError:
            raise ExpressionError("Division by zero", "Pembagian dengan nol")
        except TypeError:
            raise ExpressionError(
                f"Cannot apply '{symbol}' to {_describe(a)} and {_describe(b)}",
                f"Operator '{symbol}' tidak bisa dipakai untuk {_describe(a)} dan {_describe(b)}",
            )

    def compare(self, node: ast.Compare) -> bool:
        left = self.eval(node.left)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.eval(right_node)
            symbol, fn = _COMPARES[type(op)]
            if type(left) in _WALKED or type(right) in _WALKED:
                self.spend()  # comparing collections walks them: it counts for time
            try:
                ok = fn(left, right)
            except TypeError:
                raise ExpressionError(
                    f"Cannot compare {_describe(left)} and {_describe(right)} with '{symbol}'",
                    f"{_describe(left)} dan {_describe(right)} tidak bisa dibandingkan "
                    f"dengan '{symbol}'",
                )
            if not ok:
                return False
            left = right
        return True

    def ifexp(self, node: ast.IfExp) -> Any:
        return self.eval(node.body) if self.eval(node.test) else self.eval(node.orelse)

    def list_(self, node: ast.List) -> list[Any]:
        return self.built([self.eval(e) for e in node.elts])

    def tuple_(self, node: ast.Tuple) -> tuple[Any, ...]:
        return self.built(tuple(self.eval(e) for e in node.elts))

    def set_(self, node: ast.Set) -> set[Any]:
        return self.built({self.eval(e) for e in node.elts})

    def dict_(self, node: ast.Dict) -> dict[Any, Any]:
        pairs = zip(node.keys, node.values, strict=True)
        return self.built({self.eval(k): self.eval(v) for k, v in pairs})  # type: ignore[arg-type]

    def subscript(self, node: ast.Subscript) -> Any:
        container = self.eval(node.value)
        if isinstance(node.slice, ast.Slice):
            s = node.slice
            index: Any = slice(
                *(None if p is None else self.eval(p) for p in (s.lower, s.upper, s.step))
            )
        else:
            index = self.eval(node.slice)
        if isinstance(index, str) and _is_dunder(index):
            raise ExpressionError(
                f"Keys starting with '__' are not allowed: '{index}'",
                f"Kunci yang diawali '__' tidak diizinkan: '{index}'",
            )
        try:
            if isinstance(index, slice):
                self.spend()
                return self.built(container[index])
            return container[index]
        except KeyError:
            raise ExpressionError(f"Key {index!r} not found", f"Kunci {index!r} tidak ada")
        except IndexError:
            raise ExpressionError(
                f"Index {index!r} is out of range", f"Indeks {index!r} di luar jangkauan"
            )
        except TypeError:
            raise ExpressionError(
                f"Cannot index {_describe(container)} with {_describe(index)}",
                f"{_describe(container)} tidak bisa diindeks dengan {_describe(index)}",
            )

    def call(self, node: ast.Call) -> Any:
        name = node.func.id  # type: ignore[attr-defined]  # the checker allows only names
        fn = self.functions.get(name)
        if fn is None:
            raise ExpressionError(
                f"Function '{name}' is not available here",
                f"Fungsi '{name}' tidak tersedia di sini",
            )
        args = [self.eval(a) for a in node.args]
        kwargs = {str(kw.arg): self.eval(kw.value) for kw in node.keywords}
        self.spend()
        try:
            result = fn(*args, **kwargs)
        except SopflowError:
            raise
        except (TypeError, ValueError, ArithmeticError, LookupError) as e:
            raise ExpressionError(f"{name}() failed: {e}", f"{name}() gagal: {e}")
        return self.built(result)

    def empty(self, node: _Empty) -> bool:
        try:
            value = self.eval(node.operand)
        except _Undefined:
            return True
        if value is None or value == "":
            return True
        return isinstance(value, Sized) and not isinstance(value, str) and len(value) == 0


_HANDLERS: dict[type, Callable[[_Evaluator, Any], Any]] = {
    ast.Constant: _Evaluator.constant,
    ast.Name: _Evaluator.name,
    ast.BoolOp: _Evaluator.boolop,
    ast.UnaryOp: _Evaluator.unaryop,
    ast.BinOp: _Evaluator.binop,
    ast.Compare: _Evaluator.compare,
    ast.IfExp: _Evaluator.ifexp,
    ast.List: _Evaluator.list_,
    ast.Tuple: _Evaluator.tuple_,
    ast.Set: _Evaluator.set_,
    ast.Dict: _Evaluator.dict_,
    ast.Subscript: _Evaluator.subscript,
    ast.Call: _Evaluator.call,
    _Empty: _Evaluator.empty,
}


def _run(source: str, action: Callable[[], Any]) -> Any:
    """Every failure leaves as an ExpressionError naming the expression, never a raw TypeError."""
    try:
        return action()
    except SopflowError as e:
        if isinstance(e, ExpressionError) and "expression" not in e.context:
            e.context["expression"] = source
        if isinstance(e, _Undefined):
            raise ExpressionError(e.message_en, e.message_id, **e.context) from None
        raise
    except RecursionError:
        raise ExpressionError(
            "Expression is nested too deeply", "Ekspresi terlalu bertingkat", expression=source
        )
    except (TypeError, ValueError, ArithmeticError, LookupError, MemoryError) as e:
        raise ExpressionError(f"Expression failed: {e}", f"Ekspresi gagal: {e}", expression=source)


def _merged(functions: Mapping[str, Callable[..., Any]] | None) -> Mapping[str, Callable[..., Any]]:
    return {**SAFE_FUNCTIONS, **functions} if functions else SAFE_FUNCTIONS


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
    checker = _Checker(text, frozenset(SAFE_FUNCTIONS) | frozenset(extras))
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
        checker = _Checker(text, allowed)
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
