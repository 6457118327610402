"""The `sopflow` command end to end (subprocesses on a temp SQLite database), and the app
factory that `sopflow serve` runs."""

from __future__ import annotations

import io
import json
import os
import queue
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.actors import Actor
from engine.catalogue import AGENCIES
from engine.db import make_db, make_sessions
from engine.models import User
from engine.runtime import Engine, topics_policy
from web import SECURITY_HEADERS, create_app, passwords
from web.passwords import verify_password
from web.seed import DEMO_USERS_FILE, ensure_agencies

SCRIPT = Path(sys.executable).with_name("sopflow")
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "web.cli"]

BROKEN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d_broken" targetNamespace="x">
  <bpmn:process id="broken" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="nobody" name="Nobody's task">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:serviceTask id="mystery" camunda:type="external" camunda:topic="no.such.topic">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="nobody" />
    <bpmn:sequenceFlow id="f2" sourceRef="nobody" targetRef="mystery" />
    <bpmn:sequenceFlow id="f3" sourceRef="mystery" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cli:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = f"sqlite:///{root / 'sopflow.db'}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SOPFLOW_")}
        self.env.update(
            SOPFLOW_DATABASE_URL=self.url,
            SOPFLOW_INSTANCE_DIR=str(root / "instance"),
            SOPFLOW_EXTERNAL_TOPICS="dns.create",
            SOPFLOW_TIMER_INTERVAL="0.2",
        )
        self.env.pop("PORT", None)

    def __call__(
        self, *args: str, input: str | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*COMMAND, *args],
            input=input if input is not None else "",
            capture_output=True,
            text=True,
            cwd=self.root,
            env={**self.env, **env},
            timeout=120,
        )

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [*COMMAND, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd=self.root,
            env=self.env,
        )

    def engine(self) -> Engine:
        return Engine(make_sessions(make_db(self.url)), topics=topics_policy(["dns.create"]))


def assert_clean_failure(result: Any, *needles: str) -> list[str]:
    """Exit 1, exactly one `sopflow: error:` line, first on stderr, and no traceback."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert lines and lines[0].startswith("sopflow: error: "), result.stderr
    assert sum(line.startswith("sopflow: error:") for line in lines) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for needle in needles:
        assert needle in result.stderr, (needle, result.stderr)
    return lines


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


class InProcess:
    """`main()` in this process with the same environment as `Cli`: the error handling is the
    same code, without paying the interpreter start-up for every refusal."""

    def __init__(self, cli: Cli, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
        self.cli, self.monkeypatch, self.capsys = cli, monkeypatch, capsys

    def __call__(self, *args: str, input: str = "", **env: str) -> Result:
        from web.cli import main

        for key in [k for k in os.environ if k.startswith("SOPFLOW_")]:
            self.monkeypatch.delenv(key)
        for key, value in {**self.cli.env, **env}.items():
            if key.startswith("SOPFLOW_") or key == "PORT":
                self.monkeypatch.setenv(key, value)
        self.monkeypatch.chdir(self.cli.root)
        self.monkeypatch.setattr(sys, "stdin", io.StringIO(input))
        self.capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as e:  # argparse usage errors
            code = int(e.code or 0)
        out, err = self.capsys.readouterr()
        return Result(code, out, err)


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    c = Cli(tmp_path_factory.mktemp("cli"))
    result = c("db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    ensure_agencies(c.engine(), c.root / "instance")  # the catalogue's agencies, as seed-demo would
    return c


@pytest.fixture
def inproc(cli: Cli, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> InProcess:
    return InProcess(cli, monkeypatch, capsys)


@pytest.fixture
def dialect_file(tmp_path: Path, dialect_xml: bytes) -> Path:
    path = tmp_path / "dialect-example.bpmn"
    path.write_bytes(dialect_xml)
    return path


def test_db_upgrade_again_is_a_no_op(cli: Cli) -> None:
    result = cli("db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout


def test_deploy_then_unchanged(cli: Cli, dialect_file: Path) -> None:
    first = cli(
        "deploy",
        str(dialect_file),
        "--agency",
        "tapin",
        "--version-tag",
        "v1",
        "--note",
        "first SOP",
    )
    assert first.returncode == 0, first.stderr
    assert "dialect_example version 1: deployed (dialect_example:1:" in first.stdout
    again = cli("deploy", str(dialect_file), "--agency", "tapin", "--version-tag", "v1")
    assert again.returncode == 0, again.stderr
    assert "dialect_example version 1: unchanged" in again.stdout
    assert "deployed" not in again.stdout


def test_deploy_of_a_broken_diagram_lists_located_problems(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "broken.bpmn"
    path.write_text(BROKEN)
    # strict: the unknown topic is one of the problems
    result = cli("deploy", str(path), "--agency", "kudus", SOPFLOW_STRICT_TOPICS="1")
    lines = assert_clean_failure(result, "Diagram refused")
    problems = lines[1:]
    assert len(problems) >= 2
    assert any("element 'nobody'" in p and "line 6" in p for p in problems), problems
    assert any("element 'mystery'" in p and "no.such.topic" in p for p in problems), problems
    assert all(p.startswith("  broken.bpmn, line ") for p in problems), problems


def test_deploy_of_an_unknown_topic_warns_on_stderr(inproc: InProcess, tmp_path: Path) -> None:
    path = tmp_path / "mystery.bpmn"
    path.write_text(
        BROKEN.replace('id="broken"', 'id="mystery_topic"').replace(
            '<bpmn:userTask id="nobody"', '<bpmn:userTask id="nobody" camunda:assignee="budi"'
        )
    )
    result = inproc("deploy", str(path), "--agency", "kudus")
    assert result.returncode == 0, result.stderr
    assert "mystery_topic version 1: deployed" in result.stdout
    assert result.stderr.splitlines() == [
        "sopflow: warning: mystery.bpmn, line 9, element 'mystery': Topic 'no.such.topic': "
        "tidak ada handler bawaan: pekerjaan menunggu worker eksternal / Topic "
        "'no.such.topic': no built-in handler: jobs wait for an external worker"
    ]


def test_deploy_to_an_unknown_agency_or_of_a_missing_file(
    cli: Cli, inproc: InProcess, dialect_file: Path
) -> None:
    assert_clean_failure(cli("deploy", str(dialect_file), "--agency", "atlantis"), "atlantis")
    missing = str(dialect_file.with_name("missing.bpmn"))
    assert_clean_failure(inproc("deploy", missing, "--agency", "kudus"), "missing.bpmn")


ADD = ("user", "add", "--agency", "kudus", "--group", "admin", "--password-stdin")


def test_user_add(cli: Cli, inproc: InProcess) -> None:
    ok = cli(
        *ADD[:2],
        "kudus.ops",
        *ADD[2:],
        "--group",
        "technical_officer",
        input="correct horse battery\n",
    )
    assert ok.returncode == 0, ok.stderr
    assert "kudus.ops" in ok.stdout
    assert "correct horse" not in ok.stdout + ok.stderr
    with cli.engine().sessions() as s:
        user = s.scalar(select(User).where(User.username == "kudus.ops"))
        assert user is not None and user.agency.code == "kudus"
        assert [g.group for g in user.groups] == ["admin", "technical_officer"]
        assert user.password_hash.startswith("scrypt:")
        assert verify_password(user.password_hash, "correct horse battery")
        before = user.password_hash

    again = cli(*ADD[:2], "kudus.ops", *ADD[2:], input="another long password\n")
    assert_clean_failure(again, "already exists")
    with cli.engine().sessions() as s:
        assert s.scalar(select(User.password_hash).where(User.username == "kudus.ops")) == before

    # the other refusals, in-process (same main(), without the interpreter start-up)
    assert_clean_failure(inproc(*ADD[:2], "kudus.short", *ADD[2:], input="too short\n"), "10")
    assert_clean_failure(inproc(*ADD[:2], "kudus.empty", *ADD[2:], input=""), "password")
    assert_clean_failure(
        inproc(*ADD[:2], "Not Valid", *ADD[2:], input="correct horse battery\n"), "Not Valid"
    )
    nowhere = inproc(
        *ADD[:2],
        "x.ops",
        "--agency",
        "atlantis",
        "--group",
        "admin",
        "--password-stdin",
        input="correct horse battery\n",
    )
    assert_clean_failure(nowhere, "atlantis")


def test_instances_lists_a_started_instance(
    cli: Cli, inproc: InProcess, dialect_file: Path
) -> None:
    deployed = inproc("deploy", str(dialect_file), "--agency", "kudus")
    assert deployed.returncode == 0, deployed.stderr
    inst = cli.engine().start(
        Actor("kudus.applicant", "kudus", frozenset({"applicant"})),
        "dialect_example",
        values={"opd_name": "Dinas Pendidikan", "subdomain": "disdik", "letter_file": "a.pdf"},
    )
    result = cli("instances")
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == [
        "BUSINESS",
        "KEY",
        "AGENCY",
        "PROCESS",
        "STATE",
        "CURRENT",
        "STEP",
        "STARTED",
        "SLA",
        "DUE",
    ]
    row = next(r for r in rows if r.startswith(inst.business_key))
    for cell in ("kudus", "dialect_example:1", "running", "Verifikasi berkas", "WIB"):
        assert cell in row, row

    mine = inproc("instances", "--agency", "kudus", "--state", "running")
    assert inst.business_key in mine.stdout
    done = inproc("instances", "--agency", "kudus", "--state", "completed")
    assert done.returncode == 0 and inst.business_key not in done.stdout
    everywhere_done = inproc("instances", "--state", "completed")
    assert everywhere_done.returncode == 0 and inst.business_key not in everywhere_done.stdout
    other = inproc("instances", "--agency", "pekalongan")
    assert other.returncode == 0 and "no instances" in other.stdout
    assert_clean_failure(inproc("instances", "--agency", "atlantis"), "atlantis")


def test_unreachable_database_fails_cleanly(cli: Cli, inproc: InProcess) -> None:
    url = f"postgresql+psycopg://sopflow:s3cret-pw@127.0.0.1:{_closed_port()}/sopflow"
    result = cli("db", "upgrade", SOPFLOW_DATABASE_URL=url)
    assert_clean_failure(result, "database unreachable", "sopflow:***@127.0.0.1")
    assert "s3cret-pw" not in result.stderr
    for args in (("instances",), ("worker",)):
        result = inproc(*args, SOPFLOW_DATABASE_URL=url)
        assert_clean_failure(result, "database unreachable")
        assert "s3cret-pw" not in result.stderr


def test_bad_settings_fail_cleanly(inproc: InProcess) -> None:
    assert_clean_failure(inproc("instances", SOPFLOW_WORKERS="many"), "SOPFLOW_WORKERS")
    assert_clean_failure(
        inproc("instances", SOPFLOW_DATABASE_URL="nonsense"), "SOPFLOW_DATABASE_URL"
    )
    assert_clean_failure(inproc("serve", "--no-workers", PORT="http"), "port")
    usage = inproc("deploy")
    assert usage.returncode == 2 and "Traceback" not in usage.stderr


def test_serve_on_a_busy_port_fails_cleanly(inproc: InProcess) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        result = inproc("serve", "--no-workers", "--port", port)
    assert_clean_failure(result, f"127.0.0.1:{port}")


def test_engine_never_imports_flask() -> None:
    code = (
        "import sys, engine.runtime, engine.workers, engine.db, engine.bpmn.diagram; "
        "sys.exit('flask' in sys.modules or 'werkzeug' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_seed_demo_command(
    cli: Cli,
    inproc: InProcess,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    dialect_xml: bytes,
) -> None:
    bpmn = tmp_path / "bpmn"
    bpmn.mkdir()
    (bpmn / "pekalongan.bpmn").write_bytes(dialect_xml)
    (bpmn / "sulut.bpmn").write_text(BROKEN)
    instance = tmp_path / "instance"
    env = {"SOPFLOW_INSTANCE_DIR": str(instance)}
    # in-process with a cheaper scrypt for the 45 demo passwords; the re-run is end to end
    monkeypatch.setattr(passwords, "METHOD", "scrypt:1024:8:1")
    first = inproc("seed-demo", "--bpmn-dir", str(bpmn), **env)
    assert first.returncode == 1  # one diagram did not deploy
    assert "pekalongan: dialect_example version 1 deployed" in first.stdout
    assert "sulut.bpmn" in first.stderr and "element 'nobody'" in first.stderr
    assert "Traceback" not in first.stderr
    users = instance / DEMO_USERS_FILE
    assert stat.S_IMODE(users.stat().st_mode) == 0o600
    assert "pekalongan.admin" in users.read_text()

    (bpmn / "sulut.bpmn").unlink()
    again = cli("seed-demo", "--bpmn-dir", str(bpmn), **env)
    assert again.returncode == 0, again.stderr
    assert "exist already" in again.stdout and "unchanged" in again.stdout
    with cli.engine().sessions() as s:
        names = set(s.scalars(select(User.username)))
    assert {f"{a.code}.admin" for a in AGENCIES} <= names


def _lines(proc: subprocess.Popen[str]) -> queue.Queue[str]:
    q: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            q.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return q


def _wait_for(q: queue.Queue[str], needle: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        try:
            line = q.get(timeout=0.2)
        except queue.Empty:
            continue
        seen.append(line)
        if needle in line:
            return line
    raise AssertionError(f"{needle!r} not seen in: {''.join(seen)}")


@pytest.fixture
def stopper() -> Iterator[list[subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait(10)


def test_serve_answers_health_and_stops_on_sigterm(
    cli: Cli, stopper: list[subprocess.Popen[str]]
) -> None:
    proc = cli.popen("serve", "--port", "0")
    stopper.append(proc)
    lines = _lines(proc)
    banner = _wait_for(lines, "serving on http://127.0.0.1:")
    assert "worker thread(s)" in banner and "timers every" in banner
    port = int(banner.split("http://127.0.0.1:", 1)[1].split()[0])
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as r:  # noqa: S310
        assert json.load(r) == {"status": "ok", "database": "ok"}
        assert r.headers["X-Frame-Options"] == "DENY"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    _wait_for(lines, "stopped", 5)


def test_worker_runs_until_sigterm(cli: Cli, stopper: list[subprocess.Popen[str]]) -> None:
    proc = cli.popen("worker", "--threads", "1")
    stopper.append(proc)
    lines = _lines(proc)
    _wait_for(lines, "worker running: 1 thread(s)")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    _wait_for(lines, "worker stopped", 5)


# ---------------------------------------------------------------- the app factory (serve)
@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Any:
    return create_app({"DATABASE_URL": db_url, "INSTANCE_DIR": str(tmp_path / "instance")})


def test_health_checks_the_database(app: Any) -> None:
    response = app.test_client().get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}
    assert isinstance(app.extensions["sopflow"], Engine)


def test_every_response_has_security_headers(app: Any) -> None:
    client = app.test_client()
    for path in ("/", "/health", "/no-such-page", "/masuk"):
        response = client.get(path)
        for name in SECURITY_HEADERS:
            assert response.headers.get(name), (path, name)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "unsafe-inline" not in csp, path
        assert "frame-ancestors 'none'" in csp, path
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_index_leads_to_the_login_and_shows_no_data(app: Any) -> None:
    response = app.test_client().get("/", follow_redirects=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'lang="id"' in html and "/masuk" in response.request.path
    assert "KUDUS/" not in html


def test_secret_key_is_generated_once_and_private(db_url: str, tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    first = create_app({"DATABASE_URL": db_url, "INSTANCE_DIR": str(instance)})
    key_file = instance / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first.secret_key or "") >= 32
    second = create_app({"DATABASE_URL": db_url, "INSTANCE_DIR": str(instance)})
    assert second.secret_key == first.secret_key
    given = create_app(
        {"DATABASE_URL": db_url, "INSTANCE_DIR": str(tmp_path / "other"), "SECRET_KEY": "k" * 40}
    )
    assert given.secret_key == "k" * 40
    assert not (tmp_path / "other" / "secret_key").exists()


def test_settings_come_from_the_environment_and_config_overrides(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from web.config import load_settings

    monkeypatch.setenv("SOPFLOW_WORKERS", "5")
    monkeypatch.setenv("SOPFLOW_TIMER_INTERVAL", "2.5")
    monkeypatch.setenv("SOPFLOW_EXTERNAL_TOPICS", "erp.*, dns.create ,")
    monkeypatch.setenv("SOPFLOW_INSTANCE_DIR", str(tmp_path))
    monkeypatch.delenv("SOPFLOW_DATABASE_URL", raising=False)
    s = load_settings({"TIMER_INTERVAL": "0.5"}, secret=False)
    assert s["WORKERS"] == 5 and s["TIMER_INTERVAL"] == 0.5
    assert s["EXTERNAL_TOPICS"] == ["erp.*", "dns.create"]
    assert s["DATABASE_URL"] == f"sqlite:///{tmp_path.resolve() / 'sopflow.db'}"
    assert s["SECRET_KEY"] is None
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert app.extensions["sopflow"].topics("erp.invoice")
    assert not app.extensions["sopflow"].topics("mail.unknown")


def test_health_reports_an_unreachable_database(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://sopflow:pw@127.0.0.1:{_closed_port()}/sopflow"
    app = create_app({"DATABASE_URL": url, "INSTANCE_DIR": str(tmp_path)})
    response = app.test_client().get("/health")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "unreachable"}
    assert "pw" not in response.get_data(as_text=True)


def test_versions_rollback_and_calendar_from_the_command_line(tmp_path):
    env = {
        **os.environ,
        "SOPFLOW_DATABASE_URL": f"sqlite:///{tmp_path}/cli.db",
        "SOPFLOW_INSTANCE_DIR": str(tmp_path),
    }

    def run(*args, ok=True):
        r = subprocess.run(
            [str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=120
        )
        assert (r.returncode == 0) == ok, r.stderr
        assert "Traceback" not in r.stderr
        return r.stdout

    run("db", "upgrade")
    run("seed-demo")
    v1 = (Path(__file__).resolve().parents[2] / "bpmn" / "kudus.bpmn").read_text()
    changed = tmp_path / "kudus.bpmn"
    changed.write_text(
        v1.replace('name="Disposisi surat ke Kepala Bidang', 'name="Disposisi Kabid', 1)
    )
    out = run("deploy", str(changed), "--agency", "kudus", "--version-tag", "v2")
    assert "version 2" in out or ":2:" in out
    listing = run("definitions", "--agency", "kudus", "--key", "kudus")
    lines = [line.split() for line in listing.splitlines()[1:]]
    current = {row[2]: "*" in row for row in lines}
    assert current == {"1": False, "2": True}
    first_id = next(row[0] for row in lines if row[2] == "1")
    assert "version 1" in run("activate", first_id, "--agency", "kudus")
    lines = [line.split() for line in run("definitions", "--agency", "kudus").splitlines()[1:]]
    assert any(row[0] == first_id and "*" in row for row in lines)

    run("holiday", "set", "2026-12-31", "off", "--agency", "kudus", "--note", "cuti bersama")
    assert "2026-12-31  no       cuti bersama" in run("holiday", "list", "--agency", "kudus")
    run("holiday", "set", "2026-12-31", "national", "--agency", "kudus")
    assert "no overrides" in run("holiday", "list", "--agency", "kudus")
    err = subprocess.run(
        [str(SCRIPT), "holiday", "set", "31-12-2026", "off", "--agency", "kudus"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert err.returncode != 0 and err.stderr.startswith("sopflow: error:")
    assert "Traceback" not in err.stderr
