"""The web modeler and the request page's diagram in real Chromium, under the app's CSP.

An analyst changes a start-form label in the properties panel and saves, an administrator
publishes the draft as version 2: new requests get the new label while a request filed on
version 1 keeps the old one. The request page's diagram marks the waiting task and the steps
done, and keeps the bpmn.io watermark. Runs on SQLite only: the database adds nothing to what
the browser checks (the same routes run on PostgreSQL in tests/webui/test_designer.py).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from browser_support import screenshot

from engine.actors import Actor

pytestmark = [
    pytest.mark.integration,
    pytest.mark.parametrize("db_url", ["sqlite"], indirect=True),
]

OLD_LABEL = "Nama Perangkat Daerah / unit kerja"
NEW_LABEL = "Nama OPD pemohon (sesuai kop surat)"
VALUES = {
    "opd_name": "Dinas Pendidikan, Kepemudaan dan Olahraga",
    "letter_number": "421/1187/23.01/2026",
    "letter_date": "2026-11-20",
    "letter_file": "sha256:surat",
    "form_file": "sha256:formulir",
    "subdomain": "disdikpora",
    "purpose": "Website informasi PPDB",
    "applicant_email": "ani@disdikpora.kuduskab.go.id",
    "applicant_phone": "0291-438921",
}


@pytest.fixture
def office(make_user: Any, deploy: Any) -> None:
    deploy("kudus")
    make_user("ana", "kudus", "analyst")
    make_user("adi", "kudus", "admin")
    make_user("ani", "kudus", "applicant")
    make_user("kadis", "kudus", "head_of_office")


def file_on_v1(engine: Any, work: Any) -> str:
    inst = engine.start(Actor("ani", "kudus", frozenset({"applicant"})), "kudus", values=VALUES)
    work("kudus")  # register + e-mail: the request now waits for the head of office
    return str(inst.id)


def test_analyst_edits_a_label_admin_publishes_old_requests_keep_theirs(
    office: Any,
    live_server: str,
    person: Any,
    page: Any,
    console: Any,
    login: Any,
    engine: Any,
    work: Any,
) -> None:
    old_request = file_on_v1(engine, work)

    # the analyst opens the deployed diagram and edits the start form in the properties panel
    login(page, "ana")
    page.goto(f"{live_server}/desain/")
    page.click("button[data-open-key=kudus]")
    page.wait_for_selector("#sf-designer.sf-ready")
    draft_url = page.url
    page.click("g.djs-element[data-element-id=start_request]")
    group = page.locator('[data-group-id="group-CamundaPlatform__FormData"]')
    group.locator(".bio-properties-panel-group-header").click()
    entry = group.locator('[data-entry-id="start_request-formField-0"]')
    entry.locator("> .bio-properties-panel-collapsible-entry-header").click()
    label = entry.get_by_label("Label", exact=True)
    assert label.input_value() == OLD_LABEL
    label.fill(NEW_LABEL)
    label.press("Tab")
    page.wait_for_function(
        "() => document.getElementById('sf-status').textContent.length > 0"
    )  # the change is noticed (unsaved)
    screenshot(page, "designer-properties-panel")
    page.click("#sf-save")
    page.wait_for_selector(".sf-status-ok")
    assert page.text_content("#sf-status") == "Tersimpan."

    # validate: the diagram is fine
    page.click("#sf-validate")
    page.wait_for_function(
        "() => document.getElementById('sf-status').textContent.includes('valid')"
    )
    assert page.locator("#sf-problem-list li").count() == 0

    # the administrator publishes it (another login, in another browser context)
    admin = person("adi")
    admin.goto(draft_url)
    admin.wait_for_selector("#sf-designer.sf-ready")
    admin.fill("#version_tag", "label-opd")
    admin.fill("#note", "Label nama OPD diperjelas")
    with admin.expect_navigation():
        admin.click("#sf-publish button[type=submit]")
    assert "Versi 2 diterbitkan." in admin.text_content(".flash")
    current = engine.current_definition(Actor("x", "kudus", frozenset({"admin"})), "kudus")
    assert (current.version, current.version_tag) == (2, "label-opd")

    # the applicant: a new request's form shows the new label ...
    ani = person("ani")
    ani.goto(f"{live_server}/layanan/kudus/ajukan")
    assert ani.text_content("label[for=f-opd_name]").startswith(NEW_LABEL)
    # ... while the request filed on version 1 keeps the old one, on its page and its task
    ani.goto(f"{live_server}/permohonan/{old_request}")
    body = ani.text_content("main")
    assert OLD_LABEL in body and NEW_LABEL not in body
    kadis = person("kadis")
    kadis.goto(f"{live_server}/tugas")
    kadis.click("main a[href^='/tugas/']")
    body = kadis.text_content("main")
    assert OLD_LABEL in body and NEW_LABEL not in body

    assert console.errors == []
    assert console.csp_violations() == []


def test_request_page_diagram_marks_current_and_done_steps(
    office: Any, live_server: str, page: Any, console: Any, login: Any, engine: Any, work: Any
) -> None:
    iid = file_on_v1(engine, work)
    login(page, "ani")
    page.goto(f"{live_server}/permohonan/{iid}")
    page.wait_for_selector("#sf-request-diagram.sf-ready")
    current = page.locator("g.djs-element[data-element-id=dispose_to_division]")
    assert "sf-current" in (current.get_attribute("class") or "")
    for done in ("start_request", "generate_register", "send_received"):
        el = page.locator(f"g.djs-element[data-element-id={done}]")
        assert "sf-done" in (el.get_attribute("class") or "")
    untouched = page.locator("g.djs-element[data-element-id=sign_and_dispose]")
    assert not re.search(r"sf-(done|current)", untouched.get_attribute("class") or "")
    # the marker is styled (not only a class): the current task's shape is filled amber
    fill = current.locator(".djs-visual > :first-child").evaluate("el => getComputedStyle(el).fill")
    assert fill == "rgb(255, 244, 214)"
    # bpmn.io's watermark stays visible
    watermark = page.locator("#sf-request-diagram .bjs-powered-by")
    assert watermark.is_visible()
    box = watermark.bounding_box()
    assert box is not None and box["width"] > 0 and box["height"] > 0
    screenshot(page, "request-diagram", full_page=True)
    # the text timeline is still there
    assert page.locator("ol.timeline li").count() >= 3
    assert console.errors == []
    assert console.csp_violations() == []


def test_validation_problems_are_shown_on_the_diagram(
    office: Any, live_server: str, page: Any, console: Any, login: Any
) -> None:
    """Also: the Camunda properties (candidate groups, timers) are there to edit."""
    login(page, "ana")
    page.goto(f"{live_server}/desain/")
    page.click("button[data-open-key=kudus]")
    page.wait_for_selector("#sf-designer.sf-ready")
    page.click("g.djs-element[data-element-id=dispose_to_division]")
    groups = page.locator("#bio-properties-panel-candidateGroups")
    page.locator(".bio-properties-panel-group").filter(has=groups).locator(
        ".bio-properties-panel-group-header"
    ).click()
    assert groups.input_value() == "head_of_office"
    page.click("g.djs-element[data-element-id=step2_timer]")
    timer = page.locator("#bio-properties-panel-timerEventDefinitionValue")
    page.locator(".bio-properties-panel-group").filter(has=timer).locator(
        ".bio-properties-panel-group-header"
    ).click()
    assert timer.input_value() == "PT10M"
    # a new integration: an external topic nothing in sopflow works is a warning on the task
    page.click("g.djs-element[data-element-id=generate_register]")
    topic = page.locator("#bio-properties-panel-externalTopic")
    group = page.locator(".bio-properties-panel-group").filter(has=topic)
    group.locator(".bio-properties-panel-group-header").click()
    assert topic.input_value() == "letter.generate"
    topic.fill("tidak.ada")
    topic.press("Tab")
    page.click("#sf-validate")
    page.wait_for_selector("#sf-warning-list li")
    warned = page.locator("#sf-warning-list li[data-element-id=generate_register]")
    assert "tidak ada handler bawaan" in warned.text_content()
    assert page.locator("#sf-problem-list li").count() == 0
    shape = page.locator("g.djs-element[data-element-id=generate_register]")
    assert "sf-warned" in (shape.get_attribute("class") or "")
    assert "sf-invalid" not in (shape.get_attribute("class") or "")
    warning = page.locator(".djs-overlay .sf-warning-note")
    assert warning.count() == 1 and "tidak.ada" in warning.text_content()
    # break it the way an analyst would: a service task without a topic
    topic.fill("")
    topic.press("Tab")
    page.click("#sf-validate")
    page.wait_for_selector("#sf-problem-list li")
    item = page.locator("#sf-problem-list li[data-element-id=generate_register]")
    assert "camunda:topic" in item.text_content()
    assert "sf-invalid" in (shape.get_attribute("class") or "")
    assert "sf-warned" not in (shape.get_attribute("class") or "")
    assert page.locator("#sf-warning-list li").count() == 0
    note = page.locator(".djs-overlay .sf-problem-note")
    assert note.count() == 1 and "camunda:topic" in note.text_content()
    screenshot(page, "designer-validation")
    # clicking the list item selects the element
    page.click("#sf-designer")  # clear the selection first
    page.keyboard.press("Escape")
    item.locator("button.sf-goto").click()
    assert "selected" in (shape.get_attribute("class") or "")
    # the modeler's watermark stays visible too
    assert page.locator("#sf-designer .bjs-powered-by").is_visible()
    assert console.errors == []
    assert console.csp_violations() == []
