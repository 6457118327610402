"""Mail templates: Jinja2 text files, first line the subject, the rest the body.

Templates are looked up per agency first, so an agency can reword a message without code:
``<MAIL_TEMPLATE_DIR>/<agency code>/<name>.txt``, then ``<MAIL_TEMPLATE_DIR>/<name>.txt``, then
the built-in ``handlers/mail/templates/<name>.txt``. The environment is sandboxed (templates
may come from an administrator's directory) and renders missing variables as empty text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, TemplateNotFound
from jinja2.sandbox import SandboxedEnvironment

from .errors import MailError, UnknownTemplate

BUILTIN_DIR = Path(__file__).parent / "templates"
TEMPLATES = (
    "received",
    "returned",
    "name_taken",
    "website_ready",
    "credentials",
    "done",
    "escalation",
    "survey_invite",
    "complaint_received",
    "complaint_resolved",
)
# stands in for the one-time link in the stored message; replaced at delivery (see delivery.py)
CREDENTIALS_LINK_PLACEHOLDER = "[[tautan-sekali-lihat]]"


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    body: str


class MailRenderer:
    def __init__(self, template_dir: str | Path | None = None) -> None:
        self.template_dir = Path(template_dir) if template_dir else None

    def _env(self, agency_code: str) -> SandboxedEnvironment:
        paths: list[str] = []
        if self.template_dir is not None:
            paths += [str(self.template_dir / agency_code), str(self.template_dir)]
        paths.append(str(BUILTIN_DIR))
        return SandboxedEnvironment(
            loader=FileSystemLoader(paths),
            autoescape=False,  # noqa: S701 - plain-text e-mail, not HTML
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def render(self, name: str, agency_code: str, context: Mapping[str, Any]) -> RenderedMail:
        if not name or not name.replace("_", "").isalnum() or name.startswith("_"):
            raise UnknownTemplate(
                f"Unknown mail template {name!r}", f"Templat e-mail {name!r} tidak dikenal"
            )
        try:
            template = self._env(agency_code).get_template(f"{name}.txt")
        except TemplateNotFound:
            raise UnknownTemplate(
                f"Unknown mail template {name!r} (known: {', '.join(TEMPLATES)})",
                f"Templat e-mail {name!r} tidak dikenal (yang ada: {', '.join(TEMPLATES)})",
            )
        text = template.render(**context)
        first, _, rest = text.lstrip("\n").partition("\n")
        subject = " ".join(first.split())  # one line: no header injection through variables
        body = rest.lstrip("\n").rstrip() + "\n"
        if not subject:
            raise MailError(
                f"Mail template {name!r} renders an empty subject",
                f"Templat e-mail {name!r} menghasilkan subjek kosong",
                record=name,
            )
        return RenderedMail(subject[:500], body)
