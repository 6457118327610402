"""What the SOP scenarios need from the engine's projections beyond the happy path.

Each test walks a real SOP diagram to a point where a naive projection (inbox due dates and
lanes, the instance deadline, the variables) would disagree with the diagram. All four were
engine defects found by these scenarios; they stay as regression tests.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from scenario_support import NAME_OK

from engine.actors import Actor

TAPIN_CREATE = {
    "service_type": "create",
    "opd_name": "Dinas Kesehatan Kabupaten Tapin",
    "letter_number": "440/812/DINKES/2026",
    "letter_date": "2026-11-20",
    "letter_file": "sha256:c0ffee01",
    "subdomain": "dinkes",
    "official_unit": True,
    "mission_aligned": True,
    "managed_responsibly": True,
    "applicant_email": "ahmad@dinkes.tapinkab.go.id",
    "applicant_phone": "0517-31234",
}
KALBAR_REQUEST = {
    "opd_name": "Bappeda Provinsi Kalimantan Barat",
    "letter_number": "005/417/BAPPEDA-B/2026",
    "letter_date": "2026-11-20",
    "letter_file": "sha256:9b1e77aa",
    "signed_by": "head_of_pd",
    "letter_stamped": False,
    "subdomain": "data-bappeda",
    "purpose": "Portal data pembangunan daerah",
    "applicant_email": "yanti@kalbarprov.go.id",
    "applicant_phone": "0561-736541",
}
PEKALONGAN_REQUEST = {
    "opd_name": "Dinas Kesehatan Kota Pekalongan",
    "letter_number": "400/123/DINKES/2026",
    "letter_date": "2026-11-20",
    "letter_file": "sha256:1f3a9c0d",
    "subdomain": "dinkes",
    "purpose": "Website profil dan layanan publik",
    "applicant_email": "rina@example.id",
    "applicant_phone": "+62 285 421000",
}
COMPLAINT = {
    "complainant_name": "Siti Aminah",
    "complaint_channel": "whatsapp",
    "complaint_text": "Subdomain yang diminta belum aktif",
    "applicant_email": "siti@example.id",
    "applicant_phone": "081355501234",
}


def test_tasks_inside_the_sla_process_carry_its_deadline(drive, clock):
    d = drive("tapin")
    clock.set(datetime(2026, 11, 23, 1, 0, tzinfo=UTC))  # Monday 09:00 WITA
    inst = d.start(Actor("ahmad", "tapin", frozenset({"applicant"})), TAPIN_CREATE)
    d.work("mail.send", {}, "send_received")
    due = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)  # 3 working days: Thursday 09:00 WITA
    assert d.instance(inst).sla_due_at == due
    kabid = Actor("kabid", "tapin", frozenset({"head_of_division"}))
    assert d.task(kabid, "verify_request").due_at == due
    clock.set(datetime(2026, 11, 26, 1, 1, tzinfo=UTC))
    d.engine.fire_due_timers()
    assert [t.element_id for t in d.engine.inbox(kabid, overdue=True)] == ["verify_request"]


@pytest.mark.parametrize(
    ("agency", "key", "values", "element", "lane"),
    [
        (
            "pekalongan",
            "pekalongan",
            PEKALONGAN_REQUEST,
            "receive_disposition",
            "Kepala Dinas Kominfo",
        ),
        (
            "sulut",
            "complaint",
            COMPLAINT,
            "respond_complaint",
            "Petugas / Pejabat Pengelola Pengaduan",
        ),
    ],
    ids=["pekalongan", "complaint"],
)
def test_a_task_in_a_sub_process_shows_its_own_lane(
    drive, clock, agency, key, values, element, lane
):
    d = drive(agency, key)
    inst = d.start(Actor("pemohon", agency, frozenset({"applicant"})), values)
    if key == "complaint":
        d.work("mail.send", {}, "send_received")
        officer = Actor("petugas", agency, frozenset({"complaint_officer"}))
        d.do(officer, "classify_complaint", {"complaint_category": "light"})
    else:
        d.work("subdomain.check", NAME_OK, "check_name")
        d.work("subdomain.reserve", {}, "reserve_name")
        d.work("mail.send", {}, "send_received")
    [t] = [x for x in d.open_tasks(inst) if x.element_id == element]
    assert t.lane == lane


def test_a_resubmitted_request_gets_a_new_instance_deadline(drive, clock):
    d = drive("kalbar")
    applicant = Actor("yanti", "kalbar", frozenset({"applicant"}))
    kabid = Actor("kabid", "kalbar", frozenset({"head_of_division"}))
    clock.set(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))  # Monday 09:00 WIB
    inst = d.start(applicant, KALBAR_REQUEST)
    d.work("subdomain.check", NAME_OK)
    d.work("subdomain.reserve", {})
    d.work("mail.send", {}, "send_received")
    assert d.instance(inst).sla_due_at == datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    d.do(kabid, "review_request", {"documents_complete": False, "return_reason": "Tanpa cap"})
    d.work("mail.send", {}, "send_returned")
    clock.set(datetime(2026, 11, 26, 1, 0, tzinfo=UTC))  # resubmitted Thursday 08:00 WIB
    d.do(
        applicant,
        "complete_documents",
        {
            "letter_number": "005/430/BAPPEDA-B/2026",
            "letter_date": "2026-11-26",
            "letter_file": "sha256:77c0e1f2",
            "signed_by": "both",
            "letter_stamped": True,
        },
    )
    d.work("mail.send", {}, "send_received")
    new_due = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # Fri 27, Mon 30, Tue 1 08:00 WIB
    # reviewed on Friday, within the new deadline, after the old one
    clock.set(datetime(2026, 11, 27, 2, 0, tzinfo=UTC))
    d.engine.fire_due_timers()
    inst_now = d.instance(inst)
    assert (inst_now.sla_due_at, inst_now.next_timer_at) == (new_due, new_due)
    assert d.engine.overdue_instances(d.admin) == []
    assert "sla_breached" not in d.kinds(inst)


def test_variables_keep_the_work_results_when_the_escalation_ends_last(drive, clock):
    d = drive("kalbar")
    applicant = Actor("yanti", "kalbar", frozenset({"applicant"}))
    kabid = Actor("kabid", "kalbar", frozenset({"head_of_division"}))
    kadis = Actor("kadis", "kalbar", frozenset({"head_of_office"}))
    clock.set(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))  # Monday 09:00 WIB
    inst = d.start(applicant, KALBAR_REQUEST)
    d.work("subdomain.check", NAME_OK)
    d.work("subdomain.reserve", {})
    d.work("mail.send", {}, "send_received")
    d.do(kabid, "review_request", {"documents_complete": False, "return_reason": "Tanpa cap"})
    d.work("mail.send", {}, "send_returned")
    d.do(
        applicant,
        "complete_documents",
        {
            "letter_number": "005/430/BAPPEDA-B/2026",
            "letter_date": "2026-11-23",
            "letter_file": "sha256:77c0e1f2",
            "signed_by": "both",
            "letter_stamped": True,
        },
    )
    d.work("mail.send", {}, "send_received")
    # nobody reviews for three working days: Thursday 26 November 09:00 WIB passes
    clock.set(datetime(2026, 11, 26, 2, 1, tzinfo=UTC))
    d.engine.fire_due_timers()
    d.work("mail.send", {}, "send_escalation")
    d.do(kabid, "review_request", {"documents_complete": True})
    d.work("dns.create", {"fqdn": "data-bappeda.kalbarprov.go.id"})
    d.work("letter.generate", {"letter_pdf": "sha256:konfirmasi"})
    d.work("mail.send", {}, "send_done")
    d.work("mail.send", {}, "send_survey")
    assert d.open_elements(inst) == ["escalate"]
    v = d.variables(inst)
    assert (v.get("documents_complete"), v.get("fqdn"), v.get("letter_pdf")) == (
        True,
        "data-bappeda.kalbarprov.go.id",
        "sha256:konfirmasi",
    )
    d.do(kadis, "escalate", {"escalation_notes": "Dipantau"})
    v = d.variables(inst)
    assert (v["documents_complete"], v["escalation_notes"]) == (True, "Dipantau")
