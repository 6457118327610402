"""The ``site_credential`` table: a website administrator login issued for a request.

Only a scrypt hash of the password is kept for good. Until the applicant has seen the password
once, it is also kept Fernet-encrypted (key derived from the application secret); that copy is
erased the moment it is shown (link) or printed (letter), or when the link expires. The one-time
link token is kept as a SHA-256 hash only. See :mod:`handlers.credentials.vault`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, new_id


class SiteCredential(Base):
    __tablename__ = "site_credential"
    __table_args__ = (Index("ix_site_credential_agency_instance", "agency_id", "instance_id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    instance_id: Mapped[str | None] = mapped_column(String(36))
    job_id: Mapped[str | None] = mapped_column(String(36), unique=True)  # idempotent issue
    username: Mapped[str] = mapped_column(String(100))
    site: Mapped[str | None] = mapped_column(String(253))
    password_hash: Mapped[str] = mapped_column(String(255))
    secret_enc: Mapped[str | None] = mapped_column(Text)  # erased once seen or expired
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_expires_at: Mapped[datetime | None]
    issued_at: Mapped[datetime]
    revealed_at: Mapped[datetime | None]
    revealed_via: Mapped[str | None] = mapped_column(String(16))  # link|letter|expired|purged
