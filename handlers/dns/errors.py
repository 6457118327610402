"""The DNS exception hierarchy.

Every error carries a bilingual message (Indonesian first when shown) and the context an
administrator needs to act on it: ``record`` (the owner name, e.g. ``dinkes.kuduskab.go.id``),
``zone`` and ``agency``. All of them are :class:`handlers.base.HandlerError`, so a handler that
lets one escape becomes a retriable job failure and, when retries run out, an incident whose
message is ``str(err)``. Nothing here ever holds a TSIG secret.

::

    DnsError
    ├── DnsConfigError          settings missing or wrong (no zone file, no TSIG secret, ...)
    ├── DnsServerUnreachable    the authoritative server did not answer (timeout, refused)
    ├── DnsServerError          the server answered with an error rcode (SERVFAIL, NOTIMP, ...)
    │   ├── DnsAuthError        TSIG rejected: BADKEY, BADSIG, BADTIME
    │   └── DnsUpdateRefused    REFUSED: the key may not update this zone
    ├── DnsConflict             the name changed under us / is in use (prerequisite failed)
    ├── DnsVerificationError    the query-back after a write did not show the change
    ├── DnsValidationError      a record or plan that must not be written
    │   └── ZoneValidationError the zone after the change fails its checks (named-checkzone)
    └── ZoneBusy                the zone file's lock was not obtained in time
"""

from __future__ import annotations

from typing import Any

from handlers.base import HandlerError


class DnsError(HandlerError):
    """Base of every DNS failure; retriable unless a subclass says otherwise."""

    def __init__(
        self,
        en: str,
        id: str | None = None,
        *,
        record: str | None = None,
        zone: str | None = None,
        agency: str | None = None,
        **context: Any,
    ) -> None:
        self.record = record
        self.zone = zone
        self.agency = agency
        super().__init__(en, id, record=record, zone=zone, agency=agency, **context)


class DnsConfigError(DnsError):
    """A DNS setting is missing or wrong; fixing the configuration and retrying helps."""


class DnsServerUnreachable(DnsError):
    """No answer from the authoritative server: a timeout or a refused connection."""


class DnsServerError(DnsError):
    """The server answered, with an error."""

    def __init__(self, en: str, id: str | None = None, *, rcode: str | None = None, **kw: Any):
        self.rcode = rcode
        super().__init__(en, id, rcode=rcode, **kw)


class DnsAuthError(DnsServerError):
    """The server rejected our TSIG signature (BADKEY: unknown key; BADSIG: wrong secret)."""


class DnsUpdateRefused(DnsServerError):
    """REFUSED: the server does not let this key update the zone (check ``allow-update``)."""


class DnsConflict(DnsError):
    """The records at the server are not what the change expected (a prerequisite failed)."""


class DnsVerificationError(DnsError):
    """Querying back after a write did not show the expected records."""

    def __init__(
        self,
        en: str,
        id: str | None = None,
        *,
        expected: Any = None,
        actual: Any = None,
        **kw: Any,
    ) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(en, id, **kw)


class DnsValidationError(DnsError):
    """A record or change that must not be written (bad value, CNAME beside other data, ...)."""


class ZoneValidationError(DnsValidationError):
    """The zone as it would be after the change fails validation; the old zone is kept."""


class ZoneBusy(DnsError):
    """Another writer holds the zone file's lock for too long."""
