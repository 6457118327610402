"""One Kudus office with work units, every role and requests at every kind of step, for the
permission matrix (tests/rest/test_permission_matrix.py) and the schemathesis run
(tests/rest/test_schemathesis.py). Importable by name (a conftest is not).

Unit A has the applicants ``a1`` (who files) and ``a2``; unit B has ``b1``. ``a1`` files

- ``r1``: waiting on the Kepala Dinas (``head_of_office``), with a letter and a sensitive
  credentials letter attached;
- ``r2``: returned to unit A (``choose_other_name``: the name is taken), claimed by ``a1``;
- ``r3``: just filed, its built-in job ``letter.generate`` in the queue.

The integration starts ``rest_ext`` twice (an external job on ``rest.work`` in the queue, and
one failed into an incident) and the administrator starts ``rest_user`` (a task of the
``technical_officer`` group). The worker has an API token; Tapin's administrator is the other
agency."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from rest_support import DATA, PASSWORD, SMOKE
from sqlalchemy import select

from engine import units
from engine.actors import Actor
from engine.models import HumanTask, User
from engine.runtime import Engine, TopicRequest

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
KUDUS_XML = (BPMN / "kudus.bpmn").read_bytes()
WORKER_ID = "matrix-worker"
SERVICE_TOPICS = (
    "letter.generate",
    "mail.send",
    "subdomain.check",
    "subdomain.reserve",
    "hosting.create",
    "dns.create",
)

# values only a1's requests carry: no answer to anyone else may contain them
SECRET_SUBDOMAIN = "rahasiaunitsatu"
SECRET_EMAIL = "a1.rahasia@opdsatu.kuduskab.go.id"
SECRET_PHONE = "0291-777123"
SECRET_OPD = "Dinas Rahasia Unit Satu"


def a1_request(subdomain: str = SECRET_SUBDOMAIN) -> dict[str, Any]:
    return {
        "opd_name": SECRET_OPD,
        "letter_number": "421/9999/23.01/2026",
        "letter_date": "2026-11-20",
        "letter_file": "sha256:a1-surat",
        "form_file": "sha256:a1-formulir",
        "subdomain": subdomain,
        "purpose": "Website rahasia unit satu",
        "applicant_email": SECRET_EMAIL,
        "applicant_phone": SECRET_PHONE,
    }


B1_REQUEST = {
    **a1_request("unitdua"),
    "opd_name": "Dinas Unit Dua",
    "applicant_email": "b1@opddua.kuduskab.go.id",
    "applicant_phone": "0291-000222",
}
NAME_TAKEN = {
    "subdomain.check": {
        "name_available": False,
        "name_reason": "sudah dipakai",
        "name_suggestions": "lain",
    }
}
NAME_FREE = {"subdomain.check": {"name_available": True, "name_reason": "", "name_suggestions": ""}}

# role -> (username, agency, groups, unit code)
ROLES: dict[str, tuple[str, str, tuple[str, ...], str | None]] = {
    "a1": ("m_a1", "kudus", ("applicant",), "opd-a"),
    "a2": ("m_a2", "kudus", ("applicant",), "opd-a"),
    "b1": ("m_b1", "kudus", ("applicant",), "opd-b"),
    "head_of_office": ("m_kadis", "kudus", ("head_of_office",), None),
    "head_of_division": ("m_kabid", "kudus", ("head_of_division",), None),
    "head_of_section": ("m_kasi", "kudus", ("head_of_section",), None),
    "technical_officer": ("m_tech", "kudus", ("technical_officer",), None),
    "worker": ("m_worker", "kudus", ("worker",), None),
    "integration": ("m_integ", "kudus", ("integration",), None),
    "analyst": ("m_analyst", "kudus", ("analyst",), None),
    "admin": ("m_admin", "kudus", ("admin",), None),
    "tapin_admin": ("m_tapin", "tapin", ("admin",), None),
}
ANONYMOUS = "anonymous"
ALL_ROLES = (*ROLES, ANONYMOUS)
APPLICANTS = frozenset({"a1", "a2", "b1"})
OFFICERS = frozenset({"head_of_office", "head_of_division", "head_of_section", "technical_officer"})


@dataclass
class World:
    app: Flask
    engine: Engine
    actors: dict[str, Actor]
    token: str  # the worker's API token
    r1: str
    r2: str
    r3: str
    bk: dict[str, str]  # instance id -> business key
    r1_task: str  # head_of_office's task of r1
    r2_task: str  # the task returned to unit A
    tech_task: str  # technical_officer's task of rest_user
    tech_instance: str
    ext_job: str  # available job on rest.work
    ext_instance: str
    builtin_job: str  # available job on letter.generate (r3)
    incident: str
    incident_job: str
    letter: str  # an attachment of r1
    secret_letter: str  # a sensitive attachment of r1
    definition: str  # kudus definition id
    deployment: str
    user_definition: str  # rest_user definition id (a start form with defaults)
    msg_instance: str  # rest_msg, started by the administrator, waiting for 'rest_go'
    user_ids: dict[str, int] = field(default_factory=dict)
    draft: str = ""
    b1_request: str = ""

    @property
    def a1_ids(self) -> set[str]:
        return {self.r1, self.r2, self.r3}

    def a1_markers(self) -> list[str]:
        """Strings no answer to a caller who may not read a1's requests may contain."""
        return [
            *self.a1_ids,
            *(self.bk[i] for i in self.a1_ids),
            SECRET_SUBDOMAIN,
            SECRET_EMAIL,
            SECRET_PHONE,
            SECRET_OPD,
            self.r1_task,
            self.r2_task,
        ]

    def username(self, role: str) -> str:
        return ROLES[role][0]

    def auth(self, role: str) -> dict[str, str]:
        """The Authorization header of ``role`` (the worker by its token)."""
        if role == ANONYMOUS:
            return {}
        if role == "worker":
            return {"Authorization": f"Bearer {self.token}"}
        raw = f"{self.username(role)}:{PASSWORD}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def _work(
    engine: Engine, business_key: str, outputs: Mapping[str, Mapping[str, Any]] | None = None
) -> list[str]:
    done: list[str] = []
    for _ in range(20):
        jobs = engine.fetch_and_lock(
            WORKER_ID,
            [TopicRequest(t, 60_000) for t in SERVICE_TOPICS],
            max_tasks=10,
            agency="kudus",
            business_key=business_key,
        )
        if not jobs:
            return done
        for job in jobs:
            engine.complete_external(WORKER_ID, job.id, dict((outputs or {}).get(job.topic, {})))
            done.append(job.element_id)
    raise AssertionError("the job queue never emptied")


def _task_of(engine: Engine, instance_id: str) -> HumanTask:
    admin = Actor("m_admin", "kudus", frozenset({"admin"}))
    (task,) = engine.inbox(admin, instance_id=instance_id)
    return task


def build(app: Flask, make_user: Callable[..., str]) -> World:
    from handlers.attachments import AttachmentStore
    from web.rest.tokens import create_token

    engine: Engine = app.extensions["sopflow"]
    admin = Actor("m_admin", "kudus", frozenset({"admin"}))
    deployment = engine.deploy(admin, [("kudus.bpmn", KUDUS_XML)])
    engine.deploy(admin, [("rest_smoke.bpmn", SMOKE)])
    tapin = Actor("m_tapin", "tapin", frozenset({"admin"}))
    engine.deploy(tapin, [("rest_smoke.bpmn", (DATA / "rest_smoke.bpmn").read_bytes())])
    units.import_units(engine, admin, [("opd-a", "OPD Satu"), ("opd-b", "OPD Dua")])
    for username, agency, groups, unit in ROLES.values():
        make_user(username, agency, *groups)
        if unit:
            units.set_user_unit(engine, admin, username, unit)
    actors: dict[str, Actor] = {}
    user_ids: dict[str, int] = {}
    with engine.sessions() as s:
        for role, (username, agency, groups, _) in ROLES.items():
            user = s.scalar(select(User).where(User.username == username))
            assert user is not None
            user_ids[role] = user.id
            actors[role] = Actor(username, agency, frozenset(groups), unit_id=user.work_unit_id)
    token = create_token(engine, admin, "m_worker", "matrix")

    a1 = actors["a1"]
    # r2 first: walked to the task returned to unit A
    r2 = engine.start(a1, "kudus", values=a1_request("rahasiadua")).id
    bk_r2 = engine.get_instance(admin, r2).business_key
    _work(engine, bk_r2, NAME_TAKEN)
    for role, values in (
        ("head_of_office", {"disposition_note": "proses"}),
        ("head_of_division", {"form_signed": True}),
    ):
        engine.complete_task(actors[role], _task_of(engine, r2).id, values)
        _work(engine, bk_r2, NAME_TAKEN)
    engine.complete_task(
        actors["head_of_section"], _task_of(engine, r2).id, {"section_note": "sudah dipakai"}
    )
    _work(engine, bk_r2, NAME_TAKEN)
    r2_task = _task_of(engine, r2)
    assert r2_task.element_id == "choose_other_name", r2_task.element_id
    assert r2_task.assignee == "m_a1"

    r1 = engine.start(a1, "kudus", values=a1_request()).id
    bk_r1 = engine.get_instance(admin, r1).business_key
    _work(engine, bk_r1, NAME_FREE)
    r1_task = _task_of(engine, r1)
    assert r1_task.element_id == "dispose_to_division"

    b1_request = engine.start(actors["b1"], "kudus", values=B1_REQUEST).id
    _work(engine, engine.get_instance(admin, b1_request).business_key, NAME_FREE)

    r3 = engine.start(a1, "kudus", values=a1_request("rahasiatiga")).id
    (builtin,) = engine.external_tasks(admin, instance_id=r3)
    assert builtin.topic == "letter.generate"

    integ = actors["integration"]
    failing = engine.start(integ, "rest_ext").id
    (job,) = engine.fetch_and_lock(WORKER_ID, [TopicRequest("rest.work", 60_000)], agency="kudus")
    assert job.instance_id == failing
    engine.fail_external(WORKER_ID, job.id, "kaput", retries=0, agency="kudus")
    (incident,) = engine.incidents(admin)
    ext_instance = engine.start(integ, "rest_ext").id
    (ext,) = engine.external_tasks(admin, instance_id=ext_instance)

    tech_instance = engine.start(admin, "rest_user").id
    msg_instance = engine.start(admin, "rest_msg").id
    tech_task = _task_of(engine, tech_instance).id

    from web.designer import drafts

    definition = engine.current_definition(admin, "kudus")
    store = AttachmentStore.from_settings(app.config["SOPFLOW"])
    with engine.sessions.begin() as s:
        agency_id = engine.agency(s, "kudus").id
        letter = store.add(
            s,
            agency_id=agency_id,
            filename="surat-a1.pdf",
            data=b"%PDF-1.4\nsurat a1\n%%EOF\n",
            now=engine.now(),
            instance_id=r1,
            created_by="m_a1",
        ).id
        secret = store.add(
            s,
            agency_id=agency_id,
            filename="kredensial-a1.pdf",
            data=b"%PDF-1.4\nsandi a1\n%%EOF\n",
            now=engine.now(),
            instance_id=r1,
            kind="letter",
            sensitive=True,
        ).id
        with_xml = drafts.definition_with_xml(s, agency_id, definition.id)
        assert with_xml is not None
        draft = drafts.open_from_definition(s, with_xml, "m_admin", engine.now()).id

    bk = {i: engine.get_instance(admin, i).business_key for i in (r1, r2, r3)}
    return World(
        app=app,
        engine=engine,
        actors=actors,
        token=token,
        r1=r1,
        r2=r2,
        r3=r3,
        bk=bk,
        r1_task=r1_task.id,
        r2_task=r2_task.id,
        tech_task=tech_task,
        tech_instance=tech_instance,
        ext_job=ext.id,
        ext_instance=ext_instance,
        builtin_job=builtin.id,
        incident=incident.id,
        incident_job=job.id,
        letter=letter,
        secret_letter=secret,
        definition=definition.id,
        deployment=deployment.deployment.id,
        user_definition=engine.current_definition(admin, "rest_user").id,
        msg_instance=msg_instance,
        user_ids=user_ids,
        draft=draft,
        b1_request=b1_request,
    )


def csrf(client: FlaskClient) -> str:
    with client.session_transaction() as sess:
        token = sess.get("csrf")
        if not token:
            token = sess["csrf"] = "t" * 43
    return token


def ui_client(world: World, role: str) -> FlaskClient:
    """A test client logged in to the UI as ``role`` (anonymous: not logged in)."""
    client = world.app.test_client()
    if role != ANONYMOUS:
        r = client.post(
            "/masuk",
            data={
                "username": world.username(role),
                "password": PASSWORD,
                "csrf_token": csrf(client),
            },
        )
        assert r.status_code == 302, (role, r.status_code)
    return client
