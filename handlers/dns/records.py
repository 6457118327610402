"""Record sets as plain values: what a provider reads, plans and writes.

An :class:`RRset` is one owner name + type with its TTL and canonical value texts, so two sets
compare equal exactly when a DNS server would serve the same data. Names are relative to the
zone (``dinkes``; ``@`` for the apex). Only :data:`MANAGED_TYPES` are ever read or written;
other data at a name (MX, NS, ...) is left alone.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdataset
import dns.rdatatype

from .errors import DnsValidationError

MANAGED_TYPES: tuple[str, ...] = ("A", "AAAA", "CNAME", "TXT")
MAX_TTL = 2**31 - 1
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


@dataclass(frozen=True, order=True)
class RRset:
    name: str
    rtype: str
    ttl: int
    values: tuple[str, ...]

    def to_rdataset(self, origin: dns.name.Name) -> dns.rdataset.Rdataset:
        rdatas = [
            dns.rdata.from_text(dns.rdataclass.IN, self.rtype, v, origin=origin, relativize=False)
            for v in self.values
        ]
        return dns.rdataset.from_rdata_list(self.ttl, rdatas)

    def rdatas(self, origin: dns.name.Name) -> list[dns.rdata.Rdata]:
        return list(self.to_rdataset(origin))

    def as_dicts(self, zone: str) -> list[dict[str, Any]]:
        fqdn = fqdn_of(self.name, zone)
        return [
            {"name": fqdn, "type": self.rtype, "ttl": self.ttl, "value": v} for v in self.values
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.ttl} {self.rtype} {' '.join(self.values)}"


Records = tuple[RRset, ...]


@functools.lru_cache(maxsize=4096)
def _parse(
    rtype: str, values: tuple[str, ...], origin: dns.name.Name
) -> tuple[dns.rdata.Rdata, ...]:
    """Rdata objects (immutable) for canonical value texts; cached, parsing is not cheap."""
    return tuple(
        dns.rdata.from_text(dns.rdataclass.IN, rtype, v, origin=origin, relativize=False)
        for v in values
    )


def fqdn_of(name: str, zone: str) -> str:
    zone = zone.rstrip(".")
    return zone if name in ("@", "") else f"{name}.{zone}"


def canonical(rrsets: Iterable[RRset]) -> Records:
    return tuple(sorted(rrsets, key=lambda r: (r.name, r.rtype)))


def from_rdataset(
    name: str, rdataset: dns.rdataset.Rdataset, origin: dns.name.Name | None = None
) -> RRset:
    """``origin`` makes names in the data absolute when they were read relativized."""
    rtype = dns.rdatatype.to_text(rdataset.rdtype)
    values = [r.to_text(origin=origin, relativize=False) for r in rdataset]
    if rtype == "CNAME":  # names compare without regard to case
        values = [v.lower() for v in values]
    return RRset(name, rtype, int(rdataset.ttl), tuple(sorted(values)))


def make_rrset(name: str, rtype: str, ttl: int, values: Sequence[str], zone: str) -> RRset:
    """Parse ``values`` as dnspython would serve them; a bad value raises DnsValidationError."""
    rtype = rtype.upper()
    if rtype not in MANAGED_TYPES:
        raise DnsValidationError(
            f"Record type {rtype} is not supported (only {', '.join(MANAGED_TYPES)})",
            f"Tipe rekaman {rtype} tidak didukung (hanya {', '.join(MANAGED_TYPES)})",
            record=fqdn_of(name, zone),
            zone=zone,
        )
    if not 0 <= int(ttl) <= MAX_TTL:
        raise DnsValidationError(
            f"TTL {ttl} is out of range", f"TTL {ttl} di luar rentang", record=name, zone=zone
        )
    if not values:
        raise DnsValidationError(
            "A record set needs at least one value",
            "Kumpulan rekaman memerlukan paling sedikit satu nilai",
            record=fqdn_of(name, zone),
            zone=zone,
        )
    origin = dns.name.from_text(zone)
    try:
        rdatas = [
            dns.rdata.from_text(dns.rdataclass.IN, rtype, v, origin=origin, relativize=False)
            for v in values
        ]
    except (dns.exception.DNSException, ValueError) as e:
        raise DnsValidationError(
            f"Invalid {rtype} value {list(values)!r}: {e}",
            f"Nilai {rtype} tidak sah {list(values)!r}: {e}",
            record=fqdn_of(name, zone),
            zone=zone,
        )
    rds = dns.rdataset.from_rdata_list(int(ttl), rdatas)
    return from_rdataset(name, rds)


def _txt_value(text: str) -> str:
    """One TXT rdata from plain text, split into 255-byte character strings, as zone text."""
    from dns.rdtypes.ANY.TXT import TXT

    data = text.encode("utf-8")
    chunks = [data[i : i + 255] for i in range(0, len(data), 255)] or [b""]
    return TXT(dns.rdataclass.IN, dns.rdatatype.TXT, chunks).to_text()


def _hostname(target: str, zone: str) -> str:
    host = target.strip().lower().rstrip(".")
    if "." not in host:
        host = f"{host}.{zone.rstrip('.')}"
    try:
        import idna

        host = idna.encode(host, uts46=True, std3_rules=True, transitional=False).decode()
    except Exception:  # noqa: BLE001 - any idna failure is an invalid host name
        raise DnsValidationError(
            f"'{target}' is neither an IP address nor a valid host name",
            f"'{target}' bukan alamat IP maupun nama host yang sah",
            zone=zone,
        )
    labels = host.split(".")
    if len(host) > 253 or not all(_HOST_LABEL.match(p) for p in labels) or labels[-1].isdigit():
        # (an all-numeric last label is a mistyped address, not a host: RFC 3696 2)
        raise DnsValidationError(
            f"'{target}' is neither an IP address nor a valid host name",
            f"'{target}' bukan alamat IP maupun nama host yang sah",
            zone=zone,
        )
    return host + "."


def records_for(
    name: str,
    zone: str,
    ttl: int,
    target: str | Sequence[str] | None,
    txt: str | Sequence[str] | None = None,
) -> Records:
    """The record sets for ``name`` pointing at ``target``: IPv4 -> A, IPv6 -> AAAA, a host name
    -> CNAME (alone: a CNAME cannot share its name with other data); ``txt`` adds TXT."""
    targets: list[str] = []
    if isinstance(target, str):
        targets = [t for t in re.split(r"[,\s]+", target) if t]
    elif target:
        targets = [str(t).strip() for t in target if str(t).strip()]
    v4: list[str] = []
    v6: list[str] = []
    hosts: list[str] = []
    for t in targets:
        try:
            ip = ipaddress.ip_address(t)
        except ValueError:
            hosts.append(_hostname(t, zone))
            continue
        (v4 if ip.version == 4 else v6).append(str(ip))
    texts: list[str] = []
    if isinstance(txt, str):
        texts = [txt] if txt else []
    elif txt:
        texts = [str(t) for t in txt]
    fq = fqdn_of(name, zone)
    if hosts and (v4 or v6 or texts or len(hosts) > 1):
        raise DnsValidationError(
            f"A host-name target (CNAME) must be the only record of {fq}",
            f"Target berupa nama host (CNAME) harus menjadi satu-satunya rekaman {fq}",
            record=fq,
            zone=zone,
        )
    if not 0 <= int(ttl) <= MAX_TTL:
        raise DnsValidationError(
            f"TTL {ttl} is out of range", f"TTL {ttl} di luar rentang", record=fq, zone=zone
        )
    out: list[RRset] = []
    # addresses are canonical already (ipaddress): no need for dnspython to parse them
    if v4:
        out.append(RRset(name, "A", int(ttl), tuple(sorted(set(v4)))))
    if v6:
        out.append(RRset(name, "AAAA", int(ttl), tuple(sorted(set(v6)))))
    if hosts:
        out.append(make_rrset(name, "CNAME", ttl, hosts, zone))
    if texts:
        out.append(make_rrset(name, "TXT", ttl, [_txt_value(t) for t in texts], zone))
    if not out:
        raise DnsValidationError(
            f"No target for {fq}: set the 'target' variable or the agency's default target",
            f"Tidak ada target untuk {fq}: isi variabel 'target' atau target bawaan instansi",
            record=fq,
            zone=zone,
        )
    return canonical(out)


def renamed(rrsets: Iterable[RRset], name: str) -> Records:
    return canonical(RRset(name, r.rtype, r.ttl, r.values) for r in rrsets)


def check_exclusive(name: str, rrsets: Iterable[RRset], zone: str) -> None:
    """A CNAME may not share its name with any other data (RFC 1034 3.6.2). BIND silently
    ignores such an update, dnspython silently replaces: refuse before either happens."""
    types = {r.rtype for r in rrsets}
    if "CNAME" in types and len(types) > 1:
        fq = fqdn_of(name, zone)
        raise DnsValidationError(
            f"{fq}: a CNAME cannot coexist with other records ({', '.join(sorted(types))})",
            f"{fq}: CNAME tidak boleh bersama rekaman lain ({', '.join(sorted(types))})",
            record=fq,
            zone=zone,
        )


def as_output(by_name: Mapping[str, Records], zone: str) -> list[dict[str, Any]]:
    """The ``dns_records`` process variable: one plain dict per record."""
    out: list[dict[str, Any]] = []
    for name in sorted(by_name):
        for r in by_name[name]:
            out.extend(r.as_dicts(zone))
    return out


def to_json(rrsets: Iterable[RRset]) -> list[dict[str, Any]]:
    return [
        {"name": r.name, "type": r.rtype, "ttl": r.ttl, "values": list(r.values)} for r in rrsets
    ]


def from_json(data: Iterable[Mapping[str, Any]]) -> Records:
    return canonical(
        RRset(str(d["name"]), str(d["type"]), int(d["ttl"]), tuple(d["values"])) for d in data
    )
