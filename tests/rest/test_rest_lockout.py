"""REST HTTP Basic and tokens share the login page's limiter (issue 11): 20 wrong passwords and
then the right one is 429, an address failing across usernames or with unknown tokens is locked,
failures on the login page count here and back, and a locked, reset or deactivated user is
never answered from the credential cache (the Flask path and the completion fast path)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from flask.testing import FlaskClient
from rest_support import PASSWORD
from sqlalchemy import select

import web.auth
from engine.actors import Actor
from engine.models import User
from web.auth import LOCKOUT_SECONDS, MAX_ADDRESS_FAILURES, MAX_FAILURES
from web.rest.auth import credential_cache

WRONG = "salah-sekali-123"
NEW_PASSWORD = "kata-sandi-baru-yang-panjang"


def basic(server: str, user: str, password: str) -> requests.Response:
    return requests.get(f"{server}/task?maxResults=0", auth=(user, password), timeout=5)


def bearer(server: str, token: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.get(f"{server}/task?maxResults=0", headers=headers, timeout=5)


def csrf_of(c: FlaskClient) -> str:
    with c.session_transaction() as sess:
        token = sess.setdefault("csrf", "t" * 43)
    return str(token)


def ui_login(
    app: Any, username: str, password: str = PASSWORD, address: str = "127.0.0.1"
) -> tuple[FlaskClient, int]:
    """The login page from ``address`` (the live server sees the tests at 127.0.0.1)."""
    c = app.test_client()
    r = c.post(
        "/masuk",
        data={"username": username, "password": password, "csrf_token": csrf_of(c)},
        environ_base={"REMOTE_ADDR": address},
    )
    return c, r.status_code


def assert_locked(r: requests.Response) -> None:
    assert r.status_code == 429, r.text
    body = r.json()
    assert body["type"] == "AuthenticationException"
    assert "Too many failed" in body["message"] and "Terlalu banyak" in body["message"]
    assert 1 <= int(r.headers["Retry-After"]) <= LOCKOUT_SECONDS
    assert r.headers["Cache-Control"] == "no-store"


def test_twenty_wrong_passwords_then_the_right_one_is_429(
    server: str, users: dict[str, str], app: Any
) -> None:
    officer = users["officer"]
    statuses = [basic(server, officer, WRONG).status_code for _ in range(20)]
    assert statuses == [401] * MAX_FAILURES + [429] * (20 - MAX_FAILURES)
    assert_locked(basic(server, officer, PASSWORD))
    assert ui_login(app, officer)[1] == 429  # one limiter: the login page is locked too
    c = app.test_client()
    r = c.post("/masuk", data={"username": officer, "password": PASSWORD, "csrf_token": csrf_of(c)})
    assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= LOCKOUT_SECONDS
    # the pair is locked, not the user everywhere nor the address for everyone
    assert basic(server, users["admin"], PASSWORD).status_code == 200
    assert ui_login(app, officer, address="10.0.0.9")[1] == 302


def test_failures_on_the_login_page_count_for_rest(
    server: str, users: dict[str, str], app: Any
) -> None:
    officer = users["officer"]
    for _ in range(MAX_FAILURES):
        assert ui_login(app, officer, WRONG)[1] == 401
    assert_locked(basic(server, officer, PASSWORD))


def test_an_address_failing_across_usernames_is_locked(
    server: str, users: dict[str, str], app: Any
) -> None:
    for i in range(MAX_ADDRESS_FAILURES - 1):
        assert basic(server, f"tebakan{i}", WRONG).status_code == 401
    assert ui_login(app, "tebakan-terakhir", WRONG)[1] == 401  # the 20th, on the login page
    assert_locked(basic(server, users["admin"], PASSWORD))
    assert ui_login(app, users["admin"])[1] == 429
    assert ui_login(app, users["admin"], address="10.0.0.9")[1] == 302


def test_unknown_tokens_count_for_the_address(server: str, users: dict[str, str], app: Any) -> None:
    from web.rest.tokens import create_token

    admin = Actor(users["admin"], "kudus", frozenset({"admin"}))
    token = create_token(app.extensions["sopflow"], admin, users["officer"], "worker")
    assert bearer(server, token).status_code == 200
    for i in range(MAX_ADDRESS_FAILURES):
        assert bearer(server, f"sft_tebakan{i}").status_code == 401
    assert_locked(basic(server, users["admin"], PASSWORD))
    assert_locked(bearer(server, token))


def test_requests_without_credentials_count_for_nothing(server: str, users: dict[str, str]) -> None:
    for _ in range(MAX_ADDRESS_FAILURES + 5):
        assert requests.get(f"{server}/task", timeout=5).status_code == 401
    assert basic(server, users["admin"], PASSWORD).status_code == 200


def test_the_lockout_ends(
    server: str, users: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    t = [1_800_000_000.0]
    monkeypatch.setattr(web.auth, "now", lambda: t[0])
    for _ in range(MAX_FAILURES):
        basic(server, users["officer"], WRONG)
    r = basic(server, users["officer"], PASSWORD)
    assert_locked(r)
    assert int(r.headers["Retry-After"]) == LOCKOUT_SECONDS
    t[0] += LOCKOUT_SECONDS + 1
    assert basic(server, users["officer"], PASSWORD).status_code == 200


@pytest.mark.parametrize("lock", ["user", "address"])
def test_a_locked_caller_is_not_served_from_the_credential_cache(
    server: str, users: dict[str, str], app: Any, deployed: dict[str, Any], lock: str
) -> None:
    s = requests.Session()
    s.auth = (users["officer"], PASSWORD)
    r = s.get(f"{server}/task?maxResults=0", timeout=5)
    assert r.status_code == 200
    header = r.request.headers["Authorization"]
    cache = credential_cache(app)
    cached = cache.get(header)
    assert cached is not None
    # unlocked, the fast path answers a completion of an unknown task from the cache: 404
    assert s.post(f"{server}/task/no-such-task/complete", json={}, timeout=5).status_code == 404
    if lock == "user":
        for _ in range(MAX_FAILURES):
            basic(server, users["officer"], WRONG)
        assert cache.get(header) is None  # dropped when the lock started
    else:
        for i in range(MAX_ADDRESS_FAILURES):
            basic(server, f"tebakan{i}", WRONG)
    cache.put(header, cached)  # even were it still cached
    assert_locked(s.get(f"{server}/task?maxResults=0", timeout=5))
    assert_locked(s.post(f"{server}/task/no-such-task/complete", json={}, timeout=5))
    assert_locked(s.post(f"{server}/external-task/no-such/complete", json={}, timeout=5))


def _user_id(app: Any, username: str) -> int:
    with app.extensions["sopflow"].sessions() as s:
        found = s.scalar(select(User.id).where(User.username == username))
        assert found is not None
        return found


@pytest.mark.parametrize("change", ["reset", "deactivate", "own-password"])
def test_password_changes_and_deactivation_stop_cached_credentials_at_once(
    server: str, users: dict[str, str], app: Any, deployed: dict[str, Any], change: str
) -> None:
    officer = users["officer"]
    s = requests.Session()
    s.auth = (officer, PASSWORD)
    assert s.get(f"{server}/task?maxResults=0", timeout=5).status_code == 200  # now cached
    if change == "own-password":
        c, status = ui_login(app, officer)
        form = {"current": PASSWORD, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD}
        r = c.post("/akun/sandi", data={**form, "csrf_token": csrf_of(c)})
    else:
        c, status = ui_login(app, users["admin"])
        path = "sandi" if change == "reset" else "status"
        url = f"/admin/pengguna/{_user_id(app, officer)}/{path}"
        r = c.post(url, data={"active": "0", "csrf_token": csrf_of(c)})
    assert status == 302 and r.status_code in (200, 302)
    # well within the cache's few seconds, the old credentials are refused on both paths
    assert s.get(f"{server}/task?maxResults=0", timeout=5).status_code == 401
    assert s.post(f"{server}/task/no-such-task/complete", json={}, timeout=5).status_code == 401
