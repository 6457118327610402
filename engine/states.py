"""The states of the engine's rows and the kinds of its history events, one vocabulary.

``StrEnum`` members are ``str``: they compare equal to the stored text (``"running" ==
InstanceState.RUNNING``), are written to the database as that text and print as it, so rows
stored before these enums existed read the same. The columns stay ``String`` columns.
"""

from __future__ import annotations

from enum import StrEnum


class InstanceState(StrEnum):
    """``process_instance.state``: a cancelled request is ``cancelled`` (Camunda's REST calls it
    EXTERNALLY_TERMINATED; web/rest/history.py maps it)."""

    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class TaskState(StrEnum):
    """``human_task.state``: the inbox row of a user task, kept after it ends as history."""

    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class JobState(StrEnum):
    """``external_task.state``: a job waits (``available``), is held by a worker (``locked``,
    until ``lock_expires_at``) or is out of retries (``incident``). A completed job is deleted."""

    AVAILABLE = "available"
    LOCKED = "locked"
    INCIDENT = "incident"


class IncidentKind(StrEnum):
    """``incident.kind``, Camunda's incident types. An incident is open until ``resolved_at``."""

    FAILED_EXTERNAL_TASK = "failedExternalTask"
    FAILED_TIMER = "failedTimer"
    UNHANDLED_BPMN_ERROR = "unhandledBpmnError"


class CandidateKind(StrEnum):
    """``human_task_candidate.kind``: who may claim a task."""

    GROUP = "group"
    USER = "user"


class HistoryKind(StrEnum):
    """``history_event.kind``: what happened, in the append-only history of a request."""

    DEFINITION_DEPLOYED = "definition_deployed"
    DEFINITION_ACTIVATED = "definition_activated"
    INSTANCE_STARTED = "instance_started"
    INSTANCE_COMPLETED = "instance_completed"
    INSTANCE_CANCELLED = "instance_cancelled"
    VARIABLES_CHANGED = "variables_changed"
    TASK_CREATED = "task_created"
    TASK_CLAIMED = "task_claimed"
    TASK_UNCLAIMED = "task_unclaimed"
    TASK_COMPLETED = "task_completed"
    TASK_CANCELLED = "task_cancelled"
    JOB_CREATED = "job_created"
    JOB_COMPLETED = "job_completed"
    JOB_FAILED = "job_failed"
    BPMN_ERROR = "bpmn_error"
    INCIDENT_CREATED = "incident_created"
    INCIDENT_RETRIED = "incident_retried"
    TIMER_FIRED = "timer_fired"
    MESSAGE_CORRELATED = "message_correlated"
    SLA_BREACHED = "sla_breached"
    SLA_RESTARTED = "sla_restarted"
    SLA_STOPPED = "sla_stopped"
    CALENDAR_CHANGED = "calendar_changed"
    CREDENTIALS_REVEALED = "credentials_revealed"
    CREDENTIALS_EXPIRED = "credentials_expired"
