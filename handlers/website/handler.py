"""``website.verify``: does the name resolve at the agency's DNS server, and does the site answer?

It asks the agency's authoritative DNS server (``Agency.settings["dns"]``: ``server``, ``port``,
``timeout``; or ``website.dns_server`` / ``dns_port``) for the A records of the name (AAAA when
there are none; CNAMEs inside the answer are followed, an alias out of the zone goes to the
system resolver), then sends ``GET /`` with ``Host: <fqdn>`` to each address on the web port
until one answers, reads at most ``max_bytes`` and reports what it saw.

What is reported and what is retried
------------------------------------
Whatever the people who run the site can fix is a **report**: ``website_ok`` false and a short
Indonesian ``website_report``, so the diagram routes the request to "fix the site" (Pekalongan:
``fix_website``) and the officer sees why. That is: the name not at the DNS server (NXDOMAIN or
no address), the DNS server answering with an error, the DNS server not answering at all, the
web server refusing the connection or not answering in time, an HTTP error status.

Transient trouble is absorbed inside the job first: a DNS query or an HTTP request that times
out (or is reset) is tried ``attempts`` times (default 2), ``retry_pause`` seconds apart, before
it is reported. An agency whose DNS server is run by someone else can set
``website.dns_unreachable = "retry"``: a DNS server that still does not answer is then a
retriable job failure (backoff, then an incident for an administrator) instead of a report.

Only what no site fix can change is a failure (retried, then an incident): unknown agency,
unreadable settings. A missing or malformed name is the BPMN error ``NAME_INVALID``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from engine.queries.recipients import AgencyInfo
from handlers.agency_settings import as_bool, as_int, load_agency, setting
from handlers.base import Handler, HandlerContext, Job
from handlers.dns.config import dns_settings
from handlers.hosting.config import listen_port, require_site_name, site_name

from .check import DnsUnanswered, Fetch, Resolution, fetch, resolve_at, resolve_system
from .errors import WebsiteConfigError, WebsiteDnsUnanswered

log = logging.getLogger("sopflow.website")

DEFAULT_TIMEOUT = 5.0
DEFAULT_MAX_BYTES = 256 * 1024
MAX_ADDRESSES = 4


class WebsiteVerifyHandler(Handler):
    topic = "website.verify"
    description = (
        "Resolves the site's name at the agency's authoritative DNS server and fetches the page "
        "over HTTP with that host name; reports what it saw (address, status, title, size, "
        "time). A site that cannot be reached is a report (website_ok false), not a failure."
    )
    inputs: ClassVar[Mapping[str, str]] = {
        "fqdn": "the site's full name (from dns.create)",
        "subdomain": "optional instead of fqdn: the label in the agency's zone",
    }
    outputs: ClassVar[Mapping[str, str]] = {
        "website_ok": "boolean: the name resolves and the site answers HTTP 2xx (or 3xx)",
        "website_report": "what was seen, in Indonesian: address, HTTP status, title, bytes, time",
    }
    errors: ClassVar[Mapping[str, str]] = {
        "NAME_INVALID": "no fqdn/subdomain given, or not a host name",
    }

    def validate(self, job: Job) -> None:
        super().validate(job)
        require_site_name(job)

    def _run(self, job: Job, ctx: HandlerContext) -> Mapping[str, Any]:
        agency = load_agency(ctx.sessions, job.agency)
        _label, fqdn = site_name(job, agency, ctx, prefer=("fqdn", "subdomain"))

        def conf(key: str, default: Any = None) -> Any:
            return setting(ctx.settings, agency, "website", key, default)

        try:
            timeout = float(conf("timeout", DEFAULT_TIMEOUT))
            pause = float(conf("retry_pause", 0.5))
        except (TypeError, ValueError) as e:
            raise WebsiteConfigError(
                f"website settings of agency {agency.code}: bad number: {e}",
                f"pengaturan website instansi {agency.code}: angka tidak sah: {e}",
                agency=agency.code,
            )
        attempts = max(1, as_int(conf("attempts"), 2))
        max_bytes = max(1, as_int(conf("max_bytes"), DEFAULT_MAX_BYTES))
        port = as_int(conf("port"), 0) or self._hosting_port(ctx, agency)
        accept_redirects = as_bool(conf("accept_redirects"), True)
        on_unanswered = str(conf("dns_unreachable", "report")).lower()

        dns_cfg = dns_settings(agency, ctx.settings)
        server = conf("dns_server") or dns_cfg.get("server")
        try:
            if server:
                res = resolve_at(
                    fqdn,
                    str(server),
                    as_int(conf("dns_port") or dns_cfg.get("port"), 53),
                    zone=str(dns_cfg["zone"]),
                    agency=agency.code,
                    timeout=float(dns_cfg.get("timeout", 3.0)),
                    attempts=attempts,
                    pause=pause,
                )
            else:
                res = resolve_system(fqdn)
        except DnsUnanswered as e:
            if on_unanswered == "retry":
                raise WebsiteDnsUnanswered(
                    f"DNS server {e.where} did not answer ({e.why}) while verifying {fqdn}; "
                    "the job will be retried",
                    f"Server DNS {e.where} tidak menjawab ({e.why}) saat menguji {fqdn}; "
                    "tugas akan diulang",
                    agency=agency.code,
                    record=fqdn,
                )
            report = (
                f"Gagal: server DNS {e.where} tidak menjawab ({e.why}, {e.attempts} percobaan); "
                f"nama {fqdn} tidak dapat diperiksa."
            )
            return self._done(job, fqdn, False, report)

        if res.problem or not res.addresses:
            return self._done(job, fqdn, False, f"Gagal: {res.problem or 'tanpa alamat'}.")

        seen: list[Fetch] = []
        for address in res.addresses[:MAX_ADDRESSES]:
            got = fetch(
                address,
                port,
                fqdn,
                timeout=timeout,
                max_bytes=max_bytes,
                attempts=attempts,
                pause=pause,
            )
            seen.append(got)
            if got.status is not None:
                break
        last = seen[-1]
        ok = last.status is not None and (
            200 <= last.status < 300 or (accept_redirects and 300 <= last.status < 400)
        )
        return self._done(job, fqdn, ok, _report(fqdn, res, seen, ok))

    @staticmethod
    def _hosting_port(ctx: HandlerContext, agency: AgencyInfo) -> int:
        """The port of the agency's hosting ``listen`` setting, else 80."""
        raw = setting(ctx.settings, agency, "hosting", "listen")
        if raw in (None, ""):
            return 80
        first = raw if isinstance(raw, (str, int)) else next(iter(raw), "80")
        return listen_port(str(first))

    @staticmethod
    def _done(job: Job, fqdn: str, ok: bool, report: str) -> dict[str, Any]:
        log.info("website.verify %s for %s: %s", fqdn, job.business_key, report)
        return {"website_ok": ok, "website_report": report}


def _report(fqdn: str, res: Resolution, seen: list[Fetch], ok: bool) -> str:
    """``Berhasil: x.kuduskab.go.id -> 127.0.0.1 (server DNS 127.0.0.1:53); HTTP 200 OK;
    judul "..."; 812 byte; 3 ms.``"""
    last = seen[-1]
    alias = f" (alias {' -> '.join(res.aliases)})" if res.aliases else ""
    where = f"{fqdn}{alias} -> {', '.join(res.addresses)} ({res.via})"
    parts = [f"{'Berhasil' if ok else 'Gagal'}: {where}"]
    for earlier in seen[:-1]:
        parts.append(earlier.problem or f"{earlier.url} tidak menjawab")
    if last.status is None:
        parts.append(last.problem or f"{last.url} tidak menjawab")
        return "; ".join(parts) + "."
    parts.append(
        f"{last.url} (Host: {last.host}) menjawab HTTP {last.status} {last.reason}".rstrip()
    )
    if last.location:
        parts.append(f"dialihkan ke {last.location[:200]}")
    parts.append(f'judul "{last.title}"' if last.title else "tanpa judul")
    size = f"{last.size} byte" + (" (dipotong)" if last.truncated else "")
    parts += [size, f"{last.elapsed_ms} ms"]
    return "; ".join(parts) + "."
