"""The six SOPs of ``bpmn/`` end to end through the real Camunda clients, on a live server with
``make run``'s settings (no external topics: every service task is a built-in handler's).

For each SOP: pycamunda starts the request as an applicant of a work unit with typed
variables built from the start form's ``form-variables`` (upload fields as ``File``
variables), camunda-client answers every user task with ``submit-form`` as the officer of its
group (variables built from the task's ``form-variables``), the built-in handlers work the
service tasks in worker threads as ``sopflow serve`` runs them — name check and DNS at a real
BIND, sites at a real nginx, letters, credentials, the mail outbox — and the request completes
with its name in the agency's zone. The refusals (wrong-typed and missing fields, bad files)
are 400s naming the field in Indonesian and English, as the browser's form says them."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pycamunda.processdef
import pytest
import requests
from conformance_support import PDF, Walk, answer
from dns_server import BASE_RECORDS, RFC2136_ZONE, ZONEFILE_ZONE, NamedServer
from nginx_server import NginxServer, NginxUnavailable
from rest_support import PASSWORD
from sqlalchemy import select
from support import unavailable

from engine.actors import Actor
from engine.catalogue import AGENCIES
from engine.models import Agency, User, WorkUnit
from engine.workers import WorkerPool
from handlers.attachments.models import Attachment
from handlers.base import HandlerContext

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
GROUPS = (
    "head_of_office",
    "head_of_division",
    "head_of_section",
    "technical_officer",
    "programmer",
    "complaint_officer",
)
ZONES = {a.code: a.parent_domain for a in AGENCIES}
CONTACT = {"applicant_email": "pemohon@opd.go.id", "applicant_phone": "0291-438921"}


@pytest.fixture
def app_settings() -> dict[str, Any]:
    return {"EXTERNAL_TOPICS": ""}  # make run's default: no topic left to external workers


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[NginxServer]:
    server = NginxServer(tmp_path / "nginx")
    try:
        server.start()
    except NginxUnavailable as e:
        unavailable(f"nginx could not be started: {e}")
    yield server
    server.stop()


@pytest.fixture
def offices(app: Any, dns_server: NamedServer, nginx: NginxServer) -> NamedServer:
    """Every agency's zone at the test BIND (Tapin's as a zone file, the others by RFC 2136),
    new names pointing at this machine, sites at the test nginx."""
    eng = app.extensions["sopflow"]
    with eng.sessions.begin() as s:
        for agency in s.scalars(select(Agency)):
            zone = ZONES[agency.code]
            if zone not in dns_server.zones:
                dns_server.add_zone(zone, BASE_RECORDS)
            elif zone not in (RFC2136_ZONE, ZONEFILE_ZONE):
                dns_server.reset_zone(zone, BASE_RECORDS)
            kind = "zonefile" if zone == ZONEFILE_ZONE else "rfc2136"
            agency.settings = {
                "dns": dns_server.agency_settings(zone, kind, default_target="127.0.0.1"),
                "hosting": nginx.hosting_settings(),
                "website": {"retry_pause": 0.05, "timeout": 2},
            }
    return dns_server


@pytest.fixture
def workers(app: Any, offices: NamedServer) -> Iterator[WorkerPool]:
    eng = app.extensions["sopflow"]
    settings = {**app.config["SOPFLOW"], "TSIG_SOPFLOW_TEST": offices.key_secret}
    context = HandlerContext(clock=eng.clock, sessions=eng.sessions, settings=settings)
    pool = WorkerPool(
        eng, app.extensions["sopflow.registry"], context=context, threads=2, poll_interval=0.1
    )
    pool.start()
    yield pool
    pool.stop()


def staff(app: Any, make_user: Any, agency: str) -> tuple[str, dict[str, str]]:
    """An applicant in a work unit and one officer per group of the SOPs."""
    people = {g: make_user(f"{agency}_{g}", agency, g) for g in GROUPS}
    people["admin"] = make_user(f"{agency}_admin", agency, "admin")
    applicant = make_user(f"{agency}_pemohon", agency, "applicant")
    with app.extensions["sopflow"].sessions.begin() as s:
        agency_id = s.scalar(select(Agency.id).where(Agency.code == agency))
        unit = WorkUnit(
            agency_id=agency_id,
            code="disdik",
            name="Dinas Pendidikan",
            created_at=datetime.now(UTC),
        )
        s.add(unit)
        s.flush()
        s.scalar(select(User).where(User.username == applicant)).work_unit_id = unit.id
    return applicant, people


def deploy(app: Any, agency: str, key: str) -> None:
    admin = Actor(f"admin_{agency}", agency, frozenset({"admin"}))
    app.extensions["sopflow"].deploy(admin, [(f"{key}.bpmn", (BPMN / f"{key}.bpmn").read_bytes())])


def start(server: str, user: str, key: str, agency: str, variables: dict[str, Any]) -> str:
    call = pycamunda.processdef.StartInstance(url=server, key=key, tenant_id=agency)
    for name, v in variables.items():
        call.add_variable(name, v["value"], v["type"], v["valueInfo"])
    call.auth = (user, PASSWORD)
    return str(call().id_)


# key: agency, and the user tasks of its main path in order (the service tasks in between are
# the built-in handlers')
SOPS = {
    "kudus": ("kudus", ["dispose_to_division", "sign_and_dispose", "review_name"]),
    "kalbar": ("kalbar", ["review_request"]),
    "sulut": ("sulut", ["verify_request", "build_website", "confirm_website", "train_operator"]),
    "tapin": ("tapin", ["verify_request"]),
    "pekalongan": (
        "pekalongan",
        [
            "receive_disposition",
            "forward_disposition",
            "analyse_requirements",
            "design_web",
            "present_design",
            "appoint_programmer",
            "code_website",
            "present_website",
            "upload_website",
        ],
    ),
    "complaint": ("pekalongan", ["classify_complaint", "respond_complaint"]),
}


@pytest.mark.parametrize("key", list(SOPS))
def test_sop_end_to_end_through_the_clients(
    key: str, app: Any, server: str, make_user: Any, workers: WorkerPool, offices: NamedServer
) -> None:
    agency, path = SOPS[key]
    applicant, people = staff(app, make_user, agency)
    deploy(app, agency, key)
    walk = Walk(server, people["admin"], people, applicant)
    label = f"uji-{key}"
    form = walk.get(applicant, f"/process-definition/key/{key}/tenant-id/{agency}/form-variables")
    assert form and all(v["type"] != "Null" for v in form.values()), form
    variables = answer(form, {"subdomain": label, **CONTACT})
    instance_id = start(server, applicant, key, agency, variables)

    walk.answers = {
        "forward_disposition": {"assigned_officer": people["technical_officer"]},
        "appoint_programmer": {"programmer_name": people["programmer"]},
    }
    assert walk.run(instance_id) == path
    eng = app.extensions["sopflow"]
    inst = eng.get_instance(Actor("a", agency, frozenset({"admin"})), instance_id)
    assert inst.state == "completed" and inst.work_unit_id is not None
    if key != "complaint":
        fqdn = f"{label}.{ZONES[agency]}"
        assert offices.query(fqdn, "A") == ["127.0.0.1"], fqdn
    # the uploads went through the attachment store, as the browser's would
    files = {k: v for k, v in inst.variables.items() if k in form and form[k]["type"] == "File"}
    with eng.sessions() as s:
        for name, ref in files.items():
            if not ref:
                continue
            att = s.get(Attachment, ref.removeprefix("att:"))
            assert att is not None and att.mime_type == "application/pdf", name
            assert (att.filename, att.instance_id) == (f"{name}.pdf", instance_id)


def _post(server: str, user: str, path: str, variables: dict[str, Any]) -> Any:
    return requests.post(
        f"{server}{path}", json={"variables": variables}, auth=(user, PASSWORD), timeout=10
    )


def _file(data: bytes, filename: str = "surat.pdf") -> dict[str, Any]:
    return {
        "type": "File",
        "value": base64.b64encode(data).decode(),
        "valueInfo": {"filename": filename, "mimetype": "application/pdf"},
    }


REQUIRED = "Wajib diisi / This field is required"


def test_start_refusals_name_the_field_in_both_languages(
    app: Any, server: str, make_user: Any
) -> None:
    applicant, people = staff(app, make_user, "kalbar")
    integration = make_user("kalbar_integrasi", "kalbar", "integration")
    deploy(app, "kalbar", "kalbar")
    base = "/process-definition/key/kalbar/tenant-id/kalbar"
    form = Walk(server, people["admin"], people, applicant).get(applicant, f"{base}/form-variables")
    assert form["letter_date"] == {
        "value": None,
        "type": "Date",
        "valueInfo": {
            "label": form["letter_date"]["valueInfo"]["label"],
            "required": True,
            "readonly": False,
        },
    }
    assert form["letter_stamped"]["type"] == "Boolean" and form["letter_stamped"]["value"] is False
    assert form["letter_file"]["type"] == "File"
    assert form["letter_file"]["valueInfo"]["accept"] == "application/pdf"
    assert [v["id"] for v in form["signed_by"]["valueInfo"]["enumValues"]] == [
        "head_of_pd",
        "head_of_upt",
        "both",
    ]
    good = answer(form, {"subdomain": "uji-tolak", **CONTACT})

    for path in ("start", "submit-form"):
        r = _post(server, applicant, f"{base}/{path}", {})
        assert r.status_code == 400 and r.json()["type"] == "FormFieldValidatorException"
        for name in ("opd_name", "letter_date", "letter_file", "signed_by", "subdomain"):
            assert f"{name}: {REQUIRED}" in r.json()["message"], (name, r.json())

    cases = {
        "letter_date": (
            {"type": "String", "value": "31-31-2026"},
            "Harus tanggal (TTTT-BB-HH) / Must be a date (YYYY-MM-DD)",
        ),
        "letter_stamped": (
            {"type": "String", "value": "mungkin"},
            "Harus ya atau tidak / Must be yes or no",
        ),
        "signed_by": (
            {"type": "String", "value": "kepala"},
            "Pilih salah satu pilihan yang tersedia / Choose one of the listed options",
        ),
        "letter_file": (
            {"type": "String", "value": "att:00000000-0000-0000-0000-000000000001"},
            "Kirim berkas sebagai variabel bertipe File",
        ),
        "approved": (
            {"type": "Boolean", "value": True},
            "Isian ini tidak ada di formulir / This field is not part of the form",
        ),
    }
    cases["letter_date_typed"] = ({"type": "Date", "value": "bukan tanggal"}, "Harus tanggal")
    cases["png"] = (_file(b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "surat.png"), "(image/png)")
    for case, (bad, message) in cases.items():
        name = {"letter_date_typed": "letter_date", "png": "letter_file"}.get(case, case)
        r = _post(server, applicant, f"{base}/submit-form", {**good, name: bad})
        assert r.status_code == 400, (case, r.text)
        assert f"{name}: " in r.json()["message"] and message in r.json()["message"], r.json()
    eng = app.extensions["sopflow"]
    with eng.sessions() as s:
        assert s.scalars(select(Attachment)).all() == []  # refused: no file stored

    # an integration's variables are taken as given; its file is still stored as an upload
    given = {"letter_file": _file(PDF), "subdomain": {"value": "uji-integrasi"}}
    r = _post(server, integration, f"{base}/start", given)
    assert r.status_code == 200, r.text
    variables = requests_get(server, integration, f"/process-instance/{r.json()['id']}/variables")
    assert variables["letter_file"]["value"].startswith("att:")

    r = _post(server, applicant, f"{base}/start", good)
    assert r.status_code == 200, r.text
    with eng.sessions() as s:
        assert len(s.scalars(select(Attachment)).all()) == 2


def requests_get(server: str, user: str, path: str) -> Any:
    r = requests.get(f"{server}{path}", auth=(user, PASSWORD), timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def test_submit_form_refusals_name_the_field(
    app: Any, server: str, make_user: Any, workers: WorkerPool
) -> None:
    applicant, people = staff(app, make_user, "kudus")
    deploy(app, "kudus", "kudus")
    walk = Walk(server, people["admin"], people, applicant)
    base = "/process-definition/key/kudus/tenant-id/kudus"
    form = walk.get(applicant, f"{base}/form-variables")
    iid = start(
        server, applicant, "kudus", "kudus", answer(form, {"subdomain": "uji-tugas", **CONTACT})
    )
    deadline = time.monotonic() + 30
    while True:
        tasks = walk.get(people["admin"], "/task", processInstanceId=iid)
        if tasks and tasks[0]["taskDefinitionKey"] == "sign_and_dispose":
            break
        if tasks:
            walk.submit(tasks[0])
        assert time.monotonic() < deadline, tasks
        time.sleep(0.1)
    task = tasks[0]
    form = walk.get(people["head_of_division"], f"/task/{task['id']}/form-variables")
    assert form["form_signed"]["type"] == "Boolean" and form["form_signed"]["valueInfo"]["required"]
    user = people["head_of_division"]
    for bad, name, message in (
        ({}, "form_signed", REQUIRED),
        ({"form_signed": {"type": "String", "value": "mungkin"}}, "form_signed", "Harus ya atau"),
        ({"form_signed": {"type": "Long", "value": 7}}, "form_signed", "Must be yes or no"),
        (
            {"form_signed": {"value": True}, "approved": {"value": True}},
            "approved",
            "tidak ada di formulir / This field is not part of the form",
        ),
    ):
        r = _post(server, user, f"/task/{task['id']}/submit-form", bad)
        assert r.status_code == 400, (bad, r.text)
        body = r.json()
        assert body["type"] == "FormFieldValidatorException", body
        assert f"{name}: " in body["message"] and message in body["message"], body
    r = _post(server, user, f"/task/{task['id']}/submit-form", {"form_signed": {"value": True}})
    assert r.status_code == 204, r.text
