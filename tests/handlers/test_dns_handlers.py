"""dns.create / dns.change / dns.delete on both providers: records at the real server, the
audit rows, the registry, idempotent retries and business errors."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.errors import BpmnErrorRaised
from handlers.base import HandlerContext
from handlers.dns.config import provider_for
from handlers.dns.errors import DnsConfigError
from handlers.dns.handler import DnsChangeHandler, DnsCreateHandler, DnsDeleteHandler
from handlers.dns.models import DnsChange
from handlers.dns.records import records_for
from handlers.names.handler import SubdomainReserveHandler
from handlers.names.models import Subdomain

CREATE, CHANGE, DELETE, RESERVE = (
    DnsCreateHandler(),
    DnsChangeHandler(),
    DnsDeleteHandler(),
    SubdomainReserveHandler(),
)


def audit(sessions) -> list[DnsChange]:
    with sessions() as s:
        return list(s.scalars(select(DnsChange).order_by(DnsChange.id)))


def registry(sessions) -> list[tuple[str, str, str | None]]:
    with sessions() as s:
        rows = s.scalars(select(Subdomain).order_by(Subdomain.id))
        return [(r.label, r.state, r.instance_id) for r in rows]


def test_create(dns_env, make_job, sessions):
    job = make_job("dns.create", dns_env.agency, subdomain="Dinkes")
    out = CREATE.run(job, dns_env.ctx)
    fqdn = dns_env.fqdn("dinkes")
    assert out == {
        "fqdn": fqdn,
        "dns_records": [{"name": fqdn, "type": "A", "ttl": 3600, "value": "192.0.2.80"}],
    }
    assert dns_env.a("dinkes") == ["192.0.2.80"]
    [row] = audit(sessions)
    assert (row.action, row.result, row.provider, row.zone, row.fqdn) == (
        "create",
        "applied",
        dns_env.kind,
        dns_env.zone,
        fqdn,
    )
    assert (row.before, row.actor, row.instance_id, row.business_key, row.external_task_id) == (
        [],
        "test-worker",
        job.instance_id,
        job.business_key,
        job.id,
    )
    assert row.after == [{"name": "dinkes", "type": "A", "ttl": 3600, "values": ["192.0.2.80"]}]
    assert row.finished_at is not None and row.error is None
    assert registry(sessions) == [("dinkes", "active", job.instance_id)]


@pytest.mark.parametrize(
    ("target", "rtype", "value"),
    [("2001:db8::5", "AAAA", "2001:db8::5"), ("web.example.org", "CNAME", "web.example.org.")],
)
def test_create_with_a_target(dns_env, make_job, target, rtype, value):
    out = CREATE.run(
        make_job("dns.create", dns_env.agency, subdomain="situs", target=target), dns_env.ctx
    )
    assert [(r["type"], r["value"]) for r in out["dns_records"]] == [(rtype, value)]
    assert dns_env.server.query(dns_env.fqdn("situs"), rtype) == [value]


def test_a_retried_create_succeeds(dns_env, make_job, sessions):
    job = make_job("dns.create", dns_env.agency, subdomain="dinkes")
    first = CREATE.run(job, dns_env.ctx)
    assert CREATE.run(job, dns_env.ctx) == first  # the same job again (e.g. lost completion)
    assert [r.result for r in audit(sessions)] == ["applied", "unchanged"]


def test_a_create_that_crashed_after_writing_succeeds_when_retried(dns_env, make_job, sessions):
    """The earlier attempt wrote the records and died before any bookkeeping."""
    job = make_job("dns.create", dns_env.agency, subdomain="dinkes")
    with sessions() as s:
        from engine.models import Agency

        agency = s.scalar(select(Agency).where(Agency.code == dns_env.agency))
    provider = provider_for(agency, dns_env.ctx.settings)
    recs = records_for("dinkes", dns_env.zone, 3600, "192.0.2.80")
    provider.apply(provider.plan_create("dinkes", recs))
    out = CREATE.run(job, dns_env.ctx)
    assert out["fqdn"] == dns_env.fqdn("dinkes")
    assert [r.result for r in audit(sessions)] == ["unchanged"]
    assert registry(sessions) == [("dinkes", "active", job.instance_id)]


def test_a_request_corrects_its_own_earlier_records(dns_env, make_job, sessions):
    job = make_job("dns.create", dns_env.agency, subdomain="dinkes", target="192.0.2.10")
    CREATE.run(job, dns_env.ctx)
    again = make_job(
        "dns.create",
        dns_env.agency,
        instance_id=job.instance_id,
        subdomain="dinkes",
        target="192.0.2.11",
    )
    CREATE.run(again, dns_env.ctx)
    assert dns_env.a("dinkes") == ["192.0.2.11"]


def test_a_name_already_at_the_server_is_not_taken_over(dns_env, make_job, sessions):
    with pytest.raises(BpmnErrorRaised) as info:
        CREATE.run(make_job("dns.create", dns_env.agency, subdomain="existing"), dns_env.ctx)
    assert info.value.code == "DNS_NAME_IN_USE"
    assert "existing." + dns_env.zone in info.value.message_en
    assert dns_env.a("existing") == ["192.0.2.3"]
    [row] = audit(sessions)
    assert row.result == "failed" and "did not write" in row.error
    assert row.before == [{"name": "existing", "type": "A", "ttl": 300, "values": ["192.0.2.3"]}]


def test_a_name_held_by_another_request_is_not_created(dns_env, make_job, sessions):
    RESERVE.run(make_job("subdomain.reserve", dns_env.agency, subdomain="dinkes"), dns_env.ctx)
    with pytest.raises(BpmnErrorRaised) as info:
        CREATE.run(make_job("dns.create", dns_env.agency, subdomain="dinkes"), dns_env.ctx)
    assert info.value.code == "NAME_TAKEN"
    assert dns_env.a("dinkes") == [] and audit(sessions) == []


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"subdomain": "dinkes", "target": "192.0.2.300"}, "DNS_INVALID_RECORD"),
        ({"subdomain": "www"}, "NAME_INVALID"),
        ({"subdomain": "a.b"}, "NAME_INVALID"),
    ],
)
def test_business_errors(dns_env, make_job, variables, code):
    with pytest.raises(BpmnErrorRaised) as info:
        CREATE.run(make_job("dns.create", dns_env.agency, **variables), dns_env.ctx)
    assert info.value.code == code and " / " in info.value.message_en


def test_change_the_target(dns_env, make_job, sessions):
    job = make_job("dns.create", dns_env.agency, subdomain="dinkes")
    CREATE.run(job, dns_env.ctx)
    change = make_job("dns.change", dns_env.agency, subdomain="dinkes", target="192.0.2.90")
    out = CHANGE.run(change, dns_env.ctx)
    assert out["fqdn"] == dns_env.fqdn("dinkes")
    assert dns_env.a("dinkes") == ["192.0.2.90"]
    row = audit(sessions)[-1]
    assert (row.action, row.result) == ("change", "applied")
    assert row.before[0]["values"] == ["192.0.2.80"] and row.after[0]["values"] == ["192.0.2.90"]
    # the name stays with the request that created it
    assert registry(sessions) == [("dinkes", "active", job.instance_id)]


def test_rename_moves_the_records_in_one_update(dns_env, make_job, sessions):
    created = make_job("dns.create", dns_env.agency, subdomain="lama", target="192.0.2.7")
    CREATE.run(created, dns_env.ctx)
    # Tapin's change request: reserve the new name, then dns.change
    request = make_job("subdomain.reserve", dns_env.agency, subdomain="baru")
    RESERVE.run(request, dns_env.ctx)
    change = make_job(
        "dns.change",
        dns_env.agency,
        instance_id=request.instance_id,
        business_key=request.business_key,
        subdomain="lama",
        new_subdomain="baru",
    )
    out = CHANGE.run(change, dns_env.ctx)
    assert out["fqdn"] == dns_env.fqdn("baru")
    assert dns_env.a("baru") == ["192.0.2.7"] and dns_env.a("lama") == []
    assert registry(sessions) == [
        ("lama", "deleted", created.instance_id),
        ("baru", "active", request.instance_id),
    ]
    assert CHANGE.run(change, dns_env.ctx) == out  # a retry
    assert dns_env.a("baru") == ["192.0.2.7"]
    row = audit(sessions)[1]
    assert [r["name"] for r in row.before] == ["lama"] and row.after[0]["name"] == "baru"


def test_rename_onto_a_name_in_use_changes_nothing(dns_env, make_job):
    CREATE.run(make_job("dns.create", dns_env.agency, subdomain="lama"), dns_env.ctx)
    change = make_job("dns.change", dns_env.agency, subdomain="lama", new_subdomain="existing")
    with pytest.raises(BpmnErrorRaised) as info:
        CHANGE.run(change, dns_env.ctx)
    assert info.value.code == "DNS_NAME_IN_USE"
    assert dns_env.a("lama") == ["192.0.2.80"] and dns_env.a("existing") == ["192.0.2.3"]


def test_delete(dns_env, make_job, sessions):
    CREATE.run(make_job("dns.create", dns_env.agency, subdomain="dinkes"), dns_env.ctx)
    job = make_job("dns.delete", dns_env.agency, subdomain="dinkes")
    assert DELETE.run(job, dns_env.ctx) == {"fqdn": dns_env.fqdn("dinkes"), "dns_records": []}
    assert dns_env.a("dinkes") == []
    assert registry(sessions)[0][1] == "deleted"
    assert DELETE.run(job, dns_env.ctx)["dns_records"] == []  # a retry, nothing left to delete
    assert [(r.action, r.result) for r in audit(sessions)] == [
        ("create", "applied"),
        ("delete", "applied"),
        ("delete", "unchanged"),
    ]
    # the name can be requested again
    CREATE.run(make_job("dns.create", dns_env.agency, subdomain="dinkes"), dns_env.ctx)


def test_reserved_names_cannot_be_deleted(dns_env, make_job):
    with pytest.raises(BpmnErrorRaised) as info:
        DELETE.run(make_job("dns.delete", dns_env.agency, subdomain="www"), dns_env.ctx)
    assert info.value.code == "NAME_INVALID"
    assert dns_env.a("www") == ["192.0.2.1"]


def test_dry_run(dns_env, configure_dns, make_job, sessions):
    configure_dns(dry_run=True, default_target="192.0.2.80")
    out = CREATE.run(make_job("dns.create", dns_env.agency, subdomain="coba"), dns_env.ctx)
    assert out["dns_records"][0]["value"] == "192.0.2.80"
    assert dns_env.a("coba") == []
    assert [r.result for r in audit(sessions)] == ["dry_run"]


# ---------------------------------------------------------------------------- configuration
@pytest.fixture
def kudus_ctx(clock, sessions, agencies):
    return HandlerContext(clock=clock, sessions=sessions, settings={})


def test_embedded_default_zone_file(set_agency_settings, kudus_ctx, make_job, tmp_path):
    ctx = HandlerContext(
        clock=kudus_ctx.clock,
        sessions=kudus_ctx.sessions,
        settings={"INSTANCE_DIR": str(tmp_path), "DNS_DEFAULT_TARGET": "10.0.0.8"},
    )
    out = CREATE.run(make_job("dns.create", subdomain="dinkes"), ctx)
    assert out["dns_records"][0]["value"] == "10.0.0.8"
    zone = (tmp_path / "zones" / "kuduskab.go.id.zone").read_text()
    assert "dinkes 3600 IN A 10.0.0.8" in zone


def test_no_target_anywhere_is_an_error(set_agency_settings, kudus_ctx, make_job, tmp_path):
    ctx = HandlerContext(
        clock=kudus_ctx.clock, sessions=kudus_ctx.sessions, settings={"INSTANCE_DIR": str(tmp_path)}
    )
    with pytest.raises(BpmnErrorRaised) as info:
        CREATE.run(make_job("dns.create", subdomain="dinkes"), ctx)
    assert info.value.code == "DNS_INVALID_RECORD" and "target" in info.value.message_en


def test_secrets_are_refused_in_agency_settings(set_agency_settings, kudus_ctx, make_job):
    set_agency_settings(
        "kudus",
        dns={"provider": "rfc2136", "server": "127.0.0.1", "tsig_secret": "c2VjcmV0LXZhbHVl"},
    )
    with pytest.raises(DnsConfigError) as info:
        CREATE.run(make_job("dns.create", subdomain="dinkes"), kudus_ctx)
    assert "tsig_secret" in str(info.value) and "c2VjcmV0LXZhbHVl" not in str(info.value)


def test_tsig_secret_by_key_name_from_the_environment(
    dns_server, configure_dns, clock, sessions, make_job, monkeypatch
):
    ctx = HandlerContext(clock=clock, sessions=sessions, settings={})
    with pytest.raises(DnsConfigError) as info:
        CREATE.run(make_job("dns.create", subdomain="dinkes"), ctx)
    assert "SOPFLOW_TSIG_SOPFLOW_TEST" in str(info.value)
    monkeypatch.setenv("SOPFLOW_TSIG_SOPFLOW_TEST", dns_server.key_secret)
    CREATE.run(make_job("dns.create", subdomain="dinkes"), ctx)
    assert dns_server.query("dinkes.kuduskab.go.id", "A") == ["192.0.2.80"]


def test_a_rename_that_died_before_its_bookkeeping_completes_on_retry(
    dns_env, make_job, sessions, monkeypatch
):
    created = make_job("dns.create", dns_env.agency, subdomain="lama", target="192.0.2.7")
    CREATE.run(created, dns_env.ctx)
    change = make_job("dns.change", dns_env.agency, subdomain="lama", new_subdomain="baru")

    def worker_dies(*_a, **_k):
        raise RuntimeError("worker died")

    from handlers.names import store

    monkeypatch.setattr(store, "release", worker_dies)
    with pytest.raises(RuntimeError):
        CHANGE.run(change, dns_env.ctx)
    monkeypatch.undo()
    assert dns_env.a("baru") == ["192.0.2.7"] and dns_env.a("lama") == []
    out = CHANGE.run(change, dns_env.ctx)
    assert out["dns_records"][0]["value"] == "192.0.2.7"
    assert registry(sessions) == [
        ("lama", "deleted", created.instance_id),
        ("baru", "active", change.instance_id),
    ]
    assert [r.result for r in audit(sessions)] == ["applied", "applied", "unchanged"]


def test_the_builtin_registry_declares_the_topics():
    from handlers.registry import default_registry

    described = {d["topic"]: d for d in default_registry().describe()}
    assert described["subdomain.check"]["outputs"].keys() == {
        "name_available",
        "name_reason",
        "name_suggestions",
    }
    assert "new_subdomain" in described["dns.change"]["inputs"]
    assert described["dns.create"]["outputs"].keys() == {"fqdn", "dns_records"}
    assert DnsCreateHandler.errors.keys() >= {"NAME_TAKEN", "DNS_NAME_IN_USE", "NAME_INVALID"}
    assert SubdomainReserveHandler.errors.keys() == {"NAME_TAKEN", "NAME_INVALID"}
