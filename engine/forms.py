"""Forms declared with ``camunda:formData``, and their server-side validation.

A form in the diagram is only metadata: SpiffWorkflow never checks it. Every value that reaches
a process comes through :meth:`Form.validate`, so the rules an analyst wrote in Camunda Modeler
(required, min/max, length, pattern, enum values) hold whichever client submitted the form.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from lxml import etree

from .bpmn.namespaces import CAMUNDA as _C
from .errors import FieldError, FormValidationError, Problem
from .names import is_variable_name

FIELD_TYPES = ("string", "long", "boolean", "date", "enum")
CONSTRAINTS = ("required", "readonly", "minlength", "maxlength", "min", "max", "pattern")
WIDGETS = ("text", "textarea", "file", "email", "tel", "url", "hidden")
MAX_STRING = 20_000  # bounds the work a pattern can do on one value
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1
_TRUE = {"true", "1", "on", "yes", "ya"}
_FALSE = {"false", "0", "off", "no", "tidak", ""}


@dataclass
class FormField:
    id: str
    label: str
    type: str = "string"
    default: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    constraints: dict[str, str | None] = field(default_factory=dict)
    options: list[tuple[str, str]] = field(default_factory=list)
    line: int | None = None

    @property
    def required(self) -> bool:
        return "required" in self.constraints

    @property
    def readonly(self) -> bool:
        return "readonly" in self.constraints

    @property
    def widget(self) -> str:
        return self.properties.get("widget", "text")

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "type": self.type,
            "default": self.default,
            "properties": dict(self.properties),
            "constraints": dict(self.constraints),
            "options": [list(o) for o in self.options],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FormField:
        return cls(
            id=d["id"],
            label=d.get("label") or d["id"],
            type=d.get("type", "string"),
            default=d.get("default"),
            properties=dict(d.get("properties") or {}),
            constraints=dict(d.get("constraints") or {}),
            options=[(o[0], o[1]) for o in d.get("options") or []],
        )

    def default_value(self) -> Any:
        """The typed default, or None; a bad default is a deploy-time problem, not a crash."""
        if self.default is None:
            return False if self.type == "boolean" else None
        try:
            return self._coerce(self.default)
        except ValueError:
            return None

    def coerce(self, raw: Any) -> Any:
        """``raw`` as the field's type, converted as a submitted value is (``"12"`` → 12,
        ``"ya"`` → True, ``"21/12/2026"`` → a date); ValueError names the kind it is not."""
        return self._coerce(raw)

    def _coerce(self, raw: Any) -> Any:
        t = self.type
        if t == "boolean":
            if isinstance(raw, bool):
                return raw
            s = str(raw).strip().lower()
            if s in _TRUE:
                return True
            if s in _FALSE:
                return False
            raise ValueError("boolean")
        if t == "long":
            if isinstance(raw, bool):
                raise ValueError("long")
            if isinstance(raw, int):
                v = raw
            elif isinstance(raw, float) and raw.is_integer():
                v = int(raw)
            else:
                s = str(raw).strip()
                if not re.fullmatch(r"[+-]?\d{1,19}", s):
                    raise ValueError("long")
                v = int(s)
            if not LONG_MIN <= v <= LONG_MAX:
                raise ValueError("long")
            return v
        if t == "date":
            if isinstance(raw, datetime):
                return raw.date()
            if isinstance(raw, date):
                return raw
            s = str(raw).strip()
            for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
                try:
                    return datetime.strptime(s, fmt).date()
                except ValueError:
                    pass
            try:
                return datetime.fromisoformat(s).date()
            except ValueError:
                raise ValueError("date")
        if isinstance(raw, (dict, list)):
            raise ValueError("string")
        return str(raw)


_MESSAGES = {
    "required": ("This field is required", "Wajib diisi"),
    "boolean": ("Must be yes or no", "Harus ya atau tidak"),
    "long": ("Must be a whole number", "Harus bilangan bulat"),
    "date": ("Must be a date (YYYY-MM-DD)", "Harus tanggal (TTTT-BB-HH)"),
    "string": ("Must be text", "Harus teks"),
    "enum": ("Choose one of the listed options", "Pilih salah satu pilihan yang tersedia"),
    "unknown": ("This field is not part of the form", "Isian ini tidak ada di formulir"),
    "too_long": ("Text is too long", "Teks terlalu panjang"),
    "bad_name": ("Not a valid variable name", "Bukan nama variabel yang sah"),
}


def _err(field_id: str, key: str, *fmt: Any) -> FieldError:
    en, id_ = _MESSAGES[key]
    return FieldError(field_id, en.format(*fmt), id_.format(*fmt))


@dataclass
class Form:
    fields: list[FormField] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.fields)

    def field(self, field_id: str) -> FormField | None:
        return next((f for f in self.fields if f.id == field_id), None)

    def as_dict(self) -> dict[str, Any]:
        return {"fields": [f.as_dict() for f in self.fields]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> Form:
        return cls([FormField.from_dict(f) for f in (d or {}).get("fields", [])])

    def validate(
        self,
        values: Mapping[str, Any],
        current: Mapping[str, Any] | None = None,
        allow_unknown: bool = False,
    ) -> dict[str, Any]:
        """Coerce and check submitted values; return the clean values or raise with every error.

        Read-only fields keep their current value whatever was sent. Fields not in the form are
        refused unless ``allow_unknown``: a person completing one task must not be able to set
        the variables another role decides (``approved``, ``documents_complete``).
        """
        current = current or {}
        errors: list[FieldError] = []
        clean: dict[str, Any] = {}
        known = {f.id for f in self.fields}
        for key in values:
            if key not in known and not allow_unknown:
                errors.append(_err(str(key), "unknown"))
            elif key not in known:
                # extra variables (Camunda REST clients send them) still need plain names
                if not is_variable_name(key):
                    errors.append(_err(str(key), "bad_name"))
                else:
                    clean[key] = values[key]
        for f in self.fields:
            if f.readonly:
                if f.id in current:
                    clean[f.id] = current[f.id]
                continue
            raw = values.get(f.id)
            if raw is None or (isinstance(raw, str) and raw.strip() == "" and f.type != "boolean"):
                if f.required:
                    errors.append(_err(f.id, "required"))
                    continue
                if f.id not in values and f.id in current:
                    continue  # omitted: the variable keeps its value, as in Camunda
                clean[f.id] = (
                    f.default_value()
                    if f.id not in values
                    else (False if f.type == "boolean" else None)
                )
                continue
            if isinstance(raw, str) and len(raw) > MAX_STRING:
                errors.append(_err(f.id, "too_long"))
                continue
            try:
                value = f._coerce(raw)
            except ValueError as e:
                errors.append(_err(f.id, str(e) if str(e) in _MESSAGES else "string"))
                continue
            problem = _check_constraints(f, value)
            if problem:
                errors.append(problem)
                continue
            clean[f.id] = value
        if errors:
            raise FormValidationError(errors)
        return clean


def _check_constraints(f: FormField, value: Any) -> FieldError | None:
    c = f.constraints
    if f.type == "enum" and f.options and value not in {o[0] for o in f.options}:
        return _err(f.id, "enum")
    if isinstance(value, str):
        if "minlength" in c and len(value) < int(c["minlength"] or 0):
            return FieldError(
                f.id,
                f"At least {c['minlength']} characters",
                f"Minimal {c['minlength']} karakter",
            )
        if "maxlength" in c and len(value) > int(c["maxlength"] or 0):
            return FieldError(
                f.id,
                f"At most {c['maxlength']} characters",
                f"Maksimal {c['maxlength']} karakter",
            )
        pattern = c.get("pattern")
        if pattern and not re.fullmatch(pattern, value):
            return FieldError(
                f.id,
                f"Does not match the required format ({pattern})",
                f"Tidak sesuai format yang diminta ({pattern})",
            )
    if isinstance(value, (int, date)) and not isinstance(value, bool):
        for name, cmp, en, id_ in (
            ("min", lambda v, lim: v < lim, "at least", "minimal"),
            ("max", lambda v, lim: v > lim, "at most", "maksimal"),
        ):
            if name in c and c[name] is not None:
                lim = f._coerce(c[name])
                if cmp(value, lim):
                    return FieldError(f.id, f"Must be {en} {c[name]}", f"Harus {id_} {c[name]}")
    return None


def parse_form(element: etree._Element) -> tuple[Form, list[Problem]]:
    """Read ``camunda:formData`` under an element, reporting every malformed field."""
    problems: list[Problem] = []
    form = Form()
    owner = element.get("id")
    seen: set[str] = set()
    for fd in element.iter(f"{_C}formData"):
        for xf in fd.iter(f"{_C}formField"):
            line = xf.sourceline
            fid = xf.get("id")

            def problem(en: str, id_: str, line: int | None = line) -> None:
                problems.append(Problem(en, id_, element_id=owner, line=line))

            if not fid:
                problem("A form field has no id", "Ada isian formulir tanpa id")
                continue
            if not is_variable_name(fid):
                problem(
                    f"Form field id '{fid}' must be a plain variable name (letters, digits, _)",
                    f"Id isian '{fid}' harus nama variabel biasa (huruf, angka, _)",
                )
                continue
            if fid in seen:
                problem(f"Form field '{fid}' appears twice", f"Isian '{fid}' muncul dua kali")
                continue
            seen.add(fid)
            ftype = xf.get("type") or "string"
            if ftype not in FIELD_TYPES:
                problem(
                    f"Form field '{fid}' has unsupported type '{ftype}' "
                    f"(supported: {', '.join(FIELD_TYPES)})",
                    f"Isian '{fid}' bertipe '{ftype}' yang tidak didukung "
                    f"(didukung: {', '.join(FIELD_TYPES)})",
                )
                continue
            ff = FormField(
                id=fid,
                label=xf.get("label") or fid,
                type=ftype,
                default=xf.get("defaultValue"),
                line=line,
            )
            for child in xf:
                if child.tag == f"{_C}properties":
                    for p in child.iter(f"{_C}property"):
                        ff.properties[p.get("id") or p.get("name") or ""] = p.get("value") or ""
                elif child.tag == f"{_C}validation":
                    for con in child.iter(f"{_C}constraint"):
                        ff.constraints[con.get("name") or ""] = con.get("config")
                elif child.tag == f"{_C}value":
                    ff.options.append(
                        (child.get("id") or "", child.get("name") or child.get("id") or "")
                    )
            problems.extend(_check_field(ff, owner))
            form.fields.append(ff)
    return form, problems


def _check_field(ff: FormField, owner: str | None) -> list[Problem]:
    out: list[Problem] = []

    def p(en: str, id_: str) -> None:
        out.append(Problem(en, id_, element_id=owner, line=ff.line))

    for name, config in ff.constraints.items():
        if name not in CONSTRAINTS:
            p(
                f"Field '{ff.id}': unsupported constraint '{name}'",
                f"Isian '{ff.id}': batasan '{name}' tidak didukung",
            )
        elif name in ("minlength", "maxlength") and not (config or "").isdigit():
            p(
                f"Field '{ff.id}': {name} needs a whole number, got '{config}'",
                f"Isian '{ff.id}': {name} harus bilangan bulat, bukan '{config}'",
            )
        elif name in ("min", "max"):
            try:
                ff._coerce(config)
            except ValueError:
                p(
                    f"Field '{ff.id}': {name} '{config}' is not a valid {ff.type}",
                    f"Isian '{ff.id}': {name} '{config}' bukan {ff.type} yang sah",
                )
        elif name == "pattern":
            try:
                re.compile(config or "")
            except re.error as e:
                p(
                    f"Field '{ff.id}': pattern does not compile ({e})",
                    f"Isian '{ff.id}': pola tidak valid ({e})",
                )
    if ff.type == "enum" and not ff.options:
        p(f"Enum field '{ff.id}' has no values", f"Isian pilihan '{ff.id}' tidak punya pilihan")
    if ff.default is not None:
        try:
            v = ff._coerce(ff.default)
            if ff.type == "enum" and ff.options and v not in {o[0] for o in ff.options}:
                raise ValueError
        except ValueError:
            p(
                f"Field '{ff.id}': default '{ff.default}' is not a valid {ff.type}",
                f"Isian '{ff.id}': nilai awal '{ff.default}' bukan {ff.type} yang sah",
            )
    widget = ff.properties.get("widget")
    if widget is not None and widget not in WIDGETS:
        p(
            f"Field '{ff.id}': unknown widget '{widget}' (known: {', '.join(WIDGETS)})",
            f"Isian '{ff.id}': widget '{widget}' tidak dikenal (dikenal: {', '.join(WIDGETS)})",
        )
    return out
