"""What the service-task handlers read from the engine's tables, as plain values.

Handlers never query the engine's tables themselves (``Agency``, ``User``, ``ProcessInstance``,
``ExternalTask``, ...); they call these functions with a Session of their own and get frozen
values back, so nothing a handler does can change an engine row by accident.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Agency, ExternalTask, ProcessInstance, User, UserGroup
from engine.states import InstanceState

__all__ = [
    "AgencyInfo",
    "InstanceInfo",
    "agency_by_code",
    "agency_by_id",
    "ended_instances",
    "group_emails",
    "instance_info",
    "task_inputs",
]


@dataclass(frozen=True)
class AgencyInfo:
    """An agency as a handler sees it: its names, its time zone and its settings JSON."""

    id: int
    code: str
    name: str
    parent_domain: str
    timezone: str = "Asia/Jakarta"
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InstanceInfo:
    """The facts about a request a handler may print (a letter's date, a mail's current step)."""

    id: str
    agency_id: int
    business_key: str
    state: str
    current_step: str | None
    started_at: datetime


def _agency(row: Agency | None) -> AgencyInfo | None:
    if row is None:
        return None
    return AgencyInfo(
        id=row.id,
        code=row.code,
        name=row.name,
        parent_domain=row.parent_domain,
        timezone=row.timezone or "Asia/Jakarta",
        settings=dict(row.settings or {}),
    )


def agency_by_code(s: Session, code: str) -> AgencyInfo | None:
    return _agency(s.scalar(select(Agency).where(Agency.code == code)))


def agency_by_id(s: Session, agency_id: int) -> AgencyInfo | None:
    return _agency(s.get(Agency, agency_id))


def group_emails(s: Session, agency_id: int, groups: Sequence[str]) -> list[str]:
    """E-mail addresses of the agency's active users in any of ``groups``, by user name."""
    if not groups:
        return []
    rows = s.scalars(
        select(User.email)
        .join(UserGroup, UserGroup.user_id == User.id)
        .where(
            User.agency_id == agency_id,
            User.active.is_(True),
            User.email.is_not(None),
            UserGroup.group.in_(list(groups)),
        )
        .order_by(User.username)
    ).all()
    return [e for e in rows if e]


def instance_info(s: Session, instance_id: str) -> InstanceInfo | None:
    row = s.get(ProcessInstance, instance_id)
    if row is None:
        return None
    return InstanceInfo(
        id=row.id,
        agency_id=row.agency_id,
        business_key=row.business_key,
        state=row.state,
        current_step=row.current_step,
        started_at=row.started_at,
    )


def ended_instances(s: Session, instance_ids: Iterable[str]) -> set[str]:
    """Those of ``instance_ids`` that exist and are no longer running (completed, cancelled)."""
    ids = sorted({i for i in instance_ids if i})
    out: set[str] = set()
    for start in range(0, len(ids), 500):  # bounded IN lists
        chunk = ids[start : start + 500]
        out.update(
            s.scalars(
                select(ProcessInstance.id).where(
                    ProcessInstance.id.in_(chunk), ProcessInstance.state != InstanceState.RUNNING
                )
            )
        )
    return out


def task_inputs(s: Session, task_id: str) -> dict[str, Any] | None:
    """The external task's own input mappings (``camunda:inputParameter``), without the process
    variables that fetch-and-lock merges in; None when the task is gone."""
    row = s.get(ExternalTask, task_id)
    return None if row is None else dict(row.variables or {})
