"""``credentials.issue``: a one-time-viewable administrator login for the new website."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from ..agency_settings import agency_by_code, checked_format, setting
from ..base import Handler, HandlerContext, Job
from .errors import CredentialsError
from .models import SiteCredential
from .vault import CredentialVault, make_ref

_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


class CredentialsIssueHandler(Handler):
    topic = "credentials.issue"
    description = (
        "Membuat username dan kata sandi admin website yang kuat; hanya hash yang disimpan. "
        "Kata sandi dilihat sekali lewat tautan (mail.send dengan credentials_ref) atau dicetak "
        "di surat (letter.generate credentials_letter). / Issues a strong admin login for the "
        "site; the password is shown once (link or letter) and never enters task data."
    )
    inputs = {
        "subdomain": "label situs (bawaan: variabel proses subdomain / new_subdomain)",
        "username": "opsional: username yang diminta (bawaan: pola CREDENTIALS_USERNAME)",
    }
    outputs = {
        "credentials_ref": "rujukan buram ke kredensial (cred:<uuid>), bukan kata sandi",
        "site_username": "username admin website",
    }

    def validate(self, job: Job) -> None:
        super().validate(job)
        _site_label(job)

    def _run(self, job: Job, ctx: HandlerContext) -> Mapping[str, Any]:
        vault = CredentialVault.from_settings(ctx.settings, clock=ctx.clock, sessions=ctx.sessions)
        v = job.variables
        with ctx.sessions.begin() as s:
            done = s.scalar(select(SiteCredential).where(SiteCredential.job_id == job.id))
            if done is not None:  # a retried job: the same credentials, not a second set
                return {"credentials_ref": make_ref(done.id), "site_username": done.username}
            agency = agency_by_code(s, job.agency)
            label, fqdn = _site_label(job)
            site = fqdn or f"{label}.{agency.parent_domain}"
            username = str(v.get("username") or "").strip()
            if not username:
                pattern = checked_format(
                    str(setting(ctx.settings, agency, "credentials", "username", "admin_{label}")),
                    {"label", "agency"},
                    "CREDENTIALS_USERNAME",
                )
                username = pattern.format(label=label, agency=agency.code)
            username = username[:100]
            row = vault.issue(
                s,
                agency_id=agency.id,
                username=username,
                site=site,
                instance_id=job.instance_id,
                job_id=job.id,
            )
            return {"credentials_ref": make_ref(row.id), "site_username": row.username}


def _site_label(job: Job) -> tuple[str, str]:
    """(label, fqdn) of the site from the job's variables (``fqdn`` may be empty), or
    CredentialsError when there is no valid label."""
    v = job.variables
    label = str(v.get("subdomain") or v.get("new_subdomain") or "").strip().lower()
    fqdn = str(v.get("fqdn") or "").strip().lower()
    if not label and fqdn:
        label = fqdn.split(".", 1)[0]
    if not _LABEL.fullmatch(label):
        raise CredentialsError(
            f"credentials.issue needs a valid subdomain label, got {label!r}",
            f"credentials.issue memerlukan label subdomain yang sah, bukan {label!r}",
            record=label,
        )
    return label, fqdn
