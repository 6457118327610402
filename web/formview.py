"""Forms from ``camunda:formData`` in the browser: field view models, reading a submission,
checking uploads (size, type sniffed from the bytes against the field's ``accept``), storing
them in the :class:`handlers.attachments.AttachmentStore` and listing a request's files."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import current_app, request
from sqlalchemy import or_, select, update

from engine.errors import FieldError, FormValidationError
from engine.forms import Form, FormField
from handlers.attachments import AttachmentStore, make_ref, parse_ref, sniff_mime
from handlers.attachments.models import Attachment
from handlers.attachments.store import clean_filename

from .i18n import error_text, gettext

DEFAULT_MAX_UPLOAD = 10 * 1024 * 1024
DEFAULT_ACCEPT = "application/pdf,image/png,image/jpeg"
PLACEHOLDER = make_ref("00000000-0000-0000-0000-000000000000")
_EXTENSIONS = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".txt": "text/plain",
}


@dataclass
class FieldView:
    id: str
    label: str
    type: str
    widget: str
    required: bool
    readonly: bool
    options: list[tuple[str, str]]
    value: Any = None
    accept: str = ""
    error: str | None = None
    constraints: dict[str, Any] = field(default_factory=dict)

    @property
    def is_file(self) -> bool:
        return self.widget == "file"

    @property
    def text_value(self) -> str:
        v = self.value
        if v is None:
            return ""
        if isinstance(v, (date, datetime)):
            return v.isoformat()[:10]
        if isinstance(v, bool):
            return "true" if v else "false"
        return str(v)

    @property
    def attachment_id(self) -> str | None:
        return parse_ref(self.value)


def max_upload() -> int:
    return int(current_app.config["SOPFLOW"].get("UPLOAD_MAX_BYTES") or DEFAULT_MAX_UPLOAD)


def store() -> AttachmentStore:
    return AttachmentStore.from_settings(current_app.config["SOPFLOW"])


def field_views(
    form: Mapping[str, Any] | None,
    values: Mapping[str, Any] | None = None,
    errors: Iterable[FieldError] = (),
) -> list[FieldView]:
    values = values or {}
    by_field: dict[str, str] = {}
    for e in errors:
        by_field.setdefault(e.field, error_text(e))
    out = []
    for f in Form.from_dict(form).fields:
        value = values.get(f.id, f.default_value())
        out.append(
            FieldView(
                id=f.id,
                label=f.label,
                type=f.type,
                widget=f.widget,
                required=f.required,
                readonly=f.readonly,
                options=list(f.options),
                value=value,
                accept=f.properties.get("accept", ""),
                error=by_field.get(f.id),
                constraints=dict(f.constraints),
            )
        )
    return out


def accepted(accept: str, mime: str) -> bool:
    for item in (a.strip().lower() for a in (accept or DEFAULT_ACCEPT).split(",")):
        if not item:
            continue
        if item.startswith("."):
            item = _EXTENSIONS.get(item, "")
        if item == mime or (item.endswith("/*") and mime.startswith(item[:-1])):
            return True
    return False


def check_upload(f: FormField, data: bytes, limit: int) -> FieldError | None:
    """The refusal of one file for field ``f`` (too large, or a type sniffed from the bytes
    that the field does not accept), or None: the rule for the browser's uploads and the REST
    API's ``File`` values alike."""
    if len(data) > limit:
        size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit} B"
        return FieldError(
            f.id,
            f"The file is too large (at most {size}).",
            f"Berkas terlalu besar (maksimal {size}).",
        )
    mime = sniff_mime(data)
    accept = f.properties.get("accept", "") or DEFAULT_ACCEPT
    if not accepted(accept, mime):
        return FieldError(
            f.id,
            f"File type not allowed ({mime}); accepted: {accept}.",
            f"Jenis berkas tidak diizinkan ({mime}); yang diterima: {accept}.",
        )
    return None


@dataclass
class Submission:
    values: dict[str, Any]
    uploads: dict[str, tuple[str, bytes]]
    errors: list[FieldError]


def read_submission(form: Mapping[str, Any] | None, current: Mapping[str, Any]) -> Submission:
    """The submitted values of the editable fields; files are checked but not stored yet."""
    values: dict[str, Any] = {}
    uploads: dict[str, tuple[str, bytes]] = {}
    errors: list[FieldError] = []
    limit = max_upload()
    for f in Form.from_dict(form).fields:
        if f.readonly:
            continue
        if f.widget == "file":
            up = request.files.get(f.id)
            if up is None or not up.filename:
                if f.id not in current:
                    values[f.id] = ""
                continue
            data = up.stream.read(limit + 1)
            problem = check_upload(f, data, limit)
            if problem is not None:
                errors.append(problem)
                continue
            uploads[f.id] = (clean_filename(up.filename), data)
            values[f.id] = PLACEHOLDER
        elif f.type == "boolean":
            values[f.id] = "true" if request.form.get(f.id) in ("true", "on", "1") else "false"
        else:
            values[f.id] = request.form.get(f.id, "")
    return Submission(values, uploads, errors)


def check(
    form: Mapping[str, Any] | None, sub: Submission, current: Mapping[str, Any]
) -> list[FieldError]:
    """Every problem at once: upload refusals plus the engine's own form validation."""
    errors = list(sub.errors)
    refused = {e.field for e in errors}
    try:
        Form.from_dict(form).validate(
            {k: v for k, v in sub.values.items() if k not in refused}, current=current
        )
    except FormValidationError as e:
        errors.extend(x for x in e.errors if x.field not in refused)
    return errors


def save_uploads(
    engine: Any,
    sub: Submission,
    *,
    agency_id: int,
    username: str,
    instance_id: str | None = None,
) -> list[str]:
    """Store the checked uploads and put their ``att:`` references into ``sub.values``."""
    ids: list[str] = []
    if not sub.uploads:
        return ids
    st = store()
    with engine.sessions.begin() as s:
        for field_id, (filename, data) in sub.uploads.items():
            att = st.add(
                s,
                agency_id=agency_id,
                filename=filename,
                data=data,
                now=engine.now(),
                instance_id=instance_id,
                created_by=username,
            )
            sub.values[field_id] = make_ref(att.id)
            ids.append(att.id)
    return ids


def link_uploads(engine: Any, ids: list[str], instance_id: str) -> None:
    if ids:
        with engine.sessions.begin() as s:
            s.execute(
                update(Attachment).where(Attachment.id.in_(ids)).values(instance_id=instance_id)
            )


def attachments_of(
    engine: Any,
    agency_id: int,
    instance_id: str,
    variables: Mapping[str, Any],
    *,
    sensitive: bool = False,
) -> list[Attachment]:
    """The request's files (rows of the instance and ``att:`` references in its variables);
    files marked sensitive (a letter with a password) only when ``sensitive``."""
    refs = [r for r in (parse_ref(v) for v in variables.values()) if r]
    with engine.sessions() as s:
        q = select(Attachment).where(
            Attachment.agency_id == agency_id,
            or_(Attachment.instance_id == instance_id, Attachment.id.in_(refs)),
        )
        if not sensitive:
            q = q.where(Attachment.sensitive.is_(False))
        return list(s.scalars(q.order_by(Attachment.created_at)))


def translated_errors(errors: Iterable[FieldError]) -> list[str]:
    return [error_text(e) for e in errors]


__all__ = [
    "FieldView",
    "Submission",
    "accepted",
    "attachments_of",
    "check",
    "check_upload",
    "field_views",
    "gettext",
    "link_uploads",
    "read_submission",
    "save_uploads",
]
