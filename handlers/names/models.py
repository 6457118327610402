"""The subdomain registry: which request holds which label of an agency.

A label is held by at most one live row per agency (``deleted_at IS NULL``), enforced by a
partial unique index on PostgreSQL and SQLite alike, so the database decides a race between
concurrent reservations. Rows are never removed: a released or deleted name keeps its row with
``deleted_at`` set, and the label can then be reserved again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base


class Subdomain(Base):
    __tablename__ = "subdomain"
    __table_args__ = (
        Index(
            "uq_subdomain_live_label",
            "agency_id",
            "label",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
            sqlite_where=text("deleted_at IS NULL"),
        ),
        Index("ix_subdomain_instance", "instance_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    label: Mapped[str] = mapped_column(String(63))  # normalized A-label, without the parent
    fqdn: Mapped[str] = mapped_column(String(253))
    state: Mapped[str] = mapped_column(String(20), default="reserved")  # reserved|active|deleted
    instance_id: Mapped[str | None] = mapped_column(String(36))  # the request holding it
    business_key: Mapped[str | None] = mapped_column(String(100))
    reserved_by: Mapped[str | None] = mapped_column(String(200))  # worker or user
    reserved_at: Mapped[datetime]
    activated_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    deleted_by: Mapped[str | None] = mapped_column(String(100))  # business key that removed it
