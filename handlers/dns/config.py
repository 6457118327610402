"""Which DNS provider serves an agency, from configuration.

``AgencyInfo.settings["dns"]`` chooses and configures the provider::

    {"provider": "rfc2136",            # or "zonefile" (the default), or "package.module:Class"
     "zone": "kuduskab.go.id",         # default: the agency's parent domain
     "server": "192.0.2.53", "port": 53, "timeout": 3,
     "tsig_key_name": "sopflow-kudus", "tsig_algorithm": "hmac-sha256",
     "zone_file": "/var/lib/sopflow/zones/kuduskab.go.id.zone",   # zonefile
     "reload_command": ["rndc", "reload", "kuduskab.go.id"],     # zonefile, optional
     "checkzone": "auto",              # named-checkzone when installed; false to skip
     "default_target": "203.0.113.10", "default_ttl": 3600,
     "dry_run": false, "verify": true, "verify_timeout": 2}

Secrets never live there (a key that looks like one is refused): the TSIG secret is looked up by
the key's NAME, in the handler context's settings as ``TSIG_<NAME>`` (what the environment
variable ``SOPFLOW_TSIG_<NAME>`` becomes) or ``TSIG_SECRETS[<name>]``, then in the environment
as ``SOPFLOW_TSIG_<NAME>``; ``<NAME>`` is the key name upper-cased with every character other
than A-Z and 0-9 turned into ``_`` (``sopflow-kudus`` -> ``SOPFLOW_TSIG_SOPFLOW_KUDUS``).

Without a ``dns`` section an agency gets the embedded default: a zone file under
``DNS_ZONE_DIR`` (or ``<INSTANCE_DIR>/zones``), created on first use.
"""

from __future__ import annotations

import importlib
import os
import re
import shlex
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from engine.queries.recipients import AgencyInfo
from handlers.agency_settings import agency_section

from .base import DnsProvider
from .errors import DnsConfigError
from .rfc2136 import Rfc2136Provider
from .zonefile import ZonefileProvider

PROVIDERS: dict[str, type[DnsProvider]] = {
    "zonefile": ZonefileProvider,
    "rfc2136": Rfc2136Provider,
}
DEFAULT_TTL = 3600
_SECRET_WORDS = ("secret", "password", "passwd", "private_key", "token")


def tsig_env_name(key_name: str) -> str:
    return "SOPFLOW_TSIG_" + re.sub(r"[^A-Z0-9]", "_", key_name.upper())


def tsig_secret(key_name: str, settings: Mapping[str, Any]) -> str | None:
    env = tsig_env_name(key_name)
    short = env[len("SOPFLOW_") :]
    value = settings.get(short) or settings.get(env)
    if not value:
        table = settings.get("TSIG_SECRETS") or {}
        if isinstance(table, Mapping):
            value = table.get(key_name)
    if not value:
        value = os.environ.get(env)
    return str(value) if value else None


def dns_settings(agency: AgencyInfo, settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The agency's DNS settings with defaults filled in (no secrets: those are refused)."""
    settings = settings or {}
    raw = agency_section(agency, "dns") or {}
    if not isinstance(raw, Mapping):
        raise DnsConfigError(
            f"The DNS settings of agency {agency.code} must be a mapping",
            f"Pengaturan DNS instansi {agency.code} harus berupa mapping",
            agency=agency.code,
        )
    bad = [k for k in raw if any(w in k.lower() for w in _SECRET_WORDS)]
    if bad:
        raise DnsConfigError(
            f"AgencyInfo {agency.code}: secrets do not belong in the agency's DNS settings "
            f"({', '.join(sorted(bad))}); give the TSIG secret through the environment "
            "(SOPFLOW_TSIG_<KEY NAME>)",
            f"Instansi {agency.code}: secret tidak boleh disimpan di pengaturan DNS instansi "
            f"({', '.join(sorted(bad))}); berikan secret TSIG melalui environment "
            "(SOPFLOW_TSIG_<NAMA KUNCI>)",
            agency=agency.code,
        )
    cfg: dict[str, Any] = dict(raw)
    cfg.setdefault("provider", "zonefile")
    cfg["zone"] = str(cfg.get("zone") or agency.parent_domain).rstrip(".").lower()
    cfg.setdefault("default_ttl", int(settings.get("DNS_DEFAULT_TTL") or DEFAULT_TTL))
    if not cfg.get("default_target") and settings.get("DNS_DEFAULT_TARGET"):
        cfg["default_target"] = settings["DNS_DEFAULT_TARGET"]
    if not raw:
        cfg["embedded"] = True
    return cfg


def _zone_dir(settings: Mapping[str, Any], agency: str) -> Path:
    where = settings.get("DNS_ZONE_DIR")
    if where:
        return Path(str(where))
    instance = settings.get("INSTANCE_DIR")
    if instance:
        return Path(str(instance)) / "zones"
    raise DnsConfigError(
        f"AgencyInfo {agency} has no DNS settings and no DNS_ZONE_DIR/INSTANCE_DIR is set for the "
        "embedded zone files",
        f"Instansi {agency} tidak memiliki pengaturan DNS dan DNS_ZONE_DIR/INSTANCE_DIR untuk "
        "berkas zona bawaan tidak diatur",
        agency=agency,
    )


def provider_for(
    agency: AgencyInfo,
    settings: Mapping[str, Any] | None = None,
    *,
    today: Callable[[], date] | None = None,
) -> DnsProvider:
    """A ready provider for ``agency``; a misconfiguration raises DnsConfigError."""
    settings = settings or {}
    cfg = dns_settings(agency, settings)
    kind = str(cfg["provider"])
    cls: Any = PROVIDERS.get(kind)
    if cls is None and ":" in kind:
        module, _, attr = kind.partition(":")
        try:
            cls = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError):
            cls = None
    if cls is None:
        raise DnsConfigError(
            f"Unknown DNS provider '{kind}' for agency {agency.code} "
            f"(known: {', '.join(sorted(PROVIDERS))})",
            f"Penyedia DNS '{kind}' untuk instansi {agency.code} tidak dikenal "
            f"(yang dikenal: {', '.join(sorted(PROVIDERS))})",
            agency=agency.code,
            zone=cfg["zone"],
        )
    common: dict[str, Any] = {
        "agency": agency.code,
        "default_ttl": int(cfg["default_ttl"]),
        "dry_run": bool(cfg.get("dry_run", False)),
        "verify": bool(cfg.get("verify", True)),
    }
    if "verify_timeout" in cfg:
        common["verify_timeout"] = float(cfg["verify_timeout"])
    try:
        if issubclass(cls, Rfc2136Provider):
            if not cfg.get("server"):
                raise DnsConfigError(
                    f"AgencyInfo {agency.code}: the rfc2136 provider needs 'server'",
                    f"Instansi {agency.code}: penyedia rfc2136 memerlukan 'server'",
                    agency=agency.code,
                    zone=cfg["zone"],
                )
            key = cfg.get("tsig_key_name")
            secret = tsig_secret(str(key), settings) if key else None
            if key and not secret:
                raise DnsConfigError(
                    f"No secret for TSIG key '{key}' of agency {agency.code}: set the environment "
                    f"variable {tsig_env_name(str(key))}",
                    f"Tidak ada secret untuk kunci TSIG '{key}' instansi {agency.code}: isi "
                    f"variabel environment {tsig_env_name(str(key))}",
                    agency=agency.code,
                    zone=cfg["zone"],
                )
            return cls(
                cfg["zone"],
                server=str(cfg["server"]),
                port=int(cfg.get("port", 53)),
                tsig_key_name=key,
                tsig_secret=secret,
                tsig_algorithm=str(cfg.get("tsig_algorithm", "hmac-sha256")),
                timeout=float(cfg.get("timeout", 3.0)),
                **common,
            )
        if issubclass(cls, ZonefileProvider):
            path = cfg.get("zone_file")
            create = bool(cfg.get("create_missing", False))
            if not path:
                path = _zone_dir(settings, agency.code) / f"{cfg['zone']}.zone"
                create = True
            reload_command = cfg.get("reload_command")
            if isinstance(reload_command, str):
                reload_command = shlex.split(reload_command)
            return cls(
                cfg["zone"],
                path=path,
                server=cfg.get("server"),
                port=int(cfg.get("port", 53)),
                reload_command=reload_command,
                checkzone=cfg.get("checkzone", "auto"),
                lock_timeout=float(cfg.get("lock_timeout", 30.0)),
                timeout=float(cfg.get("timeout", 3.0)),
                create_missing=create,
                nameserver=str(cfg.get("nameserver", "localhost.")),
                today=today,
                **common,
            )
        skip = {
            "zone",
            "provider",
            "default_ttl",
            "dry_run",
            "verify",
            "verify_timeout",
            "embedded",
        }
        extra = {k: v for k, v in cfg.items() if k not in skip}
        return cls(cfg["zone"], **extra, **common)  # a third-party provider
    except (TypeError, ValueError) as e:
        raise DnsConfigError(
            f"Invalid DNS settings for agency {agency.code}: {e}",
            f"Pengaturan DNS instansi {agency.code} tidak sah: {e}",
            agency=agency.code,
            zone=cfg["zone"],
        )
