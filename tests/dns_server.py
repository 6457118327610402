"""A real BIND ``named`` for tests and benchmarks, run from a temporary directory.

Plain module (no pytest import) so that any test package and ``bench/`` can use it::

    server = NamedServer(tmp_dir)
    server.add_zone("kuduskab.go.id", "www 300 IN A 192.0.2.1\\n")            # dynamic, TSIG
    server.add_zone("tapinkab.go.id", dynamic=False)                          # for zone files
    server.start()                      # named -c conf -g -p PORT on a free loopback port
    server.agency_settings("kuduskab.go.id")          # Agency.settings["dns"] for rfc2136
    server.reset_zone("kuduskab.go.id", "...")        # a fresh zone file, rndc reconfig
    server.stop()

``start`` raises :class:`NamedUnavailable` with the reason (named missing, or its log) so a
caller can skip or fail. Zones added while the server runs are loaded with ``rndc reconfig``.
The TSIG key ``sopflow-test`` (hmac-sha256, random secret) may update every dynamic zone.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
DEFAULT_KEY = "sopflow-test"
SOA_NS_RECORDS = "ns1 300 IN A 127.0.0.1\n"  # in every zone, beside the SOA and NS

# The zones the handler tests use (tests/handlers/conftest.py): agency kudus on the rfc2136
# provider, agency tapin on the zonefile provider, both starting from BASE_RECORDS.
RFC2136_ZONE = "kuduskab.go.id"
ZONEFILE_ZONE = "tapinkab.go.id"
BASE_RECORDS = (
    "www 300 IN A 192.0.2.1\n"
    "mail 300 IN A 192.0.2.2\n"
    "@ 300 IN MX 10 mail\n"
    "existing 300 IN A 192.0.2.3\n"  # present at the server, unknown to the registry
    "mx-only 300 IN MX 10 mail\n"  # data of an unmanaged type only
)


class NamedUnavailable(RuntimeError):
    """named is not installed or did not start; the message says why."""


def find_program(name: str) -> str | None:
    return shutil.which(name) or next(
        (
            str(p)
            for d in ("/usr/sbin", "/sbin", "/usr/local/sbin")
            if os.access(p := Path(d) / name, os.X_OK)
        ),
        None,
    )


def free_port() -> int:
    """A port free for both UDP and TCP on the loopback address."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind((HOST, 0))
            port = u.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind((HOST, port))
                except OSError:
                    continue
                return port
    raise NamedUnavailable("no free loopback port")


def new_secret() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass
class ZoneSpec:
    name: str
    path: Path
    dynamic: bool
    key: str | None


class NamedServer:
    def __init__(self, root: str | os.PathLike[str], *, host: str = HOST) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.host = host
        self.named = find_program("named")
        self.rndc_program = find_program("rndc")
        self.keys: dict[str, tuple[str, str]] = {}
        self.zones: dict[str, ZoneSpec] = {}
        self.port: int | None = None
        self.rndc_port: int | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self._serial = int(time.time()) % 1_000_000_000
        self._generation = 0
        self._rndc_secret = new_secret()
        self.key_name = DEFAULT_KEY
        self.key_secret = self.add_key(DEFAULT_KEY)
        self.log_path = self.root / "named.log"

    # ------------------------------------------------------------------ configuration
    def add_key(self, name: str, secret: str | None = None, algorithm: str = "hmac-sha256") -> str:
        secret = secret or new_secret()
        self.keys[name] = (algorithm, secret)
        if self.running:
            self._write_conf()
            self.rndc("reconfig")
        return secret

    def served_serial(self, zone: str) -> int | None:
        r = self._answers(zone + ".", "SOA") if self.running else None
        return int(r.answer[0][0].serial) if r is not None and r.answer else None

    def zone_text(self, zone: str, records: str = "") -> str:
        """A fresh zone file's text; its serial is above anything served so far."""
        self._serial = max(self._serial, self.served_serial(zone) or 0) + 1000
        return (
            f"$ORIGIN {zone}.\n$TTL 300\n"
            f"@ 300 IN SOA ns1.{zone}. hostmaster.{zone}. {self._serial} 3600 600 86400 300\n"
            f"@ 300 IN NS ns1.{zone}.\n{SOA_NS_RECORDS}{records}"
        )

    def add_zone(
        self, zone: str, records: str = "", *, dynamic: bool = True, key: str | None = DEFAULT_KEY
    ) -> Path:
        zone = zone.rstrip(".").lower()
        path = self.root / f"{zone}.zone"
        path.write_text(self.zone_text(zone, records))
        with contextlib.suppress(FileNotFoundError):
            (self.root / f"{zone}.zone.jnl").unlink()
        self.zones[zone] = ZoneSpec(zone, path, dynamic, key if dynamic else None)
        if self.running:
            self._write_conf()
            self.rndc("reconfig")
            self._wait_zone(zone, self._serial)
        return path

    def reset_zone(self, zone: str, records: str = "") -> Path:
        """Back to the base records plus ``records``, from a new zone file (and so a new, empty
        journal) that a running server loads with ``rndc reconfig``; the old file and its
        ``.jnl`` are deleted. (``rndc freeze``/``thaw`` races with the dump of the journal.)"""
        spec = self.zones[zone]
        old = spec.path
        self._generation += 1
        spec.path = self.root / f"{zone}.{self._generation}.zone"
        spec.path.write_text(self.zone_text(zone, records))
        if self.running:
            self._write_conf()
            self.rndc("reconfig")
            self._wait_zone(zone, self._serial)
        for f in (old, old.with_name(old.name + ".jnl")):
            with contextlib.suppress(FileNotFoundError):
                f.unlink()
        return spec.path

    def _write_conf(self) -> Path:
        assert self.port and self.rndc_port
        lines = [
            "options {",
            f'  directory "{self.root}";',
            f'  pid-file "{self.root}/named.pid";',
            f'  session-keyfile "{self.root}/session.key";',
            f'  managed-keys-directory "{self.root}";',
            f"  listen-on port {self.port} {{ {self.host}; }};",
            "  listen-on-v6 { none; };",
            "  recursion no;",
            "  notify no;",
            "  dnssec-validation no;",
            "  allow-transfer { none; };",
            "};",
            f'key "rndc-key" {{ algorithm hmac-sha256; secret "{self._rndc_secret}"; }};',
            f"controls {{ inet {self.host} port {self.rndc_port} allow {{ {self.host}; }} "
            'keys { "rndc-key"; }; };',
        ]
        for name, (alg, secret) in self.keys.items():
            lines.append(f'key "{name}" {{ algorithm {alg}; secret "{secret}"; }};')
        for z in self.zones.values():
            update = f' allow-update {{ key "{z.key}"; }};' if z.dynamic and z.key else ""
            lines.append(f'zone "{z.name}" {{ type primary; file "{z.path}";{update} }};')
        conf = self.root / "named.conf"
        conf.write_text("\n".join(lines) + "\n")
        (self.root / "rndc.conf").write_text(
            f'key "rndc-key" {{ algorithm hmac-sha256; secret "{self._rndc_secret}"; }};\n'
            f'options {{ default-key "rndc-key"; default-server {self.host}; '
            f"default-port {self.rndc_port}; }};\n"
        )
        return conf

    # ------------------------------------------------------------------ process
    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 15.0) -> NamedServer:
        if self.running:
            return self
        if not self.named:
            raise NamedUnavailable(
                "BIND named is not installed (Debian: apt-get install -y bind9 bind9-utils)"
            )
        if not self.rndc_program:
            raise NamedUnavailable("rndc is not installed (Debian package bind9)")
        self.port = self.port or free_port()
        self.rndc_port = self.rndc_port or free_port()
        conf = self._write_conf()
        log = self.log_path.open("ab")
        try:
            self.proc = subprocess.Popen(
                [self.named, "-c", str(conf), "-g", "-p", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        try:
            for zone in self.zones:
                self._wait_zone(zone, None, deadline=deadline)
            if not self.zones:
                self._wait(lambda: self._answers("version.bind", "TXT", "CH"), deadline)
        except NamedUnavailable:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    def restart(self) -> NamedServer:
        self.stop()
        return self.start()

    def __enter__(self) -> NamedServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    # ------------------------------------------------------------------ helpers
    def rndc(self, *args: str) -> str:
        run = subprocess.run(
            self.rndc_command(*args), capture_output=True, text=True, timeout=30, check=False
        )
        if run.returncode != 0:
            raise NamedUnavailable(f"rndc {' '.join(args)} failed: {run.stdout}{run.stderr}")
        return run.stdout

    def rndc_command(self, *args: str) -> list[str]:
        """argv of an rndc call to this server (e.g. a zone file provider's reload command)."""
        assert self.rndc_program
        return [self.rndc_program, "-c", str(self.root / "rndc.conf"), *args]

    def _answers(self, name: str, rdtype: str, rdclass: str = "IN") -> Any:
        import dns.message
        import dns.query

        if not self.running:
            raise NamedUnavailable(f"named exited:\n{self.log_tail()}")
        q = dns.message.make_query(name, rdtype, rdclass)
        try:
            return dns.query.udp(q, self.host, port=self.port, timeout=0.3)
        except Exception:  # noqa: BLE001 - not up yet
            return None

    def _wait(self, probe: Any, deadline: float) -> Any:
        while True:
            got = probe()
            if got:
                return got
            if time.monotonic() > deadline:
                raise NamedUnavailable(f"named did not become ready:\n{self.log_tail()}")
            time.sleep(0.03)

    def _wait_zone(self, zone: str, serial: int | None, deadline: float | None = None) -> None:
        import dns.rcode

        def probe() -> bool:
            r = self._answers(zone + ".", "SOA")
            if r is None or r.rcode() != dns.rcode.NOERROR or not r.answer:
                return False
            return serial is None or r.answer[0][0].serial == serial

        self._wait(probe, deadline or time.monotonic() + 10)

    def query(self, name: str, rdtype: str) -> list[str]:
        """The values of ``name``/``rdtype`` as the server answers them (sorted)."""
        import dns.name
        import dns.rdatatype

        r = self._answers(name if name.endswith(".") else name + ".", rdtype)
        if r is None:
            raise NamedUnavailable("no answer")
        owner = dns.name.from_text(name)
        return sorted(
            rd.to_text()
            for rrset in r.answer
            if rrset.name == owner and rrset.rdtype == dns.rdatatype.from_text(rdtype)
            for rd in rrset
        )

    def agency_settings(self, zone: str, provider: str = "rfc2136", **extra: Any) -> dict[str, Any]:
        """``Agency.settings["dns"]`` pointing at this server (no secret: see ``key_secret``)."""
        spec = self.zones[zone]
        cfg: dict[str, Any] = {
            "provider": provider,
            "zone": zone,
            "server": self.host,
            "port": self.port,
            "timeout": 2,
        }
        if provider == "rfc2136":
            cfg["tsig_key_name"] = spec.key or self.key_name
        else:
            cfg["zone_file"] = str(spec.path)
            cfg["reload_command"] = self.rndc_command("reload", zone)
        cfg.update(extra)
        return cfg
