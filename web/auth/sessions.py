"""The server-side half of a login (table ``user_session``, web/auth/models.py).

Why a row per login rather than a signed cookie alone: a signed cookie stays valid until it
expires, whatever happens on the server, so a copied cookie still answered after ``POST
/keluar`` or an administrator's password reset (issue 11). The cookie now carries only a random
id; every request looks the row up, and a missing, revoked or expired row is a logged-out
request. Expiry keeps the old rules: ``idle`` seconds since the last request, ``max_age``
seconds since the login. ``last_seen_at`` is written at most once a minute (``TOUCH_S``), so a
busy page does not turn every request into a write.

Times are POSIX seconds from :func:`web.auth.now` (tests move it), stored as UTC datetimes.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from engine.models import User

from .models import ADDRESS_MAX, USER_AGENT_MAX, UserSession

TOUCH_S = 60.0


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "replace")).hexdigest()


def at(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


@dataclass(frozen=True)
class Limits:
    """How long a session lives: ``idle`` and ``max_age`` in seconds."""

    idle: float
    max_age: float

    def expired(self, row: UserSession, t: float) -> bool:
        return (
            t - row.last_seen_at.timestamp() > self.idle
            or t - row.created_at.timestamp() > self.max_age
        )

    def live(self, row: UserSession, t: float) -> bool:
        return row.revoked_at is None and not self.expired(row, t)


def start(
    sessions: Any, user_id: int, t: float, limits: Limits, user_agent: str, address: str
) -> str:
    """A new session for ``user_id``; returns the raw id for the cookie (never stored).

    The user's rows that ended long ago (older than the longest session) are removed here, so
    the table stays as large as the logins of the last day or so."""
    raw = secrets.token_urlsafe(32)
    now = at(t)
    with sessions.begin() as s:
        s.execute(
            delete(UserSession).where(
                UserSession.user_id == user_id,
                UserSession.created_at < now - timedelta(seconds=limits.max_age + 86_400),
            )
        )
        s.add(
            UserSession(
                user_id=user_id,
                token_sha256=digest(raw),
                created_at=now,
                last_seen_at=now,
                user_agent=(user_agent or "")[:USER_AGENT_MAX] or None,
                client_addr=(address or "")[:ADDRESS_MAX] or None,
            )
        )
    return raw


def lookup(s: Session, raw: str) -> UserSession | None:
    return s.scalar(select(UserSession).where(UserSession.token_sha256 == digest(raw)))


def touch(sessions: Any, row: UserSession, t: float) -> None:
    """Refresh the idle clock when the last write is more than a minute old."""
    if t - row.last_seen_at.timestamp() <= TOUCH_S:
        return
    with sessions.begin() as s:
        s.execute(
            update(UserSession)
            .where(UserSession.id == row.id, UserSession.revoked_at.is_(None))
            .values(last_seen_at=at(t))
        )


def revoke(sessions: Any, raw: str, t: float) -> None:
    """End the session whose cookie id is ``raw`` (logout)."""
    with sessions.begin() as s:
        s.execute(
            update(UserSession)
            .where(UserSession.token_sha256 == digest(raw), UserSession.revoked_at.is_(None))
            .values(revoked_at=at(t))
        )


def revoke_user(s: Session, user_id: int, t: float, keep: str | None = None) -> int:
    """End every session of ``user_id`` but the one with public id ``keep``, in the caller's
    transaction (so a password change and the revocation commit together); how many ended."""
    query = update(UserSession).where(
        UserSession.user_id == user_id, UserSession.revoked_at.is_(None)
    )
    if keep is not None:
        query = query.where(UserSession.id != keep)
    return int(s.execute(query.values(revoked_at=at(t))).rowcount or 0)  # type: ignore[attr-defined]


def revoke_one(sessions: Any, user_id: int, session_id: str, t: float) -> bool:
    """End one session of ``user_id`` by its public id; False when there is no such live
    session of that user (someone else's id is "not found", never ended)."""
    with sessions.begin() as s:
        row = s.get(UserSession, session_id)
        if row is None or row.user_id != user_id or row.revoked_at is not None:
            return False
        row.revoked_at = at(t)
        return True


def active(sessions: Any, user_id: int, t: float, limits: Limits) -> list[UserSession]:
    """The user's live sessions, the most recently used first."""
    with sessions() as s:
        rows = s.scalars(
            select(UserSession)
            .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
            .order_by(UserSession.last_seen_at.desc())
        )
        return [r for r in rows if limits.live(r, t)]


def user_of(s: Session, row: UserSession) -> User | None:
    return s.get(User, row.user_id)
