"""Send the outbox by SMTP, with retries and backoff per message.

:meth:`MailDelivery.deliver_due` claims due messages one at a time (a conditional UPDATE to
``sending`` with a lease, so several processes can deliver side by side), sends each, and records
the outcome: ``sent``; back to ``queued`` with ``attempts``, ``last_error`` and a later
``next_attempt_at`` (server down, timeout, 4xx, authentication or TLS trouble: nothing is lost);
or ``failed`` on a permanent 5xx refusal of the recipient or the content (an administrator may
:meth:`~MailDelivery.requeue` it). When a server cannot be reached, the rest of that server's
messages wait for the next round instead of each timing out in turn.

SMTP settings come per agency (``agency.settings["mail"]``: ``smtp_host``, ``smtp_port``,
``smtp_user``, ``smtp_starttls``, ``smtp_ssl``, ``smtp_timeout``, ``smtp_tls_verify``, ``from``)
or process-wide (``SOPFLOW_SMTP_HOST`` ...). The password comes only from ``SMTP_PASSWORD_<CODE>``
or ``SMTP_PASSWORD`` (settings or ``SOPFLOW_`` environment): it is never stored, logged or shown.

Run it with :meth:`MailDelivery.start` / :meth:`MailDelivery.stop` (a thread, like the timer
poller) or call :meth:`MailDelivery.deliver_due` from any loop.
"""

from __future__ import annotations

import contextlib
import email.policy
import logging
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import SystemClock
from engine.errors import SopflowError
from engine.queries.recipients import AgencyInfo, agency_by_id
from engine.workers import PeriodicThread

from ..agency_settings import as_bool, as_int, int_list, secret, setting
from ..attachments.store import AttachmentStore
from ..credentials.vault import CredentialsUnavailable, CredentialVault
from .models import OutboxMessage
from .render import CREDENTIALS_LINK_PLACEHOLDER

log = logging.getLogger("sopflow.mail")
# RFC 5322 allows 998 characters a line; the default 78 folds long subjects oddly
_POLICY = email.policy.SMTP.clone(max_line_length=998)

DEFAULT_BACKOFF_S = (30, 60, 300, 900, 3600)
LINK_UNAVAILABLE = (
    "(tautan tidak tersedia: kata sandi sudah pernah ditampilkan atau kedaluwarsa; "
    "hubungi petugas untuk kata sandi baru)"
)


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    use_ssl: bool = False
    timeout: float = 30.0
    verify: bool = True

    @classmethod
    def for_agency(cls, settings: Mapping[str, Any] | None, agency: AgencyInfo) -> SmtpConfig:
        use_ssl = as_bool(setting(settings, agency, "mail", "smtp_ssl"))
        sender = setting(settings, agency, "mail", "from") or formataddr(
            (agency.name, f"noreply@{agency.parent_domain}")
        )
        return cls(
            host=str(setting(settings, agency, "mail", "smtp_host", "localhost")),
            port=as_int(setting(settings, agency, "mail", "smtp_port"), 465 if use_ssl else 25),
            sender=str(sender),
            user=setting(settings, agency, "mail", "smtp_user") or None,
            password=secret(settings, "SMTP_PASSWORD", agency),
            starttls=as_bool(setting(settings, agency, "mail", "smtp_starttls")),
            use_ssl=use_ssl,
            timeout=float(setting(settings, agency, "mail", "smtp_timeout", 30)),
            verify=as_bool(setting(settings, agency, "mail", "smtp_tls_verify"), True),
        )

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.host, self.port, self.user, self.starttls, self.use_ssl)

    def connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        smtp: smtplib.SMTP
        if self.use_ssl:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if self.starttls and not self.use_ssl:
                smtp.starttls(context=context)
                smtp.ehlo()
            if self.user:
                smtp.login(self.user, self.password or "")
        except BaseException:
            _close(smtp)
            raise
        return smtp


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def attempted(self) -> int:
        return self.sent + self.retried + self.failed


def _close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except Exception:  # noqa: BLE001 - closing a broken connection
        with contextlib.suppress(Exception):
            smtp.close()


def _permanent(err: BaseException) -> bool:
    """A 5xx refusal of this message (recipient or content); everything else is retried."""
    if isinstance(err, smtplib.SMTPRecipientsRefused):
        codes = [c for c, _ in err.recipients.values()]
        return bool(codes) and all(c >= 500 for c in codes)
    if isinstance(err, smtplib.SMTPDataError):
        return err.smtp_code >= 500
    return False


def _describe(err: BaseException) -> str:
    if isinstance(err, smtplib.SMTPRecipientsRefused):
        parts = [
            f"{rcpt}: {code} {msg.decode('utf-8', 'replace') if isinstance(msg, bytes) else msg}"
            for rcpt, (code, msg) in err.recipients.items()
        ]
        return "recipient refused: " + "; ".join(parts)
    if isinstance(err, smtplib.SMTPResponseException):
        msg = err.smtp_error
        text = msg.decode("utf-8", "replace") if isinstance(msg, bytes) else str(msg)
        return f"{type(err).__name__}: {err.smtp_code} {text}"
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__


class MailDelivery(PeriodicThread):
    name = "sopflow-mail"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        clock: Any = None,
        settings: Mapping[str, Any] | None = None,
        interval: float = 5.0,
        batch: int = 50,
        store: AttachmentStore | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock or SystemClock()
        self.settings = dict(settings or {})
        self.batch = batch
        self.store = store or AttachmentStore.from_settings(self.settings)
        self.backoff_s = int_list(
            setting(self.settings, None, "mail", "backoff_s"), DEFAULT_BACKOFF_S
        )
        self.max_attempts = as_int(setting(self.settings, None, "mail", "max_attempts"), 0)
        self.lease = timedelta(
            seconds=max(60, as_int(setting(self.settings, None, "mail", "lease_s"), 300))
        )
        self._vault: CredentialVault | None = None
        PeriodicThread.__init__(self, interval)

    @classmethod
    def from_context(cls, ctx: Any, **kwargs: Any) -> MailDelivery:
        return cls(ctx.sessions, clock=ctx.clock, settings=ctx.settings, **kwargs)

    # ------------------------------------------------------------------ one round
    def backoff(self, attempts: int) -> timedelta:
        return timedelta(seconds=self.backoff_s[min(max(attempts - 1, 0), len(self.backoff_s) - 1)])

    def deliver_due(self, limit: int | None = None) -> DeliveryReport:
        """Send up to ``limit`` due messages; returns what happened."""
        limit = self.batch if limit is None else limit
        report = DeliveryReport()
        connections: dict[tuple[Any, ...], smtplib.SMTP] = {}
        unreachable: set[int] = set()  # agencies whose server failed this round
        try:
            while report.attempted < limit:
                claimed = self._claim_next(unreachable)
                if claimed is None:
                    break
                row, agency, cfg = claimed
                outcome = self._send(row, agency, cfg, connections)
                if outcome == "unreachable":
                    unreachable.add(agency.id)
                    report.retried += 1
                elif outcome == "sent":
                    report.sent += 1
                elif outcome == "failed":
                    report.failed += 1
                else:
                    report.retried += 1
        finally:
            for smtp in connections.values():
                _close(smtp)
        return report

    def _claimable(self, now: Any) -> Any:
        return or_(
            and_(OutboxMessage.status == "queued", OutboxMessage.next_attempt_at <= now),
            and_(OutboxMessage.status == "sending", OutboxMessage.locked_until <= now),
        )

    def _claim_next(
        self, skip_agencies: set[int]
    ) -> tuple[OutboxMessage, AgencyInfo, SmtpConfig] | None:
        now = self.clock.now()
        with self.sessions.begin() as s:
            q = select(OutboxMessage).where(self._claimable(now))
            if skip_agencies:
                q = q.where(OutboxMessage.agency_id.not_in(skip_agencies))
            q = q.order_by(OutboxMessage.next_attempt_at, OutboxMessage.created_at).limit(1)
            if s.get_bind().dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True)
            for _ in range(3):
                row = s.scalar(q)
                if row is None:
                    return None
                res = s.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == row.id, self._claimable(now))
                    .values(
                        status="sending",
                        locked_until=now + self.lease,
                        attempts=OutboxMessage.attempts + 1,
                    )
                    .execution_options(synchronize_session=False)
                )
                if int(getattr(res, "rowcount", 0) or 0) == 1:
                    s.refresh(row)
                    agency = agency_by_id(s, row.agency_id)
                    assert agency is not None
                    s.expunge(row)
                    return row, agency, SmtpConfig.for_agency(self.settings, agency)
            return None

    def _vault_for(self) -> CredentialVault:
        if self._vault is None:
            self._vault = CredentialVault.from_settings(
                self.settings, clock=self.clock, sessions=self.sessions
            )
        return self._vault

    def _message(self, row: OutboxMessage, agency: AgencyInfo, cfg: SmtpConfig) -> EmailMessage:
        body = row.body_text
        if row.credentials_ref and CREDENTIALS_LINK_PLACEHOLDER in body:
            # minted now, committed before sending; exists only in this e-mail (see vault.py)
            try:
                with self.sessions.begin() as s:
                    url = self._vault_for().mint_link(
                        s,
                        row.credentials_ref,
                        agency_id=agency.id,
                        instance_id=row.instance_id,
                        base_url=str(
                            setting(
                                self.settings, agency, "mail", "base_url", "http://localhost:5000"
                            )
                        ),
                    )
            except CredentialsUnavailable:
                url = LINK_UNAVAILABLE
            body = body.replace(CREDENTIALS_LINK_PLACEHOLDER, url)
        msg = EmailMessage(policy=_POLICY)
        msg["From"] = cfg.sender
        msg["To"] = row.recipient
        msg["Subject"] = row.subject
        msg["Date"] = format_datetime(self.clock.now())
        msg["Message-ID"] = row.message_id
        msg["Auto-Submitted"] = "auto-generated"
        if row.business_key:
            msg["X-Sopflow-Request"] = row.business_key
        msg.set_content(body, charset="utf-8")
        if row.attachments:
            with self.sessions() as s:
                for ref in row.attachments:
                    att = self.store.get(s, ref, agency_id=agency.id)
                    maintype, _, subtype = att.mime_type.partition("/")
                    msg.add_attachment(
                        self.store.read(att),
                        maintype=maintype or "application",
                        subtype=subtype or "octet-stream",
                        filename=att.filename,
                    )
        return msg

    def _send(
        self,
        row: OutboxMessage,
        agency: AgencyInfo,
        cfg: SmtpConfig,
        connections: dict[tuple[Any, ...], smtplib.SMTP],
    ) -> str:
        smtp = connections.get(cfg.key)
        reused = smtp is not None
        if smtp is None:
            try:
                smtp = connections[cfg.key] = cfg.connect()
            except (OSError, smtplib.SMTPException) as e:
                self._record(row, "retry", f"SMTP {cfg.host}:{cfg.port}: {_describe(e)}")
                return "unreachable"
        try:
            msg = self._message(row, agency, cfg)
        except Exception as e:  # noqa: BLE001 - a missing attachment file, no secret key ...
            return self._record(row, "retry", f"cannot build the message: {_describe(e)}")
        envelope_from = parseaddr(cfg.sender)[1] or cfg.sender
        try:
            try:
                smtp.send_message(msg, from_addr=envelope_from, to_addrs=[row.recipient])
            except smtplib.SMTPServerDisconnected:
                if not reused:
                    raise
                # the server closed a connection kept from the previous message: once more
                connections.pop(cfg.key, None)
                smtp = connections[cfg.key] = cfg.connect()
                smtp.send_message(msg, from_addr=envelope_from, to_addrs=[row.recipient])
        except Exception as e:  # noqa: BLE001 - any trouble keeps the message queued
            # the server answered (smtplib reset the transaction): the connection stays usable
            answered = isinstance(e, (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused))
            if not answered:
                bad = connections.pop(cfg.key, None)
                if bad is not None:
                    _close(bad)
            if _permanent(e):
                return self._record(row, "failed", _describe(e))
            self._record(row, "retry", f"SMTP {cfg.host}:{cfg.port}: {_describe(e)}")
            # SMTPException is an OSError too: only a lost connection means "unreachable"
            if isinstance(e, smtplib.SMTPServerDisconnected) or (
                isinstance(e, OSError) and not isinstance(e, smtplib.SMTPException)
            ):
                return "unreachable"
            return "retry"
        return self._record(row, "sent", None)

    def _record(self, row: OutboxMessage, outcome: str, error: str | None) -> str:
        now = self.clock.now()
        values: dict[str, Any] = {"locked_until": None}
        if outcome == "sent":
            values.update(status="sent", sent_at=now, last_error=None)
            log.info("mail %s (%s) sent to %s", row.id, row.template, row.recipient)
        elif outcome == "failed" or (self.max_attempts and row.attempts >= self.max_attempts):
            outcome = "failed"
            values.update(status="failed", last_error=error)
            log.warning("mail %s to %s failed for good: %s", row.id, row.recipient, error)
        else:
            due = now + self.backoff(row.attempts)
            values.update(status="queued", next_attempt_at=due, last_error=error)
            log.warning(
                "mail %s to %s: attempt %d failed (%s); next attempt at %s",
                row.id,
                row.recipient,
                row.attempts,
                error,
                due.isoformat(),
            )
        with self.sessions.begin() as s:
            s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        return outcome

    # ------------------------------------------------------------------ administration
    def requeue(self, message_id: str) -> None:
        """Send a failed (or waiting) message again now."""
        with self.sessions.begin() as s:
            row = s.get(OutboxMessage, message_id)
            if row is None:
                raise SopflowError("Message not found", "Pesan tidak ditemukan")
            row.status = "queued"
            row.next_attempt_at = self.clock.now()
            row.locked_until = None

    # ------------------------------------------------------------------ background thread
    def tick(self) -> bool:
        return self.deliver_due().attempted >= self.batch
