"""The ``sopflow`` command: serve, work, migrate, deploy, add users, API tokens, seed, list
instances.

Every failure ends with exit status 1 and one line ``sopflow: error: <message>`` on stderr (plus
one line per further problem for a refused diagram); never a traceback, unless
``SOPFLOW_DEBUG=1`` asks for one.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from engine.actors import Actor
from engine.catalogue import AGENCIES, ROLES
from engine.errors import ConfigurationError, DeployError, SopflowError

from .composition import upgrade

PROG = "sopflow"
log = logging.getLogger("sopflow.cli")
_database_url: str | None = None  # for error messages


# ---------------------------------------------------------------------------------- helpers
def _settings(secret: bool = False) -> dict[str, Any]:
    from .config import load_settings

    global _database_url
    settings = load_settings(secret=secret)
    _database_url = settings["DATABASE_URL"]
    return settings


def _engine(settings: dict[str, Any]) -> tuple[Any, Any]:
    from . import build_engine

    return build_engine(settings)


def _safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid URL>"


def _cli_actor(agency: str) -> Actor:
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return Actor.system_actor(agency, name=f"cli:{who}"[:64])


def _port(value: str) -> int:
    if not value.isdigit() or not 0 <= int(value) <= 65535:
        raise ConfigurationError(
            f"Invalid port '{value}' (PORT or --port)",
            f"Port '{value}' tidak sah (PORT atau --port)",
        )
    return int(value)


def _listen(host: str, port: int) -> socket.socket:
    """Bind here, so that a busy port is one clean error line rather than werkzeug's exit."""
    from werkzeug.serving import select_address_family

    try:
        sock = socket.create_server((host, port), family=select_address_family(host, port))
    except OSError as e:
        raise ConfigurationError(
            f"Cannot listen on {host}:{port}: {e.strerror or e}",
            f"Tidak dapat membuka {host}:{port}: {e.strerror or e}",
        )
    return sock


def _logging(level: int = logging.INFO) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)


def _start_workers(engine: Any, registry: Any, settings: dict[str, Any], threads: int) -> list[Any]:
    """Built-in handler threads, the timer poller and the handlers' background services
    (mail delivery); the caller stops them in reverse."""
    from engine.workers import TimerPoller, WorkerPool
    from handlers.base import HandlerContext
    from handlers.services import background_services

    context = HandlerContext(clock=engine.clock, sessions=engine.sessions, settings=settings)
    runners: list[Any] = []
    try:
        if threads > 0:
            pool = WorkerPool(engine, registry, context=context, threads=threads)
            pool.start()
            runners.append(pool)
        poller = TimerPoller(engine, settings["TIMER_INTERVAL"])
        poller.start()
        runners.append(poller)
        for service in background_services(context):
            service.start()
            runners.append(service)
    except BaseException:
        _stop(runners)
        raise
    return runners


def _stop(runners: Sequence[Any]) -> None:
    for runner in reversed(runners):
        runner.stop()


def _on_signals(handler: Callable[[int, Any], None] | signal.Handlers) -> None:
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


# ---------------------------------------------------------------------------------- commands
def cmd_serve(args: argparse.Namespace) -> int:
    """Serve with waitress (web/rest/server.py): a production WSGI server with a thread pool,
    whose threads long-polling REST workers can never all take."""
    from . import create_app
    from .rest.server import THREADS, Server

    port = _port(str(args.port) if args.port is not None else os.environ.get("PORT", "5000"))
    threads = args.threads or int(os.environ.get("SOPFLOW_WEB_THREADS") or THREADS)
    settings = _settings(secret=True)
    _logging()
    upgrade(settings["DATABASE_URL"])
    settings["LISTEN_HOST"] = args.host  # CORS: the Modeler's file:// page only on loopback
    app = create_app(settings)
    engine = app.extensions["sopflow"]
    registry = app.extensions["sopflow.registry"]
    server = Server(app, _listen(args.host, port), threads=threads)
    runners = (
        [] if args.no_workers else _start_workers(engine, registry, settings, settings["WORKERS"])
    )

    def interrupt(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    _on_signals(interrupt)
    workers = (
        "no workers"
        if args.no_workers
        else f"{settings['WORKERS']} worker thread(s) for {len(registry.topics())} topic(s), "
        f"timers every {settings['TIMER_INTERVAL']:g}s"
    )
    print(
        f"{PROG}: serving on http://{args.host}:{server.port} ({workers}; "
        f"{server.threads} HTTP threads); database {_safe_url(settings['DATABASE_URL'])}",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.serve_forever()  # returns on KeyboardInterrupt (SIGINT or SIGTERM)
    except KeyboardInterrupt:
        pass
    finally:
        _on_signals(signal.SIG_DFL)  # a second signal ends the process at once
        server.shutdown()
        _stop(runners)
    print(f"{PROG}: stopped", file=sys.stderr, flush=True)
    return 0


def _token_owner(engine: Any, username: str) -> str:
    """The agency of ``username`` (tokens are created by that agency's administrator)."""
    from sqlalchemy import select

    from engine.models import User

    with engine.sessions() as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            raise SopflowError(
                f"User '{username}' not found", f"Pengguna '{username}' tidak ditemukan"
            )
        return str(user.agency.code)


def cmd_token(args: argparse.Namespace) -> int:
    """API tokens for the Camunda REST API: shown once at creation, stored hashed, never
    printed again."""
    from sqlalchemy import select

    from engine.models import Agency, User

    from .rest.models import ApiToken
    from .rest.tokens import create_token, revoke_token

    engine, _ = _engine(_settings())
    if args.action == "create":
        agency = _token_owner(engine, args.user)
        token = create_token(engine, _cli_actor(agency), args.user, args.name or "cli")
        print(token)
        print(
            f"{PROG}: token for {args.user} ({agency}) created; it is shown only now",
            file=sys.stderr,
        )
        return 0
    with engine.sessions() as s:
        rows = s.execute(
            select(ApiToken, User.username, Agency.code)
            .join(User, User.id == ApiToken.user_id)
            .join(Agency, Agency.id == User.agency_id)
            .order_by(ApiToken.created_at)
        ).all()
    if args.action == "revoke":
        owner = next((code for t, _u, code in rows if t.id == args.id), None)
        if owner is None:
            raise SopflowError(f"Token '{args.id}' not found", f"Token '{args.id}' tidak ditemukan")
        revoke_token(engine, _cli_actor(owner), args.id)
        print(f"token {args.id} revoked")
        return 0
    table: list[tuple[str, ...]] = [("ID", "USER", "AGENCY", "NAME", "CREATED", "REVOKED")]
    for t, username, code in rows:
        if args.agency and code != args.agency:
            continue
        table.append(
            (
                t.id,
                username,
                code,
                t.name,
                t.created_at.strftime("%Y-%m-%d %H:%M"),
                t.revoked_at.strftime("%Y-%m-%d %H:%M") if t.revoked_at else "-",
            )
        )
    _print_table(table)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    settings = _settings(secret=True)  # credentials are sealed with the app's key
    _logging()
    engine, registry = _engine(settings)
    with engine.sessions() as s:  # fail now, not in a thread, when the database is unreachable
        s.execute(text("SELECT 1"))
    threads = settings["WORKERS"] if args.threads is None else args.threads
    if threads < 0:
        raise ConfigurationError("--threads must be 0 or more", "--threads minimal 0")
    stop = threading.Event()
    _on_signals(lambda _signum, _frame: stop.set())
    runners = _start_workers(engine, registry, settings, threads)
    topics = ", ".join(registry.topics()) or "none"
    print(
        f"{PROG}: worker running: {threads} thread(s), topics: {topics}; "
        f"timers every {settings['TIMER_INTERVAL']:g}s",
        file=sys.stderr,
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            pass
    finally:
        _on_signals(signal.SIG_DFL)
        _stop(runners)
    print(f"{PROG}: worker stopped", file=sys.stderr, flush=True)
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    settings = _settings()
    upgrade(settings["DATABASE_URL"])
    print(f"database schema is up to date: {_safe_url(settings['DATABASE_URL'])}")
    return 0


def cmd_deploy(args: argparse.Namespace) -> int:
    files = [(Path(f).name, Path(f).read_bytes()) for f in args.files]
    engine, _ = _engine(_settings())
    result = engine.deploy(
        _cli_actor(args.agency),
        files,
        source="cli",
        version_tag=args.version_tag,
        note=args.note,
    )
    for d in result.deployed:
        print(f"{d.key} version {d.version}: deployed ({d.id})")
    for d in result.unchanged:
        print(f"{d.key} version {d.version}: unchanged ({d.id})")
    for w in result.warnings:  # deployed all the same: stderr, exit status 0
        print(f"{PROG}: warning: {w}", file=sys.stderr)
    return 0


def _read_password() -> str:
    if sys.stdin is None:
        raise SopflowError(
            "No standard input to read the password from",
            "Tidak ada standard input untuk membaca kata sandi",
        )
    if sys.stdin.isatty():
        first = getpass.getpass("Password / Kata sandi: ")
        if getpass.getpass("Again / Ulangi: ") != first:
            raise SopflowError("The passwords differ", "Kata sandi tidak sama")
        return first
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise SopflowError(
            "No password on standard input", "Tidak ada kata sandi di standard input"
        )
    return password


def cmd_user_add(args: argparse.Namespace) -> int:
    from .seed import add_user

    password = _read_password()
    engine, _ = _engine(_settings())
    groups = sorted(set(args.group))
    user = add_user(engine, args.username, args.agency, groups, password)
    if args.unit:
        from engine.units import set_user_unit

        set_user_unit(engine, _cli_actor(args.agency), user.username, args.unit)
    print(f"user {user.username} created in {args.agency}, groups: {', '.join(groups)}")
    unknown = [g for g in groups if g not in ROLES]
    if unknown:
        print(
            f"{PROG}: note: not a catalogue role: {', '.join(unknown)} (roles: {', '.join(ROLES)})",
            file=sys.stderr,
        )
    return 0


def cmd_seed_demo(args: argparse.Namespace) -> int:
    from .seed import seed

    settings = _settings()
    engine, _ = _engine(settings)
    report = seed(engine, settings["INSTANCE_DIR"], bpmn_dir=args.bpmn_dir)
    if not report.ok:
        print(
            f"{PROG}: error: {len(report.failed)} deployment(s) failed / gagal: "
            + ", ".join(report.failed),
            file=sys.stderr,
        )
        return 1
    return 0


def _when(moment: datetime | None, tz: ZoneInfo) -> str:
    return "-" if moment is None else f"{moment.astimezone(tz):%Y-%m-%d %H:%M %Z}"


def cmd_instances(args: argparse.Namespace) -> int:
    engine, _ = _engine(_settings())
    if args.agency:
        rows = [
            (args.agency, i)
            for i in engine.instances(
                Actor.system_actor(args.agency), state=args.state, limit=args.limit
            )
        ]
    else:
        rows = [
            (code, inst)
            for code, inst in engine.all_instances(limit=args.limit)
            if args.state is None or inst.state == args.state
        ]
    if not rows:
        print("no instances / tidak ada instance")
        return 0
    zones = {a.code: ZoneInfo(a.timezone) for a in AGENCIES}
    utc = ZoneInfo("UTC")
    table = [("BUSINESS KEY", "AGENCY", "PROCESS", "STATE", "CURRENT STEP", "STARTED", "SLA DUE")]
    for code, inst in rows:
        tz = zones.get(code, utc)
        step = inst.current_step or "-"
        table.append(
            (
                inst.business_key,
                code,
                f"{inst.definition.key}:{inst.definition.version}",
                inst.state,
                step if len(step) <= 40 else step[:39] + "…",
                _when(inst.started_at, tz),
                _when(inst.sla_due_at, tz),
            )
        )
    _print_table(table)
    return 0


def _print_table(table: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for r in table:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


def cmd_definitions(args: argparse.Namespace) -> int:
    engine, _ = _engine(_settings())
    actor = Actor.system_actor(args.agency)
    rows = engine.definitions(actor, args.key)
    if not rows:
        print("no definitions / tidak ada definisi")
        return 0
    current = {d.key: engine.current_definition(actor, d.key).id for d in rows}
    table = [("ID", "KEY", "VERSION", "TAG", "CURRENT", "DEPLOYED")]
    for d in rows:
        table.append(
            (
                d.id,
                d.key,
                str(d.version),
                d.version_tag or "-",
                "*" if current.get(d.key) == d.id else "",
                _when(d.created_at, ZoneInfo("UTC")),
            )
        )
    _print_table(table)
    return 0


def cmd_activate(args: argparse.Namespace) -> int:
    engine, _ = _engine(_settings())
    d = engine.activate(Actor.system_actor(args.agency, "cli"), args.definition_id)
    print(f"{d.key} version {d.version} is now used for new requests ({d.id})")
    return 0


def cmd_holiday(args: argparse.Namespace) -> int:
    engine, _ = _engine(_settings())
    actor = Actor.system_actor(args.agency, "cli")
    if args.holiday_cmd == "list":
        rows = engine.calendar_overrides(actor)
        if not rows:
            print("no overrides / tidak ada perubahan kalender")
            return 0
        _print_table(
            [("DAY", "WORKING", "NOTE")]
            + [(r.day.isoformat(), "yes" if r.working else "no", r.note or "") for r in rows]
        )
        return 0
    try:
        day = date.fromisoformat(args.day)
    except ValueError:
        raise SopflowError(
            f"'{args.day}' is not a date (YYYY-MM-DD)", f"'{args.day}' bukan tanggal (TTTT-BB-HH)"
        )
    working = {"off": False, "working": True, "national": None}[args.kind]
    engine.set_calendar_override(actor, day, working, args.note)
    print(f"{day.isoformat()}: {args.kind}")
    return 0


# ---------------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("sopflow")
    except PackageNotFoundError:
        v = "unknown"
    p = argparse.ArgumentParser(
        prog=PROG,
        description="BPMN workflows for Diskominfo subdomain and website request SOPs. "
        "Settings come from SOPFLOW_* environment variables (see README.md).",
    )
    p.add_argument("--version", action="version", version=f"{PROG} {v}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    s = sub.add_parser("serve", help="migrate the database, then serve the web app with workers")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    s.add_argument("--port", type=int, default=None, help="port (default: $PORT or 5000)")
    s.add_argument(
        "--no-workers",
        action="store_true",
        help="no in-process handler workers or timer poller (run `sopflow worker`)",
    )
    s.add_argument(
        "--threads",
        type=int,
        default=None,
        help="HTTP threads (default: SOPFLOW_WEB_THREADS or 32)",
    )
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("token", help="API tokens (Bearer) for the Camunda REST API")
    tsub = s.add_subparsers(dest="action", metavar="ACTION", required=True)
    t = tsub.add_parser("create", help="create a token acting as a user; printed once")
    t.add_argument("--user", required=True, metavar="USERNAME")
    t.add_argument("--name", metavar="N", help="what the token is for (e.g. the worker's name)")
    t.set_defaults(func=cmd_token)
    t = tsub.add_parser("revoke", help="revoke a token by its id (see `token list`)")
    t.add_argument("id", metavar="ID")
    t.set_defaults(func=cmd_token)
    t = tsub.add_parser("list", help="list tokens (ids, users, dates; never the secrets)")
    t.add_argument("--agency", metavar="CODE")
    t.set_defaults(func=cmd_token)

    s = sub.add_parser("worker", help="run handler workers and the timer poller, no web")
    s.add_argument(
        "--threads", type=int, default=None, help="worker threads (default: SOPFLOW_WORKERS or 2)"
    )
    s.set_defaults(func=cmd_worker)

    s = sub.add_parser("db", help="database schema")
    dbsub = s.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    u = dbsub.add_parser("upgrade", help="migrate the schema to the latest version (Alembic)")
    u.set_defaults(func=cmd_db_upgrade)

    s = sub.add_parser("deploy", help="deploy BPMN files as new process versions of an agency")
    s.add_argument("files", nargs="+", metavar="FILE")
    s.add_argument("--agency", required=True, metavar="CODE")
    s.add_argument("--version-tag", metavar="T")
    s.add_argument("--note", metavar="TEXT")
    s.set_defaults(func=cmd_deploy)

    s = sub.add_parser("user", help="manage users")
    usub = s.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    u = usub.add_parser("add", help="create a user; the password is read from standard input")
    u.add_argument("username", metavar="USERNAME")
    u.add_argument("--agency", required=True, metavar="CODE")
    u.add_argument(
        "--group",
        required=True,
        action="append",
        metavar="G",
        help="a role such as technical_officer; repeat for more",
    )
    u.add_argument(
        "--password-stdin",
        required=True,
        action="store_true",
        help="read the password (at least 10 characters) from standard input",
    )
    u.add_argument("--unit", metavar="CODE", help="the work unit (OPD) of an applicant")
    u.set_defaults(func=cmd_user_add)
    from .unit_commands import add_parsers

    add_parsers(sub, usub)

    s = sub.add_parser("seed-demo", help="demo agencies, users and every bpmn/*.bpmn deployed")
    s.add_argument("--bpmn-dir", default=None, help="where the diagrams are (default: bpmn/)")
    s.set_defaults(func=cmd_seed_demo)

    s = sub.add_parser("instances", help="list process instances")
    s.add_argument("--agency", metavar="CODE")
    s.add_argument("--state", metavar="S", help="running, completed or terminated")
    s.add_argument("--limit", type=int, default=200)
    s.set_defaults(func=cmd_instances)

    s = sub.add_parser("definitions", help="list deployed versions of an agency's processes")
    s.add_argument("--agency", required=True)
    s.add_argument("--key", help="only this process key")
    s.set_defaults(func=cmd_definitions)

    s = sub.add_parser("activate", help="make a deployed version the one new requests start on")
    s.add_argument("definition_id")
    s.add_argument("--agency", required=True)
    s.set_defaults(func=cmd_activate)

    s = sub.add_parser("holiday", help="working-day calendar overrides of an agency")
    hsub = s.add_subparsers(dest="holiday_cmd", required=True)
    h = hsub.add_parser("list", help="list the overrides")
    h.add_argument("--agency", required=True)
    h.set_defaults(func=cmd_holiday)
    h = hsub.add_parser("set", help="make a day off, a working day, or national again")
    h.add_argument("day", help="YYYY-MM-DD")
    h.add_argument("kind", choices=["off", "working", "national"])
    h.add_argument("--agency", required=True)
    h.add_argument("--note")
    h.set_defaults(func=cmd_holiday)
    return p


def _error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


def _db_error(e: SQLAlchemyError) -> str:
    if isinstance(e, ArgumentError):
        return f"invalid SOPFLOW_DATABASE_URL / URL basis data tidak sah: {e}"
    where = f" ({_safe_url(_database_url)})" if _database_url else ""
    orig = getattr(e, "orig", None) or e
    reason = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    if isinstance(e, OperationalError) and getattr(e, "statement", None) is None:
        return f"database unreachable / basis data tidak dapat dihubungi{where}: {reason}"
    if "no such table" in reason or ("relation" in reason and "does not exist" in reason):
        return (
            f"the database has no sopflow schema; run `sopflow db upgrade` / "
            f"skema belum dibuat{where}: {reason}"
        )
    return f"database error / galat basis data{where}: {reason}"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except DeployError as e:
        # str(e) repeats the first problem in both languages; a header and one line per
        # problem reads better and loses nothing
        n = len(e.problems)
        _error(f"Diagram ditolak: {n} masalah / Diagram refused: {n} problem(s)")
        for problem in e.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except SopflowError as e:
        _error(str(e))
        return 1
    except SQLAlchemyError as e:
        _error(_db_error(e))
        return 1
    except OSError as e:
        where = f"{e.filename}: " if e.filename else ""
        _error(f"{where}{e.strerror or e}")
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # noqa: BLE001 - one line, not a traceback, unless asked for
        if os.environ.get("SOPFLOW_DEBUG") == "1":
            raise
        _error(f"unexpected {type(e).__name__}: {e} (SOPFLOW_DEBUG=1 shows the traceback)")
        return 1


if __name__ == "__main__":
    sys.exit(main())
