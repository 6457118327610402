"""Demo seeding (`sopflow seed-demo`, run by `make run`) and the password helpers it uses."""

from __future__ import annotations

import io
import stat
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from engine.catalogue import AGENCIES, ROLES, SHARED_PROCESSES
from engine.clock import FrozenClock
from engine.errors import Conflict, NotFound, SopflowError
from engine.models import Agency, ProcessDefinition, User, UserGroup
from engine.runtime import Engine, topics_policy
from web import passwords
from web.seed import BPMN_DIR, DEMO_USERS_FILE, add_user, seed, seed_demo

N_USERS = len(AGENCIES) * len(ROLES)


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Still werkzeug's scrypt, with a smaller work factor: 45 users per seed add up."""
    monkeypatch.setattr(passwords, "METHOD", "scrypt:1024:8:1")


@pytest.fixture
def seed_engine(sessions: Any) -> Engine:
    # no agencies yet (unlike the shared `engine` fixture): seeding must create them; topic
    # checks are the validation tests' business, so every topic counts as external here
    return Engine(sessions, clock=FrozenClock(), topics=topics_policy((), ("*",)))


def _run(engine: Engine, instance: Path, bpmn_dir: Path | None = None) -> tuple[Any, str, str]:
    out, err = io.StringIO(), io.StringIO()
    report = seed(engine, instance, bpmn_dir=bpmn_dir, out=out, err=err)
    return report, out.getvalue(), err.getvalue()


def _hashes(s: Any) -> dict[str, str]:
    return {name: h for name, h in s.execute(select(User.username, User.password_hash))}


def _read_users(path: Path) -> dict[str, tuple[str, str, str]]:
    rows = [line.split() for line in path.read_text().splitlines() if not line.startswith("#")]
    assert rows[0] == ["username", "agency", "groups", "password"]
    return {r[0]: (r[1], r[2], r[3]) for r in rows[1:]}


def test_seed_creates_agencies_users_and_deploys_every_sop(
    seed_engine: Engine, tmp_path: Path
) -> None:
    report, out, err = _run(seed_engine, tmp_path / "instance")
    assert report.ok, err
    assert sorted(report.agencies_created) == sorted(a.code for a in AGENCIES)
    assert len(report.users) == N_USERS
    names = {u[0] for u in report.users}
    assert {f"{a.code}.{r}" for a in AGENCIES for r in ROLES} == names
    assert all(u[2] == (u[0].split(".", 1)[1],) for u in report.users)  # one role each
    # every agency gets its own SOP and every shared process
    stems = {p.stem for p in BPMN_DIR.glob("*.bpmn")}
    with seed_engine.sessions() as s:
        deployed = {
            (code, key)
            for code, key in s.execute(
                select(Agency.code, ProcessDefinition.key).join(
                    Agency, Agency.id == ProcessDefinition.agency_id
                )
            )
        }
    for a in AGENCIES:
        if a.code in stems:
            assert (a.code, a.code) in deployed
        for shared in SHARED_PROCESSES:
            if shared in stems:
                assert (a.code, shared) in deployed
    assert len(report.deployed) == len(deployed)
    # passwords are shown once, on stdout, with the file's location
    assert str(tmp_path / "instance" / DEMO_USERS_FILE) in out
    assert all(u[3] in out for u in report.users)


def test_seed_is_idempotent_and_never_regenerates(seed_engine: Engine, tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    first, _, _ = _run(seed_engine, instance)
    path = instance / DEMO_USERS_FILE
    content = path.read_text()
    with seed_engine.sessions() as s:
        hashes = _hashes(s)

    again, out, err = _run(seed_engine, instance)
    assert again.ok, err
    assert again.users == [] and again.agencies_created == [] and again.deployed == []
    assert len(again.unchanged) == len(first.deployed)
    assert "exist already" in out and str(path) in out
    assert path.read_text() == content
    with seed_engine.sessions() as s:
        assert _hashes(s) == hashes
        assert s.scalar(select(func.count()).select_from(Agency)) == len(AGENCIES)
    assert seed_demo(seed_engine, instance, out=io.StringIO(), err=io.StringIO()) == []


def test_demo_users_file_is_private_and_passwords_verify(
    seed_engine: Engine, tmp_path: Path
) -> None:
    report, _, _ = _run(seed_engine, tmp_path / "instance")
    path = tmp_path / "instance" / DEMO_USERS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    listed = _read_users(path)
    assert set(listed) == {u[0] for u in report.users}
    pw = [p for _, _, p in listed.values()]
    assert len(set(pw)) == len(pw) == N_USERS  # different for every user
    assert all(len(p) >= 16 for p in pw)
    with seed_engine.sessions() as s:
        users = {u.username: u for u in s.scalars(select(User))}
    for name, (agency, groups, password) in listed.items():
        user = users[name]
        assert user.agency.code == agency
        assert [g.group for g in user.groups] == groups.split(",")
        assert user.password_hash.startswith("scrypt:")
        assert password not in user.password_hash
        assert passwords.verify_password(user.password_hash, password)
        assert not passwords.verify_password(user.password_hash, password + "x")


def test_two_fresh_seeds_never_share_a_password(seed_engine: Engine, tmp_path: Path) -> None:
    first, _, _ = _run(seed_engine, tmp_path / "one")
    with seed_engine.sessions.begin() as s:  # a fresh database for the second seed
        s.execute(delete(UserGroup))
        s.execute(delete(User))
    second, _, _ = _run(seed_engine, tmp_path / "two")
    a = {u[3] for u in first.users}
    b = {u[3] for u in second.users}
    assert len(a) == len(b) == N_USERS
    assert not a & b


def test_lost_users_file_does_not_reset_existing_users(seed_engine: Engine, tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    _run(seed_engine, instance)
    (instance / DEMO_USERS_FILE).unlink()
    report, _, err = _run(seed_engine, instance)
    assert report.users == []
    assert "cannot be shown again" in err
    assert not (instance / DEMO_USERS_FILE).exists()


def test_a_broken_diagram_does_not_stop_the_others(
    seed_engine: Engine, tmp_path: Path, dialect_xml: bytes
) -> None:
    bpmn = tmp_path / "bpmn"
    bpmn.mkdir()
    (bpmn / "kudus.bpmn").write_bytes(dialect_xml)
    (bpmn / "tapin.bpmn").write_text(
        '<?xml version="1.0"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">\n'
        '  <bpmn:process id="p" isExecutable="true"><bpmn:bogus id="x"/></bpmn:process>\n'
        "</bpmn:definitions>\n"
    )
    (bpmn / "notes.bpmn").write_bytes(dialect_xml)  # no agency of that name: skipped
    report, out, err = _run(seed_engine, tmp_path / "instance", bpmn)
    assert not report.ok
    assert report.failed == ["tapin:tapin.bpmn"]
    assert report.deployed == ["kudus:dialect_example:1"]
    assert "kudus: dialect_example version 1 deployed" in out
    assert "tapin.bpmn" in err and "line" in err
    assert "notes.bpmn" in err and "skipped" in err
    assert "Traceback" not in err


def test_password_helpers_use_werkzeug_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "METHOD", "scrypt")  # the real default, once
    h = passwords.hash_password("correct horse battery")
    assert h.startswith("scrypt:32768:8:1$")
    assert passwords.verify_password(h, "correct horse battery")
    assert not passwords.verify_password(h, "correct horse batterY")
    assert not passwords.verify_password(None, "correct horse battery")
    with pytest.raises(passwords.WeakPassword):
        passwords.hash_password("short")
    assert passwords.random_password() != passwords.random_password()


def test_add_user_refuses_duplicates_unknown_agencies_and_bad_names(
    seed_engine: Engine, tmp_path: Path
) -> None:
    from web.seed import ensure_agencies

    ensure_agencies(seed_engine, tmp_path)
    user = add_user(seed_engine, "kudus.ops", "kudus", ["technical_officer", "admin"], "x" * 12)
    assert [g.group for g in user.groups] == ["admin", "technical_officer"]
    with pytest.raises(Conflict):
        add_user(seed_engine, "kudus.ops", "tapin", ["admin"], "y" * 12)
    with pytest.raises(NotFound):
        add_user(seed_engine, "nobody.ops", "atlantis", ["admin"], "y" * 12)
    with pytest.raises(SopflowError):
        add_user(seed_engine, "Bad Name", "kudus", ["admin"], "y" * 12)
    with pytest.raises(SopflowError):
        add_user(seed_engine, "kudus.nogroup", "kudus", [], "y" * 12)
    with pytest.raises(passwords.WeakPassword):
        add_user(seed_engine, "kudus.weak", "kudus", ["admin"], "123456789")
