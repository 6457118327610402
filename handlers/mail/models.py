"""The mail outbox: every message is a row first, sent later by :class:`MailDelivery`.

A message leaves ``queued`` only for ``sent`` or, on a permanent refusal (5xx for the recipient
or the content), ``failed``; an unreachable server just pushes ``next_attempt_at`` back, so a
server that is down loses nothing. ``sending`` is a lease (``locked_until``) so two delivery
processes never send the same row, and a crashed one's row is taken again after the lease.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, new_id


class OutboxMessage(Base):
    __tablename__ = "mail_outbox"
    __table_args__ = (
        UniqueConstraint("job_id", "recipient", name="uq_mail_outbox_job_recipient"),
        Index("ix_mail_outbox_due", "status", "next_attempt_at"),
        Index("ix_mail_outbox_agency_instance", "agency_id", "instance_id"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    instance_id: Mapped[str | None] = mapped_column(String(36))
    business_key: Mapped[str | None] = mapped_column(String(100))
    job_id: Mapped[str | None] = mapped_column(String(36))  # the service task that enqueued it
    template: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(500))
    body_text: Mapped[str] = mapped_column(Text)
    attachments: Mapped[list[Any]] = mapped_column(default=list)  # ["att:<uuid>", ...]
    credentials_ref: Mapped[str | None] = mapped_column(String(64))  # link minted at sending
    message_id: Mapped[str] = mapped_column(String(255))  # the same on every attempt
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued|sending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
