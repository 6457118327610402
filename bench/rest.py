"""REST benchmark: the Camunda REST API over HTTP against the same work done in-process.

Run from the repository root (prints numbers, asserts nothing; SQLite in a temp directory):

    .venv/bin/python bench/rest.py                   # 200 user tasks, 400 external tasks
    .venv/bin/python bench/rest.py --tasks 500 --jobs 1000 --workers 8

user tasks   latency of one completion: ``Engine.complete_task`` against
             ``POST /engine-rest/task/{id}/complete`` (HTTP Basic, keep-alive), p50 and p95,
             the two interleaved task by task so drift hits both alike.
external     throughput of fetchAndLock + complete with several workers (threads): the engine
             calls against the HTTP endpoints.

The goal is HTTP adding no more than 2 ms p50 per completion.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import requests
from werkzeug.serving import WSGIRequestHandler, make_server

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.actors import Actor  # noqa: E402
from engine.catalogue import AGENCIES  # noqa: E402
from engine.db import make_db, make_sessions, upgrade  # noqa: E402
from engine.models import Agency, User, UserGroup  # noqa: E402
from engine.runtime import TopicRequest  # noqa: E402
from web import create_app, passwords  # noqa: E402
from web import rest as rest_api  # noqa: E402

SMOKE = (ROOT / "tests" / "data" / "rest" / "rest_smoke.bpmn").read_bytes()
PASSWORD = "kata-sandi-rahasia-1"
TOPIC = "rest.work"


class KeepAlive(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_request(self, *args: object, **kwargs: object) -> None:
        pass


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=400)
    ap.add_argument("--workers", type=int, default=4)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sopflow-bench-rest-"))
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
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench-secret-key",
            "WORKERS": 0,
            "INSTANCE_DIR": tmp / "instance",
            "EXTERNAL_TOPICS": "rest.*",
        }
    )
    if "engine_rest" not in app.blueprints:
        rest_api.register(app)
    engine = app.extensions["sopflow"]
    srv = make_server("127.0.0.1", 0, app, threaded=True, request_handler=KeepAlive)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_port}/engine-rest"
    actor = Actor("bench", "kudus", frozenset({"admin"}))
    engine.deploy(actor, [("rest_smoke.bpmn", SMOKE)])
    http = requests.Session()
    http.auth = ("bench", PASSWORD)
    http.get(f"{base}/version")
    t0 = time.perf_counter()
    for _ in range(50):
        http.get(f"{base}/version")
    print(f"empty round trip (GET /version): {(time.perf_counter() - t0) / 50 * 1000:.2f} ms")

    # ---- user tasks, interleaved
    lat: dict[str, list[float]] = {"engine": [], "http": []}
    for i in range(args.tasks * 2):
        inst = engine.start(actor, "rest_user")
        task = engine.inbox(actor, instance_id=inst.id)[0]
        t0 = time.perf_counter()
        if i % 2:
            r = http.post(
                f"{base}/task/{task.id}/complete",
                json={"variables": {"approved": {"value": True, "type": "Boolean"}}},
            )
            assert r.status_code == 204, r.text
            lat["http"].append(time.perf_counter() - t0)
        else:
            engine.complete_task(actor, task.id, {"approved": True}, allow_unknown=True)
            lat["engine"].append(time.perf_counter() - t0)
    print(f"user-task completion, {args.tasks} each")
    for k, v in lat.items():
        print(f"  {k:7s} p50 {pct(v, 0.5):7.2f} ms   p95 {pct(v, 0.95):7.2f} ms")
    print(f"  HTTP adds {pct(lat['http'], 0.5) - pct(lat['engine'], 0.5):.2f} ms p50")

    # ---- external tasks
    def run(label: str, one: Callable[[str], int]) -> None:
        for _ in range(args.jobs):
            engine.start(actor, "rest_ext")
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

    def over_http(worker: str) -> int:
        s = getattr(local, "s", None)
        if s is None:
            s = local.s = requests.Session()
            s.auth = ("bench", PASSWORD)
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
    run("engine", in_process)
    run("http", over_http)
    srv.shutdown()


if __name__ == "__main__":
    main()
