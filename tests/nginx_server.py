"""A real nginx for tests, run from a temporary directory on a free loopback port.

Plain module (no pytest import), like ``dns_server.py``::

    server = NginxServer(tmp_dir).start()   # nginx -p ROOT -c ROOT/nginx.conf, daemon off
    server.hosting_settings()               # Agency.settings["hosting"] pointing at it
    server.get("dinkes.kuduskab.go.id")     # (status, headers, body) with that Host
    server.stop()

The main configuration has its pid file, logs and temp paths under the root, a default server
that answers 404 to unknown names, and ``include ROOT/sites/*.conf``; sites go under
``ROOT/www``. ``start`` raises :class:`NginxUnavailable` with the reason (nginx missing, or its
error log) so a caller can skip or fail.
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dns_server import HOST, find_program, free_port


class NginxUnavailable(RuntimeError):
    """nginx is not installed or did not start; the message says why."""


class NginxServer:
    def __init__(self, root: str | os.PathLike[str], *, host: str = HOST) -> None:
        self.root = Path(root).resolve()
        self.host = host
        self.binary = find_program("nginx")
        self.sites = self.root / "sites"
        self.web_root = self.root / "www"
        self.conf = self.root / "nginx.conf"
        self.error_log = self.root / "error.log"
        self.pid_file = self.root / "nginx.pid"
        self.port: int | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        for d in (self.sites, self.web_root, self.root / "tmp"):
            d.mkdir(parents=True, exist_ok=True)

    def _write_conf(self) -> None:
        r = self.root
        mime = Path("/etc/nginx/mime.types")
        types = f"include {mime};" if mime.exists() else "types { text/html html htm; }"
        user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read the tmp tree
        self.conf.write_text(
            f"{user}worker_processes 1;\ndaemon off;\npid {self.pid_file};\n"
            f"error_log {self.error_log} notice;\n"
            "events { worker_connections 64; }\n"
            "http {\n"
            f"  {types}\n  default_type application/octet-stream;\n"
            f"  access_log {r}/access.log;\n"
            "  server_names_hash_bucket_size 128;\n"
            + "".join(
                f"  {kind}_temp_path {r}/tmp/{kind};\n"
                for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
            )
            + f"  server {{ listen {self.host}:{self.port} default_server; server_name _;\n"
            "           return 404 'default server\\n'; }\n"
            f"  include {self.sites}/*.conf;\n"
            "}\n"
        )

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def command(self, *args: str) -> list[str]:
        assert self.binary
        return [self.binary, "-p", str(self.root), "-c", str(self.conf), *args]

    def start(self, timeout: float = 10.0) -> NginxServer:
        if self.running:
            return self
        if not self.binary:
            raise NginxUnavailable("nginx is not installed (Debian: apt-get install -y nginx)")
        self.port = self.port or free_port()
        self._write_conf()
        with (self.root / "nginx.out").open("ab") as out:
            self.proc = subprocess.Popen(
                [*self.command(), "-e", str(self.error_log)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout
        while True:
            if not self.running:
                self.proc = None
                raise NginxUnavailable(f"nginx exited:\n{self.log_tail()}")
            try:
                status, _h, _b = self.get("unknown.invalid")
                if status == 404:
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise NginxUnavailable(f"nginx did not become ready:\n{self.log_tail()}")
            time.sleep(0.03)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # fast shutdown
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    def __enter__(self) -> NginxServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def log_tail(self, lines: int = 30) -> str:
        text = ""
        for f in (self.error_log, self.root / "nginx.out"):
            if f.exists():
                text += f.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    # ------------------------------------------------------------------ helpers
    def hosting_settings(self, **extra: Any) -> dict[str, Any]:
        """``Agency.settings["hosting"]`` for this server (validated and reloaded by nginx)."""
        cfg: dict[str, Any] = {
            "server_type": "nginx",
            "web_root": str(self.web_root),
            "nginx_sites_dir": str(self.sites),
            "listen": f"{self.host}:{self.port}",
            "nginx_conf": str(self.conf),
            "nginx_prefix": str(self.root),
        }
        cfg.update(extra)
        return cfg

    def get(
        self, host: str, path: str = "/", timeout: float = 3.0
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request("GET", path, headers={"Host": host, "Connection": "close"})
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def workers(self) -> list[int]:
        """The master's child processes (one worker when no reload is in progress)."""
        if not self.running:
            return []
        assert self.proc is not None
        out = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == self.proc.pid:
                out.append(int(stat.parent.name))
        return out

    def wait_for(
        self,
        host: str,
        ok: Callable[[int, dict[str, str], bytes], bool] = lambda s, h, b: s == 200,
        path: str = "/",
        timeout: float = 10.0,
    ) -> tuple[int, dict[str, str], bytes]:
        """GET until ``ok`` holds and the reload is over: after ``nginx -s reload`` the old
        worker may still take a connection or two until it exits."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.get(host, path)
            if (ok(*got) and len(self.workers()) == 1) or time.monotonic() > deadline:
                return got
            time.sleep(0.03)
