"""RFC 2136 dynamic updates with TSIG, for BIND, Knot or PowerDNS.

* create: one update with the prerequisite "name is not in use" (RFC 2136 2.4.5);
* change: ONE update that deletes the old record sets and adds the new ones, guarded by
  prerequisites on what was read (compare-and-swap: every record set it replaces or deletes
  must still be exactly as read, value-dependent; every type it adds must still be absent), so
  it is atomic and a concurrent edit makes it fail instead of being overwritten;
* delete: one update guarded the same way.

Every write is read back from the same server over the same TCP connection: BIND answers
NOERROR to some conflicting updates that change nothing (a CNAME onto a name with an A record).
The TSIG secret is given to the constructor by the caller (resolved from configuration or the
environment by key name) and is never logged or shown.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import dns.name
import dns.rdatatype
import dns.tsig
import dns.update

from .base import DnsProvider, Plan
from .client import DnsClient
from .errors import DnsConfigError
from .records import MANAGED_TYPES, RRset, from_rdataset

TSIG_ALGORITHMS = {
    "hmac-sha256": dns.tsig.HMAC_SHA256,
    "hmac-sha384": dns.tsig.HMAC_SHA384,
    "hmac-sha512": dns.tsig.HMAC_SHA512,
    "hmac-sha224": dns.tsig.HMAC_SHA224,
    "hmac-sha1": dns.tsig.HMAC_SHA1,
    "hmac-md5": dns.tsig.HMAC_MD5,
}


class Rfc2136Provider(DnsProvider):
    kind = "rfc2136"
    #: send prerequisites with every update (tests turn this off to show what verification does)
    use_prerequisites = True

    def __init__(
        self,
        zone: str,
        *,
        server: str,
        port: int = 53,
        tsig_key_name: str | None = None,
        tsig_secret: str | None = None,
        tsig_algorithm: str = "hmac-sha256",
        timeout: float = 3.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(zone, **kwargs)
        self.client = DnsClient(server, port, zone=self.zone, timeout=timeout, agency=self.agency)
        self._keyring: dict[dns.name.Name, dns.tsig.Key] | None = None
        self._keyname: dns.name.Name | None = None
        if tsig_key_name:
            algorithm = TSIG_ALGORITHMS.get(tsig_algorithm.lower())
            if algorithm is None:
                raise DnsConfigError(
                    f"Unknown TSIG algorithm '{tsig_algorithm}'",
                    f"Algoritma TSIG '{tsig_algorithm}' tidak dikenal",
                    zone=self.zone,
                    agency=self.agency,
                )
            if not tsig_secret:
                raise DnsConfigError(
                    f"No secret for TSIG key '{tsig_key_name}'",
                    f"Tidak ada secret untuk kunci TSIG '{tsig_key_name}'",
                    zone=self.zone,
                    agency=self.agency,
                )
            self._keyname = dns.name.from_text(tsig_key_name)
            try:
                key = dns.tsig.Key(self._keyname, tsig_secret, algorithm)
            except (binascii.Error, ValueError):
                raise DnsConfigError(
                    f"The secret of TSIG key '{tsig_key_name}' is not valid base64",
                    f"Secret kunci TSIG '{tsig_key_name}' bukan base64 yang sah",
                    zone=self.zone,
                    agency=self.agency,
                ) from None
            self._keyring = {self._keyname: key}
        self.tsig_key_name = tsig_key_name

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "server": self.client.where, "tsig_key": self.tsig_key_name}

    # ------------------------------------------------------------------ reads
    def _records(self, name: str) -> Iterable[RRset]:
        return self._read(name, MANAGED_TYPES)

    def _query_back(self, name: str, types: Iterable[str]) -> Iterable[RRset]:
        return self._read(name, types)

    def _read(self, name: str, types: Iterable[str]) -> list[RRset]:
        fqdn = self.fqdn(name) + "."
        out = []
        for t in types:
            rrset = self.client.rrset(fqdn, t)
            if rrset is not None:
                out.append(from_rdataset(name, rrset))
        return out

    def records(self, name: str) -> tuple[RRset, ...]:
        with self.client.connection():
            return super().records(name)

    def _name_exists(self, name: str) -> bool:
        return self.client.name_exists(self.fqdn(name) + ".")

    # ------------------------------------------------------------------ writes
    @contextmanager
    def _session(self) -> Iterator[None]:
        with self.client.connection():
            yield

    def build_update(self, plan: Plan) -> dns.update.UpdateMessage:
        """The one update message for ``plan``: prerequisites, deletions, additions."""
        msg = dns.update.UpdateMessage(
            self.origin,
            keyring=self._keyring,
            keyname=self._keyname,
            keyalgorithm=(
                self._keyring[self._keyname].algorithm
                if self._keyring and self._keyname
                else dns.tsig.default_algorithm
            ),
        )
        for name in plan.names:
            owner = dns.name.from_text(name, None)
            before = {r.rtype: r for r in plan.before_of(name)}
            after = {r.rtype: r for r in plan.after_of(name)}
            if self.use_prerequisites:
                if name in plan.must_not_exist:
                    msg.absent(owner)  # "name is not in use" (RFC 2136 2.4.5)
                else:
                    # compare-and-swap on what changes: each record set to replace or delete
                    # must still be exactly as read, each type to add must still be absent
                    for t in sorted(set(before) | set(after)):
                        if t in before:
                            msg.present(owner, *before[t].rdatas(self.origin))
                        else:
                            msg.absent(owner, t)
            for t in sorted(set(before) | set(after)):
                if t in after and t in before and after[t] == before[t]:
                    continue
                if t in before:
                    msg.delete(owner, dns.rdatatype.from_text(t))
                if t in after:
                    msg.add(owner, after[t].to_rdataset(self.origin))
        return msg

    def _apply(self, plan: Plan) -> None:
        record = ", ".join(self.fqdn(n) for n in plan.names)
        self.client.update(self.build_update(plan), record=record)
