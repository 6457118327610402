"""Stable UUID user ids for clients that type ``userId`` as a UUID (camunda-client), and
``GET /user`` so a client can learn them.

The UUID is derived from the username (UUIDv5), so it needs no column and never changes while
the username stays; usernames are unique across agencies, so it names one user."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, jsonify, request
from sqlalchemy import select

from engine import access
from engine.access import Permission
from engine.models import Agency, User
from engine.runtime import Engine

from .auth import actor, tenant
from .common import arg_list, engine, page

NAMESPACE = uuid.UUID("6f1b2a3c-5d4e-5f60-8a7b-9c0d1e2f3a4b")


def user_uuid(username: str) -> str:
    return str(uuid.uuid5(NAMESPACE, username))


def looks_like_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _usernames(eng: Engine, agency: str) -> list[str]:
    with eng.sessions() as s:
        return list(
            s.scalars(
                select(User.username)
                .join(Agency, Agency.id == User.agency_id)
                .where(Agency.code == agency, User.active.is_(True))
                .order_by(User.username)
            )
        )


def username_for_uuid(eng: Engine, agency: str, value: str) -> str | None:
    wanted = str(uuid.UUID(value))
    for name in _usernames(eng, agency):
        if user_uuid(name) == wanted:
            return name
    return None


def list_() -> Any:
    """Camunda's user list (``id``, ``firstName``, ``lastName``, ``email``), plus ``uuid``:
    the agency's users for an administrator, one's own record for anyone else."""
    who = actor()
    access.require(who, Permission.READ_SELF)
    if access.allowed(who, Permission.ADMINISTER):
        names = _usernames(engine(), tenant())
    else:
        names = [who.username]
    wanted = request.args.get("id")
    ids = arg_list("idIn")
    if wanted:
        names = [n for n in names if wanted in (n, user_uuid(n))]
    if ids is not None:
        names = [n for n in names if n in ids or user_uuid(n) in ids]
    return jsonify(
        [
            {"id": n, "uuid": user_uuid(n), "firstName": None, "lastName": None, "email": None}
            for n in page(names)
        ]
    )


def routes(bp: Blueprint) -> None:
    bp.add_url_rule("/user", "user_list", list_, methods=["GET"])
