"""Who may do what (engine/access.py), through the engine's public API on both databases.

The request is ``sla.bpmn``: a start form, a name reservation job (``subdomain.reserve``), the
rename step returned to the applicant's side (``${initiator}``, group ``applicant``) when the
name is taken, then the technical officer's step. Kudus has three work units here: Dinas
Pendidikan (ani, citra), Dinas Kesehatan (bayu), and an applicant with no unit (dedi).
"""

from __future__ import annotations

import pytest
from support import CORPUS

from engine import units
from engine.access import Permission, allowed, permissions
from engine.actors import Actor
from engine.errors import FormValidationError, NotFound, PermissionDenied
from engine.runtime import TopicRequest

SYSTEM = Actor.system_actor("kudus")
RESERVE = TopicRequest("subdomain.reserve", 60_000)


@pytest.fixture
def unit_ids(engine) -> dict[str, int]:
    units.import_units(engine, SYSTEM, [("disdik", "Dinas Pendidikan"), ("dinkes", "Dinkes")])
    return {u.code: u.id for u in units.list_units(engine, SYSTEM)}


@pytest.fixture
def people(unit_ids) -> dict[str, Actor]:
    def applicant(name: str, unit: str | None) -> Actor:
        return Actor(name, "kudus", frozenset({"applicant"}), unit_id=unit_ids.get(unit or ""))

    return {
        "ani": applicant("ani", "disdik"),
        "citra": applicant("citra", "disdik"),
        "bayu": applicant("bayu", "dinkes"),
        "dedi": applicant("dedi", None),
        "budi": Actor("budi", "kudus", frozenset({"technical_officer"})),
        "kadis": Actor("kadis", "kudus", frozenset({"head_of_office"})),
        "ana": Actor("ana", "kudus", frozenset({"analyst"})),
        "robot": Actor("robot", "kudus", frozenset({"worker"})),
        "portal": Actor("portal", "kudus", frozenset({"integration"})),
    }


@pytest.fixture
def office(make_engine, admin):
    """An engine whose built-in handlers work ``subdomain.reserve``, the diagram deployed."""
    engine = make_engine(builtin_topics=["subdomain.reserve"])
    engine.deploy(admin, [("s.bpmn", (CORPUS / "sla.bpmn").read_bytes())])
    return engine


@pytest.fixture
def filed(office, people):
    """Ani's request, its name taken, so the rename step waits for the Dinas Pendidikan."""
    inst = office.start(people["ani"], "sla_demo", values={"subdomain": "ppdb"})
    [job] = office.fetch_and_lock("handler", [RESERVE])
    office.bpmn_error_external("handler", job.id, "NAME_TAKEN", "dipakai")
    return office, inst


def test_a_request_belongs_to_the_unit_of_its_applicant(filed, people, unit_ids):
    engine, inst = filed
    assert inst.work_unit_id == unit_ids["disdik"]
    for who in ("ani", "citra"):
        assert [i.id for i in engine.instances(people[who])] == [inst.id]
        assert [i.id for i in engine.instances(people[who], mine=True)] == [inst.id]
        assert engine.get_instance(people[who], inst.id).business_key == inst.business_key
        assert engine.history(people[who], inst.id)
    for who in ("bayu", "dedi", "ana", "kadis"):
        assert engine.instances(people[who]) == []
        with pytest.raises(NotFound):
            engine.get_instance(people[who], inst.id)
        with pytest.raises(NotFound):
            engine.history(people[who], inst.id)
        with pytest.raises(NotFound):
            engine.instance_by_business_key(people[who], inst.business_key)


def test_the_unit_answers_a_returned_step_together_and_no_other_unit_sees_it(filed, people):
    engine, inst = filed
    [rename] = engine.inbox(people["ani"])
    assert (rename.element_id, rename.assignee) == ("rename", "ani")
    assert [t.id for t in engine.inbox(people["citra"])] == [rename.id]
    for who in ("bayu", "dedi", "budi"):
        assert engine.inbox(people[who]) == []
        with pytest.raises(NotFound):
            engine.get_task(people[who], rename.id)
        with pytest.raises(NotFound):
            engine.complete_task(people[who], rename.id, {"subdomain": "ppdb-kudus"})
    # "Lepas" would put it in a pool every applicant of the agency sees: refused
    with pytest.raises(PermissionDenied):
        engine.unclaim(people["ani"], rename.id)
    assert engine.get_task(people["ani"], rename.id).assignee == "ani"
    # a colleague of the same unit answers it although ani holds it
    engine.complete_task(people["citra"], rename.id, {"subdomain": "ppdb-kudus"})
    assert engine.get_task(people["ani"], rename.id).completed_by == "citra"


def test_officers_see_the_requests_their_groups_work(office, people):
    engine = office
    inst = engine.start(people["ani"], "sla_demo", values={"subdomain": "ppdb"})
    with pytest.raises(NotFound):  # no step of theirs yet
        engine.get_instance(people["budi"], inst.id)
    [job] = engine.fetch_and_lock("handler", [RESERVE])
    engine.complete_external("handler", job.id, {})
    [build] = engine.inbox(people["budi"])
    assert engine.get_instance(people["budi"], inst.id).id == inst.id
    assert engine.inbox(people["kadis"]) == []
    with pytest.raises(NotFound):
        engine.get_instance(people["kadis"], inst.id)
    # while the office works, the applicant's side may not rewrite the request
    with pytest.raises(PermissionDenied):
        engine.set_variables(people["ani"], inst.id, {"subdomain": "lain"})
    with pytest.raises(NotFound):
        engine.set_variables(people["bayu"], inst.id, {"subdomain": "lain"})
    engine.set_variables(people["budi"], inst.id, {"note": "dicek"})
    engine.complete_task(people["budi"], build.id, {})
    # who worked a step keeps reading the request afterwards
    assert engine.get_instance(people["budi"], inst.id).id == inst.id


def test_analysts_read_diagrams_not_requests(filed, people):
    engine, inst = filed
    ana = people["ana"]
    assert [d.key for d in engine.definitions(ana)] == ["sla_demo"]
    assert engine.instances(ana) == [] and engine.inbox(ana) == []
    with pytest.raises(NotFound):
        engine.get_instance(ana, inst.id)
    with pytest.raises(PermissionDenied):
        engine.start(ana, "sla_demo", values={"subdomain": "x"})
    with pytest.raises(PermissionDenied):
        engine.incidents(ana)


def test_workers_work_only_the_jobs_no_built_in_handler_works(filed, people):
    engine, inst = filed
    robot = people["robot"]
    with pytest.raises(PermissionDenied):
        engine.fetch_and_lock("robot", [RESERVE], actor=robot)
    with pytest.raises(PermissionDenied):
        engine.definitions(robot)
    assert engine.instances(robot) == []
    for who in ("ani", "budi", "ana", "portal"):  # people and integrations work no jobs
        with pytest.raises(PermissionDenied):
            engine.fetch_and_lock(who, [TopicRequest("erp.sync")], actor=people[who])
    assert engine.fetch_and_lock("robot", [TopicRequest("erp.sync")], actor=robot) == []
    # the built-in handler's job may not be completed, failed or unlocked by the worker
    engine.start(people["ani"], "sla_demo", values={"subdomain": "lagi"})
    [job] = engine.fetch_and_lock("handler", [RESERVE])
    with pytest.raises(PermissionDenied):
        engine.complete_external("handler", job.id, {"reserved": True}, actor=robot)
    with pytest.raises(PermissionDenied):
        engine.fail_external("handler", job.id, "x", actor=robot)
    with pytest.raises(PermissionDenied):
        engine.unlock(job.id, actor=robot)
    assert [j.topic for j in engine.external_tasks(robot)] == []


def test_integrations_start_with_variables_as_given_and_read_what_they_started(
    make_engine, admin, people
):
    engine = make_engine()
    engine.deploy(admin, [("s.bpmn", (CORPUS / "sla.bpmn").read_bytes())])
    portal = people["portal"]
    mine = engine.start(portal, "sla_demo", variables={"subdomain": "a", "source": "portal"})
    assert mine.variables["source"] == "portal"
    theirs = engine.start(people["ani"], "sla_demo", values={"subdomain": "b"})
    assert [i.id for i in engine.instances(portal)] == [mine.id]
    with pytest.raises(NotFound):
        engine.get_instance(portal, theirs.id)
    assert engine.inbox(portal) == []


def test_a_person_starting_over_rest_answers_the_start_form(make_engine, admin, people):
    """REST ``variables`` of a person are form values: no decision can be filed with them."""
    engine = make_engine()
    engine.deploy(admin, [("s.bpmn", (CORPUS / "sla.bpmn").read_bytes())])
    with pytest.raises(FormValidationError) as e:
        engine.start(people["ani"], "sla_demo", variables={"subdomain": "x", "approved": True})
    assert [f.field for f in e.value.errors] == ["approved"]
    with pytest.raises(FormValidationError):  # required fields are required over REST too
        engine.start(people["ani"], "sla_demo", variables={"needed_by": "2026-12-01"})
    inst = engine.start(people["ani"], "sla_demo", variables={"subdomain": "x"})
    assert inst.variables["subdomain"] == "x"


def test_the_permissions_of_each_role():
    def of(*groups: str) -> frozenset[Permission]:
        return permissions(Actor("x", "kudus", frozenset(groups)))

    assert of("worker") == {Permission.WORK_JOBS, Permission.READ_JOBS}
    assert Permission.START in of("applicant") and Permission.WORK_JOBS not in of("applicant")
    assert Permission.READ_REQUESTS not in of("analyst") and Permission.DESIGN in of("analyst")
    assert Permission.WORK_TASKS not in of("integration")
    # an agency's own officer role (not in the catalogue) is an officer group
    assert Permission.WORK_TASKS in of("kepala_seksi_persandian")
    assert Permission.DEPLOY not in of("head_of_office", "applicant", "analyst")
    assert of("admin") == frozenset(Permission)
    assert allowed(Actor.system_actor("kudus"), Permission.ADMINISTER)
    assert of() == frozenset()
