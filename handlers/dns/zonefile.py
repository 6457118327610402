"""The embedded default provider: the agency's zone file, edited with dnspython.

A write takes the zone's file lock, re-reads the file, checks that the affected names still hold
what the plan expects (compare-and-swap), applies the plan, bumps the SOA serial, validates the
result (dnspython's origin checks, CNAME exclusivity, and ``named-checkzone`` when it is
installed), writes a temporary file next to the zone, fsyncs it and renames it over the zone
file. Any failure before the rename leaves the old file untouched; the rename itself is atomic.
An optional reload command (e.g. ``rndc reload <zone>``) tells a server that serves the file;
then verification queries that server, otherwise it re-reads the file.

Comments in the zone file are not kept (dnspython writes the zone back in its own layout).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import dns.exception
import dns.name
import dns.node
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.zone
from filelock import FileLock
from filelock import Timeout as LockTimeout

from .base import DnsProvider, Plan
from .client import DnsClient
from .errors import DnsConfigError, DnsConflict, ZoneBusy, ZoneValidationError
from .records import MANAGED_TYPES, Records, RRset, canonical, from_rdataset

INITIAL_ZONE = """$TTL {ttl}
@ IN SOA {ns} {hostmaster} {serial} 3600 900 1209600 300
@ IN NS {ns}
"""


def next_serial(old: int, today: date) -> int:
    """YYYYMMDDnn when that moves forward, else old + 1 (RFC 1982 arithmetic, 32 bits)."""
    dated = int(today.strftime("%Y%m%d")) * 100
    if old < dated and dated - old < 2**31:
        return dated
    return (old + 1) % 2**32


class ZonefileProvider(DnsProvider):
    kind = "zonefile"

    def __init__(
        self,
        zone: str,
        *,
        path: str | os.PathLike[str],
        server: str | None = None,
        port: int = 53,
        reload_command: Sequence[str] | None = None,
        checkzone: str | bool | None = "auto",
        lock_timeout: float = 30.0,
        timeout: float = 3.0,
        create_missing: bool = False,
        nameserver: str = "localhost.",
        today: Callable[[], date] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(zone, **kwargs)
        self.path = Path(path)
        self.client = (
            DnsClient(server, port, zone=self.zone, timeout=timeout, agency=self.agency)
            if server
            else None
        )
        self.reload_command = [str(a) for a in reload_command] if reload_command else None
        if checkzone in (None, False, "", "off", "no", "false"):
            self.checkzone: str | None = None
        elif checkzone in (True, "auto"):
            self.checkzone = shutil.which("named-checkzone") or (
                "/usr/sbin/named-checkzone"
                if os.access("/usr/sbin/named-checkzone", os.X_OK)
                else None
            )
        else:
            self.checkzone = str(checkzone)
        self.lock_timeout = float(lock_timeout)
        self.create_missing = create_missing
        self.nameserver = nameserver if nameserver.endswith(".") else nameserver + "."
        self.today = today or (lambda: datetime.now(UTC).date())
        self._cache: tuple[tuple[int, int, int], dns.zone.Zone] | None = None
        # one lock object per provider: re-entrant within a thread, exclusive across threads
        # and processes (each provider opens its own descriptor of the lock file)
        self._lock = FileLock(str(self.path) + ".lock")

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "path": str(self.path),
            "server": self.client.where if self.client else None,
        }

    # ------------------------------------------------------------------ the file
    def _ctx(self, record: str | None = None) -> dict[str, Any]:
        return {"zone": self.zone, "agency": self.agency, "record": record, "path": str(self.path)}

    def _ensure(self) -> None:
        if self.path.exists() or not self.create_missing:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._locked():
            if not self.path.exists():
                text = INITIAL_ZONE.format(
                    ttl=self.default_ttl,
                    ns=self.nameserver,
                    hostmaster=f"hostmaster.{self.zone}.",
                    serial=next_serial(0, self.today()),
                )
                self._write_text(text)

    def load(self, fresh: bool = False) -> dns.zone.Zone:
        """The zone as the file has it now (parsed once per version of the file)."""
        self._ensure()
        try:
            st = self.path.stat()
        except FileNotFoundError:
            raise DnsConfigError(
                f"Zone file {self.path} of zone {self.zone} does not exist",
                f"Berkas zona {self.path} untuk zona {self.zone} tidak ada",
                **self._ctx(),
            )
        sig = (st.st_ino, st.st_mtime_ns, st.st_size)
        if not fresh and self._cache and self._cache[0] == sig:
            return self._cache[1]
        try:
            zone = dns.zone.from_file(
                str(self.path), origin=self.origin, relativize=True, check_origin=True
            )
        except (dns.exception.DNSException, UnicodeDecodeError) as e:
            raise ZoneValidationError(
                f"Zone file {self.path} cannot be read: {e}",
                f"Berkas zona {self.path} tidak dapat dibaca: {e}",
                **self._ctx(),
            )
        self._cache = (sig, zone)
        return zone

    @contextlib.contextmanager
    def _locked(self) -> Any:
        lock = self._lock
        try:
            lock.acquire(timeout=self.lock_timeout)
        except LockTimeout:
            raise ZoneBusy(
                f"Zone file {self.path} is locked by another writer for more than "
                f"{self.lock_timeout:g} s",
                f"Berkas zona {self.path} dikunci penulis lain lebih dari "
                f"{self.lock_timeout:g} dtk",
                **self._ctx(),
            )
        try:
            yield
        finally:
            lock.release()

    def _managed(self, node: dns.node.Node | None, name: str) -> Records:
        if node is None:
            return ()
        return canonical(
            from_rdataset(name, rds, self.origin)
            for rds in node.rdatasets
            if dns.rdatatype.to_text(rds.rdtype) in MANAGED_TYPES
        )

    # ------------------------------------------------------------------ reads
    def _records(self, name: str) -> Iterable[RRset]:
        return self._managed(self.load().get_node(name), name)

    def _name_exists(self, name: str) -> bool:
        if self.client is not None:
            return self.client.name_exists(self.fqdn(name) + ".")
        zone = self.load()
        owner = dns.name.from_text(name, None)
        for n, node in zone.nodes.items():
            if (n == owner and len(node.rdatasets)) or (n != owner and n.is_subdomain(owner)):
                return True
        return False

    def _query_back(self, name: str, types: Iterable[str]) -> Iterable[RRset]:
        wanted = set(types)
        if self.client is not None and self.reload_command:
            out = []
            for t in sorted(wanted):
                rrset = self.client.rrset(self.fqdn(name) + ".", t)
                if rrset is not None:
                    out.append(from_rdataset(name, rrset))
            return out
        return [
            r
            for r in self._managed(self.load(fresh=True).get_node(name), name)
            if r.rtype in wanted
        ]

    # ------------------------------------------------------------------ writes
    def _apply(self, plan: Plan) -> None:
        with self._locked():
            zone = self.load(fresh=True)
            for name in plan.names:
                node = zone.get_node(name)
                fq = self.fqdn(name)
                if name in plan.must_not_exist and node is not None and len(node.rdatasets):
                    raise DnsConflict(
                        f"{fq} is already in use in zone file {self.path}",
                        f"{fq} sudah dipakai di berkas zona {self.path}",
                        **self._ctx(fq),
                    )
                current = self._managed(node, name)
                if current != plan.before_of(name):
                    raise DnsConflict(
                        f"{fq} changed in zone file {self.path} since it was read",
                        f"{fq} berubah di berkas zona {self.path} sejak dibaca",
                        **self._ctx(fq),
                    )
                others: set[str] = set()
                if node is not None:
                    others = {dns.rdatatype.to_text(r.rdtype) for r in node.rdatasets}
                    others -= set(MANAGED_TYPES)
                after = plan.after_of(name)
                if others and any(r.rtype == "CNAME" for r in after):
                    raise ZoneValidationError(
                        f"{fq}: a CNAME cannot coexist with its {', '.join(sorted(others))} "
                        "records",
                        f"{fq}: CNAME tidak boleh bersama rekaman {', '.join(sorted(others))}",
                        **self._ctx(fq),
                    )
            for name in plan.names:
                for t in plan.types_of(name):
                    zone.delete_rdataset(name, t)
                for r in plan.after_of(name):
                    zone.replace_rdataset(name, r.to_rdataset(self.origin))
            self._bump_serial(zone)
            self._validate(zone)
            self._write_zone(zone)
        self._reload()

    def _bump_serial(self, zone: dns.zone.Zone) -> None:
        soa_set = zone.find_rdataset("@", "SOA")
        soa = soa_set[0]
        new = soa.replace(serial=next_serial(int(soa.serial), self.today()))
        zone.replace_rdataset("@", dns.rdataset.from_rdata(soa_set.ttl, new))

    def _validate(self, zone: dns.zone.Zone) -> None:
        try:
            zone.check_origin()
        except dns.exception.DNSException as e:
            raise ZoneValidationError(
                f"Zone {self.zone} would be invalid: {e}",
                f"Zona {self.zone} akan menjadi tidak sah: {e}",
                **self._ctx(),
            )
        for name, node in zone.nodes.items():
            types = {dns.rdatatype.to_text(r.rdtype) for r in node.rdatasets}
            types -= {"RRSIG", "NSEC", "NSEC3"}
            if "CNAME" in types and len(types) > 1:
                fq = self.fqdn(name.to_text())
                raise ZoneValidationError(
                    f"Zone {self.zone} would be invalid: {fq} has a CNAME and other records",
                    f"Zona {self.zone} akan menjadi tidak sah: {fq} memiliki CNAME dan rekaman "
                    "lain",
                    **self._ctx(fq),
                )

    def _write_zone(self, zone: dns.zone.Zone) -> None:
        import io

        buf = io.StringIO()
        zone.to_file(buf, sorted=True, relativize=True, want_origin=True)
        self._write_text(buf.getvalue())

    def _write_text(self, text: str) -> None:
        """Temp file beside the zone, fsync, named-checkzone, rename, fsync the directory."""
        directory = self.path.parent
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            with contextlib.suppress(FileNotFoundError):
                st = self.path.stat()
                os.chmod(tmp, st.st_mode & 0o7777)
                with contextlib.suppress(PermissionError):
                    os.chown(tmp, st.st_uid, st.st_gid)
            self._checkzone(tmp)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        self._cache = None

    def _checkzone(self, file: str) -> None:
        if not self.checkzone:
            return
        argv = [self.checkzone, "-q", "-i", "local", "-k", "fail", self.zone, file]
        try:
            run = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise ZoneValidationError(
                f"named-checkzone could not check zone {self.zone}: {e}",
                f"named-checkzone tidak dapat memeriksa zona {self.zone}: {e}",
                **self._ctx(),
            )
        if run.returncode != 0:
            verbose = subprocess.run(
                argv[:1] + argv[2:], capture_output=True, text=True, timeout=60, check=False
            )
            detail = " ".join(
                line.strip()
                for line in (verbose.stdout + verbose.stderr).replace(file, self.zone).splitlines()
                if line.strip()
            )[:1000]
            raise ZoneValidationError(
                f"named-checkzone refuses zone {self.zone} as it would be after the change; the "
                f"zone file was left unchanged: {detail}",
                f"named-checkzone menolak zona {self.zone} sebagaimana jadinya setelah perubahan; "
                f"berkas zona tidak diubah: {detail}",
                **self._ctx(),
            )

    def _reload(self) -> None:
        if not self.reload_command:
            return
        try:
            run = subprocess.run(
                self.reload_command, capture_output=True, text=True, timeout=30, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            raise DnsConfigError(
                f"Reload command for zone {self.zone} failed: {e}",
                f"Perintah reload untuk zona {self.zone} gagal: {e}",
                **self._ctx(),
            )
        if run.returncode != 0:
            out = (run.stdout + run.stderr).strip()[:500]
            raise DnsConfigError(
                f"Reload command for zone {self.zone} exited with {run.returncode}: {out}",
                f"Perintah reload untuk zona {self.zone} keluar dengan kode {run.returncode}: "
                f"{out}",
                **self._ctx(),
            )
