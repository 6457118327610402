"""Helpers for the mail, letter and credential handler tests (plain functions and classes; each
test module declares its own fixtures with them, so no conftest is shared with other areas)."""

from __future__ import annotations

import email
import email.policy
import io
import socket
import threading
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select, text

from engine.models import Base, User, UserGroup
from engine.runtime import LockedTask

SECRET = "test-secret-key-0123456789abcdef0123456789abcdef"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpSink:
    """A real SMTP server (aiosmtpd) on a loopback port, keeping what it receives.

    ``refuse`` maps recipient addresses to an SMTP reply (e.g. ``"550 5.1.1 no such user"``);
    ``auth`` = (user, password) makes the server require that login."""

    def __init__(self, port: int | None = None, auth: tuple[str, str] | None = None) -> None:
        self.port = port or free_port()
        self.auth = auth
        self.envelopes: list[Any] = []
        self.refuse: dict[str, str] = {}
        self.logins: list[str] = []
        self._controller: Any = None
        self._lock = threading.Lock()

    # aiosmtpd handler hooks
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        with self._lock:
            self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def _authenticator(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult

        ok = (
            self.auth is not None
            and auth_data.login.decode() == self.auth[0]
            and auth_data.password.decode() == self.auth[1]
        )
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)

    def start(self) -> SmtpSink:
        from aiosmtpd.controller import Controller

        kwargs: dict[str, Any] = {}
        if self.auth is not None:
            kwargs.update(
                authenticator=self._authenticator, auth_required=True, auth_require_tls=False
            )
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        with self._lock:
            envs = list(self.envelopes)
        return [
            email.message_from_bytes(e.original_content or e.content, policy=email.policy.default)
            for e in envs
        ]

    def recipients(self) -> list[list[str]]:
        with self._lock:
            return [list(e.rcpt_tos) for e in self.envelopes]


def body_of(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return part.get_content()


def settings_for(tmp_path: Any, smtp_port: int, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "ATTACHMENT_DIR": str(tmp_path / "attachments"),
        "SECRET_KEY": SECRET,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp_port,
        "SMTP_TIMEOUT": 5,
        "BASE_URL": "https://layanan.example.go.id",
    }
    values.update(extra)
    return values


def fake_job(
    agency: str,
    topic: str,
    variables: dict[str, Any],
    *,
    job_id: str | None = None,
    business_key: str | None = None,
    instance_id: str | None = None,
) -> LockedTask:
    """A job as fetch-and-lock hands it over, without an engine behind it (the handlers then read
    their inputs from ``variables``)."""
    return LockedTask(
        id=job_id or str(uuid.uuid4()),
        topic=topic,
        worker_id="test",
        agency=agency,
        instance_id=instance_id or str(uuid.uuid4()),
        business_key=business_key or f"{agency.upper()}/2026/000123",
        definition_id="def",
        definition_key=agency,
        element_id="task",
        variables=dict(variables),
        retries=None,
        attempts=1,
        lock_expires_at=datetime.now(UTC) + timedelta(minutes=5),
        priority=0,
    )


def add_user(
    sessions: Any,
    agency_id: int,
    username: str,
    email_address: str | None,
    *groups: str,
    active: bool = True,
) -> None:
    with sessions.begin() as s:
        u = User(
            username=username,
            agency_id=agency_id,
            password_hash="x",
            display_name=username,
            email=email_address,
            active=active,
            created_at=datetime.now(UTC),
        )
        s.add(u)
        s.flush()
        for g in groups:
            s.add(UserGroup(user_id=u.id, group=g))


def dump_database(sessions: Any) -> str:
    """Every row of every table, as text: what someone with a copy of the database would see."""
    out: list[str] = []
    with sessions() as s:
        for table in Base.metadata.sorted_tables:
            for row in s.execute(select(table)).all():
                out.append(f"{table.name}: {tuple(row)!r}")
        # and the raw text, in case a type hides something in its Python form
        for table in Base.metadata.sorted_tables:
            for row in s.execute(text(f"SELECT * FROM {table.name}")).all():  # noqa: S608
                out.append(" ".join(str(v) for v in row))
    return "\n".join(out)


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
