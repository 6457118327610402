"""Render a template and put the message into the outbox (``mail_outbox``), one row per
recipient, in the caller's transaction. Sending is :mod:`handlers.mail.delivery`'s job."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from email.utils import make_msgid, parseaddr
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from engine.queries.recipients import AgencyInfo, group_emails, instance_info

from ..agency_settings import as_int, checked_format, local_now, setting, tanggal
from ..attachments.store import AttachmentStore
from ..credentials.vault import credential_row
from ..credentials.vault import parse_ref as parse_credentials_ref
from .errors import MailError
from .models import OutboxMessage
from .render import CREDENTIALS_LINK_PLACEHOLDER, MailRenderer

_ADDRESS = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251})$"
)
_PLAIN = (str, int, float, bool, type(None))


def split_addresses(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    items: Iterable[Any] = re.split(r"[,;]", value) if isinstance(value, str) else value
    out: list[str] = []
    for item in items:
        text = str(item or "").strip()
        if not text:
            continue
        if "\r" in text or "\n" in text:
            raise MailError(f"Invalid e-mail address {text!r}", f"Alamat e-mail {text!r} tidak sah")
        _, addr = parseaddr(text)
        if not _ADDRESS.fullmatch(addr or "") or ".." in addr or addr.endswith("."):
            raise MailError(f"Invalid e-mail address {text!r}", f"Alamat e-mail {text!r} tidak sah")
        out.append(addr)
    return out


def group_addresses(s: Session, agency_id: int, groups: Any) -> list[str]:
    """E-mail addresses of the agency's active users in any of ``groups`` (ids, comma-separated
    or a list)."""
    names = [g.strip() for g in (groups.split(",") if isinstance(groups, str) else groups or [])]
    names = [g for g in names if g]
    if not names:
        return []
    return group_emails(s, agency_id, names)


def _dedupe(addresses: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for a in addresses:
        if a.lower() not in seen:
            seen.add(a.lower())
            out.append(a)
    return out


class Outbox:
    def __init__(
        self,
        settings: Mapping[str, Any] | None,
        clock: Any,
        store: AttachmentStore | None = None,
    ) -> None:
        self.settings = settings or {}
        self.clock = clock
        self.store = store or AttachmentStore.from_settings(self.settings)
        template_dir = setting(self.settings, None, "mail", "template_dir")
        self.renderer = MailRenderer(Path(str(template_dir)) if template_dir else None)

    def base_url(self, agency: AgencyInfo) -> str:
        return str(setting(self.settings, agency, "mail", "base_url", "http://localhost:5000"))

    def context(
        self,
        s: Session,
        agency: AgencyInfo,
        variables: Mapping[str, Any],
        *,
        instance_id: str | None,
        business_key: str | None,
    ) -> dict[str, Any]:
        """What templates see: the plain process variables plus the agency, dates and links."""
        ctx: dict[str, Any] = {
            k: v
            for k, v in variables.items()
            if isinstance(v, _PLAIN)
            or (isinstance(v, list) and all(isinstance(i, _PLAIN) for i in v))
        }
        now = local_now(agency, self.clock.now())
        base = self.base_url(agency).rstrip("/")
        label = str(variables.get("new_subdomain") or variables.get("subdomain") or "").strip()
        fqdn = str(variables.get("fqdn") or "").strip() or (
            f"{label}.{agency.parent_domain}" if label else ""
        )
        suggestions = variables.get("name_suggestions") or []
        if isinstance(suggestions, str):
            suggestions = [x.strip() for x in re.split(r"[,;\n]", suggestions) if x.strip()]
        ctx.update(
            agency_name=agency.name,
            agency_code=agency.code,
            parent_domain=agency.parent_domain,
            business_key=business_key or variables.get("business_key") or "-",
            instance_id=instance_id,
            today=tanggal(now),
            base_url=base,
            fqdn=fqdn,
            subdomain_text=fqdn or label or "-",
            site_url=str(variables.get("website_url") or (f"https://{fqdn}" if fqdn else "")),
            suggestions=[str(x) for x in suggestions],
            credentials_ttl_hours=as_int(
                setting(self.settings, agency, "credentials", "ttl_hours"), 72
            ),
        )
        pattern = checked_format(
            str(
                setting(
                    self.settings, agency, "mail", "survey_url", "{base_url}/survey/{instance_id}"
                )
            ),
            {"base_url", "instance_id", "business_key", "agency"},
            "MAIL_SURVEY_URL",
        )
        ctx["survey_url"] = pattern.format(
            base_url=base,
            instance_id=instance_id or "",
            business_key=ctx["business_key"],
            agency=agency.code,
        )
        if instance_id:
            inst = instance_info(s, instance_id)
            if inst is not None and inst.agency_id == agency.id:
                ctx["current_step"] = inst.current_step
                ctx["started_at"] = tanggal(local_now(agency, inst.started_at))
        return ctx

    def enqueue(
        self,
        s: Session,
        agency: AgencyInfo,
        template: str,
        recipients: Sequence[str],
        variables: Mapping[str, Any],
        *,
        instance_id: str | None = None,
        business_key: str | None = None,
        job_id: str | None = None,
        attachments: Sequence[str] = (),
        credentials_ref: str | None = None,
    ) -> list[OutboxMessage]:
        recipients = _dedupe(recipients)
        if not recipients:
            raise MailError(
                f"Mail '{template}' has no recipient", f"E-mail '{template}' tidak punya penerima"
            )
        for ref in attachments:
            self.store.get(s, ref, agency_id=agency.id)  # NotFound for a foreign or missing one
        if credentials_ref is not None and parse_credentials_ref(credentials_ref) is None:
            raise MailError(
                f"Invalid credentials reference {credentials_ref!r}",
                f"Rujukan kredensial {credentials_ref!r} tidak sah",
            )
        if credentials_ref is not None:
            if instance_id is None:
                raise MailError(
                    "A mail with credentials needs the request they were issued for",
                    "E-mail berisi kredensial memerlukan permohonan tempat kredensial itu dibuat",
                )
            # only the request's own credentials: NotFound for another request's, even one of
            # the same agency (the link would send its password to this mail's recipient)
            credential_row(s, credentials_ref, agency_id=agency.id, instance_id=instance_id)
        if template == "credentials" and not credentials_ref:
            raise MailError(
                "Mail 'credentials' needs the input credentials_ref",
                "E-mail 'credentials' memerlukan masukan credentials_ref",
            )
        ctx = self.context(s, agency, variables, instance_id=instance_id, business_key=business_key)
        ctx["has_attachment"] = bool(attachments)
        ctx["credentials_link"] = CREDENTIALS_LINK_PLACEHOLDER if credentials_ref else ""
        rendered = self.renderer.render(template, agency.code, ctx)
        now = self.clock.now()
        rows = [
            OutboxMessage(
                agency_id=agency.id,
                instance_id=instance_id,
                business_key=business_key,
                job_id=job_id,
                template=template,
                recipient=r,
                subject=rendered.subject,
                body_text=rendered.body,
                attachments=list(attachments),
                credentials_ref=credentials_ref,
                message_id=make_msgid(domain=agency.parent_domain),
                status="queued",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
            for r in recipients
        ]
        s.add_all(rows)
        s.flush()
        return rows


def attachment_refs(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [str(i).strip() for i in items if str(i or "").strip()]
