"""A small DNS client for one authoritative server: queries and signed updates with clear errors.

Both providers and the name check use it. Reads go over UDP (TCP when truncated), or over the
TCP connection opened by :meth:`DnsClient.connection`, which a provider keeps for one write and
its query-back so that verification costs no extra handshakes. Every failure becomes a
:mod:`handlers.dns.errors` exception that names the server, the zone and the record.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.tsig
import dns.update

from .errors import (
    DnsAuthError,
    DnsConflict,
    DnsServerError,
    DnsServerUnreachable,
    DnsUpdateRefused,
)

_TSIG_CODES = {
    "PeerBadKey": "BADKEY",
    "PeerBadSignature": "BADSIG",
    "PeerBadTime": "BADTIME",
    "PeerBadTruncation": "BADTRUNC",
    "BadSignature": "BADSIG",
    "BadTime": "BADTIME",
}
_CONFLICT_RCODES = {dns.rcode.YXDOMAIN, dns.rcode.YXRRSET, dns.rcode.NXRRSET, dns.rcode.NXDOMAIN}


class DnsClient:
    def __init__(
        self,
        server: str,
        port: int = 53,
        *,
        zone: str,
        timeout: float = 3.0,
        agency: str | None = None,
    ) -> None:
        self.server = _address(server, zone=zone, agency=agency)
        self.port = int(port)
        self.zone = zone
        self.timeout = float(timeout)
        self.agency = agency
        self._sock: socket.socket | None = None

    @property
    def where(self) -> str:
        return f"{self.server}:{self.port}"

    def _ctx(self, record: str | None = None) -> dict[str, Any]:
        return {"zone": self.zone, "agency": self.agency, "record": record, "server": self.where}

    def _unreachable(self, record: str | None, e: BaseException) -> DnsServerUnreachable:
        why = "timed out" if isinstance(e, dns.exception.Timeout) else str(e) or type(e).__name__
        why_id = "waktu habis" if isinstance(e, dns.exception.Timeout) else why
        return DnsServerUnreachable(
            f"DNS server {self.where} did not answer ({why}) for zone {self.zone}; "
            "the job will be retried",
            f"Server DNS {self.where} tidak menjawab ({why_id}) untuk zona {self.zone}; "
            "tugas akan diulang",
            **self._ctx(record),
        )

    @contextmanager
    def connection(self) -> Iterator[None]:
        """Keep one TCP connection for every exchange inside the block."""
        if self._sock is not None:
            yield
            return
        try:
            sock = socket.create_connection((self.server, self.port), timeout=self.timeout)
        except OSError as e:
            raise self._unreachable(None, e)
        self._sock = sock
        try:
            yield
        finally:
            self._sock = None
            sock.close()

    def _exchange(self, msg: dns.message.Message, record: str | None) -> dns.message.Message:
        try:
            if self._sock is not None:
                return dns.query.tcp(
                    msg, self.server, timeout=self.timeout, port=self.port, sock=self._sock
                )
            if isinstance(msg, dns.update.UpdateMessage):
                return dns.query.tcp(msg, self.server, timeout=self.timeout, port=self.port)
            response, _tcp = dns.query.udp_with_fallback(
                msg, self.server, timeout=self.timeout, port=self.port
            )
            return response
        except (dns.tsig.PeerError, dns.tsig.BadSignature, dns.tsig.BadTime) as e:
            code = _TSIG_CODES.get(type(e).__name__, type(e).__name__)
            key = msg.keyname.to_text(omit_final_dot=True) if msg.keyname else "?"
            raise DnsAuthError(
                f"DNS server {self.where} rejected TSIG key '{key}' ({code}): "
                + (
                    "the server does not know this key name"
                    if code == "BADKEY"
                    else "the secret does not match the server's"
                    if code == "BADSIG"
                    else "check the key and the clocks"
                ),
                f"Server DNS {self.where} menolak kunci TSIG '{key}' ({code}): "
                + (
                    "server tidak mengenal nama kunci ini"
                    if code == "BADKEY"
                    else "secret tidak cocok dengan milik server"
                    if code == "BADSIG"
                    else "periksa kunci dan jam"
                ),
                rcode=code,
                **self._ctx(record),
            )
        except (dns.exception.Timeout, OSError, EOFError) as e:
            raise self._unreachable(record, e)
        except dns.exception.DNSException as e:
            raise DnsServerError(
                f"Bad answer from DNS server {self.where}: {e}",
                f"Jawaban tidak sah dari server DNS {self.where}: {e}",
                **self._ctx(record),
            )

    # ------------------------------------------------------------------ queries
    def query(
        self, fqdn: str | dns.name.Name, rdtype: str | dns.rdatatype.RdataType
    ) -> tuple[int, dns.message.Message]:
        """(rcode, response) of an authoritative answer: NOERROR or NXDOMAIN, else an error."""
        # RD stays set: an authoritative-only server answers the same, and BIND's default
        # (minimal-responses no-auth-recursive) then leaves out the authority and additional
        # sections, which would cost more to parse than the answer itself
        q = dns.message.make_query(fqdn, rdtype)
        r = self._exchange(q, str(fqdn))
        rcode = r.rcode()
        if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
            name = dns.rcode.to_text(rcode)
            raise DnsServerError(
                f"DNS server {self.where} answered {name} for {fqdn} {rdtype}",
                f"Server DNS {self.where} menjawab {name} untuk {fqdn} {rdtype}",
                rcode=name,
                **self._ctx(str(fqdn)),
            )
        if not r.flags & dns.flags.AA:
            raise DnsServerError(
                f"DNS server {self.where} is not authoritative for zone {self.zone}",
                f"Server DNS {self.where} tidak otoritatif untuk zona {self.zone}",
                **self._ctx(str(fqdn)),
            )
        return rcode, r

    def rrset(self, fqdn: str, rdtype: str) -> Any:
        """The rdataset of exactly ``fqdn``/``rdtype`` in the answer, or None."""
        owner = dns.name.from_text(fqdn)
        want = dns.rdatatype.from_text(rdtype)
        _rcode, r = self.query(owner, want)
        for rrset in r.answer:
            if rrset.name == owner and rrset.rdtype == want:
                return rrset
        return None

    def name_exists(self, fqdn: str) -> bool:
        """NXDOMAIN means free; any NOERROR (data of any type, or names below it) means in use
        — unless the answer is what a wildcard (``*.zone``) synthesizes for every name.

        A wildcard would make every label look taken, so a NOERROR is compared with the answer
        for a random label beside it: the same answer means no data of its own. The rare name
        defined with exactly the wildcard's data then looks free; creating it is still safe,
        because the create's prerequisite ("name not in use") is checked against real zone
        data, where wildcards do not apply (RFC 2136, 2.4.5)."""
        rcode, r = self.query(fqdn, "A")
        if rcode == dns.rcode.NXDOMAIN:
            return False
        owner = dns.name.from_text(fqdn)
        probe = dns.name.Name((f"sopflow-probe-{secrets.token_hex(6)}",) + owner.parent().labels)
        probe_rcode, probe_r = self.query(probe, "A")
        if probe_rcode == dns.rcode.NXDOMAIN:
            return True
        return _answer_data(r) != _answer_data(probe_r)

    # ------------------------------------------------------------------ updates
    def update(self, msg: dns.update.UpdateMessage, record: str | None = None) -> None:
        r = self._exchange(msg, record)
        rcode = r.rcode()
        if rcode == dns.rcode.NOERROR:
            return
        name = dns.rcode.to_text(rcode)
        ctx = self._ctx(record)
        if rcode in _CONFLICT_RCODES:
            raise DnsConflict(
                f"DNS update of {record or self.zone} refused by a prerequisite ({name}): the "
                "records at the server are not what the change expected",
                f"Pembaruan DNS {record or self.zone} ditolak oleh prasyarat ({name}): rekaman "
                "di server tidak seperti yang diharapkan perubahan",
                rcode=name,
                **ctx,
            )
        if rcode == dns.rcode.REFUSED:
            raise DnsUpdateRefused(
                f"DNS server {self.where} REFUSED the update of zone {self.zone}: check that the "
                "zone allows updates with this key (allow-update / update-policy)",
                f"Server DNS {self.where} MENOLAK (REFUSED) pembaruan zona {self.zone}: periksa "
                "apakah zona mengizinkan pembaruan dengan kunci ini (allow-update / update-policy)",
                rcode=name,
                **ctx,
            )
        if rcode == dns.rcode.NOTAUTH:
            raise DnsAuthError(
                f"DNS server {self.where} answered NOTAUTH for zone {self.zone}: it is not "
                "authoritative for the zone or did not accept the key",
                f"Server DNS {self.where} menjawab NOTAUTH untuk zona {self.zone}: server tidak "
                "otoritatif untuk zona ini atau tidak menerima kuncinya",
                rcode=name,
                **ctx,
            )
        raise DnsServerError(
            f"DNS server {self.where} answered {name} to the update of zone {self.zone}",
            f"Server DNS {self.where} menjawab {name} atas pembaruan zona {self.zone}",
            rcode=name,
            **ctx,
        )


def _address(server: str, *, zone: str, agency: str | None) -> str:
    """An IP address for ``server`` (host names resolved once, here)."""
    import ipaddress

    try:
        return str(ipaddress.ip_address(server))
    except ValueError:
        pass
    try:
        return str(socket.getaddrinfo(server, None, type=socket.SOCK_STREAM)[0][4][0])
    except OSError as e:
        raise DnsServerUnreachable(
            f"Cannot resolve the DNS server name '{server}': {e}",
            f"Nama server DNS '{server}' tidak dapat di-resolve: {e}",
            zone=zone,
            agency=agency,
        )


def _answer_data(r: Any) -> frozenset[tuple[int, str]]:
    """An answer without its owner names: what a wildcard would give any label."""
    return frozenset((rrset.rdtype, rd.to_text()) for rrset in r.answer for rd in rrset)
