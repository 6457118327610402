"""The UI permission matrix: every page and form of the browser UI x every role of the same
Kudus office as the REST matrix (tests/rest/matrix_world.py) -> the status the product must
answer, logged in through ``/masuk`` with Flask's test client.

Per route: the roles that get ``ok`` (``allowed``), the status of the others (``denied``: 403
for a page of another role, 404 for a row one may not see), anonymous visitors sent to the
login page (302) unless the route is public. A route of ``app.url_map`` outside the REST
prefixes without a case fails :func:`test_every_ui_route_has_a_case`. Pages that list
requests are read for leaks: no outsider sees a1's requests there. Forms that change state get
a world each, denied roles first."""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from matrix_world import (
    ALL_ROLES,
    ANONYMOUS,
    APPLICANTS,
    OFFICERS,
    World,
    a1_request,
    csrf,
    ui_client,
)
from rest_support import SMOKE
from test_permission_matrix import OUTSIDERS, R1_READERS, TAPIN, fill

from web.rest import PREFIXES

EVERYONE = frozenset(ALL_ROLES) - {ANONYMOUS}
KUDUS = EVERYONE - {TAPIN}
ADMIN = frozenset({"admin"})
ADMINS = frozenset({"admin", TAPIN})
DESIGNERS = frozenset({"analyst", "admin"})
# who reads the catalogue and forms (READ_DEFINITIONS): not a worker
READERS = EVERYONE - {"worker"}
OFFICE = OFFICERS | ADMINS  # the reports: officers and administrators


@dataclass(frozen=True)
class UiCase:
    endpoint: str
    method: str
    path: str
    allowed: frozenset[str] | tuple[str, ...]
    ok: int = 200
    denied: int = 404
    anonymous: int | None = 302  # None: public, anonymous is one of the roles it lists
    data: Mapping[str, Any] | None = None
    write: bool = False
    lists_a1: bool = False
    label: str = ""
    statuses: Mapping[str, int] = field(default_factory=dict)
    json: Any = None  # a JSON body (the modeler's calls), CSRF in the header

    @property
    def id(self) -> str:
        return f"{self.endpoint}-{self.method}" + (f"-{self.label}" if self.label else "")

    def expected(self, role: str) -> int | None:
        if role in self.statuses:
            return self.statuses[role]
        if role == ANONYMOUS and self.anonymous is not None:
            return self.anonymous
        if role in self.allowed:
            return None
        return self.denied


def ui_reads() -> list[UiCase]:
    public = frozenset(ALL_ROLES)
    return [
        UiCase("health.index", "GET", "/", public, ok=302, anonymous=None),
        UiCase("health.health", "GET", "/health", public, anonymous=None),
        UiCase("static", "GET", "/static/css/app.css", public, anonymous=None),
        UiCase(
            "camunda_webapps",
            "GET",
            "/.well-known/camunda-automation-platform/webapps",
            public,
            anonymous=None,
        ),
        UiCase("auth.login", "GET", "/masuk", frozenset({ANONYMOUS}), denied=302, anonymous=None),
        UiCase("ui.home", "GET", "/beranda", EVERYONE, ok=302),
        UiCase("auth.change_password", "GET", "/akun/sandi", EVERYONE),
        UiCase("auth.sessions_page", "GET", "/akun/sesi", EVERYONE),
        UiCase("requests.catalogue", "GET", "/layanan", READERS, denied=403),
        UiCase(
            "requests.start",
            "GET",
            "/layanan/kudus/ajukan",
            READERS - {TAPIN},
            statuses={"worker": 403, "analyst": 403},  # no form for who may not file
        ),
        UiCase("requests.mine", "GET", "/permohonan", EVERYONE, lists_a1=True),
        UiCase("requests.detail", "GET", "/permohonan/{r1}", R1_READERS),
        UiCase("requests.diagram_xml", "GET", "/permohonan/{r1}/diagram.xml", R1_READERS),
        UiCase("requests.diagram_state", "GET", "/permohonan/{r1}/diagram.json", R1_READERS),
        # only the filer answers the survey, once the request completed
        UiCase(
            "survey.answer",
            "GET",
            "/permohonan/{r1}/survei",
            ("a1",),  # a page saying it opens once the request completes
            statuses={"head_of_office": 403, "admin": 403},
        ),
        UiCase("survey.mailed_link", "GET", "/survey/{r1}", EVERYONE, ok=302),
        UiCase("survey.credentials", "GET", "/kredensial/" + "x" * 40, EVERYONE, ok=404),
        UiCase("survey.credentials_mailed", "GET", "/credentials/" + "x" * 40, EVERYONE, ok=404),
        UiCase("files.download", "GET", "/lampiran/{letter}", R1_READERS),
        # the credentials letter: the officers who may read the request, never its unit
        UiCase(
            "files.download",
            "GET",
            "/lampiran/{secret_letter}",
            frozenset({"head_of_office", "admin"}),
            label="sensitive",
        ),
        UiCase("inbox.index", "GET", "/tugas", EVERYONE, lists_a1=True),
        UiCase("inbox.task", "GET", "/tugas/{r1_task}", frozenset({"head_of_office", "admin"})),
        UiCase(
            "inbox.task",
            "GET",
            "/tugas/{r2_task}",
            frozenset({"a1", "a2", "admin"}),
            label="returned",
        ),
        UiCase("reports.index", "GET", "/laporan/", OFFICE, denied=403, lists_a1=True),
        UiCase("reports.csv_export", "GET", "/laporan/csv", OFFICE, denied=403, lists_a1=True),
        *(
            UiCase(endpoint, "GET", path, ADMINS, denied=403)
            for endpoint, path in (
                ("admin.index", "/admin/"),
                ("admin.dns", "/admin/dns"),
                ("admin.calendar", "/admin/hari-libur"),
                ("admin.incidents", "/admin/insiden"),
                ("admin.users", "/admin/pengguna"),
                ("admin.units_page", "/admin/unit"),
                ("admin.topic_queues", "/admin/antrean"),
                ("admin.version_keys", "/admin/versi/"),
            )
        ),
        *(
            UiCase(endpoint, "GET", path, ADMIN, denied=403, statuses={TAPIN: 404})
            for endpoint, path in (
                ("admin.edit_user", "/admin/pengguna/{a1_id}"),
                ("admin.version_instances", "/admin/versi/{definition}/instances"),
                ("admin.versions", "/admin/versi/kudus"),
                ("admin.compare", "/admin/versi/kudus/perbandingan"),
            )
        ),
        UiCase("designer.index", "GET", "/desain/", DESIGNERS | {TAPIN}, denied=403),
        *(
            UiCase(endpoint, "GET", path, DESIGNERS, denied=403, statuses={TAPIN: 404})
            for endpoint, path in (
                ("designer.draft", "/desain/draf/{draft}"),
                ("designer.download", "/desain/draf/{draft}/unduh"),
                ("designer.draft_xml", "/desain/draf/{draft}/xml"),
            )
        ),
    ]


UI_READS = ui_reads()
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
BPMN_FILE = (SMOKE.replace(b'id="rest_user"', b'id="matrix_user"'), "matrix.bpmn")
FILING = {
    **{k: v for k, v in a1_request("permohonanbaru").items() if not k.endswith("_file")},
    "letter_file": (PDF, "surat.pdf"),
    "form_file": (PDF, "formulir.pdf"),
}
STARTERS = EVERYONE - {"worker", "analyst"}


def ui_writes() -> list[UiCase]:
    kudus_admin = {TAPIN: 404}
    return [
        UiCase(
            "auth.login",
            "POST",
            "/masuk",
            frozenset(ALL_ROLES),
            ok=401,  # the login page, refusing an unknown user
            anonymous=None,
            data={"username": "nobody", "password": "salah"},
            write=True,
        ),
        UiCase("auth.logout", "POST", "/keluar", EVERYONE, ok=302, write=True),
        UiCase(
            "auth.set_language",
            "POST",
            "/bahasa",
            frozenset(ALL_ROLES),
            ok=302,
            anonymous=None,
            data={"lang": "en"},
            write=True,
        ),
        UiCase(
            "auth.change_password",
            "POST",
            "/akun/sandi",
            EVERYONE,
            ok=422,  # the form again: the current password is wrong
            data={"current": "salah", "new": "x", "repeat": "x"},
            write=True,
        ),
        UiCase(
            "auth.end_session",
            "POST",
            "/akun/sesi/" + "0" * 32 + "/akhiri",
            EVERYONE,
            ok=404,
            write=True,
        ),
        UiCase(
            "auth.end_other_sessions",
            "POST",
            "/akun/sesi/akhiri-lainnya",
            EVERYONE,
            ok=302,
            write=True,
        ),
        UiCase(
            "requests.start",
            "POST",
            "/layanan/kudus/ajukan",
            STARTERS - {TAPIN},
            ok=302,
            data=FILING,
            write=True,
            statuses={"worker": 403, "analyst": 403},
        ),
        # the filer, but not before the request completes; officers hear it is not theirs
        UiCase(
            "survey.answer",
            "POST",
            "/permohonan/{r1}/survei",
            ("a1",),
            ok=409,
            write=True,
            statuses={"head_of_office": 403, "admin": 403},
        ),
        UiCase(
            "survey.credentials_reveal",
            "POST",
            "/kredensial/" + "x" * 40,
            EVERYONE,
            ok=404,
            write=True,
        ),
        UiCase(
            "survey.credentials_reveal_mailed",
            "POST",
            "/credentials/" + "x" * 40,
            EVERYONE,
            ok=404,  # an unknown link
            write=True,
        ),
        # the officer's task of r1 and the task returned to unit A (held by a1)
        UiCase(
            "inbox.task",
            "POST",
            "/tugas/{r1_task}",
            ("head_of_office", "admin"),
            ok=302,
            data={"disposition_note": "proses"},
            write=True,
        ),
        UiCase(
            "inbox.task",
            "POST",
            "/tugas/{r2_task}",
            ("a2", "a1", "admin"),
            ok=302,
            data={"subdomain": "namalain"},
            write=True,
            label="returned",
        ),
        UiCase(
            "inbox.claim",
            "POST",
            "/tugas/{r1_task}/ambil",
            ("head_of_office", "admin"),
            ok=302,
            write=True,
        ),
        UiCase(
            "inbox.claim",
            "POST",
            "/tugas/{r2_task}/ambil",
            ("a1", "admin"),
            ok=302,
            write=True,
            label="returned",
            statuses={"a2": 302},
        ),
        UiCase(
            "inbox.unclaim",
            "POST",
            "/tugas/{r1_task}/lepas",
            ("head_of_office", "admin"),
            ok=302,
            write=True,
        ),
        # "Lepas" never releases a task returned to a unit into a pool other units see
        UiCase(
            "inbox.unclaim",
            "POST",
            "/tugas/{r2_task}/lepas",
            ("admin",),
            ok=302,
            write=True,
            label="returned",
            statuses={"a1": 403, "a2": 403},
        ),
        UiCase(
            "admin.set_override",
            "POST",
            "/admin/hari-libur",
            ADMINS,
            ok=302,
            denied=403,
            data={"day": "2026-12-24", "state": "holiday", "note": "matrix"},
            write=True,
        ),
        UiCase(
            "admin.retry",
            "POST",
            "/admin/insiden/{incident}/ulang",
            ADMIN,
            ok=302,
            denied=403,
            write=True,
            statuses=kudus_admin,
        ),
        UiCase(
            "admin.create_user",
            "POST",
            "/admin/pengguna",
            ADMINS,
            ok=302,
            denied=403,
            data={"username": "baru", "password": "kata-sandi-baru-123", "groups": ["applicant"]},
            write=True,
        ),
        UiCase(
            "admin.save_user",
            "POST",
            "/admin/pengguna/{a1_id}",
            ADMIN,
            ok=302,
            denied=403,
            data={"display_name": "A1", "groups": ["applicant"], "unit": "opd-a"},
            write=True,
            statuses=kudus_admin,
        ),
        UiCase(
            "admin.reset_password",
            "POST",
            "/admin/pengguna/{a1_id}/sandi",
            ADMIN,
            denied=403,
            write=True,
            statuses=kudus_admin,
        ),
        UiCase(
            "admin.set_active",
            "POST",
            "/admin/pengguna/{a1_id}/status",
            ADMIN,
            ok=302,
            denied=403,
            data={"active": "1"},
            write=True,
            statuses=kudus_admin,
        ),
        UiCase(
            "admin.add_unit",
            "POST",
            "/admin/unit",
            ADMINS,
            ok=302,
            denied=403,
            data={"code": "opd-c", "name": "OPD Tiga"},
            write=True,
        ),
        UiCase(
            "admin.import_units",
            "POST",
            "/admin/unit/impor",
            ADMINS,
            ok=302,
            denied=403,
            data={"file": (b"code,name\nopd-d,OPD Empat\n", "unit.csv")},
            write=True,
        ),
        UiCase(
            "admin.activate",
            "POST",
            "/admin/versi/{definition}/aktifkan",
            ADMIN,
            ok=302,
            denied=403,
            write=True,
            statuses=kudus_admin,
        ),
        UiCase(
            "designer.open_definition",
            "POST",
            "/desain/buka",
            DESIGNERS,
            ok=302,
            denied=403,
            data={"definition_id": "{definition}"},
            write=True,
            statuses=kudus_admin,
        ),
        UiCase(
            "designer.upload",
            "POST",
            "/desain/unggah",
            DESIGNERS | {TAPIN},
            ok=302,
            denied=403,
            data={"file": BPMN_FILE},
            write=True,
        ),
        *(
            UiCase(
                endpoint,
                method,
                "/desain/draf/{draft}" + suffix,
                DESIGNERS,
                ok=ok,
                denied=403,
                json=body,
                write=True,
                statuses=kudus_admin,
            )
            for endpoint, method, suffix, ok, body in (
                ("designer.validate", "POST", "/validasi", 200, {"xml": "<x/>"}),
                ("designer.save", "POST", "/xml", 422, {"xml": "<x/>", "revision": 1}),
                ("designer.save", "PUT", "/xml", 422, {"xml": "<x/>", "revision": 1}),
                ("designer.delete", "POST", "/hapus", 302, None),
            )
        ),
        UiCase(
            "designer.publish",
            "POST",
            "/desain/draf/{draft}/terbitkan",
            ADMIN,
            ok=302,
            denied=403,
            write=True,
            statuses=kudus_admin,
        ),
    ]


UI_WRITES = ui_writes()


def _send(client: Any, w: World, case: UiCase) -> Any:
    extra = {"a1_id": str(w.user_ids["a1"])}
    url = fill(case.path, w, **extra)
    if case.method == "GET":
        return client.get(url)
    if case.json is not None:
        headers = {"X-CSRFToken": csrf(client)}
        return client.open(url, method=case.method, json=case.json, headers=headers)
    data: dict[str, Any] = {"csrf_token": csrf(client)}
    for k, v in (case.data or {}).items():
        if isinstance(v, tuple):  # a file: (bytes, filename)
            data[k] = (io.BytesIO(v[0]), v[1])
        else:
            data[k] = (
                [fill(x, w, **extra) for x in v] if isinstance(v, list) else fill(v, w, **extra)
            )
    return client.open(url, method=case.method, data=data, content_type="multipart/form-data")


def _run(w: World, case: UiCase, clients: dict[str, Any], problems: list[str]) -> None:
    order = [r for r in ALL_ROLES if case.expected(r) is not None]
    order += [r for r in case.allowed if case.expected(r) is None]
    for i, role in enumerate(order):
        r = _send(clients[role], w, case)
        where = f"{case.method} {case.path} [{case.id}]"
        want = case.expected(role)
        if r.status_code >= 500:
            problems.append(f"{where}: {role} got {r.status_code}")
        elif want is not None and r.status_code != want:
            problems.append(f"{where}: {role} got {r.status_code}, expected {want}")
        elif want is None and r.status_code != case.ok:
            first = i == len(order) - len(case.allowed)
            if first or not case.write or r.status_code in (401, 403):
                problems.append(
                    f"{where}: {role} (allowed) got {r.status_code}, expected {case.ok}"
                )
        if case.lists_a1 and role in OUTSIDERS and r.status_code == 200:
            text = r.get_data(as_text=True)
            found = [m for m in w.a1_markers() if m in text]
            if found:
                problems.append(f"{where}: {role} read a1's request data {found[:3]}")


def _clients(w: World) -> dict[str, Any]:
    return {role: ui_client(w, role) for role in ALL_ROLES}


def test_every_ui_route_has_a_case(app: Any) -> None:
    covered = {(c.endpoint, c.method) for c in UI_READS + UI_WRITES}
    missing = sorted(
        f"{rule.endpoint} {method}"
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] not in PREFIXES
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        if (rule.endpoint, method) not in covered
    )
    assert not missing, f"UI routes without a permission-matrix case: {missing}"


def test_ui_reads(world: World) -> None:
    clients = _clients(world)
    problems: list[str] = []
    for case in UI_READS:
        _run(world, case, clients, problems)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("case", UI_WRITES, ids=lambda c: c.id)
def test_ui_writes(world: World, case: UiCase) -> None:
    problems: list[str] = []
    _run(world, case, _clients(world), problems)
    assert not problems, "\n".join(problems)


assert APPLICANTS  # the roles are the REST matrix's
