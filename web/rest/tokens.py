"""Create, list and revoke API tokens (for an admin command or page)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy import select

from engine.actors import Actor
from engine.errors import NotFound, PermissionDenied
from engine.models import Agency, User
from engine.runtime import Engine

from .models import ApiToken

PREFIX = "sft_"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(engine: Engine, admin: Actor, username: str, name: str) -> str:
    """A new token acting as ``username`` (of the admin's agency); returned once, stored hashed."""
    if not admin.is_admin:
        raise PermissionDenied(
            "Only administrators create API tokens", "Hanya administrator yang membuat token API"
        )
    token = PREFIX + secrets.token_urlsafe(32)
    with engine.sessions.begin() as s:
        user = s.scalar(
            select(User)
            .join(Agency, Agency.id == User.agency_id)
            .where(User.username == username, Agency.code == admin.agency)
        )
        if user is None:
            raise NotFound(f"User '{username}' not found", f"Pengguna '{username}' tidak ditemukan")
        s.add(
            ApiToken(
                user_id=user.id,
                name=name,
                token_sha256=digest(token),
                created_by=admin.username,
                created_at=datetime.now(UTC),
            )
        )
    return token


def revoke_token(engine: Engine, admin: Actor, token_id: str) -> None:
    if not admin.is_admin:
        raise PermissionDenied(
            "Only administrators revoke API tokens", "Hanya administrator yang mencabut token API"
        )
    with engine.sessions.begin() as s:
        row = s.get(ApiToken, token_id)
        user = s.get(User, row.user_id) if row else None
        if row is None or user is None or user.agency.code != admin.agency:
            raise NotFound(f"Token '{token_id}' not found", f"Token '{token_id}' tidak ditemukan")
        row.revoked_at = datetime.now(UTC)


def token_user(engine: Engine, token: str) -> User | None:
    """The active user a valid, unrevoked token acts as (None otherwise)."""
    with engine.sessions() as s:
        row = s.scalar(select(ApiToken).where(ApiToken.token_sha256 == digest(token)))
        if row is None or row.revoked_at is not None:
            return None
        user = s.get(User, row.user_id)
        if user is None or not user.active:
            return None
        user.groups  # noqa: B018 - loaded now, read after the session
        return user
