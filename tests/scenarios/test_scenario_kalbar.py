"""Provinsi Kalimantan Barat, Pelayanan Domain dan Sub Domain (SK 09/DISKOMINFO/2022):
``bpmn/kalbar.bpmn``.

Paths: the happy path, a taken name replaced by the PD, the letter returned for completion and
resubmitted (the 3-day clock starts again), and the 3-working-day deadline passing. Kalbar is
Asia/Pontianak (WIB, UTC+7).

Two calendars are used on purpose:

* the Christmas week of 2026: filed Tuesday 22 December 10:00 WIB (03:00 UTC). Thursday 24
  December is cuti bersama and Friday 25 December is Christmas, so the three working days are
  Wed 23, Mon 28 and Tue 29: due Tuesday 29 December 10:00 WIB (03:00 UTC), not Friday 25.
* a plain week: filed Monday 23 November 2026 09:00 WIB (02:00 UTC), due Thursday 26 November
  09:00 WIB (02:00 UTC).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from scenario_support import NAME_OK, RENAME_FORM

from engine.actors import Actor
from engine.errors import FormValidationError

AGENCY = "kalbar"
XMAS_FILED = datetime(2026, 12, 22, 3, 0, tzinfo=UTC)  # Tuesday 10:00 WIB
XMAS_DUE = datetime(2026, 12, 29, 3, 0, tzinfo=UTC)  # Tuesday 29 December 10:00 WIB
NOV_FILED = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 09:00 WIB
NOV_DUE = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # Thursday 09:00 WIB

APPLICANT = Actor("yanti", AGENCY, frozenset({"applicant"}))
OTHER_APPLICANT = Actor("rudi", AGENCY, frozenset({"applicant"}))
KABID = Actor("kabid_aptika", AGENCY, frozenset({"head_of_division"}))
KADIS = Actor("kadis", AGENCY, frozenset({"head_of_office"}))
OFFICER = Actor("staf", AGENCY, frozenset({"technical_officer"}))

EMAIL = "yanti@bappeda.kalbarprov.go.id"
REQUEST = {
    "opd_name": "Bappeda Provinsi Kalimantan Barat",
    "unit_name": "UPT Data dan Statistik",
    "letter_number": "005/417/BAPPEDA-B/2026",
    "letter_date": "2026-12-21",
    "letter_file": "sha256:9b1e77aa",
    "signed_by": "both",
    "letter_stamped": True,
    "subdomain": "data-bappeda",
    "purpose": "Portal data pembangunan daerah untuk publik",
    "target": "",
    "applicant_email": EMAIL,
    "applicant_phone": "0561-736541",
}
START_FIELDS = [
    "opd_name",
    "unit_name",
    "letter_number",
    "letter_date",
    "letter_file",
    "signed_by",
    "letter_stamped",
    "subdomain",
    "purpose",
    "target",
    "applicant_email",
    "applicant_phone",
]
START_REQUIRED = [
    "opd_name",
    "letter_number",
    "letter_date",
    "letter_file",
    "signed_by",
    "letter_stamped",
    "subdomain",
    "purpose",
    "applicant_email",
    "applicant_phone",
]
REVIEW_FIELDS = [
    "opd_name",
    "unit_name",
    "letter_number",
    "letter_date",
    "letter_file",
    "signed_by",
    "letter_stamped",
    "subdomain",
    "purpose",
    "target",
    "documents_complete",
    "return_reason",
]
NAME_TAKEN = {
    "name_available": False,
    "name_reason": "Label 'data-bappeda' sudah terdaftar",
    "name_suggestions": "databappeda, data-bappeda-kalbar",
}
FQDN = "data-bappeda.kalbarprov.go.id"


def submit(d, clock, at, name_outputs=NAME_OK):
    clock.set(at)
    inst = d.start(APPLICANT, REQUEST)
    assert inst.business_key == "KALBAR/2026/000001" and inst.sla_due_at is None
    assert d.jobs(inst) == [("check_name", "subdomain.check")] and d.open_tasks(inst) == []
    job = d.work("subdomain.check", name_outputs, "check_name")
    assert job.inputs == {"subdomain": "data-bappeda"}
    assert (job.variables["initiator"], job.business_key) == ("yanti", "KALBAR/2026/000001")
    return inst


def reserve_and_receive(d, inst, due, name="data-bappeda"):
    job = d.work("subdomain.reserve", {}, "reserve_name")
    assert job.inputs == {"subdomain": name}
    receive(d, inst, due)


def receive(d, inst, due=None):
    job = d.work("mail.send", {}, "send_received")
    assert job.inputs == {"template": "received", "to": EMAIL}
    if due is not None:
        assert d.instance(inst).next_timer_at == due  # the 3 working days run from here


def review_task(d, forms, inst):
    t = d.task(KABID, "review_request")
    assert (t.candidate_groups, t.assignee) == (["head_of_division"], None)
    assert forms.ids(t) == REVIEW_FIELDS
    assert forms.readonly(t) == REVIEW_FIELDS[:10] and forms.required(t) == []
    return t


def activate_and_confirm(d, inst, name="data-bappeda"):
    job = d.work(
        "dns.create",
        {
            "fqdn": f"{name}.kalbarprov.go.id",
            "dns_records": [{"type": "A", "value": "103.28.12.9"}],
        },
        "activate_dns",
    )
    assert job.inputs == {"subdomain": name}
    job = d.work("letter.generate", {"letter_pdf": "sha256:konfirmasi-0042"}, "generate_letter")
    assert job.inputs == {"template": "confirmation"}
    assert job.variables["fqdn"] == f"{name}.kalbarprov.go.id"  # what the letter reports
    job = d.work("mail.send", {}, "send_done")
    assert job.inputs == {"template": "done", "to": EMAIL, "attachment": "sha256:konfirmasi-0042"}
    job = d.work("mail.send", {}, "send_survey")
    assert job.inputs == {"template": "survey_invite", "to": EMAIL}


# ---------------------------------------------------------------------------- tests
def test_start_form_carries_the_letter_requirements(drive, forms):
    d = drive(AGENCY)
    form = d.engine.current_definition(APPLICANT, AGENCY).start_form["fields"]
    assert [f["id"] for f in form] == START_FIELDS
    assert [f["id"] for f in form if "required" in f["constraints"]] == START_REQUIRED
    by_id = {f["id"]: f for f in form}
    assert [o[0] for o in by_id["signed_by"]["options"]] == ["head_of_pd", "head_of_upt", "both"]
    assert by_id["letter_stamped"]["type"] == "boolean"
    assert by_id["letter_file"]["properties"] == {"widget": "file", "accept": "application/pdf"}
    with pytest.raises(FormValidationError) as e:
        d.start(APPLICANT, {"letter_stamped": True})
    assert {x.field for x in e.value.errors} == set(START_REQUIRED) - {"letter_stamped"}
    with pytest.raises(FormValidationError) as e:
        d.start(APPLICANT, {**REQUEST, "signed_by": "sekretaris"})
    assert [x.field for x in e.value.errors] == ["signed_by"]


def test_happy_path_over_the_christmas_holidays(drive, clock, forms):
    d = drive(AGENCY)
    inst = submit(d, clock, XMAS_FILED)
    reserve_and_receive(d, inst, XMAS_DUE)
    assert d.instance(inst).sla_due_at == XMAS_DUE
    t = review_task(d, forms, inst)
    d.refused(OFFICER, t, {"documents_complete": True})
    d.refused(APPLICANT, t, {"documents_complete": True})
    d.isolated(inst, t)

    # reviewed on Monday 28 December after the holidays: still within the 3 working days
    clock.set(datetime(2026, 12, 28, 3, 0, tzinfo=UTC))
    assert d.engine.fire_due_timers() == 0
    d.complete(KABID, t, {"documents_complete": True, "signed_by": "head_of_pd"})
    assert d.variables(inst)["signed_by"] == "both"  # read-only: the PD's answer stays
    activate_and_confirm(d, inst)

    final = d.instance(inst)
    assert final.state == "completed" and final.sla_breached_at is None
    assert d.open_tasks(inst) == [] and d.jobs(inst) == []
    assert d.walked(inst) == [
        "check_name",
        "reserve_name",
        "send_received",
        "review_request",
        "activate_dns",
        "generate_letter",
        "send_done",
        "send_survey",
    ]
    v = final.variables
    assert {
        k: v[k]
        for k in (
            "initiator",
            "subdomain",
            "name_available",
            "documents_complete",
            "fqdn",
            "letter_pdf",
            "letter_date",
            "letter_stamped",
        )
    } == {
        "initiator": "yanti",
        "subdomain": "data-bappeda",
        "name_available": True,
        "documents_complete": True,
        "fqdn": FQDN,
        "letter_pdf": "sha256:konfirmasi-0042",
        "letter_date": "2026-12-21",
        "letter_stamped": True,
    }
    kinds = d.kinds(inst)
    assert kinds[0] == "instance_started" and kinds[-1] == "instance_completed"
    assert Counter(kinds) == Counter(
        {
            "sla_stopped": 1,
            "instance_started": 1,
            "task_created": 1,
            "task_completed": 1,
            "job_created": 7,
            "job_completed": 7,
            "instance_completed": 1,
        }
    )


def test_name_taken_then_renamed(drive, clock, forms):
    d = drive(AGENCY)
    inst = submit(d, clock, NOV_FILED, NAME_TAKEN)
    job = d.work("mail.send", {}, "send_name_taken")
    assert job.inputs == {"template": "name_taken", "to": EMAIL}
    t = d.task(APPLICANT, "choose_other_name")
    assert (t.assignee, t.candidate_groups, t.lane) == (
        "yanti",
        ["applicant"],
        "Perangkat Daerah (PD) / UPT",
    )
    assert forms.shape(t) == RENAME_FORM
    assert d.engine.inbox(OTHER_APPLICANT) == []
    d.refused(OTHER_APPLICANT, t, {"subdomain": "databappeda"})
    d.refused(KABID, t, {"subdomain": "databappeda"})
    d.isolated(inst, t)
    with pytest.raises(FormValidationError):
        d.complete(APPLICANT, t, {"subdomain": "-databappeda"})
    d.complete(APPLICANT, t, {"subdomain": "databappeda"})

    job = d.work("subdomain.check", NAME_OK, "check_name")
    assert job.inputs == {"subdomain": "databappeda"}
    reserve_and_receive(d, inst, NOV_DUE, name="databappeda")
    d.complete(KABID, review_task(d, forms, inst), {"documents_complete": True})
    activate_and_confirm(d, inst, name="databappeda")
    final = d.instance(inst)
    assert final.state == "completed"
    assert (final.variables["subdomain"], final.variables["fqdn"]) == (
        "databappeda",
        "databappeda.kalbarprov.go.id",
    )
    assert d.walked(inst)[:4] == [
        "check_name",
        "send_name_taken",
        "choose_other_name",
        "check_name",
    ]


def return_and_resubmit(d, clock, forms):
    """Filed Monday, returned Wednesday, resubmitted Thursday 26 November 08:00 WIB."""
    inst = submit(d, clock, NOV_FILED)
    reserve_and_receive(d, inst, NOV_DUE)
    assert d.instance(inst).sla_due_at == NOV_DUE

    # Wednesday 25 November 11:00 WIB: the letter is not stamped; back to the PD
    clock.set(datetime(2026, 11, 25, 4, 0, tzinfo=UTC))
    t = review_task(d, forms, inst)
    d.complete(
        KABID, t, {"documents_complete": False, "return_reason": "Surat belum dibubuhi cap PD"}
    )
    assert d.jobs(inst) == [("send_returned", "mail.send")]
    job = d.work("mail.send", {}, "send_returned")
    assert job.inputs == {"template": "returned", "to": EMAIL}

    t = d.task(APPLICANT, "complete_documents")
    assert (t.assignee, t.candidate_groups, t.due_at) == ("yanti", ["applicant"], None)
    assert t.lane == "Perangkat Daerah (PD) / UPT"
    assert forms.ids(t) == [
        "return_reason",
        "letter_number",
        "letter_date",
        "letter_file",
        "signed_by",
        "letter_stamped",
    ]
    assert forms.readonly(t) == ["return_reason"]
    assert forms.required(t) == [
        "letter_number",
        "letter_date",
        "letter_file",
        "signed_by",
        "letter_stamped",
    ]
    assert d.engine.inbox(KABID) == []
    d.refused(OTHER_APPLICANT, t, {})
    d.refused(KABID, t, {})
    d.isolated(inst, t)
    with pytest.raises(FormValidationError) as e:
        d.complete(APPLICANT, t, {"letter_number": "005/430/BAPPEDA-B/2026"})
    assert {x.field for x in e.value.errors} == {
        "letter_date",
        "letter_file",
        "signed_by",
        "letter_stamped",
    }

    clock.set(datetime(2026, 11, 26, 1, 0, tzinfo=UTC))
    d.complete(
        APPLICANT,
        t,
        {
            "letter_number": "005/430/BAPPEDA-B/2026",
            "letter_date": "2026-11-26",
            "letter_file": "sha256:77c0e1f2",
            "signed_by": "head_of_pd",
            "letter_stamped": True,
            "return_reason": "changed",
        },
    )
    receive(d, inst)
    v = d.variables(inst)
    assert (v["letter_number"], v["letter_file"], v["signed_by"], v["return_reason"]) == (
        "005/430/BAPPEDA-B/2026",
        "sha256:77c0e1f2",
        "head_of_pd",
        "Surat belum dibubuhi cap PD",
    )
    t = review_task(d, forms, inst)
    assert d.variables(inst)["documents_complete"] is False  # the first answer, until reviewed
    return inst, t


def test_returned_for_completion_then_resubmitted(drive, clock, forms):
    d = drive(AGENCY)
    inst, t = return_and_resubmit(d, clock, forms)
    clock.set(datetime(2026, 11, 26, 1, 30, tzinfo=UTC))  # Thursday 08:30 WIB: reviewed again
    d.refused(OFFICER, t, {"documents_complete": True})
    d.complete(KABID, t, {"documents_complete": True})
    activate_and_confirm(d, inst)

    final = d.instance(inst)
    assert final.state == "completed"
    assert d.walked(inst) == [
        "check_name",
        "reserve_name",
        "send_received",
        "review_request",
        "send_returned",
        "complete_documents",
        "send_received",
        "review_request",
        "activate_dns",
        "generate_letter",
        "send_done",
        "send_survey",
    ]
    v = final.variables
    assert {
        k: v[k]
        for k in (
            "documents_complete",
            "letter_number",
            "letter_date",
            "letter_stamped",
            "signed_by",
            "fqdn",
            "letter_pdf",
        )
    } == {
        "documents_complete": True,
        "letter_number": "005/430/BAPPEDA-B/2026",
        "letter_date": "2026-11-26",
        "letter_stamped": True,
        "signed_by": "head_of_pd",
        "fqdn": FQDN,
        "letter_pdf": "sha256:konfirmasi-0042",
    }
    assert Counter(d.kinds(inst)) == Counter(
        {
            "sla_stopped": 2,
            "sla_restarted": 1,
            "instance_started": 1,
            "task_created": 3,
            "task_completed": 3,
            "job_created": 9,
            "job_completed": 9,
            "instance_completed": 1,
        }
    )


def test_resubmitted_request_gets_a_new_deadline(drive, clock, forms):
    d = drive(AGENCY)
    inst, t = return_and_resubmit(d, clock, forms)
    # resubmitted Thursday 26 November 08:00 WIB: the 3 days start again, Fri 27, Mon 30,
    # Tue 1 -> Tuesday 1 December 08:00 WIB (01:00 UTC). The old deadline (Thursday 09:00
    # WIB) passes without an escalation, and so does Tuesday 07:59 WIB.
    for moment in (
        datetime(2026, 11, 26, 2, 1, tzinfo=UTC),
        datetime(2026, 12, 1, 0, 59, tzinfo=UTC),
    ):
        clock.set(moment)
        d.engine.fire_due_timers()
        assert d.jobs(inst) == [] and d.events(inst, "timer_fired") == []
    clock.set(datetime(2026, 12, 1, 1, 1, tzinfo=UTC))
    d.engine.fire_due_timers()
    assert [x.element_id for x in d.events(inst, "timer_fired")] == ["sla_timer"]
    job = d.work("mail.send", {}, "send_escalation")
    assert job.inputs == {"template": "escalation", "to_group": "head_of_office"}
    assert d.open_elements(inst) == ["escalate", "review_request"]

    d.complete(KABID, t, {"documents_complete": True})
    activate_and_confirm(d, inst)
    d.do(KADIS, "escalate", {"escalation_notes": "Dipantau"})
    assert d.instance(inst).state == "completed"
    assert d.walked(inst)[6:] == [
        "send_received",
        "send_escalation",
        "review_request",
        "activate_dns",
        "generate_letter",
        "send_done",
        "send_survey",
        "escalate",
    ]


def test_deadline_passes_escalation_and_work_continues(drive, clock, forms):
    d = drive(AGENCY)
    inst = submit(d, clock, XMAS_FILED)
    reserve_and_receive(d, inst, XMAS_DUE)
    t = review_task(d, forms, inst)

    # counted in calendar weekdays the deadline would be Friday 25 December; it is not
    for moment in (
        datetime(2026, 12, 25, 3, 1, tzinfo=UTC),  # Christmas
        datetime(2026, 12, 28, 3, 1, tzinfo=UTC),  # Monday
        datetime(2026, 12, 29, 2, 59, tzinfo=UTC),
    ):  # Tuesday 09:59 WIB
        clock.set(moment)
        assert d.engine.fire_due_timers() == 0
        assert d.jobs(inst) == []
    clock.set(datetime(2026, 12, 29, 3, 1, tzinfo=UTC))  # Tuesday 10:01 WIB
    assert d.engine.fire_due_timers() == 1
    assert [i.id for i in d.engine.overdue_instances(d.admin)] == [inst.id]
    job = d.work("mail.send", {}, "send_escalation")
    assert job.inputs == {"template": "escalation", "to_group": "head_of_office"}

    assert d.open_elements(inst) == ["escalate", "review_request"]  # the review is still open
    e = d.task(KADIS, "escalate")
    assert (e.candidate_groups, e.lane) == (["head_of_office"], "Kepala Dinas (eskalasi)")
    assert forms.ids(e) == ["opd_name", "letter_number", "subdomain", "escalation_notes"]
    assert forms.readonly(e) == ["opd_name", "letter_number", "subdomain"]
    assert forms.required(e) == ["escalation_notes"]
    d.refused(KABID, e, {"escalation_notes": "x"})
    d.isolated(inst, e)
    assert [x.element_id for x in d.events(inst, "timer_fired")] == ["sla_timer"]
    assert [x.at for x in d.events(inst, "sla_breached")] == [
        datetime(2026, 12, 29, 3, 1, tzinfo=UTC)
    ]

    d.complete(KABID, t, {"documents_complete": True})
    activate_and_confirm(d, inst)
    assert d.instance(inst).state == "running"  # waits for the head of office only
    assert d.open_elements(inst) == ["escalate"]
    d.complete(KADIS, e, {"escalation_notes": "Kabid diminta menyelesaikan hari ini"})
    final = d.instance(inst)
    assert final.state == "completed"
    assert final.sla_breached_at == datetime(2026, 12, 29, 3, 1, tzinfo=UTC)
    assert final.variables["fqdn"] == FQDN
