"""The two providers against a real named: writes, compare-and-swap, verification, TSIG
errors, and the zone file's atomicity. No database here."""

from __future__ import annotations

import logging
import os
import threading
from datetime import date

import pytest
from dns_server import BASE_RECORDS, RFC2136_ZONE, ZONEFILE_ZONE
from filelock import FileLock
from support import unavailable

from handlers.dns.base import DnsProvider
from handlers.dns.errors import (
    DnsAuthError,
    DnsConflict,
    DnsServerUnreachable,
    DnsUpdateRefused,
    DnsValidationError,
    DnsVerificationError,
    ZoneBusy,
    ZoneValidationError,
)
from handlers.dns.records import records_for, renamed
from handlers.dns.rfc2136 import Rfc2136Provider
from handlers.dns.zonefile import ZonefileProvider, next_serial


def rfc2136(server, **kw) -> Rfc2136Provider:
    kw.setdefault("tsig_key_name", server.key_name)
    kw.setdefault("tsig_secret", server.key_secret)
    return Rfc2136Provider(RFC2136_ZONE, server="127.0.0.1", port=server.port, timeout=1, **kw)


def zonefile(server, **kw) -> ZonefileProvider:
    return ZonefileProvider(
        ZONEFILE_ZONE,
        path=server.zones[ZONEFILE_ZONE].path,
        server="127.0.0.1",
        port=server.port,
        timeout=1,
        reload_command=server.rndc_command("reload", ZONEFILE_ZONE),
        **kw,
    )


@pytest.fixture(params=["rfc2136", "zonefile"])
def provider(request, dns_server) -> DnsProvider:
    return rfc2136(dns_server) if request.param == "rfc2136" else zonefile(dns_server)


def served(server, provider: DnsProvider, label: str, rdtype: str = "A") -> list[str]:
    return server.query(provider.fqdn(label), rdtype)


def test_create_change_rename_delete(provider, dns_server):
    recs = records_for("dinkes", provider.zone, 300, "192.0.2.10")
    outcome = provider.apply(provider.plan_create("dinkes", recs))
    assert outcome.applied and outcome.verified
    assert served(dns_server, provider, "dinkes") == ["192.0.2.10"]
    assert provider.records("dinkes") == recs
    assert provider.name_exists("dinkes") and not provider.name_exists("nothing-here")

    new = records_for("dinkes", provider.zone, 600, "192.0.2.11 2001:db8::11", txt="halo")
    provider.apply(provider.plan_replace("dinkes", recs, new))
    assert served(dns_server, provider, "dinkes") == ["192.0.2.11"]
    assert served(dns_server, provider, "dinkes", "AAAA") == ["2001:db8::11"]
    assert served(dns_server, provider, "dinkes", "TXT") == ['"halo"']

    moved = renamed(new, "dinas-kesehatan")
    provider.apply(provider.plan_rename("dinkes", "dinas-kesehatan", new, (), moved))
    assert not provider.name_exists("dinkes")
    assert provider.records("dinas-kesehatan") == moved

    cname = records_for("web", provider.zone, 300, "dinas-kesehatan")
    provider.apply(provider.plan_create("web", cname))
    assert served(dns_server, provider, "web", "CNAME") == [f"dinas-kesehatan.{provider.zone}."]

    provider.apply(provider.plan_delete("dinas-kesehatan", moved))
    assert provider.records("dinas-kesehatan") == ()
    assert served(dns_server, provider, "www") == ["192.0.2.1"]  # nothing else touched


def test_create_refuses_a_name_in_use(provider, dns_server):
    for label in ("www", "mx-only"):  # an A record; only an MX
        with pytest.raises(DnsConflict):
            provider.apply(
                provider.plan_create(label, records_for(label, provider.zone, 300, "192.0.2.9"))
            )
    assert served(dns_server, provider, "www") == ["192.0.2.1"]
    assert served(dns_server, provider, "mx-only") == []


@pytest.mark.parametrize("make", [rfc2136, zonefile], ids=["rfc2136", "zonefile"])
def test_a_name_covered_by_a_wildcard_can_be_created(make, dns_server):
    for zone in (RFC2136_ZONE, ZONEFILE_ZONE):
        dns_server.reset_zone(zone, BASE_RECORDS + "* 300 IN A 192.0.2.50\n")
    provider = make(dns_server)
    assert not provider.name_exists("dinkes")
    recs = records_for("dinkes", provider.zone, 300, "192.0.2.10")
    outcome = provider.apply(provider.plan_create("dinkes", recs))
    assert outcome.applied and outcome.verified
    assert served(dns_server, provider, "dinkes") == ["192.0.2.10"]
    assert provider.name_exists("dinkes")
    # the wildcard still answers for everything else
    assert served(dns_server, provider, "anything-else") == ["192.0.2.50"]


def test_a_stale_plan_changes_nothing(provider, dns_server):
    """Compare-and-swap: the records changed since they were read, so the change is refused
    whole; the old name is not deleted and the new one not created."""
    stale = records_for("www", provider.zone, 300, "192.0.2.99")
    target = renamed(stale, "www2")
    with pytest.raises(DnsConflict):
        provider.apply(provider.plan_rename("www", "www2", stale, (), target))
    assert served(dns_server, provider, "www") == ["192.0.2.1"]
    assert not provider.name_exists("www2")


def test_dry_run_writes_nothing(dns_server):
    for p in (rfc2136(dns_server, dry_run=True), zonefile(dns_server, dry_run=True)):
        before = dns_server.zones[ZONEFILE_ZONE].path.read_bytes()
        outcome = p.apply(p.plan_create("dry", records_for("dry", p.zone, 300, "192.0.2.5")))
        assert outcome.dry_run and not outcome.applied
        assert not p.name_exists("dry")
        assert dns_server.zones[ZONEFILE_ZONE].path.read_bytes() == before


def test_validation_refuses_a_cname_beside_other_data(provider):
    from handlers.dns.records import RRset

    bad = (
        RRset("x", "A", 300, ("192.0.2.1",)),
        RRset("x", "CNAME", 300, ("www.example.org.",)),
    )
    with pytest.raises(DnsValidationError):
        provider.apply(provider.plan_create("x", bad))
    with pytest.raises(DnsValidationError):
        records_for("x", provider.zone, 300, "192.0.2.1 www.example.org")
    with pytest.raises(DnsValidationError):
        provider.records("bad_name")


def test_verification_catches_bind_ignoring_a_cname_onto_an_a_name(dns_server):
    """Without prerequisites (as with a server or a race that lets the update through), BIND
    answers NOERROR to a CNAME added at a name that has an A record, and changes nothing.
    Only the query-back notices."""

    class NoPrerequisites(Rfc2136Provider):
        use_prerequisites = False

    p = NoPrerequisites(
        RFC2136_ZONE,
        server="127.0.0.1",
        port=dns_server.port,
        tsig_key_name=dns_server.key_name,
        tsig_secret=dns_server.key_secret,
        verify_timeout=0.2,
    )
    cname = records_for("www", p.zone, 300, "portal.example.org")
    with pytest.raises(DnsVerificationError) as info:
        p.apply(p.plan_create("www", cname))
    msg = str(info.value)
    assert "Verifikasi gagal" in msg and "Verification failed" in msg
    assert "www.kuduskab.go.id" in msg and "CNAME" in msg
    assert info.value.record == "www.kuduskab.go.id" and info.value.zone == RFC2136_ZONE
    # no partial state: the A record is as it was, no CNAME appeared
    assert dns_server.query("www.kuduskab.go.id", "A") == ["192.0.2.1"]
    assert dns_server.query("www.kuduskab.go.id", "CNAME") == []


def test_tsig_errors_say_what_is_wrong(dns_server):
    recs = records_for("t", RFC2136_ZONE, 300, "192.0.2.5")
    wrong_secret = rfc2136(dns_server, tsig_secret="AAAA" + dns_server.key_secret[4:])
    with pytest.raises(DnsAuthError) as info:
        wrong_secret.apply(wrong_secret.plan_create("t", recs))
    assert info.value.rcode == "BADSIG" and "BADSIG" in str(info.value)
    assert "sopflow-test" in str(info.value)
    unknown = rfc2136(dns_server, tsig_key_name="not-a-key")
    with pytest.raises(DnsAuthError) as info:
        unknown.apply(unknown.plan_create("t", recs))
    assert info.value.rcode == "BADKEY" and "tidak mengenal" in str(info.value)
    unsigned = rfc2136(dns_server, tsig_key_name=None)
    with pytest.raises(DnsUpdateRefused) as info:
        unsigned.apply(unsigned.plan_create("t", recs))
    assert "REFUSED" in str(info.value)
    assert not unsigned.name_exists("t")
    for p in (wrong_secret, unknown):
        assert dns_server.key_secret not in repr(p) and dns_server.key_secret not in str(
            p.describe()
        )


def test_server_down(provider, dns_server):
    dns_server.stop()
    recs = records_for("down", provider.zone, 300, "192.0.2.5")
    with pytest.raises(DnsServerUnreachable) as info:
        provider.name_exists("down")
    assert f"127.0.0.1:{dns_server.port}" in str(info.value)
    if isinstance(provider, Rfc2136Provider):
        with pytest.raises(DnsServerUnreachable):
            provider.apply(provider.plan_create("down", recs))


def test_logs_tell_the_change_but_never_the_secret(dns_server, caplog):
    caplog.set_level(logging.DEBUG)
    p = rfc2136(dns_server)
    p.apply(p.plan_create("logged", records_for("logged", p.zone, 300, "192.0.2.7")))
    assert "logged.kuduskab.go.id" in caplog.text and "192.0.2.7" in caplog.text
    assert dns_server.key_secret not in caplog.text


# ---------------------------------------------------------------------------- zone file only
ZONE = """$ORIGIN kuduskab.go.id.
$TTL 300
@ IN SOA ns1 hostmaster 2026010100 3600 600 86400 300
@ IN NS localhost.
www IN A 192.0.2.1
mail IN MX 10 www
"""


@pytest.fixture
def zone_path(tmp_path):
    path = tmp_path / "kuduskab.go.id.zone"
    path.write_text(ZONE)
    return path


def file_provider(path, **kw) -> ZonefileProvider:
    return ZonefileProvider("kuduskab.go.id", path=path, today=lambda: date(2026, 11, 23), **kw)


def test_zone_file_write_bumps_the_serial_and_keeps_other_data(zone_path):
    p = file_provider(zone_path)
    p.apply(p.plan_create("dinkes", records_for("dinkes", p.zone, 300, "192.0.2.10")))
    text = zone_path.read_text()
    assert "2026112300" in text and "dinkes 300 IN A 192.0.2.10" in text
    assert "mail 300 IN MX 10 www" in text
    p.apply(p.plan_delete("dinkes", p.records("dinkes")))
    assert "2026112301" in zone_path.read_text()
    assert next_serial(2026112399, date(2026, 11, 23)) == 2026112400
    assert next_serial(4294967295, date(2026, 11, 23)) == 0


def test_embedded_default_creates_its_zone_file(tmp_path):
    path = tmp_path / "zones" / "kuduskab.go.id.zone"
    p = file_provider(path, create_missing=True)
    assert not p.name_exists("dinkes")
    p.apply(p.plan_create("dinkes", records_for("dinkes", p.zone, 300, "192.0.2.10")))
    assert p.records("dinkes")[0].values == ("192.0.2.10",)


def test_a_zone_that_fails_named_checkzone_is_never_written(zone_path):
    p = file_provider(zone_path)
    if not p.checkzone:
        unavailable("named-checkzone is not installed (Debian package bind9-utils)")
    zone_path.write_text(ZONE + "bad_host IN A 192.0.2.66\n")  # check-names refuses this
    old = zone_path.read_bytes()
    with pytest.raises(ZoneValidationError) as info:
        p.apply(p.plan_create("dinkes", records_for("dinkes", p.zone, 300, "192.0.2.10")))
    assert "named-checkzone" in str(info.value) and "bad_host" in str(info.value)
    assert "tidak diubah" in str(info.value) and "left unchanged" in str(info.value)
    assert zone_path.read_bytes() == old
    assert sorted(os.listdir(zone_path.parent)) == [zone_path.name, zone_path.name + ".lock"]


def test_a_cname_onto_a_name_with_other_data_is_refused(zone_path):
    zone_path.write_text(ZONE + "shop IN MX 10 www\n")
    old = zone_path.read_bytes()
    p = file_provider(zone_path)
    assert p.records("shop") == ()  # MX is not managed, so nothing to replace...
    cname = records_for("shop", p.zone, 300, "www.example.org")
    with pytest.raises(ZoneValidationError) as info:  # ...but a CNAME cannot join it
        p.apply(p.plan_replace("shop", (), cname))
    assert "MX" in str(info.value)
    assert zone_path.read_bytes() == old


def test_a_crash_while_writing_leaves_the_old_file(zone_path, monkeypatch):
    p = file_provider(zone_path)
    old = zone_path.read_bytes()

    def crash(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        p.apply(p.plan_create("dinkes", records_for("dinkes", p.zone, 300, "192.0.2.10")))
    monkeypatch.undo()
    assert zone_path.read_bytes() == old
    assert not [f for f in os.listdir(zone_path.parent) if f.endswith(".tmp")]


def test_a_held_lock_makes_the_writer_wait_then_give_up(zone_path):
    p = file_provider(zone_path, lock_timeout=0.2)
    with FileLock(str(zone_path) + ".lock"), pytest.raises(ZoneBusy):
        p.apply(p.plan_create("dinkes", records_for("dinkes", p.zone, 300, "192.0.2.10")))


def test_concurrent_writers_lose_nothing(zone_path):
    errors: list[BaseException] = []

    def write(i: int) -> None:
        p = file_provider(zone_path)
        try:
            p.apply(p.plan_create(f"n{i}", records_for(f"n{i}", p.zone, 300, f"192.0.2.{i}")))
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(1, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    p = file_provider(zone_path)
    assert [p.records(f"n{i}")[0].values for i in range(1, 9)] == [
        (f"192.0.2.{i}",) for i in range(1, 9)
    ]
