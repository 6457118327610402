"""Bounds on what one evaluation of a diagram expression may compute, checked before computing.

The whitelist in :mod:`engine.expressions` decides which operations exist; this module decides
how big their results may get. It is separate because the two change for different reasons
(a new operator versus a new limit) and because every bound must be applied *before* the
operation runs: ``round(1, -10**7)`` spends seconds computing ``10**10**7`` and
``['a' * 100000] * 100000`` is cheap to build but ``str()`` of it is ten gigabytes, so checking
results afterwards is too late. The same guards run at deploy time on every constant
subexpression, which is how a diagram whose bound is known statically is refused there.

The bounds, per evaluation of one expression, template or script:

* ``MAX_INT`` (10**30): no integer result may be larger in magnitude; ``a * b`` on integers is
  refused from the operands' bit lengths before multiplying. ``**``, ``<<`` and ``>>`` are not
  in the whitelist at all.
* ``MAX_SIZE`` (100,000): no string, list, tuple, set or dict may weigh more. The *weight* of a
  value counts characters of strings and items of collections through every level of nesting,
  each item at least 1, so ``[s] * n`` weighs ``n * weight(s)`` even though Python shares ``s``.
  ``*`` and ``+`` on sequences, ``str()`` and templates are refused from their operands'
  weights before they build anything; other results are weighed when they come back.
* ``MAX_NESTING`` (100): collections nested deeper than this are refused (``str()``, ``==``
  and JSON recurse on them).
* ``MAX_WORK`` (1,000,000): the weights of everything one evaluation builds add up to at most
  this, so a script cannot keep many values of the maximum size.
* ``MAX_SECONDS`` (0.25 s): an evaluation stops at its next costly step (a call, an operation
  on sequences, a comparison of collections, a collection display, a slice) once this much
  time has passed since its first one. Everything else is O(1) and runs at most once per node:
  the subset has no loops, so the number of steps is bounded by the text's length. No signals
  or threads: a single step is already bounded by the sizes above (milliseconds).
  The figure is far above what an ordinary expression takes (microseconds) so that a loaded
  machine or a garbage-collector pause never turns a good diagram into an incident.
* ``MAX_ROUND_DIGITS`` (100): ``round(x, n)`` needs ``-100 <= n <= 100``.
* ``MAX_NUMBER_TEXT`` (100): ``int(text)`` reads at most 100 characters.
* ``MAX_WORKDAYS`` (2,500, about ten years): ``workdays(n)`` walks the calendar day by day.

Exceeding a bound raises :class:`LimitExceeded`, an :class:`~engine.errors.ExpressionError`,
so it takes every path a failed expression takes: a located problem on deploy, an incident or a
4xx answer at run time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..errors import ExpressionError

MAX_INT = 10**30
MAX_SIZE = 100_000
MAX_NESTING = 100
MAX_WORK = 1_000_000
MAX_SECONDS = 0.25
MAX_ROUND_DIGITS = 100
MAX_NUMBER_TEXT = 100
MAX_WORKDAYS = 2_500

_INT_BITS = MAX_INT.bit_length()
_COLLECTIONS = (list, tuple, set, frozenset, dict)


class LimitExceeded(ExpressionError):
    """An expression would exceed one of this module's bounds; raised before the work is done."""


def too_large() -> LimitExceeded:
    return LimitExceeded(
        f"Result would be too large (over {MAX_SIZE:,} items or characters)",
        f"Hasil akan terlalu besar (lebih dari {MAX_SIZE:,} elemen atau karakter)",
    )


def int_too_large() -> LimitExceeded:
    return LimitExceeded(
        "Number result is too large (over 10**30)", "Hasil angka terlalu besar (lebih dari 10**30)"
    )


# --------------------------------------------------------------------------- weights


def weight(value: Any, limit: int = MAX_SIZE) -> int:
    """Characters and items in value through every level.

    A string weighs its length. A collection weighs 1 per item (key and value count as two)
    plus what each item holds beyond that: a string's characters, a non-empty collection's
    weight less 1, an integer's 64-bit words after the first. So ``[]`` weighs 0, ``[[]]`` 1,
    ``['ab']`` 3 and ``[[0] * 10] * 10`` 100, although Python stores that inner list once. The
    walk stops as soon as the count passes ``limit`` (returning a number above it), so it
    costs at most ``limit`` steps whatever the value is; flat runs of one type are counted at
    C speed, and an object met again (``[row] * 1000``) is looked up, not walked again.
    """
    kind = type(value)
    if kind is str:
        return len(value)
    if (kind is list or kind is tuple) and len(value) <= _SHORT:
        total = 0  # the common case, a display like [a, b, c]: no set, no map
        for item in value:
            kind = type(item)
            if kind is str:
                total += 1 + len(item)
            elif kind in _PLAIN or (kind is int and item.bit_length() < 64):
                total += 1
            else:
                return _weigh(value, limit, 0, {})
        return total
    if isinstance(value, str):
        return len(value)
    if not isinstance(value, _COLLECTIONS):
        return _scalar_weight(value)
    return _weigh(value, limit, 0, {})


_SHORT = 8


_PLAIN = frozenset({bool, float, type(None)})
_STR = frozenset({str})
_INT = frozenset({int, bool})


def _weigh(items: Any, limit: int, depth: int, seen: dict[int, int]) -> int:
    if depth > MAX_NESTING:
        raise LimitExceeded(
            f"Collections are nested too deeply (more than {MAX_NESTING} levels)",
            f"Koleksi terlalu bertingkat (lebih dari {MAX_NESTING} tingkat)",
        )
    if isinstance(items, dict):
        keys = _items(items.keys(), limit, depth, seen)
        return keys if keys > limit else keys + _items(items.values(), limit - keys, depth, seen)
    return _items(items, limit, depth, seen)


def _items(items: Any, limit: int, depth: int, seen: dict[int, int]) -> int:
    total = len(items)  # 1 per item, and each item's weight beyond 1 added below
    if total > limit:
        return total
    kinds = set(map(type, items))
    if kinds <= _PLAIN:
        return total
    if kinds <= _STR:
        return total + sum(map(len, items))
    if kinds <= _INT and max(map(int.bit_length, items)) < 64:
        return total
    for item in items:
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, _COLLECTIONS):
            found = seen.get(id(item))
            if found is None:
                found = seen[id(item)] = _weigh(item, limit - total, depth + 1, seen)
            total += max(found, 1) - 1
        else:
            total += _scalar_weight(item) - 1
        if total > limit:
            return total
    return total


def _scalar_weight(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return 1 + (value.bit_length() >> 6)
    return 1


def check_value(value: Any) -> Any:
    """A result that came back from an operation: refuse it if it is over a bound."""
    if isinstance(value, str):
        if len(value) > MAX_SIZE:
            raise too_large()
    elif isinstance(value, int):
        if abs(value) > MAX_INT:
            raise int_too_large()
    elif isinstance(value, _COLLECTIONS) and weight(value) > MAX_SIZE:
        raise too_large()
    return value


def guard_repeat(seq: Any, n: Any) -> None:
    """``seq * n``: refused from seq's weight before Python allocates the result."""
    if n > 0 and weight(seq, MAX_SIZE // n) * n > MAX_SIZE:
        raise too_large()


def guard_concat(a: Any, b: Any) -> None:
    first = weight(a)
    if first > MAX_SIZE or first + weight(b, MAX_SIZE - first) > MAX_SIZE:
        raise too_large()


def guard_int_product(a: int, b: int) -> None:
    """A product has at least ``bits(a) + bits(b) - 1`` bits: refuse before multiplying."""
    if a and b and a.bit_length() + b.bit_length() - 1 > _INT_BITS:
        raise int_too_large()


def guard_render(value: Any) -> None:
    """``str()`` of a collection: at least 3 characters an item (``1, ``), so weigh it first.

    Quotes and escapes can make the text longer still; it is measured again when it is built.
    """
    if isinstance(value, _COLLECTIONS) and weight(value, MAX_SIZE // 3) * 3 > MAX_SIZE:
        raise too_large()


# --------------------------------------------------------------------------- budget


def work_exceeded() -> LimitExceeded:
    return LimitExceeded(
        f"Expression builds too much (over {MAX_WORK:,} items or characters in all)",
        f"Ekspresi membangun terlalu banyak (lebih dari {MAX_WORK:,} elemen atau karakter "
        "seluruhnya)",
    )


def too_slow() -> LimitExceeded:
    return LimitExceeded(
        f"Expression takes too long (over {MAX_SECONDS * 1000:.0f} ms)",
        f"Ekspresi berjalan terlalu lama (lebih dari {MAX_SECONDS * 1000:.0f} ms)",
    )


def clock() -> float:
    """The clock the time bound reads (tests replace it)."""
    return time.monotonic()


# --------------------------------------------------------------------------- guarded functions


def safe_round(number: Any, ndigits: Any = None) -> Any:
    """``round`` computes 10**-ndigits for integers: ``round(1, -10**7)`` takes seconds."""
    if ndigits is not None:
        check_round_digits(ndigits)
    return round(number, ndigits)


def check_round_digits(ndigits: Any) -> None:
    if isinstance(ndigits, int) and abs(ndigits) > MAX_ROUND_DIGITS:
        raise LimitExceeded(
            f"round() digits must be between -{MAX_ROUND_DIGITS} and {MAX_ROUND_DIGITS}, "
            f"got {ndigits:,}",
            f"Digit round() harus antara -{MAX_ROUND_DIGITS} dan {MAX_ROUND_DIGITS}, "
            f"bukan {ndigits:,}",
        )


def safe_str(value: Any = "") -> str:
    guard_render(value)
    return str(value)


def safe_int(value: Any = 0, *args: Any, **kwargs: Any) -> int:
    """Reading a number from text is quadratic in its length; no bounded number needs 100."""
    check_number_text(value)
    return int(value, *args, **kwargs)


def check_number_text(value: Any) -> None:
    if isinstance(value, str) and len(value) > MAX_NUMBER_TEXT:
        raise LimitExceeded(
            f"Text is too long to be a number (over {MAX_NUMBER_TEXT} characters)",
            f"Teks terlalu panjang untuk sebuah angka (lebih dari {MAX_NUMBER_TEXT} karakter)",
        )


def check_workdays(n: Any) -> None:
    if isinstance(n, int) and n > MAX_WORKDAYS:
        raise LimitExceeded(
            f"workdays() counts at most {MAX_WORKDAYS:,} working days, got {n:,}",
            f"workdays() menghitung paling banyak {MAX_WORKDAYS:,} hari kerja, bukan {n:,}",
        )


# The argument checks deploy applies when that one argument is a constant, whatever the others
# are (``round(amount, -10**7)``, ``workdays(10**9)``): function name -> (position, keyword,
# check). The functions apply the same checks when they are called.
ARGUMENT_CHECKS: dict[str, tuple[int, str | None, Callable[[Any], None]]] = {
    "round": (1, "ndigits", check_round_digits),
    "int": (0, None, check_number_text),
    "workdays": (0, None, check_workdays),
}
