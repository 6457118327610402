"""Helpers for the UI tests, importable by name (a ``conftest`` module is not, once several
directories have one)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app_fixtures import PASSWORD  # noqa: F401 - the password of every test user
from flask.testing import FlaskClient


def csrf(client: FlaskClient) -> str:
    with client.session_transaction() as sess:
        token = sess.get("csrf")
        if not token:
            token = sess["csrf"] = "t" * 43
    return token


def post(client: FlaskClient, url: str, data: Mapping[str, Any] | None = None, **kw: Any) -> Any:
    return client.post(url, data={**(data or {}), "csrf_token": csrf(client)}, **kw)


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> Any:
    return post(client, "/masuk", {"username": username, "password": password})
