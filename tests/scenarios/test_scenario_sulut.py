"""Provinsi Sulawesi Utara, Pelayanan Pembuatan Website Resmi Perangkat Daerah:
``bpmn/sulut.bpmn``.

Paths: online request with credentials by e-mail, in-person request with credentials by
letter, the request returned for completion and resubmitted, a taken name replaced, the
website confirmation loop (not approved, the team revises), and the 14-working-day deadline
passing. Sulut is Asia/Makassar (WITA, UTC+8). The 14 days run from the complete request: the
clock starts when verification accepts it, not when it is filed.

* filed Monday 23 November 2026 09:00 WITA (01:00 UTC), verified complete on Wednesday 25
  November 10:00 WITA (02:00 UTC): Thu 26, Fri 27, Mon 30, Tue 1, Wed 2, Thu 3, Fri 4, Mon 7,
  Tue 8, Wed 9, Thu 10, Fri 11, Mon 14, Tue 15 -> due Tuesday 15 December 10:00 WITA
  (02:00 UTC).
* verified complete at once (Monday 09:00 WITA): due Friday 11 December 09:00 WITA (01:00 UTC).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from scenario_support import NAME_OK, RENAME_FORM

from engine.actors import Actor
from engine.errors import FormValidationError

AGENCY = "sulut"
FILED = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 WITA
VERIFIED = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Wednesday 10:00 WITA
DUE_FROM_VERIFIED = datetime(2026, 12, 15, 2, 0, tzinfo=UTC)  # Tuesday 10:00 WITA
DUE_FROM_FILED = datetime(2026, 12, 11, 1, 0, tzinfo=UTC)  # Friday 09:00 WITA

APPLICANT = Actor("meiske", AGENCY, frozenset({"applicant"}))
OTHER_APPLICANT = Actor("jefry", AGENCY, frozenset({"applicant"}))
OFFICER = Actor("petugas", AGENCY, frozenset({"technical_officer"}))
KADIS = Actor("kadis", AGENCY, frozenset({"head_of_office"}))
KABID = Actor("kabid", AGENCY, frozenset({"head_of_division"}))

EMAIL = "meiske@dispar.sulutprov.go.id"
PHONE = "+62 812 4400 1122"
REQUEST = {
    "channel": "online",
    "opd_name": "Dinas Pariwisata Daerah Provinsi Sulawesi Utara",
    "letter_number": "480/DISPAR/112/XI/2026",
    "letter_date": "2026-11-20",
    "letter_file": "sha256:5d0c11ab",
    "design_file": "sha256:rancangan-01",
    "supporting_data_file": "sha256:data-01",
    "purpose": "Website resmi promosi destinasi wisata Sulawesi Utara",
    "subdomain": "dispar",
    "operator_name": "Jefry Mandagi",
    "applicant_email": EMAIL,
    "applicant_phone": PHONE,
}
START_FIELDS = [
    "channel",
    "opd_name",
    "letter_number",
    "letter_date",
    "letter_file",
    "design_file",
    "supporting_data_file",
    "purpose",
    "subdomain",
    "operator_name",
    "applicant_email",
    "applicant_phone",
]
START_REQUIRED = [
    "channel",
    "opd_name",
    "letter_number",
    "letter_date",
    "letter_file",
    "purpose",
    "subdomain",
    "applicant_email",
    "applicant_phone",
]
VERIFY_FIELDS = START_FIELDS[:10] + ["documents_complete", "return_reason"]
NAME_TAKEN = {
    "name_available": False,
    "name_reason": "Sudah dipakai Dinas Pariwisata lama",
    "name_suggestions": "pariwisata, dispar-sulut",
}
CREDS = "cred:7f2c"


def submit(d, clock, *, channel="online", name_outputs=NAME_OK):
    clock.set(FILED)
    inst = d.start(APPLICANT, {**REQUEST, "channel": channel})
    assert inst.business_key == "SULUT/2026/000001" and inst.sla_due_at is None
    assert d.jobs(inst) == [("check_name", "subdomain.check")]
    job = d.work("subdomain.check", name_outputs, "check_name")
    assert job.inputs == {"subdomain": "dispar"}
    assert (job.variables["initiator"], job.variables["channel"]) == ("meiske", channel)
    return inst


def reserve_and_receive(d, inst, name="dispar"):
    job = d.work("subdomain.reserve", {}, "reserve_name")
    assert job.inputs == {"subdomain": name}
    job = d.work("mail.send", {}, "send_received")
    assert job.inputs == {"template": "received", "to": EMAIL}


def verify_task(d, forms):
    t = d.task(OFFICER, "verify_request")
    assert (t.candidate_groups, t.assignee, t.lane) == (
        ["technical_officer"],
        None,
        "Petugas / Tim Ahli",
    )
    assert forms.ids(t) == VERIFY_FIELDS
    assert forms.readonly(t) == VERIFY_FIELDS[:10] and forms.required(t) == []
    return t


def accept(d, forms, inst, due):
    t = verify_task(d, forms)
    d.refused(APPLICANT, t, {"documents_complete": True})
    d.refused(KABID, t, {"documents_complete": True})
    assert d.instance(inst).sla_due_at is None  # nothing counts before the request is complete
    d.complete(OFFICER, t, {"documents_complete": True, "channel": "in_person"})
    # step 3 begins: the 14 working days run from now
    assert d.instance(inst).sla_due_at == due


def build(d, forms, url="https://dispar.sulutprov.go.id"):
    t = d.task(OFFICER, "build_website")
    assert forms.ids(t) == [
        "purpose",
        "design_file",
        "supporting_data_file",
        "website_url",
        "build_notes",
    ]
    assert forms.readonly(t) == ["purpose", "design_file", "supporting_data_file"]
    assert forms.required(t) == ["website_url"]
    d.refused(APPLICANT, t, {"website_url": url})
    d.complete(OFFICER, t, {"website_url": url, "build_notes": "WordPress, tema resmi"})


def confirm(d, forms, *, approved, url="https://dispar.sulutprov.go.id", notes=""):
    job = d.work("mail.send", {}, "send_website_ready")
    assert job.inputs == {"template": "website_ready", "to": EMAIL}
    t = d.task(APPLICANT, "confirm_website")
    assert (t.assignee, t.candidate_groups) == ("meiske", ["applicant"])
    assert forms.ids(t) == ["website_url", "approved", "revision_notes"]
    assert forms.readonly(t) == ["website_url"] and forms.required(t) == []
    assert d.engine.inbox(OTHER_APPLICANT) == []
    d.refused(OTHER_APPLICANT, t, {"approved": True})
    d.refused(OFFICER, t, {"approved": True})  # the PD confirms, not the team
    assert d.variables(t.instance_id)["website_url"] == url
    d.complete(APPLICANT, t, {"approved": approved, "revision_notes": notes})


def dns_and_training(d, forms, name="dispar"):
    job = d.work(
        "dns.create",
        {"fqdn": f"{name}.sulutprov.go.id", "dns_records": [{"type": "A", "value": "202.51.96.7"}]},
        "create_dns",
    )
    assert job.inputs == {"subdomain": name}
    t = d.task(OFFICER, "train_operator")
    assert forms.ids(t) == ["operator_name", "training_date", "trained_operators"]
    assert forms.readonly(t) == ["operator_name"]
    assert forms.required(t) == ["training_date", "trained_operators"]
    with pytest.raises(FormValidationError) as e:
        d.complete(OFFICER, t, {"training_date": "besok"})
    assert {x.field for x in e.value.errors} == {"training_date", "trained_operators"}
    d.complete(
        OFFICER,
        t,
        {"training_date": "2026-12-03", "trained_operators": "Jefry Mandagi, Olvie Rumengan"},
    )
    job = d.work("credentials.issue", {"credentials_ref": CREDS}, "issue_credentials")
    assert job.inputs == {"subdomain": name}


def by_email(d):
    job = d.work("mail.send", {}, "send_credentials")
    assert job.inputs == {
        "template": "credentials",
        "to": EMAIL,
        "credentials_ref": CREDS,
        "phone": PHONE,
    }


def by_letter(d, forms):
    assert d.jobs() == [("generate_credentials_letter", "letter.generate")]
    job = d.work(
        "letter.generate", {"letter_pdf": "sha256:surat-akun-09"}, "generate_credentials_letter"
    )
    assert job.inputs == {"template": "credentials_letter", "credentials_ref": CREDS}
    t = d.task(OFFICER, "hand_over_letter")
    assert forms.ids(t) == ["letter_pdf", "handed_over_to", "handed_over_date"]
    assert forms.readonly(t) == ["letter_pdf"]
    assert forms.required(t) == ["handed_over_to", "handed_over_date"]
    d.refused(APPLICANT, t, {"handed_over_to": "x", "handed_over_date": "2026-12-04"})
    d.complete(
        OFFICER,
        t,
        {
            "handed_over_to": "Jefry Mandagi",
            "handed_over_date": "2026-12-04",
            "letter_pdf": "sha256:other",
        },
    )


def finish(d, inst):
    job = d.work("mail.send", {}, "send_done")
    assert job.inputs == {"template": "done", "to": EMAIL}
    job = d.work("mail.send", {}, "send_survey")
    assert job.inputs == {"template": "survey_invite", "to": EMAIL}
    final = d.instance(inst)
    assert final.state == "completed" and d.jobs(inst) == [] and d.open_tasks(inst) == []
    return final


# ---------------------------------------------------------------------------- tests
def test_start_form_carries_channel_design_and_letter(drive):
    d = drive(AGENCY)
    form = d.engine.current_definition(APPLICANT, AGENCY).start_form["fields"]
    assert [f["id"] for f in form] == START_FIELDS
    assert [f["id"] for f in form if "required" in f["constraints"]] == START_REQUIRED
    by_id = {f["id"]: f for f in form}
    assert [o[0] for o in by_id["channel"]["options"]] == ["online", "in_person"]
    for file_field in ("letter_file", "design_file", "supporting_data_file"):
        assert by_id[file_field]["properties"]["widget"] == "file"
    with pytest.raises(FormValidationError) as e:
        d.start(APPLICANT, {"channel": ""})
    assert {x.field for x in e.value.errors} == set(START_REQUIRED)
    with pytest.raises(FormValidationError) as e:
        d.start(APPLICANT, {**REQUEST, "channel": "fax"})
    assert [x.field for x in e.value.errors] == ["channel"]


def test_online_request_credentials_by_email(drive, clock, forms):
    d = drive(AGENCY)
    inst = submit(d, clock)
    reserve_and_receive(d, inst)
    d.isolated(inst, verify_task(d, forms))
    clock.set(VERIFIED)
    accept(d, forms, inst, DUE_FROM_VERIFIED)
    assert d.variables(inst)["channel"] == "online"  # read-only at verification
    build(d, forms)
    confirm(d, forms, approved=True)
    dns_and_training(d, forms)
    by_email(d)
    final = finish(d, inst)

    assert d.walked(inst) == [
        "check_name",
        "reserve_name",
        "send_received",
        "verify_request",
        "build_website",
        "send_website_ready",
        "confirm_website",
        "create_dns",
        "train_operator",
        "issue_credentials",
        "send_credentials",
        "send_done",
        "send_survey",
    ]
    v = final.variables
    assert {
        k: v[k]
        for k in (
            "initiator",
            "channel",
            "subdomain",
            "documents_complete",
            "approved",
            "website_url",
            "fqdn",
            "credentials_ref",
            "training_date",
        )
    } == {
        "initiator": "meiske",
        "channel": "online",
        "subdomain": "dispar",
        "documents_complete": True,
        "approved": True,
        "website_url": "https://dispar.sulutprov.go.id",
        "fqdn": "dispar.sulutprov.go.id",
        "credentials_ref": CREDS,
        "training_date": "2026-12-03",
    }
    assert "letter_pdf" not in v and "handed_over_to" not in v
    kinds = d.kinds(inst)
    assert kinds[0] == "instance_started" and kinds[-1] == "instance_completed"
    assert Counter(kinds) == Counter(
        {
            "sla_stopped": 1,
            "instance_started": 1,
            "task_created": 4,
            "task_completed": 4,
            "job_created": 9,
            "job_completed": 9,
            "instance_completed": 1,
        }
    )
    assert final.sla_breached_at is None


def test_in_person_request_credentials_by_letter(drive, clock, forms):
    d = drive(AGENCY)
    inst = submit(d, clock, channel="in_person")
    reserve_and_receive(d, inst)
    accept(d, forms, inst, DUE_FROM_FILED)
    build(d, forms)
    confirm(d, forms, approved=True)
    dns_and_training(d, forms)
    by_letter(d, forms)
    final = finish(d, inst)

    assert d.walked(inst)[9:] == [
        "issue_credentials",
        "generate_credentials_letter",
        "hand_over_letter",
        "send_done",
        "send_survey",
    ]
    assert "send_credentials" not in d.walked(inst)  # no password by e-mail
    v = final.variables
    assert {
        k: v[k]
        for k in ("channel", "credentials_ref", "letter_pdf", "handed_over_to", "handed_over_date")
    } == {
        "channel": "in_person",
        "credentials_ref": CREDS,
        "letter_pdf": "sha256:surat-akun-09",
        "handed_over_to": "Jefry Mandagi",
        "handed_over_date": "2026-12-04",
    }


def test_returned_for_completion_then_resubmitted(drive, clock, forms):
    d = drive(AGENCY)
    inst = submit(d, clock)
    reserve_and_receive(d, inst)
    t = verify_task(d, forms)
    d.complete(
        OFFICER,
        t,
        {"documents_complete": False, "return_reason": "Rancangan website belum dilampirkan"},
    )
    job = d.work("mail.send", {}, "send_returned")
    assert job.inputs == {"template": "returned", "to": EMAIL}
    assert d.instance(inst).sla_due_at is None  # step 2b: not complete, no clock

    t = d.task(APPLICANT, "complete_documents")
    assert (t.assignee, t.candidate_groups, t.lane, t.due_at) == (
        "meiske",
        ["applicant"],
        "Perangkat Daerah (Pemohon)",
        None,
    )
    assert forms.ids(t) == [
        "return_reason",
        "letter_number",
        "letter_date",
        "letter_file",
        "design_file",
        "supporting_data_file",
        "purpose",
    ]
    assert forms.readonly(t) == ["return_reason"]
    assert forms.required(t) == ["letter_number", "letter_date", "letter_file", "purpose"]
    assert d.engine.inbox(OFFICER) == []
    d.refused(OTHER_APPLICANT, t, {})
    d.refused(OFFICER, t, {})
    d.isolated(inst, t)
    with pytest.raises(FormValidationError) as e:
        d.complete(APPLICANT, t, {"design_file": "sha256:rancangan-02"})
    assert {x.field for x in e.value.errors} == {
        "letter_number",
        "letter_date",
        "letter_file",
        "purpose",
    }
    d.complete(
        APPLICANT,
        t,
        {
            **{k: REQUEST[k] for k in ("letter_number", "letter_date", "letter_file", "purpose")},
            "design_file": "sha256:rancangan-02",
            "supporting_data_file": "sha256:data-02",
        },
    )

    # verified again (step 2), complete this time on Wednesday: the 14 days start then
    clock.set(VERIFIED)
    t = verify_task(d, forms)
    assert d.variables(inst)["design_file"] == "sha256:rancangan-02"
    assert d.variables(inst)["return_reason"] == "Rancangan website belum dilampirkan"
    accept(d, forms, inst, DUE_FROM_VERIFIED)
    build(d, forms)
    confirm(d, forms, approved=True)
    dns_and_training(d, forms)
    by_email(d)
    final = finish(d, inst)
    assert d.walked(inst)[:7] == [
        "check_name",
        "reserve_name",
        "send_received",
        "verify_request",
        "send_returned",
        "complete_documents",
        "verify_request",
    ]
    assert (final.variables["documents_complete"], final.variables["supporting_data_file"]) == (
        True,
        "sha256:data-02",
    )


def test_name_taken_then_renamed(drive, clock, forms):
    d = drive(AGENCY)
    inst = submit(d, clock, name_outputs=NAME_TAKEN)
    job = d.work("mail.send", {}, "send_name_taken")
    assert job.inputs == {"template": "name_taken", "to": EMAIL}
    t = d.task(APPLICANT, "choose_other_name")
    assert (t.assignee, t.candidate_groups, t.lane) == (
        "meiske",
        ["applicant"],
        "Perangkat Daerah (Pemohon)",
    )
    assert forms.shape(t) == RENAME_FORM
    d.refused(OTHER_APPLICANT, t, {"subdomain": "pariwisata"})
    d.refused(OFFICER, t, {"subdomain": "pariwisata"})
    d.isolated(inst, t)
    d.complete(APPLICANT, t, {"subdomain": "pariwisata"})
    job = d.work("subdomain.check", NAME_OK, "check_name")
    assert job.inputs == {"subdomain": "pariwisata"}
    reserve_and_receive(d, inst, name="pariwisata")
    assert d.variables(inst)["subdomain"] == "pariwisata"
    accept(d, forms, inst, DUE_FROM_FILED)
    build(d, forms, url="https://pariwisata.sulutprov.go.id")
    confirm(d, forms, approved=True, url="https://pariwisata.sulutprov.go.id")
    dns_and_training(d, forms, name="pariwisata")
    by_email(d)
    final = finish(d, inst)
    assert final.variables["fqdn"] == "pariwisata.sulutprov.go.id"


def test_website_confirmation_loop_until_approved(drive, clock, forms):
    d = drive(AGENCY)
    inst = submit(d, clock)
    reserve_and_receive(d, inst)
    accept(d, forms, inst, DUE_FROM_FILED)
    build(d, forms)
    confirm(d, forms, approved=False, notes="Tambahkan peta destinasi")
    # step 4b: not what the PD needs, the team revises
    t = d.task(OFFICER, "revise_website")
    assert forms.ids(t) == ["revision_notes", "website_url", "build_notes"]
    assert forms.readonly(t) == ["revision_notes"] and forms.required(t) == ["website_url"]
    assert d.variables(inst)["revision_notes"] == "Tambahkan peta destinasi"
    d.refused(APPLICANT, t, {"website_url": "x"})
    d.complete(
        OFFICER,
        t,
        {"website_url": "https://dispar.sulutprov.go.id/v2", "revision_notes": "ignored"},
    )
    # informed and asked again
    confirm(
        d,
        forms,
        approved=False,
        url="https://dispar.sulutprov.go.id/v2",
        notes="Bahasa Inggris juga",
    )
    d.do(OFFICER, "revise_website", {"website_url": "https://dispar.sulutprov.go.id/v3"})
    confirm(d, forms, approved=True, url="https://dispar.sulutprov.go.id/v3")
    dns_and_training(d, forms)
    by_email(d)
    final = finish(d, inst)
    assert d.walked(inst)[4:12] == [
        "build_website",
        "send_website_ready",
        "confirm_website",
        "revise_website",
        "send_website_ready",
        "confirm_website",
        "revise_website",
        "send_website_ready",
    ]
    assert (final.variables["approved"], final.variables["website_url"]) == (
        True,
        "https://dispar.sulutprov.go.id/v3",
    )


def test_deadline_passes_escalation_and_work_continues(drive, clock, forms):
    d = drive(AGENCY)
    inst = submit(d, clock)
    reserve_and_receive(d, inst)
    clock.set(VERIFIED)
    accept(d, forms, inst, DUE_FROM_VERIFIED)
    build(d, forms)
    confirm(d, forms, approved=False, notes="Belum sesuai")
    assert d.open_elements(inst) == ["revise_website"]

    # 14 working days from the filing (Friday 11 December) are not the deadline: the clock
    # started at verification
    clock.set(datetime(2026, 12, 11, 1, 1, tzinfo=UTC))
    assert d.engine.fire_due_timers() == 0
    clock.set(datetime(2026, 12, 15, 1, 59, tzinfo=UTC))  # Tuesday 09:59 WITA
    assert d.engine.fire_due_timers() == 0
    clock.set(datetime(2026, 12, 15, 2, 1, tzinfo=UTC))  # Tuesday 10:01 WITA
    assert d.engine.fire_due_timers() == 1
    assert [i.id for i in d.engine.overdue_instances(d.admin)] == [inst.id]
    job = d.work("mail.send", {}, "send_escalation")
    assert job.inputs == {"template": "escalation", "to_group": "head_of_office"}
    assert d.open_elements(inst) == ["escalate", "revise_website"]
    e = d.task(KADIS, "escalate")
    assert (e.candidate_groups, e.lane) == (["head_of_office"], "Kepala Dinas (eskalasi)")
    assert forms.ids(e) == ["opd_name", "letter_number", "subdomain", "escalation_notes"]
    assert forms.required(e) == ["escalation_notes"]
    d.refused(OFFICER, e, {"escalation_notes": "x"})
    d.isolated(inst, e)
    assert [x.element_id for x in d.events(inst, "timer_fired")] == ["sla_timer"]
    assert [x.at for x in d.events(inst, "sla_breached")] == [
        datetime(2026, 12, 15, 2, 1, tzinfo=UTC)
    ]

    d.complete(KADIS, e, {"escalation_notes": "Tim ahli ditambah"})
    assert d.instance(inst).state == "running"  # the work is not cancelled
    d.do(OFFICER, "revise_website", {"website_url": "https://dispar.sulutprov.go.id"})
    confirm(d, forms, approved=True)
    dns_and_training(d, forms)
    by_email(d)
    final = finish(d, inst)
    assert final.sla_breached_at == datetime(2026, 12, 15, 2, 1, tzinfo=UTC)
    assert final.variables["escalation_notes"] == "Tim ahli ditambah"
    assert final.variables["approved"] is True
