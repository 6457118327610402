"""A Kudus request end to end in the system Chromium: the applicant files it with a PDF
letter, each officer completes their step from the inbox, the request page's diagram marks the
steps done and the task waiting, and the request ends with its DNS record served by a real BIND.

The built-in handlers (name check at the DNS server, reservation, letter PDF, hosting, DNS over
RFC 2136 with TSIG, mail outbox) run in worker threads of this test against that server, as
``sopflow serve`` runs them; each wait below is for that background work, with a deadline.
SQLite only: the PostgreSQL paths of the same pages are covered by tests/webui.

With ``SOPFLOW_SCREENSHOT_DIR`` set (``make screenshots``) the main pages are saved there."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from browser_support import screenshot, wait_until
from dns_server import RFC2136_ZONE, NamedServer
from sqlalchemy import select

from engine.actors import Actor
from engine.models import Agency
from engine.workers import WorkerPool
from handlers.base import HandlerContext

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TARGET = "192.0.2.80"
ADMIN = Actor("admin_kudus", "kudus", frozenset({"admin"}))


@pytest.fixture
def office(
    app: Any, engine: Any, make_user: Any, deploy: Any, dns_server: NamedServer, tmp_path: Any
) -> None:
    """Kudus as a real office: its zone at the test's named, its sites under a temp dir."""
    sites = tmp_path / "nginx-sites"
    web_root = tmp_path / "www"
    sites.mkdir()
    web_root.mkdir()
    with engine.sessions.begin() as s:
        kudus = s.scalar(select(Agency).where(Agency.code == "kudus"))
        kudus.settings = {
            "dns": dns_server.agency_settings(RFC2136_ZONE, "rfc2136", default_target=TARGET),
            "hosting": {
                "web_root": str(web_root),
                "nginx_sites_dir": str(sites),
                "listen": "127.0.0.1:8080",
            },
        }
    deploy("kudus")
    make_user("ani", "kudus", "applicant")
    make_user("kadis", "kudus", "head_of_office")
    make_user("kabid", "kudus", "head_of_division")
    make_user("kasi", "kudus", "head_of_section")


@pytest.fixture
def workers(app: Any, engine: Any, dns_server: NamedServer) -> Iterator[WorkerPool]:
    settings = {**app.config["SOPFLOW"], "TSIG_SOPFLOW_TEST": dns_server.key_secret}
    context = HandlerContext(clock=engine.clock, sessions=engine.sessions, settings=settings)
    pool = WorkerPool(
        engine, app.extensions["sopflow.registry"], context=context, threads=2, poll_interval=0.1
    )
    pool.start()
    yield pool
    pool.stop()


def open_tasks(engine: Any, instance_id: str) -> list[str]:
    return [t.element_id for t in engine.inbox(ADMIN, instance_id=instance_id)]


def complete_from_inbox(page: Any, base: str, task_name: str, fill: Callable[[Any], None]) -> None:
    page.goto(f"{base}/tugas")
    page.get_by_role("link", name=task_name).click()
    page.get_by_role("button", name="Ambil").click()
    fill(page)
    page.get_by_role("button", name="Selesaikan tugas").click()
    page.wait_for_url(f"{base}/tugas")


def test_kudus_request_from_filing_to_dns_record(
    office: None,
    workers: WorkerPool,
    live_server: str,
    person: Callable[..., Any],
    engine: Any,
    dns_server: NamedServer,
    console: Any,
) -> None:
    base = live_server
    ani = person("ani")
    screenshot(ani, "01-beranda-katalog")
    ani.get_by_role("link", name="Ajukan permohonan").first.click()
    ani.fill("#f-opd_name", "Dinas Pendidikan, Kepemudaan dan Olahraga")
    ani.fill("#f-letter_number", "421/1187/23.01/2026")
    ani.fill("#f-letter_date", "2026-11-20")
    ani.fill("#f-subdomain", "disdikpora")
    ani.fill("#f-purpose", "Website informasi PPDB")
    ani.fill("#f-applicant_email", "ani@disdikpora.kuduskab.go.id")
    ani.fill("#f-applicant_phone", "0291-438921")
    pdf = {"mimeType": "application/pdf", "buffer": PDF}
    ani.set_input_files("#f-letter_file", files=[{"name": "surat.pdf", **pdf}])
    ani.set_input_files("#f-form_file", files=[{"name": "formulir.pdf", **pdf}])
    screenshot(ani, "02-formulir-permohonan")
    ani.get_by_role("button", name="Ajukan").click()
    ani.wait_for_url(re.compile(r".*/permohonan/[0-9a-f-]{36}$"))
    iid = ani.url.rsplit("/", 1)[1]
    assert "KUDUS/2026/000001" in ani.content()
    assert ani.get_by_role("link", name="surat.pdf").count() == 1

    # the register letter and the receipt mail run in the background, then the head of office
    wait_until(lambda: open_tasks(engine, iid) == ["dispose_to_division"], "disposition task")
    kadis = person("kadis")
    kadis.goto(f"{base}/tugas")
    screenshot(kadis, "03-kotak-tugas")
    complete_from_inbox(
        kadis,
        base,
        "Disposisi surat ke Kepala Bidang Informatika",
        lambda p: (screenshot(p, "04-tugas"), p.fill("#f-disposition_note", "Kabid: proses")),
    )
    wait_until(lambda: open_tasks(engine, iid) == ["sign_and_dispose"], "signature task")

    kabid = person("kabid")

    def sign(p: Any) -> None:
        p.check("#f-form_signed")
        p.fill("#f-division_note", "Kasi: periksa nama")

    complete_from_inbox(
        kabid, base, "Tanda tangani formulir dan disposisi ke Kepala Seksi TI", sign
    )
    # subdomain.check asks the real named whether disdikpora is free
    wait_until(lambda: open_tasks(engine, iid) == ["review_name"], "name review task")

    # the diagram on the request page: done steps and the waiting task are marked
    kasi = person("kasi")
    kasi.goto(f"{base}/permohonan/{iid}")
    kasi.wait_for_selector("#sf-request-diagram.sf-ready")
    current = kasi.locator('g.djs-element[data-element-id="review_name"]')
    assert "sf-current" in (current.get_attribute("class") or "")
    done = kasi.locator('g.djs-element[data-element-id="dispose_to_division"]')
    assert "sf-done" in (done.get_attribute("class") or "")
    assert kasi.locator(".bjs-powered-by").is_visible()  # the bpmn.io watermark stays
    screenshot(kasi, "05-permohonan-diagram", full_page=True)

    def confirm(p: Any) -> None:
        assert "disdikpora" in p.content()
        p.check("#f-name_available")
        p.fill("#f-section_note", "Nama tersedia")

    complete_from_inbox(kasi, base, "Periksa subdomain dan disposisi ke staf teknis", confirm)

    # reservation, hosting, DNS (RFC 2136 with TSIG) and the mails, then the end
    wait_until(lambda: engine.get_instance(ADMIN, iid).state == "completed", "request completed")
    assert dns_server.query(f"disdikpora.{RFC2136_ZONE}", "A") == [TARGET]
    assert engine.get_instance(ADMIN, iid).variables["fqdn"] == f"disdikpora.{RFC2136_ZONE}"

    ani.goto(f"{base}/permohonan/{iid}")
    page = ani.content()
    assert "selesai" in page and "Permohonan selesai" in page
    screenshot(ani, "06-permohonan-selesai", full_page=True)
    # the request list at phone width: one column, nothing cut off
    phone = person("ani", width=390, height=844)
    phone.goto(f"{base}/permohonan")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "07-ponsel-permohonan-saya")
    assert console.csp_violations() == []
    assert console.errors == []
