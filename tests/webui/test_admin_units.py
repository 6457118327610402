"""The administrator's work-unit page (web/admin/units.py) and the unit of each user: added by
hand or imported from CSV, members counted, a user placed in a unit; for admins only, and only
their own agency's units."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import select
from ui_support import post

from engine.models import User, WorkUnit


@pytest.fixture
def office(make_user: Any) -> None:
    make_user("adm", "kudus", "admin")
    make_user("ani", "kudus", "applicant")
    make_user("kadis", "kudus", "head_of_office")
    make_user("eve", "tapin", "admin")


def unit_codes(engine: Any, agency_id: int) -> list[str]:
    with engine.sessions() as s:
        return sorted(s.scalars(select(WorkUnit.code).where(WorkUnit.agency_id == agency_id)))


def test_units_added_imported_and_given_to_a_user(
    office: Any, client_for: Any, engine: Any, agencies: dict[str, int]
) -> None:
    adm = client_for("adm")
    assert adm.get("/admin/unit").status_code == 200
    r = post(adm, "/admin/unit", {"code": "disdik", "name": "Dinas Pendidikan"})
    assert r.status_code == 302
    r = post(adm, "/admin/unit", {"code": "Bad Code!", "name": "X"})
    assert r.status_code == 422 and "Kode unit" in r.get_data(as_text=True)
    csv = b"code,name\ndinkes,Dinas Kesehatan\ndisdik,Dinas Pendidikan\n"
    r = post(
        adm,
        "/admin/unit/impor",
        {"file": (io.BytesIO(csv), "opd.csv")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 302
    page = adm.get("/admin/unit").get_data(as_text=True)
    assert 'id="unit-dinkes"' in page and 'id="unit-disdik"' in page
    r = post(
        adm,
        "/admin/unit/impor",
        {"file": (io.BytesIO(b"\xff\xfe\x00bukan teks"), "x.csv")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 422
    assert unit_codes(engine, agencies["kudus"]) == ["dinkes", "disdik"]
    assert unit_codes(engine, agencies["tapin"]) == []

    with engine.sessions() as s:
        ani = s.scalar(select(User).where(User.username == "ani"))
        assert ani is not None
        ani_id = ani.id
    edit = adm.get(f"/admin/pengguna/{ani_id}").get_data(as_text=True)
    assert 'name="unit"' in edit and "Dinas Kesehatan (dinkes)" in edit
    r = post(adm, f"/admin/pengguna/{ani_id}", {"groups": "applicant", "unit": "dinkes"})
    assert r.status_code == 302
    r = post(adm, f"/admin/pengguna/{ani_id}", {"groups": "applicant", "unit": "tapin-unit"})
    assert r.status_code == 422
    with engine.sessions() as s:
        ani = s.scalar(select(User).where(User.username == "ani"))
        unit = s.get(WorkUnit, ani.work_unit_id)
        assert unit is not None and unit.code == "dinkes"
    assert "<td>1</td>" in adm.get("/admin/unit").get_data(as_text=True)  # one member

    r = post(
        adm,
        "/admin/pengguna",
        {"username": "opd.dinkes", "groups": ["applicant"], "unit": "dinkes"},
    )
    assert r.status_code == 200  # the generated password is shown once
    with engine.sessions() as s:
        new = s.scalar(select(User).where(User.username == "opd.dinkes"))
        assert new is not None and new.work_unit_id == ani.work_unit_id


def test_only_administrators_manage_units(office: Any, client_for: Any, app: Any) -> None:
    for who in ("ani", "kadis"):
        c = client_for(who)
        assert c.get("/admin/unit").status_code == 403
        assert post(c, "/admin/unit", {"code": "x", "name": "X"}).status_code == 403
    eve = client_for("eve")  # another agency's admin sees only Tapin's (empty) list
    post(client_for("adm"), "/admin/unit", {"code": "disdik", "name": "Dinas Pendidikan"})
    assert 'id="unit-disdik"' not in eve.get("/admin/unit").get_data(as_text=True)
    assert app.test_client().get("/admin/unit").status_code == 302  # to the login page
