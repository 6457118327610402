"""The designer (web modeler back end) and the request page's diagram routes: who may use them,
drafts opened from a deployed version, optimistic saves, validation located on elements,
uploads refused unless they are BPMN, publishing as an administrator."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from ui_support import csrf, post

from engine.actors import Actor
from web.designer.models import DiagramDraft

KUDUS = (Path(__file__).resolve().parents[2] / "bpmn" / "kudus.bpmn").read_bytes()
BROKEN = KUDUS.replace(
    b'camunda:topic="letter.generate"',
    b'camunda:topic="letter.generate" camunda:class="org.example.Letter"',
    1,
)
# a topic nothing in sopflow works: accepted as external, with a warning on its task
UNKNOWN_TOPIC = KUDUS.replace(
    b'camunda:topic="letter.generate"', b'camunda:topic="nope.unknown"', 1
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DOCTYPE = (
    b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x "boom">]>\n'
    b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">'
    b'<bpmn:process id="p">&x;</bpmn:process></bpmn:definitions>'
)


@pytest.fixture
def office(make_user: Any, deploy: Any) -> None:
    deploy("kudus")
    deploy("tapin")
    make_user("ana", "kudus", "analyst")
    make_user("adi", "kudus", "admin")
    make_user("ani", "kudus", "applicant")
    make_user("bayu", "kudus", "applicant")
    make_user("kadis", "kudus", "head_of_office")
    make_user("tina", "tapin", "analyst", "admin")


def kudus_v1(engine: Any) -> Any:
    return engine.current_definition(Actor("x", "kudus", frozenset({"admin"})), "kudus")


def open_draft(client: Any, engine: Any) -> str:
    r = post(client, "/desain/buka", {"definition_id": kudus_v1(engine).id})
    assert r.status_code == 302, r.get_data(as_text=True)
    m = re.fullmatch(r"/desain/draf/([0-9a-f-]{36})", r.headers["Location"])
    assert m, r.headers["Location"]
    return m.group(1)


def put_json(client: Any, url: str, body: dict[str, Any], method: str = "PUT") -> Any:
    return client.open(url, method=method, json=body, headers={"X-CSRFToken": csrf(client)})


def upload(client: Any, data: bytes, name: str = "baru.bpmn") -> Any:
    return post(
        client,
        "/desain/unggah",
        {"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def draft_row(engine: Any, draft_id: str) -> DiagramDraft:
    with engine.sessions() as s:
        d = s.get(DiagramDraft, draft_id)
        assert d is not None
        s.expunge(d)
        return d


# -- permissions ---------------------------------------------------------------------------------
def test_only_analysts_and_admins_reach_the_designer(office: Any, client_for: Any) -> None:
    assert client_for("ani").get("/desain/").status_code == 403
    assert client_for("kadis").get("/desain/").status_code == 403
    page = client_for("ana").get("/desain/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-open-key="kudus"' in html and 'data-open-key="tapin"' not in html
    assert "/admin/versi/kudus" not in html  # an administrator's page: no link for analysts
    admin_page = client_for("adi").get("/desain/")
    assert admin_page.status_code == 200
    assert "/admin/versi/kudus" in admin_page.get_data(as_text=True)
    assert client_for("ani").get("/desain/", follow_redirects=False).status_code == 403


def test_anonymous_is_sent_to_login(office: Any, app: Any) -> None:
    r = app.test_client().get("/desain/")
    assert r.status_code == 302 and "/masuk" in r.headers["Location"]


def test_another_agencys_draft_is_404(office: Any, client_for: Any, engine: Any) -> None:
    draft_id = open_draft(client_for("ana"), engine)
    tina = client_for("tina")
    assert tina.get(f"/desain/draf/{draft_id}").status_code == 404
    assert tina.get(f"/desain/draf/{draft_id}/xml").status_code == 404
    assert tina.get(f"/desain/draf/{draft_id}/unduh").status_code == 404
    r = put_json(tina, f"/desain/draf/{draft_id}/xml", {"xml": KUDUS.decode(), "revision": 1})
    assert r.status_code == 404
    r = put_json(tina, f"/desain/draf/{draft_id}/validasi", {"xml": "x"}, method="POST")
    assert r.status_code == 404
    assert post(tina, f"/desain/draf/{draft_id}/terbitkan").status_code == 404
    assert post(tina, f"/desain/draf/{draft_id}/hapus").status_code == 404
    # nor can a tapin analyst open kudus's deployed version
    r = post(tina, "/desain/buka", {"definition_id": kudus_v1(engine).id})
    assert r.status_code == 404
    assert draft_row(engine, draft_id).revision == 1


def test_posts_without_csrf_are_refused(office: Any, client_for: Any, engine: Any) -> None:
    ana = client_for("ana")
    assert ana.post("/desain/buka", data={"definition_id": kudus_v1(engine).id}).status_code == 400
    draft_id = open_draft(ana, engine)
    r = ana.put(f"/desain/draf/{draft_id}/xml", json={"xml": KUDUS.decode(), "revision": 1})
    assert r.status_code == 400
    assert ana.post(f"/desain/draf/{draft_id}/validasi", json={"xml": "x"}).status_code == 400
    assert draft_row(engine, draft_id).revision == 1


# -- drafts --------------------------------------------------------------------------------------
def test_opening_a_deployed_version_makes_a_draft_of_its_xml(
    office: Any, client_for: Any, engine: Any, monkeypatch: Any
) -> None:
    from web import ui

    monkeypatch.setattr(ui, "diagram_assets_built", lambda app: True)  # as after make assets
    ana = client_for("ana")
    draft_id = open_draft(ana, engine)
    r = ana.get(f"/desain/draf/{draft_id}/xml")
    assert r.status_code == 200 and r.headers["X-Draft-Revision"] == "1"
    assert r.get_data() == KUDUS
    assert "sandbox" in r.headers["Content-Security-Policy"]  # data, never rendered as a page
    page = ana.get(f"/desain/draf/{draft_id}").get_data(as_text=True)
    assert "vendor/modeler.js" in page and "js/designer.js" in page
    assert 'id="sf-publish"' not in page  # analysts do not publish
    assert open_draft(ana, engine) == draft_id  # the same work, not a second draft
    download = ana.get(f"/desain/draf/{draft_id}/unduh")
    assert "attachment" in download.headers["Content-Disposition"]
    assert download.get_data() == KUDUS


def test_save_and_a_stale_save_is_409(office: Any, client_for: Any, engine: Any) -> None:
    ana, adi = client_for("ana"), client_for("adi")
    draft_id = open_draft(ana, engine)
    changed = KUDUS.replace(b"Nama Perangkat Daerah / unit kerja", b"Nama OPD", 1).decode()
    r = put_json(ana, f"/desain/draf/{draft_id}/xml", {"xml": changed, "revision": 1})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json()["revision"] == 2
    assert ana.get(f"/desain/draf/{draft_id}/xml").get_data(as_text=True) == changed
    # the administrator still holds revision 1: refused, nothing overwritten
    r = put_json(adi, f"/desain/draf/{draft_id}/xml", {"xml": KUDUS.decode(), "revision": 1})
    assert r.status_code == 409
    assert "ana" in r.get_json()["error"] and r.get_json()["revision"] == 2
    assert draft_row(engine, draft_id).xml == changed
    # not a diagram: refused, not stored
    r = put_json(ana, f"/desain/draf/{draft_id}/xml", {"xml": "<a/>", "revision": 2})
    assert r.status_code == 422 and draft_row(engine, draft_id).revision == 2
    assert put_json(ana, f"/desain/draf/{draft_id}/xml", {"xml": changed}).status_code == 400


def test_validate_locates_problems_without_deploying(
    office: Any, client_for: Any, engine: Any
) -> None:
    ana = client_for("ana")
    draft_id = open_draft(ana, engine)
    url = f"/desain/draf/{draft_id}/validasi"
    r = put_json(ana, url, {"xml": BROKEN.decode()}, method="POST")
    body = r.get_json()
    assert r.status_code == 200 and body["ok"] is False
    assert [p["element_id"] for p in body["problems"]] == ["generate_register"]
    assert "menjalankan kode Java" in body["problems"][0]["message"]
    post(ana, "/bahasa", {"lang": "en"})
    body = put_json(ana, url, {"xml": BROKEN.decode()}, method="POST").get_json()
    assert "runs Java code" in body["problems"][0]["message"]
    good = put_json(ana, url, {"xml": KUDUS.decode()}, method="POST").get_json()
    assert good["ok"] is True and good["problems"] == []
    assert len(engine.definitions(Actor("x", "kudus", frozenset({"admin"})), "kudus")) == 1


def test_validate_shows_an_unknown_topic_as_a_located_warning(
    office: Any, client_for: Any, engine: Any
) -> None:
    ana = client_for("ana")
    url = f"/desain/draf/{open_draft(ana, engine)}/validasi"
    body = put_json(ana, url, {"xml": UNKNOWN_TOPIC.decode()}, method="POST").get_json()
    assert body["ok"] is True and body["problems"] == []
    (w,) = body["warnings"]
    assert w["element_id"] == "generate_register"
    assert (
        w["line"]
        == UNKNOWN_TOPIC[: UNKNOWN_TOPIC.index(b'id="generate_register"')].count(b"\n") + 1
    )
    assert w["message"] == (
        "Topic 'nope.unknown': tidak ada handler bawaan: pekerjaan menunggu worker eksternal"
    )
    assert body["message"] == "Diagram valid, dengan 1 peringatan."
    post(ana, "/bahasa", {"lang": "en"})
    body = put_json(ana, url, {"xml": UNKNOWN_TOPIC.decode()}, method="POST").get_json()
    assert body["warnings"][0]["message"] == (
        "Topic 'nope.unknown': no built-in handler: jobs wait for an external worker"
    )
    assert body["message"] == "The diagram is valid, with 1 warning(s)."
    good = put_json(ana, url, {"xml": KUDUS.decode()}, method="POST").get_json()
    assert good["warnings"] == [] and good["message"] == "The diagram is valid: no problems."


def test_publishing_with_an_unknown_topic_deploys_and_warns(
    office: Any, client_for: Any, engine: Any
) -> None:
    adi = client_for("adi")
    r = upload(adi, UNKNOWN_TOPIC)
    draft_id = r.headers["Location"].rsplit("/", 1)[1]
    r = post(adi, f"/desain/draf/{draft_id}/terbitkan", {"note": "integrasi baru"})
    assert r.status_code == 302
    html = adi.get(r.headers["Location"]).get_data(as_text=True)
    assert "Versi 2 diterbitkan." in html
    assert "generate_register: Topic &#39;nope.unknown&#39;: tidak ada handler bawaan" in html
    admin = Actor("x", "kudus", frozenset({"admin"}))
    assert engine.current_definition(admin, "kudus").topics.count("nope.unknown") == 1


# -- uploads -------------------------------------------------------------------------------------
def test_upload_of_a_camunda_modeler_file_becomes_a_draft(
    office: Any, client_for: Any, engine: Any
) -> None:
    ana = client_for("ana")
    r = upload(ana, KUDUS, "kudus-baru.bpmn")
    assert r.status_code == 302
    draft_id = r.headers["Location"].rsplit("/", 1)[1]
    d = draft_row(engine, draft_id)
    assert (d.process_key, d.filename, d.created_by) == ("kudus", "kudus-baru.bpmn", "ana")
    assert d.xml.encode() == KUDUS
    assert "kudus-baru.bpmn" in client_for("ana").get("/desain/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "name", "words"),
    [
        (PDF, "surat.bpmn", "Bukan diagram BPMN"),
        (b"just some text", "teks.bpmn", "Bukan diagram BPMN"),
        (DOCTYPE, "dtd.bpmn", "DTD"),
        (b"<?xml version='1.0'?><html/>", "lain.bpmn", "bpmn:definitions"),
        (b"", "kosong.bpmn", "kosong"),
        (KUDUS.decode().replace("UTF-8", "UTF-16", 1).encode("utf-16"), "u16.bpmn", "UTF-8"),
    ],
)
def test_uploads_that_are_not_bpmn_are_refused(
    office: Any, client_for: Any, engine: Any, data: bytes, name: str, words: str
) -> None:
    ana = client_for("ana")
    r = upload(ana, data, name)
    assert r.status_code == 400
    assert words in r.get_data(as_text=True)
    with engine.sessions() as s:
        assert s.query(DiagramDraft).count() == 0


def test_upload_errors_in_english(office: Any, client_for: Any) -> None:
    ana = client_for("ana")
    post(ana, "/bahasa", {"lang": "en"})
    r = upload(ana, PDF, "surat.bpmn")
    assert r.status_code == 400 and "Not a BPMN diagram" in r.get_data(as_text=True)


def test_too_large_upload_is_413(office: Any, client_for: Any, engine: Any) -> None:
    big = KUDUS.replace(b"</bpmn:definitions>", b"<!--" + b"x" * (2 * 1024 * 1024) + b"-->")
    r = upload(client_for("ana"), big + b"</bpmn:definitions>")
    assert r.status_code == 413
    assert "2 MB" in r.get_data(as_text=True)
    with engine.sessions() as s:
        assert s.query(DiagramDraft).count() == 0


# -- publishing ----------------------------------------------------------------------------------
def test_admin_publishes_a_draft_as_the_next_version(
    office: Any, client_for: Any, engine: Any
) -> None:
    ana, adi = client_for("ana"), client_for("adi")
    draft_id = open_draft(ana, engine)
    changed = KUDUS.replace(b"Nama Perangkat Daerah / unit kerja", b"Nama OPD", 1).decode()
    r = put_json(ana, f"/desain/draf/{draft_id}/xml", {"xml": changed, "revision": 1})
    assert r.status_code == 200
    assert 'id="sf-publish"' in adi.get(f"/desain/draf/{draft_id}").get_data(as_text=True)
    # an analyst may not publish
    r = post(ana, f"/desain/draf/{draft_id}/terbitkan", {"version_tag": "x"})
    assert r.status_code == 403
    r = post(
        adi,
        f"/desain/draf/{draft_id}/terbitkan",
        {"version_tag": "2026-11", "note": "label OPD dipersingkat"},
        follow_redirects=True,
    )
    assert r.status_code == 200 and "Versi 2 diterbitkan" in r.get_data(as_text=True)
    actor = Actor("x", "kudus", frozenset({"admin"}))
    current = engine.current_definition(actor, "kudus")
    assert (current.version, current.version_tag) == (2, "2026-11")
    assert current.start_form["fields"][0]["label"] == "Nama OPD"
    with engine.sessions() as s:
        from engine.models import Deployment

        dep = s.get(Deployment, current.deployment_id)
        assert (dep.note, dep.source, dep.deployed_by) == (
            "label OPD dipersingkat",
            "designer",
            "adi",
        )
    d = draft_row(engine, draft_id)
    assert (d.published_version, d.published_definition_id) == (2, current.id)
    # publishing the same diagram again changes nothing, and says so
    r = post(adi, f"/desain/draf/{draft_id}/terbitkan", {"version_tag": "2026-11"})
    r = adi.get(r.headers["Location"])
    assert "Tidak ada perubahan" in r.get_data(as_text=True)
    assert [d.version for d in engine.definitions(actor, "kudus")] == [1, 2]


def test_publishing_a_broken_draft_shows_located_problems(
    office: Any, client_for: Any, engine: Any
) -> None:
    adi = client_for("adi")
    r = upload(adi, BROKEN)
    draft_id = r.headers["Location"].rsplit("/", 1)[1]
    r = post(adi, f"/desain/draf/{draft_id}/terbitkan", {"note": "x"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert 'data-element-id="generate_register"' in html and "camunda:class" in html
    assert len(engine.definitions(Actor("x", "kudus", frozenset({"admin"})), "kudus")) == 1


def test_delete_a_draft(office: Any, client_for: Any, engine: Any) -> None:
    ana = client_for("ana")
    draft_id = open_draft(ana, engine)
    assert post(ana, f"/desain/draf/{draft_id}/hapus").status_code == 302
    assert ana.get(f"/desain/draf/{draft_id}").status_code == 404


# -- the request page's diagram ------------------------------------------------------------------
def file_kudus(engine: Any, username: str) -> str:
    inst = engine.start(
        Actor(username, "kudus", frozenset({"applicant"})),
        key="kudus",
        values={
            "opd_name": "Dinas Pendidikan",
            "letter_number": "421/1/2026",
            "letter_date": "2026-11-20",
            "letter_file": "sha256:a",
            "form_file": "sha256:b",
            "subdomain": "disdik",
            "purpose": "Website informasi PPDB",
            "applicant_email": "ani@disdik.kuduskab.go.id",
            "applicant_phone": "0291-438921",
        },
    )
    return str(inst.id)


def test_request_diagram_routes_follow_the_request_page_rules(
    office: Any, client_for: Any, engine: Any, work: Any, monkeypatch: Any
) -> None:
    from web import ui

    monkeypatch.setattr(ui, "diagram_assets_built", lambda app: True)  # as after make assets
    iid = file_kudus(engine, "ani")
    work("kudus")
    ani = client_for("ani")
    xml = ani.get(f"/permohonan/{iid}/diagram.xml")
    assert xml.status_code == 200 and xml.get_data() == KUDUS
    assert "sandbox" in xml.headers["Content-Security-Policy"]
    state = ani.get(f"/permohonan/{iid}/diagram.json").get_json()
    # the task waiting, with the deadline timer armed on it
    assert state["current"] == ["dispose_to_division", "step2_timer"]
    assert {"start_request", "generate_register", "send_received"} <= set(state["done"])
    assert "sign_and_dispose" not in state["done"]

    page = ani.get(f"/permohonan/{iid}").get_data(as_text=True)
    assert f"/permohonan/{iid}/diagram.xml" in page and "js/request-diagram.js" in page
    # another applicant of the same agency: not theirs
    for url in (f"/permohonan/{iid}/diagram.xml", f"/permohonan/{iid}/diagram.json"):
        assert client_for("bayu").get(url).status_code == 404
        assert client_for("tina").get(url).status_code == 404
        assert client_for("kadis").get(url).status_code == 200


def test_without_built_assets_the_pages_say_so_and_keep_working(
    office: Any, client_for: Any, engine: Any, work: Any, monkeypatch: Any
) -> None:
    """A machine without nodejs/npm: no bundles, yet requests and drafts still work."""
    from web import ui

    monkeypatch.setattr(ui, "diagram_assets_built", lambda app: False)
    iid = file_kudus(engine, "ani")
    page = client_for("ani").get(f"/permohonan/{iid}").get_data(as_text=True)
    assert "vendor/viewer.js" not in page and "sf-request-diagram" not in page
    assert "Riwayat" in page  # the text timeline stays
    ana = client_for("ana")
    draft = open_draft(ana, engine)
    html = ana.get(f"/desain/draf/{draft}").get_data(as_text=True)
    assert 'id="sf-no-assets"' in html and "vendor/modeler.js" not in html
    assert f"/desain/draf/{draft}/unduh" in html  # download and upload remain
