"""`sopflow unit add|list|import` and `sopflow user add --unit` / `user set-unit` (the `sopflow`
command as a subprocess once, then in-process for the refusals), on a temp SQLite database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from test_cli import Cli, InProcess, assert_clean_failure

from engine.models import User, WorkUnit
from web.seed import ensure_agencies


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    c = Cli(tmp_path_factory.mktemp("cli_units"))
    assert c("db", "upgrade").returncode == 0
    ensure_agencies(c.engine(), c.root / "instance")
    return c


@pytest.fixture
def inproc(cli: Cli, monkeypatch: pytest.MonkeyPatch, capsys: object) -> InProcess:
    return InProcess(cli, monkeypatch, capsys)


def units_of(cli: Cli, agency_code: str) -> dict[str, str]:
    from engine.models import Agency

    with cli.engine().sessions() as s:
        rows = s.execute(
            select(WorkUnit.code, WorkUnit.name)
            .join(Agency, Agency.id == WorkUnit.agency_id)
            .where(Agency.code == agency_code)
        ).all()
    return {r[0]: r[1] for r in rows}


def test_units_from_the_command_line(cli: Cli, inproc: InProcess, tmp_path: Path) -> None:
    added = cli("unit", "add", "disdik", "--name", "Dinas Pendidikan", "--agency", "kudus")
    assert added.returncode == 0, added.stderr
    assert "disdik" in added.stdout
    csv = tmp_path / "opd.csv"
    csv.write_text("code,name\ndinkes,Dinas Kesehatan\ndisdik,Dinas Pendidikan dan Kebudayaan\n")
    imported = inproc("unit", "import", str(csv), "--agency", "kudus")
    assert imported.returncode == 0, imported.stderr
    assert "1 added, 1 renamed, 0 unchanged" in imported.stdout
    assert units_of(cli, "kudus") == {
        "disdik": "Dinas Pendidikan dan Kebudayaan",
        "dinkes": "Dinas Kesehatan",
    }
    assert units_of(cli, "tapin") == {}
    listed = inproc("unit", "list", "--agency", "kudus")
    assert listed.stdout.splitlines() == [
        "dinkes\tDinas Kesehatan",
        "disdik\tDinas Pendidikan dan Kebudayaan",
    ]

    bad = tmp_path / "bad.csv"
    bad.write_text("code,name\nok-1,Satu\nBAD CODE,Dua\n")
    assert_clean_failure(inproc("unit", "import", str(bad), "--agency", "kudus"), "line 3")
    assert "ok-1" not in units_of(cli, "kudus")  # nothing of a bad file is imported
    assert_clean_failure(
        inproc("unit", "add", "disdik", "--name", "X", "--agency", "kudus"), "already exists"
    )
    assert_clean_failure(inproc("unit", "list", "--agency", "nowhere"), "nowhere")

    made = inproc(
        "user",
        "add",
        "kudus.opd",
        "--agency",
        "kudus",
        "--group",
        "applicant",
        "--unit",
        "dinkes",
        "--password-stdin",
        input="kata sandi panjang sekali\n",
    )
    assert made.returncode == 0, made.stderr
    moved = inproc("user", "set-unit", "kudus.opd", "--unit", "disdik", "--agency", "kudus")
    assert moved.returncode == 0, moved.stderr
    with cli.engine().sessions() as s:
        user = s.scalar(select(User).where(User.username == "kudus.opd"))
        unit = s.scalar(select(WorkUnit).where(WorkUnit.id == user.work_unit_id))
        assert unit is not None and unit.code == "disdik"
    assert_clean_failure(
        inproc("user", "set-unit", "kudus.opd", "--unit", "nope", "--agency", "kudus"), "nope"
    )
    assert_clean_failure(
        inproc("user", "set-unit", "kudus.opd", "--unit", "disdik", "--agency", "tapin"),
        "disdik",  # Tapin has no such unit, and Kudus's user is not Tapin's to place
    )
