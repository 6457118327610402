"""Demo data for ``make run``: the five agencies, one user per role, every SOP deployed.

Idempotent. Passwords are random, shown once and written once to ``<instance>/demo-users.txt``
(mode 0600); when that file exists the users exist and nothing is regenerated. There is no
fixed default password anywhere. A diagram that does not validate is reported with its located
problems and does not stop the others.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engine.actors import Actor
from engine.catalogue import AGENCIES, ROLES, SHARED_PROCESSES
from engine.errors import Conflict, DeployError, SopflowError
from engine.models import Agency, User, UserGroup
from engine.runtime import Engine, topics_policy

from . import passwords
from .config import from_env, split_list

ROOT = Path(__file__).resolve().parent.parent
BPMN_DIR = ROOT / "bpmn"
DEMO_USERS_FILE = "demo-users.txt"
USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{1,63}")
GROUP = re.compile(r"[A-Za-z0-9_.-]{1,64}")

DemoUser = tuple[str, str, tuple[str, ...], str]  # username, agency, groups, password


@dataclass
class SeedReport:
    users: list[DemoUser] = field(default_factory=list)  # created now (passwords known)
    users_file: Path | None = None
    agencies_created: list[str] = field(default_factory=list)
    deployed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


def as_engine(engine_or_sessions: Any) -> Engine:
    """An Engine as is; a sessionmaker gets the topic policy the CLI and the app use."""
    if isinstance(engine_or_sessions, Engine):
        return engine_or_sessions
    from handlers.registry import default_registry

    env = from_env(os.environ)
    registry = default_registry(env)
    return Engine(
        engine_or_sessions,
        topics=topics_policy(registry.topics(), split_list(env.get("EXTERNAL_TOPICS"))),
        builtin_topics=registry.topics(),
    )


def seed_demo(
    engine_or_sessions: Any,
    instance_dir: str | os.PathLike[str],
    *,
    bpmn_dir: str | os.PathLike[str] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> list[DemoUser]:
    """Seed and return the demo users created by this call (empty when they existed)."""
    return seed(engine_or_sessions, instance_dir, bpmn_dir=bpmn_dir, out=out, err=err).users


def seed(
    engine_or_sessions: Any,
    instance_dir: str | os.PathLike[str],
    *,
    bpmn_dir: str | os.PathLike[str] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> SeedReport:
    out = out or sys.stdout
    err = err or sys.stderr
    engine = as_engine(engine_or_sessions)
    instance = Path(instance_dir)
    instance.mkdir(parents=True, exist_ok=True)
    report = SeedReport(users_file=instance / DEMO_USERS_FILE)
    report.agencies_created = ensure_agencies(engine, instance)
    for code in report.agencies_created:
        print(f"agency {code} created", file=out)
    report.users = _seed_users(engine, instance / DEMO_USERS_FILE, out, err)
    _seed_units(engine)
    _deploy_all(engine, Path(bpmn_dir) if bpmn_dir else BPMN_DIR, report, out, err)
    return report


def demo_settings(instance: Path) -> dict[str, Any]:
    """Demo agencies: names point at this machine (the embedded zone-file provider serves them)
    and sites are written under ``instance/`` (server blocks written, not loaded: no system
    nginx is touched by a demo)."""
    web_root, sites = instance / "www", instance / "nginx-sites"
    web_root.mkdir(parents=True, exist_ok=True)
    sites.mkdir(parents=True, exist_ok=True)
    return {
        "dns": {"default_target": "127.0.0.1"},
        "hosting": {
            "web_root": str(web_root),
            "nginx_sites_dir": str(sites),
            "listen": "127.0.0.1:8080",
        },
    }


def ensure_agencies(engine: Engine, instance: Path) -> list[str]:
    settings = demo_settings(instance)
    with engine.sessions.begin() as s:
        have = set(s.scalars(select(Agency.code)))
        missing = [a for a in AGENCIES if a.code not in have]
        s.add_all(
            Agency(
                code=a.code,
                name=a.name,
                parent_domain=a.parent_domain,
                timezone=a.timezone,
                settings=settings,
            )
            for a in missing
        )
    return [a.code for a in missing]


# work units (OPD) every demo agency has; the demo applicant files for the first
DEMO_UNITS = (
    ("disdik", "Dinas Pendidikan"),
    ("dinkes", "Dinas Kesehatan"),
    ("bappeda", "Badan Perencanaan Pembangunan Daerah"),
)


def _seed_units(engine: Engine) -> None:
    """The demo units, through the same path as ``sopflow unit import``; the demo applicant
    joins the first one unless an administrator has put it elsewhere."""
    from engine.units import import_units, set_user_unit

    for a in AGENCIES:
        system = Actor.system_actor(a.code, name="seed-demo")
        import_units(engine, system, DEMO_UNITS, rename=False)
        with engine.sessions() as s:
            user = s.scalar(select(User).where(User.username == f"{a.code}.applicant"))
            free = user is not None and user.work_unit_id is None
        if free:
            set_user_unit(engine, system, f"{a.code}.applicant", DEMO_UNITS[0][0])


def _hash_all(secrets_: Sequence[str]) -> list[str]:
    # scrypt releases the GIL: hash the 45 demo passwords on every core
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        return list(pool.map(passwords.hash_password, secrets_))


def _seed_users(engine: Engine, path: Path, out: TextIO, err: TextIO) -> list[DemoUser]:
    try:
        # claiming the file first makes it the single source of truth: it exists iff the
        # passwords were handed out, and two concurrent seeds cannot both write it
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        print(f"demo users exist already; their passwords are in {path}", file=out)
        return []
    try:
        wanted = [(f"{a.code}.{role}", a.code, (role,)) for a in AGENCIES for role in ROLES]
        with engine.sessions() as s:
            existing = set(
                s.scalars(select(User.username).where(User.username.in_([w[0] for w in wanted])))
            )
        todo = [w for w in wanted if w[0] not in existing]
        if existing:
            print(
                f"sopflow: {len(existing)} demo user(s) exist without {path}; their passwords "
                "cannot be shown again / kata sandinya tidak dapat ditampilkan lagi",
                file=err,
            )
        if not todo:
            os.close(fd)
            fd = -1
            path.unlink()
            return []
        secrets_ = [passwords.random_password() for _ in todo]
        hashes = _hash_all(secrets_)
        now = engine.now()
        with engine.sessions.begin() as s:
            ids = {code: id_ for code, id_ in s.execute(select(Agency.code, Agency.id))}
            s.add_all(
                User(
                    username=name,
                    agency_id=ids[code],
                    password_hash=h,
                    display_name=f"Demo {groups[0].replace('_', ' ')} ({code})",
                    active=True,
                    created_at=now,
                    groups=[UserGroup(group=g) for g in groups],
                )
                for (name, code, groups), h in zip(todo, hashes, strict=True)
            )
        users: list[DemoUser] = [
            (name, code, groups, pw)
            for (name, code, groups), pw in zip(todo, secrets_, strict=True)
        ]
        table = format_users(users)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            fd = -1
            f.write(
                f"# sopflow demo users, created {now:%Y-%m-%d %H:%M} UTC. Keep this file private.\n"
            )
            f.write(table)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        if fd >= 0:
            os.close(fd)
        path.unlink(missing_ok=True)
        raise
    print(f"demo users created; passwords written once to {path} (mode 0600):", file=out)
    print(table, end="", file=out)
    return users


def format_users(users: Iterable[DemoUser]) -> str:
    rows = [("username", "agency", "groups", "password")]
    rows += [(u, a, ",".join(g), p) for u, a, g, p in users]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "".join(
        f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}\n" for r in rows
    )


def _deploy_all(
    engine: Engine, bpmn_dir: Path, report: SeedReport, out: TextIO, err: TextIO
) -> None:
    codes = [a.code for a in AGENCIES]
    files = sorted(bpmn_dir.glob("*.bpmn"))
    if not files:
        print(f"sopflow: no BPMN files in {bpmn_dir}", file=err)
    for path in files:
        if path.stem in SHARED_PROCESSES:
            targets = codes
        elif path.stem in codes:
            targets = [path.stem]
        else:
            print(
                f"sopflow: {path.name}: not an agency code nor a shared process; skipped",
                file=err,
            )
            continue
        try:
            data = path.read_bytes()
            engine.parse(path.name, data)  # once, so a shared file's problems print once
        except OSError as e:
            print(f"sopflow: {path}: {e.strerror}", file=err)
            report.failed += [f"{code}:{path.name}" for code in targets]
            continue
        except DeployError as e:
            _print_problems(path.name, e, err)
            report.failed += [f"{code}:{path.name}" for code in targets]
            continue
        for code in targets:
            try:
                result = engine.deploy(
                    Actor.system_actor(code, name="seed-demo"),
                    [(path.name, data)],
                    source="seed-demo",
                )
            except DeployError as e:
                _print_problems(path.name, e, err)
                report.failed.append(f"{code}:{path.name}")
                continue
            except SopflowError as e:
                print(f"sopflow: {code}: {path.name} not deployed: {e}", file=err)
                report.failed.append(f"{code}:{path.name}")
                continue
            for d in result.deployed:
                report.deployed.append(f"{code}:{d.key}:{d.version}")
                print(f"{code}: {d.key} version {d.version} deployed", file=out)
            for d in result.unchanged:
                report.unchanged.append(f"{code}:{d.key}:{d.version}")
                print(f"{code}: {d.key} version {d.version} unchanged", file=out)


def _print_problems(filename: str, e: DeployError, err: TextIO) -> None:
    print(
        f"sopflow: {filename} not deployed / tidak di-deploy: {len(e.problems)} problem(s)",
        file=err,
    )
    for p in e.problems:
        print(f"  {p}", file=err)


def add_user(
    engine: Engine, username: str, agency: str, groups: Sequence[str], password: str
) -> User:
    """Create a login; refuses an existing username, an unknown agency or a weak password."""
    if not USERNAME.fullmatch(username):
        raise SopflowError(
            f"Invalid username '{username}': use 2-64 lower-case letters, digits and . _ @ -",
            f"Nama pengguna '{username}' tidak sah: gunakan 2-64 huruf kecil, angka, dan . _ @ -",
        )
    if not groups:
        raise SopflowError("Give at least one group", "Sebutkan minimal satu grup")
    for g in groups:
        if not GROUP.fullmatch(g):
            raise SopflowError(f"Invalid group '{g}'", f"Grup '{g}' tidak sah")
    password_hash = passwords.hash_password(password)  # before the write transaction
    taken = Conflict(
        f"User '{username}' already exists", f"Pengguna '{username}' sudah ada", user=username
    )
    try:
        with engine.sessions.begin() as s:
            ag = engine.agency(s, agency)
            if s.scalar(select(User.id).where(User.username == username)) is not None:
                raise taken
            user = User(
                username=username,
                agency_id=ag.id,
                password_hash=password_hash,
                active=True,
                created_at=engine.now(),
                groups=[UserGroup(group=g) for g in sorted(set(groups))],
            )
            s.add(user)
            s.flush()
            return user
    except IntegrityError:
        raise taken
