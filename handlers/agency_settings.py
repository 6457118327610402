"""The one agency-settings lookup every handler uses: the job's agency, then its settings.

:func:`load_agency` (own session) and :func:`agency_by_code` (the caller's session) give the
agency as an :class:`engine.queries.recipients.AgencyInfo` (read through the engine, never
from its tables directly). A value is looked up in the agency's own ``settings`` JSON first
(section and key, e.g. ``{"mail": {"smtp_host": ...}}``), then in the process-wide settings
(``SOPFLOW_*`` variables without the prefix, e.g. ``SMTP_HOST``), then a default. Secrets (SMTP
password, the app secret key) are never read from the agency row, which lives in the database
and shows in admin pages: only from the process settings or the environment.
"""

from __future__ import annotations

import os
import string
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from engine.errors import ConfigurationError
from engine.queries import recipients
from engine.queries.recipients import AgencyInfo

from .base import HandlerError

MONTHS_ID = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)


class UnknownAgency(HandlerError):
    """The job names an agency that does not exist (any more)."""


def agency_by_code(s: Session, code: str) -> AgencyInfo:
    """The job's agency, in the caller's transaction."""
    agency = recipients.agency_by_code(s, code) if code else None
    if agency is None:
        raise UnknownAgency(
            f"Unknown agency '{code}'", f"Instansi '{code}' tidak dikenal", agency=code
        )
    return agency


def load_agency(sessions: Any, code: str) -> AgencyInfo:
    """The job's agency, read in a short session of its own."""
    with sessions() as s:
        return agency_by_code(s, code)


def agency_section(agency: AgencyInfo | None, name: str) -> Any:
    """The agency's own settings section ``name`` as stored (None when absent); the caller
    checks its shape. Use :func:`setting` for one value with its process-wide fallback."""
    if agency is None:
        return None
    return (agency.settings or {}).get(name)


def setting(
    settings: Mapping[str, Any] | None,
    agency: AgencyInfo | None,
    section: str,
    key: str,
    default: Any = None,
) -> Any:
    """``agency.settings[section][key]``, else ``settings[SECTION_KEY]`` (upper case), else
    ``default``. ``SECTION_KEY`` is ``key`` upper-cased when ``key`` already starts with the
    section (``smtp_host`` in section ``mail`` -> ``SMTP_HOST``; ``from`` -> ``MAIL_FROM``)."""
    if agency is not None:
        block = agency_section(agency, section)
        if isinstance(block, Mapping) and block.get(key) not in (None, ""):
            return block[key]
    name = global_name(section, key)
    value = (settings or {}).get(name)
    if value in (None, ""):
        value = os.environ.get(f"SOPFLOW_{name}")
    return default if value in (None, "") else value


def global_name(section: str, key: str) -> str:
    key_up = key.upper()
    if key_up.startswith(("SMTP_", "MAIL_", "LETTER_", "CREDENTIALS_", "ATTACHMENT", "BASE_URL")):
        return key_up
    return f"{section.upper()}_{key_up}"


def secret(settings: Mapping[str, Any] | None, name: str, agency: AgencyInfo | None = None) -> Any:
    """A secret from process settings or the environment: ``NAME_<AGENCY>`` first, then ``NAME``.
    Never from the agency row."""
    candidates = [f"{name}_{agency.code.upper()}", name] if agency is not None else [name]
    for n in candidates:
        value = (settings or {}).get(n)
        if value in (None, ""):
            value = os.environ.get(f"SOPFLOW_{n}")
        if value not in (None, ""):
            return value
    return None


def as_bool(value: Any, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on", "ya")


def as_int(value: Any, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigurationError(
            f"Expected a whole number, got {value!r}", f"Diharapkan bilangan bulat, bukan {value!r}"
        )


def int_list(value: Any, default: tuple[int, ...]) -> tuple[int, ...]:
    if value is None or value == "":
        return default
    if isinstance(value, str):
        parts: list[Any] = [p for p in value.replace(";", ",").split(",") if p.strip()]
    else:
        parts = list(value)
    try:
        out = tuple(int(p) for p in parts)
    except (TypeError, ValueError):
        raise ConfigurationError(
            f"Expected a list of whole numbers, got {value!r}",
            f"Diharapkan daftar bilangan bulat, bukan {value!r}",
        )
    return out or default


def instance_dir(settings: Mapping[str, Any] | None) -> Path:
    return Path(str((settings or {}).get("INSTANCE_DIR") or "instance")).expanduser().resolve()


def local_now(agency: AgencyInfo, now: datetime) -> datetime:
    return now.astimezone(ZoneInfo(agency.timezone or "Asia/Jakarta"))


def tanggal(moment: datetime) -> str:
    """``23 November 2026``: a date as Indonesian letters write it."""
    return f"{moment.day} {MONTHS_ID[moment.month - 1]} {moment.year}"


def checked_format(fmt: str, allowed: set[str], what: str) -> str:
    """Refuse a configured ``str.format`` pattern that uses anything but plain ``allowed`` names
    (no attribute or index access: the pattern comes from configuration, not from code)."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(fmt) if f is not None]
    except ValueError as e:
        raise ConfigurationError(
            f"{what}: bad pattern {fmt!r}: {e}", f"{what}: pola {fmt!r} tidak sah: {e}"
        )
    for f in fields:
        if f not in allowed:
            raise ConfigurationError(
                f"{what}: unknown field '{{{f}}}' in {fmt!r} "
                f"(allowed: {', '.join(sorted(allowed))})",
                f"{what}: kolom '{{{f}}}' tidak dikenal dalam {fmt!r} "
                f"(yang boleh: {', '.join(sorted(allowed))})",
            )
    return fmt


def task_inputs(s: Session, job: Any) -> dict[str, Any]:
    """The service task's own input mappings (``camunda:inputParameter``), without the process
    variables that fetch-and-lock merges in. Control inputs (template, recipients, references)
    are read from here, so a process variable of the same name left by an earlier step (say a
    ``credentials_ref``) never changes what a later task does."""
    own = recipients.task_inputs(s, job.id)
    return dict(job.variables) if own is None else own
