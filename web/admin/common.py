"""What every admin page shares: the group check, the engine, and the overview counts."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, g
from sqlalchemy import func, select

from engine.models import Incident, ProcessInstance
from engine.states import InstanceState
from web.context import engine

from ..auth import login_required

F = TypeVar("F", bound=Callable[..., Any])


def admin_required(view: F) -> F:
    """Logged in (else the login page) and in group ``admin`` (else 403)."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not g.user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return login_required(wrapped)  # type: ignore[return-value]


def agency_counts() -> dict[str, int]:
    """Running instances and open incidents of the administrator's agency."""
    with engine().sessions() as s:
        running = s.scalar(
            select(func.count())
            .select_from(ProcessInstance)
            .where(
                ProcessInstance.agency_id == g.user.agency_id,
                ProcessInstance.state == InstanceState.RUNNING,
            )
        )
        incidents = s.scalar(
            select(func.count())
            .select_from(Incident)
            .where(Incident.agency_id == g.user.agency_id, Incident.resolved_at.is_(None))
        )
    return {"running": int(running or 0), "incidents": int(incidents or 0)}
