"""Complaints, every agency: ``bpmn/complaint.bpmn`` (Pekalongan's direct path and Kalbar's
deadlines per category).

Paths: solved by the complaint officer; not solved, escalated to the official who resolves it;
each of the four categories with its deadline (light 5, normative 5, not needing supervision
14, needing supervision and examination 60 working days), the deadline passing in each. The
deadline is counted from the moment the officer classifies the complaint (the category decides
it), in the agency's own calendar; each category runs in a different agency:

* light, Pekalongan (WIB): Monday 23 November 2026 09:00 WIB -> Monday 30 November 09:00 WIB.
* normative, Kalbar (WIB): Wednesday 23 December 2026 14:00 WIB; 24 and 25 December and
  1 January are days off: Mon 28, Tue 29, Wed 30, Thu 31, Mon 4 -> Monday 4 January 2027
  14:00 WIB.
* no_supervision, Sulut (WITA): Monday 23 November 2026 09:00 WITA -> 14 working days ->
  Friday 11 December 09:00 WITA.
* supervision, Tapin (WITA): Monday 8 June 2026 09:00 WITA; 16 June (Islamic New Year),
  17 August and 25 August are days off -> 60 working days -> Thursday 3 September 09:00 WITA.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from engine.actors import Actor
from engine.errors import FormValidationError, NotFound

START_FIELDS = [
    "complainant_name",
    "opd_name",
    "complaint_channel",
    "related_request",
    "complaint_text",
    "complaint_file",
    "applicant_email",
    "applicant_phone",
]
START_REQUIRED = [
    "complainant_name",
    "complaint_channel",
    "complaint_text",
    "applicant_email",
    "applicant_phone",
]
CHANNELS = [
    "in_person",
    "complaint_box",
    "letter",
    "phone",
    "whatsapp",
    "email",
    "website",
    "lapor",
    "social_media",
]
EMAIL = "pelapor@example.id"


def people(agency: str) -> dict[str, Actor]:
    return {
        "complainant": Actor("pelapor", agency, frozenset({"applicant"})),
        "other": Actor("warga_lain", agency, frozenset({"applicant"})),
        "officer": Actor("pengaduan", agency, frozenset({"complaint_officer"})),
        "official": Actor("kadis", agency, frozenset({"head_of_office"})),
        "technical": Actor("teknis", agency, frozenset({"technical_officer"})),
    }


def complaint(agency: str, channel: str = "whatsapp") -> dict[str, str]:
    return {
        "complainant_name": "Siti Aminah",
        "opd_name": "Dinas Kesehatan",
        "complaint_channel": channel,
        "related_request": f"{agency.upper()}/2026/000001",
        "complaint_text": "Subdomain yang diminta belum aktif padahal sudah dijanjikan",
        "complaint_file": "sha256:bukti-01",
        "applicant_email": EMAIL,
        "applicant_phone": "081355501234",
    }


def file_complaint(d, clock, moment, channel="whatsapp"):
    p = people(d.agency)
    clock.set(moment)
    inst = d.start(p["complainant"], complaint(d.agency, channel))
    assert inst.business_key == f"{d.agency.upper()}/2026/000001"
    job = d.work("mail.send", {}, "send_received")
    assert job.inputs == {"template": "complaint_received", "to": EMAIL}
    assert job.variables["initiator"] == "pelapor"
    return inst


def classify(d, forms, inst, category):
    p = people(d.agency)
    t = d.task(p["officer"], "classify_complaint")
    assert (t.candidate_groups, t.assignee, t.lane) == (
        ["complaint_officer"],
        None,
        "Petugas / Pejabat Pengelola Pengaduan",
    )
    assert forms.ids(t) == [
        "complainant_name",
        "opd_name",
        "complaint_channel",
        "related_request",
        "complaint_text",
        "complaint_file",
        "complaint_category",
    ]
    assert forms.readonly(t) == forms.ids(t)[:6]
    assert forms.required(t) == ["complaint_category"]
    [category_field] = [f for f in t.form["fields"] if f["id"] == "complaint_category"]
    assert [o[0] for o in category_field["options"]] == [
        "light",
        "normative",
        "no_supervision",
        "supervision",
    ]
    d.refused(p["technical"], t, {"complaint_category": category})
    d.refused(p["complainant"], t, {"complaint_category": category})
    d.isolated(inst, t)
    with pytest.raises(FormValidationError):
        d.complete(p["officer"], t, {"complaint_category": "urgent"})
    assert d.instance(inst).sla_due_at is None  # no category, no deadline yet
    d.complete(p["officer"], t, {"complaint_category": category})


def respond(d, forms, *, solved):
    p = people(d.agency)
    [t] = [x for x in d.engine.inbox(p["officer"]) if x.element_id == "respond_complaint"]
    assert t.candidate_groups == ["complaint_officer"]
    assert forms.ids(t) == ["complaint_text", "complaint_category", "response", "solved"]
    assert forms.readonly(t) == ["complaint_text", "complaint_category"]
    assert forms.required(t) == ["response"]
    d.refused(p["official"], t, {"response": "x"})
    d.complete(
        p["officer"], t, {"response": "Subdomain sudah diaktifkan, mohon dicek", "solved": solved}
    )


def resolve(d, forms):
    p = people(d.agency)
    [t] = [x for x in d.engine.inbox(p["official"]) if x.element_id == "resolve_by_official"]
    assert t.candidate_groups == ["head_of_office"]
    assert forms.ids(t) == ["complaint_text", "response", "resolution"]
    assert forms.readonly(t) == ["complaint_text", "response"]
    assert forms.required(t) == ["resolution"]
    d.refused(p["officer"], t, {"resolution": "x"})
    d.complete(p["official"], t, {"resolution": "Server dipindah, layanan pulih"})


def close(d, inst):
    job = d.work("mail.send", {}, "send_response")
    assert job.inputs == {"template": "complaint_resolved", "to": EMAIL}
    job = d.work("mail.send", {}, "send_survey")
    assert job.inputs == {"template": "survey_invite", "to": EMAIL}


# ---------------------------------------------------------------------------- tests
def test_start_form_carries_the_channels_of_both_sops(drive):
    d = drive("pekalongan", "complaint")
    form = d.engine.current_definition(people("pekalongan")["complainant"], "complaint").start_form[
        "fields"
    ]
    assert [f["id"] for f in form] == START_FIELDS
    assert [f["id"] for f in form if "required" in f["constraints"]] == START_REQUIRED
    [channel] = [f for f in form if f["id"] == "complaint_channel"]
    assert [o[0] for o in channel["options"]] == CHANNELS
    with pytest.raises(FormValidationError) as e:
        d.start(people("pekalongan")["complainant"], {"complaint_channel": ""})
    assert {x.field for x in e.value.errors} == set(START_REQUIRED)


def test_solved_by_the_officer(drive, clock, forms):
    d = drive("pekalongan", "complaint")
    inst = file_complaint(d, clock, datetime(2026, 11, 23, 2, 0, tzinfo=UTC), "phone")
    classify(d, forms, inst, "light")
    respond(d, forms, solved=True)
    close(d, inst)
    final = d.instance(inst)
    assert final.state == "completed" and d.open_tasks(inst) == [] and d.jobs(inst) == []
    assert d.walked(inst) == [
        "send_received",
        "classify_complaint",
        "respond_complaint",
        "send_response",
        "send_survey",
    ]
    v = final.variables
    assert {
        k: v[k]
        for k in ("initiator", "complaint_channel", "complaint_category", "solved", "response")
    } == {
        "initiator": "pelapor",
        "complaint_channel": "phone",
        "complaint_category": "light",
        "solved": True,
        "response": "Subdomain sudah diaktifkan, mohon dicek",
    }
    assert "resolution" not in v
    assert Counter(d.kinds(inst)) == Counter(
        {
            "sla_stopped": 1,
            "instance_started": 1,
            "task_created": 2,
            "task_completed": 2,
            "job_created": 3,
            "job_completed": 3,
            "instance_completed": 1,
        }
    )


def test_not_solved_escalated_to_the_official(drive, clock, forms):
    d = drive("kalbar", "complaint")
    inst = file_complaint(d, clock, datetime(2026, 11, 23, 2, 0, tzinfo=UTC), "lapor")
    classify(d, forms, inst, "normative")
    respond(d, forms, solved=False)
    assert d.open_elements(inst) == ["resolve_by_official"]
    assert d.jobs(inst) == []  # the complainant hears only the final outcome
    resolve(d, forms)
    close(d, inst)
    final = d.instance(inst)
    assert final.state == "completed"
    assert d.walked(inst) == [
        "send_received",
        "classify_complaint",
        "respond_complaint",
        "resolve_by_official",
        "send_response",
        "send_survey",
    ]
    v = final.variables
    assert (v["solved"], v["resolution"], v["complaint_category"]) == (
        False,
        "Server dipindah, layanan pulih",
        "normative",
    )


CATEGORIES = [
    # (agency, category, classified at, due, solved by the officer?)
    (
        "pekalongan",
        "light",
        datetime(2026, 11, 23, 2, 0, tzinfo=UTC),
        datetime(2026, 11, 30, 2, 0, tzinfo=UTC),
        True,
    ),
    (
        "kalbar",
        "normative",
        datetime(2026, 12, 23, 7, 0, tzinfo=UTC),
        datetime(2027, 1, 4, 7, 0, tzinfo=UTC),
        False,
    ),
    (
        "sulut",
        "no_supervision",
        datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
        datetime(2026, 12, 11, 1, 0, tzinfo=UTC),
        True,
    ),
    (
        "tapin",
        "supervision",
        datetime(2026, 6, 8, 1, 0, tzinfo=UTC),
        datetime(2026, 9, 3, 1, 0, tzinfo=UTC),
        False,
    ),
]


@pytest.mark.parametrize(
    ("agency", "category", "classified", "due", "solved"),
    CATEGORIES,
    ids=[c[1] for c in CATEGORIES],
)
def test_each_category_has_its_deadline(
    drive, clock, forms, agency, category, classified, due, solved
):
    d = drive(agency, "complaint")
    p = people(agency)
    inst = file_complaint(d, clock, classified)
    classify(d, forms, inst, category)
    assert d.instance(inst).sla_due_at == due

    clock.set(due - timedelta(minutes=1))
    assert d.engine.fire_due_timers() == 0
    assert d.jobs(inst) == [] and d.engine.overdue_instances(d.admin) == []
    clock.set(due + timedelta(minutes=1))
    assert d.engine.fire_due_timers() == 1
    assert [i.id for i in d.engine.overdue_instances(d.admin)] == [inst.id]
    job = d.work("mail.send", {}, "send_escalation")
    assert job.inputs == {"template": "escalation", "to_group": "head_of_office"}
    assert d.open_elements(inst) == ["escalate", "respond_complaint"]  # nothing cancelled
    [e] = [x for x in d.engine.inbox(p["official"]) if x.element_id == "escalate"]
    assert (e.candidate_groups, e.lane) == (
        ["head_of_office"],
        "Pejabat Dinas Kominfo (Kepala Dinas)",
    )
    assert forms.ids(e) == [
        "complainant_name",
        "complaint_text",
        "complaint_category",
        "escalation_notes",
    ]
    assert forms.readonly(e) == ["complainant_name", "complaint_text", "complaint_category"]
    assert forms.required(e) == ["escalation_notes"]
    d.refused(p["officer"], e, {"escalation_notes": "x"})
    d.isolated(inst, e)
    assert [x.element_id for x in d.events(inst, "timer_fired")] == ["sla_timer"]
    assert [x.at for x in d.events(inst, "sla_breached")] == [due + timedelta(minutes=1)]

    # the complaint is still handled to the end, by the officer or by the official
    respond(d, forms, solved=solved)
    if not solved:
        resolve(d, forms)
    close(d, inst)
    assert d.instance(inst).state == "running"
    d.complete(p["official"], e, {"escalation_notes": "Petugas ditegur, dipantau"})
    final = d.instance(inst)
    assert final.state == "completed" and final.sla_breached_at == due + timedelta(minutes=1)
    handled = ["respond_complaint"] if solved else ["respond_complaint", "resolve_by_official"]
    assert d.walked(inst) == [
        "send_received",
        "classify_complaint",
        "send_escalation",
        *handled,
        "send_response",
        "send_survey",
        "escalate",
    ]


def test_each_agency_sees_only_its_own_complaints(drive, clock, forms):
    a = drive("pekalongan", "complaint")
    b = drive("kalbar", "complaint")
    ia = file_complaint(a, clock, datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    ib = file_complaint(b, clock, datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    [ta] = a.engine.inbox(people("pekalongan")["officer"])
    [tb] = b.engine.inbox(people("kalbar")["officer"])
    assert (ta.instance_id, tb.instance_id) == (ia.id, ib.id)
    # a Kalbar complaint officer cannot take Pekalongan's complaint
    with pytest.raises(NotFound):
        b.engine.complete_task(people("kalbar")["officer"], ta.id, {"complaint_category": "light"})
    assert a.engine.get_task(a.admin, ta.id).state == "open"
