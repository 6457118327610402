"""``subdomain.check`` and ``subdomain.reserve``.

BPMN errors raised (declare them in a diagram with a boundary error event to route them):

* ``NAME_INVALID`` (reserve): the label is not acceptable; the message says why.
* ``NAME_TAKEN`` (reserve): another request holds the label.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from handlers.agency_settings import load_agency
from handlers.base import Handler, HandlerContext, Job
from handlers.dns.config import provider_for

from . import store
from .errors import NameRefused
from .labels import available_reason, claim, dns_reason, held_reason, reserved_for, valid_label
from .rules import normalize, suggest

log = logging.getLogger("sopflow.names")


class SubdomainCheckHandler(Handler):
    topic = "subdomain.check"
    description = (
        "Checks a requested subdomain label: syntax (IDNA UTS-46, LDH, lengths), reserved "
        "names, the agency's registry and a live lookup at the agency's authoritative DNS "
        "server; suggests free alternatives when it is taken."
    )
    inputs: ClassVar[Mapping[str, str]] = {
        "subdomain": "the requested label as typed (normalized here)",
        "opd_name": "optional: the requesting work unit, for suggestions",
    }
    outputs: ClassVar[Mapping[str, str]] = {
        "name_available": "boolean",
        "name_reason": "why, in Indonesian / English",
        "name_suggestions": "list of free alternative labels",
    }
    errors: ClassVar[Mapping[str, str]] = {}

    def _run(self, job: Job, ctx: HandlerContext) -> Mapping[str, Any]:
        agency = load_agency(ctx.sessions, job.agency)
        reserved = reserved_for(agency, ctx)
        parent = agency.parent_domain
        provider: Any = None

        def live_exists(label: str) -> bool:
            nonlocal provider
            if provider is None:
                provider = provider_for(agency, ctx.settings, today=lambda: ctx.now().date())
            return provider.name_exists(label)

        def is_free(label: str) -> bool:
            row = store.holder(ctx.sessions, agency.id, label)
            if row is not None:
                return row.instance_id == job.instance_id
            return not live_exists(label)

        raw = job.variables.get("subdomain")

        def alternatives(base: str) -> list[str]:
            return suggest(
                base,
                parent,
                reserved,
                is_free,
                opd_name=job.variables.get("opd_name"),
                year=ctx.now().year,
                agency=agency.code,
            )

        try:
            label = normalize(raw, parent, reserved)
        except NameRefused as refused:
            log.info("subdomain.check %r (%s): refused: %s", raw, agency.code, refused.reason.code)
            return {
                "name_available": False,
                "name_reason": refused.reason.text(),
                "name_suggestions": alternatives(str(raw or "")),
            }
        fqdn = f"{label}.{parent}"
        row = store.holder(ctx.sessions, agency.id, label)
        if row is not None and row.instance_id != job.instance_id:
            reason = held_reason(fqdn)
        elif row is None and live_exists(label):
            reason = dns_reason(fqdn)
        else:
            reason = available_reason(fqdn)
        log.info("subdomain.check %s (%s): %s", fqdn, agency.code, reason.code)
        available = reason.code == "available"
        return {
            "name_available": available,
            "name_reason": reason.text(),
            "name_suggestions": [] if available else alternatives(label),
        }


class SubdomainReserveHandler(Handler):
    topic = "subdomain.reserve"
    description = (
        "Reserves the label for this request, atomically: of concurrent reservations of one "
        "name exactly one wins. Idempotent for the request that holds it."
    )
    inputs: ClassVar[Mapping[str, str]] = {"subdomain": "the label to reserve"}
    outputs: ClassVar[Mapping[str, str]] = {}
    errors: ClassVar[Mapping[str, str]] = {
        "NAME_INVALID": "the label is not acceptable (syntax or reserved); the message says why",
        "NAME_TAKEN": "another request already holds the label",
    }

    def _run(self, job: Job, ctx: HandlerContext) -> Mapping[str, Any]:
        agency = load_agency(ctx.sessions, job.agency)
        label = valid_label(job.variables.get("subdomain"), agency, ctx)
        fqdn = f"{label}.{agency.parent_domain}"
        claim(ctx, job, agency, label, fqdn)
        log.info("subdomain.reserve %s for %s", fqdn, job.business_key)
        return {}
