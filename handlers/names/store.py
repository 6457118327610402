"""Registry operations. Each runs in its own short transaction; the partial unique index makes
:func:`reserve` atomic on every database (the loser of a race gets :class:`NameHeld`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.queries.recipients import ended_instances

from .errors import NameHeld
from .models import Subdomain


def live(s: Session, agency_id: int, label: str) -> Subdomain | None:
    return s.scalar(
        select(Subdomain).where(
            Subdomain.agency_id == agency_id,
            Subdomain.label == label,
            Subdomain.deleted_at.is_(None),
        )
    )


def holder(sessions: Any, agency_id: int, label: str) -> Subdomain | None:
    with sessions() as s:
        return live(s, agency_id, label)


def held_by(sessions: Any, agency_id: int, instance_id: str) -> list[Subdomain]:
    """The live rows (reserved or active) the request holds, oldest first."""
    with sessions() as s:
        return list(
            s.scalars(
                select(Subdomain)
                .where(
                    Subdomain.agency_id == agency_id,
                    Subdomain.instance_id == instance_id,
                    Subdomain.deleted_at.is_(None),
                )
                .order_by(Subdomain.id)
            )
        )


def reserve(
    sessions: Any,
    *,
    agency_id: int,
    label: str,
    fqdn: str,
    instance_id: str | None,
    business_key: str | None,
    actor: str | None,
    now: datetime,
    state: str = "reserved",
    release_others: bool = True,
) -> Subdomain:
    """Hold ``label`` for the request, or raise NameHeld. Idempotent for the holder. With
    ``release_others`` the request's other not-yet-used reservations are released (it chose
    another name)."""
    for _ in range(3):
        try:
            with sessions.begin() as s:
                row = live(s, agency_id, label)
                if row is not None:
                    if instance_id is not None and row.instance_id == instance_id:
                        if state == "active" and row.state != "active":
                            row.state, row.activated_at, row.fqdn = "active", now, fqdn
                        return row
                    raise NameHeld(row)
                if release_others and instance_id is not None:
                    s.execute(
                        update(Subdomain)
                        .where(
                            Subdomain.agency_id == agency_id,
                            Subdomain.instance_id == instance_id,
                            Subdomain.state == "reserved",
                            Subdomain.deleted_at.is_(None),
                            Subdomain.label != label,
                        )
                        .values(state="deleted", deleted_at=now, deleted_by=business_key)
                        .execution_options(synchronize_session=False)
                    )
                row = Subdomain(
                    agency_id=agency_id,
                    label=label,
                    fqdn=fqdn,
                    state=state,
                    instance_id=instance_id,
                    business_key=business_key,
                    reserved_by=actor,
                    reserved_at=now,
                    activated_at=now if state == "active" else None,
                )
                s.add(row)
                s.flush()
                return row
        except IntegrityError:
            continue  # lost the race to a concurrent insert: read the winner
    with sessions() as s:
        row = live(s, agency_id, label)
    if row is not None and row.instance_id != instance_id:
        raise NameHeld(row)
    raise RuntimeError(f"could not reserve {fqdn}")  # pragma: no cover - retried by the job


def release(sessions: Any, *, agency_id: int, label: str, by: str | None, now: datetime) -> bool:
    """Mark the live row of ``label`` deleted (the name is free again); False if there was none."""
    with sessions.begin() as s:
        row = live(s, agency_id, label)
        if row is None:
            return False
        row.state, row.deleted_at, row.deleted_by = "deleted", now, by
        return True


def release_abandoned(sessions: Any, *, now: datetime, limit: int = 200) -> list[Subdomain]:
    """Free names reserved by requests that ended (completed or cancelled) without putting them
    in DNS. A request that finishes with the name in use has made it ``active`` first, so only
    abandoned reservations are still ``reserved`` when their instance has ended; without this
    sweep a refused or withdrawn request would hold its name forever. Returns the rows freed."""
    with sessions.begin() as s:
        held = s.execute(
            select(Subdomain.id, Subdomain.instance_id)
            .where(
                Subdomain.state == "reserved",
                Subdomain.deleted_at.is_(None),
                Subdomain.instance_id.is_not(None),
            )
            .order_by(Subdomain.id)
        ).all()
        ended = ended_instances(s, {instance_id for _, instance_id in held})
        ids = [row_id for row_id, instance_id in held if instance_id in ended][:limit]
        rows = (
            list(s.scalars(select(Subdomain).where(Subdomain.id.in_(ids)).order_by(Subdomain.id)))
            if ids
            else []
        )
        for row in rows:
            row.state, row.deleted_at, row.deleted_by = "deleted", now, "sweep"
        s.flush()
        s.expunge_all()
    return rows
