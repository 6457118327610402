"""The label a job may use, and holding it for the job's request.

Shared by every handler that works on a subdomain (``subdomain.*``, ``dns.*``,
``hosting.create``): :func:`valid_label` checks a label against the agency's rules and
:func:`claim` holds it in the registry, each turning a refusal into the BPMN error the diagrams
route (``NAME_INVALID``, ``NAME_TAKEN``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.queries.recipients import AgencyInfo
from handlers.agency_settings import agency_section
from handlers.base import BpmnErrorRaised, HandlerContext, Job

from . import store
from .errors import NameHeld, NameRefused
from .rules import Reason, normalize, reserved_labels


def reserved_for(agency: AgencyInfo, ctx: HandlerContext) -> frozenset[str]:
    names = agency_section(agency, "names")
    return reserved_labels(names if isinstance(names, Mapping) else None, ctx.settings)


def held_reason(fqdn: str) -> Reason:
    return Reason(
        "taken_registry",
        f"Nama {fqdn} sudah dipesan atau dipakai oleh permohonan lain.",
        f"The name {fqdn} is already reserved or used by another request.",
    )


def dns_reason(fqdn: str) -> Reason:
    return Reason(
        "taken_dns",
        f"Nama {fqdn} sudah ada di server DNS.",
        f"The name {fqdn} already exists at the DNS server.",
    )


def available_reason(fqdn: str) -> Reason:
    return Reason("available", f"Nama {fqdn} tersedia.", f"The name {fqdn} is available.")


def valid_label(raw: Any, agency: AgencyInfo, ctx: HandlerContext) -> str:
    """The normalized label, or the BPMN error NAME_INVALID saying why not."""
    try:
        return normalize(raw, agency.parent_domain, reserved_for(agency, ctx))
    except NameRefused as refused:
        raise BpmnErrorRaised("NAME_INVALID", refused.reason.text())


def claim(
    ctx: HandlerContext,
    job: Job,
    agency: AgencyInfo,
    label: str,
    fqdn: str,
    state: str = "reserved",
) -> None:
    """Hold ``label`` for the job's request, or the BPMN error NAME_TAKEN."""
    try:
        store.reserve(
            ctx.sessions,
            agency_id=agency.id,
            label=label,
            fqdn=fqdn,
            instance_id=job.instance_id,
            business_key=job.business_key,
            actor=job.worker_id,
            now=ctx.now(),
            state=state,
            release_others=state == "reserved",
        )
    except NameHeld:
        raise BpmnErrorRaised("NAME_TAKEN", held_reason(fqdn).text())
