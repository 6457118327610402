"""DNS records sopflow manages for the agency, read from the DNS change audit (``dns_change``).

The audit keeps, per attempted change, the record sets before and after: the newest change that
took effect (applied, unchanged, or a dry run) says what a name holds now, and the older rows
are its history. Read-only: records change only through the workflows (dns.create/change/delete).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import g, render_template
from sqlalchemy import select

from handlers.dns.models import DnsChange
from handlers.dns.records import fqdn_of

from . import bp
from .common import admin_required, engine

EFFECTIVE = ("applied", "unchanged", "dry_run")
HISTORY_LIMIT = 2000


@dataclass
class Record:
    name: str
    type: str
    value: str
    ttl: int


@dataclass
class ManagedName:
    fqdn: str
    records: list[Record] = field(default_factory=list)
    current: DnsChange | None = None  # the change that gave the records
    history: list[DnsChange] = field(default_factory=list)  # newest first

    @property
    def last_change_at(self) -> datetime | None:
        if self.current is None:
            return None
        return self.current.finished_at or self.current.at


def records_of(rrsets: list[Any], zone: str) -> list[Record]:
    out = []
    for rr in rrsets or []:
        fqdn = fqdn_of(str(rr.get("name") or ""), zone)
        for value in rr.get("values") or []:
            out.append(Record(fqdn, str(rr.get("type")), str(value), int(rr.get("ttl") or 0)))
    return out


def summary(rrsets: list[Any]) -> str:
    return "; ".join(
        f"{rr.get('type')} {' '.join(str(v) for v in rr.get('values') or [])} (TTL {rr.get('ttl')})"
        for rr in rrsets or []
    )


def managed_names() -> list[ManagedName]:
    with engine().sessions() as s:
        rows = list(
            s.scalars(
                select(DnsChange)
                .where(DnsChange.agency_id == g.user.agency_id)
                .order_by(DnsChange.id.desc())
                .limit(HISTORY_LIMIT)
            )
        )
    names: dict[str, ManagedName] = {}
    for row in rows:  # newest first
        name = names.setdefault(row.fqdn, ManagedName(row.fqdn))
        name.history.append(row)
        if name.current is None and row.result in EFFECTIVE:
            name.current = row
            name.records = records_of(row.after, row.zone)
    return sorted(names.values(), key=lambda n: (not n.records, n.fqdn))


@bp.get("/dns")
@admin_required
def dns() -> str:
    return render_template("admin/dns.html", names=managed_names(), summary=summary)
