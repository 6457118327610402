"""HTTP Basic against sopflow users; the actor carries the user's agency (the tenant) and groups."""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time
from typing import Any

from flask import current_app, g
from flask import request as flask_request
from sqlalchemy import select

from engine.actors import Actor
from engine.models import User
from web import passwords

from .errors import RestError


def _unauthorized() -> RestError:
    return RestError(401, "Authentication required", "AuthenticationException")


class CredentialCache:
    """Checked credentials for a few seconds, by a digest of the Authorization header, so that
    busy workers do not pay scrypt on every request. Only successful checks are kept; one cache
    per app, so two apps in one process (tests) never share a user."""

    TTL_S = 10.0  # a revoked token or deactivated user stops within this
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

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def credential_cache(app: Any) -> CredentialCache:
    cache = app.extensions.get("sopflow.rest_credentials")
    if cache is None:
        cache = app.extensions.setdefault("sopflow.rest_credentials", CredentialCache())
    return cache


def authenticate() -> Actor:
    header = flask_request.headers.get("Authorization", "")
    cache = credential_cache(current_app)
    found = cache.get(header)
    if found is None:
        found = _check(header)
        cache.put(header, found)
    return found


def _actor(user: User) -> Actor:
    return Actor(
        username=user.username,
        agency=user.agency.code,
        groups=frozenset(ug.group for ug in user.groups),
        unit_id=user.work_unit_id,
    )


def _check(header: str) -> Actor:
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        from .tokens import token_user

        user = token_user(current_app.extensions["sopflow"], credentials.strip())
        if user is None:
            raise _unauthorized()
        return _actor(user)
    if scheme.lower() != "basic" or not credentials:
        raise _unauthorized()
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise _unauthorized() from None
    username, sep, password = decoded.partition(":")
    if not sep:
        raise _unauthorized()
    engine = current_app.extensions["sopflow"]
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
