"""Lost races are the client's concern: N completions of one task at the same moment, through
one server or through two server processes on one database, give exactly one 204 and 409 or
404 for the others, never a 500 (Camunda would answer 500 OptimisticLockingException)."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from rest_support import PASSWORD

from engine.errors import Conflict, NotLockedByWorker, Suspended, TaskAlreadyClaimed
from web.rest.errors import error_parts

ROOT = Path(__file__).resolve().parents[2]
N = 12


def _start(server: str, user: str) -> str:
    r = requests.post(
        f"{server}/process-definition/key/rest_user/start",
        json={},
        auth=(user, PASSWORD),
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


def _task(server: str, user: str, instance_id: str) -> str:
    r = requests.get(
        f"{server}/task",
        params={"processInstanceId": instance_id},
        auth=(user, PASSWORD),
        timeout=10,
    )
    (task,) = r.json()
    return str(task["id"])


def _race(servers: list[str], user: str, task_id: str) -> list[tuple[int, dict[str, Any]]]:
    """N threads, each with its own connection, released together at one barrier."""
    barrier = threading.Barrier(N)

    def complete(i: int) -> tuple[int, dict[str, Any]]:
        session = requests.Session()
        session.auth = (user, PASSWORD)
        server = servers[i % len(servers)]
        session.get(f"{server}/version", timeout=10)  # connected (and credentials cached)
        barrier.wait(10)
        r = session.post(f"{server}/task/{task_id}/complete", json={}, timeout=30)
        return r.status_code, (r.json() if r.content else {})

    with ThreadPoolExecutor(N) as pool:
        return list(pool.map(complete, range(N)))


def _check(answers: list[tuple[int, dict[str, Any]]]) -> None:
    statuses = sorted(status for status, _ in answers)
    assert statuses.count(204) == 1, answers
    assert set(statuses) <= {204, 404, 409}, answers
    for status, body in answers:
        if status == 409:
            assert body["type"] == "OptimisticLockingException", body
        elif status == 404:
            assert body["type"] == "InvalidRequestException", body


def test_concurrent_completions_through_one_server(
    server: str, users: dict[str, str], deployed: dict[str, Any]
) -> None:
    for _ in range(2):  # a cold and a warm workflow cache
        task = _task(server, users["officer"], _start(server, users["officer"]))
        _check(_race([server], users["officer"], task))


# ------------------------------------------------------------------ a second server process
def _lines(proc: subprocess.Popen[str]) -> queue.Queue[str]:
    q: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            q.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return q


@pytest.fixture
def second_server(db_url: str, tmp_path: Path, live: Any) -> Iterator[str]:
    """``sopflow serve`` in its own process on the same database as ``live``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPFLOW_")}
    env.update(
        PYTHONPATH=str(ROOT),
        SOPFLOW_DATABASE_URL=db_url,
        SOPFLOW_SECRET_KEY="test-secret-key-for-rest",
        SOPFLOW_INSTANCE_DIR=str(tmp_path / "second"),
        SOPFLOW_EXTERNAL_TOPICS="rest.*",
        SOPFLOW_WORKERS="0",
    )
    env.pop("PORT", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "web.cli",
            "serve",
            "--no-workers",
            "--port",
            "0",
            "--threads",
            "16",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    lines = _lines(proc)
    try:
        port = _port(lines, proc)
        yield f"http://127.0.0.1:{port}/engine-rest"
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        logged = []
        while not lines.empty():
            logged.append(lines.get())
        assert not any("Traceback" in line for line in logged), "".join(logged)


def _port(lines: queue.Queue[str], proc: subprocess.Popen[str]) -> int:
    deadline = time.monotonic() + 60
    seen: list[str] = []
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        seen.append(line)
        if "serving on http://127.0.0.1:" in line:
            return int(line.split("http://127.0.0.1:", 1)[1].split()[0])
    raise AssertionError(f"the second server did not start: {''.join(seen)}")


def test_concurrent_completions_through_two_server_processes(
    server: str, second_server: str, users: dict[str, str], deployed: dict[str, Any]
) -> None:
    for first in (server, second_server):  # the instance warm in one process, then the other
        task = _task(first, users["officer"], _start(first, users["officer"]))
        _check(_race([server, second_server], users["officer"], task))


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (Conflict("x"), "OptimisticLockingException"),
        (TaskAlreadyClaimed("x"), "TaskAlreadyClaimedException"),
        (Suspended("x"), "SuspendedEntityInteractionException"),
        (NotLockedByWorker("x"), "BadUserRequestException"),
    ],
)
def test_every_conflict_is_a_409_with_camundas_type(error: Conflict, expected: str) -> None:
    assert error_parts(error) == (409, "x", expected)
