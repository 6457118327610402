"""Applicants and officers through the browser UI: the catalogue, the start form (validation,
uploads), my requests, the inbox and task pages, and agency / group isolation, walking a real
Kudus request (``bpmn/kudus.bpmn``) with the service tasks played by a worker."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from support import KUDUS_REQUEST
from ui_support import post

from engine.actors import Actor

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
FORM_PDF = b"%PDF-1.7\n% formulir bertanda tangan\n%%EOF\n"
REQUEST = KUDUS_REQUEST
OUTPUTS = {
    "letter.generate": {"letter_pdf": "sha256:register-disposisi-77"},
    "subdomain.check": {"name_available": True, "name_reason": "", "name_suggestions": ""},
    "hosting.create": {"hosting_path": "/srv/www/disdikpora"},
    "dns.create": {"fqdn": "disdikpora.kuduskab.go.id"},
}


@pytest.fixture
def office(make_user: Any, deploy: Any) -> None:
    deploy("kudus")
    deploy("tapin")
    make_user("ani", "kudus", "applicant")
    make_user("bayu", "kudus", "applicant")
    make_user("kadis", "kudus", "head_of_office")
    make_user("kabid", "kudus", "head_of_division")
    make_user("kasi", "kudus", "head_of_section")
    make_user("eve", "tapin", "applicant", "head_of_office", "head_of_division", "admin")


def file_request(client: Any, values: dict[str, Any] | None = None, **files: Any) -> Any:
    data: dict[str, Any] = dict(REQUEST if values is None else values)
    files.setdefault("letter_file", (PDF, "surat.pdf"))
    files.setdefault("form_file", (FORM_PDF, "formulir.pdf"))
    for name, spec in files.items():
        if spec is not None:
            data[name] = (io.BytesIO(spec[0]), spec[1])
    return post(client, "/layanan/kudus/ajukan", data, content_type="multipart/form-data")


def instance_id(response: Any) -> str:
    m = re.fullmatch(r"/permohonan/([0-9a-f-]{36})", response.headers["Location"])
    assert m, response.headers.get("Location")
    return m.group(1)


def only_task(client: Any) -> str:
    html = client.get("/tugas").get_data(as_text=True)
    ids = sorted(set(re.findall(r'href="/tugas/([0-9a-f-]{36})"', html)))
    assert len(ids) == 1, html
    return ids[0]


def test_catalogue_lists_only_the_agencys_services(office: Any, client_for: Any) -> None:
    html = client_for("ani").get("/layanan").get_data(as_text=True)
    assert "/layanan/kudus/ajukan" in html and "/layanan/tapin/ajukan" not in html
    assert client_for("ani").get("/layanan/tapin/ajukan").status_code == 404


def test_start_form_renders_every_field_kind(office: Any, client_for: Any) -> None:
    r = client_for("ani").get("/layanan/kudus/ajukan")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert 'enctype="multipart/form-data"' in html
    assert 'type="file" id="f-letter_file" name="letter_file" accept="application/pdf"' in html
    assert 'type="date" id="f-letter_date"' in html
    assert 'name="csrf_token"' in html and "(wajib)" in html


def test_start_form_errors_are_shown_inline_in_both_languages(
    office: Any, client_for: Any, engine: Any
) -> None:
    c = client_for("ani")
    r = file_request(c, {**REQUEST, "letter_date": "kemarin", "opd_name": ""}, form_file=None)
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert 'id="err-opd_name">Wajib diisi<' in html
    assert 'id="err-letter_date">Harus tanggal (TTTT-BB-HH)<' in html
    assert 'id="err-form_file">Wajib diisi<' in html
    assert 'value="421/1187/23.01/2026"' in html  # what was typed is kept
    post(c, "/bahasa", {"lang": "en"})
    html = file_request(c, {**REQUEST, "opd_name": ""}).get_data(as_text=True)
    assert 'id="err-opd_name">This field is required<' in html
    assert engine.instances(Actor("admin_kudus", "kudus", frozenset({"admin"}))) == []


def test_upload_type_is_sniffed_not_trusted(office: Any, client_for: Any, engine: Any) -> None:
    c = client_for("ani")
    r = file_request(c, letter_file=(b"<html><script>alert(1)</script>", "surat.pdf"))
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "Jenis berkas tidak diizinkan (text/plain)" in html
    assert "<script>alert(1)" not in html


def test_upload_size_is_limited(office: Any, client_for: Any) -> None:
    c = client_for("ani")
    big = PDF + b"0" * (64 * 1024)
    r = file_request(c, letter_file=(big, "besar.pdf"))
    assert r.status_code == 422
    assert "Berkas terlalu besar (maksimal 65536 B)." in r.get_data(as_text=True)


def test_user_data_is_escaped(office: Any, client_for: Any) -> None:
    c = client_for("ani")
    r = file_request(c, {**REQUEST, "opd_name": "<script>alert('x')</script>"})
    iid = instance_id(r)
    html = c.get(f"/permohonan/{iid}").get_data(as_text=True)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html


def test_full_kudus_request_through_the_ui(
    office: Any, client_for: Any, work: Any, engine: Any, app: Any
) -> None:
    ani = client_for("ani")
    r = file_request(ani)
    assert r.status_code == 302
    iid = instance_id(r)
    page = ani.get(f"/permohonan/{iid}").get_data(as_text=True)
    assert "KUDUS/2026/000001" in page and "Permohonan diajukan" in page
    assert "surat.pdf" in page and "formulir.pdf" in page
    mine = ani.get("/permohonan").get_data(as_text=True)
    assert "KUDUS/2026/000001" in mine and "berjalan" in mine
    assert work("kudus", OUTPUTS) == ["generate_register", "send_received"]

    # the attachment: the applicant and the officers of Kudus, nobody else
    att = re.search(r'href="/lampiran/([0-9a-f-]{36})">surat.pdf', page).group(1)
    r = ani.get(f"/lampiran/{att}")
    assert r.status_code == 200 and r.data == PDF and r.mimetype == "application/pdf"
    assert "attachment" in r.headers["Content-Disposition"]
    assert "sandbox" in r.headers["Content-Security-Policy"]

    # Kepala Dinas: inbox, claim, task page, complete
    kadis = client_for("kadis")
    tid = only_task(kadis)
    assert client_for("kadis").get(f"/lampiran/{att}").status_code == 200
    task = kadis.get(f"/tugas/{tid}").get_data(as_text=True)
    assert "Disposisi surat ke Kepala Bidang Informatika" in task
    assert "Dinas Pendidikan, Kepemudaan dan Olahraga" in task  # read-only, as submitted
    assert f"/lampiran/{att}" in task and 'name="disposition_note"' in task
    assert 'name="opd_name"' not in task  # read-only fields are not inputs
    assert post(kadis, f"/tugas/{tid}/ambil").status_code == 302
    assert "Dipegang oleh kadis" in kadis.get("/tugas").get_data(as_text=True)
    r = post(kadis, f"/tugas/{tid}", {"disposition_note": "Kabid Informatika: proses"})
    assert r.status_code == 302 and r.headers["Location"] == "/tugas"
    assert "Tidak ada tugas." in kadis.get("/tugas").get_data(as_text=True)
    assert work("kudus", OUTPUTS) == []

    # Kepala Bidang: the engine's validation comes back as inline errors, input kept
    kabid = client_for("kabid")
    tid = only_task(kabid)
    r = post(kabid, f"/tugas/{tid}", {"form_signed": "true", "division_note": "x" * 2001})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert 'id="err-division_note">Maksimal 2000 karakter<' in html
    assert 'name="form_signed" value="true" checked' in html
    r = post(kabid, f"/tugas/{tid}", {"form_signed": "true", "division_note": "Kasi: cek nama"})
    assert r.status_code == 302
    assert work("kudus", OUTPUTS) == ["check_name"]

    # Kepala Seksi confirms the name; the worker finishes the request
    kasi = client_for("kasi")
    tid = only_task(kasi)
    assert "disdikpora" in kasi.get(f"/tugas/{tid}").get_data(as_text=True)
    r = post(kasi, f"/tugas/{tid}", {"name_available": "true", "section_note": "Diperiksa"})
    assert r.status_code == 302
    worked = work("kudus", OUTPUTS)
    assert worked[:3] == ["reserve_name", "create_hosting", "create_dns"]
    admin = Actor("admin_kudus", "kudus", frozenset({"admin"}))
    final = engine.get_instance(admin, iid)
    assert final.state == "completed"
    assert final.variables["fqdn"] == "disdikpora.kuduskab.go.id"

    page = ani.get(f"/permohonan/{iid}").get_data(as_text=True)
    assert "selesai" in page and "Permohonan selesai" in page and "Tugas diselesaikan" in page
    # the completed task's page now leads to the request
    assert kasi.get(f"/tugas/{tid}").headers["Location"] == f"/permohonan/{iid}"


def test_other_agency_gets_404_for_requests_tasks_and_files(
    office: Any, client_for: Any, work: Any
) -> None:
    ani = client_for("ani")
    iid = instance_id(file_request(ani))
    page = ani.get(f"/permohonan/{iid}").get_data(as_text=True)
    att = re.search(r'href="/lampiran/([0-9a-f-]{36})"', page).group(1)
    work("kudus", OUTPUTS)
    tid = only_task(client_for("kadis"))
    eve = client_for("eve")  # Tapin, every role, admin too
    assert eve.get(f"/permohonan/{iid}").status_code == 404
    assert eve.get(f"/tugas/{tid}").status_code == 404
    assert post(eve, f"/tugas/{tid}", {"disposition_note": "x"}).status_code == 404
    assert post(eve, f"/tugas/{tid}/ambil").status_code == 404
    assert eve.get(f"/lampiran/{att}").status_code == 404
    assert "Tidak ada tugas." in eve.get("/tugas").get_data(as_text=True)
    assert "KUDUS/" not in eve.get("/permohonan").get_data(as_text=True)
    # another applicant of the same agency sees neither the request nor its files
    bayu = client_for("bayu")
    assert bayu.get(f"/permohonan/{iid}").status_code == 404
    assert bayu.get(f"/lampiran/{att}").status_code == 404
    assert "KUDUS/" not in bayu.get("/permohonan").get_data(as_text=True)
    assert bayu.get("/lampiran/not-a-uuid").status_code == 404


def test_task_outside_the_users_groups_is_not_found(
    office: Any, client_for: Any, work: Any, engine: Any
) -> None:
    """Another group's task is not even seen (engine/access.py), as over REST: 404."""
    iid = instance_id(file_request(client_for("ani")))
    work("kudus", OUTPUTS)
    tid = only_task(client_for("kadis"))
    kabid = client_for("kabid")
    assert "Tidak ada tugas." in kabid.get("/tugas").get_data(as_text=True)
    assert kabid.get(f"/tugas/{tid}").status_code == 404
    r = post(kabid, f"/tugas/{tid}", {"disposition_note": "bukan tugas saya"})
    assert r.status_code == 404 and "tidak ditemukan" in r.get_data(as_text=True).lower()
    assert engine.get_task(Actor("adm", "kudus", frozenset({"admin"})), tid).state == "open"
    assert post(kabid, f"/tugas/{tid}/ambil").status_code == 404
    admin = Actor("admin_kudus", "kudus", frozenset({"admin"}))
    assert engine.get_task(admin, tid).state == "open"
    assert engine.get_instance(admin, iid).state == "running"


def test_task_claimed_by_someone_else(
    office: Any, client_for: Any, work: Any, make_user: Any
) -> None:
    make_user("kadis2", "kudus", "head_of_office")
    file_request(client_for("ani"))
    work("kudus", OUTPUTS)
    kadis = client_for("kadis")
    tid = only_task(kadis)
    post(kadis, f"/tugas/{tid}/ambil")
    other = client_for("kadis2")
    assert "Tidak ada tugas." in other.get("/tugas").get_data(as_text=True)
    r = post(other, f"/tugas/{tid}", {"disposition_note": "saya juga"})
    assert r.status_code == 403
    assert post(other, f"/tugas/{tid}/lepas").status_code == 403
    assert post(kadis, f"/tugas/{tid}/lepas").status_code == 302
    assert only_task(other) == tid


def test_overdue_badge_and_filter(office: Any, client_for: Any, work: Any, clock: Any) -> None:
    from datetime import timedelta

    file_request(client_for("ani"))
    work("kudus", OUTPUTS)
    kadis = client_for("kadis")
    assert "Jatuh tempo" in kadis.get("/tugas").get_data(as_text=True)
    assert "Tidak ada tugas." in kadis.get("/tugas?terlambat=1").get_data(as_text=True)
    clock.advance(timedelta(minutes=11))  # step 2 has ten minutes
    html = kadis.get("/tugas?terlambat=1").get_data(as_text=True)
    assert "Terlambat" in html and "/tugas/" in html


def test_csrf_is_checked_on_task_and_start_forms(office: Any, client_for: Any, work: Any) -> None:
    ani = client_for("ani")
    assert ani.post("/layanan/kudus/ajukan", data=REQUEST).status_code == 400
    file_request(ani)
    work("kudus", OUTPUTS)
    kadis = client_for("kadis")
    tid = only_task(kadis)
    assert kadis.post(f"/tugas/{tid}", data={"disposition_note": "x"}).status_code == 400
    assert kadis.post(f"/tugas/{tid}/ambil").status_code == 400


def test_oversized_body_is_a_413_page(office: Any, client_for: Any, app: Any) -> None:
    c = client_for("ani")
    app.config["MAX_CONTENT_LENGTH"] = 4096
    r = file_request(c, letter_file=(PDF + b"0" * 8192, "besar.pdf"))
    assert r.status_code == 413 and "Berkas terlalu besar" in r.get_data(as_text=True)


def test_forbidden_page_in_english(office: Any, client_for: Any, work: Any) -> None:
    file_request(client_for("ani"))
    work("kudus", OUTPUTS)
    tid = only_task(client_for("kadis"))
    kabid = client_for("kabid")
    post(kabid, "/bahasa", {"lang": "en"})
    assert kabid.get(f"/tugas/{tid}").status_code == 404
    r = kabid.get("/admin/")  # seen but not theirs: the forbidden page
    assert r.status_code == 403 and "Access denied" in r.get_data(as_text=True)
    html = kabid.get("/tugas").get_data(as_text=True)
    assert "No tasks." in html and "Inbox" in html


def test_task_returned_to_the_applicant_appears_in_her_inbox(
    office: Any, client_for: Any, work: Any, engine: Any
) -> None:
    ani = client_for("ani")
    iid = instance_id(file_request(ani))
    taken = {
        **OUTPUTS,
        "subdomain.check": {
            "name_available": False,
            "name_reason": "disdikpora.kuduskab.go.id sudah aktif",
            "name_suggestions": "disdikpora-kudus",
        },
    }
    work("kudus", taken)
    kadis = client_for("kadis")
    post(kadis, f"/tugas/{only_task(kadis)}", {"disposition_note": "proses"})
    kabid = client_for("kabid")
    post(kabid, f"/tugas/{only_task(kabid)}", {"form_signed": "true"})
    work("kudus", taken)
    kasi = client_for("kasi")
    post(kasi, f"/tugas/{only_task(kasi)}", {"section_note": "nama sudah dipakai"})
    work("kudus", taken)
    tid = only_task(ani)
    html = ani.get(f"/tugas/{tid}").get_data(as_text=True)
    assert "sudah aktif" in html and "disdikpora-kudus" in html
    assert client_for("bayu").get(f"/tugas/{tid}").status_code == 404  # another applicant
    r = post(ani, f"/tugas/{tid}", {"subdomain": "disdikpora-kudus"})
    assert r.status_code == 302
    admin = Actor("admin_kudus", "kudus", frozenset({"admin"}))
    assert engine.get_instance(admin, iid).variables["subdomain"] == "disdikpora-kudus"


def test_my_requests_show_the_sla_clock(
    office: Any, client_for: Any, work: Any, clock: Any
) -> None:
    from datetime import timedelta

    ani = client_for("ani")
    iid = instance_id(file_request(ani))
    work("kudus", OUTPUTS)
    for user, values in (
        ("kadis", {"disposition_note": "proses"}),
        ("kabid", {"form_signed": "true"}),
    ):
        c = client_for(user)
        post(c, f"/tugas/{only_task(c)}", values)
    work("kudus", OUTPUTS)
    kasi = client_for("kasi")
    post(kasi, f"/tugas/{only_task(kasi)}", {"name_available": "true"})
    # step 5 (60 minutes) begins: the request now has a deadline
    assert work("kudus", OUTPUTS, topics=("subdomain.reserve",)) == ["reserve_name"]
    assert "Sisa 0 hari kerja" in ani.get("/permohonan").get_data(as_text=True)
    clock.advance(timedelta(minutes=61))
    mine = ani.get("/permohonan").get_data(as_text=True)
    assert "Terlambat" in mine
    assert "Terlambat" in ani.get(f"/permohonan/{iid}").get_data(as_text=True)


def test_sensitive_letters_are_for_officers_only(
    office: Any, client_for: Any, engine: Any, app: Any, agencies: Any, work: Any
) -> None:
    from handlers.attachments import AttachmentStore

    ani = client_for("ani")
    iid = instance_id(file_request(ani))
    work("kudus", OUTPUTS)  # the request reaches the Kepala Dinas, who then sees it
    store = AttachmentStore.from_settings(app.config["SOPFLOW"])
    with engine.sessions.begin() as s:
        att = store.add(
            s,
            agency_id=agencies["kudus"],
            filename="kredensial.pdf",
            data=b"%PDF-1.4\nsandi\n%%EOF\n",
            now=engine.now(),
            instance_id=iid,
            kind="letter",
            sensitive=True,
        )
        att_id = att.id
    assert "kredensial.pdf" not in ani.get(f"/permohonan/{iid}").get_data(as_text=True)
    assert ani.get(f"/lampiran/{att_id}").status_code == 404
    kadis = client_for("kadis")
    assert "kredensial.pdf" in kadis.get(f"/permohonan/{iid}").get_data(as_text=True)
    assert kadis.get(f"/lampiran/{att_id}").status_code == 200


def test_inbox_filters_by_holder_and_service(office: Any, client_for: Any, work: Any) -> None:
    ani = client_for("ani")
    file_request(ani)
    file_request(ani, {**REQUEST, "subdomain": "dinkes"})
    work("kudus", OUTPUTS)
    kadis = client_for("kadis")
    html = kadis.get("/tugas").get_data(as_text=True)
    ids = sorted(set(re.findall(r'href="/tugas/([0-9a-f-]{36})"', html)))
    assert len(ids) == 2
    post(kadis, f"/tugas/{ids[0]}/ambil")

    def shown(query: str) -> set[str]:
        page = kadis.get(f"/tugas?{query}").get_data(as_text=True)
        return set(re.findall(r'href="/tugas/([0-9a-f-]{36})"', page))

    assert shown("pegang=saya") == {ids[0]}
    assert shown("pegang=belum") == {ids[1]}
    assert shown("pegang=") == set(ids)
    assert shown("layanan=kudus") == set(ids)
    assert shown("layanan=tapin") == set()  # another service: nothing of this one
    assert shown("pegang=siapa-saja") == set(ids)  # an unknown value filters nothing
    page = kadis.get("/tugas?pegang=saya&layanan=kudus").get_data(as_text=True)
    assert '<option value="saya" selected>' in page and '<option value="kudus" selected>' in page
