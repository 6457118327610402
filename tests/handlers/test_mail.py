"""mail.send and the outbox: Indonesian templates, recipients, idempotency, and SMTP delivery
against a real SMTP server (aiosmtpd on loopback), including a server that is down."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest
from mlc_helpers import SmtpSink, add_user, body_of, fake_job, free_port, settings_for
from sqlalchemy import select

from engine.models import Agency
from handlers.attachments.store import AttachmentStore, make_ref
from handlers.base import HandlerContext
from handlers.mail import TEMPLATES, MailDelivery, MailError, MailRenderer
from handlers.mail.delivery import SmtpConfig
from handlers.mail.errors import UnknownTemplate
from handlers.mail.handler import MailSendHandler
from handlers.mail.models import OutboxMessage
from handlers.mail.outbox import split_addresses

APPLICANT = "ani@dinkes.kuduskab.go.id"
VARS = {
    "opd_name": "Dinas Kesehatan Kabupaten Kudus",
    "subdomain": "dinkes",
    "applicant_email": APPLICANT,
    "letter_number": "421/1187/23.01/2026",
}


@pytest.fixture
def smtp():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def settings(tmp_path, smtp):
    return settings_for(tmp_path, smtp.port)


@pytest.fixture
def ctx(sessions, clock, settings):
    return HandlerContext(clock=clock, sessions=sessions, settings=settings)


@pytest.fixture
def delivery(sessions, clock, settings):
    return MailDelivery(sessions, clock=clock, settings=settings)


def send(ctx, agency: str = "kudus", job=None, **variables):
    job = job or fake_job(agency, "mail.send", {**VARS, **variables})
    assert MailSendHandler().run(job, ctx) == {}
    return job


def outbox(sessions) -> list[OutboxMessage]:
    with sessions() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at)))


def test_received_mail_goes_out_in_indonesian(ctx, agencies, delivery, smtp, sessions):
    send(ctx, template="received", to=APPLICANT)
    [row] = outbox(sessions)
    assert (row.status, row.attempts, row.recipient) == ("queued", 0, APPLICANT)
    assert smtp.messages == []  # the handler only enqueues

    report = delivery.deliver_due()
    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    [msg] = smtp.messages
    assert smtp.recipients() == [[APPLICANT]]
    assert msg["To"] == APPLICANT
    assert "Diskominfo Kabupaten Kudus" in msg["From"]
    assert "noreply@kuduskab.go.id" in msg["From"]
    assert msg["Subject"] == (
        "[KUDUS/2026/000123] Permohonan subdomain dinkes.kuduskab.go.id telah diterima"
    )
    body = body_of(msg)
    assert "Yth. Dinas Kesehatan Kabupaten Kudus" in body
    assert "Permohonan Saudara telah kami terima" in body
    assert "Nomor permohonan : KUDUS/2026/000123" in body
    assert "Nomor surat      : 421/1187/23.01/2026" in body
    assert "Tanggal diterima : 23 November 2026" in body
    assert "Diskominfo Kabupaten Kudus" in body
    assert msg["Message-ID"] == row.message_id
    [row] = outbox(sessions)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)
    assert delivery.deliver_due().attempted == 0  # nothing sent twice


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_renders_a_subject_and_a_body(template):
    ctx = {
        "business_key": "TAPIN/2026/000007",
        "agency_name": "Diskominfo Kabupaten Tapin",
        "opd_name": "Dinas Pendidikan",
        "subdomain": "disdik",
        "subdomain_text": "disdik.tapinkab.go.id",
        "fqdn": "disdik.tapinkab.go.id",
        "site_url": "https://disdik.tapinkab.go.id",
        "base_url": "https://layanan.tapinkab.go.id",
        "survey_url": "https://layanan.tapinkab.go.id/survey/abc",
        "credentials_link": "https://layanan.tapinkab.go.id/credentials/TOKEN",
        "credentials_ttl_hours": 72,
        "step": "3",
        "suggestions": ["disdik-tapin", "disdik2"],
        "name_reason": "Nama sudah terdaftar",
        "return_reason": "Surat belum ditandatangani",
        "complaint_text": "Website tidak dapat dibuka",
        "response": "Server telah diperbaiki",
        "today": "23 November 2026",
    }
    mail = MailRenderer().render(template, "tapin", ctx)
    assert "TAPIN/2026/000007" in mail.subject + mail.body
    assert "\n" not in mail.subject and mail.subject.strip() == mail.subject
    assert "{{" not in mail.body and "{%" not in mail.body
    assert "Diskominfo Kabupaten Tapin" in mail.body
    if template == "escalation":
        assert "(langkah 3)" in mail.subject and "pada langkah 3" in mail.body
    if template == "survey_invite":
        assert "https://layanan.tapinkab.go.id/survey/abc" in mail.body
        assert "Survei Kepuasan Masyarakat" in mail.subject
    if template == "name_taken":
        assert "- disdik-tapin" in mail.body and "Nama sudah terdaftar" in mail.body
    if template == "returned":
        assert "Surat belum ditandatangani" in mail.body


def test_survey_link_is_built_from_the_configured_base_url(ctx, agencies, delivery, smtp):
    job = send(ctx, agency="pekalongan", template="survey_invite", to=APPLICANT)
    delivery.deliver_due()
    body = body_of(smtp.messages[0])
    assert f"https://layanan.example.go.id/survey/{job.instance_id}" in body


def test_an_agency_can_override_a_template(ctx, agencies, delivery, smtp, tmp_path, sessions):
    (tmp_path / "mailtpl" / "kudus").mkdir(parents=True)
    (tmp_path / "mailtpl" / "kudus" / "received.txt").write_text(
        "Diterima: {{ business_key }}\n\nSalam dari Kudus, {{ opd_name }}.\n"
    )
    ctx.settings["MAIL_TEMPLATE_DIR"] = str(tmp_path / "mailtpl")
    send(ctx, template="received", to=APPLICANT)
    send(ctx, agency="tapin", template="received", to=APPLICANT)
    delivery.deliver_due()
    subjects = sorted(m["Subject"] for m in smtp.messages)
    assert subjects[0] == "Diterima: KUDUS/2026/000123"
    assert subjects[1].startswith("[TAPIN/2026/000123] Permohonan subdomain")


def test_to_group_goes_to_the_agency_members_with_an_address(
    ctx, agencies, delivery, smtp, sessions
):
    kudus, tapin = agencies["kudus"], agencies["tapin"]
    add_user(sessions, kudus, "kadis", "kadis@kuduskab.go.id", "head_of_office")
    add_user(sessions, kudus, "plt", "plt.kadis@kuduskab.go.id", "head_of_office", "admin")
    add_user(sessions, kudus, "mantan", "mantan@kuduskab.go.id", "head_of_office", active=False)
    add_user(sessions, kudus, "tanpa_email", None, "head_of_office")
    add_user(sessions, kudus, "kabid", "kabid@kuduskab.go.id", "head_of_division")
    add_user(sessions, tapin, "kadis_tapin", "kadis@tapinkab.go.id", "head_of_office")

    send(ctx, template="escalation", to_group="head_of_office", step="2", to=None)
    rows = outbox(sessions)
    assert sorted(r.recipient for r in rows) == ["kadis@kuduskab.go.id", "plt.kadis@kuduskab.go.id"]
    assert delivery.deliver_due().sent == 2
    assert sorted(r[0] for r in smtp.recipients()) == [
        "kadis@kuduskab.go.id",
        "plt.kadis@kuduskab.go.id",
    ]
    msg = smtp.messages[0]
    assert msg["Subject"] == (
        "[ESKALASI] Permohonan KUDUS/2026/000123 melewati batas waktu (langkah 2)"
    )
    assert "Yth. Kepala Dinas Diskominfo Kabupaten Kudus" in body_of(msg)

    with pytest.raises(MailError, match="complaint_officer"):
        send(ctx, template="escalation", to_group="complaint_officer", to=None)


def test_smtp_down_loses_nothing_and_retries_with_backoff(
    tmp_path, sessions, clock, agencies, caplog
):
    port = free_port()  # nothing listens here yet
    settings = settings_for(tmp_path, port)
    ctx = HandlerContext(clock=clock, sessions=sessions, settings=settings)
    delivery = MailDelivery(sessions, clock=clock, settings=settings)
    for n in range(3):
        send(ctx, template="received", to=f"opd{n}@kuduskab.go.id")

    report = delivery.deliver_due()
    # the server is unreachable: one message probes it, the others wait for the next round
    assert (report.sent, report.retried) == (0, 1)
    rows = outbox(sessions)
    assert [r.status for r in rows] == ["queued"] * 3
    first = next(r for r in rows if r.attempts == 1)
    assert f"127.0.0.1:{port}" in first.last_error
    assert first.next_attempt_at == clock.now() + timedelta(seconds=30)
    assert "attempt 1 failed" in caplog.text

    # the next rounds take the others; the first waits for its backoff
    delivery.deliver_due()
    delivery.deliver_due()
    assert sorted(r.attempts for r in outbox(sessions)) == [1, 1, 1]
    assert delivery.deliver_due().attempted == 0
    clock.advance(seconds=29)
    assert delivery.deliver_due().attempted == 0
    clock.advance(seconds=1)
    for _ in range(3):
        delivery.deliver_due()
    rows = outbox(sessions)
    assert sorted(r.attempts for r in rows) == [2, 2, 2]
    assert all(r.next_attempt_at == clock.now() + timedelta(seconds=60) for r in rows)
    assert all(r.status == "queued" and r.last_error for r in rows)

    sink = SmtpSink(port).start()  # the server is back
    try:
        clock.advance(seconds=60)
        report = delivery.deliver_due()
        assert (report.sent, report.retried, report.failed) == (3, 0, 0)
        assert sorted(r[0] for r in sink.recipients()) == [
            "opd0@kuduskab.go.id",
            "opd1@kuduskab.go.id",
            "opd2@kuduskab.go.id",
        ]
        rows = outbox(sessions)
        assert [(r.status, r.attempts, r.last_error) for r in rows] == [("sent", 3, None)] * 3
    finally:
        sink.stop()


def test_backoff_grows_then_stays_at_the_cap(tmp_path, sessions, clock, agencies):
    settings = settings_for(tmp_path, free_port(), MAIL_BACKOFF_S="10,20")
    ctx = HandlerContext(clock=clock, sessions=sessions, settings=settings)
    delivery = MailDelivery(sessions, clock=clock, settings=settings)
    send(ctx, template="received", to=APPLICANT)
    waits = []
    for _ in range(4):
        delivery.deliver_due()
        [row] = outbox(sessions)
        waits.append((row.next_attempt_at - clock.now()).total_seconds())
        clock.advance(seconds=waits[-1])
    assert waits == [10, 20, 20, 20]
    assert outbox(sessions)[0].status == "queued"  # never given up on


def test_a_retried_job_does_not_enqueue_twice(ctx, agencies, delivery, smtp, sessions):
    job = send(ctx, template="done", to=APPLICANT, fqdn="dinkes.kuduskab.go.id")
    send(ctx, job=job)  # the worker died before completing: the job runs again
    send(ctx, job=job)
    assert len(outbox(sessions)) == 1
    delivery.deliver_due()
    send(ctx, job=job)  # even after sending
    assert len(outbox(sessions)) == 1
    assert len(smtp.messages) == 1
    send(ctx, template="done", to=APPLICANT)  # another job (say, a loop) is another message
    assert len(outbox(sessions)) == 2


def test_letter_attachment_goes_with_the_mail(ctx, agencies, delivery, smtp, sessions, clock):
    store = AttachmentStore.from_settings(ctx.settings)
    pdf = b"%PDF-1.4\n% surat konfirmasi\n" + b"x" * 1000
    with sessions.begin() as s:
        att = store.add(
            s, agency_id=agencies["kalbar"], filename="konfirmasi.pdf", data=pdf, now=clock.now()
        )
        ref = make_ref(att.id)
    send(
        ctx,
        agency="kalbar",
        template="done",
        to=APPLICANT,
        attachment=ref,
        fqdn="bappeda.kalbarprov.go.id",
    )
    assert delivery.deliver_due().sent == 1
    msg = smtp.messages[0]
    assert "Surat konfirmasi terlampir" in body_of(msg)
    [part] = list(msg.iter_attachments())
    assert (part.get_filename(), part.get_content_type()) == ("konfirmasi.pdf", "application/pdf")
    assert part.get_content() == pdf

    # another agency's attachment is not found (never mailed out)
    with pytest.raises(Exception, match="tidak ditemukan"):
        send(ctx, agency="kudus", template="done", to=APPLICANT, attachment=ref)


def test_a_refused_recipient_fails_for_good_others_go_out(ctx, agencies, delivery, smtp, sessions):
    smtp.refuse["salah@kuduskab.go.id"] = "550 5.1.1 mailbox unavailable"
    smtp.refuse["penuh@kuduskab.go.id"] = "452 4.2.2 mailbox full"
    send(ctx, template="received", to="salah@kuduskab.go.id")
    send(ctx, template="received", to="penuh@kuduskab.go.id")
    send(ctx, template="received", to=APPLICANT)
    report = delivery.deliver_due()
    assert (report.sent, report.retried, report.failed) == (1, 1, 1)
    by_rcpt = {r.recipient: r for r in outbox(sessions)}
    assert by_rcpt["salah@kuduskab.go.id"].status == "failed"
    assert "550" in by_rcpt["salah@kuduskab.go.id"].last_error
    assert by_rcpt["penuh@kuduskab.go.id"].status == "queued"  # 4xx: try again later
    assert "452" in by_rcpt["penuh@kuduskab.go.id"].last_error

    del smtp.refuse["salah@kuduskab.go.id"]  # the mailbox was created; an admin requeues
    delivery.requeue(by_rcpt["salah@kuduskab.go.id"].id)
    assert delivery.deliver_due().sent == 1
    assert {r.recipient: r.status for r in outbox(sessions)}["salah@kuduskab.go.id"] == "sent"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_login_password_is_never_logged_or_stored(tmp_path, sessions, clock, agencies, caplog):
    caplog.set_level(logging.DEBUG)
    password = "Rahasia-SMTP-8812"
    sink = SmtpSink(auth=("sopflow", password)).start()
    try:
        settings = settings_for(tmp_path, sink.port, SMTP_USER="sopflow", SMTP_PASSWORD="salah")
        ctx = HandlerContext(clock=clock, sessions=sessions, settings=settings)
        send(ctx, template="received", to=APPLICANT)
        delivery = MailDelivery(sessions, clock=clock, settings=settings)
        delivery.deliver_due()
        [row] = outbox(sessions)
        assert row.status == "queued" and "535" in row.last_error  # wrong password: kept

        settings["SMTP_PASSWORD"] = password
        delivery = MailDelivery(sessions, clock=clock, settings=settings)
        with sessions() as s:
            cfg = SmtpConfig.for_agency(settings, s.get(Agency, agencies["kudus"]))
        assert password not in repr(cfg)
        clock.advance(minutes=1)
        assert delivery.deliver_due().sent == 1
        assert sink.logins == ["sopflow"]
    finally:
        sink.stop()
    assert password not in caplog.text
    with sessions() as s:
        assert all(password not in repr(vars(r)) for r in s.scalars(select(OutboxMessage)))


def test_per_agency_smtp_password_comes_from_settings_not_the_agency_row(
    tmp_path, sessions, clock, agencies
):
    with sessions.begin() as s:
        ag = s.get(Agency, agencies["tapin"])
        ag.settings = {"mail": {"smtp_host": "mail.tapinkab.go.id", "smtp_password": "bocor"}}
    settings = {"SMTP_PASSWORD": "umum", "SMTP_PASSWORD_TAPIN": "khusus-tapin"}
    with sessions() as s:
        tapin = SmtpConfig.for_agency(settings, s.get(Agency, agencies["tapin"]))
        kudus = SmtpConfig.for_agency(settings, s.get(Agency, agencies["kudus"]))
    assert (tapin.host, tapin.password) == ("mail.tapinkab.go.id", "khusus-tapin")
    assert (kudus.host, kudus.password) == ("localhost", "umum")


def test_bad_addresses_and_templates_are_refused(ctx, agencies, sessions):
    with pytest.raises(MailError):
        split_addresses("ani@kudus.go.id\r\nBcc: semua@contoh.id")
    with pytest.raises(MailError):
        split_addresses("bukan-alamat")
    assert split_addresses("Ani <ani@a.go.id>, budi@b.go.id; ") == ["ani@a.go.id", "budi@b.go.id"]
    with pytest.raises(MailError, match="no recipient"):
        send(ctx, template="received", to="")
    with pytest.raises(UnknownTemplate):
        send(ctx, template="tidak_ada", to=APPLICANT)
    with pytest.raises(UnknownTemplate):
        send(ctx, template="../../etc/passwd", to=APPLICANT)
    with pytest.raises(MailError, match="credentials_ref"):
        send(ctx, template="credentials", to=APPLICANT)
    assert outbox(sessions) == []


def test_a_newline_in_a_variable_cannot_inject_headers(ctx, agencies, delivery, smtp):
    send(ctx, template="received", to=APPLICANT, subdomain="dinkes\r\nBcc: semua@contoh.id")
    delivery.deliver_due()
    [msg] = smtp.messages
    assert msg["Bcc"] is None and smtp.recipients() == [[APPLICANT]]
    assert "\n" not in msg["Subject"]


def test_delivery_thread_sends_in_the_background(ctx, agencies, sessions, settings, smtp):
    delivery = MailDelivery(sessions, clock=ctx.clock, settings=settings, interval=0.05)
    delivery.start()
    try:
        send(ctx, template="received", to=APPLICANT)
        deadline = time.monotonic() + 10
        while not smtp.messages and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        delivery.stop()
    assert len(smtp.messages) == 1
    assert outbox(sessions)[0].status == "sent"
