"""DNS benchmark: the providers against a real BIND named, and raw dnspython updates to it.

Run from the repository root (prints numbers, asserts nothing; needs named and rndc, Debian
package bind9):

    .venv/bin/python bench/dns.py                   # 300 names per variant and round, 5 rounds
    .venv/bin/python bench/dns.py --names 100 --rounds 3 --zonefile-names 30

One named is started from a temporary directory on a free loopback port with a dynamic zone
(TSIG key, allow-update) and a static zone whose file the zonefile provider edits. Every
"update" is one change of one name; each name is created, then deleted (two updates), so the
zones stay the same size. Variants, interleaved round by round so that drift (journal growth,
machine noise) hits all of them alike:

raw                 dnspython: UpdateMessage (add / delete) signed with the TSIG key, sent with
                    dns.query.tcp, response rcode checked. Nothing else.
rfc2136             the provider's public ``apply``: validation, logging, the prerequisite
                    ("name not in use" / value-dependent compare-and-swap), the update, and the
                    query-back of the changed record type over the same TCP connection.
rfc2136 no-verify   the same with verification off: the difference is what verification costs.
zonefile            the zonefile provider on the static zone: file lock, re-read, change, SOA
                    serial bump, named-checkzone, fsync + rename, ``rndc reload``, query-back
                    at the server until it serves the change.
zonefile file-only  the same with no server: verification re-reads the file.

The goal is rfc2136 within 1.5x of raw (time per update), measured in this one run.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

_HERE = Path(__file__).resolve().parent
ROOT = _HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
for p in (ROOT, ROOT / "tests"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import dns.name  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.tsig  # noqa: E402
import dns.update  # noqa: E402
from dns_server import NamedServer, NamedUnavailable  # noqa: E402

from handlers.dns.base import DnsProvider  # noqa: E402
from handlers.dns.records import records_for  # noqa: E402
from handlers.dns.rfc2136 import Rfc2136Provider  # noqa: E402
from handlers.dns.zonefile import ZonefileProvider  # noqa: E402

DYN_ZONE = "bench-dyn.go.id"
FILE_ZONE = "bench-file.go.id"
GOAL_RATIO = 1.5


class Raw:
    """Plain dnspython updates, as a script would send them."""

    def __init__(self, server: NamedServer) -> None:
        self.server = server
        self.keyname = dns.name.from_text(server.key_name)
        self.keyring = {self.keyname: dns.tsig.Key(self.keyname, server.key_secret)}

    def _send(self, msg: dns.update.UpdateMessage) -> None:
        r = dns.query.tcp(msg, "127.0.0.1", port=self.server.port, timeout=5)
        if r.rcode() != dns.rcode.NOERROR:
            raise RuntimeError(f"raw update failed: {dns.rcode.to_text(r.rcode())}")

    def create(self, name: str) -> None:
        msg = dns.update.UpdateMessage(DYN_ZONE, keyring=self.keyring, keyname=self.keyname)
        msg.add(name, 300, "A", "192.0.2.10")
        self._send(msg)

    def delete(self, name: str) -> None:
        msg = dns.update.UpdateMessage(DYN_ZONE, keyring=self.keyring, keyname=self.keyname)
        msg.delete(name, "A")
        self._send(msg)


def provider_ops(p: DnsProvider) -> tuple[Callable[[str], None], Callable[[str], None]]:
    verify_s: list[float] = []

    def create(name: str) -> None:
        recs = records_for(name, p.zone, 300, "192.0.2.10")
        out = p.apply(p.plan_create(name, recs))
        verify_s.append(out.timings.get("verify_s", 0.0))

    def delete(name: str) -> None:
        recs = records_for(name, p.zone, 300, "192.0.2.10")
        out = p.apply(p.plan_delete(name, recs))
        verify_s.append(out.timings.get("verify_s", 0.0))

    create.verify_s = verify_s  # type: ignore[attr-defined]
    return create, delete


Ops = tuple[Callable[[str], None], Callable[[str], None]]


def measure(variants: dict[str, Ops], rounds: int, n: int, tag: str) -> dict[str, list[float]]:
    """Seconds per update for each variant. The variants take turns name by name (the order
    rotating), so machine noise and the server's state hit each of them alike."""
    lat: dict[str, list[float]] = {k: [] for k in variants}
    order = list(variants)
    for r in range(rounds):
        for i in range(n):
            for k in order:
                create, delete = variants[k]
                name = f"{tag}{order.index(k)}-{r}-{i}"
                t0 = time.perf_counter()
                create(name)
                t1 = time.perf_counter()
                delete(name)
                lat[k] += [t1 - t0, time.perf_counter() - t1]
            order = order[1:] + order[:1]
    return lat


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--names", type=int, default=300, help="names per variant and round")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--zonefile-names", type=int, default=40, help="names per zonefile round")
    args = ap.parse_args(argv)
    logging.getLogger("sopflow").setLevel(logging.WARNING)

    with tempfile.TemporaryDirectory(prefix="sopflow-bench-dns-") as tmp:
        server = NamedServer(tmp)
        server.add_zone(DYN_ZONE)
        server.add_zone(FILE_ZONE, dynamic=False)
        try:
            server.start()
        except NamedUnavailable as e:
            print(f"named is not available: {e}", file=sys.stderr)
            return 1
        try:
            return _bench(server, args)
        finally:
            server.stop()


def _bench(server: NamedServer, args: argparse.Namespace) -> int:
    common = {"server": "127.0.0.1", "port": server.port, "timeout": 5}
    rfc = Rfc2136Provider(
        DYN_ZONE, tsig_key_name=server.key_name, tsig_secret=server.key_secret, **common
    )
    rfc_nv = Rfc2136Provider(
        DYN_ZONE,
        tsig_key_name=server.key_name,
        tsig_secret=server.key_secret,
        verify=False,
        **common,
    )
    zf = ZonefileProvider(
        FILE_ZONE,
        path=server.zones[FILE_ZONE].path,
        reload_command=server.rndc_command("reload", FILE_ZONE),
        **common,
    )
    file_only_path = Path(server.root) / "file-only.zone"
    file_only_path.write_text(server.zone_text(FILE_ZONE))
    zf_file = ZonefileProvider(FILE_ZONE, path=file_only_path)

    raw = Raw(server)
    variants: dict[str, Ops] = {
        "raw dnspython": (raw.create, raw.delete),
        "rfc2136": provider_ops(rfc),
        "rfc2136 no-verify": provider_ops(rfc_nv),
    }
    slow: dict[str, Ops] = {
        "zonefile": provider_ops(zf),
        "zonefile file-only": provider_ops(zf_file),
    }
    measure(variants, 1, 20, "warm")  # connections, code paths, named's first journal writes
    lat = measure(variants, args.rounds, args.names, "n")
    lat.update(measure(slow, args.rounds, args.zonefile_names, "z"))

    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"named {server.named} on 127.0.0.1:{server.port}, host {socket.gethostname()}, "
        f"load average {load}"
    )
    print(
        f"{args.rounds} rounds x {args.names} names (zonefile: {args.zonefile_names}); "
        "1 update = the create or the delete of one name; variants interleaved name by name\n"
    )
    print(f"{'variant':<22}{'updates/s':>11}{'mean ms':>10}{'median ms':>11}{'p90 ms':>9}")
    for k, xs in lat.items():
        xs_sorted = sorted(xs)
        p90 = xs_sorted[int(0.9 * (len(xs) - 1))]
        print(
            f"{k:<22}{len(xs) / sum(xs):>11.0f}{1000 * statistics.fmean(xs):>10.2f}"
            f"{1000 * statistics.median(xs):>11.2f}{1000 * p90:>9.2f}"
        )
    rate = {k: len(xs) / sum(xs) for k, xs in lat.items()}

    raw_ms = 1000 / rate["raw dnspython"]
    rfc_ms = 1000 / rate["rfc2136"]
    nv_ms = 1000 / rate["rfc2136 no-verify"]
    verify_samples = variants["rfc2136"][0].verify_s  # type: ignore[attr-defined]
    zf_samples = slow["zonefile"][0].verify_s  # type: ignore[attr-defined]
    med = {k: statistics.median(xs) for k, xs in lat.items()}
    print()
    print(
        f"query-back verification, rfc2136: {rfc_ms - nv_ms:+.2f} ms/update "
        f"(with vs without); measured inside apply: median "
        f"{1000 * statistics.median(verify_samples):.2f} ms"
    )
    print(
        f"query-back verification, zonefile (until named serves the reloaded file): median "
        f"{1000 * statistics.median(zf_samples):.2f} ms"
    )
    ratio = rfc_ms / raw_ms
    verdict = "met" if ratio <= GOAL_RATIO else "MISSED"
    print(
        f"rfc2136 provider vs raw dnspython: {ratio:.2f}x the mean time per update "
        f"(goal <= {GOAL_RATIO}x: {verdict}); median {med['rfc2136'] / med['raw dnspython']:.2f}x;"
        f" without verification {nv_ms / raw_ms:.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
