"""API tokens: Bearer credentials an administrator creates for a user (workers, the Modeler).

Only the SHA-256 of a token is stored; the token itself is shown once, when it is created. A
token acts as its user (agency and groups are read at each use), so deactivating the user or
revoking the token stops it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, new_id


class ApiToken(Base):
    __tablename__ = "api_token"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
