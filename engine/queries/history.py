"""A request's history, oldest first."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..actors import Actor
from ..models import Agency, HistoryEvent
from .instances import find_instance


def history(s: Session, actor: Actor, agency: Agency, instance_id: str) -> list[HistoryEvent]:
    find_instance(s, agency.id, instance_id, actor=actor)
    return list(
        s.scalars(
            select(HistoryEvent)
            .where(HistoryEvent.instance_id == instance_id)
            .order_by(HistoryEvent.id)
        )
    )
