"""Work units (OPD / Perangkat Daerah) of an agency, and who belongs to which.

A request belongs to its applicant's unit (``process_instance.work_unit_id``, set at filing), so
a unit's members see and answer its requests together and no other unit sees them
(engine/access.py). Units are data: added one by one, imported from a CSV file (``code,name``),
listed; administrators of the agency (or the operator's command line) change them.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from . import access
from .access import Permission
from .actors import Actor
from .errors import NotFound, SopflowError
from .models import User, WorkUnit

if TYPE_CHECKING:
    from .runtime import Engine

CODE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
MAX_NAME = 200
MAX_IMPORT_ROWS = 5000


class UnitError(SopflowError):
    """A unit that cannot be added as given (bad code or name, a row of an import)."""


@dataclass(frozen=True)
class ImportResult:
    added: list[str]
    renamed: list[str]
    unchanged: list[str]


def _clean(code: str, name: str, where: str = "") -> tuple[str, str]:
    code = (code or "").strip().lower()
    name = " ".join((name or "").split())
    if not CODE.fullmatch(code):
        raise UnitError(
            f"{where}Unit code '{code}' must be 1-64 lower-case letters, digits, '.', '_' or '-'",
            f"{where}Kode unit '{code}' harus 1-64 huruf kecil, angka, '.', '_' atau '-'",
            code=code,
        )
    if not name or len(name) > MAX_NAME:
        raise UnitError(
            f"{where}Unit '{code}' needs a name of at most {MAX_NAME} characters",
            f"{where}Unit '{code}' perlu nama paling banyak {MAX_NAME} karakter",
            code=code,
        )
    return code, name


def list_units(engine: Engine, actor: Actor) -> list[WorkUnit]:
    """Every unit of the actor's agency, by name (any person of the agency may see the list:
    it names offices, not requests)."""
    access.require(actor, Permission.READ_SELF)
    with engine.sessions() as s:
        agency = engine.agency(s, actor.agency)
        return list(
            s.scalars(
                select(WorkUnit)
                .where(WorkUnit.agency_id == agency.id)
                .order_by(func.lower(WorkUnit.name), WorkUnit.code)
            )
        )


def add_unit(engine: Engine, actor: Actor, code: str, name: str) -> WorkUnit:
    access.require(actor, Permission.ADMINISTER)
    code, name = _clean(code, name)
    result = import_units(engine, actor, [(code, name)], rename=False)
    if not result.added:
        raise UnitError(f"Unit '{code}' already exists", f"Unit '{code}' sudah ada", code=code)
    return unit_by_code(engine, actor, code)


def unit_by_code(engine: Engine, actor: Actor, code: str) -> WorkUnit:
    with engine.sessions() as s:
        agency = engine.agency(s, actor.agency)
        unit = s.scalar(
            select(WorkUnit).where(WorkUnit.agency_id == agency.id, WorkUnit.code == code)
        )
        if unit is None:
            raise NotFound(
                f"Work unit '{code}' not found", f"Unit kerja '{code}' tidak ditemukan", code=code
            )
        return unit


def parse_csv(text: str) -> list[tuple[str, str]]:
    """``code,name`` rows (a header row ``code,name`` is skipped; ``;`` works too, as Indonesian
    spreadsheets export it). Every bad row is reported with its line number, nothing imported."""
    dialect = "excel"
    if text.count(";") > text.count(","):
        csv.register_dialect("sopflow-semicolon", delimiter=";")
        dialect = "sopflow-semicolon"
    rows: list[tuple[str, str]] = []
    problems: list[str] = []
    for number, row in enumerate(csv.reader(io.StringIO(text), dialect=dialect), start=1):
        if not row or not any(cell.strip() for cell in row):
            continue
        if number == 1 and [c.strip().lower() for c in row[:2]] == ["code", "name"]:
            continue
        if len(row) < 2:
            problems.append(f"line {number} / baris {number}: code,name expected")
            continue
        try:
            rows.append(_clean(row[0], row[1], f"line {number}: "))
        except UnitError as e:
            problems.append(str(e))
    if len(rows) > MAX_IMPORT_ROWS:
        problems.append(f"more than {MAX_IMPORT_ROWS} rows / lebih dari {MAX_IMPORT_ROWS} baris")
    if problems:
        raise UnitError(
            "The units file has errors: " + "; ".join(problems[:20]),
            "Berkas unit berisi kesalahan: " + "; ".join(problems[:20]),
        )
    return rows


def import_units(
    engine: Engine, actor: Actor, rows: Iterable[tuple[str, str]], *, rename: bool = True
) -> ImportResult:
    """Add the units that are new; with ``rename`` an existing code takes the file's name. One
    transaction: a file either imports whole or not at all."""
    access.require(actor, Permission.ADMINISTER)
    cleaned = [_clean(code, name) for code, name in rows]
    added: list[str] = []
    renamed: list[str] = []
    unchanged: list[str] = []
    with engine.sessions.begin() as s:
        agency = engine.agency(s, actor.agency)
        existing = {
            u.code: u for u in s.scalars(select(WorkUnit).where(WorkUnit.agency_id == agency.id))
        }
        for code, name in cleaned:
            unit = existing.get(code)
            if unit is None:
                unit = WorkUnit(
                    agency_id=agency.id,
                    code=code,
                    name=name,
                    active=True,
                    created_at=engine.now(),
                )
                s.add(unit)
                existing[code] = unit
                added.append(code)
            elif rename and unit.name != name:
                unit.name = name
                renamed.append(code)
            else:
                unchanged.append(code)
    return ImportResult(added, renamed, unchanged)


def set_user_unit(engine: Engine, actor: Actor, username: str, code: str | None) -> None:
    """Put a user of the agency in a unit (``None``: in none). Requests already filed stay with
    the unit they were filed by."""
    access.require(actor, Permission.ADMINISTER)
    unit_id = unit_by_code(engine, actor, code).id if code else None
    with engine.sessions.begin() as s:
        agency = engine.agency(s, actor.agency)
        user = s.scalar(select(User).where(User.username == username, User.agency_id == agency.id))
        if user is None:
            raise NotFound(f"User '{username}' not found", f"Pengguna '{username}' tidak ditemukan")
        user.work_unit_id = unit_id
