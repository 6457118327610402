"""Walks a checked tree against process variables, applying the guards of :mod:`.limits`."""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping, Sized
from typing import Any

from ..errors import ExpressionError, SopflowError
from . import limits
from .checker import _BINOPS, _COMPARES, SAFE_FUNCTIONS, _Empty, _is_dunder
from .limits import MAX_SIZE, MAX_WORK, check_value

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
    """Walks a checked tree; the costly steps (see limits) call :meth:`spend`."""

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
