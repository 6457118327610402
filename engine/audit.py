"""Writes to the engine's audit trail (``history_event``) by code outside the engine.

A handler that does something worth a line in a request's history (credentials revealed,
say) calls :func:`record_event` in its own transaction: the row commits or rolls back with
the handler's work.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine.models import HistoryEvent

__all__ = ["record_event"]


def record_event(
    s: Session,
    *,
    agency_id: int,
    instance_id: str | None,
    at: datetime,
    kind: str,
    data: Mapping[str, Any] | None = None,
    actor: str | None = None,
    element_id: str | None = None,
) -> None:
    """Add one history event to the caller's transaction."""
    s.add(
        HistoryEvent(
            agency_id=agency_id,
            instance_id=instance_id,
            at=at,
            actor=actor,
            kind=kind,
            element_id=element_id,
            data=dict(data or {}),
        )
    )
