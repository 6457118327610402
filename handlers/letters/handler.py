"""``letter.generate``: a numbered PDF letter on the agency's letterhead, stored as an attachment.

One transaction does it all: take the next number of the agency's series for the year
(:mod:`handlers.letters.numbering`), render the PDF (:mod:`handlers.letters.pdf`), store
it by hash, add the ``attachment`` and ``letter`` rows, and for ``credentials_letter`` erase the
encrypted password the letter prints. A failure rolls all of it back, so numbers have no gaps and
a password is never lost. A retried job finds its letter by job id and returns it again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, TemplateNotFound
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.queries.recipients import AgencyInfo, instance_info

from ..agency_settings import agency_by_code, local_now, setting, tanggal, task_inputs
from ..attachments.store import AttachmentStore, make_ref
from ..base import Handler, HandlerContext, Job
from ..credentials.vault import CredentialVault
from .errors import LetterError, UnknownLetterTemplate
from .models import Letter
from .numbering import format_number, next_number
from .pdf import LetterPdf, letterhead_for

BUILTIN_DIR = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class LetterKind:
    title: str
    series: str = "surat"
    sensitive: bool = False
    needs_credentials: bool = False


KINDS: dict[str, LetterKind] = {
    "confirmation": LetterKind("Surat konfirmasi aktivasi subdomain"),
    "disposition_sheet": LetterKind("Lembar register surat masuk dan disposisi", series="agenda"),
    "credentials_letter": LetterKind(
        "Surat penyampaian akun administrator website", sensitive=True, needs_credentials=True
    ),
}


class LetterGenerateHandler(Handler):
    topic = "letter.generate"
    description = (
        "Membuat surat PDF bernomor dengan kop instansi dan menyimpannya sebagai lampiran "
        "permohonan. / Makes a numbered PDF letter on the agency's letterhead, stored as an "
        "attachment of the request."
    )
    inputs = {
        "template": "confirmation | disposition_sheet | credentials_letter",
        "credentials_ref": "untuk credentials_letter: kredensial dari credentials.issue "
        "(kata sandi dicetak sekali lalu dihapus)",
    }
    outputs = {
        "letter_pdf": "rujukan lampiran PDF (att:<uuid>)",
        "issued_letter_number": "nomor surat yang diterbitkan (letter_number tetap nomor surat "
        "permohonan)",
    }

    def _run(self, job: Job, ctx: HandlerContext) -> Mapping[str, Any]:
        store = AttachmentStore.from_settings(ctx.settings)
        with ctx.sessions.begin() as s:
            done = s.scalar(select(Letter).where(Letter.job_id == job.id))
            if done is not None:  # a retried job: the same letter, not a second number
                return {
                    "letter_pdf": make_ref(done.attachment_id),
                    "issued_letter_number": done.number,
                }
            agency = agency_by_code(s, job.agency)
            inputs = task_inputs(s, job)
            letter = self.generate(
                s,
                ctx,
                store,
                agency,
                str(inputs.get("template") or "").strip(),
                {**job.variables, **inputs},
                instance_id=job.instance_id,
                business_key=job.business_key,
                job_id=job.id,
                credentials_ref=str(inputs.get("credentials_ref") or "").strip() or None,
            )
            return {
                "letter_pdf": make_ref(letter.attachment_id),
                "issued_letter_number": letter.number,
            }

    def generate(
        self,
        s: Session,
        ctx: HandlerContext,
        store: AttachmentStore,
        agency: AgencyInfo,
        template: str,
        variables: Mapping[str, Any],
        *,
        instance_id: str | None,
        business_key: str | None,
        job_id: str | None = None,
        credentials_ref: str | None = None,
    ) -> Letter:
        template_dir = setting(ctx.settings, None, "letter", "template_dir")
        env = _environment(Path(str(template_dir)) if template_dir else None, agency.code)
        if not template or not template.replace("_", "").isalnum():
            raise UnknownLetterTemplate(
                f"Unknown letter template {template!r}",
                f"Templat surat {template!r} tidak dikenal",
                record=template,
            )
        try:
            tpl = env.get_template(f"{template}.txt")
        except TemplateNotFound:
            raise UnknownLetterTemplate(
                f"Unknown letter template {template!r} (known: {', '.join(KINDS)})",
                f"Templat surat {template!r} tidak dikenal (yang ada: {', '.join(KINDS)})",
                record=template,
            )
        kind = KINDS.get(template, LetterKind(template.replace("_", " ").capitalize()))
        now = ctx.clock.now()
        local = local_now(agency, now)
        head = letterhead_for(ctx.settings, agency)
        label = str(variables.get("new_subdomain") or variables.get("subdomain") or "").strip()
        fqdn = str(variables.get("fqdn") or "").strip() or (
            f"{label}.{agency.parent_domain}" if label else ""
        )
        # one line per value: the markup is line-based, a newline must not start an instruction
        context: dict[str, Any] = {
            k: " ".join(v.split()) if isinstance(v, str) else v
            for k, v in variables.items()
            if isinstance(v, (str, int, float, bool))
        }
        context.update(
            agency_name=agency.name,
            agency_code=agency.code,
            parent_domain=agency.parent_domain,
            business_key=business_key or "-",
            date=tanggal(local),
            city=head.city,
            signatory_title=head.signatory_title,
            signatory_name=head.signatory_name,
            signatory_id=head.signatory_id,
            fqdn=fqdn,
            subdomain=label,
        )
        if isinstance(variables.get("letter_date"), str):
            context["letter_date"] = _tanggal_iso(variables["letter_date"])
        if instance_id:
            inst = instance_info(s, instance_id)
            if inst is not None and inst.agency_id == agency.id:
                context.setdefault("received_date", tanggal(local_now(agency, inst.started_at)))
        if kind.needs_credentials:
            if not credentials_ref:
                raise LetterError(
                    f"Letter '{template}' needs the input credentials_ref",
                    f"Surat '{template}' memerlukan masukan credentials_ref",
                    record=template,
                )
            if not instance_id:
                raise LetterError(
                    f"Letter '{template}' prints credentials and needs the request they were "
                    "issued for",
                    f"Surat '{template}' mencetak kredensial dan memerlukan permohonan tempat "
                    "kredensial itu dibuat",
                    record=template,
                )
            vault = CredentialVault.from_settings(
                ctx.settings, clock=ctx.clock, sessions=ctx.sessions
            )
            # only the request's own credentials (never another request's, even of the agency);
            # erased in this transaction: the letter and the erasure commit or roll back together
            creds = vault.take(
                s, credentials_ref, agency_id=agency.id, instance_id=instance_id, via="letter"
            )
            context.update(username=creds.username, password=creds.password)
            if creds.site:
                context["fqdn"] = creds.site
        seq = next_number(s, agency.id, kind.series, local.year)
        number = format_number(ctx.settings, agency, kind.series, seq, local)
        context["number"] = number
        markup = tpl.render(**context)
        context.pop("password", None)
        data = LetterPdf.from_settings(ctx.settings).render(
            head, markup, title=kind.title, subject=number, author=agency.name, created=now
        )
        del markup
        safe_key = (business_key or "surat").replace("/", "-")
        att = store.add(
            s,
            agency_id=agency.id,
            instance_id=instance_id,
            filename=f"{template}-{safe_key}.pdf",
            data=data,
            now=now,
            kind="letter",
            sensitive=kind.sensitive,
            created_by="letter.generate",
        )
        letter = Letter(
            agency_id=agency.id,
            instance_id=instance_id,
            job_id=job_id,
            template=template,
            series=kind.series,
            year=local.year,
            seq=seq,
            number=number,
            attachment_id=att.id,
            created_at=now,
        )
        s.add(letter)
        s.flush()
        return letter


def _environment(template_dir: Path | None, agency_code: str) -> SandboxedEnvironment:
    paths: list[str] = []
    if template_dir is not None:
        paths += [str(template_dir / agency_code), str(template_dir)]
    paths.append(str(BUILTIN_DIR))
    return SandboxedEnvironment(
        loader=FileSystemLoader(paths),
        autoescape=False,  # noqa: S701 - line markup for the PDF renderer, not HTML
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _tanggal_iso(value: str) -> str:
    try:
        return tanggal(datetime.fromisoformat(value[:10]))
    except ValueError:
        return value
