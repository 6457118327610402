"""HTTP Basic and bearer tokens against sopflow users; the actor carries the user's agency (the
tenant) and groups.

Failures count in the login page's limiter (web/auth: :class:`~web.auth.LoginLimiter`), so the
REST API is no side door for guessing passwords: a wrong Basic password counts for that
username and address, an unknown token or a malformed header for the address; a locked caller
gets 429 with ``Retry-After``, even with the right password, and failures here lock the login
page too (and back). A request without credentials counts for nothing."""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import threading
import time
from typing import Any

from flask import current_app, g
from flask import request as flask_request
from sqlalchemy import select

from engine.actors import Actor
from engine.models import User
from web import context, passwords
from web.auth import login_limiter

from .errors import RestError


def _unauthorized() -> RestError:
    return RestError(401, "Authentication required", "AuthenticationException")


def _locked(left: float) -> RestError:
    minutes = max(1, math.ceil(left / 60))
    return RestError(
        429,
        f"Too many failed logins; try again in {minutes} minute(s) "
        f"(Terlalu banyak percobaan gagal; coba lagi dalam {minutes} menit)",
        "AuthenticationException",
        {"Retry-After": str(max(1, math.ceil(left)))},
    )


class CredentialCache:
    """Checked credentials for a few seconds, by a digest of the Authorization header, so that
    busy workers do not pay scrypt on every request. Only successful checks are kept; one cache
    per app, so two apps in one process (tests) never share a user. A user's entries are
    dropped at once when their password is reset or changed, they are deactivated, or their
    logins are locked (:meth:`drop_user`)."""

    TTL_S = 10.0  # a revoked token stops within this
    MAX = 1000

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Actor]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(header: str) -> str:
        return hashlib.sha256(header.encode("utf-8", "replace")).hexdigest()

    def get(self, header: str) -> Actor | None:
        key = self._key(header)
        with self._lock:
            hit = self._entries.get(key)
        return hit[1] if hit and hit[0] > time.monotonic() else None

    def put(self, header: str, found: Actor) -> None:
        key = self._key(header)
        with self._lock:
            if len(self._entries) >= self.MAX:
                self._entries.clear()
            self._entries[key] = (time.monotonic() + self.TTL_S, found)

    def drop_user(self, username: str) -> None:
        who = username.lower()
        with self._lock:
            for key in [k for k, (_, a) in self._entries.items() if a.username.lower() == who]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def credential_cache(app: Any) -> CredentialCache:
    cache = app.extensions.get("sopflow.rest_credentials")
    if cache is None:
        cache = app.extensions.setdefault("sopflow.rest_credentials", CredentialCache())
    return cache


def install(app: Any) -> None:
    """One cache per app, emptied of a user whose logins the shared limiter locks."""
    cache = credential_cache(app)

    def locked(username: str | None) -> None:
        if username is not None:
            cache.drop_user(username)

    login_limiter(app).listeners.append(locked)


def authenticate() -> Actor:
    header = flask_request.headers.get("Authorization", "")
    address = flask_request.remote_addr or "?"
    limiter = login_limiter(current_app)
    username = _basic_username(header)
    left = limiter.locked_for(username, address)
    if left > 0:
        raise _locked(left)
    cache = credential_cache(current_app)
    found = cache.get(header)
    if found is not None:
        return found
    try:
        found = _check(header)
    except RestError:
        if header.strip():
            limiter.failed(username, address)
        raise
    if username is not None:
        limiter.succeeded(username, address)
    cache.put(header, found)
    return found


def _actor(user: User) -> Actor:
    return Actor(
        username=user.username,
        agency=user.agency.code,
        groups=frozenset(ug.group for ug in user.groups),
        unit_id=user.work_unit_id,
    )


def _basic_credentials(header: str) -> tuple[str, str] | None:
    """(username, password) of a well-formed Basic header, else None."""
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "basic" or not credentials:
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else None


def _basic_username(header: str) -> str | None:
    found = _basic_credentials(header)
    return found[0][:64] if found else None


def _check(header: str) -> Actor:
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        from .tokens import token_user

        user = token_user(context.engine(), credentials.strip())
        if user is None:
            raise _unauthorized()
        return _actor(user)
    found = _basic_credentials(header)
    if found is None:
        raise _unauthorized()
    username, password = found
    engine = context.engine()
    with engine.sessions() as s:
        user = s.scalar(select(User).where(User.username == username))
        ok = passwords.verify_password(user.password_hash if user else None, password)
        if user is None or not ok or not user.active:
            raise _unauthorized()
        return _actor(user)


def actor() -> Actor:
    return g.rest_actor


def tenant() -> str:
    return g.rest_actor.agency
