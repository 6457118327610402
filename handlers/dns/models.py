"""The DNS change audit: one row per attempted change, with the record sets before and after.

A row is written as ``pending`` before the provider is called and finished as ``applied``,
``unchanged``, ``dry_run`` or ``failed`` afterwards, so a crash between the write and the
bookkeeping leaves a ``pending`` row that says what was attempted. Secrets never appear here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base


class DnsChange(Base):
    __tablename__ = "dns_change"
    __table_args__ = (
        Index("ix_dns_change_agency_fqdn", "agency_id", "fqdn"),
        Index("ix_dns_change_task", "external_task_id"),
        Index("ix_dns_change_instance", "instance_id"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    instance_id: Mapped[str | None] = mapped_column(String(36))
    business_key: Mapped[str | None] = mapped_column(String(100))
    external_task_id: Mapped[str | None] = mapped_column(String(36))
    actor: Mapped[str | None] = mapped_column(String(200))  # worker id or user
    action: Mapped[str] = mapped_column(String(20))  # create|change|delete
    provider: Mapped[str] = mapped_column(String(100))
    zone: Mapped[str] = mapped_column(String(253))
    fqdn: Mapped[str] = mapped_column(String(253))  # the name asked for (the new one on rename)
    before: Mapped[list[Any]] = mapped_column(default=list)  # [{name, type, ttl, values}]
    after: Mapped[list[Any]] = mapped_column(default=list)
    result: Mapped[str] = mapped_column(String(20), default="pending")
    error: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
