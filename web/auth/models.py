"""Server-side login sessions: one row per login, so that logging out, a password change, an
administrator's reset or a deactivation ends a session at once, wherever its cookie is.

The cookie carries a random session id; only its SHA-256 is stored, so a copy of the database
(a backup, a read-only replica) gives nobody a session to replay. ``id`` is a separate public
identifier the "active sessions" page names a session by (the hash never leaves the server)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, new_id

USER_AGENT_MAX = 200
ADDRESS_MAX = 64


class UserSession(Base):
    __tablename__ = "user_session"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    user_agent: Mapped[str | None] = mapped_column(String(USER_AGENT_MAX))
    client_addr: Mapped[str | None] = mapped_column(String(ADDRESS_MAX))
    revoked_at: Mapped[datetime | None]
