"""Forms over REST: ``form-variables`` and the typed variables of ``start`` / ``submit-form``
read into the same :class:`web.formview.Submission` the browser's form gives.

Why here and not in the engine: the engine checks every form with
:meth:`engine.forms.Form.validate` (the one validation path) but knows nothing of Camunda's
typed variables or of the attachment store. This module only translates: typed values become
the plain values the browser would have sent, a ``File`` for an upload field is checked and
stored exactly as an upload is (:func:`web.formview.check_upload`, ``save_uploads``) and the
field gets the same ``att:`` reference, and a refusal is one 400 naming every field in both
languages. What counts as valid stays the form's business.

A person's variables are form values: for a form field, a value whose Camunda type does not
convert (``{"type": "Long", "value": "abc"}``) is handed to the form as it came, so the answer is
the form's own message for that field, not a generic conversion error; an upload field takes
only a ``File`` (never a reference string, which could point at another unit's file). Trusted
callers (``access.trusted_inputs``: integrations, administrators) keep Camunda's strict typed
conversion and have their variables taken as given, files on upload fields still stored.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from engine.actors import Actor
from engine.errors import FieldError, FormValidationError
from engine.forms import Form, FormField
from engine.models import Agency
from engine.runtime import Engine
from handlers.attachments import parse_ref
from handlers.attachments.store import clean_filename

from .. import formview
from . import dto
from .errors import RestError, bad_request

VALIDATOR = "FormFieldValidatorException"
# the Camunda value type of each declared form field type (enum values are strings)
VALUE_TYPES = {"string": "String", "long": "Long", "boolean": "Boolean", "date": "Date"}
NOT_A_FILE = (
    "Send the file as a variable of type File (base64 value, valueInfo.filename)",
    "Kirim berkas sebagai variabel bertipe File (nilai base64, valueInfo.filename)",
)
BAD_BASE64 = ("The file is not valid base64", "Berkas bukan base64 yang sah")


# ------------------------------------------------------------------ form-variables
def form_variables(form: Mapping[str, Any] | None, current: Mapping[str, Any]) -> dict[str, Any]:
    """Every field as Camunda's ``form-variables`` answers it: the declared type (``Long``,
    ``Boolean``, ``Date``, ``String``; ``File`` for an upload field) with the current value, else
    the default, else ``null``. ``valueInfo`` carries what a client needs to render the form:
    ``label``, ``required``, ``readonly``, ``enumValues`` (``[{id, name}]``), ``widget`` and, for
    an upload field, ``accept`` and the ``attachment`` reference it holds."""
    out: dict[str, Any] = {}
    for f in Form.from_dict(form).fields:
        raw = current.get(f.id) if f.id in current else f.default
        info: dict[str, Any] = {"label": f.label, "required": f.required, "readonly": f.readonly}
        if f.type == "enum":
            info["enumValues"] = [{"id": i, "name": n} for i, n in f.options]
        if f.widget != "text":
            info["widget"] = f.widget
        if f.widget == "file":
            info["accept"] = f.properties.get("accept") or formview.DEFAULT_ACCEPT
            ref = parse_ref(raw)
            info["attachment"] = f"att:{ref}" if ref else None
            out[f.id] = {"value": None, "type": "File", "valueInfo": info}
            continue
        out[f.id] = _declared(f, raw, info)
    return out


def _declared(f: FormField, raw: Any, info: dict[str, Any]) -> dict[str, Any]:
    kind = VALUE_TYPES.get(f.type, "String")
    if raw is None or (isinstance(raw, str) and raw == "" and f.type != "string"):
        return {"value": None, "type": kind, "valueInfo": info}
    try:
        value = f.coerce(raw)
    except ValueError:  # a value some other writer left: shown as it is, with its own type
        return {**dto.typed(raw), "valueInfo": info}
    if isinstance(value, date):
        # a calendar date as Camunda's Date: midnight UTC, which converts back to the same day
        value = dto.fmt_date(datetime(value.year, value.month, value.day, tzinfo=UTC))
    return {"value": value, "type": kind, "valueInfo": info}


# ------------------------------------------------------------------ submissions
def read(form: Form, variables: Any, *, trusted: bool) -> formview.Submission:
    """The REST ``variables`` as a submission: values converted, files checked (not stored)."""
    if variables is None:
        variables = {}
    if not isinstance(variables, dict):
        raise bad_request("'variables' must be an object")
    fields = {f.id: f for f in form.fields}
    sub = formview.Submission({}, {}, [])
    limit = formview.max_upload()
    for key, var in variables.items():
        name = str(key)
        f = fields.get(name)
        if f is not None and f.widget == "file" and not f.readonly:
            _read_file(sub, f, var, trusted, limit)
        elif f is not None and not trusted:
            sub.values[name] = _lenient(name, var)
        else:
            sub.values[name] = dto.untyped(name, var)
    return sub


def _kind(var: Any) -> str:
    return str(var.get("type") or "").strip().lower() if isinstance(var, dict) else ""


def _lenient(name: str, var: Any) -> Any:
    try:
        return dto.untyped(name, var)
    except RestError:
        if not isinstance(var, dict):
            raise
        return var.get("value")  # the form says what is wrong with it, in its own words


def _read_file(sub: formview.Submission, f: FormField, var: Any, trusted: bool, limit: int) -> None:
    kind = _kind(var)
    value = var.get("value") if isinstance(var, dict) else None
    if kind != "file":
        if value is None and kind in ("", "null", "string"):
            sub.values[f.id] = None  # no file: the form's ``required`` decides
        elif trusted:
            sub.values[f.id] = dto.untyped(f.id, var)
        else:
            sub.errors.append(FieldError(f.id, *NOT_A_FILE))
        return
    info = var.get("valueInfo") if isinstance(var.get("valueInfo"), dict) else {}
    if not isinstance(value, str):
        sub.errors.append(FieldError(f.id, *BAD_BASE64))
        return
    if len(value) > (limit + 2) // 3 * 4 + 4:  # surely larger than allowed: do not decode it
        data = b"\0" * (limit + 1)
    else:
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            sub.errors.append(FieldError(f.id, *BAD_BASE64))
            return
    problem = formview.check_upload(f, data, limit)
    if problem is not None:
        sub.errors.append(problem)
        return
    sub.uploads[f.id] = (clean_filename(info.get("filename")), data)
    sub.values[f.id] = formview.PLACEHOLDER


def check(
    form: Form, sub: formview.Submission, current: Mapping[str, Any], *, trusted: bool
) -> None:
    """Refuse the submission with every problem at once: the files' and, for a person
    answering a form, the form's (trusted inputs and form-less steps are taken as given)."""
    if trusted or not form:
        errors = list(sub.errors)
    else:
        errors = formview.check(form.as_dict(), sub, current)
    if errors:
        raise invalid(errors)


def invalid(errors: list[FieldError]) -> RestError:
    """Camunda's ``FormFieldValidatorException`` naming each field, Indonesian / English."""
    fields = "; ".join(f"{e.field}: {e.message_id} / {e.message_en}" for e in errors)
    return RestError(400, f"Formulir tidak valid / Form is not valid: {fields}", VALIDATOR)


def refused(e: FormValidationError) -> RestError:
    return invalid(list(e.errors))


def save(
    eng: Engine, who: Actor, sub: formview.Submission, instance_id: str | None = None
) -> list[str]:
    """Store the checked files as the browser's uploads are stored (their ``att:`` references
    replace the placeholders in ``sub.values``); the attachment ids."""
    if not sub.uploads:
        return []
    with eng.sessions() as s:
        agency_id = s.scalar(select(Agency.id).where(Agency.code == who.agency))
    assert agency_id is not None
    return formview.save_uploads(
        eng, sub, agency_id=agency_id, username=who.username, instance_id=instance_id
    )


def has_files(variables: Any) -> bool:
    """Whether any variable is a ``File`` (which may be meant for an upload field)."""
    return isinstance(variables, dict) and any(_kind(v) == "file" for v in variables.values())
