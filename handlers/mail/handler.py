"""``mail.send``: render a template for the request and put it into the outbox."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from sqlalchemy import select

from ..agency_settings import agency_by_code, task_inputs
from ..base import Handler, HandlerContext, Job
from .errors import MailError
from .models import OutboxMessage
from .outbox import Outbox, attachment_refs, group_addresses, split_addresses
from .render import TEMPLATES


class MailSendHandler(Handler):
    topic = "mail.send"
    description = (
        "Mengirim e-mail berbahasa Indonesia dari templat melalui outbox (dikirim ulang sampai "
        "server SMTP menerima). / Renders an Indonesian template into the mail outbox; "
        "delivery retries until the SMTP server accepts it."
    )
    inputs = {
        "template": "nama templat: " + ", ".join(TEMPLATES),
        "to": "alamat e-mail penerima (mis. ${applicant_email}); boleh beberapa, dipisah koma",
        "to_group": "kelompok peran instansi ini (mis. head_of_office): e-mail para anggotanya",
        "step": "opsional: nomor langkah SOP (templat escalation)",
        "attachment": "opsional: rujukan lampiran att:<uuid> (mis. ${letter_pdf})",
        "credentials_ref": "opsional: kredensial dari credentials.issue; e-mail memuat tautan "
        "sekali-lihat, bukan kata sandi",
    }
    outputs: ClassVar[Mapping[str, str]] = {}

    def _run(self, job: Job, ctx: HandlerContext) -> Mapping[str, Any]:
        outbox = Outbox(ctx.settings, ctx.clock)
        with ctx.sessions.begin() as s:
            already = s.scalar(
                select(OutboxMessage.id).where(OutboxMessage.job_id == job.id).limit(1)
            )
            if already is not None:  # a retried job: the messages are in the outbox already
                return {}
            agency = agency_by_code(s, job.agency)
            v = task_inputs(s, job)
            template = str(v.get("template") or "").strip()
            recipients = split_addresses(v.get("to"))
            group = v.get("to_group")
            if group:
                members = group_addresses(s, agency.id, group)
                if not members:
                    raise MailError(
                        f"No active user with an e-mail address in group '{group}' of "
                        f"agency '{agency.code}'",
                        f"Tidak ada pengguna aktif ber-e-mail dalam kelompok '{group}' "
                        f"instansi '{agency.code}'",
                        record=str(group),
                    )
                recipients += members
            outbox.enqueue(
                s,
                agency,
                template,
                recipients,
                {**job.variables, **v},
                instance_id=job.instance_id,
                business_key=job.business_key,
                job_id=job.id,
                attachments=attachment_refs(v.get("attachment")),
                credentials_ref=str(v.get("credentials_ref") or "").strip() or None,
            )
        return {}
