"""Process definitions: the versions of the agency, the active one of a key, element names."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..actors import Actor
from ..context import Context
from ..errors import NotFound
from ..models import Agency, ProcessDefinition
from ..spiff import tree


def definitions(
    s: Session, actor: Actor, agency: Agency, key: str | None = None
) -> list[ProcessDefinition]:
    q = select(ProcessDefinition).where(ProcessDefinition.agency_id == agency.id)
    if key:
        q = q.where(ProcessDefinition.key == key)
    return list(s.scalars(q.order_by(ProcessDefinition.key, ProcessDefinition.version)))


def current(s: Session, agency_id: int, key: str) -> ProcessDefinition:
    """The version new instances of ``key`` start on (the latest activated, not suspended)."""
    d = s.scalar(
        select(ProcessDefinition)
        .where(
            ProcessDefinition.agency_id == agency_id,
            ProcessDefinition.key == key,
            ProcessDefinition.suspended.is_(False),
        )
        .order_by(ProcessDefinition.activation.desc())
        .limit(1)
    )
    if d is None:
        raise NotFound(
            f"No active process definition '{key}'",
            f"Tidak ada definisi proses aktif '{key}'",
            key=key,
        )
    return d


def find_definition(s: Session, agency_id: int, definition_id: str) -> ProcessDefinition:
    d = s.get(ProcessDefinition, definition_id)
    if d is None or d.agency_id != agency_id:
        raise NotFound(
            f"Process definition '{definition_id}' not found",
            f"Definisi proses '{definition_id}' tidak ditemukan",
        )
    return d


def current_definition(s: Session, actor: Actor, agency: Agency, key: str) -> ProcessDefinition:
    return current(s, agency.id, key)


def get_definition(
    s: Session, actor: Actor, agency: Agency, definition_id: str
) -> ProcessDefinition:
    return find_definition(s, agency.id, definition_id)


def element_names(
    s: Session, actor: Actor, agency: Agency, ctx: Context, definition_id: str
) -> dict[str, str]:
    """Element id → the name the diagram gives it, across subprocesses, so timelines and
    reports speak the SOP's language rather than ids."""
    did = find_definition(s, agency.id, definition_id).id
    return tree.element_names(*ctx.spec(s, did))
