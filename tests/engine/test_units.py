"""Work units (OPD) as data: added, imported from CSV whole or not at all, users placed in
them, and only by an administrator of the agency (engine/units.py)."""

from __future__ import annotations

import pytest
from support import actor

from engine import units
from engine.actors import Actor
from engine.errors import NotFound, PermissionDenied
from engine.models import User

SYSTEM = Actor.system_actor("kudus")


def codes(engine, who=SYSTEM) -> list[tuple[str, str]]:
    return [(u.code, u.name) for u in units.list_units(engine, who)]


def test_add_list_and_refusals(engine, admin):
    unit = units.add_unit(engine, admin, " DisDik ", "Dinas  Pendidikan")
    assert (unit.code, unit.name) == ("disdik", "Dinas Pendidikan")
    with pytest.raises(units.UnitError, match="sudah ada"):
        units.add_unit(engine, admin, "disdik", "Lagi")
    for code, name in (("", "X"), ("dis dik", "X"), ("-x", "X"), ("x" * 65, "X"), ("ok", "")):
        with pytest.raises(units.UnitError):
            units.add_unit(engine, admin, code, name)
    with pytest.raises(PermissionDenied):
        units.add_unit(engine, actor("kadis", "kudus", "head_of_office"), "dinkes", "Dinkes")
    # the list names offices, not requests: any person of the agency may read it
    assert codes(engine, actor("ani", "kudus", "applicant")) == [("disdik", "Dinas Pendidikan")]
    assert codes(engine, actor("x", "tapin", "admin")) == []  # another agency's own list


def test_csv_import_is_whole_or_nothing(engine, admin):
    text = "code,name\ndisdik,Dinas Pendidikan\ndinkes;Dinas Kesehatan\n"
    with pytest.raises(units.UnitError, match="line 3"):
        units.import_units(engine, admin, units.parse_csv(text))
    assert codes(engine) == []
    rows = units.parse_csv("code;name\ndisdik;Dinas Pendidikan\n\ndinkes;Dinas Kesehatan\n")
    first = units.import_units(engine, admin, rows)
    assert (first.added, first.renamed) == (["disdik", "dinkes"], [])
    again = units.import_units(engine, admin, [("disdik", "Dinas Pendidikan dan Kebudayaan")])
    assert (again.added, again.renamed) == ([], ["disdik"])
    assert codes(engine) == [
        ("dinkes", "Dinas Kesehatan"),
        ("disdik", "Dinas Pendidikan dan Kebudayaan"),
    ]
    with pytest.raises(units.UnitError):
        units.parse_csv("satu kolom saja\n")


def test_a_user_is_placed_in_a_unit_of_their_agency(engine, admin, sessions, agencies):
    from datetime import UTC, datetime

    with sessions.begin() as s:
        s.add(
            User(
                username="ani",
                agency_id=agencies["kudus"],
                password_hash="x",
                active=True,
                created_at=datetime.now(UTC),
            )
        )
        s.add(
            User(
                username="tina",
                agency_id=agencies["tapin"],
                password_hash="x",
                active=True,
                created_at=datetime.now(UTC),
            )
        )
    disdik = units.add_unit(engine, admin, "disdik", "Dinas Pendidikan")
    units.set_user_unit(engine, admin, "ani", "disdik")
    with sessions() as s:
        assert s.query(User).filter_by(username="ani").one().work_unit_id == disdik.id
    with pytest.raises(NotFound):  # another agency's user is not found
        units.set_user_unit(engine, admin, "tina", "disdik")
    with pytest.raises(NotFound):
        units.set_user_unit(engine, admin, "ani", "no-such-unit")
    with pytest.raises(PermissionDenied):
        units.set_user_unit(engine, actor("ani", "kudus", "applicant"), "ani", None)
    units.set_user_unit(engine, admin, "ani", None)
    with sessions() as s:
        assert s.query(User).filter_by(username="ani").one().work_unit_id is None
