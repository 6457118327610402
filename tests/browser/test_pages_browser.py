"""Every main page in the system Chromium, with real data behind it: it renders, runs under
the Content Security Policy without a single refusal or script error, fits a phone screen
without sideways scrolling, and (with ``SOPFLOW_SCREENSHOT_DIR``) leaves a screenshot.

The data is made through the engine (a finished Kudus request with the service tasks played by
the ``work`` fixture, a second version of the diagram, an incident, a holiday override), so this
test is about the pages, not the workflow; tests/browser/test_kudus_browser.py walks the
workflow itself. SQLite only: tests/webui covers the same pages on PostgreSQL."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from browser_support import ROOT, screenshot
from support import KUDUS_REQUEST

from engine.actors import Actor
from engine.runtime import TopicRequest

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def who(username: str, *groups: str) -> Actor:
    return Actor(username, "kudus", frozenset(groups))


ANI = who("ani", "applicant")
KADIS = who("kadis", "head_of_office")
KABID = who("kabid", "head_of_division")
KASI = who("kasi", "head_of_section")
ADMIN = who("admin", "admin")
OUTPUTS = {
    "letter.generate": {"letter_pdf": ""},
    "subdomain.check": {"name_available": True, "name_reason": "", "name_suggestions": ""},
    "hosting.create": {"hosting_path": "/srv/www/disdikpora"},
    "dns.create": {"fqdn": "disdikpora.kuduskab.go.id"},
}
REQUEST = {
    **KUDUS_REQUEST,
    "letter_file": "att:00000000-0000-0000-0000-000000000001",
    "form_file": "att:00000000-0000-0000-0000-000000000002",
}


@pytest.fixture
def office(engine: Any, make_user: Any, deploy: Any, work: Any) -> dict[str, str]:
    for a in (ANI, KADIS, KABID, KASI):
        make_user(a.username, "kudus", *a.groups)
    make_user("admin", "kudus", "admin", "head_of_office")
    make_user("ana", "kudus", "analyst")
    deploy("kudus")
    done = engine.start(ANI, "kudus", values=REQUEST)
    work("kudus", OUTPUTS)
    steps = [
        (KADIS, {"disposition_note": "Kabid: proses"}),
        (KABID, {"form_signed": True, "division_note": "Kasi: periksa nama"}),
        (KASI, {"name_available": True, "section_note": "Nama tersedia"}),
    ]
    for actor, values in steps:
        (task,) = engine.inbox(actor, instance_id=done.id)
        engine.complete_task(actor, task.id, values)
        work("kudus", OUTPUTS)
    assert engine.get_instance(ADMIN, done.id).state == "completed"
    running = engine.start(ANI, "kudus", values={**REQUEST, "subdomain": "dinkes"})
    # a second version with another label, for the versions and differences pages
    bpmn = (ROOT / "bpmn" / "kudus.bpmn").read_bytes()
    engine.deploy(
        ADMIN,
        [("kudus.bpmn", bpmn.replace(b'label="Catatan disposisi"', b'label="Catatan Kadis"'))],
        version_tag="v2",
        note="Label catatan disposisi diperjelas",
    )
    # an incident: a job that keeps failing
    (job,) = engine.fetch_and_lock("w", [TopicRequest("letter.generate", 60_000)], agency="kudus")
    engine.fail_external("w", job.id, "SMTP tidak menjawab", retries=0)
    engine.set_calendar_override(ADMIN, date(2026, 12, 24), working=False, note="Cuti bersama")
    return {"done": done.id, "running": running.id}


PAGES = [
    # (user, path, screenshot name)
    ("ani", "/permohonan/{done}/survei", "10-survei-ikm"),
    ("kadis", "/laporan/", "11-laporan"),
    ("admin", "/admin/", "20-admin"),
    ("admin", "/admin/versi/kudus", "21-admin-versi"),
    ("admin", "/admin/versi/kudus/perbandingan", "22-admin-perbandingan-versi"),
    ("admin", "/admin/insiden", "23-admin-insiden"),
    ("admin", "/admin/pengguna", "24-admin-pengguna"),
    ("admin", "/admin/hari-libur", "25-admin-hari-libur"),
    ("admin", "/admin/dns", "26-admin-dns"),
]


def test_main_pages_render_under_the_csp_on_desktop_and_phone(
    office: dict[str, str], live_server: str, person: Any, console: Any
) -> None:
    seen: dict[str, Any] = {}
    for username, path, name in PAGES:
        for width, height, suffix in ((1280, 860, ""), (390, 844, "-ponsel")):
            page = person(username, width=width, height=height)
            response = page.goto(live_server + path.format(**office))
            assert response is not None and response.status == 200, (path, response)
            assert page.locator("main h1").count() >= 1, path
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {width}px"
            if not suffix or name in ("10-survei-ikm", "11-laporan", "21-admin-versi"):
                screenshot(page, name + suffix, full_page=True)
            seen[path] = page.content() if not suffix else seen.get(path)
            page.context.close()
    assert console.csp_violations() == []
    assert console.errors == []
    # the pages show the data made above, not empty shells
    assert "Catatan Kadis" in seen["/admin/versi/kudus/perbandingan"]
    assert "SMTP tidak menjawab" in seen["/admin/insiden"]
    assert "Cuti bersama" in seen["/admin/hari-libur"]
    assert "Kirim survei" in seen["/permohonan/{done}/survei"]


def test_the_modeler_page_opens_a_deployed_diagram(
    office: dict[str, str], live_server: str, page: Any, console: Any, login: Any
) -> None:
    login(page, "ana")
    page.goto(f"{live_server}/desain/")
    screenshot(page, "30-desain")
    page.locator('button[data-open-key="kudus"]').click()
    page.wait_for_selector("#sf-designer.sf-ready")
    page.locator('g.djs-element[data-element-id="dispose_to_division"]').click()
    assert page.locator("#sf-panel").inner_text().strip()  # the properties panel shows it
    assert page.locator(".bjs-powered-by").is_visible()
    screenshot(page, "31-pemodel")
    assert console.csp_violations() == []
    assert console.errors == []
