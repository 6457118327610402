"""The ``attachment`` table: one row per file attached to a request (or to an agency, before the
request exists). The bytes live on disk under the attachment directory, named by their SHA-256."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, new_id


class Attachment(Base):
    __tablename__ = "attachment"
    __table_args__ = (Index("ix_attachment_agency_instance", "agency_id", "instance_id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    # no foreign key: a start-form upload exists before its process instance does
    instance_id: Mapped[str | None] = mapped_column(String(36))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    mime_type: Mapped[str] = mapped_column(String(100))  # sniffed from the bytes, never trusted
    filename: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32), default="upload")  # upload|letter
    # a letter with a password in it: show to officers only, offer to delete after hand-over
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
