"""What the expression bounds cost (engine/expressions/limits.py). Prints numbers, asserts nothing
(~20 s):

    .venv/bin/python bench/expressions.py
    .venv/bin/python bench/expressions.py --ordinary-only   # also runs on trees without bounds

refusals   how long compile (deploy) and evaluate (run time, values from variables) take to
           refuse each pathological expression of issue 11, item 10; a fresh compile each time
           (the compile cache is cleared), median of --repeat runs
ordinary   time per evaluation of SOP expressions as the six diagrams write them, compiled
           once (the price every gateway and mapping pays for the bounds), and per fresh
           compile (what deploy pays, constant folding included). Run it with ``--ordinary-only``
           in a tree without the bounds (the parent commit) to compare: the pathological cases
           would take seconds and gigabytes there.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.errors import ExpressionError  # noqa: E402
from engine.expressions import compile_expression, compile_script  # noqa: E402
from engine.expressions.compiler import _compile_expression  # noqa: E402

# (label, text, variables for the run-time variant or None for deploy only)
PATHOLOGICAL: list[tuple[str, str, dict[str, Any] | None]] = [
    ("round digits, negative", "round(1, -10000000)", None),
    ("round digits, positive", "round(1, 10000000)", None),
    ("round digits from a variable", "round(x, n)", {"x": 1, "n": -10_000_000}),
    ("string repetition", "'a' * 100000 * 100000", None),
    ("list of big strings", "['a' * 100000] * 100000", None),
    ("s * n from variables", "s * n", {"s": "a" * 1000, "n": 10**9}),
    ("nested list growth", "[[[0] * 100] * 100] * 100", None),
    ("nested growth from variables", "[l] * n", {"l": [[0] * 1000], "n": 1000}),
    ("concatenation nesting", "(('a' * 40000) + ('b' * 40000)) + ('c' * 40000)", None),
    ("concatenation from variables", "(s + s) + (s + s)", {"s": "x" * 30_000}),
    ("int multiplication chain", "100000000000 * 100000000000 * 100000000000", None),
    ("int chain from variables", "a * a * a", {"a": 10**4000}),
    ("str() of a shared nest", "str([[1] * 300] * 300)", None),
    ("str() from a variable", "str(l)", {"l": [["a" * 100] * 100] * 100}),
    ("power (not in the subset)", "10 ** 10 ** 10", None),
    ("shift (not in the subset)", "1 << 100000", None),
]

DOUBLING_SCRIPT = "s = 'ab'\n" + "s += s\n" * 20

# (text, variables): the first six as the diagrams in bpmn/ write them, then the brief's example
# and a little of everything else in the subset
ORDINARY: list[tuple[str, dict[str, Any]]] = [
    ("${applicant_email}", {"applicant_email": "ani@kuduskab.go.id"}),
    ("${documents_complete}", {"documents_complete": True}),
    ("${service_type == 'change' || service_type == 'delete'}", {"service_type": "delete"}),
    (
        "${workdays(service_type == 'create' ? 3 : (service_type == 'change' ? 2 : 1))}",
        {"service_type": "change"},
    ),
    ("${workdays(7)}", {}),
    ("https://${subdomain}.kuduskab.go.id", {"subdomain": "dinkes"}),
    ("${approved && name != ''}", {"approved": True, "name": "Dinas Kominfo"}),
    ("${sites <= 5 && empty note}", {"sites": 3}),
    ("'Nomor: ' + str(n) + ' / ' + upper(code)", {"n": 12, "code": "kds"}),
    ("status in ['draft', 'sent'] and len(items) > 0", {"status": "sent", "items": [1, 2]}),
]
FUNCTIONS = {"workdays": lambda n: n}  # the engine's needs a calendar; the call is what counts


def median_us(action: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        action()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def outcome(action: Callable[[], Any]) -> str:
    try:
        action()
    except ExpressionError as e:
        return "refused: " + e.text("en")[:60]
    return "ACCEPTED"


def fresh_compile(text: str) -> Callable[[], Any]:
    def run() -> Any:
        _compile_expression.cache_clear()
        try:
            return compile_expression(text)
        except ExpressionError:
            return None

    return run


def refusals(repeat: int) -> None:
    print(f"\nrefusals (median of {repeat}, µs)")
    print(f"{'case':32} {'deploy':>9} {'run time':>9}  outcome")
    for label, text, variables in PATHOLOGICAL:
        if variables is None:
            deploy = f"{median_us(fresh_compile(text), repeat):9.0f}"
            run = f"{'':>9}"
            what = outcome(lambda t=text: compile_expression(t))  # type: ignore[misc]
        else:
            compiled = compile_expression(text)

            def evaluate(c: Any = compiled, v: dict[str, Any] = variables) -> Any:
                try:
                    return c.evaluate(v)
                except ExpressionError:
                    return None

            deploy = f"{'':>9}"
            run = f"{median_us(evaluate, repeat):9.0f}"
            what = outcome(lambda c=compiled, v=variables: c.evaluate(v))  # type: ignore[misc]
        print(f"{label:32} {deploy} {run}  {what}")

    def script() -> Any:
        try:
            return compile_script(DOUBLING_SCRIPT)
        except ExpressionError:
            return None

    what = outcome(lambda: compile_script(DOUBLING_SCRIPT))
    print(f"{'script doubling s += s x20':32} {median_us(script, repeat):9.0f} {'':>9}  {what}")


def ordinary(rounds: int) -> None:
    print(f"\nordinary expressions (compiled once, best of 5 x {rounds} evaluations)")
    print(f"{'expression':46} {'µs/eval':>8} {'µs/compile':>10}")
    for text, variables in ORDINARY:
        compiled = compile_expression(text, FUNCTIONS)
        best = min(
            timed(lambda c=compiled, v=variables: c.evaluate(v, FUNCTIONS), rounds)  # type: ignore[misc]
            for _ in range(5)
        )

        def fresh(t: str = text) -> Any:
            _compile_expression.cache_clear()
            return compile_expression(t, FUNCTIONS)

        deploy = min(timed(fresh, max(1, rounds // 20)) for _ in range(5))
        print(f"{text[:46]:46} {best * 1e6:8.2f} {deploy * 1e6:10.1f}")


def timed(action: Callable[[], Any], rounds: int) -> float:
    t0 = time.perf_counter()
    for _ in range(rounds):
        action()
    return (time.perf_counter() - t0) / rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=20_000)
    parser.add_argument("--ordinary-only", action="store_true")
    args = parser.parse_args()
    print(f"engine from {Path(sys.modules['engine'].__file__ or '').parent}")
    if not args.ordinary_only:
        refusals(args.repeat)
    ordinary(args.rounds)


if __name__ == "__main__":
    main()
