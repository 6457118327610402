"""The production HTTP server of ``sopflow serve`` (waitress, pure Python, from PyPI), also what
the REST tests run, so they exercise what is deployed.

Threads: long-polling ``fetchAndLock`` requests hold a thread while they wait, so at most
``threads - RESERVED`` of them may wait at once (``REST_MAX_LONG_POLLS``, enforced in
external_tasks.py, where one more answers ``[]`` at once); the rest of the threads always serve
the browser UI and the other REST calls. HTTP/1.1 keep-alive is on (waitress's default)."""

from __future__ import annotations

import socket
import threading
from typing import Any

from flask import Flask

THREADS = 32
RESERVED = 8  # threads long polls can never take


class Server:
    def __init__(self, app: Flask, sock: socket.socket, *, threads: int = THREADS) -> None:
        from waitress.server import create_server

        threads = max(int(threads), 2)
        limit = max(threads - RESERVED, 1) if threads > RESERVED else max(threads // 2, 1)
        app.config["REST_MAX_LONG_POLLS"] = limit
        self.threads = threads
        self.sock = sock
        self.port: int = sock.getsockname()[1]
        self._server: Any = create_server(
            app,
            sockets=[sock],
            threads=threads,
            connection_limit=max(1000, threads * 4),
            channel_timeout=300,  # idle keep-alive connections; a request in progress stays
            ident="sopflow",
            clear_untrusted_proxy_headers=True,
        )

    def serve_forever(self) -> None:
        self._server.run()

    def shutdown(self) -> None:
        """Stop from another thread: first the worker threads end (a request in progress gets
        two seconds), then the loop thread closes every socket itself (a thunk run through
        waitress's trigger; closing them from here could pull a descriptor out from under its
        select), sees none left and returns."""
        from waitress import wasyncore

        server = self._server
        server.task_dispatcher.shutdown(timeout=2)
        sockets = getattr(server, "_map", None) or getattr(server, "map", {})
        closed = threading.Event()

        def close_all() -> None:
            wasyncore.close_all(sockets, ignore_all=True)
            closed.set()

        try:
            server.trigger.pull_trigger(close_all)
        except (AttributeError, OSError):
            close_all()
        if not closed.wait(5):
            close_all()


def listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=1024)


def start_in_thread(app: Flask, host: str = "127.0.0.1", threads: int = THREADS) -> Server:
    """A server on a free loopback port, running in a daemon thread (tests, benchmarks)."""
    server = Server(app, listen(host, 0), threads=threads)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="sopflow-http")
    thread.start()
    server.thread = thread  # type: ignore[attr-defined]
    return server
