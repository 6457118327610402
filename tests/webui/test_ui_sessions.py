"""Server-side sessions (issue 11): a copied cookie stops working after logout, a password
change, an administrator's reset or a deactivation; the "Sesi aktif" page lists and ends the
user's own sessions; the password page; only a session id lives in the cookie."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from ui_support import PASSWORD, login, post

import web.auth
from engine.models import User
from web.auth.models import UserSession
from web.auth.sessions import digest

NEW_PASSWORD = "kata-sandi-baru-yang-panjang"


def cookie(c: FlaskClient) -> str:
    found = c.get_cookie("session")
    assert found is not None
    return found.value


def replay(app: Flask, value: str) -> FlaskClient:
    """A new browser with a copy of someone's session cookie."""
    c = app.test_client()
    c.set_cookie("session", value)
    return c


def logged_in(c: FlaskClient) -> bool:
    r = c.get("/layanan")
    assert r.status_code in (200, 302), r.status_code
    if r.status_code == 302:
        assert r.headers["Location"].startswith("/masuk")
    return r.status_code == 200


def rows(app: Flask, username: str) -> list[UserSession]:
    with app.extensions["sopflow"].sessions() as s:
        uid = s.scalar(select(User.id).where(User.username == username))
        return list(s.scalars(select(UserSession).where(UserSession.user_id == uid)))


def user_id(app: Flask, username: str) -> int:
    with app.extensions["sopflow"].sessions() as s:
        found = s.scalar(select(User.id).where(User.username == username))
        assert found is not None
        return found


def login_as(c: FlaskClient, username: str, **kw: Any) -> Any:
    return post(c, "/masuk", {"username": username, "password": PASSWORD}, **kw)


def session_ids(html: str) -> list[str]:
    return re.findall(r'data-session="([0-9a-f-]{36})"', html)


@pytest.fixture
def office(make_user: Any) -> None:
    make_user("adm", "kudus", "admin")
    make_user("ani", "kudus", "applicant")
    make_user("budi", "kudus", "applicant")


# ---------------------------------------------------------------- the reproductions
def test_cookie_replayed_after_logout_is_logged_out(
    app: Flask, office: Any, client_for: Any
) -> None:
    c = client_for("ani")
    copied = cookie(c)
    assert logged_in(replay(app, copied))
    assert post(c, "/keluar").status_code == 302
    assert not logged_in(c)
    thief = replay(app, copied)
    r = thief.get("/layanan")
    assert r.status_code == 302 and r.headers["Location"].startswith("/masuk?next=")
    assert "Sesi Anda telah diakhiri" in thief.get("/masuk").get_data(as_text=True)


@pytest.mark.parametrize(
    "action", [("sandi", {}), ("status", {"active": "0"})], ids=["reset", "deactivate"]
)
def test_admin_reset_or_deactivation_ends_every_session(
    app: Flask, office: Any, client_for: Any, action: tuple[str, dict[str, str]]
) -> None:
    phone, laptop = client_for("ani"), client_for("ani")
    copied = cookie(phone)
    adm = client_for("adm")
    path, data = action
    r = post(adm, f"/admin/pengguna/{user_id(app, 'ani')}/{path}", data)
    assert r.status_code in (200, 302)
    assert not logged_in(phone) and not logged_in(laptop) and not logged_in(replay(app, copied))
    assert all(row.revoked_at is not None for row in rows(app, "ani"))
    assert logged_in(adm)  # the administrator's own session goes on
    assert logged_in(client_for("budi"))  # and nobody else's ends


def test_admin_resetting_their_own_password_keeps_that_session(
    app: Flask, office: Any, client_for: Any
) -> None:
    adm, other = client_for("adm"), client_for("adm")
    assert post(adm, f"/admin/pengguna/{user_id(app, 'adm')}/sandi").status_code == 200
    assert logged_in(adm) and not logged_in(other)


def test_own_password_change_ends_the_other_sessions(
    app: Flask, office: Any, client_for: Any
) -> None:
    here, elsewhere = client_for("ani"), client_for("ani")
    copied = cookie(elsewhere)
    assert "Kata sandi saat ini" in here.get("/akun/sandi").get_data(as_text=True)
    r = post(
        here, "/akun/sandi", {"current": PASSWORD, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD}
    )
    assert r.status_code == 302 and r.headers["Location"] == "/akun/sesi"
    assert logged_in(here)
    assert not logged_in(elsewhere) and not logged_in(replay(app, copied))
    assert login(app.test_client(), "ani").status_code == 401  # the old password is gone
    assert login(app.test_client(), "ani", NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    "form,message",
    [
        ({"current": "salah-sekali-123", "new": NEW_PASSWORD}, "Kata sandi saat ini salah."),
        ({"current": PASSWORD, "new": NEW_PASSWORD, "repeat": "lain"}, "tidak sama"),
        ({"current": PASSWORD, "new": "pendek", "repeat": "pendek"}, "minimal 10 karakter"),
    ],
    ids=["wrong-current", "differ", "weak"],
)
def test_password_change_is_refused_without_ending_sessions(
    app: Flask, office: Any, client_for: Any, form: dict[str, str], message: str
) -> None:
    form.setdefault("repeat", form["new"])
    here, elsewhere = client_for("ani"), client_for("ani")
    r = post(here, "/akun/sandi", form)
    assert r.status_code == 422 and message in r.get_data(as_text=True)
    assert logged_in(here) and logged_in(elsewhere)
    assert login(app.test_client(), "ani").status_code == 302


def test_guessing_the_current_password_is_rate_limited(
    app: Flask, office: Any, client_for: Any
) -> None:
    c = client_for("ani")
    wrong = {"current": "salah-sekali-123", "new": NEW_PASSWORD, "repeat": NEW_PASSWORD}
    for _ in range(web.auth.MAX_FAILURES):
        assert post(c, "/akun/sandi", wrong).status_code == 422
    right = {**wrong, "current": PASSWORD}
    assert post(c, "/akun/sandi", right).status_code == 429
    assert login(app.test_client(), "ani").status_code == 429  # one limiter, same address


# ---------------------------------------------------------------- the sessions page
def test_sessions_page_lists_and_ends_own_sessions(app: Flask, office: Any) -> None:
    here = app.test_client()
    assert login_as(here, "ani", headers={"User-Agent": "Peramban-Kantor/1.0"}).status_code == 302
    there = app.test_client()
    r = login_as(
        there,
        "ani",
        headers={"User-Agent": "Ponsel-Dinas/2.0"},
        environ_base={"REMOTE_ADDR": "10.20.30.40"},
    )
    assert r.status_code == 302
    third = app.test_client()
    assert login(third, "ani").status_code == 302
    client_for_budi = app.test_client()
    assert login(client_for_budi, "budi").status_code == 302

    html = here.get("/akun/sesi").get_data(as_text=True)
    assert "Sesi aktif" in html and "Sesi ini" in html
    assert "Peramban-Kantor/1.0" in html and "Ponsel-Dinas/2.0" in html and "10.20.30.40" in html
    listed = session_ids(html)
    assert len(listed) == 3  # budi's session is not listed
    row_of = {r.user_agent: r.id for r in rows(app, "ani")}
    assert set(listed) == set(row_of.values())

    r = post(here, f"/akun/sesi/{row_of['Ponsel-Dinas/2.0']}/akhiri")
    assert r.status_code == 302 and r.headers["Location"] == "/akun/sesi"
    assert not logged_in(there) and logged_in(here) and logged_in(third)
    assert len(session_ids(here.get("/akun/sesi").get_data(as_text=True))) == 2

    r = post(here, "/akun/sesi/akhiri-lainnya")
    assert r.status_code == 302
    assert not logged_in(third) and logged_in(here) and logged_in(client_for_budi)
    html = here.get("/akun/sesi").get_data(as_text=True)
    assert session_ids(html) == [row_of["Peramban-Kantor/1.0"]] and "Tidak ada sesi lain" in html

    # ending this very session is logging out
    r = post(here, f"/akun/sesi/{row_of['Peramban-Kantor/1.0']}/akhiri")
    assert r.status_code == 302 and r.headers["Location"] == "/masuk"
    assert not logged_in(here)


def test_another_user_cannot_end_my_sessions(app: Flask, office: Any, client_for: Any) -> None:
    ani, budi = client_for("ani"), client_for("budi")
    mine = session_ids(ani.get("/akun/sesi").get_data(as_text=True))
    assert post(budi, f"/akun/sesi/{mine[0]}/akhiri").status_code == 404
    assert post(budi, "/akun/sesi/no-such-session/akhiri").status_code == 404
    post(budi, "/akun/sesi/akhiri-lainnya")
    assert logged_in(ani)
    # an already ended session is not found either
    assert post(ani, "/akun/sesi/akhiri-lainnya").status_code == 302
    assert logged_in(ani)


def test_account_pages_need_a_login_and_csrf(app: Flask, office: Any, client_for: Any) -> None:
    anonymous = app.test_client()
    for path in ("/akun/sesi", "/akun/sandi"):
        r = anonymous.get(path)
        assert r.status_code == 302 and r.headers["Location"].startswith("/masuk?next=")
    ani, other = client_for("ani"), client_for("ani")
    sid = session_ids(ani.get("/akun/sesi").get_data(as_text=True))[0]
    form = {"current": PASSWORD, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD}
    for path, data in (
        (f"/akun/sesi/{sid}/akhiri", {}),
        ("/akun/sesi/akhiri-lainnya", {}),
        ("/akun/sandi", form),
    ):
        assert ani.post(path, data=data).status_code == 400, path
        assert ani.post(path, data={**data, "csrf_token": "x" * 43}).status_code == 400, path
    assert logged_in(ani) and logged_in(other)
    assert login(app.test_client(), "ani").status_code == 302  # password unchanged


def test_pages_in_english(app: Flask, office: Any, client_for: Any) -> None:
    c = client_for("ani")
    post(c, "/bahasa", {"lang": "en"})
    html = c.get("/akun/sesi").get_data(as_text=True)
    assert "Active sessions" in html and "This session" in html and "Sesi aktif" not in html
    html = c.get("/akun/sandi").get_data(as_text=True)
    assert "Current password" in html and "Repeat the new password" in html


def test_every_account_text_has_an_english_translation() -> None:
    from web.i18n import EN

    root = Path(__file__).resolve().parents[2] / "web"
    found: set[str] = set()
    files = [*(root / "templates" / "auth").glob("*.html"), *(root / "auth").glob("*.py")]
    for f in files:
        text = f.read_text(encoding="utf-8")
        found |= set(re.findall(r'_\(\s*"([^"]+)"', text))
        for call in re.findall(r'gettext\(\s*((?:"[^"]*"\s*)+)', text):
            found.add("".join(re.findall(r'"([^"]*)"', call)))
    assert {"Sesi aktif", "Ganti kata sandi", "Kata sandi saat ini"} <= found
    assert sorted(t for t in found if t not in EN) == []


# ---------------------------------------------------------------- the cookie and the row
def test_the_cookie_carries_only_a_session_id_and_the_row_only_its_hash(
    app: Flask, office: Any
) -> None:
    c = app.test_client()
    r = login_as(c, "ani", headers={"User-Agent": "U" * 500})
    assert r.status_code == 302
    data = app.session_interface.get_signing_serializer(app).loads(cookie(c))  # type: ignore[attr-defined]
    assert set(data) <= {"sid", "csrf", "lang", "_permanent", "_flashes"}
    (row,) = rows(app, "ani")
    assert row.token_sha256 == digest(data["sid"]) and data["sid"] not in row.token_sha256
    assert row.id != data["sid"] and row.revoked_at is None
    assert row.user_agent == "U" * 200 and row.client_addr == "127.0.0.1"


def test_an_old_signed_cookie_with_a_user_id_is_not_a_login(app: Flask, office: Any) -> None:
    c = app.test_client()
    with c.session_transaction() as sess:
        sess["uid"] = user_id(app, "ani")
        sess["login_at"] = sess["seen"] = 4_000_000_000.0
    assert not logged_in(c)


def test_last_seen_is_written_at_most_once_a_minute_and_sessions_end_after_max_hours(
    app: Flask, office: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = [1_800_000_000.0]
    monkeypatch.setattr(web.auth, "now", lambda: t[0])
    c = app.test_client()
    login(c, "ani")
    (row,) = rows(app, "ani")
    first = row.last_seen_at
    t[0] += 30
    assert logged_in(c)
    assert rows(app, "ani")[0].last_seen_at == first
    t[0] += 31
    assert logged_in(c)
    assert rows(app, "ani")[0].last_seen_at.timestamp() == pytest.approx(t[0])
    # active every 20 minutes, yet over after 12 hours
    while t[0] - first.timestamp() < 12 * 3600 - 20 * 60:
        t[0] += 20 * 60
        assert logged_in(c)
    t[0] += 20 * 60 + 1
    r = c.get("/layanan")
    assert r.status_code == 302
    assert "Sesi Anda telah berakhir" in c.get("/masuk").get_data(as_text=True)
