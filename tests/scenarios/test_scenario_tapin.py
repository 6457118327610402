"""Kabupaten Tapin, Pelayanan Sub Domain (SK 100.3.3/053/Diskominfo/VI/2024): ``bpmn/tapin.bpmn``.

One process, three services (create / change / delete) with their own deadlines: 3, 2 and 1
working days. Paths: each service type end to end, the request returned for completion and
resubmitted, a taken name replaced (create: ``subdomain``; change: ``new_subdomain``), and the
deadline passing for each service type. Tapin is Asia/Makassar (WITA, UTC+8).

Filed Monday 23 November 2026 09:00 WITA (01:00 UTC), a week without holidays:

* create, 3 working days: Thursday 26 November 09:00 WITA (01:00 UTC)
* change, 2 working days: Wednesday 25 November 09:00 WITA (01:00 UTC)
* delete, 1 working day: Tuesday 24 November 09:00 WITA (01:00 UTC)
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from scenario_support import NAME_OK

from engine.actors import Actor
from engine.errors import FormValidationError

AGENCY = "tapin"
FILED = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 WITA
DUE = {
    "create": datetime(2026, 11, 26, 1, 0, tzinfo=UTC),  # Thursday 09:00 WITA
    "change": datetime(2026, 11, 25, 1, 0, tzinfo=UTC),  # Wednesday 09:00 WITA
    "delete": datetime(2026, 11, 24, 1, 0, tzinfo=UTC),  # Tuesday 09:00 WITA
}

APPLICANT = Actor("ahmad", AGENCY, frozenset({"applicant"}))
OTHER_APPLICANT = Actor("siti", AGENCY, frozenset({"applicant"}))
KABID = Actor("kabid_egov", AGENCY, frozenset({"head_of_division"}))
KADIS = Actor("kadis", AGENCY, frozenset({"head_of_office"}))
OFFICER = Actor("staf", AGENCY, frozenset({"technical_officer"}))

EMAIL = "ahmad@dinkes.tapinkab.go.id"
COMMON = {
    "opd_name": "Dinas Kesehatan Kabupaten Tapin",
    "letter_number": "440/812/DINKES/2026",
    "letter_date": "2026-11-20",
    "letter_file": "sha256:c0ffee01",
    "official_unit": True,
    "mission_aligned": True,
    "managed_responsibly": True,
    "applicant_email": EMAIL,
    "applicant_phone": "0517-31234",
}
REQUESTS = {
    "create": {
        **COMMON,
        "service_type": "create",
        "subdomain": "dinkes",
        "purpose": "Informasi layanan kesehatan dan jadwal puskesmas",
        "technical_manager": "Ahmad Rizani, S.Kom",
        "source_code_location": "https://drive.example/dinkes-src",
        "team_decree_file": "sha256:sk-tim-01",
        "website_report_file": "sha256:lap-01",
        "business_process_file": "sha256:bp-01",
        "api_integration": "",
    },
    "change": {
        **COMMON,
        "service_type": "change",
        "subdomain": "dinkes",
        "new_subdomain": "dinaskesehatan",
        "reason": "Menyesuaikan nomenklatur baru",
    },
    "delete": {
        **COMMON,
        "service_type": "delete",
        "subdomain": "dinkes-lama",
        "reason": "Website lama tidak dipakai lagi",
    },
}
START_FIELDS = [
    "service_type",
    "opd_name",
    "letter_number",
    "letter_date",
    "letter_file",
    "subdomain",
    "new_subdomain",
    "purpose",
    "reason",
    "official_unit",
    "mission_aligned",
    "managed_responsibly",
    "technical_manager",
    "source_code_location",
    "team_decree_file",
    "website_report_file",
    "business_process_file",
    "api_integration",
    "applicant_email",
    "applicant_phone",
]
START_REQUIRED = [
    "service_type",
    "opd_name",
    "letter_number",
    "letter_date",
    "letter_file",
    "subdomain",
    "official_unit",
    "mission_aligned",
    "managed_responsibly",
    "applicant_email",
    "applicant_phone",
]
RESUBMIT_FIELDS = [
    "return_reason",
    "letter_number",
    "letter_date",
    "letter_file",
    "subdomain",
    "new_subdomain",
    "purpose",
    "reason",
    "technical_manager",
    "source_code_location",
    "team_decree_file",
    "website_report_file",
    "business_process_file",
    "api_integration",
]
NAME_TAKEN = {
    "name_available": False,
    "name_reason": "Nama sudah dipakai",
    "name_suggestions": "dinkes-tapin",
}
CREDS = "cred:tapin-31"


def submit(d, clock, service, at=FILED):
    clock.set(at)
    inst = d.start(APPLICANT, REQUESTS[service])
    assert inst.business_key == "TAPIN/2026/000001" and inst.sla_due_at is None
    assert d.jobs(inst) == [("send_received", "mail.send")] and d.open_tasks(inst) == []
    job = d.work("mail.send", {}, "send_received")
    assert job.inputs == {"template": "received", "to": EMAIL}
    assert (job.variables["initiator"], job.variables["service_type"]) == ("ahmad", service)
    return inst


def verify_task(d, forms):
    t = d.task(KABID, "verify_request")
    assert (t.candidate_groups, t.assignee) == (["head_of_division"], None)
    assert forms.ids(t) == START_FIELDS + ["documents_complete", "return_reason"]
    assert forms.readonly(t) == START_FIELDS and forms.required(t) == []
    return t


def verify(d, forms, inst, values):
    t = verify_task(d, forms)
    d.refused(OFFICER, t, values)
    d.refused(APPLICANT, t, values)
    d.complete(KABID, t, values)
    return t


def check_and_reserve(d, label, element_suffix, outputs=NAME_OK):
    job = d.work("subdomain.check", outputs, f"check_name_{element_suffix}")
    assert job.inputs == {"subdomain": label}
    if outputs["name_available"]:
        job = d.work("subdomain.reserve", {}, f"reserve_name_{element_suffix}")
        assert job.inputs == {"subdomain": label}


def run_create(d, name="dinkes"):
    job = d.work("dns.create", {"fqdn": f"{name}.tapinkab.go.id"}, "create_dns")
    assert job.inputs == {"subdomain": name}
    job = d.work("credentials.issue", {"credentials_ref": CREDS}, "issue_credentials_create")
    assert job.inputs == {"subdomain": name}
    job = d.work("mail.send", {}, "send_done_create")
    assert job.inputs == {"template": "done", "to": EMAIL, "credentials_ref": CREDS}


def run_change(d, new="dinaskesehatan"):
    job = d.work("dns.change", {"fqdn": f"{new}.tapinkab.go.id"}, "change_dns")
    assert job.inputs == {"subdomain": "dinkes", "new_subdomain": new}
    job = d.work("credentials.issue", {"credentials_ref": CREDS}, "issue_credentials_change")
    assert job.inputs == {"subdomain": new}
    job = d.work("mail.send", {}, "send_done_change")
    assert job.inputs == {"template": "done", "to": EMAIL, "credentials_ref": CREDS}


def run_delete(d):
    job = d.work("dns.delete", {"fqdn": "dinkes-lama.tapinkab.go.id"}, "delete_dns")
    assert job.inputs == {"subdomain": "dinkes-lama"}
    job = d.work("mail.send", {}, "send_done_delete")
    assert job.inputs == {"template": "done", "to": EMAIL}


def run_service(d, service):
    if service == "create":
        check_and_reserve(d, "dinkes", "create")
        run_create(d)
    elif service == "change":
        check_and_reserve(d, "dinaskesehatan", "change")
        run_change(d)
    else:
        run_delete(d)


def survey(d, inst):
    job = d.work("mail.send", {}, "send_survey")
    assert job.inputs == {"template": "survey_invite", "to": EMAIL}
    final = d.instance(inst)
    assert final.state == "completed" and d.jobs(inst) == [] and d.open_tasks(inst) == []
    return final


SERVICE_PATHS = {
    "create": [
        "check_name_create",
        "reserve_name_create",
        "create_dns",
        "issue_credentials_create",
        "send_done_create",
    ],
    "change": [
        "check_name_change",
        "reserve_name_change",
        "change_dns",
        "issue_credentials_change",
        "send_done_change",
    ],
    "delete": ["delete_dns", "send_done_delete"],
}


# ---------------------------------------------------------------------------- tests
def test_start_form_carries_every_document_of_the_sop(drive):
    d = drive(AGENCY)
    form = d.engine.current_definition(APPLICANT, AGENCY).start_form["fields"]
    assert [f["id"] for f in form] == START_FIELDS
    assert [f["id"] for f in form if "required" in f["constraints"]] == START_REQUIRED
    by_id = {f["id"]: f for f in form}
    assert [o[0] for o in by_id["service_type"]["options"]] == ["create", "change", "delete"]
    for file_field in (
        "letter_file",
        "team_decree_file",
        "website_report_file",
        "business_process_file",
    ):
        assert by_id[file_field]["properties"] == {"widget": "file", "accept": "application/pdf"}
    for declaration in ("official_unit", "mission_aligned", "managed_responsibly"):
        assert by_id[declaration]["type"] == "boolean"
    with pytest.raises(FormValidationError) as e:
        d.start(APPLICANT, {"service_type": "", "official_unit": None})
    assert {x.field for x in e.value.errors} == set(START_REQUIRED)
    with pytest.raises(FormValidationError) as e:
        d.start(APPLICANT, {**REQUESTS["create"], "service_type": "rename"})
    assert [x.field for x in e.value.errors] == ["service_type"]


@pytest.mark.parametrize("service", ["create", "change", "delete"])
def test_each_service_type_end_to_end_with_its_deadline(drive, clock, forms, service):
    d = drive(AGENCY)
    inst = submit(d, clock, service)
    assert d.instance(inst).sla_due_at == DUE[service]
    assert d.instance(inst).next_timer_at == DUE[service]
    d.isolated(inst, verify_task(d, forms))
    clock.set(datetime(2026, 11, 23, 3, 0, tzinfo=UTC))  # 11:00 WITA
    verify(d, forms, inst, {"documents_complete": True, "service_type": "delete"})
    assert d.variables(inst)["service_type"] == service  # read-only
    run_service(d, service)
    final = survey(d, inst)

    assert d.walked(inst) == [
        "send_received",
        "verify_request",
        *SERVICE_PATHS[service],
        "send_survey",
    ]
    v = final.variables
    assert (v["initiator"], v["service_type"], v["documents_complete"]) == ("ahmad", service, True)
    assert (
        v["fqdn"]
        == {
            "create": "dinkes.tapinkab.go.id",
            "change": "dinaskesehatan.tapinkab.go.id",
            "delete": "dinkes-lama.tapinkab.go.id",
        }[service]
    )
    assert ("credentials_ref" in v) == (service != "delete")
    jobs = len(SERVICE_PATHS[service]) + 2
    kinds = d.kinds(inst)
    assert kinds[0] == "instance_started" and kinds[-1] == "instance_completed"
    assert Counter(kinds) == Counter(
        {
            "sla_stopped": 1,
            "instance_started": 1,
            "task_created": 1,
            "task_completed": 1,
            "job_created": jobs,
            "job_completed": jobs,
            "instance_completed": 1,
        }
    )
    assert final.sla_breached_at is None


@pytest.mark.parametrize(
    ("service", "filed", "due"),
    [
        # Tuesday 22 December 09:00 WITA; 24 (cuti bersama) and 25 December are days off:
        # Wed 23, Mon 28, Tue 29 -> Tuesday 29 December 09:00 WITA
        (
            "create",
            datetime(2026, 12, 22, 1, 0, tzinfo=UTC),
            datetime(2026, 12, 29, 1, 0, tzinfo=UTC),
        ),
        # Wednesday 23 December 09:00 WITA: Mon 28, Tue 29 -> Tuesday 29 December 09:00 WITA
        (
            "change",
            datetime(2026, 12, 23, 1, 0, tzinfo=UTC),
            datetime(2026, 12, 29, 1, 0, tzinfo=UTC),
        ),
        # Friday 27 November 16:30 UTC is still Friday 23:30 in WIB but already Saturday 00:30
        # in WITA: the day counts from Monday 30 November 00:00 WITA, so the deadline is Tuesday
        # 1 December 00:00 WITA (Monday 16:00 UTC), not Monday 23:30 WIB
        (
            "delete",
            datetime(2026, 11, 27, 16, 30, tzinfo=UTC),
            datetime(2026, 11, 30, 16, 0, tzinfo=UTC),
        ),
    ],
    ids=["create-christmas", "change-christmas", "delete-saturday-in-wita"],
)
def test_deadline_follows_the_tapin_calendar(drive, clock, forms, service, filed, due):
    d = drive(AGENCY)
    inst = submit(d, clock, service, at=filed)
    assert d.instance(inst).sla_due_at == due
    clock.set(due - timedelta(minutes=1))
    assert d.engine.fire_due_timers() == 0 and d.jobs(inst) == []
    clock.set(due + timedelta(minutes=1))
    assert d.engine.fire_due_timers() == 1
    assert d.jobs(inst) == [("send_escalation", "mail.send")]


@pytest.mark.parametrize("service", ["create", "change", "delete"])
def test_deadline_passes_escalation_and_work_continues(drive, clock, forms, service):
    d = drive(AGENCY)
    inst = submit(d, clock, service)
    due = DUE[service]
    clock.set(due - timedelta(minutes=1))  # 08:59 WITA on the last day
    assert d.engine.fire_due_timers() == 0
    assert d.jobs(inst) == [] and d.engine.overdue_instances(d.admin) == []
    late = due + timedelta(minutes=1)  # 09:01 WITA
    clock.set(late)
    assert d.engine.fire_due_timers() == 1
    assert [i.id for i in d.engine.overdue_instances(d.admin)] == [inst.id]
    job = d.work("mail.send", {}, "send_escalation")
    assert job.inputs == {"template": "escalation", "to_group": "head_of_office"}

    assert d.open_elements(inst) == ["escalate", "verify_request"]  # nothing cancelled
    e = d.task(KADIS, "escalate")
    assert (e.candidate_groups, e.lane) == (["head_of_office"], "Kepala Dinas (eskalasi)")
    assert forms.ids(e) == [
        "service_type",
        "opd_name",
        "letter_number",
        "subdomain",
        "escalation_notes",
    ]
    assert forms.readonly(e) == ["service_type", "opd_name", "letter_number", "subdomain"]
    assert forms.required(e) == ["escalation_notes"]
    d.refused(KABID, e, {"escalation_notes": "x"})
    d.isolated(inst, e)
    assert [x.element_id for x in d.events(inst, "timer_fired")] == ["sla_timer"]
    assert [x.at for x in d.events(inst, "sla_breached")] == [late]

    verify(d, forms, inst, {"documents_complete": True})
    run_service(d, service)
    job = d.work("mail.send", {}, "send_survey")
    assert d.instance(inst).state == "running"  # the escalation is still open
    d.complete(KADIS, e, {"escalation_notes": "Kabid menyelesaikan hari ini"})
    final = d.instance(inst)
    assert final.state == "completed"
    assert final.sla_breached_at == late
    assert d.walked(inst) == [
        "send_received",
        "send_escalation",
        "verify_request",
        *SERVICE_PATHS[service],
        "send_survey",
        "escalate",
    ]


def test_returned_for_completion_then_resubmitted(drive, clock, forms):
    d = drive(AGENCY)
    inst = submit(d, clock, "create")
    # Tuesday 24 November 10:00 WITA: the website report is missing
    clock.set(datetime(2026, 11, 24, 2, 0, tzinfo=UTC))
    verify(
        d,
        forms,
        inst,
        {"documents_complete": False, "return_reason": "Laporan website belum dilampirkan"},
    )
    assert d.jobs(inst) == [("send_returned", "mail.send")]
    job = d.work("mail.send", {}, "send_returned")
    assert job.inputs == {"template": "returned", "to": EMAIL}

    t = d.task(APPLICANT, "complete_documents")
    assert (t.assignee, t.candidate_groups, t.lane, t.due_at) == (
        "ahmad",
        ["applicant"],
        "Instansi / Satuan Kerja (Pemohon)",
        None,
    )
    assert forms.ids(t) == RESUBMIT_FIELDS
    assert forms.readonly(t) == ["return_reason"]
    assert forms.required(t) == ["letter_number", "letter_date", "letter_file", "subdomain"]
    assert d.engine.inbox(KABID) == []
    d.refused(OTHER_APPLICANT, t, {})
    d.refused(KABID, t, {})
    d.isolated(inst, t)
    resubmitted = {k: v for k, v in REQUESTS["create"].items() if k in RESUBMIT_FIELDS}
    resubmitted["website_report_file"] = "sha256:lap-02"
    # the service type and the declarations are not the applicant's to change here
    with pytest.raises(FormValidationError) as e:
        d.complete(APPLICANT, t, {**resubmitted, "service_type": "delete"})
    assert [x.field for x in e.value.errors] == ["service_type"]

    # resubmitted Wednesday 25 November 08:00 WITA, verified again at 10:00 WITA
    clock.set(datetime(2026, 11, 25, 0, 0, tzinfo=UTC))
    d.complete(APPLICANT, t, resubmitted)
    job = d.work("mail.send", {}, "send_received")
    assert job.inputs == {"template": "received", "to": EMAIL}
    clock.set(datetime(2026, 11, 25, 2, 0, tzinfo=UTC))
    t = verify_task(d, forms)
    assert d.variables(inst)["website_report_file"] == "sha256:lap-02"
    assert d.variables(inst)["return_reason"] == "Laporan website belum dilampirkan"
    d.complete(KABID, t, {"documents_complete": True})
    run_service(d, "create")
    final = survey(d, inst)
    assert d.walked(inst) == [
        "send_received",
        "verify_request",
        "send_returned",
        "complete_documents",
        "send_received",
        "verify_request",
        *SERVICE_PATHS["create"],
        "send_survey",
    ]
    v = final.variables
    assert (v["documents_complete"], v["website_report_file"], v["service_type"]) == (
        True,
        "sha256:lap-02",
        "create",
    )


def test_resubmitted_request_gets_a_new_deadline(drive, clock, forms):
    d = drive(AGENCY)
    inst = submit(d, clock, "change")  # due Wednesday 25 November 09:00 WITA
    verify(d, forms, inst, {"documents_complete": False, "return_reason": "Surat belum sah"})
    d.work("mail.send", {}, "send_returned")
    # resubmitted Tuesday 24 November 14:00 WITA: two working days on is Thursday 26
    # November 14:00 WITA (06:00 UTC)
    clock.set(datetime(2026, 11, 24, 6, 0, tzinfo=UTC))
    resubmitted = {k: v for k, v in REQUESTS["change"].items() if k in RESUBMIT_FIELDS}
    d.do(APPLICANT, "complete_documents", {**resubmitted, "letter_file": "sha256:sah"})
    d.work("mail.send", {}, "send_received")
    for moment in (
        datetime(2026, 11, 25, 1, 1, tzinfo=UTC),  # the old deadline
        datetime(2026, 11, 26, 5, 59, tzinfo=UTC),
    ):  # Thursday 13:59 WITA
        clock.set(moment)
        d.engine.fire_due_timers()
        assert d.jobs(inst) == [] and d.events(inst, "timer_fired") == []
    clock.set(datetime(2026, 11, 26, 6, 1, tzinfo=UTC))
    d.engine.fire_due_timers()
    assert [x.element_id for x in d.events(inst, "timer_fired")] == ["sla_timer"]
    assert d.jobs(inst) == [("send_escalation", "mail.send")]


@pytest.mark.parametrize(
    ("service", "field", "old", "new"),
    [
        ("create", "subdomain", "dinkes", "dinkes-tapin"),
        ("change", "new_subdomain", "dinaskesehatan", "dinkes-tapin"),
    ],
    ids=["create", "change"],
)
def test_name_taken_then_renamed(drive, clock, forms, service, field, old, new):
    d = drive(AGENCY)
    inst = submit(d, clock, service)
    verify(d, forms, inst, {"documents_complete": True})
    check_and_reserve(d, old, service, NAME_TAKEN)
    job = d.work("mail.send", {}, f"send_name_taken_{service}")
    assert job.inputs == {"template": "name_taken", "to": EMAIL}
    t = d.task(APPLICANT, f"choose_other_name_{service}")
    assert (t.assignee, t.candidate_groups) == ("ahmad", ["applicant"])
    assert forms.ids(t) == ["name_reason", "name_suggestions", field]
    assert forms.readonly(t) == ["name_reason", "name_suggestions"]
    assert forms.required(t) == [field]
    d.refused(OTHER_APPLICANT, t, {field: new})
    d.refused(KABID, t, {field: new})
    d.isolated(inst, t)
    with pytest.raises(FormValidationError):
        d.complete(APPLICANT, t, {field: "Dinkes_Tapin"})
    d.complete(APPLICANT, t, {field: new})
    check_and_reserve(d, new, service)  # checked again, with the new name
    if service == "create":
        run_create(d, name=new)
    else:
        run_change(d, new=new)
    final = survey(d, inst)
    assert final.variables[field] == new
    assert final.variables["fqdn"] == f"{new}.tapinkab.go.id"
    assert d.walked(inst)[2:7] == [
        f"check_name_{service}",
        f"send_name_taken_{service}",
        f"choose_other_name_{service}",
        f"check_name_{service}",
        f"reserve_name_{service}",
    ]
