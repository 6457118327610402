"""The engine's exception hierarchy.

Every error a person can cause (a bad diagram, a bad form value, a lost race) carries a message
in Indonesian and in English plus the context needed to act on it (element id, line, field,
agency). Callers show ``str(err)`` (both languages) or pick one with :meth:`SopflowError.text`;
the web layer maps classes to HTTP statuses without parsing messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class SopflowError(Exception):
    """Base class: a bilingual message plus context such as element id, line or agency."""

    def __init__(self, en: str, id: str | None = None, **context: Any) -> None:
        self.message_en = en
        self.message_id = id or en
        self.context = {k: v for k, v in context.items() if v is not None}
        super().__init__(str(self))

    def text(self, lang: str = "id") -> str:
        return self.message_id if lang == "id" else self.message_en

    def __str__(self) -> str:
        if self.message_id == self.message_en:
            return self.message_en
        return f"{self.message_id} / {self.message_en}"


class NotFound(SopflowError):
    """An id that does not exist, or exists in another agency (the two are indistinguishable)."""


class Conflict(SopflowError):
    """A lost race (optimistic lock) or an action that no longer applies to the current state.

    The client's concern, not a server fault: the REST API answers 409 with ``camunda_type``,
    the exception Camunda 7 names for the same situation (subclasses name a narrower one)."""

    camunda_type = "OptimisticLockingException"


class TaskAlreadyClaimed(Conflict):
    """Someone else holds (or has just taken) the task."""

    camunda_type = "TaskAlreadyClaimedException"


class Suspended(Conflict):
    """The process version is suspended: nothing new starts from it."""

    camunda_type = "SuspendedEntityInteractionException"


class NotLockedByWorker(Conflict):
    """An external-task action by a worker that does not hold the task's lock (any more)."""

    camunda_type = "BadUserRequestException"


class PermissionDenied(SopflowError):
    """The user may see the object but not do this to it (for example, not in the task's group)."""


class ConfigurationError(SopflowError):
    """A setting is missing or wrong; raised at start-up so a misconfiguration never runs."""


class ExpressionError(SopflowError):
    """An expression is outside the safe subset, does not parse, or failed at run time."""


class TimerError(SopflowError):
    """A timer definition that is not ISO 8601 (or ``workdays(n)``) as Camunda Modeler writes it."""


@dataclass(frozen=True)
class Problem:
    """One located problem in a diagram, as shown to the analyst who deployed it."""

    message_en: str
    message_id: str
    element_id: str | None = None
    line: int | None = None
    filename: str | None = None

    def __str__(self) -> str:
        where = []
        if self.filename:
            where.append(self.filename)
        if self.line:
            where.append(f"line {self.line}")
        if self.element_id:
            where.append(f"element '{self.element_id}'")
        prefix = f"{', '.join(where)}: " if where else ""
        if self.message_id == self.message_en:
            return prefix + self.message_en
        return f"{prefix}{self.message_id} / {self.message_en}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "element_id": self.element_id,
            "line": self.line,
            "filename": self.filename,
            "message": self.message_en,
            "message_id": self.message_id,
        }


class DeployError(SopflowError):
    """A diagram was refused; ``problems`` lists every located problem, not just the first."""

    def __init__(self, problems: list[Problem], filename: str | None = None) -> None:
        self.problems = problems
        n = len(problems)
        first = str(problems[0]) if problems else ""
        super().__init__(
            f"Diagram refused: {n} problem(s). {first}",
            f"Diagram ditolak: {n} masalah. {first}",
            filename=filename,
        )


@dataclass
class FieldError:
    field: str
    message_en: str
    message_id: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message_en, "message_id": self.message_id}


class FormValidationError(SopflowError):
    """Submitted form values broke the form's rules; ``errors`` has one entry per bad field."""

    def __init__(self, errors: list[FieldError], element_id: str | None = None) -> None:
        self.errors = errors
        fields = ", ".join(e.field for e in errors)
        super().__init__(
            f"Form is not valid: {fields}",
            f"Formulir tidak valid: {fields}",
            element_id=element_id,
        )


class WorkflowError(SopflowError):
    """The running process hit an error it cannot continue from (evaluated expression, handler)."""


class BpmnErrorRaised(SopflowError):
    """A handler signals a business error; the engine routes it to a matching boundary event."""

    def __init__(self, code: str, message: str | None = None, variables: dict | None = None):
        self.code = code
        self.variables = variables or {}
        super().__init__(message or f"BPMN error {code}", message or f"Galat BPMN {code}")
