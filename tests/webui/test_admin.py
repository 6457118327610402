"""The administrator's pages (web/admin): versions with their diff, activation and instances
per version; incidents and retry; users and groups; holiday overrides; the DNS records sopflow
manages. Every page is for group ``admin`` only and shows only the administrator's agency."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from ui_support import csrf, login, post

from engine.actors import Actor
from engine.models import ExternalTask, User
from engine.runtime import TopicRequest
from handlers.base import HandlerContext, Job
from handlers.dns.handler import DnsCreateHandler
from handlers.dns.models import DnsChange

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
ADMIN = Actor("adm", "kudus", frozenset({"admin"}))
TAPIN_ADMIN = Actor("eve", "tapin", frozenset({"admin"}))
OLD_LABEL = 'label="Tujuan / kebutuhan website"'
NEW_LABEL = 'label="Tujuan dan kebutuhan website"'
REQUEST = {
    "opd_name": "Dinas Pendidikan, Kepemudaan dan Olahraga",
    "letter_number": "421/1187/23.01/2026",
    "letter_date": "2026-11-20",
    "letter_file": "att:surat",
    "form_file": "att:formulir",
    "subdomain": "disdikpora",
    "purpose": "Website informasi PPDB",
    "applicant_email": "ani@disdikpora.kuduskab.go.id",
    "applicant_phone": "0291-438921",
}
GET_PAGES = (
    "/admin/",
    "/admin/versi/",
    "/admin/insiden",
    "/admin/antrean",
    "/admin/pengguna",
    "/admin/hari-libur",
)


@pytest.fixture
def office(make_user: Any, deploy: Any) -> None:
    deploy("kudus")
    deploy("tapin")
    make_user("adm", "kudus", "admin")
    make_user("kasi", "kudus", "head_of_section", "analyst")
    make_user("ani", "kudus", "applicant")
    make_user("eve", "tapin", "admin")


@pytest.fixture
def adm(office: Any, client_for: Any) -> Any:
    return client_for("adm")


def deploy_v2(engine: Any) -> Any:
    xml = (BPMN_DIR / "kudus.bpmn").read_text(encoding="utf-8")
    assert OLD_LABEL in xml
    res = engine.deploy(
        ADMIN,
        [("kudus.bpmn", xml.replace(OLD_LABEL, NEW_LABEL).encode())],
        note="Label tujuan diperjelas",
        version_tag="2026.2",
    )
    [d] = res.deployed
    return d


def start(engine: Any, actor: Actor = ADMIN, key: str = "kudus") -> Any:
    values = dict(REQUEST)
    if key == "tapin":
        return engine.start(actor, key, values=_tapin_values(engine, actor))
    return engine.start(actor, key, values=values)


def _tapin_values(engine: Any, actor: Actor) -> dict[str, Any]:
    """Some value for every start-form field of tapin (types as declared)."""
    d = engine.current_definition(actor, "tapin")
    out: dict[str, Any] = {}
    for f in d.start_form.get("fields", []):
        t = f.get("type")
        if t == "boolean":
            out[f["id"]] = True
        elif t == "long":
            out[f["id"]] = 1
        elif t == "date":
            out[f["id"]] = "2026-11-20"
        elif t == "enum":
            out[f["id"]] = f["options"][0][0]
        elif "email" in f["id"]:
            out[f["id"]] = "eve@tapinkab.go.id"
        elif "phone" in f["id"] or "telp" in f["id"]:
            out[f["id"]] = "0811-2345-6789"
        elif f["id"] in ("subdomain",):
            out[f["id"]] = "dinkes"
        else:
            out[f["id"]] = "Isian uji yang cukup panjang"
    return out


def make_incident(engine: Any, actor: Actor = ADMIN, key: str = "kudus") -> Any:
    """Start a request and fail its first job with no retries left: an incident."""
    inst = start(engine, actor, key)
    jobs = engine.fetch_and_lock(
        "w1",
        [TopicRequest(t, 60_000) for t in ("letter.generate", "mail.send", "subdomain.check")],
        max_tasks=10,
        agency=actor.agency,
    )
    [job] = [j for j in jobs if j.instance_id == inst.id][:1]
    engine.fail_external(
        "w1",
        job.id,
        "Layanan surat tidak menjawab",
        details="Traceback: <timeout> after 30s",
        retries=0,
    )
    [incident] = [i for i in engine.incidents(actor) if i.instance_id == inst.id]
    return inst, job, incident


def count_users(s: Any, username: str) -> int:
    return int(s.scalar(select(func.count()).select_from(User).where(User.username == username)))


def text_of(r: Any) -> str:
    return str(r.get_data(as_text=True))


# ---------------------------------------------------------------- access
def test_every_page_renders_for_an_admin(adm: Any, engine: Any) -> None:
    deploy_v2(engine)
    inst, _job, _incident = make_incident(engine)
    engine.set_calendar_override(ADMIN, date(2026, 11, 27), False, "Cuti bersama")
    audit(
        engine,
        "kudus",
        instance_id=inst.id,
        business_key=inst.business_key,
        action="create",
        fqdn="disdikpora.kuduskab.go.id",
        after=[{"name": "disdikpora", "type": "A", "ttl": 3600, "values": ["203.0.113.10"]}],
        result="applied",
    )
    pages = {
        **{url: None for url in GET_PAGES},
        "/admin/dns": "203.0.113.10",
        "/admin/insiden": inst.business_key,
        "/admin/hari-libur": "Cuti bersama",
        "/admin/versi/": 'href="/admin/versi/kudus"',
        "/admin/versi/kudus": "Label tujuan diperjelas",
        "/admin/versi/kudus/perbandingan": "<code>purpose</code>",
        f"/admin/versi/{inst.definition_id}/instances": inst.business_key,
        f"/admin/pengguna/{user_id(engine, 'ani')}": 'value="applicant" checked',
    }
    for lang in ("id", "en"):
        post(adm, "/bahasa", {"lang": lang})
        for url, expected in pages.items():
            r = adm.get(url)
            assert r.status_code == 200, (url, text_of(r)[:500])
            assert expected is None or expected in text_of(r), (lang, url)
    assert 'href="/admin/"' in text_of(adm.get("/admin/insiden"))  # the section navigation
    assert ">Admin</a>" in text_of(adm.get("/layanan"))  # the top navigation link


def test_non_admins_get_403_everywhere(office: Any, client_for: Any, engine: Any) -> None:
    d = engine.current_definition(ADMIN, "kudus")
    with engine.sessions() as s:
        uid = s.scalar(select(User.id).where(User.username == "ani"))
    for who in ("kasi", "ani"):
        c = client_for(who)
        for url in (
            *GET_PAGES,
            "/admin/dns",
            "/admin/versi/kudus",
            "/admin/versi/kudus/perbandingan",
            f"/admin/versi/{d.id}/instances",
            f"/admin/pengguna/{uid}",
        ):
            assert c.get(url).status_code == 403, (who, url)
        for url, data in (
            (f"/admin/versi/{d.id}/aktifkan", {}),
            ("/admin/insiden/x/ulang", {}),
            ("/admin/pengguna", {"username": "mallory", "groups": "admin"}),
            (f"/admin/pengguna/{uid}", {"groups": "admin"}),
            (f"/admin/pengguna/{uid}/status", {"active": "0"}),
            (f"/admin/pengguna/{uid}/sandi", {}),
            ("/admin/hari-libur", {"day": "2026-12-01", "state": "libur"}),
        ):
            assert post(c, url, data).status_code == 403, (who, url)
    assert "Admin</a>" not in text_of(client_for("kasi").get("/layanan"))
    with engine.sessions() as s:
        assert count_users(s, "mallory") == 0
    assert engine.calendar_overrides(ADMIN) == []


def test_anonymous_is_sent_to_the_login_page(office: Any, app: Any) -> None:
    r = app.test_client().get("/admin/pengguna")
    assert r.status_code == 302 and r.headers["Location"].startswith("/masuk")


def test_posts_without_csrf_are_refused(adm: Any, engine: Any) -> None:
    d = engine.current_definition(ADMIN, "kudus")
    _inst, _job, incident = make_incident(engine)
    with engine.sessions() as s:
        uid = s.scalar(select(User.id).where(User.username == "ani"))
    csrf(adm)
    for url, data in (
        (f"/admin/versi/{d.id}/aktifkan", {}),
        (f"/admin/insiden/{incident.id}/ulang", {}),
        ("/admin/pengguna", {"username": "budi", "groups": "applicant"}),
        (f"/admin/pengguna/{uid}", {"groups": "admin"}),
        (f"/admin/pengguna/{uid}/status", {"active": "0"}),
        (f"/admin/pengguna/{uid}/sandi", {}),
        ("/admin/hari-libur", {"day": "2026-12-01", "state": "libur"}),
    ):
        assert adm.post(url, data=data).status_code == 400, url
        assert adm.post(url, data={**data, "csrf_token": "wrong"}).status_code == 400, url
    assert len(engine.incidents(ADMIN)) == 1
    assert engine.calendar_overrides(ADMIN) == []
    with engine.sessions() as s:
        assert s.get(User, uid).active
        assert count_users(s, "budi") == 0


def test_another_agencys_objects_are_404(adm: Any, engine: Any, app: Any) -> None:
    tapin = engine.current_definition(TAPIN_ADMIN, "tapin")
    kudus = engine.current_definition(ADMIN, "kudus")
    _inst, _job, incident = make_incident(engine, TAPIN_ADMIN, "tapin")
    with engine.sessions() as s:
        eve = s.scalar(select(User.id).where(User.username == "eve"))
    assert adm.get("/admin/versi/tapin").status_code == 404
    assert adm.get("/admin/versi/tapin/perbandingan").status_code == 404
    assert adm.get(f"/admin/versi/{tapin.id}/instances").status_code == 404
    assert adm.get(f"/admin/versi/kudus/perbandingan?ke={tapin.id}").status_code == 404
    assert (
        adm.get(f"/admin/versi/kudus/perbandingan?dari={tapin.id}&ke={kudus.id}").status_code == 404
    )
    assert post(adm, f"/admin/versi/{tapin.id}/aktifkan").status_code == 404
    assert post(adm, f"/admin/insiden/{incident.id}/ulang").status_code == 404
    assert adm.get(f"/admin/pengguna/{eve}").status_code == 404
    assert post(adm, f"/admin/pengguna/{eve}", {"groups": "applicant"}).status_code == 404
    assert post(adm, f"/admin/pengguna/{eve}/status", {"active": "0"}).status_code == 404
    assert post(adm, f"/admin/pengguna/{eve}/sandi").status_code == 404
    assert login(app.test_client(), "eve").status_code == 302  # password unchanged
    assert post(adm, "/admin/insiden/no-such-incident/ulang").status_code == 404
    assert adm.get("/admin/pengguna/999999").status_code == 404
    # nothing of tapin shows on kudus's pages
    assert "tapin" not in text_of(adm.get("/admin/versi/"))
    assert "TAPIN/" not in text_of(adm.get("/admin/insiden"))
    assert "user-eve" not in text_of(adm.get("/admin/pengguna"))
    assert len(engine.incidents(TAPIN_ADMIN)) == 1
    with engine.sessions() as s:
        assert s.get(User, eve).active


def test_every_admin_text_has_an_english_translation() -> None:
    from web.admin.calendar import WEEKDAYS
    from web.admin.texts import ATTRIBUTE_LABELS
    from web.i18n import EN

    root = Path(__file__).resolve().parents[2] / "web"
    found: set[str] = set(ATTRIBUTE_LABELS.values()) | set(WEEKDAYS)
    for f in [*(root / "templates" / "admin").glob("*.html"), *(root / "admin").glob("*.py")]:
        text = f.read_text(encoding="utf-8")
        found |= set(re.findall(r'_\(\s*"([^"]+)"', text))
        found |= set(re.findall(r"_\(\s*'([^']+)'\s*\)", text))
        for call in re.findall(r'gettext\(\s*((?:"[^"]*"\s*)+)', text):
            found.add("".join(re.findall(r'"([^"]*)"', call)))
    assert len(found) > 150
    assert sorted(t for t in found if t not in EN) == []


# ---------------------------------------------------------------- overview
def test_overview_counts_running_requests_and_open_incidents(adm: Any, engine: Any) -> None:
    start(engine)
    make_incident(engine)
    make_incident(engine, TAPIN_ADMIN, "tapin")  # another agency: not counted
    html = text_of(adm.get("/admin/"))
    assert '<span class="admin-count" id="count-running">2</span>' in html
    assert 'id="count-incidents">1</span>' in html
    for url in (
        "/admin/versi/",
        "/admin/insiden",
        "/admin/pengguna",
        "/admin/hari-libur",
        "/admin/dns",
    ):
        assert f'href="{url}"' in html


# ---------------------------------------------------------------- versions
def test_versions_diff_activation_and_instances_per_version(adm: Any, engine: Any) -> None:
    v1 = engine.current_definition(ADMIN, "kudus")
    first = start(engine)  # on version 1
    v2 = deploy_v2(engine)
    second = start(engine)  # on version 2
    assert (first.definition_id, second.definition_id) == (v1.id, v2.id)

    keys = text_of(adm.get("/admin/versi/"))
    assert 'href="/admin/versi/kudus"' in keys

    html = text_of(adm.get("/admin/versi/kudus"))
    assert "Label tujuan diperjelas" in html and "2026.2" in html
    row2 = html.split('id="v-2"')[1].split("</tr>")[0]
    row1 = html.split('id="v-1"')[1].split("</tr>")[0]
    assert "aktif" in row2 and f"/admin/versi/{v2.id}/aktifkan" not in row2
    assert f'action="/admin/versi/{v1.id}/aktifkan"' in row1
    assert f'<a href="/admin/versi/{v1.id}/instances">1</a>' in row1
    assert f'<a href="/admin/versi/{v2.id}/instances">1</a>' in row2
    assert "adm" in row2  # deployed by

    # default diff: the newest version against the one before it
    diff = text_of(adm.get("/admin/versi/kudus/perbandingan"))
    assert "Versi 1 → versi 2" in diff
    assert "<code>purpose</code>" in diff
    assert "<del>Tujuan / kebutuhan website</del>" in diff
    assert "<ins>Tujuan dan kebutuhan website</ins>" in diff
    assert "Tidak ada perubahan elemen." in diff  # only a label moved
    # any two chosen, in either direction
    back = text_of(adm.get(f"/admin/versi/kudus/perbandingan?dari={v2.id}&ke={v1.id}"))
    assert "Versi 2 → versi 1" in back and "<ins>Tujuan / kebutuhan website</ins>" in back
    same = text_of(adm.get(f"/admin/versi/kudus/perbandingan?dari={v1.id}&ke={v1.id}"))
    assert "Tidak ada perbedaan elemen BPMN maupun isian formulir." in same
    first_only = text_of(adm.get(f"/admin/versi/kudus/perbandingan?ke={v1.id}"))
    assert "versi pertama" in first_only

    # roll back to version 1: new requests start on it, running ones keep theirs
    r = post(adm, f"/admin/versi/{v1.id}/aktifkan", follow_redirects=True)
    assert r.status_code == 200
    assert "Versi 1 dari kudus sekarang aktif" in text_of(r)
    assert engine.current_definition(ADMIN, "kudus").id == v1.id
    third = start(engine)
    assert third.definition_id == v1.id
    assert engine.get_instance(ADMIN, second.id).definition_id == v2.id

    html = text_of(adm.get("/admin/versi/kudus"))
    row1 = html.split('id="v-1"')[1].split("</tr>")[0]
    assert f'<a href="/admin/versi/{v1.id}/instances">2</a>' in row1 and "aktif" in row1
    listing = text_of(adm.get(f"/admin/versi/{v1.id}/instances"))
    assert f'href="/permohonan/{first.id}"' in listing and first.business_key in listing
    assert f'href="/permohonan/{third.id}"' in listing
    assert second.business_key not in listing
    assert "2 berjalan" in listing


def test_version_page_in_english(adm: Any, engine: Any) -> None:
    deploy_v2(engine)
    post(adm, "/bahasa", {"lang": "en"})
    html = text_of(adm.get("/admin/versi/kudus"))
    assert "Versions of process kudus" in html and "Deployment note" in html
    diff = text_of(adm.get("/admin/versi/kudus/perbandingan"))
    assert "Version 1 → version 2" in diff and "Form fields" in diff and ">Label<" in diff


def test_unknown_key_is_404(adm: Any) -> None:
    assert adm.get("/admin/versi/no-such-process").status_code == 404
    assert adm.get("/admin/versi/no-such-id/instances").status_code == 404


# ---------------------------------------------------------------- incidents
def test_incident_is_listed_and_retried(adm: Any, engine: Any) -> None:
    inst, job, incident = make_incident(engine)
    html = text_of(adm.get("/admin/insiden"))
    row = html.split(f'id="incident-{incident.id}"')[1].split("</tr>")[0]
    assert f'href="/permohonan/{inst.id}"' in row and inst.business_key in row
    assert "Layanan surat tidak menjawab" in row
    assert "<details><summary>Rincian</summary>" in row
    assert "Traceback: &lt;timeout&gt; after 30s" in row  # escaped
    assert "failedExternalTask" in row and job.element_id in row
    assert f'action="/admin/insiden/{incident.id}/ulang"' in row

    r = post(adm, f"/admin/insiden/{incident.id}/ulang", follow_redirects=True)
    page = text_of(r)
    assert "Insiden diulang" in page
    assert 'id="no-open-incidents"' in page
    resolved = page.split('id="resolved-incidents"')[1]
    assert f'id="incident-{incident.id}"' in resolved and "adm" in resolved
    assert engine.incidents(ADMIN) == []
    with engine.sessions() as s:
        again = s.get(ExternalTask, job.id)
        assert again.state == "available" and again.retries and again.retries > 0

    # retrying a resolved incident: a clear message, nothing else
    r = post(adm, f"/admin/insiden/{incident.id}/ulang", follow_redirects=True)
    assert "Insiden sudah diselesaikan" in text_of(r)


# ---------------------------------------------------------------- users
def user_row(client: Any, username: str) -> str:
    html = text_of(client.get("/admin/pengguna"))
    return html.split(f'id="user-{username}"')[1].split("</tr>")[0]


def user_id(engine: Any, username: str) -> int:
    with engine.sessions() as s:
        return int(s.scalar(select(User.id).where(User.username == username)) or 0)


def test_users_are_listed_with_groups_and_state(adm: Any) -> None:
    html = text_of(adm.get("/admin/pengguna"))
    assert "<td>analyst, head_of_section</td>" in user_row(adm, "kasi")
    assert 'value="admin"' in html and 'value="technical_officer"' in html  # the roles
    assert "aktif" in user_row(adm, "ani")


def test_create_user_with_a_typed_password(adm: Any, app: Any, engine: Any) -> None:
    r = post(
        adm,
        "/admin/pengguna",
        {
            "username": "Budi",
            "display_name": "Budi Santoso",
            "email": "budi@kuduskab.go.id",
            "groups": ["technical_officer", "programmer"],
            "password": "sandi-awal-budi-123",
        },
        follow_redirects=True,
    )
    assert r.status_code == 200 and "Pengguna budi dibuat." in text_of(r)
    assert "technical_officer" in user_row(adm, "budi") and "budi@kuduskab.go.id" in user_row(
        adm, "budi"
    )
    with engine.sessions() as s:
        u = s.scalars(select(User).where(User.username == "budi")).one()
        assert (u.display_name, u.agency.code) == ("Budi Santoso", "kudus")
        assert sorted(g.group for g in u.groups) == ["programmer", "technical_officer"]
        assert "sandi-awal-budi-123" not in u.password_hash
    assert login(app.test_client(), "budi", "sandi-awal-budi-123").status_code == 302


def test_create_user_with_a_generated_password_shown_once(adm: Any, app: Any) -> None:
    r = post(adm, "/admin/pengguna", {"username": "citra", "groups": "applicant"})
    html = text_of(r)
    assert r.status_code == 200 and "Pengguna citra dibuat." in html
    m = re.search(r'<code id="new-password">([^<]+)</code>', html)
    assert m
    assert login(app.test_client(), "citra", m.group(1)).status_code == 302
    assert 'id="new-password"' not in text_of(adm.get("/admin/pengguna"))  # only once
    with adm.session_transaction() as sess:
        assert m.group(1) not in repr(dict(sess))


def test_create_user_errors(adm: Any, engine: Any) -> None:
    r = post(adm, "/admin/pengguna", {"username": "eve", "groups": "applicant"})
    html = text_of(r)
    assert r.status_code == 422
    assert "Nama pengguna eve sudah dipakai. Pilih nama lain." in html  # even in another agency
    assert "Pengguna belum dibuat." in html
    assert 'value="eve"' in html  # what was typed is kept
    post(adm, "/bahasa", {"lang": "en"})
    r = post(adm, "/admin/pengguna", {"username": "kasi", "groups": "applicant"})
    assert r.status_code == 422
    assert "The username kasi is already taken. Choose another one." in text_of(r)
    post(adm, "/bahasa", {"lang": "id"})
    r = post(adm, "/admin/pengguna", {"username": "x y", "password": "pendek"})
    html = text_of(r)
    assert r.status_code == 422
    assert "Nama pengguna harus 2-64 huruf kecil" in html
    assert "Kata sandi minimal 10 karakter" in html
    assert "Pilih minimal satu grup." in html
    r = post(adm, "/admin/pengguna", {"username": "dodi", "groups": "superuser"})
    assert r.status_code == 422 and "Pilih minimal satu grup." in text_of(r)
    with engine.sessions() as s:
        assert count_users(s, "x y") + count_users(s, "dodi") == 0
        eve = s.scalars(select(User).where(User.username == "eve")).one()
        assert eve.agency.code == "tapin"


def test_edit_groups_and_details(adm: Any, engine: Any, client_for: Any) -> None:
    uid = user_id(engine, "ani")
    page = text_of(adm.get(f"/admin/pengguna/{uid}"))
    assert 'value="applicant" checked' in page
    r = post(
        adm,
        f"/admin/pengguna/{uid}",
        {"display_name": "Ani W.", "email": "", "groups": ["applicant", "head_of_section"]},
        follow_redirects=True,
    )
    assert "Pengguna ani disimpan." in text_of(r)
    with engine.sessions() as s:
        u = s.get(User, uid)
        assert sorted(g.group for g in u.groups) == ["applicant", "head_of_section"]
        assert u.display_name == "Ani W."
    # the change holds at once: ani now works as an officer, still not as an administrator
    ani = client_for("ani")
    assert ani.get("/beranda").headers["Location"] == "/tugas"
    assert ani.get("/admin/").status_code == 403
    r = post(adm, f"/admin/pengguna/{uid}", {"groups": "applicant", "email": "bukan-email"})
    assert r.status_code == 422 and "Alamat e-mail tidak sah." in text_of(r)
    with engine.sessions() as s:
        assert len(s.get(User, uid).groups) == 2


def test_admin_cannot_remove_their_own_admin_group(adm: Any, engine: Any) -> None:
    uid = user_id(engine, "adm")
    r = post(adm, f"/admin/pengguna/{uid}", {"groups": ["analyst"]})
    assert r.status_code == 422
    assert "Anda tidak dapat menghapus grup admin dari akun Anda sendiri." in text_of(r)
    with engine.sessions() as s:
        assert [g.group for g in s.get(User, uid).groups] == ["admin"]
    r = post(adm, f"/admin/pengguna/{uid}", {"groups": ["admin", "analyst"]}, follow_redirects=True)
    assert "Pengguna adm disimpan." in text_of(r)


def test_deactivate_and_reactivate(adm: Any, app: Any, engine: Any, client_for: Any) -> None:
    ani = client_for("ani")
    uid = user_id(engine, "ani")
    r = post(adm, f"/admin/pengguna/{uid}/status", {"active": "0"}, follow_redirects=True)
    assert "Pengguna ani dinonaktifkan." in text_of(r)
    assert "nonaktif" in user_row(adm, "ani")
    assert ani.get("/layanan").status_code == 302  # logged out at once
    assert login(app.test_client(), "ani").status_code != 302
    r = post(adm, f"/admin/pengguna/{uid}/status", {"active": "1"}, follow_redirects=True)
    assert "Pengguna ani diaktifkan kembali." in text_of(r)
    assert login(app.test_client(), "ani").status_code == 302


def test_reset_password_shows_a_new_one_once(adm: Any, app: Any, engine: Any) -> None:
    uid = user_id(engine, "ani")
    r = post(adm, f"/admin/pengguna/{uid}/sandi")
    html = text_of(r)
    assert r.status_code == 200 and "Kata sandi ani diganti." in html
    m = re.search(r'<code id="new-password">([^<]+)</code>', html)
    assert m and len(m.group(1)) >= 16
    assert login(app.test_client(), "ani").status_code != 302  # the old one is gone
    assert login(app.test_client(), "ani", m.group(1)).status_code == 302
    assert 'id="new-password"' not in text_of(adm.get(f"/admin/pengguna/{uid}"))


def test_admin_cannot_deactivate_themself(adm: Any, engine: Any) -> None:
    uid = user_id(engine, "adm")
    r = post(adm, f"/admin/pengguna/{uid}/status", {"active": "0"}, follow_redirects=True)
    assert "Anda tidak dapat menonaktifkan akun Anda sendiri." in text_of(r)
    assert adm.get("/admin/").status_code == 200
    with engine.sessions() as s:
        assert s.get(User, uid).active


# ---------------------------------------------------------------- holidays
def test_override_shows_in_the_calendar_and_changes_the_engine_calendar(
    adm: Any, engine: Any
) -> None:
    day = date(2026, 11, 27)  # a Friday, within the next 31 days of the test clock (23 Nov)

    def working(d: date) -> bool:
        with engine.sessions() as s:
            return bool(engine.calendar(s, engine.agency(s, "kudus")).is_working_day(d))

    assert working(day)
    r = post(
        adm,
        "/admin/hari-libur",
        {"day": day.isoformat(), "state": "libur", "note": "Cuti bersama tambahan"},
        follow_redirects=True,
    )
    html = text_of(r)
    assert "27-11-2026 ditetapkan sebagai hari libur." in html
    assert not working(day)
    item = html.split(f'id="day-{day.isoformat()}"')[1].split("</li>")[0]
    assert "cal-off cal-override" in html.split(f'id="day-{day.isoformat()}"')[1][:80]
    assert "Penyesuaian instansi: Cuti bersama tambahan" in item and "Jumat" in item
    assert "Cuti bersama tambahan" in html.split('id="overrides"')[1]
    assert [(o.day, o.working) for o in engine.calendar_overrides(ADMIN)] == [(day, False)]
    # a Saturday made a working day
    post(adm, "/admin/hari-libur", {"day": "2026-11-28", "state": "kerja", "note": ""})
    assert working(date(2026, 11, 28))
    sat = text_of(adm.get("/admin/hari-libur")).split('id="day-2026-11-28"')[1].split("</li>")[0]
    assert "hari kerja" in sat
    # back to the national calendar
    r = post(
        adm,
        "/admin/hari-libur",
        {"day": day.isoformat(), "state": "nasional"},
        follow_redirects=True,
    )
    assert "27-11-2026 kembali mengikuti kalender nasional." in text_of(r)
    assert working(day)
    # another agency's calendar is untouched
    assert engine.calendar_overrides(TAPIN_ADMIN) == []


def test_calendar_marks_national_holidays(adm: Any, clock: Any) -> None:
    clock.set(datetime(2026, 12, 20, 2, 0, tzinfo=UTC))
    html = text_of(adm.get("/admin/hari-libur"))
    christmas = html.split('id="day-2026-12-25"')[1].split("</li>")[0]
    assert "Libur nasional: Hari Raya Natal" in christmas
    assert "cal-off" in html.split('id="day-2026-12-25"')[1][:40]
    monday = html.split('id="day-2026-12-21"')[1].split("</li>")[0]
    assert "Libur nasional" not in monday and "hari kerja" in monday
    assert 'id="day-2026-12-20"' in html and 'id="day-2027-01-19"' in html
    assert 'id="day-2026-12-19"' not in html
    post(adm, "/bahasa", {"lang": "en"})
    html = text_of(adm.get("/admin/hari-libur"))
    christmas = html.split('id="day-2026-12-25"')[1].split("</li>")[0]
    assert "National holiday: Christmas Day" in christmas and "Friday" in christmas


def test_bad_override_input_is_refused_with_a_message(adm: Any, engine: Any) -> None:
    r = post(adm, "/admin/hari-libur", {"day": "besok", "state": "libur"}, follow_redirects=True)
    assert "Tanggal tidak sah" in text_of(r)
    r = post(adm, "/admin/hari-libur", {"day": "2026-12-01", "state": "x"}, follow_redirects=True)
    assert "Pilih jenis hari." in text_of(r)
    assert engine.calendar_overrides(ADMIN) == []


# ---------------------------------------------------------------- DNS
def audit(engine: Any, agency: str, **kw: Any) -> None:
    with engine.sessions.begin() as s:
        ag = engine.agency(s, agency)
        now = engine.now()
        s.add(
            DnsChange(
                agency_id=ag.id,
                provider="zonefile",
                zone=ag.parent_domain,
                actor="sopflow-worker",
                at=now,
                finished_at=now + timedelta(seconds=1),
                **kw,
            )
        )


def test_dns_page_shows_managed_records_and_their_history(
    adm: Any, engine: Any, clock: Any
) -> None:
    inst = start(engine)
    rec = [{"name": "disdikpora", "type": "A", "ttl": 3600, "values": ["203.0.113.10"]}]
    audit(
        engine,
        "kudus",
        instance_id=inst.id,
        business_key=inst.business_key,
        action="create",
        fqdn="disdikpora.kuduskab.go.id",
        before=[],
        after=rec,
        result="applied",
    )
    clock.advance(hours=2)
    moved = [{"name": "disdikpora", "type": "A", "ttl": 300, "values": ["203.0.113.77"]}]
    audit(
        engine,
        "kudus",
        instance_id=inst.id,
        business_key=inst.business_key,
        action="change",
        fqdn="disdikpora.kuduskab.go.id",
        before=rec,
        after=moved,
        result="applied",
    )
    audit(  # a failed attempt does not change what the name holds
        engine,
        "kudus",
        action="change",
        fqdn="disdikpora.kuduskab.go.id",
        before=moved,
        after=[{"name": "disdikpora", "type": "A", "ttl": 300, "values": ["198.51.100.9"]}],
        result="failed",
        error="TSIG rejected",
    )
    audit(
        engine,
        "tapin",
        action="create",
        fqdn="dinkes.tapinkab.go.id",
        after=[{"name": "dinkes", "type": "A", "ttl": 3600, "values": ["192.0.2.5"]}],
        result="applied",
    )
    html = text_of(adm.get("/admin/dns"))
    table = html.split('id="dns-records"')[1].split("</table>")[0]
    assert "disdikpora.kuduskab.go.id" in table and "203.0.113.77" in table
    assert "<td>300</td>" in table and "<td>A</td>" in table
    assert "203.0.113.10" not in table and "198.51.100.9" not in table
    assert f'href="/permohonan/{inst.id}">{inst.business_key}</a>' in table
    assert "23-11-2026 11:00" in table  # the applied change, in WIB
    history = html.split("Riwayat per nama")[1]
    assert "3 perubahan" in history and "TSIG rejected" in history
    assert "A 203.0.113.10 (TTL 3600)" in history and "A 203.0.113.77 (TTL 300)" in history
    assert "dinkes" not in html and "192.0.2.5" not in html


def test_deleted_name_shows_without_records(adm: Any, engine: Any) -> None:
    rec = [{"name": "lama", "type": "CNAME", "ttl": 3600, "values": ["web.kuduskab.go.id."]}]
    audit(engine, "kudus", action="create", fqdn="lama.kuduskab.go.id", after=rec, result="applied")
    audit(
        engine, "kudus", action="delete", fqdn="lama.kuduskab.go.id", before=rec, result="applied"
    )
    table = text_of(adm.get("/admin/dns")).split('id="dns-records"')[1].split("</table>")[0]
    assert "lama.kuduskab.go.id" in table and "tidak ada rekaman (dihapus)" in table
    assert "web.kuduskab.go.id." not in table


def test_record_written_by_the_dns_create_handler_is_shown(
    adm: Any, engine: Any, tmp_path: Path
) -> None:
    """The record and its audit row come from the real ``dns.create`` handler (zone file)."""
    inst = start(engine)
    job = Job(
        id=str(uuid.uuid4()),
        topic="dns.create",
        worker_id="sopflow-worker",
        agency="kudus",
        instance_id=inst.id,
        business_key=inst.business_key,
        definition_id=inst.definition_id,
        definition_key="kudus",
        element_id="create_dns",
        variables={"subdomain": "disdikpora", "target": "203.0.113.10"},
        retries=None,
        attempts=1,
        lock_expires_at=engine.now() + timedelta(minutes=5),
        priority=0,
    )
    # no DNS settings: the embedded default, a zone file created under DNS_ZONE_DIR
    settings = {"DNS_ZONE_DIR": str(tmp_path)}
    ctx = HandlerContext(clock=engine.clock, sessions=engine.sessions, settings=settings)
    out = DnsCreateHandler().run(job, ctx)
    assert out["fqdn"] == "disdikpora.kuduskab.go.id"
    table = text_of(adm.get("/admin/dns")).split('id="dns-records"')[1].split("</table>")[0]
    assert "disdikpora.kuduskab.go.id" in table and "203.0.113.10" in table
    assert "<td>3600</td>" in table and "<td>A</td>" in table
    assert f'href="/permohonan/{inst.id}">{inst.business_key}</a>' in table
