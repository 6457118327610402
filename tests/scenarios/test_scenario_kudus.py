"""Kabupaten Kudus, SOP Permohonan Hosting dan Sub Domain Website (555/963/18.03/2021):
``bpmn/kudus.bpmn``.

Kudus has no whole-process deadline but a time per step (Mutu Baku "Waktu"): step 2, 3 and 4
ten minutes each, step 5 sixty minutes, each a non-interrupting timer that e-mails the Kepala
Dinas. Paths: on time end to end (no escalation), the name already used (the Kepala Seksi
confirms the automatic check; the applicant picks another name; checked again), the Kepala
Seksi overruling the automatic check, and every step overrunning its minutes. Kudus is WIB;
requests are filed on Monday 23 November 2026 09:00 WIB (02:00 UTC).

The engine takes a boundary timer on a sub-process as the instance's deadline, and step 5 is
the only sub-process here: ``sla_due_at`` is set when step 5 begins and only step 5 overrunning
records ``sla_breached``; the overruns of steps 2-4 are recorded as ``timer_fired`` (and the
escalation e-mail) only.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from scenario_support import NAME_OK, RENAME_FORM

from engine.actors import Actor
from engine.errors import FormValidationError

AGENCY = "kudus"
FILED = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 09:00 WIB


def at(minutes: int) -> datetime:
    return FILED + timedelta(minutes=minutes)


APPLICANT = Actor("ani", AGENCY, frozenset({"applicant"}))
OTHER_APPLICANT = Actor("bayu", AGENCY, frozenset({"applicant"}))
KADIS = Actor("kadis", AGENCY, frozenset({"head_of_office"}))
KABID = Actor("kabid_informatika", AGENCY, frozenset({"head_of_division"}))
KASI = Actor("kasi_tip", AGENCY, frozenset({"head_of_section"}))
STAFF = Actor("helpdesk", AGENCY, frozenset({"technical_officer"}))

EMAIL = "ani@disdikpora.kuduskab.go.id"
REQUEST = {
    "opd_name": "Dinas Pendidikan, Kepemudaan dan Olahraga",
    "letter_number": "421/1187/23.01/2026",
    "letter_date": "2026-11-20",
    "letter_file": "sha256:aa01bb02",
    "form_file": "sha256:formulir-ttd",
    "subdomain": "disdikpora",
    "purpose": "Website informasi PPDB dan kegiatan olahraga",
    "applicant_email": EMAIL,
    "applicant_phone": "0291-438921",
}
START_FIELDS = [
    "opd_name",
    "letter_number",
    "letter_date",
    "letter_file",
    "form_file",
    "subdomain",
    "purpose",
    "applicant_email",
    "applicant_phone",
]
NAME_TAKEN = {
    "name_available": False,
    "name_reason": "disdikpora.kuduskab.go.id sudah aktif",
    "name_suggestions": "disdikpora-kudus",
}
ON_TIME_PATH = [
    "generate_register",
    "send_received",
    "dispose_to_division",
    "sign_and_dispose",
    "check_name",
    "review_name",
    "reserve_name",
    "create_hosting",
    "create_dns",
    "send_done",
    "send_survey",
]


def submit(d, clock):
    clock.set(FILED)
    inst = d.start(APPLICANT, REQUEST)
    assert inst.business_key == "KUDUS/2026/000001"
    job = d.work(
        "letter.generate", {"letter_pdf": "sha256:register-disposisi-77"}, "generate_register"
    )
    assert job.inputs == {"template": "disposition_sheet"}
    assert job.variables["letter_number"] == "421/1187/23.01/2026"
    job = d.work("mail.send", {}, "send_received")
    assert job.inputs == {"template": "received", "to": EMAIL}
    return inst


def step2(d, forms, created, done_at, clock):
    t = d.task(KADIS, "dispose_to_division")
    assert (t.candidate_groups, t.lane) == (["head_of_office"], "Kepala Dinas")
    assert t.due_at == created + timedelta(minutes=10)
    assert forms.ids(t) == [
        "opd_name",
        "letter_number",
        "letter_date",
        "letter_file",
        "letter_pdf",
        "disposition_note",
    ]
    assert forms.readonly(t) == forms.ids(t)[:5] and forms.required(t) == []
    assert d.variables(t.instance_id)["letter_pdf"] == "sha256:register-disposisi-77"
    d.refused(KABID, t, {})
    clock.set(done_at)
    d.complete(KADIS, t, {"disposition_note": "Kabid Informatika: proses"})


def step3(d, forms, created, done_at, clock):
    t = d.task(KABID, "sign_and_dispose")
    assert (t.candidate_groups, t.lane) == (["head_of_division"], "Kepala Bidang Informatika")
    assert t.due_at == created + timedelta(minutes=10)
    assert forms.ids(t) == ["form_file", "disposition_note", "form_signed", "division_note"]
    assert forms.readonly(t) == ["form_file", "disposition_note"]
    assert forms.required(t) == ["form_signed"]
    d.refused(KASI, t, {"form_signed": True})
    clock.set(done_at)
    d.complete(KABID, t, {"form_signed": True, "division_note": "Kasi TIP: cek nama"})


def step4(d, forms, created, done_at, clock, *, check, confirm, label="disdikpora"):
    job = d.work("subdomain.check", check, "check_name")
    assert job.inputs == {"subdomain": label}
    t = d.task(KASI, "review_name")
    assert (t.candidate_groups, t.lane) == (["head_of_section"], "Kepala Seksi TI dan Persandian")
    assert t.due_at == created + timedelta(minutes=10)
    assert forms.ids(t) == [
        "subdomain",
        "name_reason",
        "name_suggestions",
        "name_available",
        "section_note",
    ]
    assert forms.readonly(t) == ["subdomain", "name_reason", "name_suggestions"]
    v = d.variables(t.instance_id)
    assert (v["subdomain"], v["name_available"], v["name_reason"]) == (
        label,
        check["name_available"],
        check["name_reason"],
    )
    d.refused(STAFF, t, {"name_available": True})
    clock.set(done_at)
    d.complete(KASI, t, {"name_available": confirm, "section_note": "Diperiksa"})


def step5(d, label="disdikpora"):
    job = d.work("subdomain.reserve", {}, "reserve_name")
    assert job.inputs == {"subdomain": label}


def hosting_and_dns(d, label="disdikpora"):
    job = d.work("hosting.create", {"hosting_path": f"/srv/www/{label}"}, "create_hosting")
    assert job.inputs == {"subdomain": label}
    job = d.work("dns.create", {"fqdn": f"{label}.kuduskab.go.id"}, "create_dns")
    assert job.inputs == {"subdomain": label}


def finish(d, inst):
    job = d.work("mail.send", {}, "send_done")
    assert job.inputs == {"template": "done", "to": EMAIL}
    job = d.work("mail.send", {}, "send_survey")
    assert job.inputs == {"template": "survey_invite", "to": EMAIL}
    final = d.instance(inst)
    assert final.state == "completed" and d.jobs(inst) == [] and d.open_tasks(inst) == []
    return final


# ---------------------------------------------------------------------------- tests
def test_start_form_carries_letter_and_signed_form(drive):
    d = drive(AGENCY)
    form = d.engine.current_definition(APPLICANT, AGENCY).start_form["fields"]
    assert [f["id"] for f in form] == START_FIELDS
    assert [f["id"] for f in form if "required" in f["constraints"]] == START_FIELDS
    by_id = {f["id"]: f for f in form}
    for file_field in ("letter_file", "form_file"):
        assert by_id[file_field]["properties"] == {"widget": "file", "accept": "application/pdf"}
    with pytest.raises(FormValidationError) as e:
        d.start(APPLICANT, {})
    assert {x.field for x in e.value.errors} == set(START_FIELDS)


def test_on_time_end_to_end(drive, clock, forms):
    d = drive(AGENCY)
    inst = submit(d, clock)
    assert d.instance(inst).sla_due_at is None  # no whole-process deadline in Kudus
    d.isolated(inst, d.task(KADIS))
    step2(d, forms, created=at(0), done_at=at(5), clock=clock)
    assert d.engine.fire_due_timers() == 0
    step3(d, forms, created=at(5), done_at=at(12), clock=clock)
    clock.set(at(14))  # step 2's 10 minutes have passed, but step 2 is done: nothing fires
    assert d.engine.fire_due_timers() == 0
    step4(d, forms, created=at(14), done_at=at(20), clock=clock, check=NAME_OK, confirm=True)
    step5(d)
    # step 5 (60 minutes) started at 09:20 WIB; the engine takes this sub-process timer as
    # the instance's deadline
    assert d.instance(inst).sla_due_at == at(80)
    clock.set(at(50))
    hosting_and_dns(d)
    clock.set(at(79))
    assert d.engine.fire_due_timers() == 0
    final = finish(d, inst)
    clock.set(at(200))
    assert d.engine.fire_due_timers() == 0

    assert d.walked(inst) == ON_TIME_PATH
    v = final.variables
    assert {
        k: v[k]
        for k in (
            "initiator",
            "subdomain",
            "name_available",
            "form_signed",
            "letter_pdf",
            "fqdn",
            "hosting_path",
        )
    } == {
        "initiator": "ani",
        "subdomain": "disdikpora",
        "name_available": True,
        "form_signed": True,
        "letter_pdf": "sha256:register-disposisi-77",
        "fqdn": "disdikpora.kuduskab.go.id",
        "hosting_path": "/srv/www/disdikpora",
    }
    kinds = d.kinds(inst)
    assert kinds[0] == "instance_started" and kinds[-1] == "instance_completed"
    assert Counter(kinds) == Counter(
        {
            "sla_stopped": 1,
            "instance_started": 1,
            "task_created": 3,
            "task_completed": 3,
            "job_created": 8,
            "job_completed": 8,
            "instance_completed": 1,
        }
    )
    assert final.sla_breached_at is None


def test_name_already_used_then_renamed(drive, clock, forms):
    d = drive(AGENCY)
    inst = submit(d, clock)
    step2(d, forms, created=at(0), done_at=at(3), clock=clock)
    step3(d, forms, created=at(3), done_at=at(6), clock=clock)
    # the Kepala Seksi confirms what the check found: already used
    step4(d, forms, created=at(6), done_at=at(9), clock=clock, check=NAME_TAKEN, confirm=False)
    job = d.work("mail.send", {}, "send_name_taken")
    assert job.inputs == {"template": "name_taken", "to": EMAIL}
    t = d.task(APPLICANT, "choose_other_name")
    assert (t.assignee, t.candidate_groups, t.lane, t.due_at) == (
        "ani",
        ["applicant"],
        "Pemohon",
        None,
    )
    assert forms.shape(t) == RENAME_FORM
    assert d.engine.inbox(OTHER_APPLICANT) == []
    d.refused(OTHER_APPLICANT, t, {"subdomain": "disdikpora-kudus"})
    d.refused(KASI, t, {"subdomain": "disdikpora-kudus"})
    d.isolated(inst, t)
    with pytest.raises(FormValidationError):
        d.complete(APPLICANT, t, {"subdomain": "disdikpora.kudus"})
    clock.set(at(40))  # the applicant's time is not a step of the SOP: no timer on it
    assert d.engine.fire_due_timers() == 0
    d.complete(APPLICANT, t, {"subdomain": "disdikpora-kudus"})
    # step 4 again, on the new name, with a fresh 10 minutes
    step4(
        d,
        forms,
        created=at(40),
        done_at=at(45),
        clock=clock,
        check=NAME_OK,
        confirm=True,
        label="disdikpora-kudus",
    )
    step5(d, "disdikpora-kudus")
    hosting_and_dns(d, "disdikpora-kudus")
    final = finish(d, inst)
    assert final.variables["fqdn"] == "disdikpora-kudus.kuduskab.go.id"
    assert d.walked(inst)[4:10] == [
        "check_name",
        "review_name",
        "send_name_taken",
        "choose_other_name",
        "check_name",
        "review_name",
    ]
    assert "timer_fired" not in d.kinds(inst)


def test_section_head_overrules_the_automatic_check(drive, clock, forms):
    d = drive(AGENCY)
    inst = submit(d, clock)
    step2(d, forms, created=at(0), done_at=at(1), clock=clock)
    step3(d, forms, created=at(1), done_at=at(2), clock=clock)
    # the registry does not know the old school site, the Kepala Seksi does
    step4(d, forms, created=at(2), done_at=at(3), clock=clock, check=NAME_OK, confirm=False)
    assert d.jobs(inst) == [("send_name_taken", "mail.send")]
    assert d.variables(inst)["name_available"] is False


def test_every_step_overruns_its_minutes(drive, clock, forms):
    d = drive(AGENCY)
    inst = submit(d, clock)

    def overrun(step: str, due: datetime) -> None:
        clock.set(due - timedelta(seconds=30))
        assert d.engine.fire_due_timers() == 0
        clock.set(due + timedelta(minutes=1))
        assert d.engine.fire_due_timers() == 1
        job = d.work("mail.send", {}, f"send_escalation_step{step}")
        assert job.inputs == {"template": "escalation", "to_group": "head_of_office", "step": step}

    # step 2: dispose_to_division created 09:00, due 09:10 WIB
    overrun("2", at(10))
    assert d.open_elements(inst) == ["dispose_to_division"]  # still open, not cancelled
    step2(d, forms, created=at(0), done_at=at(12), clock=clock)
    # step 3: created 09:12, due 09:22
    overrun("3", at(22))
    step3(d, forms, created=at(12), done_at=at(25), clock=clock)
    # step 4: created 09:25, due 09:35
    d.work("subdomain.check", NAME_OK, "check_name")
    overrun("4", at(35))
    t = d.task(KASI, "review_name")
    assert t.due_at == at(35)
    clock.set(at(40))
    d.complete(KASI, t, {"name_available": True})
    step5(d)
    # step 5: entered 09:40, 60 minutes -> 10:40; the hosting job waits for a worker
    assert d.instance(inst).sla_due_at == at(100)
    overrun("5", at(100))
    assert d.jobs(inst) == [("create_hosting", "hosting.create")]
    hosting_and_dns(d)
    final = finish(d, inst)

    assert [e.element_id for e in d.events(inst, "timer_fired")] == [
        "step2_timer",
        "step3_timer",
        "step4_timer",
        "step5_timer",
    ]
    assert [e.at for e in d.events(inst, "timer_fired")] == [at(11), at(23), at(36), at(101)]
    # only step 5's overrun marks the request as breached (see the module docstring)
    assert [e.at for e in d.events(inst, "sla_breached")] == [at(101)]
    assert final.sla_breached_at == at(101)
    assert [x for x in d.walked(inst) if x.startswith("send_escalation")] == [
        "send_escalation_step2",
        "send_escalation_step3",
        "send_escalation_step4",
        "send_escalation_step5",
    ]
