"""REST benchmark: the Camunda REST API over HTTP against the same work done in-process.

Run from the repository root (prints numbers, asserts nothing; SQLite in a temp directory):

    .venv/bin/python bench/rest.py                   # 200 user tasks, 400 external tasks
    .venv/bin/python bench/rest.py --tasks 500 --jobs 1000 --workers 8
    .venv/bin/python bench/rest.py --in-thread       # server in this process (for profiling)
    .venv/bin/python bench/rest.py --pin             # client on CPU 0, server on CPU 1
    .venv/bin/python bench/rest.py --ab              # also through Flask (no fast path)

The server is ``sopflow serve --no-workers`` in its own process (waitress, as deployed), so the
client's threads do not compete with it for this interpreter's GIL; ``--in-thread`` runs the
same server in a thread of this process instead.

user tasks   latency of one completion: ``Engine.complete_task`` against
             ``POST /engine-rest/task/{id}/complete`` (HTTP Basic, keep-alive), p50 and p95,
             interleaved task by task so drift hits all alike. Two HTTP clients: ``requests``
             (what pycamunda and the external-task client send with) and the standard
             library's ``http.client`` (what HTTP itself costs, without a client library's
             own Python). Each side starts its own instances, so each has its live workflow
             cached as in normal operation.
external     throughput of fetchAndLock + complete with several workers (threads): the engine
             calls against the HTTP endpoints.

The goal is HTTP adding no more than 2 ms p50 per completion.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.actors import Actor  # noqa: E402
from engine.catalogue import AGENCIES  # noqa: E402
from engine.db import make_db, make_sessions  # noqa: E402
from engine.models import Agency, User, UserGroup  # noqa: E402
from engine.runtime import TopicRequest  # noqa: E402
from web import create_app, passwords  # noqa: E402
from web.composition import upgrade  # noqa: E402
from web.rest.server import start_in_thread  # noqa: E402

SMOKE = (ROOT / "tests" / "data" / "rest" / "rest_smoke.bpmn").read_bytes()
PASSWORD = "kata-sandi-rahasia-1"
TOPIC = "rest.work"


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] * 1000


def _database(tmp: Path, pg_admin_url: str | None = None) -> str:
    """A fresh database: SQLite in ``tmp``, or a new PostgreSQL database next to
    ``pg_admin_url`` (the server and this process then share no file cache)."""
    if pg_admin_url:
        from sqlalchemy import create_engine, text

        name = f"sopflow_bench_{os.getpid()}"
        admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            c.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = pg_admin_url.rsplit("/", 1)[0] + f"/{name}"
    else:
        url = f"sqlite:///{tmp}/bench.db"
    upgrade(url)
    sessions = make_sessions(make_db(url))
    with sessions.begin() as s:
        for a in AGENCIES:
            s.add(
                Agency(
                    code=a.code,
                    name=a.name,
                    parent_domain=a.parent_domain,
                    timezone=a.timezone,
                    settings={},
                )
            )
        s.flush()
        kudus = s.query(Agency).filter_by(code="kudus").one()
        s.add(
            User(
                username="bench",
                agency_id=kudus.id,
                password_hash=passwords.hash_password(PASSWORD),
                active=True,
                created_at=datetime.now(UTC),
                groups=[UserGroup(group="admin")],
            )
        )
    return url


def deployed(url: str, tmp: Path) -> tuple[Any, Any, Actor]:
    """The app on ``url``, its engine and an admin actor, with the REST smoke diagrams."""
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench-secret-key-0123456789",
            "WORKERS": 0,
            "INSTANCE_DIR": tmp / "instance",
            "EXTERNAL_TOPICS": "rest.*",
        }
    )
    engine = app.extensions["sopflow"]
    actor = Actor("bench", "kudus", frozenset({"admin"}))
    engine.deploy(actor, [("rest_smoke.bpmn", SMOKE)])
    return app, engine, actor


FLASK_PATH = "X-Bench-Path"  # --ab: a request with this header skips the fast path


def _serve_ab() -> int:
    """``sopflow serve`` itself, but the completion fast path (web/rest/fastpath.py) is off for
    requests carrying FLASK_PATH, so that one run compares the two paths side by side. Only
    this benchmark's own server does this; the product has no such switch per request."""
    from web import cli
    from web.rest import fastpath

    installed = fastpath.install

    def install(app: Any, prefixes: Any) -> None:
        installed(app, prefixes)
        fast = app.wsgi_app

        def switch(environ: dict[str, Any], start_response: Any) -> Any:
            app.config["REST_FAST_PATH"] = "HTTP_X_BENCH_PATH" not in environ
            return fast(environ, start_response)

        app.wsgi_app = switch

    fastpath.install = install  # type: ignore[assignment]
    return cli.main(["serve", "--no-workers", "--port", "0"])


def _serve(
    url: str, tmp: Path, cpus: set[int] | None, ab: bool = False
) -> tuple[subprocess.Popen[str], int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPFLOW_")}
    env.update(
        SOPFLOW_DATABASE_URL=url,
        SOPFLOW_INSTANCE_DIR=str(tmp / "instance"),
        SOPFLOW_EXTERNAL_TOPICS="rest.*",
        SOPFLOW_WORKERS="0",
        PYTHONPATH=str(ROOT),
    )
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--serve-ab"]
        if ab
        else [sys.executable, "-m", "web.cli", "serve", "--no-workers", "--port", "0"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if "serving on http://127.0.0.1:" in line:
            print(line.strip().split("; database")[0])
            port = int(line.split("http://127.0.0.1:", 1)[1].split()[0])
            threading.Thread(target=proc.stderr.read, daemon=True).start()  # drain
            return proc, port
    raise SystemExit(f"sopflow serve did not start (exit {proc.wait()})")


def http_client(port: int, auth: tuple[str, str]) -> Callable[..., int]:
    """POST with the standard library on one keep-alive connection; answers the status."""
    conn = HTTPConnection("127.0.0.1", port)
    headers = {
        "Authorization": "Basic " + base64.b64encode(":".join(auth).encode()).decode(),
        "Content-Type": "application/json",
    }

    def post(path: str, body: bytes, extra: dict[str, str] | None = None) -> int:
        conn.request("POST", path, body=body, headers={**headers, **(extra or {})})
        answer = conn.getresponse()
        answer.read()
        return answer.status

    return post


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=400)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--in-thread", action="store_true", help="serve from a thread of this process")
    ap.add_argument(
        "--ab",
        action="store_true",
        help="also complete through Flask, without the fast path, in the same run",
    )
    ap.add_argument("--serve-ab", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument(
        "--pin",
        action="store_true",
        help="this process on CPU 0, the server on CPU 1 (as if each had its own machine)",
    )
    ap.add_argument(
        "--postgresql",
        metavar="ADMIN_URL",
        help="a new PostgreSQL database next to this one instead of SQLite "
        "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)",
    )
    args = ap.parse_args()
    if args.serve_ab:
        raise SystemExit(_serve_ab())
    tmp = Path(tempfile.mkdtemp(prefix="sopflow-bench-rest-"))
    url = _database(tmp, args.postgresql)
    print(f"database: {url.split('@')[-1]}")
    app, engine, actor = deployed(url, tmp)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cpu(s), "
        f"Python {platform.python_version()}"
    )
    stop: Callable[[], Any]
    if args.in_thread:
        srv = start_in_thread(app)
        port, stop = srv.port, srv.shutdown
        print(f"server: waitress in a thread of this process, {srv.threads} threads")
    else:
        pin = args.pin and len(os.sched_getaffinity(0)) >= 2
        if pin:
            client_cpu, server_cpu = sorted(os.sched_getaffinity(0))[:2]
            os.sched_setaffinity(0, {client_cpu})
            print(f"pinned: this process on CPU {client_cpu}, the server on CPU {server_cpu}")
        proc, port = _serve(url, tmp, {server_cpu} if pin else None, args.ab)

        def stop() -> None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)

    base = f"http://127.0.0.1:{port}/engine-rest"
    http = requests.Session()
    http.auth = ("bench", PASSWORD)
    http.get(f"{base}/version")
    t0 = time.perf_counter()
    for _ in range(100):
        http.get(f"{base}/version")
    print(f"empty round trip (GET /version): {(time.perf_counter() - t0) / 100 * 1000:.2f} ms")

    # ---- user tasks, interleaved; each side starts its own instances
    sides = ["engine", "requests", "http.client"]
    if args.ab and not args.in_thread:
        sides += ["requests, Flask path", "http.client, Flask path"]
    lat: dict[str, list[float]] = {side: [] for side in sides}
    complete = {"variables": {"approved": {"value": True, "type": "Boolean"}}}
    raw = http_client(port, ("bench", PASSWORD))
    body = json.dumps(complete).encode()
    for i in range(args.tasks * len(sides)):
        side = sides[i % len(sides)]
        if side == "engine":
            inst = engine.start(actor, "rest_user")
            task_id = engine.inbox(actor, instance_id=inst.id)[0].id
            t0 = time.perf_counter()
            engine.complete_task(actor, task_id, {"approved": True}, allow_unknown=True)
            lat[side].append(time.perf_counter() - t0)
            continue
        pid = http.post(f"{base}/process-definition/key/rest_user/start", json={}).json()["id"]
        [task] = http.get(f"{base}/task", params={"processInstanceId": pid}).json()
        path = f"/engine-rest/task/{task['id']}/complete"
        extra = {FLASK_PATH: "1"} if side.endswith("Flask path") else {}
        t0 = time.perf_counter()
        status = (
            http.post(f"http://127.0.0.1:{port}{path}", json=complete, headers=extra).status_code
            if side.startswith("requests")
            else raw(path, body, extra)
        )
        lat[side].append(time.perf_counter() - t0)
        assert status == 204, status
    print(f"user-task completion, {args.tasks} each")
    for k, v in lat.items():
        print(f"  {k:23s} p50 {pct(v, 0.5):7.2f} ms   p95 {pct(v, 0.95):7.2f} ms")
    added = {k: pct(v, 0.5) - pct(lat["engine"], 0.5) for k, v in lat.items() if k != "engine"}
    for k, v in added.items():
        print(f"  HTTP adds {v:.2f} ms p50 ({k})")

    # ---- external tasks
    def run(label: str, start: Callable[[], Any], one: Callable[[str], int]) -> None:
        for _ in range(args.jobs):
            start()
        done = [0] * args.workers

        def loop(n: int) -> None:
            while True:
                got = one(f"w{n}")
                if not got:
                    return
                done[n] += got

        threads = [threading.Thread(target=loop, args=(n,)) for n in range(args.workers)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        dt = time.perf_counter() - t0
        print(f"  {label:7s} {sum(done)} jobs in {dt:.2f} s = {sum(done) / dt:8.1f} jobs/s")

    def in_process(worker: str) -> int:
        jobs = engine.fetch_and_lock(worker, [TopicRequest(TOPIC, 10_000)], 1, agency="kudus")
        for j in jobs:
            engine.complete_external(worker, j.id, {"r": 1}, agency="kudus")
        return len(jobs)

    local = threading.local()

    def session() -> requests.Session:
        s = getattr(local, "s", None)
        if s is None:
            s = local.s = requests.Session()
            s.auth = ("bench", PASSWORD)
        return s

    def over_http(worker: str) -> int:
        s = session()
        jobs = s.post(
            f"{base}/external-task/fetchAndLock",
            json={
                "workerId": worker,
                "maxTasks": 1,
                "asyncResponseTimeout": 0,
                "topics": [{"topicName": TOPIC, "lockDuration": 10_000}],
            },
        ).json()
        for j in jobs:
            r = s.post(
                f"{base}/external-task/{j['id']}/complete",
                json={"workerId": worker, "variables": {"r": {"value": 1}}},
            )
            assert r.status_code == 204, r.text
        return len(jobs)

    print(f"external tasks, {args.jobs} jobs, {args.workers} workers")
    run("engine", lambda: engine.start(actor, "rest_ext"), in_process)
    run(
        "http",
        lambda: http.post(f"{base}/process-definition/key/rest_ext/start", json={}),
        over_http,
    )
    stop()
    for k, v in added.items():
        if k.endswith("Flask path"):
            continue
        verdict = "met" if v <= 2.0 else "NOT met"
        print(f"goal: HTTP adds <= 2 ms p50 per completion ({k}): {verdict}")
    if args.postgresql:
        _drop(args.postgresql, url, engine)


def _drop(admin_url: str, url: str, engine: Any) -> None:
    from sqlalchemy import create_engine, text

    engine.sessions.kw["bind"].dispose()
    name = url.rsplit("/", 1)[1]
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


if __name__ == "__main__":
    main()
