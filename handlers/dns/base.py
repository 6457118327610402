"""The provider interface, octoDNS style.

A provider reads the managed record sets of a name and applies a :class:`Plan` (the record sets
of every affected name before and after). The public methods validate, log and honour dry runs;
only then do they call the provider's private ``_apply``, and after it they verify the write by
reading the records back from the authority (the server, or the zone file) — a server may
answer NOERROR to an update that changed nothing. A provider either applies a plan whole or not
at all: partial state is never left behind.
"""

from __future__ import annotations

import logging
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

import dns.name

from .errors import DnsValidationError, DnsVerificationError
from .records import MANAGED_TYPES, Records, RRset, canonical, check_exclusive, fqdn_of

log = logging.getLogger("sopflow.dns")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


@dataclass(frozen=True)
class Plan:
    """A change of one zone: for each affected name, its managed record sets before and after.

    ``must_not_exist`` names may hold no data at all when the plan is applied (the RFC 2136
    "name is not in use" prerequisite); for the other names ``before`` must still be exactly
    what the server has (compare-and-swap), or the provider raises DnsConflict."""

    action: str
    zone: str
    before: Mapping[str, Records]
    after: Mapping[str, Records]
    must_not_exist: frozenset[str] = frozenset()

    @property
    def names(self) -> list[str]:
        return sorted(set(self.before) | set(self.after))

    def before_of(self, name: str) -> Records:
        return tuple(self.before.get(name, ()))

    def after_of(self, name: str) -> Records:
        return tuple(self.after.get(name, ()))

    @property
    def changes(self) -> bool:
        return any(self.before_of(n) != self.after_of(n) for n in self.names)

    def types_of(self, name: str) -> list[str]:
        return sorted({r.rtype for r in (*self.before_of(name), *self.after_of(name))})

    def summary(self) -> str:
        parts = []
        for n in self.names:
            old = ", ".join(f"{r.rtype} {' '.join(r.values)}" for r in self.before_of(n)) or "-"
            new = ", ".join(f"{r.rtype} {' '.join(r.values)}" for r in self.after_of(n)) or "-"
            parts.append(f"{fqdn_of(n, self.zone)}: [{old}] -> [{new}]")
        return "; ".join(parts)


@dataclass
class Outcome:
    plan: Plan
    applied: bool = False
    dry_run: bool = False
    verified: bool = False
    timings: dict[str, float] = field(default_factory=dict)


class _Lazy:
    """Formats only when a log record is actually emitted."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def __str__(self) -> str:
        return str(self.fn())


class DnsProvider(ABC):
    kind: ClassVar[str] = ""

    def __init__(
        self,
        zone: str,
        *,
        agency: str | None = None,
        default_ttl: int = 3600,
        dry_run: bool = False,
        verify: bool = True,
        verify_timeout: float = 2.0,
    ) -> None:
        self.zone = zone.strip().rstrip(".").lower()
        self.origin = dns.name.from_text(self.zone)
        self.agency = agency
        self.default_ttl = int(default_ttl)
        self.dry_run = bool(dry_run)
        self.verify = bool(verify)
        self.verify_timeout = float(verify_timeout)

    def __repr__(self) -> str:  # never shows credentials
        return f"<{type(self).__name__} zone={self.zone} agency={self.agency}>"

    def fqdn(self, name: str) -> str:
        return fqdn_of(name, self.zone)

    # ------------------------------------------------------------------ reads
    def records(self, name: str) -> Records:
        """The managed record sets (A, AAAA, CNAME, TXT) at ``name``, as the authority has them."""
        self._check_name(name)
        return canonical(r for r in self._records(name) if r.rtype in MANAGED_TYPES)

    def name_exists(self, name: str) -> bool:
        """Whether ``name`` holds any data (or has names below it) at the authority."""
        self._check_name(name)
        return self._name_exists(name)

    # ------------------------------------------------------------------ plans
    def plan_create(self, name: str, records: Records) -> Plan:
        return Plan("create", self.zone, {name: ()}, {name: canonical(records)}, frozenset({name}))

    def plan_replace(self, name: str, before: Records, records: Records) -> Plan:
        return Plan("change", self.zone, {name: canonical(before)}, {name: canonical(records)})

    def plan_rename(
        self, old: str, new: str, before_old: Records, before_new: Records, records: Records
    ) -> Plan:
        return Plan(
            "change",
            self.zone,
            {old: canonical(before_old), new: canonical(before_new)},
            {old: (), new: canonical(records)},
            frozenset({new}) if not before_new else frozenset(),
        )

    def plan_delete(self, name: str, before: Records) -> Plan:
        return Plan("delete", self.zone, {name: canonical(before)}, {name: ()})

    # ------------------------------------------------------------------ writes
    def validate(self, plan: Plan) -> None:
        if plan.zone.rstrip(".").lower() != self.zone:
            raise DnsValidationError(
                f"Plan for zone {plan.zone} given to the provider of zone {self.zone}",
                f"Rencana untuk zona {plan.zone} diberikan ke penyedia zona {self.zone}",
                zone=self.zone,
                agency=self.agency,
            )
        for name in plan.names:
            self._check_name(name)
            for side in (plan.before_of(name), plan.after_of(name)):
                for r in side:
                    if r.name != name or r.rtype not in MANAGED_TYPES:
                        raise DnsValidationError(
                            f"Record {r} does not belong to {self.fqdn(name)} or is not managed",
                            f"Rekaman {r} bukan milik {self.fqdn(name)} atau tidak dikelola",
                            record=self.fqdn(name),
                            zone=self.zone,
                            agency=self.agency,
                        )
                if len({r.rtype for r in side}) != len(side):
                    raise DnsValidationError(
                        f"Duplicate record types for {self.fqdn(name)}",
                        f"Tipe rekaman ganda untuk {self.fqdn(name)}",
                        record=self.fqdn(name),
                        zone=self.zone,
                        agency=self.agency,
                    )
            check_exclusive(name, plan.after_of(name), self.zone)

    def apply(self, plan: Plan) -> Outcome:
        """Validate, log, then (unless this is a dry run or nothing changes) write and verify."""
        self.validate(plan)
        outcome = Outcome(plan)
        where = f"{self.kind} zone {self.zone}" + (f" ({self.agency})" if self.agency else "")
        summary = _Lazy(plan.summary)
        if not plan.changes and not plan.must_not_exist:
            log.info("dns %s on %s: nothing to change: %s", plan.action, where, summary)
            return outcome
        if self.dry_run:
            log.info("dns %s on %s: DRY RUN, not applied: %s", plan.action, where, summary)
            outcome.dry_run = True
            return outcome
        log.info("dns %s on %s: %s", plan.action, where, summary)
        with self._session():
            t0 = time.perf_counter()
            self._apply(plan)
            t1 = time.perf_counter()
            outcome.applied = True
            if self.verify:
                self.check(plan)
                outcome.verified = True
            outcome.timings = {"apply_s": t1 - t0, "verify_s": time.perf_counter() - t1}
        return outcome

    def check(self, plan: Plan) -> None:
        """Query every affected name and type back until it shows ``plan.after``."""
        deadline = time.monotonic() + self.verify_timeout
        delay = 0.02
        while True:
            wrong = self._mismatches(plan)
            if not wrong:
                return
            if time.monotonic() >= deadline:
                break
            time.sleep(delay)
            delay = min(delay * 2, 0.25)
        name, expected, actual = wrong[0]
        fq = self.fqdn(name)
        exp = "; ".join(str(r) for r in expected) or "nothing"
        act = "; ".join(str(r) for r in actual) or "nothing"
        raise DnsVerificationError(
            f"Verification failed: after the write the {self.kind} authority shows [{act}] at "
            f"{fq} instead of [{exp}]; the server may have ignored a conflicting update "
            "(e.g. a CNAME onto a name that has other records)",
            f"Verifikasi gagal: setelah penulisan, otoritas {self.kind} menunjukkan [{act}] pada "
            f"{fq}, bukan [{exp}]; server mungkin mengabaikan pembaruan yang bertentangan "
            "(mis. CNAME pada nama yang memiliki rekaman lain)",
            record=fq,
            zone=self.zone,
            agency=self.agency,
            expected=[str(r) for r in expected],
            actual=[str(r) for r in actual],
        )

    def _mismatches(self, plan: Plan) -> list[tuple[str, Records, Records]]:
        out = []
        for name in plan.names:
            types = plan.types_of(name)
            if not types:
                continue
            actual = canonical(self._query_back(name, types))
            expected = plan.after_of(name)
            if actual != expected:
                out.append((name, expected, actual))
        return out

    # ------------------------------------------------------------------ helpers
    def _check_name(self, name: str) -> None:
        labels = name.split(".") if isinstance(name, str) else []
        if not labels or not all(_LABEL.match(lab) for lab in labels) or len(self.fqdn(name)) > 253:
            raise DnsValidationError(
                f"'{name}' is not a valid relative name in zone {self.zone}",
                f"'{name}' bukan nama relatif yang sah di zona {self.zone}",
                record=str(name),
                zone=self.zone,
                agency=self.agency,
            )

    @contextmanager
    def _session(self) -> Iterator[None]:
        """Held around ``_apply`` and its verification (e.g. one TCP connection)."""
        yield

    def _query_back(self, name: str, types: Iterable[str]) -> Iterable[RRset]:
        wanted = set(types)
        return [r for r in self._records(name) if r.rtype in wanted]

    # ------------------------------------------------------------------ to implement
    @abstractmethod
    def _records(self, name: str) -> Iterable[RRset]: ...

    @abstractmethod
    def _name_exists(self, name: str) -> bool: ...

    @abstractmethod
    def _apply(self, plan: Plan) -> None: ...

    def describe(self) -> dict[str, Any]:
        return {"provider": self.kind, "zone": self.zone, "agency": self.agency}
