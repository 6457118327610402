"""Kota Pekalongan, Pelayanan Domain (SK 060/040/III Tahun 2022): ``bpmn/pekalongan.bpmn``.

Every path of the diagram walked through the engine: the happy path, a taken name replaced by
the applicant, the design and local-server presentations sent back for revision, a failed
website verification, and the 7-working-day deadline passing. Pekalongan is WIB (UTC+7); the
requests are filed on Monday 23 November 2026 at 08:00 WIB (01:00 UTC), a week with no holiday,
so the deadline is Wednesday 2 December 2026 08:00 WIB: Tue 24, Wed 25, Thu 26, Fri 27, Mon 30,
Tue 1, Wed 2 are the seven working days.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from scenario_support import NAME_OK, RENAME_FORM

from engine.actors import Actor
from engine.errors import FormValidationError

AGENCY = "pekalongan"
FILED = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 08:00 WIB
SLA_DUE = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)  # Wednesday 08:00 WIB, 7 working days on

APPLICANT = Actor("rina", AGENCY, frozenset({"applicant"}))
OTHER_APPLICANT = Actor("sinta", AGENCY, frozenset({"applicant"}))
KADIS = Actor("kadis", AGENCY, frozenset({"head_of_office"}))
KABID = Actor("kabid", AGENCY, frozenset({"head_of_division"}))
OFFICER = Actor("budi", AGENCY, frozenset({"technical_officer"}))
PROGRAMMER = Actor("dedi", AGENCY, frozenset({"programmer"}))
OTHER_PROGRAMMER = Actor("joko", AGENCY, frozenset({"programmer"}))

EMAIL = "rina@dinkes.pekalongankota.go.id"
REQUEST = {
    "opd_name": "Dinas Kesehatan Kota Pekalongan",
    "letter_number": "400/123/DINKES/2026",
    "letter_date": "2026-11-20",
    "letter_file": "sha256:1f3a9c0d",
    "subdomain": "dinkes",
    "purpose": "Website profil dan layanan publik Dinas Kesehatan",
    "applicant_email": EMAIL,
    "applicant_phone": "+62 285 421000",
}
START_FIELDS = [
    "opd_name",
    "letter_number",
    "letter_date",
    "letter_file",
    "subdomain",
    "purpose",
    "applicant_email",
    "applicant_phone",
]
NAME_TAKEN = {
    "name_available": False,
    "name_reason": "Nama sudah dipakai situs lain",
    "name_suggestions": "dinkes-kota, dinkeskota",
}
HAPPY_PATH = [
    "check_name",
    "reserve_name",
    "send_received",
    "receive_disposition",
    "forward_disposition",
    "analyse_requirements",
    "design_web",
    "present_design",
    "appoint_programmer",
    "code_website",
    "present_website",
    "create_hosting",
    "upload_website",
    "create_dns",
    "verify_website",
    "send_done",
    "send_survey",
]


def submit(d, clock, name_outputs=NAME_OK):
    clock.set(FILED)
    inst = d.start(APPLICANT, REQUEST)
    assert (inst.business_key, inst.state, inst.sla_due_at) == (
        "PEKALONGAN/2026/000001",
        "running",
        None,
    )
    assert d.jobs(inst) == [("check_name", "subdomain.check")]
    assert d.open_tasks(inst) == []
    job = d.work("subdomain.check", name_outputs)
    assert (job.element_id, job.inputs) == ("check_name", {"subdomain": "dinkes"})
    assert job.variables["initiator"] == "rina"
    return inst


def reserve_and_receive(d, inst, name="dinkes"):
    job = d.work("subdomain.reserve", {}, "reserve_name")
    assert job.inputs == {"subdomain": name}
    job = d.work("mail.send", {}, "send_received")
    assert job.inputs == {"template": "received", "to": EMAIL}
    # the 7 working days run from here (sub-process sla_process)
    assert d.instance(inst).sla_due_at == SLA_DUE
    assert d.instance(inst).next_timer_at == SLA_DUE


def disposition_to_analysis(d, forms, inst):
    t = d.task(KADIS, "receive_disposition")
    # inside sla_process: the task is due when the SOP's 7 working days end
    assert (t.candidate_groups, t.assignee, t.due_at) == (["head_of_office"], None, SLA_DUE)
    assert forms.ids(t) == [
        "opd_name",
        "letter_number",
        "letter_date",
        "letter_file",
        "subdomain",
        "purpose",
        "disposition_note",
    ]
    assert forms.readonly(t) == forms.ids(t)[:-1] and forms.required(t) == []
    d.refused(OFFICER, t, {"disposition_note": "x"})
    d.isolated(inst, t)
    d.complete(
        KADIS, t, {"disposition_note": "Tindak lanjuti segera", "letter_file": "sha256:forged"}
    )
    assert d.variables(inst)["letter_file"] == "sha256:1f3a9c0d"  # read-only stays as submitted

    t = d.task(KABID, "forward_disposition")
    assert t.candidate_groups == ["head_of_division"]
    assert forms.ids(t) == ["disposition_note", "assigned_officer", "division_note"]
    assert forms.required(t) == ["assigned_officer"]
    d.refused(KADIS, t, {"assigned_officer": "budi"})
    with pytest.raises(FormValidationError):
        d.complete(KABID, t, {"division_note": "tanpa petugas"})
    d.complete(KABID, t, {"assigned_officer": "budi", "division_note": "Analisa kebutuhan OPD"})

    t = d.task(OFFICER, "analyse_requirements")
    assert t.candidate_groups == ["technical_officer"]
    assert forms.ids(t) == ["opd_name", "purpose", "division_note", "requirements_analysis"]
    assert forms.required(t) == ["requirements_analysis"]
    d.refused(PROGRAMMER, t, {"requirements_analysis": "x" * 20})
    d.complete(OFFICER, t, {"requirements_analysis": "Profil, berita, layanan, pengaduan"})


def design(d, forms, *, approved, file="sha256:design-v1", notes=""):
    t = d.task(OFFICER, "design_web")
    assert forms.ids(t) == ["requirements_analysis", "design_file", "design_notes"]
    assert forms.required(t) == ["design_file"]
    d.complete(OFFICER, t, {"design_file": file, "design_notes": "Tata letak awal"})
    t = d.task(OFFICER, "present_design")
    assert forms.ids(t) == ["design_file", "approved", "revision_notes"]
    assert forms.readonly(t) == ["design_file"] and forms.required(t) == []
    d.refused(PROGRAMMER, t, {"approved": True})
    d.complete(OFFICER, t, {"approved": approved, "revision_notes": notes})


def appoint(d, forms):
    t = d.task(KABID, "appoint_programmer")
    assert forms.ids(t) == ["programmer_name"] and forms.required(t) == ["programmer_name"]
    d.refused(OFFICER, t, {"programmer_name": "dedi"})
    d.complete(KABID, t, {"programmer_name": "dedi"})


def code(d, forms, *, approved, url="http://10.0.0.5/dinkes", notes=""):
    t = d.task(PROGRAMMER, "code_website")
    assert t.candidate_groups == ["programmer"]
    assert forms.ids(t) == ["design_file", "requirements_analysis", "local_url"]
    assert forms.required(t) == ["local_url"]
    d.refused(OFFICER, t, {"local_url": url})
    d.complete(PROGRAMMER, t, {"local_url": url})
    t = d.task(PROGRAMMER, "present_website")
    assert forms.ids(t) == ["local_url", "approved", "revision_notes"]
    assert forms.readonly(t) == ["local_url"] and forms.required(t) == []
    d.complete(PROGRAMMER, t, {"approved": approved, "revision_notes": notes})


def host_and_name(d, forms, inst, name="dinkes"):
    job = d.work("hosting.create", {"hosting_path": f"/srv/www/{name}"}, "create_hosting")
    assert job.inputs == {"subdomain": name}
    t = d.task(OFFICER, "upload_website")
    assert forms.ids(t) == ["hosting_path", "local_url", "upload_notes"]
    assert forms.readonly(t) == ["hosting_path", "local_url"] and forms.required(t) == []
    d.complete(OFFICER, t, {"upload_notes": "Diunggah via SFTP"})
    records = [{"type": "A", "name": name, "value": "103.10.1.5"}]
    job = d.work(
        "dns.create", {"fqdn": f"{name}.pekalongankota.go.id", "dns_records": records}, "create_dns"
    )
    assert job.inputs == {"subdomain": name}


def verify(d, *, ok, name="dinkes"):
    report = "HTTP 200 OK" if ok else "Nama belum terselesaikan"
    job = d.work("website.verify", {"website_ok": ok, "website_report": report}, "verify_website")
    assert job.inputs == {"fqdn": f"{name}.pekalongankota.go.id"}


def finish(d, inst):
    job = d.work("mail.send", {}, "send_done")
    assert job.inputs == {"template": "done", "to": EMAIL}
    job = d.work("mail.send", {}, "send_survey")
    assert job.inputs == {"template": "survey_invite", "to": EMAIL}
    final = d.instance(inst)
    assert final.state == "completed" and final.ended_at is not None
    assert d.jobs(inst) == [] and d.open_tasks(inst) == []
    return final


# ---------------------------------------------------------------------------- tests
def test_start_form_carries_the_requirements(drive, clock):
    d = drive(AGENCY)
    form = d.engine.current_definition(APPLICANT, AGENCY).start_form
    assert [f["id"] for f in form["fields"]] == START_FIELDS
    assert {f["id"] for f in form["fields"] if "required" in f["constraints"]} == set(START_FIELDS)
    letter = next(f for f in form["fields"] if f["id"] == "letter_file")
    assert letter["properties"] == {"widget": "file", "accept": "application/pdf"}
    with pytest.raises(FormValidationError) as e:
        d.start(APPLICANT, {})
    assert {x.field for x in e.value.errors} == set(START_FIELDS)
    with pytest.raises(FormValidationError) as e:
        d.start(APPLICANT, {**REQUEST, "subdomain": "Dinas Kesehatan", "applicant_email": "rina"})
    assert {x.field for x in e.value.errors} == {"subdomain", "applicant_email"}


def test_happy_path(drive, clock, forms):
    d = drive(AGENCY)
    inst = submit(d, clock)
    reserve_and_receive(d, inst)
    disposition_to_analysis(d, forms, inst)
    design(d, forms, approved=True)
    appoint(d, forms)
    code(d, forms, approved=True)
    host_and_name(d, forms, inst)
    verify(d, ok=True)
    assert d.instance(inst).state == "running"
    final = finish(d, inst)

    assert d.walked(inst) == HAPPY_PATH
    v = final.variables
    assert {
        k: v[k]
        for k in (
            "initiator",
            "subdomain",
            "name_available",
            "fqdn",
            "hosting_path",
            "website_ok",
            "approved",
            "programmer_name",
            "assigned_officer",
            "design_file",
            "local_url",
            "disposition_note",
        )
    } == {
        "initiator": "rina",
        "subdomain": "dinkes",
        "name_available": True,
        "fqdn": "dinkes.pekalongankota.go.id",
        "hosting_path": "/srv/www/dinkes",
        "website_ok": True,
        "approved": True,
        "programmer_name": "dedi",
        "assigned_officer": "budi",
        "design_file": "sha256:design-v1",
        "local_url": "http://10.0.0.5/dinkes",
        "disposition_note": "Tindak lanjuti segera",
    }
    kinds = d.kinds(inst)
    assert kinds[0] == "instance_started" and kinds[-1] == "instance_completed"
    assert Counter(kinds) == Counter(
        {
            "sla_stopped": 1,
            "instance_started": 1,
            "task_created": 9,
            "task_completed": 9,
            "job_created": 8,
            "job_completed": 8,
            "instance_completed": 1,
        }
    )
    assert final.sla_breached_at is None and d.engine.overdue_instances(d.admin) == []
    d.isolated(inst)


def test_name_taken_then_renamed(drive, clock, forms):
    d = drive(AGENCY)
    inst = submit(d, clock, NAME_TAKEN)
    job = d.work("mail.send", {}, "send_name_taken")
    assert job.inputs == {"template": "name_taken", "to": EMAIL}
    t = d.task(APPLICANT, "choose_other_name")
    assert (t.assignee, t.candidate_groups, t.due_at) == ("rina", ["applicant"], None)
    assert t.lane == "Pemohon (OPD)"
    assert forms.shape(t) == RENAME_FORM
    # only the initiator: another applicant of the same OPD neither sees nor completes it
    assert d.engine.inbox(OTHER_APPLICANT) == []
    d.refused(OTHER_APPLICANT, t, {"subdomain": "dinkes-kota"})
    d.refused(OFFICER, t, {"subdomain": "dinkes-kota"})
    d.isolated(inst, t)
    with pytest.raises(FormValidationError):
        d.complete(APPLICANT, t, {"subdomain": "Dinkes Kota"})
    assert d.instance(inst).sla_due_at is None  # the 7 days have not begun
    d.complete(APPLICANT, t, {"subdomain": "dinkes-kota", "name_reason": "ignored"})

    # the check runs again, on the new name; taken again, renamed again
    job = d.work("subdomain.check", NAME_TAKEN, "check_name")
    assert job.inputs == {"subdomain": "dinkes-kota"}
    d.work("mail.send", {}, "send_name_taken")
    d.do(APPLICANT, "choose_other_name", {"subdomain": "dinkeskota"})
    job = d.work("subdomain.check", NAME_OK, "check_name")
    assert job.inputs == {"subdomain": "dinkeskota"}
    reserve_and_receive(d, inst, name="dinkeskota")
    assert d.variables(inst)["name_reason"] == ""
    disposition_to_analysis(d, forms, inst)
    design(d, forms, approved=True)
    appoint(d, forms)
    code(d, forms, approved=True)
    host_and_name(d, forms, inst, name="dinkeskota")
    verify(d, ok=True, name="dinkeskota")
    final = finish(d, inst)

    assert final.variables["subdomain"] == "dinkeskota"
    assert final.variables["fqdn"] == "dinkeskota.pekalongankota.go.id"
    assert d.walked(inst)[:7] == [
        "check_name",
        "send_name_taken",
        "choose_other_name",
        "check_name",
        "send_name_taken",
        "choose_other_name",
        "check_name",
    ]
    assert d.walked(inst)[7:] == HAPPY_PATH[1:]


def test_design_and_local_server_presentations_loop_until_approved(drive, clock, forms):
    d = drive(AGENCY)
    inst = submit(d, clock)
    reserve_and_receive(d, inst)
    disposition_to_analysis(d, forms, inst)

    design(d, forms, approved=False, notes="Warna belum sesuai identitas kota")
    assert d.open_elements(inst) == ["design_web"]  # back to step 5
    assert d.variables(inst)["revision_notes"] == "Warna belum sesuai identitas kota"
    design(d, forms, approved=False, file="sha256:design-v2", notes="Menu layanan kurang")
    design(d, forms, approved=True, file="sha256:design-v3")
    assert d.open_elements(inst) == ["appoint_programmer"]
    appoint(d, forms)

    code(d, forms, approved=False, notes="Form pengaduan belum jalan")
    assert d.open_elements(inst) == ["code_website"]  # back to step 8
    # the programmer group does the coding; another group does not
    d.refused(OFFICER, d.task(PROGRAMMER), {"local_url": "x"})
    code(d, forms, approved=True, url="http://10.0.0.5/dinkes-v2")
    assert d.jobs(inst) == [("create_hosting", "hosting.create")]

    host_and_name(d, forms, inst)
    # step 12: verification fails, the technical officer fixes, verification runs again
    verify(d, ok=False)
    t = d.task(OFFICER, "fix_website")
    assert forms.ids(t) == ["website_report", "fix_notes"]
    assert forms.readonly(t) == ["website_report"] and forms.required(t) == ["fix_notes"]
    d.refused(PROGRAMMER, t, {"fix_notes": "x"})
    with pytest.raises(FormValidationError):
        d.complete(OFFICER, t, {})
    d.complete(OFFICER, t, {"fix_notes": "Virtual host diperbaiki"})
    verify(d, ok=True)
    final = finish(d, inst)

    assert final.variables["design_file"] == "sha256:design-v3"
    assert final.variables["local_url"] == "http://10.0.0.5/dinkes-v2"
    assert final.variables["fix_notes"] == "Virtual host diperbaiki"
    path = d.walked(inst)
    assert path[6:] == [
        "design_web",
        "present_design",
        "design_web",
        "present_design",
        "design_web",
        "present_design",
        "appoint_programmer",
        "code_website",
        "present_website",
        "code_website",
        "present_website",
        "create_hosting",
        "upload_website",
        "create_dns",
        "verify_website",
        "fix_website",
        "verify_website",
        "send_done",
        "send_survey",
    ]
    assert "timer_fired" not in d.kinds(inst)


def test_deadline_passes_escalation_and_work_continues(drive, clock, forms):
    d = drive(AGENCY)
    inst = submit(d, clock)
    reserve_and_receive(d, inst)
    disposition_to_analysis(d, forms, inst)
    design(d, forms, approved=True)
    appoint(d, forms)
    assert d.open_elements(inst) == ["code_website"]

    clock.set(datetime(2026, 12, 2, 0, 59, tzinfo=UTC))  # Wednesday 07:59 WIB: one minute left
    assert d.engine.fire_due_timers() == 0
    assert d.jobs(inst) == [] and d.engine.overdue_instances(d.admin) == []
    clock.set(datetime(2026, 12, 2, 1, 1, tzinfo=UTC))  # 08:01 WIB
    assert d.engine.fire_due_timers() == 1
    assert [i.id for i in d.engine.overdue_instances(d.admin)] == [inst.id]
    assert d.jobs(inst) == [("send_escalation", "mail.send")]
    job = d.work("mail.send", {}, "send_escalation")
    assert job.inputs == {"template": "escalation", "to_group": "head_of_office"}

    # the head of office gets the follow-up task; the programmer's work is still open
    assert d.open_elements(inst) == ["code_website", "escalate"]
    t = d.task(KADIS, "escalate")
    assert (t.candidate_groups, t.lane) == (["head_of_office"], "Kepala Dinas Kominfo")
    assert forms.ids(t) == ["opd_name", "letter_number", "subdomain", "escalation_notes"]
    assert forms.required(t) == ["escalation_notes"]
    d.refused(KABID, t, {"escalation_notes": "x"})
    d.isolated(inst, t)
    events = d.history(inst)
    assert [e.element_id for e in events if e.kind == "timer_fired"] == ["sla_timer"]
    [breach] = [e for e in events if e.kind == "sla_breached"]
    assert breach.at == datetime(2026, 12, 2, 1, 1, tzinfo=UTC)
    assert d.instance(inst).sla_breached_at == datetime(2026, 12, 2, 1, 1, tzinfo=UTC)

    # the work goes on to the end; the request finishes while the escalation is pending
    code(d, forms, approved=True)
    host_and_name(d, forms, inst)
    verify(d, ok=True)
    d.work("mail.send", {}, "send_done")
    d.work("mail.send", {}, "send_survey")
    assert d.instance(inst).state == "running"
    assert d.open_elements(inst) == ["escalate"]
    d.complete(KADIS, t, {"escalation_notes": "Programmer ditambah satu orang"})
    final = d.instance(inst)
    assert final.state == "completed"
    assert final.variables["escalation_notes"] == "Programmer ditambah satu orang"
    assert final.variables["fqdn"] == "dinkes.pekalongankota.go.id"
    # firing again changes nothing: the timer is one-shot
    clock.set(datetime(2026, 12, 20, 1, 0, tzinfo=UTC))
    assert d.engine.fire_due_timers() == 0
    assert d.kinds(inst).count("timer_fired") == 1


def test_the_appointed_programmer_does_the_coding(drive, clock, forms):
    d = drive(AGENCY)
    inst = submit(d, clock)
    reserve_and_receive(d, inst)
    disposition_to_analysis(d, forms, inst)
    design(d, forms, approved=True)
    appoint(d, forms)  # appoints "dedi"
    t = d.task(PROGRAMMER, "code_website")
    assert t.assignee == "dedi"
    assert d.engine.inbox(OTHER_PROGRAMMER) == []
