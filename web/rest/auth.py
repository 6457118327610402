"""HTTP Basic against sopflow users; the actor carries the user's agency (the tenant) and groups."""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time

from flask import current_app, g
from flask import request as flask_request
from sqlalchemy import select

from engine.actors import Actor
from engine.models import User
from web import passwords

from .errors import RestError


def _unauthorized() -> RestError:
    return RestError(401, "Authentication required", "AuthenticationException")


_CACHE_S = 10.0  # a revoked token or deactivated user stops within this
_cache: dict[str, tuple[float, Actor]] = {}
_cache_lock = threading.Lock()


def authenticate() -> Actor:
    """Checked credentials are cached for a few seconds (by a digest of the header), so that
    busy workers do not pay scrypt on every request."""
    header = flask_request.headers.get("Authorization", "")
    digest = hashlib.sha256(header.encode("utf-8", "replace")).hexdigest()
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(digest)
    if hit and hit[0] > now:
        return hit[1]
    found = _check(header)
    with _cache_lock:
        if len(_cache) > 1000:
            _cache.clear()
        _cache[digest] = (now + _CACHE_S, found)
    return found


def _actor(user: User) -> Actor:
    return Actor(
        username=user.username,
        agency=user.agency.code,
        groups=frozenset(ug.group for ug in user.groups),
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
