"""Server-side form validation (engine.forms): whatever a client sends, the diagram's rules hold."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import select

from engine.actors import Actor
from engine.errors import FieldError, FormValidationError
from engine.forms import LONG_MAX, LONG_MIN, MAX_STRING, Form, FormField, parse_form
from engine.models import HistoryEvent, HumanTask, ProcessInstance
from engine.runtime import Engine

CAMUNDA = "http://camunda.org/schema/1.0/bpmn"


def form_of(fields: str) -> Form:
    xml = (
        f'<bpmn:userTask xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        f'xmlns:camunda="{CAMUNDA}" id="t"><bpmn:extensionElements><camunda:formData>'
        f"{fields}</camunda:formData></bpmn:extensionElements></bpmn:userTask>"
    )
    form, problems = parse_form(etree.fromstring(xml))
    assert problems == []
    return form


def field(type_: str = "string", *constraints: tuple[str, str | None], **kw: Any) -> Form:
    return Form([FormField(id="x", label="X", type=type_, constraints=dict(constraints), **kw)])


def errors(form: Form, values: dict[str, Any], **kw: Any) -> dict[str, FieldError]:
    with pytest.raises(FormValidationError) as info:
        form.validate(values, **kw)
    out = {e.field: e for e in info.value.errors}
    assert len(out) == len(info.value.errors), "one error per field"
    return out


def error(form: Form, values: dict[str, Any], **kw: Any) -> tuple[str, str]:
    (e,) = errors(form, values, **kw).values()
    return e.message_en, e.message_id


# --------------------------------------------------------------------------- required


@pytest.mark.parametrize("values", [{}, {"x": None}, {"x": ""}, {"x": "   "}])
@pytest.mark.parametrize("type_", ["string", "long", "date", "enum"])
def test_required(type_: str, values: dict[str, Any]) -> None:
    form = field(type_, ("required", None), options=[("a", "A")])
    assert error(form, values) == ("This field is required", "Wajib diisi")


def test_required_boolean_must_be_sent_but_false_is_an_answer() -> None:
    form = field("boolean", ("required", None))
    assert error(form, {}) == ("This field is required", "Wajib diisi")
    assert form.validate({"x": False}) == {"x": False}
    assert form.validate({"x": "false"}) == {"x": False}


def test_optional_fields_take_their_default_when_absent_and_none_when_cleared() -> None:
    form = form_of(
        '<camunda:formField id="n" type="long" defaultValue="2" />'
        '<camunda:formField id="s" type="string" defaultValue="hi" />'
        '<camunda:formField id="b" type="boolean" />'
        '<camunda:formField id="d" type="date" defaultValue="2026-12-01" />'
    )
    assert form.validate({}) == {"n": 2, "s": "hi", "b": False, "d": date(2026, 12, 1)}
    assert form.validate({"n": "", "s": "", "d": ""}) == {
        "n": None,
        "s": None,
        "b": False,
        "d": None,
    }


# --------------------------------------------------------------------------- long


@pytest.mark.parametrize(
    ("raw", "value"),
    [("42", 42), (" -7 ", -7), ("+3", 3), (42, 42), (3.0, 3), ("0", 0)],
)
def test_long_coercion(raw: Any, value: int) -> None:
    assert field("long").validate({"x": raw}) == {"x": value}


@pytest.mark.parametrize(
    "raw",
    [
        "abc",
        "3.5",
        3.5,
        "1e3",
        "12abc",
        True,
        False,
        "0x10",
        "1 000",
        [1],
        float("nan"),
        float("inf"),
    ],
)
def test_long_refusals(raw: Any) -> None:
    assert error(field("long"), {"x": raw}) == ("Must be a whole number", "Harus bilangan bulat")


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        (str(LONG_MAX), True),
        (str(LONG_MIN), True),
        (LONG_MAX, True),
        (LONG_MIN, True),
        (str(LONG_MAX + 1), False),
        (str(LONG_MIN - 1), False),
        (LONG_MAX + 1, False),
        (LONG_MIN - 1, False),
        (float(2**64), False),
        ("9" * 40, False),
    ],
)
def test_long_is_64_bit(raw: Any, ok: bool) -> None:
    assert (LONG_MIN, LONG_MAX) == (-(2**63), 2**63 - 1)
    form = field("long")
    if ok:
        assert form.validate({"x": raw}) == {"x": int(raw)}
    else:
        assert error(form, {"x": raw})[0] == "Must be a whole number"


def test_long_min_and_max() -> None:
    form = field("long", ("min", "1"), ("max", "5"))
    assert form.validate({"x": "1"}) == {"x": 1}
    assert form.validate({"x": "5"}) == {"x": 5}
    assert error(form, {"x": "0"}) == ("Must be at least 1", "Harus minimal 1")
    assert error(form, {"x": 6}) == ("Must be at most 5", "Harus maksimal 5")


# --------------------------------------------------------------------------- boolean


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (True, True),
        (False, False),
        ("true", True),
        ("false", False),
        ("TRUE", True),
        ("on", True),
        ("off", False),
        ("1", True),
        ("0", False),
        ("yes", True),
        ("no", False),
        ("ya", True),
        ("tidak", False),
        ("", False),
        (1, True),
        (0, False),
    ],
)
def test_boolean_coercion(raw: Any, value: bool) -> None:
    assert field("boolean").validate({"x": raw}) == {"x": value}


@pytest.mark.parametrize("raw", ["maybe", "2", "benar", [True], {"a": 1}])
def test_boolean_refusals(raw: Any) -> None:
    assert error(field("boolean"), {"x": raw}) == ("Must be yes or no", "Harus ya atau tidak")


# --------------------------------------------------------------------------- date


@pytest.mark.parametrize(
    "raw",
    [
        "2026-11-23",
        "23/11/2026",
        " 2026-11-23 ",
        date(2026, 11, 23),
        datetime(2026, 11, 23, 15, 30, tzinfo=UTC),
        "2026-11-23T08:00:00",
    ],
)
def test_date_formats(raw: Any) -> None:
    assert field("date").validate({"x": raw}) == {"x": date(2026, 11, 23)}


@pytest.mark.parametrize(
    "raw", ["2026-13-01", "2026-02-30", "31/02/2026", "tomorrow", "11/23/2026", 42]
)
def test_date_refusals(raw: Any) -> None:
    assert error(field("date"), {"x": raw}) == (
        "Must be a date (YYYY-MM-DD)",
        "Harus tanggal (TTTT-BB-HH)",
    )


def test_date_min_and_max() -> None:
    form = field("date", ("min", "2026-01-01"), ("max", "31/12/2026"))
    assert form.validate({"x": "2026-01-01"}) == {"x": date(2026, 1, 1)}
    assert form.validate({"x": "31/12/2026"}) == {"x": date(2026, 12, 31)}
    assert error(form, {"x": "2025-12-31"}) == (
        "Must be at least 2026-01-01",
        "Harus minimal 2026-01-01",
    )
    assert error(form, {"x": "2027-01-01"}) == (
        "Must be at most 31/12/2026",
        "Harus maksimal 31/12/2026",
    )


# --------------------------------------------------------------------------- enum and text


def test_enum_values() -> None:
    form = form_of(
        '<camunda:formField id="kind" type="enum">'
        '<camunda:value id="A" name="Alamat IPv4 (A)" />'
        '<camunda:value id="CNAME" name="Alias (CNAME)" />'
        "</camunda:formField>"
    )
    assert form.validate({"kind": "CNAME"}) == {"kind": "CNAME"}
    for bad in ("MX", "cname", "Alias (CNAME)", " A"):
        (e,) = errors(form, {"kind": bad}).values()
        assert (e.field, e.message_en, e.message_id) == (
            "kind",
            "Choose one of the listed options",
            "Pilih salah satu pilihan yang tersedia",
        )


def test_minlength_and_maxlength() -> None:
    form = field("string", ("minlength", "3"), ("maxlength", "5"))
    assert form.validate({"x": "abc"}) == {"x": "abc"}
    assert form.validate({"x": "abcde"}) == {"x": "abcde"}
    assert error(form, {"x": "ab"}) == ("At least 3 characters", "Minimal 3 karakter")
    assert error(form, {"x": "abcdef"}) == ("At most 5 characters", "Maksimal 5 karakter")


def test_text_is_bounded_and_must_be_text() -> None:
    form = field("string")
    assert error(form, {"x": "a" * (MAX_STRING + 1)}) == (
        "Text is too long",
        "Teks terlalu panjang",
    )
    assert form.validate({"x": "a" * MAX_STRING}) == {"x": "a" * MAX_STRING}
    assert error(form, {"x": {"$ne": 1}}) == ("Must be text", "Harus teks")
    assert error(form, {"x": ["a"]}) == ("Must be text", "Harus teks")
    assert form.validate({"x": 12}) == {"x": "12"}


@pytest.mark.parametrize(
    ("pattern", "value", "ok"),
    [
        ("[a-z0-9-]+", "ppid-kudus", True),
        ("[a-z0-9-]+", "ppid kudus", False),
        ("[a-z]+", "abc1", False),  # a search would accept this: the match must be full
        ("[a-z]+", "1abc", False),
        ("[a-z]+", "abc\n", False),
        ("^[a-z0-9-]{1,63}$", "ppid", True),
        ("^[a-z0-9-]{1,63}$", "x" * 64, False),
        (r"\d{16}", "3319012345678901", True),
        (r"\d{16}", "33190123456789012", False),
    ],
)
def test_pattern_must_match_the_whole_value(pattern: str, value: str, ok: bool) -> None:
    form = field("string", ("pattern", pattern))
    if ok:
        assert form.validate({"x": value}) == {"x": value}
    else:
        assert error(form, {"x": value}) == (
            f"Does not match the required format ({pattern})",
            f"Tidak sesuai format yang diminta ({pattern})",
        )


# --------------------------------------------------------------------------- readonly, unknown


def test_readonly_keeps_the_current_value() -> None:
    form = form_of(
        '<camunda:formField id="subdomain" type="string"><camunda:validation>'
        '<camunda:constraint name="readonly" /></camunda:validation></camunda:formField>'
        '<camunda:formField id="note" type="string" />'
    )
    current = {"subdomain": "ppid", "note": "old"}
    assert form.validate({"subdomain": "hijacked", "note": "new"}, current=current) == {
        "subdomain": "ppid",
        "note": "new",
    }
    # nothing current: a read-only field cannot be set at all
    assert form.validate({"subdomain": "hijacked"}) == {"note": None}


def test_unknown_fields_are_refused_unless_allowed() -> None:
    form = field("string")
    errs = errors(form, {"x": "ok", "approved": True, "documents_complete": True})
    assert set(errs) == {"approved", "documents_complete"}
    assert (errs["approved"].message_en, errs["approved"].message_id) == (
        "This field is not part of the form",
        "Isian ini tidak ada di formulir",
    )
    assert form.validate({"x": "ok", "approved": True}, allow_unknown=True) == {
        "x": "ok",
        "approved": True,
    }


@pytest.mark.parametrize("name", ["__class__", "a b", "1x", "x.y", ""])
def test_allowed_unknown_variables_still_need_plain_names(name: str) -> None:
    errs = errors(field("string"), {"x": "ok", name: 1}, allow_unknown=True)
    assert (errs[name].message_en, errs[name].message_id) == (
        "Not a valid variable name",
        "Bukan nama variabel yang sah",
    )


def test_every_bad_field_is_listed_in_both_languages() -> None:
    form = form_of(
        '<camunda:formField id="name" type="string"><camunda:validation>'
        '<camunda:constraint name="required" /></camunda:validation></camunda:formField>'
        '<camunda:formField id="sites" type="long"><camunda:validation>'
        '<camunda:constraint name="max" config="5" /></camunda:validation></camunda:formField>'
        '<camunda:formField id="ok" type="boolean" />'
        '<camunda:formField id="when" type="date" />'
        '<camunda:formField id="kind" type="enum"><camunda:value id="A" name="A" />'
        "</camunda:formField>"
    )
    with pytest.raises(FormValidationError) as info:
        form.validate({"sites": "9", "ok": "perhaps", "when": "soon", "kind": "B", "extra": 1})
    err = info.value
    assert [e.field for e in err.errors] == ["extra", "name", "sites", "ok", "when", "kind"]
    for e in err.errors:
        assert e.message_en and e.message_id and e.message_en != e.message_id
        assert e.as_dict() == {
            "field": e.field,
            "message": e.message_en,
            "message_id": e.message_id,
        }
    assert err.text("en") == "Form is not valid: extra, name, sites, ok, when, kind"
    assert err.text("id") == "Formulir tidak valid: extra, name, sites, ok, when, kind"
    assert str(err) == f"{err.text('id')} / {err.text('en')}"


def test_form_survives_its_stored_form() -> None:
    """Deploy stores ``as_dict``; completion rebuilds with ``from_dict``: same rules."""
    form = form_of(
        '<camunda:formField id="n" label="Jumlah" type="long" defaultValue="1">'
        '<camunda:properties><camunda:property id="widget" value="text" /></camunda:properties>'
        '<camunda:validation><camunda:constraint name="max" config="3" />'
        "</camunda:validation></camunda:formField>"
        '<camunda:formField id="k" type="enum"><camunda:value id="A" name="a" />'
        "</camunda:formField>"
    )
    again = Form.from_dict(form.as_dict())
    assert again.as_dict() == form.as_dict()
    assert again.validate({"k": "A"}) == {"n": 1, "k": "A"}
    assert set(errors(again, {"n": "4", "k": "B"})) == {"n", "k"}
    assert again.field("n") is not None and again.field("n").properties == {"widget": "text"}
    assert Form.from_dict(None).validate({}) == {}


# --------------------------------------------------------------------------- through the engine

APPLICANT = Actor("ani", "kudus", frozenset({"applicant"}))
OFFICER = Actor("budi", "kudus", frozenset({"technical_officer"}))


def _snapshot(sessions: Any, instance_id: str) -> tuple[Any, ...]:
    with sessions() as s:
        inst = s.get(ProcessInstance, instance_id)
        tasks = s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)).all()
        history = s.scalars(
            select(HistoryEvent.id, HistoryEvent.kind).where(
                HistoryEvent.instance_id == instance_id
            )
        ).all()
        return (
            inst.lock_version,
            inst.state,
            inst.state_json,
            dict(inst.variables),
            inst.current_step,
            sorted((t.id, t.state, t.completed_by) for t in tasks),
            list(history),
        )


def test_invalid_completion_changes_nothing(
    engine: Engine, admin: Any, dialect_xml: bytes, sessions: Any
) -> None:
    engine.deploy(admin, [("dialect-example.bpmn", dialect_xml)])
    inst = engine.start(
        APPLICANT,
        "dialect_example",
        values={"opd_name": "Diskominfo", "subdomain": "ppid", "letter_file": "att:1"},
    )
    (task,) = engine.inbox(OFFICER, instance_id=inst.id)
    before = _snapshot(sessions, inst.id)

    bad = {"documents_complete": "perhaps", "record_type": "MX", "approved": True}
    with pytest.raises(FormValidationError) as info:
        engine.complete_task(OFFICER, task.id, bad)
    assert {e.field for e in info.value.errors} == {"documents_complete", "record_type", "approved"}
    assert "Formulir tidak valid" in str(info.value) and "Form is not valid" in str(info.value)

    assert _snapshot(sessions, inst.id) == before
    assert [t.id for t in engine.inbox(OFFICER, instance_id=inst.id)] == [task.id]
    assert engine.get_task(OFFICER, task.id).state == "open"

    # the same task still completes with valid values, and only those are recorded
    done = engine.complete_task(OFFICER, task.id, {"documents_complete": "false"})
    assert done.state == "completed"
    assert done.lock_version > before[0]
    completed = [h for h in engine.history(OFFICER, inst.id) if h.kind == "task_completed"]
    assert completed[0].data["values"] == {"documents_complete": False, "record_type": "A"}
