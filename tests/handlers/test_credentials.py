"""credentials.issue and the one-time view: strong random passwords kept only hashed (plus an
encrypted copy until the first view), a link that works once and expires, a letter that prints the
password once; and a whole flow through the engine and its workers where the plaintext shows up
nowhere but in the applicant's mail and letter."""

from __future__ import annotations

import logging
import re
import string
import threading
import uuid
from datetime import timedelta

import pytest
from mlc_helpers import (
    SECRET,
    SmtpSink,
    add_user,
    body_of,
    dump_database,
    fake_job,
    pdf_text,
    settings_for,
)
from sqlalchemy import select
from support import CORPUS, actor
from werkzeug.security import check_password_hash

from engine.errors import ConfigurationError, NotFound
from engine.models import ExternalTask, HistoryEvent
from engine.workers import WorkerPool
from handlers.attachments.store import AttachmentStore
from handlers.base import HandlerContext
from handlers.credentials import CredentialsUnavailable, CredentialVault, generate_password
from handlers.credentials.handler import CredentialsIssueHandler
from handlers.credentials.models import SiteCredential
from handlers.credentials.vault import LOWER, SYMBOLS, UPPER, parse_ref
from handlers.letters.handler import LetterGenerateHandler
from handlers.letters.models import Letter
from handlers.mail import MailDelivery
from handlers.mail.handler import MailSendHandler
from handlers.mail.models import OutboxMessage
from handlers.registry import HandlerRegistry

APPLICANT = actor("ani", "sulut", "applicant")


@pytest.fixture
def settings(tmp_path):
    return {"ATTACHMENT_DIR": str(tmp_path / "attachments"), "SECRET_KEY": SECRET}


@pytest.fixture
def ctx(sessions, clock, settings):
    return HandlerContext(clock=clock, sessions=sessions, settings=settings)


@pytest.fixture
def vault(sessions, clock, settings):
    return CredentialVault.from_settings(settings, clock=clock, sessions=sessions)


REQUEST = "0f0e0d0c-0000-4000-8000-000000000001"  # the request the tests' credentials are for


def issue(ctx, agency="sulut", job=None, instance_id=None, **variables):
    job = job or fake_job(
        agency, "credentials.issue", {"subdomain": "dinkes", **variables}, instance_id=instance_id
    )
    return CredentialsIssueHandler().run(job, ctx)


def link(vault, sessions, ref) -> str:
    with sessions.begin() as s:
        url = vault.mint_link(s, ref)
    return url.rsplit("/", 1)[1]


def row(sessions, ref) -> SiteCredential:
    with sessions() as s:
        r = s.get(SiteCredential, parse_ref(ref))
        assert r is not None
        return r


def test_issue_returns_a_reference_and_the_username_only(ctx, agencies, sessions):
    out = issue(ctx)
    assert set(out) == {"credentials_ref", "site_username"}
    assert re.fullmatch(r"cred:[0-9a-f-]{36}", out["credentials_ref"])
    assert out["site_username"] == "admin_dinkes"
    r = row(sessions, out["credentials_ref"])
    assert r.password_hash.startswith("scrypt:")
    assert r.secret_enc and r.token_hash is None and r.revealed_at is None
    assert r.site == "dinkes.sulutprov.go.id"


def test_the_link_shows_the_password_once(ctx, agencies, sessions, vault):
    ref = issue(ctx)["credentials_ref"]
    token = link(vault, sessions, ref)
    assert vault.check(token) == "valid"
    assert vault.check(token) == "valid"  # looking does not consume
    shown = vault.reveal_once(token)
    assert (shown.username, shown.site, shown.credentials_ref) == (
        "admin_dinkes",
        "dinkes.sulutprov.go.id",
        ref,
    )
    assert shown.password not in repr(shown)
    assert check_password_hash(row(sessions, ref).password_hash, shown.password)
    with pytest.raises(CredentialsUnavailable) as err:
        vault.reveal_once(token)
    assert err.value.reason == "used" and "sudah pernah ditampilkan" in str(err.value)
    assert vault.check(token) == "used"
    r = row(sessions, ref)
    assert (r.secret_enc, r.revealed_via) == (None, "link")
    with pytest.raises(CredentialsUnavailable):
        link(vault, sessions, ref)  # no new link for a password already seen
    with pytest.raises(CredentialsUnavailable) as err:
        vault.reveal_once("x" * 43)
    assert err.value.reason == "unknown"
    with sessions() as s:
        [event] = s.scalars(select(HistoryEvent).where(HistoryEvent.kind == "credentials_revealed"))
        assert event.data == {"credentials_ref": ref, "via": "link"}


def test_passwords_are_strong_and_random():
    seen = {generate_password() for _ in range(300)}
    assert len(seen) == 300
    alphabet = set(LOWER + UPPER + string.digits + SYMBOLS)
    for pw in seen:
        assert len(pw) == 18 and set(pw) <= alphabet
        assert any(c in LOWER for c in pw) and any(c in UPPER for c in pw)
        assert any(c.isdigit() for c in pw) and any(c in SYMBOLS for c in pw)
    # every position takes many values (no fixed prefix or pattern)
    for i in range(18):
        assert len({pw[i] for pw in seen}) > 30
    with pytest.raises(ConfigurationError):
        generate_password(8)


def test_link_expires_on_the_clock(ctx, agencies, sessions, vault, clock):
    early, late = issue(ctx)["credentials_ref"], issue(ctx, subdomain="bappeda")["credentials_ref"]
    t_early, t_late = link(vault, sessions, early), link(vault, sessions, late)
    clock.advance(hours=71, minutes=59)
    assert vault.reveal_once(t_early).username == "admin_dinkes"
    clock.advance(minutes=1)  # 72 h after the link was sent
    assert vault.check(t_late) == "expired"
    with pytest.raises(CredentialsUnavailable) as err:
        vault.reveal_once(t_late)
    assert err.value.reason == "expired" and "kedaluwarsa" in str(err.value)
    r = row(sessions, late)
    assert (r.secret_enc, r.revealed_via) == (None, "expired")  # erased, not just refused
    assert vault.check(t_late) == "expired"


def test_ttl_is_configurable_and_expired_secrets_are_purged(
    ctx, agencies, sessions, clock, settings
):
    vault = CredentialVault.from_settings(
        {**settings, "CREDENTIALS_TTL_HOURS": "1"}, clock=clock, sessions=sessions
    )
    refs = [issue(ctx, subdomain=f"situs{n}")["credentials_ref"] for n in range(3)]
    for ref in refs[:2]:
        link(vault, sessions, ref)
    clock.advance(hours=1, seconds=1)
    assert vault.purge_expired() == 2
    assert [row(sessions, r).secret_enc is None for r in refs] == [True, True, False]


def test_a_new_link_replaces_the_old_one(ctx, agencies, sessions, vault):
    ref = issue(ctx)["credentials_ref"]
    old = link(vault, sessions, ref)
    new = link(vault, sessions, ref)
    assert vault.check(old) == "unknown"
    assert vault.reveal_once(new).username == "admin_dinkes"


def test_of_concurrent_views_exactly_one_gets_the_password(ctx, agencies, sessions, vault):
    ref = issue(ctx)["credentials_ref"]
    token = link(vault, sessions, ref)
    results: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def view() -> None:
        barrier.wait()
        try:
            vault.reveal_once(token)
            outcome = "shown"
        except CredentialsUnavailable as e:
            outcome = e.reason
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=view) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == ["shown"] + ["used"] * 7


def test_a_retried_issue_job_gets_the_same_credentials(ctx, agencies, sessions):
    job = fake_job("tapin", "credentials.issue", {"subdomain": "disdik"})
    assert issue(ctx, job=job) == issue(ctx, job=job)
    with sessions() as s:
        assert len(s.scalars(select(SiteCredential)).all()) == 1


def test_username_pattern_and_bad_label(ctx, agencies, sessions):
    ctx.settings["CREDENTIALS_USERNAME"] = "{label}.{agency}"
    assert issue(ctx, agency="tapin", subdomain="disdik")["site_username"] == "disdik.tapin"
    assert (
        issue(ctx, agency="tapin", subdomain="", fqdn="pupr.tapinkab.go.id")["site_username"]
        == "pupr.tapin"
    )
    with pytest.raises(Exception, match="label"):
        issue(ctx, subdomain="Bukan Label!")


def test_no_secret_key_no_credentials(sessions, clock, agencies, monkeypatch):
    monkeypatch.delenv("SOPFLOW_SECRET_KEY", raising=False)
    ctx = HandlerContext(clock=clock, sessions=sessions, settings={})
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        issue(ctx)


def test_a_changed_secret_key_makes_pending_passwords_expire(ctx, agencies, sessions, clock, vault):
    ref = issue(ctx)["credentials_ref"]
    token = link(vault, sessions, ref)
    other = CredentialVault(clock=clock, sessions=sessions, secret_key="another-secret-key-xyz")
    with pytest.raises(CredentialsUnavailable) as err:
        other.reveal_once(token)
    assert err.value.reason == "expired"
    assert row(sessions, ref).secret_enc is None


def test_the_letter_prints_the_password_once(ctx, agencies, sessions, vault, settings):
    ref = issue(ctx, instance_id=REQUEST)["credentials_ref"]
    job = fake_job(
        "sulut",
        "letter.generate",
        {"template": "credentials_letter", "credentials_ref": ref, "opd_name": "Dinas Kesehatan"},
        instance_id=REQUEST,
    )
    out = LetterGenerateHandler().run(job, ctx)
    store = AttachmentStore.from_settings(settings)
    with sessions() as s:
        att = store.get(s, out["letter_pdf"], agency_id=agencies["sulut"])
        assert att.sensitive
        text = pdf_text(store.read(att))
    assert "Penyampaian akun administrator website dinkes.sulutprov.go.id" in text
    assert "Username : admin_dinkes" in text
    password = re.search(r"Kata sandi:\n(\S+)\n", text).group(1)
    r = row(sessions, ref)
    assert check_password_hash(r.password_hash, password)
    assert (r.secret_enc, r.revealed_via) == (None, "letter")
    assert LetterGenerateHandler().run(job, ctx) == out  # a retried job: the same letter
    with pytest.raises(CredentialsUnavailable):
        link(vault, sessions, ref)  # printed: no link any more
    other = fake_job(
        "sulut",
        "letter.generate",
        {"template": "credentials_letter", "credentials_ref": ref},
        instance_id=REQUEST,
    )
    with pytest.raises(CredentialsUnavailable):
        LetterGenerateHandler().run(other, ctx)  # nor a second letter
    with pytest.raises(Exception, match="credentials_ref"):
        LetterGenerateHandler().run(
            fake_job("sulut", "letter.generate", {"template": "credentials_letter"}), ctx
        )
    with pytest.raises(Exception, match="tidak ditemukan"):  # another agency's credentials
        LetterGenerateHandler().run(
            fake_job(
                "kudus",
                "letter.generate",
                {"template": "credentials_letter", "credentials_ref": ref},
                instance_id=REQUEST,
            ),
            ctx,
        )


# ------------------------------------------------- only the request's own credentials (11)
def test_a_letter_cannot_print_another_requests_credentials(ctx, agencies, sessions, settings):
    victim = issue(ctx, instance_id=REQUEST)["credentials_ref"]  # same agency, other request
    attacker = fake_job(
        "sulut",
        "letter.generate",
        {"template": "credentials_letter", "credentials_ref": victim},
    )
    with pytest.raises(NotFound) as err:
        LetterGenerateHandler().run(attacker, ctx)
    assert "tidak ditemukan untuk permohonan ini" in str(err.value)
    assert "not found for this request" in str(err.value)
    r = row(sessions, victim)
    assert r.secret_enc is not None and r.revealed_via is None  # still there for its owner
    with sessions() as s:
        assert s.scalars(select(Letter)).all() == []  # no letter, no number taken
    # the owner's letter still prints it
    own = fake_job(
        "sulut",
        "letter.generate",
        {"template": "credentials_letter", "credentials_ref": victim},
        instance_id=REQUEST,
    )
    assert LetterGenerateHandler().run(own, ctx)["issued_letter_number"] == "B/000001/DKIPS/2026"
    assert row(sessions, victim).revealed_via == "letter"


def test_a_mail_cannot_send_another_requests_credentials(ctx, agencies, sessions):
    victim = issue(ctx, instance_id=REQUEST)["credentials_ref"]
    attacker = fake_job(
        "sulut",
        "mail.send",
        {"template": "credentials", "to": "eve@example.org", "credentials_ref": victim},
    )
    with pytest.raises(NotFound):
        MailSendHandler().run(attacker, ctx)
    with sessions() as s:
        assert s.scalars(select(OutboxMessage)).all() == []
    assert row(sessions, victim).secret_enc is not None
    own = fake_job(
        "sulut",
        "mail.send",
        {"template": "credentials", "to": "a@sulutprov.go.id", "credentials_ref": victim},
        instance_id=REQUEST,
    )
    MailSendHandler().run(own, ctx)
    with sessions() as s:
        [queued] = s.scalars(select(OutboxMessage)).all()
        assert queued.credentials_ref == victim and queued.instance_id == REQUEST


def test_a_link_is_minted_only_for_the_request_of_the_mail(ctx, agencies, sessions, vault):
    ref = issue(ctx, instance_id=REQUEST)["credentials_ref"]
    with sessions.begin() as s, pytest.raises(NotFound):
        vault.mint_link(s, ref, agency_id=agencies["sulut"], instance_id=str(uuid.uuid4()))
    assert row(sessions, ref).token_hash is None
    with sessions.begin() as s:
        assert "/credentials/" in vault.mint_link(
            s, ref, agency_id=agencies["sulut"], instance_id=REQUEST
        )


# ---------------------------------------------------------------------------- the whole flow
def test_flow_through_engine_and_workers_keeps_the_password_out_of_everything(
    engine, admin, sessions, clock, agencies, tmp_path, caplog
):
    caplog.set_level(logging.DEBUG)
    sink = SmtpSink().start()
    try:
        settings = settings_for(tmp_path, sink.port)
        ctx = HandlerContext(clock=clock, sessions=sessions, settings=settings)
        sulut_admin = actor("admin_sulut", "sulut", "admin")
        add_user(sessions, agencies["sulut"], "kadis", "kadis@sulutprov.go.id", "head_of_office")
        xml = (CORPUS / "site_credentials.bpmn").read_bytes()
        engine.deploy(sulut_admin, [("site_credentials.bpmn", xml)])
        common = {
            "opd_name": "Dinas Kesehatan Provinsi Sulawesi Utara",
            "applicant_email": "dinkes@sulutprov.go.id",
        }
        online = engine.start(
            APPLICANT,
            "site_credentials",
            variables={**common, "subdomain": "dinkes", "channel": "online"},
        )
        in_person = engine.start(
            APPLICANT,
            "site_credentials",
            variables={**common, "subdomain": "disdik", "channel": "in_person"},
        )

        registry = HandlerRegistry(
            [MailSendHandler(), LetterGenerateHandler(), CredentialsIssueHandler()]
        )
        pool = WorkerPool(engine, registry, context=ctx)
        for _ in range(30):
            if not pool.run_once():
                break
        for inst in (online, in_person):
            got = engine.get_instance(sulut_admin, inst.id)
            assert got.state == "completed", engine.incidents(sulut_admin)
        v_online = engine.get_instance(sulut_admin, online.id).variables
        v_letter = engine.get_instance(sulut_admin, in_person.id).variables
        assert v_online["site_username"] == "admin_dinkes"
        assert v_letter["issued_letter_number"] == "B/000001/DKIPS/2026"
        assert v_letter["letter_pdf"].startswith("att:")

        delivery = MailDelivery.from_context(ctx)
        assert delivery.deliver_due().sent == 6
        by_subject = {m["Subject"]: m for m in sink.messages}
        assert len(by_subject) == 6
        cred_mail = next(m for s, m in by_subject.items() if "Akun admin website" in s)
        assert cred_mail["To"] == "dinkes@sulutprov.go.id"
        body = body_of(cred_mail)
        assert "Username       : admin_dinkes" in body
        assert "berlaku 72 jam" in body
        token = re.search(r"https://layanan\.example\.go\.id/credentials/(\S+)", body).group(1)
        done_online = [
            body_of(m)
            for s, m in by_subject.items()
            if s == f"[{online.business_key}] Subdomain dinkes.sulutprov.go.id telah aktif"
        ]
        assert len(done_online) == 1 and "/credentials/" not in done_online[0]
        escalation = next(m for s, m in by_subject.items() if s.startswith("[ESKALASI]"))
        assert (
            escalation["To"] == "kadis@sulutprov.go.id" and "(langkah 5)" in escalation["Subject"]
        )

        vault = CredentialVault.from_settings(settings, clock=clock, sessions=sessions)
        password = vault.reveal_once(token).password  # the one link still works
        with pytest.raises(CredentialsUnavailable):
            vault.reveal_once(token)

        done_letter = next(
            m
            for s, m in by_subject.items()
            if s == f"[{in_person.business_key}] Subdomain disdik.sulutprov.go.id telah aktif"
        )
        [pdf] = list(done_letter.iter_attachments())
        text = pdf_text(pdf.get_content())
        assert "Username : admin_disdik" in text
        letter_password = re.search(r"Kata sandi:\n(\S+)\n", text).group(1)
        with sessions() as s:
            hashes = {r.username: r.password_hash for r in s.scalars(select(SiteCredential))}
            jobs = [j.variables for j in s.scalars(select(ExternalTask))]
        assert check_password_hash(hashes["admin_dinkes"], password)
        assert check_password_hash(hashes["admin_disdik"], letter_password)
        assert password != letter_password

        # the plaintext (and the link token) are nowhere: tables, variables, history, jobs, logs
        dump = dump_database(sessions)
        history = [
            repr((h.kind, h.data))
            for inst in (online, in_person)
            for h in engine.history(sulut_admin, inst.id)
        ]
        haystacks = {
            "database": dump,
            "variables": repr([v_online, v_letter]),
            "history": "\n".join(history),
            "jobs": repr(jobs),
            # our logs (the test SMTP server's own DEBUG log is the recipient's mailbox)
            "logs": "\n".join(
                f"{r.name} {r.getMessage()} {r.exc_text or ''}"
                for r in caplog.records
                if not r.name.startswith("mail.log")
            ),
        }
        assert "job_completed" in haystacks["history"] and "admin_dinkes" in dump
        for name, haystack in haystacks.items():
            for secret in (password, letter_password, token):
                assert secret not in haystack, f"a secret is in the {name}"
    finally:
        sink.stop()


def test_delivery_retry_after_a_failed_send_mints_a_fresh_link(
    sessions, clock, agencies, tmp_path, settings
):
    """The link is minted when the mail goes out; a send that fails leaves a link nobody got,
    replaced by the next attempt's."""
    from mlc_helpers import free_port

    port = free_port()
    settings = settings_for(tmp_path, port)
    ctx = HandlerContext(clock=clock, sessions=sessions, settings=settings)
    ref = issue(ctx, instance_id=REQUEST)["credentials_ref"]
    job = fake_job(
        "sulut",
        "mail.send",
        {
            "template": "credentials",
            "to": "a@sulutprov.go.id",
            "credentials_ref": ref,
            "fqdn": "dinkes.sulutprov.go.id",
        },
        instance_id=REQUEST,
    )
    MailSendHandler().run(job, ctx)
    delivery = MailDelivery(sessions, clock=clock, settings=settings)
    delivery.deliver_due()  # server down: nothing minted before a connection exists
    assert row(sessions, ref).token_hash is None
    sink = SmtpSink(port).start()
    try:
        clock.advance(minutes=1)
        assert delivery.deliver_due().sent == 1
        token = re.search(r"/credentials/(\S+)", body_of(sink.messages[0])).group(1)
        vault = CredentialVault.from_settings(settings, clock=clock, sessions=sessions)
        assert vault.reveal_once(token).username == "admin_dinkes"
    finally:
        sink.stop()


def test_the_mail_for_an_already_seen_password_says_so(sessions, clock, agencies, tmp_path, vault):
    sink = SmtpSink().start()
    try:
        settings = settings_for(tmp_path, sink.port)
        ctx = HandlerContext(clock=clock, sessions=sessions, settings=settings)
        ref = issue(ctx, instance_id=REQUEST)["credentials_ref"]
        vault.reveal_once(link(vault, sessions, ref))
        MailSendHandler().run(
            fake_job(
                "sulut",
                "mail.send",
                {"template": "credentials", "to": "a@sulutprov.go.id", "credentials_ref": ref},
                instance_id=REQUEST,
            ),
            ctx,
        )
        MailDelivery(sessions, clock=clock, settings=settings).deliver_due()
        assert "tautan tidak tersedia" in body_of(sink.messages[0])
    finally:
        sink.stop()


def test_ttl_default_is_72_hours(vault):
    assert vault.ttl == timedelta(hours=72)
