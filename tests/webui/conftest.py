"""Fixtures for the browser UI tests through Flask's test client: the shared app fixtures
(tests/app_fixtures.py: an app on the suite's database, SQLite and PostgreSQL, users, deploy,
a worker for service tasks) and a logged-in test client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from app_fixtures import app, cheap_scrypt, deploy, engine, make_user, work  # noqa: F401
from flask import Flask
from flask.testing import FlaskClient
from ui_support import login


@pytest.fixture
def app_settings() -> dict[str, Any]:
    return {"UPLOAD_MAX_BYTES": 64 * 1024}


@pytest.fixture
def client_for(app: Flask) -> Callable[[str], FlaskClient]:
    def make(username: str) -> FlaskClient:
        c = app.test_client()
        r = login(c, username)
        assert r.status_code == 302, r.get_data(as_text=True)
        return c

    return make
