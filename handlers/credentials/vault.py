"""Website administrator credentials that a person sees exactly once.

Design
------
``credentials.issue`` draws a strong random password (:func:`generate_password`, ``secrets``)
and stores, in ``site_credential``:

* ``password_hash`` -- werkzeug scrypt, kept for good (the hosting side may verify against it);
* ``secret_enc`` -- the plaintext encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under a key
  derived by HKDF-SHA256 from the application secret (``SECRET_KEY``). This copy exists only so
  the applicant can be shown the password once; it is erased (set to NULL) in the same
  transaction that shows or prints it, and when its link expires.

The process only ever carries ``credentials_ref`` (``cred:<uuid>``) and the username: never the
password, never the link token. Two ways out, each usable once in total:

* **Link (online channel).** The mail handler stores the message in the outbox with a
  placeholder; the delivery component calls :meth:`CredentialVault.mint_link` right before
  sending, which draws a fresh 256-bit token, stores only its SHA-256 and an expiry
  (``CREDENTIALS_TTL_HOURS``, default 72, counted from the sending), and puts the URL into
  that one e-mail. The token therefore exists only in memory and in the recipient's mailbox:
  not in task data, history, the outbox or logs. Sending again (a retry) replaces the token, so
  only the last link sent works. The web page calls :meth:`check` on GET (mail scanners follow
  links: a GET must not consume anything) and :meth:`reveal_once` on the POST of a button;
  ``reveal_once`` decrypts, then erases with a conditional UPDATE (``WHERE secret_enc IS NOT
  NULL``) so that of two concurrent clicks exactly one gets the password.
* **Letter (in-person channel).** ``letter.generate`` with ``credentials_letter`` calls
  :meth:`take` inside its own transaction: the password goes into the PDF and the encrypted copy
  is erased in the same commit, so a rolled-back letter leaves the password retrievable.

Afterwards :meth:`check` and :meth:`reveal_once` answer "already used" or "expired"; a new
password means issuing new credentials (an admin action). Rotating ``SECRET_KEY`` makes the
pending (not yet seen) secrets unreadable; they then count as expired.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.security import generate_password_hash

from engine.audit import record_event
from engine.errors import ConfigurationError, NotFound
from engine.states import HistoryKind

from ..agency_settings import as_int, checked_format, secret, setting
from .errors import CredentialsUnavailable
from .models import SiteCredential

REF_PREFIX = "cred:"
LOWER = "abcdefghijkmnopqrstuvwxyz"  # no l
UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, O
DIGITS = "23456789"  # no 0, 1
SYMBOLS = "-_.!@#%+=?"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class RevealedCredentials:
    credentials_ref: str
    username: str
    site: str | None
    password: str = field(repr=False)


def make_ref(ident: str) -> str:
    return f"{REF_PREFIX}{ident}"


def parse_ref(ref: Any) -> str | None:
    if not isinstance(ref, str) or not ref.startswith(REF_PREFIX):
        return None
    ident = ref[len(REF_PREFIX) :].strip().lower()
    return ident if _UUID.fullmatch(ident) else None


def credential_row(
    s: Session, ref: str, *, agency_id: int | None, instance_id: str | None = None
) -> SiteCredential:
    """The credential ``ref`` names, of the agency and (when ``instance_id`` is given) issued for
    that very request, else NotFound. A letter or mail of one request can therefore never print
    or send the password of another request, not even one of the same agency; the answer is the
    same as for a reference that does not exist."""
    ident = parse_ref(ref)
    row = s.get(SiteCredential, ident) if ident else None
    if (
        row is None
        or (agency_id is not None and row.agency_id != agency_id)
        or (instance_id is not None and row.instance_id != instance_id)
    ):
        raise NotFound(
            f"Credentials '{ref}' not found for this request",
            f"Kredensial '{ref}' tidak ditemukan untuk permohonan ini",
            ref=ref,
        )
    return row


def generate_password(length: int = 18) -> str:
    """Random over 66 unambiguous characters (~6 bits each: 18 -> ~108 bits), with at least one
    lower-case letter, upper-case letter, digit and symbol."""
    if length < 12:
        raise ConfigurationError(
            "Generated passwords need at least 12 characters",
            "Kata sandi yang dibuat minimal 12 karakter",
        )
    alphabet = LOWER + UPPER + DIGITS + SYMBOLS
    while True:
        pw = "".join(secrets.choice(alphabet) for _ in range(length))
        if all(any(c in group for c in pw) for group in (LOWER, UPPER, DIGITS, SYMBOLS)):
            return pw


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def fernet_for(secret_key: str | bytes) -> Fernet:
    raw = secret_key.encode("utf-8") if isinstance(secret_key, str) else secret_key
    key = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"sopflow.credentials.v1",
        info=b"fernet key for one-time credentials",
    ).derive(raw)
    return Fernet(base64.urlsafe_b64encode(key))


class CredentialVault:
    """Issue, link, reveal and take credentials. Methods taking ``s`` work inside the caller's
    transaction; :meth:`reveal_once`, :meth:`check` and :meth:`purge_expired` open their own
    (they need ``sessions``)."""

    def __init__(
        self,
        *,
        clock: Any,
        secret_key: str | bytes | None,
        sessions: sessionmaker[Session] | None = None,
        ttl: timedelta = timedelta(hours=72),
        password_length: int = 18,
        url_pattern: str = "{base_url}/credentials/{token}",
        base_url: str = "http://localhost:5000",
    ) -> None:
        if not secret_key:
            raise ConfigurationError(
                "SECRET_KEY is needed to protect one-time credentials (set SOPFLOW_SECRET_KEY)",
                "SECRET_KEY diperlukan untuk melindungi kredensial sekali-lihat "
                "(isi SOPFLOW_SECRET_KEY)",
            )
        self.clock = clock
        self.sessions = sessions
        self.ttl = ttl
        self.password_length = password_length
        self.url_pattern = checked_format(url_pattern, {"base_url", "token"}, "CREDENTIALS_URL")
        self.base_url = base_url.rstrip("/")
        self._fernet = fernet_for(secret_key)

    @classmethod
    def from_settings(
        cls,
        settings: Mapping[str, Any] | None,
        *,
        clock: Any,
        sessions: sessionmaker[Session] | None = None,
    ) -> CredentialVault:
        return cls(
            clock=clock,
            sessions=sessions,
            secret_key=secret(settings, "SECRET_KEY"),
            ttl=timedelta(hours=as_int(setting(settings, None, "credentials", "ttl_hours"), 72)),
            password_length=as_int(setting(settings, None, "credentials", "password_length"), 18),
            url_pattern=str(
                setting(settings, None, "credentials", "url", "{base_url}/credentials/{token}")
            ),
            base_url=str(setting(settings, None, "mail", "base_url", "http://localhost:5000")),
        )

    # ------------------------------------------------------------------ inside a transaction
    def issue(
        self,
        s: Session,
        *,
        agency_id: int,
        username: str,
        site: str | None = None,
        instance_id: str | None = None,
        job_id: str | None = None,
    ) -> SiteCredential:
        """A new credential (flushed). The plaintext leaves this method only encrypted."""
        password = generate_password(self.password_length)
        row = SiteCredential(
            agency_id=agency_id,
            instance_id=instance_id,
            job_id=job_id,
            username=username,
            site=site,
            password_hash=generate_password_hash(password, method="scrypt"),
            secret_enc=self._fernet.encrypt(password.encode("utf-8")).decode("ascii"),
            issued_at=self.clock.now(),
        )
        del password
        s.add(row)
        s.flush()
        return row

    def _row(
        self, s: Session, ref: str, agency_id: int | None, instance_id: str | None = None
    ) -> SiteCredential:
        return credential_row(s, ref, agency_id=agency_id, instance_id=instance_id)

    def mint_link(
        self,
        s: Session,
        ref: str,
        *,
        agency_id: int | None = None,
        instance_id: str | None = None,
        base_url: str | None = None,
    ) -> str:
        """A fresh one-time URL for ``ref`` (replacing any earlier one); raises
        CredentialsUnavailable('used') when the password was already shown or printed. With
        ``instance_id`` only credentials issued for that request are found."""
        row = self._row(s, ref, agency_id, instance_id)
        if row.secret_enc is None:
            raise CredentialsUnavailable("used" if row.revealed_via != "expired" else "expired")
        token = secrets.token_urlsafe(32)
        row.token_hash = token_hash(token)
        row.token_expires_at = self.clock.now() + self.ttl
        s.flush()
        base = (base_url or self.base_url).rstrip("/")
        return self.url_pattern.format(base_url=base, token=token)

    def take(
        self,
        s: Session,
        ref: str,
        *,
        agency_id: int | None = None,
        instance_id: str | None = None,
        via: str = "letter",
    ) -> RevealedCredentials:
        """The password, erasing the encrypted copy in the caller's transaction. With
        ``instance_id`` only credentials issued for that request are found."""
        row = self._row(s, ref, agency_id, instance_id)
        return self._consume(s, row, via)

    # ------------------------------------------------------------------ own transactions
    def _sessions(self) -> sessionmaker[Session]:
        if self.sessions is None:
            raise ConfigurationError(
                "CredentialVault needs sessions", "CredentialVault memerlukan sessions"
            )
        return self.sessions

    def check(self, token: str) -> str:
        """'valid', 'used', 'expired' or 'unknown', consuming nothing (for the GET of the page)."""
        with self._sessions()() as s:
            row = self._by_token(s, token)
            if row is None:
                return "unknown"
            if row.secret_enc is None:
                return "expired" if row.revealed_via == "expired" else "used"
            if self._expired(row):
                return "expired"
            return "valid"

    def reveal_once(self, token: str) -> RevealedCredentials:
        """The password behind ``token``, exactly once; then CredentialsUnavailable."""
        outcome: RevealedCredentials | CredentialsUnavailable
        with self._sessions().begin() as s:
            row = self._by_token(s, token)
            if row is None:
                raise CredentialsUnavailable("unknown")
            try:
                if row.secret_enc is not None and self._expired(row):
                    self._erase(s, row, "expired")
                    raise CredentialsUnavailable("expired")
                outcome = self._consume(s, row, "link")
            except CredentialsUnavailable as e:  # commit the erasure, then say why
                outcome = e
        if isinstance(outcome, CredentialsUnavailable):
            raise outcome
        return outcome

    def purge_expired(self) -> int:
        """Erase the encrypted copies whose link has expired; returns how many."""
        now = self.clock.now()
        with self._sessions().begin() as s:
            res = s.execute(
                update(SiteCredential)
                .where(
                    SiteCredential.secret_enc.is_not(None),
                    SiteCredential.token_expires_at.is_not(None),
                    SiteCredential.token_expires_at <= now,
                )
                .values(secret_enc=None, revealed_at=now, revealed_via="expired")
                .execution_options(synchronize_session=False)
            )
            return int(getattr(res, "rowcount", 0) or 0)

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _by_token(s: Session, token: str) -> SiteCredential | None:
        if not isinstance(token, str) or not 20 <= len(token) <= 200:
            return None
        return s.scalar(
            select(SiteCredential).where(SiteCredential.token_hash == token_hash(token))
        )

    def _expired(self, row: SiteCredential) -> bool:
        return row.token_expires_at is not None and row.token_expires_at <= self.clock.now()

    def _erase(self, s: Session, row: SiteCredential, via: str) -> bool:
        """Erase the encrypted copy unless someone else did first; True for the one who did."""
        now = self.clock.now()
        res = s.execute(
            update(SiteCredential)
            .where(SiteCredential.id == row.id, SiteCredential.secret_enc.is_not(None))
            .values(secret_enc=None, revealed_at=now, revealed_via=via)
            .execution_options(synchronize_session=False)
        )
        won = int(getattr(res, "rowcount", 0) or 0) == 1
        if won:
            record_event(
                s,
                agency_id=row.agency_id,
                instance_id=row.instance_id,
                at=now,
                kind=HistoryKind.CREDENTIALS_REVEALED
                if via != "expired"
                else HistoryKind.CREDENTIALS_EXPIRED,
                data={"credentials_ref": make_ref(row.id), "via": via},
            )
        s.expire(row)
        return won

    def _consume(self, s: Session, row: SiteCredential, via: str) -> RevealedCredentials:
        enc = row.secret_enc
        if enc is None:
            raise CredentialsUnavailable("expired" if row.revealed_via == "expired" else "used")
        try:
            password = self._fernet.decrypt(enc.encode("ascii")).decode("utf-8")
        except InvalidToken:  # the secret key changed since issue
            self._erase(s, row, "expired")
            raise CredentialsUnavailable("expired")
        ref, username, site = make_ref(row.id), row.username, row.site
        if not self._erase(s, row, via):
            raise CredentialsUnavailable("used")
        return RevealedCredentials(ref, username, site, password)


__all__ = [
    "CredentialVault",
    "RevealedCredentials",
    "credential_row",
    "generate_password",
    "make_ref",
    "parse_ref",
]
