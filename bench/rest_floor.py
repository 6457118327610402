"""What any HTTP round trip costs on this machine, before sopflow does anything: the floor under
bench/rest.py's "HTTP adds". Prints numbers, asserts nothing (~30 s):

    .venv/bin/python bench/rest_floor.py

tcp          a 200-byte ping-pong between two processes on loopback (the kernel's part)
trivial app  waitress (as ``sopflow serve`` runs it) with a WSGI app that answers 204 at once,
             from ``http.client`` and from ``requests`` (the Camunda clients' library)
busy app     the same, the app computing for 4 ms first: what the client's wait costs when it
             has to wake up again (the server's answer time subtracted)
idle         the same ``Engine.complete_task`` in this process right away, and after this
             process slept 5 ms first, as a server does between requests
"""

from __future__ import annotations

import http.client
import os
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
N = 2000


def p50(values: list[float]) -> float:
    return sorted(values)[len(values) // 2] * 1000


def forked(serve: Callable[[], None]) -> int:
    pid = os.fork()
    if pid == 0:
        try:
            serve()
        finally:
            os._exit(0)
    return pid


def tcp() -> None:
    srv = socket.create_server(("127.0.0.1", 0))

    def echo() -> None:
        conn, _ = srv.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while data := conn.recv(4096):
            conn.sendall(data)

    pid = forked(echo)
    c = socket.create_connection(srv.getsockname())
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    times = []
    for _ in range(N):
        t0 = time.perf_counter()
        c.sendall(b"x" * 200)
        c.recv(4096)
        times.append(time.perf_counter() - t0)
    c.close()
    os.waitpid(pid, 0)
    print(f"tcp ping-pong between processes      p50 {p50(times):6.3f} ms")


def waitress_app(busy_s: float) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < busy_s:
            pass
        took = time.perf_counter() - t0
        start_response("204 No Content", [("X-App-Seconds", f"{took:.6f}")])
        return []

    return app


def http_round_trips(busy_s: float) -> None:
    from waitress.server import create_server

    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    pid = forked(lambda: create_server(waitress_app(busy_s), sockets=[sock], threads=32).run())
    sock.close()
    import requests

    conn = http.client.HTTPConnection("127.0.0.1", port)
    session = requests.Session()
    body = b'{"variables": {"approved": {"value": true, "type": "Boolean"}}}'
    headers = {"Content-Type": "application/json"}
    outside: dict[str, list[float]] = {"http.client": [], "requests": []}
    n = N if not busy_s else 300
    for i in range(n * 2):
        t0 = time.perf_counter()
        if i % 2:
            r = session.post(f"http://127.0.0.1:{port}/", data=body, headers=headers)
            took, key = float(r.headers["X-App-Seconds"]), "requests"
        else:
            conn.request("POST", "/", body=body, headers=headers)
            answer = conn.getresponse()
            answer.read()
            took, key = float(answer.headers["X-App-Seconds"]), "http.client"
        outside[key].append(time.perf_counter() - t0 - took)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    label = "trivial app" if not busy_s else f"app busy {busy_s * 1000:.0f} ms"
    for key, times in outside.items():
        print(f"waitress, {label}, {key:11s}  p50 {p50(times):6.3f} ms outside the app")


def idle() -> None:
    from bench.rest import _database, deployed

    tmp = Path(tempfile.mkdtemp(prefix="sopflow-bench-floor-"))
    _, engine, actor = deployed(_database(tmp), tmp)
    times: dict[int, list[float]] = {0: [], 5: []}
    for i in range(600):
        slept = (0, 5)[i % 2]
        inst = engine.start(actor, "rest_user")
        task_id = engine.inbox(actor, instance_id=inst.id)[0].id
        time.sleep(slept / 1000)
        t0 = time.perf_counter()
        engine.complete_task(actor, task_id, {"approved": True}, allow_unknown=True)
        times[slept].append(time.perf_counter() - t0)
    for slept, values in times.items():
        print(f"complete_task in-process, idle {slept} ms before  p50 {p50(values):6.3f} ms")


def main() -> None:
    print(f"machine: {os.cpu_count()} cpu(s), load average {os.getloadavg()[0]:.2f}")
    tcp()
    http_round_trips(0.0)
    http_round_trips(0.004)
    idle()


if __name__ == "__main__":
    main()
