"""The one-time credentials page: GET only looks, the button's POST shows the password once
(no-store), then "already shown"; expiry; only the filer of the request of the same agency;
the password never reaches the log."""

from __future__ import annotations

import html
import logging
import re
from typing import Any

import pytest
from support import one_task_bpmn
from ui_support import csrf, post
from werkzeug.security import check_password_hash

from engine.actors import Actor
from handlers.credentials.models import SiteCredential
from handlers.credentials.vault import CredentialVault, make_ref


@pytest.fixture
def issued(app: Any, engine: Any, make_user: Any, agencies: dict[str, int]) -> Any:
    """Credentials for ani's request, with a link minted as the mail delivery would."""
    make_user("ani", "kudus", "applicant")
    engine.deploy(
        Actor("admin_kudus", "kudus", frozenset({"admin"})), [("m.bpmn", one_task_bpmn())]
    )
    inst = engine.start(Actor("ani", "kudus", frozenset({"applicant"})), "mini")
    vault = CredentialVault.from_settings(
        app.config["SOPFLOW"], clock=engine.clock, sessions=engine.sessions
    )
    with engine.sessions.begin() as s:
        row = vault.issue(
            s,
            agency_id=agencies["kudus"],
            username="admin_dinkes",
            site="dinkes.kuduskab.go.id",
            instance_id=inst.id,
        )
        link = vault.mint_link(s, make_ref(row.id), base_url="https://layanan.example")
        ident = row.id
    token = link.rsplit("/", 1)[1]

    class Issued:
        pass

    out = Issued()
    out.vault, out.token, out.link, out.id, out.inst = vault, token, link, ident, inst
    out.path = f"/kredensial/{token}"
    return out


def secret_row(engine: Any, ident: str) -> SiteCredential:
    with engine.sessions() as s:
        return s.get(SiteCredential, ident)


def test_get_looks_post_reveals_once(engine, issued, client_for, caplog):
    caplog.set_level(logging.DEBUG)
    ani = client_for("ani")
    for _ in range(2):  # a mail scanner or a second look consumes nothing
        r = ani.get(issued.path)
        assert r.status_code == 200
        page = r.get_data(as_text=True)
        assert "Kata sandi masih tersedia dan belum pernah ditampilkan." in page
        assert "admin_dinkes" in page and "dinkes.kuduskab.go.id" in page
        assert 'id="cred-password"' not in page
        assert r.headers["Cache-Control"] == "no-store"
        assert r.headers["Referrer-Policy"] == "no-referrer"
    assert issued.vault.check(issued.token) == "valid"
    assert secret_row(engine, issued.id).secret_enc is not None

    r = post(ani, issued.path)
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "no-store"
    page = r.get_data(as_text=True)
    password = re.search(r'id="cred-password" class="credentials-secret">([^<]+)<', page).group(1)
    password = html.unescape(password)
    row = secret_row(engine, issued.id)
    assert check_password_hash(row.password_hash, password)
    assert row.secret_enc is None and row.revealed_via == "link"

    again = post(ani, issued.path)
    assert again.status_code == 410
    text = again.get_data(as_text=True)
    assert "sudah pernah ditampilkan" in text and password not in text
    looked = ani.get(issued.path)
    assert looked.status_code == 410 and "sudah pernah ditampilkan" in looked.get_data(as_text=True)
    assert password not in caplog.text
    assert issued.token not in caplog.text


def test_the_mailed_link_path_serves_the_page(issued, client_for):
    """The vault's default CREDENTIALS_URL is {base_url}/credentials/{token}."""
    assert issued.link.startswith("https://layanan.example/credentials/")
    ani = client_for("ani")
    mailed = f"/credentials/{issued.token}"
    r = ani.get(mailed)
    assert r.status_code == 200 and "Tampilkan kata sandi sekarang" in r.get_data(as_text=True)
    assert f'action="{mailed}"' in r.get_data(as_text=True)
    assert post(ani, mailed).status_code == 200
    assert post(ani, issued.path).status_code == 410


def test_expired_link(engine, issued, client_for, clock):
    clock.advance(hours=73)
    ani = client_for("ani")
    r = ani.get(issued.path)
    assert r.status_code == 410 and "sudah kedaluwarsa" in r.get_data(as_text=True)
    assert (
        'name="csrf_token"' not in r.get_data(as_text=True).split("<main", 1)[1].split("</main>")[0]
    )
    r = post(ani, issued.path)
    assert r.status_code == 410 and "sudah kedaluwarsa" in r.get_data(as_text=True)
    assert secret_row(engine, issued.id).revealed_via == "expired"


def test_english_messages(issued, client_for):
    ani = client_for("ani")
    post(ani, "/bahasa", {"lang": "en", "next": "/"})
    assert "Show the password now" in ani.get(issued.path).get_data(as_text=True)
    post(ani, issued.path)
    assert "already been shown once" in post(ani, issued.path).get_data(as_text=True)


def test_who_may_open_the_link(engine, issued, make_user, client_for, app):
    make_user("eko", "kudus", "applicant")
    make_user("budi", "kudus", "technical_officer")
    make_user("tono", "tapin", "applicant")
    assert client_for("eko").get(issued.path).status_code == 403  # not the filer
    assert post(client_for("eko"), issued.path).status_code == 403
    assert client_for("budi").get(issued.path).status_code == 403  # an officer neither
    assert post(client_for("budi"), issued.path).status_code == 403
    tono = client_for("tono")  # another agency: as if the link did not exist
    r = tono.get(issued.path)
    assert r.status_code == 404 and "Tautan ini tidak sah." in r.get_data(as_text=True)
    assert post(tono, issued.path).status_code == 404
    ani = client_for("ani")
    csrf(ani)
    assert ani.post(issued.path).status_code == 400  # no CSRF token
    r = app.test_client().get(issued.path)
    assert r.status_code == 302 and "/masuk" in r.headers["Location"]
    assert ani.get("/kredensial/" + "x" * 43).status_code == 404
    assert ani.get("/kredensial/short").status_code == 404
    assert issued.vault.check(issued.token) == "valid"  # nobody consumed it
    assert post(ani, issued.path).status_code == 200


def test_credentials_without_a_request_open_for_their_agency(
    app, engine, make_user, client_for, agencies
):
    make_user("ani", "kudus", "applicant")
    make_user("tono", "tapin", "applicant")
    vault = CredentialVault.from_settings(
        app.config["SOPFLOW"], clock=engine.clock, sessions=engine.sessions
    )
    with engine.sessions.begin() as s:
        row = vault.issue(s, agency_id=agencies["kudus"], username="admin_x")
        token = vault.mint_link(s, make_ref(row.id)).rsplit("/", 1)[1]
    assert client_for("tono").get(f"/kredensial/{token}").status_code == 404
    assert post(client_for("ani"), f"/kredensial/{token}").status_code == 200
