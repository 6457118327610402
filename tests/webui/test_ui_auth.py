"""Logging in and out, sessions, CSRF, language, security headers and error pages."""

from __future__ import annotations

from typing import Any

import pytest
from ui_support import PASSWORD, csrf, login, post

import web.auth


def test_login_page_is_indonesian_by_default_and_english_on_request(app: Any) -> None:
    c = app.test_client()
    r = c.get("/masuk")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Kata sandi" in html and 'lang="id"' in html
    assert 'name="csrf_token"' in html
    r = post(c, "/bahasa", {"lang": "en", "next": "/masuk"})
    assert r.status_code == 302 and r.headers["Location"] == "/masuk"
    html = c.get("/masuk").get_data(as_text=True)
    assert "Password" in html and 'lang="en"' in html


def test_login_ok_sets_a_hardened_session_cookie(app: Any, make_user: Any) -> None:
    make_user("ani", "kudus", "applicant")
    c = app.test_client()
    r = login(c, "ani")
    assert r.status_code == 302 and r.headers["Location"] == "/beranda"
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    r = c.get("/beranda")
    assert r.status_code == 302 and r.headers["Location"] == "/layanan"
    r = c.get("/layanan")
    assert r.status_code == 200 and "Ani" in r.get_data(as_text=True)
    assert r.headers["Cache-Control"] == "no-store"


def test_cookie_secure_can_be_turned_off_for_plain_http_on_localhost(
    db_url: str, agencies: Any, tmp_path: Any
) -> None:
    from web import create_app, ui

    app = create_app(
        {
            "DATABASE_URL": db_url,
            "SECRET_KEY": "k" * 32,
            "WORKERS": 0,
            "INSTANCE_DIR": tmp_path,
            "COOKIE_SECURE": "0",
        }
    )
    if "ui" not in app.blueprints:
        ui.register(app)
    assert app.config["SESSION_COOKIE_SECURE"] is False
    app.extensions["sopflow"].sessions.kw["bind"].dispose()


def test_officer_lands_in_the_inbox(app: Any, make_user: Any) -> None:
    make_user("kadis", "kudus", "head_of_office")
    c = app.test_client()
    login(c, "kadis")
    assert c.get("/beranda").headers["Location"] == "/tugas"


@pytest.mark.parametrize("username,password", [("ani", "salah-sekali-123"), ("nobody", PASSWORD)])
def test_bad_login_is_refused_with_one_message(
    app: Any, make_user: Any, username: str, password: str
) -> None:
    make_user("ani", "kudus", "applicant")
    c = app.test_client()
    r = login(c, username, password)
    assert r.status_code == 401
    assert "Nama pengguna atau kata sandi salah." in r.get_data(as_text=True)
    assert c.get("/layanan").status_code == 302


def test_inactive_user_cannot_log_in(app: Any, make_user: Any) -> None:
    make_user("old", "kudus", "applicant", active=False)
    assert login(app.test_client(), "old").status_code == 401


def test_login_is_rate_limited_per_username_and_address(app: Any, make_user: Any) -> None:
    make_user("ani", "kudus", "applicant")
    c = app.test_client()
    for _ in range(5):
        assert login(c, "ani", "bukan-sandinya-1").status_code == 401
    r = login(c, "ani")  # even the right password waits out the lockout
    assert r.status_code == 429 and "Terlalu banyak percobaan" in r.get_data(as_text=True)
    # another address is not locked out
    other = app.test_client()
    r = post(
        other,
        "/masuk",
        {"username": "ani", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    assert r.status_code == 302


def test_lockout_ends(app: Any, make_user: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    make_user("ani", "kudus", "applicant")
    c = app.test_client()
    t = [1_000_000.0]
    monkeypatch.setattr(web.auth, "now", lambda: t[0])
    for _ in range(5):
        login(c, "ani", "bukan-sandinya-1")
    assert login(c, "ani").status_code == 429
    t[0] += web.auth.LOCKOUT_SECONDS + 1
    assert login(c, "ani").status_code == 302


def test_login_required_redirects_to_login(app: Any) -> None:
    for path in ("/layanan", "/permohonan", "/tugas", "/beranda", "/layanan/kudus/ajukan"):
        r = app.test_client().get(path)
        assert r.status_code == 302 and r.headers["Location"].startswith("/masuk?next=")


def test_next_only_redirects_inside_the_site(app: Any, make_user: Any) -> None:
    make_user("ani", "kudus", "applicant")
    c = app.test_client()
    r = post(c, "/masuk?next=//evil.example/x", {"username": "ani", "password": PASSWORD})
    assert r.headers["Location"] == "/beranda"
    c = app.test_client()
    r = post(c, "/masuk?next=/permohonan", {"username": "ani", "password": PASSWORD})
    assert r.headers["Location"] == "/permohonan"


def test_session_times_out_when_idle(
    app: Any, make_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_user("ani", "kudus", "applicant")
    t = [1_000_000.0]
    monkeypatch.setattr(web.auth, "now", lambda: t[0])
    c = app.test_client()
    login(c, "ani")
    t[0] += 20 * 60
    assert c.get("/layanan").status_code == 200
    t[0] += 31 * 60
    r = c.get("/layanan")
    assert r.status_code == 302 and r.headers["Location"].startswith("/masuk")
    assert "Sesi Anda telah berakhir" in c.get("/masuk").get_data(as_text=True)


def test_logout_needs_csrf_and_ends_the_session(app: Any, make_user: Any) -> None:
    make_user("ani", "kudus", "applicant")
    c = app.test_client()
    login(c, "ani")
    assert c.post("/keluar").status_code == 400
    assert c.get("/layanan").status_code == 200
    r = post(c, "/keluar")
    assert r.status_code == 302
    assert c.get("/layanan").status_code == 302


def test_csrf_missing_or_wrong_is_a_400_page(app: Any, make_user: Any) -> None:
    make_user("ani", "kudus", "applicant")
    c = app.test_client()
    r = c.post("/masuk", data={"username": "ani", "password": PASSWORD})
    assert r.status_code == 400 and "Permintaan tidak sah" in r.get_data(as_text=True)
    csrf(c)
    r = c.post("/masuk", data={"username": "ani", "password": PASSWORD, "csrf_token": "x" * 43})
    assert r.status_code == 400
    assert login(c, "ani").status_code == 302
    assert c.post("/bahasa", data={"lang": "en"}).status_code == 400


def test_login_rotates_the_csrf_token(app: Any, make_user: Any) -> None:
    make_user("ani", "kudus", "applicant")
    c = app.test_client()
    before = csrf(c)
    login(c, "ani")
    assert csrf(c) != before


def test_security_headers_allow_only_own_scripts(app: Any) -> None:
    r = app.test_client().get("/masuk")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "default-src 'self'" in csp
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "<script" not in r.get_data(as_text=True)


def test_error_pages_in_both_languages(app: Any, make_user: Any) -> None:
    c = app.test_client()
    r = c.get("/tidak-ada")
    assert r.status_code == 404 and "Halaman tidak ditemukan" in r.get_data(as_text=True)
    post(c, "/bahasa", {"lang": "en"})
    r = c.get("/tidak-ada")
    assert r.status_code == 404 and "Page not found" in r.get_data(as_text=True)


def test_stylesheet_is_served_locally(app: Any) -> None:
    r = app.test_client().get("/static/css/app.css")
    assert r.status_code == 200 and "@media" in r.get_data(as_text=True)


def test_csrf_spares_only_the_cookie_less_rest_api(app: Any) -> None:
    from flask import Blueprint

    assert app.config["CSRF_EXEMPT_BLUEPRINTS"] >= {"engine_rest", "rest"}
    assert "auth" not in app.config["CSRF_EXEMPT_BLUEPRINTS"]
    if "rest" not in app.blueprints:  # the REST API not wired yet: a stand-in of that name
        bp = Blueprint("rest", __name__, url_prefix="/rest")
        bp.add_url_rule("/ping", "ping", lambda: "pong", methods=["POST"])
        app.register_blueprint(bp)
        assert app.test_client().post("/rest/ping").status_code == 200
