"""``dns.create``, ``dns.change`` and ``dns.delete`` through the agency's DNS provider.

Each handler reads what the authority has, plans the change, audits it (``dns_change``), applies
it through the provider (which verifies by querying back) and updates the subdomain registry.
All three are idempotent under retry: a retried job whose earlier attempt already wrote the
records (and crashed before completing) finds them as planned and succeeds.

BPMN errors raised (a diagram may catch them with a boundary error event; uncaught they become
an incident whose details carry the message):

* ``NAME_INVALID``: the label is not acceptable (syntax or reserved); the message says why.
* ``NAME_TAKEN``: another request holds the label in the registry.
* ``DNS_NAME_IN_USE``: the name has records at the DNS server that this request did not write.
* ``DNS_INVALID_RECORD``: the target (or TXT text) cannot be written as a record.

Every other failure (server down, TSIG rejected, verification failed, zone invalid) is a
retriable job failure and, when retries run out, an incident with a bilingual message.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from sqlalchemy import select

from engine.queries.recipients import AgencyInfo
from handlers.agency_settings import load_agency
from handlers.base import BpmnErrorRaised, Handler, HandlerContext, Job
from handlers.names import store
from handlers.names.labels import claim, valid_label

from .base import DnsProvider, Outcome, Plan
from .config import dns_settings, provider_for
from .errors import DnsConflict, DnsValidationError
from .models import DnsChange
from .records import Records, as_output, from_json, records_for, renamed, to_json

log = logging.getLogger("sopflow.dns")

_ERRORS_COMMON = {
    "NAME_INVALID": "the label is not acceptable (syntax or reserved); the message says why",
}


class _DnsHandler(Handler):
    action: ClassVar[str] = ""

    def _setup(
        self, job: Job, ctx: HandlerContext
    ) -> tuple[AgencyInfo, dict[str, Any], DnsProvider]:
        agency = load_agency(ctx.sessions, job.agency)
        cfg = dns_settings(agency, ctx.settings)
        provider = provider_for(agency, ctx.settings, today=lambda: ctx.now().date())
        return agency, cfg, provider

    @staticmethod
    def _desired(provider: DnsProvider, name: str, cfg: Mapping[str, Any], job: Job) -> Records:
        target = job.variables.get("target") or cfg.get("default_target")
        try:
            return records_for(
                name, provider.zone, int(cfg["default_ttl"]), target, job.variables.get("txt")
            )
        except DnsValidationError as e:
            raise BpmnErrorRaised("DNS_INVALID_RECORD", str(e))

    # ------------------------------------------------------------------ audit
    def _audit(
        self,
        ctx: HandlerContext,
        job: Job,
        agency: AgencyInfo,
        provider: DnsProvider,
        fqdn: str,
        before: Records,
        after: Records,
    ) -> int:
        with ctx.sessions.begin() as s:
            row = DnsChange(
                agency_id=agency.id,
                instance_id=job.instance_id,
                business_key=job.business_key,
                external_task_id=job.id,
                actor=job.worker_id,
                action=self.action,
                provider=provider.kind,
                zone=provider.zone,
                fqdn=fqdn,
                before=to_json(before),
                after=to_json(after),
                result="pending",
                at=ctx.now(),
            )
            s.add(row)
            s.flush()
            return row.id

    @staticmethod
    def _finish(
        ctx: HandlerContext,
        audit_id: int,
        result: str,
        error: str | None = None,
        before: Records | None = None,
    ) -> None:
        with ctx.sessions.begin() as s:
            row = s.get(DnsChange, audit_id)
            if row is None:  # pragma: no cover - rows are never deleted by the application
                return
            row.result = result
            row.error = error[:4000] if error else None
            row.finished_at = ctx.now()
            if before is not None:
                row.before = to_json(before)

    @staticmethod
    def _owned(
        ctx: HandlerContext, job: Job, agency: AgencyInfo, fqdn: str, current: Records
    ) -> bool:
        """Whether this request wrote ``current`` at ``fqdn`` (an earlier attempt's audit row)."""
        with ctx.sessions() as s:
            rows = s.scalars(
                select(DnsChange).where(
                    DnsChange.agency_id == agency.id,
                    DnsChange.instance_id == job.instance_id,
                    DnsChange.fqdn == fqdn,
                    DnsChange.result.in_(("pending", "applied", "unchanged")),
                )
            ).all()
        return any(from_json(r.after) == current for r in rows)

    def _apply_plan(
        self,
        ctx: HandlerContext,
        audit_id: int,
        provider: DnsProvider,
        plan: Plan,
    ) -> Outcome:
        try:
            outcome = provider.apply(plan)
        except Exception as e:
            self._finish(ctx, audit_id, "failed", str(e) or type(e).__name__)
            raise
        self._finish(
            ctx,
            audit_id,
            "dry_run" if outcome.dry_run else "applied" if outcome.applied else "unchanged",
        )
        return outcome


class DnsCreateHandler(_DnsHandler):
    topic = "dns.create"
    action = "create"
    description = (
        "Creates the records of a new subdomain through the agency's DNS provider (zone file or "
        "RFC 2136 with TSIG, 'name not in use' prerequisite), verifies them by querying back, "
        "audits the change and marks the name active in the registry."
    )
    inputs: ClassVar[Mapping[str, str]] = {
        "subdomain": "the label to create",
        "target": "optional: IPv4/IPv6 address(es) or a host name; the agency default if empty",
        "txt": "optional: TXT text(s) to publish at the name",
    }
    outputs: ClassVar[Mapping[str, str]] = {
        "fqdn": "the full name created",
        "dns_records": "list of {name, type, ttl, value}",
    }
    errors: ClassVar[Mapping[str, str]] = {
        **_ERRORS_COMMON,
        "NAME_TAKEN": "another request holds the label",
        "DNS_NAME_IN_USE": "the name already has records at the DNS server that this request "
        "did not write",
        "DNS_INVALID_RECORD": "the target or TXT text cannot be written as a record",
    }

    def _run(self, job: Job, ctx: HandlerContext) -> Mapping[str, Any]:
        agency, cfg, provider = self._setup(job, ctx)
        label = valid_label(job.variables.get("subdomain"), agency, ctx)
        fqdn = provider.fqdn(label)
        desired = self._desired(provider, label, cfg, job)
        claim(ctx, job, agency, label, fqdn)
        audit_id = self._audit(ctx, job, agency, provider, fqdn, (), desired)
        try:
            try:
                outcome = provider.apply(provider.plan_create(label, desired))
                self._finish(ctx, audit_id, "dry_run" if outcome.dry_run else "applied")
            except DnsConflict as conflict:
                self._resolve(ctx, job, agency, provider, label, desired, audit_id, conflict)
        except BpmnErrorRaised:
            raise
        except Exception as e:
            self._finish(ctx, audit_id, "failed", str(e) or type(e).__name__)
            raise
        if not provider.dry_run:
            claim(ctx, job, agency, label, fqdn, state="active")
        return {"fqdn": fqdn, "dns_records": as_output({label: desired}, provider.zone)}

    def _resolve(
        self,
        ctx: HandlerContext,
        job: Job,
        agency: AgencyInfo,
        provider: DnsProvider,
        label: str,
        desired: Records,
        audit_id: int,
        conflict: DnsConflict,
    ) -> None:
        """The name is in use: as planned already (a retry), ours to correct, or someone else's."""
        fqdn = provider.fqdn(label)
        current = provider.records(label)
        if current == desired:
            log.info("dns.create %s: already as planned (a retry), nothing to do", fqdn)
            self._finish(ctx, audit_id, "unchanged", before=current)
        elif current and self._owned(ctx, job, agency, fqdn, current):
            self._finish(ctx, audit_id, "failed", "superseded: replacing this request's records")
            audit_id = self._audit(ctx, job, agency, provider, fqdn, current, desired)
            self._apply_plan(
                ctx, audit_id, provider, provider.plan_replace(label, current, desired)
            )
        else:
            message = (
                f"Nama {fqdn} sudah memiliki rekaman di server DNS yang tidak dibuat oleh "
                f"permohonan ini / The name {fqdn} already has records at the DNS server that "
                f"this request did not write ({conflict.context.get('rcode') or 'conflict'})"
            )
            self._finish(ctx, audit_id, "failed", message, before=current)
            raise BpmnErrorRaised("DNS_NAME_IN_USE", message)


class DnsChangeHandler(_DnsHandler):
    topic = "dns.change"
    action = "change"
    description = (
        "Changes a subdomain: renames it to new_subdomain (keeping its records unless a target "
        "is given) and/or points it at a new target, in ONE atomic update guarded by "
        "prerequisites; verifies by querying back; audits; moves the registry entry."
    )
    inputs: ClassVar[Mapping[str, str]] = {
        "subdomain": "the current label",
        "new_subdomain": "optional: the new label (a rename)",
        "target": "optional: the new target; else the records move unchanged (or the agency "
        "default when the old name has none)",
        "txt": "optional: TXT text(s) to publish at the name",
    }
    outputs: ClassVar[Mapping[str, str]] = {
        "fqdn": "the full name after the change",
        "dns_records": "list of {name, type, ttl, value}",
    }
    errors: ClassVar[Mapping[str, str]] = {
        **_ERRORS_COMMON,
        "NAME_TAKEN": "another request holds the new label",
        "DNS_NAME_IN_USE": "the new name already has records that this request did not write",
        "DNS_INVALID_RECORD": "the target or TXT text cannot be written as a record",
    }

    def _run(self, job: Job, ctx: HandlerContext) -> Mapping[str, Any]:
        agency, cfg, provider = self._setup(job, ctx)
        old = valid_label(job.variables.get("subdomain"), agency, ctx)
        raw_new = job.variables.get("new_subdomain")
        new = valid_label(raw_new, agency, ctx) if raw_new else old
        fqdn = provider.fqdn(new)
        if new != old:
            claim(ctx, job, agency, new, fqdn)
        before_old = provider.records(old)
        before_new = provider.records(new) if new != old else before_old
        if job.variables.get("target") or job.variables.get("txt"):
            desired = self._desired(provider, new, cfg, job)
        elif before_old:
            desired = renamed(before_old, new)
        elif new != old and before_new and self._owned(ctx, job, agency, fqdn, before_new):
            desired = before_new  # the old name is gone already: an earlier attempt moved it
        else:
            desired = self._desired(provider, new, cfg, job)
        if new == old:
            plan = provider.plan_replace(old, before_old, desired)
            before_all = before_old
        else:
            if (
                before_new
                and before_new != desired
                and not self._owned(ctx, job, agency, fqdn, before_new)
            ):
                raise BpmnErrorRaised(
                    "DNS_NAME_IN_USE",
                    f"Nama {fqdn} sudah memiliki rekaman di server DNS yang tidak dibuat oleh "
                    f"permohonan ini / The name {fqdn} already has records at the DNS server "
                    "that this request did not write",
                )
            plan = provider.plan_rename(old, new, before_old, before_new, desired)
            before_all = (*before_old, *before_new)
        audit_id = self._audit(ctx, job, agency, provider, fqdn, before_all, desired)
        self._apply_plan(ctx, audit_id, provider, plan)
        if not provider.dry_run:
            if new != old:
                store.release(
                    ctx.sessions,
                    agency_id=agency.id,
                    label=old,
                    by=job.business_key,
                    now=ctx.now(),
                )
            try:
                claim(ctx, job, agency, new, fqdn, state="active")
            except BpmnErrorRaised:
                if new != old:
                    raise
                # the same name, held by the request that created it: that is fine for a change
        return {"fqdn": fqdn, "dns_records": as_output({new: desired}, provider.zone)}


class DnsDeleteHandler(_DnsHandler):
    topic = "dns.delete"
    action = "delete"
    description = (
        "Deletes the subdomain's A, AAAA, CNAME and TXT records through the agency's DNS "
        "provider (other data at the name is left alone), verifies, audits and releases the "
        "name in the registry. Deleting a name that has no records succeeds."
    )
    inputs: ClassVar[Mapping[str, str]] = {"subdomain": "the label to delete"}
    outputs: ClassVar[Mapping[str, str]] = {
        "fqdn": "the full name deleted",
        "dns_records": "an empty list",
    }
    errors: ClassVar[Mapping[str, str]] = dict(_ERRORS_COMMON)

    def _run(self, job: Job, ctx: HandlerContext) -> Mapping[str, Any]:
        agency, _cfg, provider = self._setup(job, ctx)
        label = valid_label(job.variables.get("subdomain"), agency, ctx)
        fqdn = provider.fqdn(label)
        before = provider.records(label)
        audit_id = self._audit(ctx, job, agency, provider, fqdn, before, ())
        self._apply_plan(ctx, audit_id, provider, provider.plan_delete(label, before))
        if not provider.dry_run:
            store.release(
                ctx.sessions, agency_id=agency.id, label=label, by=job.business_key, now=ctx.now()
            )
        return {"fqdn": fqdn, "dns_records": []}
