"""The script engine SpiffWorkflow calls for every condition, timer and script.

It never reaches Python's ``eval``/``exec``: everything goes through :mod:`engine.expressions`.
One instance per agency carries that agency's clock and working-day calendar, which is how
``workdays(n)`` and timers see the right time zone and holidays. SpiffWorkflow does not
serialize the script engine, so the runtime attaches one after every load.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine

from ..calendar import WorkingCalendar
from ..clock import Clock
from ..errors import ExpressionError
from ..expressions import compile_expression, compile_script
from ..expressions.limits import check_workdays
from ..timers import Cycle, parse_cycle, resolve_due

ENGINE_FUNCTIONS = ("workdays", "now", "today")


class SafeScriptEngine(PythonScriptEngine):
    def __init__(self, clock: Clock, calendar: WorkingCalendar) -> None:
        super().__init__()
        self.clock = clock
        self.calendar = calendar
        self.functions: dict[str, Callable[..., Any]] = {
            "workdays": self._workdays,
            "now": lambda: self.clock.now(),
            "today": lambda: self.calendar.local_date(self.clock.now()),
        }

    def _workdays(self, n: Any) -> datetime:
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ExpressionError(
                f"workdays() needs a whole number >= 0, got {n!r}",
                f"workdays() butuh bilangan bulat >= 0, bukan {n!r}",
            )
        check_workdays(n)  # the calendar walks day by day: workdays(10**9) would not return
        return self.calendar.add_working_days(self.clock.now(), n)

    def now(self) -> datetime:
        return self.clock.now()

    def validate(self, expression: str) -> None:
        compile_expression(expression, ENGINE_FUNCTIONS)

    def evaluate_data(self, expression: str, data: dict[str, Any]) -> Any:
        return compile_expression(expression, ENGINE_FUNCTIONS).evaluate(data, self.functions)

    def evaluate(self, task: Any, expression: str, external_context: Any = None) -> Any:
        context = dict(external_context or {})
        context.update(task.data)
        try:
            return self.evaluate_data(expression, context)
        except ExpressionError as e:
            raise WorkflowTaskException(str(e), task=task, exception=e)

    def execute(self, task: Any, script: str, external_context: Any = None) -> bool:
        try:
            compile_script(script, ENGINE_FUNCTIONS).execute(task.data, self.functions)
        except ExpressionError as e:
            raise WorkflowTaskException(str(e), task=task, exception=e)
        return True

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        raise WorkflowTaskException("Service tasks run as external tasks", task=task)

    def timer_due(self, kind: str, value: Any) -> datetime:
        return resolve_due(kind, value, self.clock.now(), self.calendar.tz)  # type: ignore[arg-type]

    def parse_cycle(self, text: str) -> Cycle:
        return parse_cycle(text, self.calendar.tz)
