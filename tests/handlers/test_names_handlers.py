"""subdomain.check and subdomain.reserve against the database and a real named."""

from __future__ import annotations

import logging
import threading

import pytest
from dns_server import BASE_RECORDS, RFC2136_ZONE
from sqlalchemy import select
from support import actor, one_task_bpmn

from engine.errors import BpmnErrorRaised
from handlers.base import HandlerContext
from handlers.dns.errors import DnsServerUnreachable
from handlers.names import store
from handlers.names.handler import SubdomainCheckHandler, SubdomainReserveHandler
from handlers.names.models import Subdomain
from handlers.names.sweep import ReservationSweep

CHECK = SubdomainCheckHandler()
RESERVE = SubdomainReserveHandler()


@pytest.fixture
def check(configure_dns, handler_ctx, make_job):
    def run(name, *, instance_id=None, agency="kudus", **variables):
        job = make_job(
            "subdomain.check", agency, instance_id=instance_id, subdomain=name, **variables
        )
        return CHECK.run(job, handler_ctx)

    return run


def test_available_names_are_normalized_idn_included(check):
    out = check("Dinas-Pendidikan")
    assert out["name_available"] is True
    assert out["name_suggestions"] == []
    assert "dinas-pendidikan.kuduskab.go.id" in out["name_reason"]
    assert out["name_reason"].startswith("Nama dinas-pendidikan.kuduskab.go.id tersedia")
    out = check("bücher")
    assert out["name_available"] is True
    assert "xn--bcher-kva.kuduskab.go.id" in out["name_reason"]


def test_name_at_the_server_but_not_in_the_registry_is_taken(check, dns_server):
    dns_server.reset_zone(RFC2136_ZONE, BASE_RECORDS + "existing2 300 IN A 192.0.2.9\n")
    out = check("existing", opd_name="Dinas Kesehatan")
    assert out["name_available"] is False
    assert "sudah ada di server DNS" in out["name_reason"]
    assert "already exists at the DNS server" in out["name_reason"]
    sugg = out["name_suggestions"]
    assert sugg and "existing2" not in sugg and "existing" not in sugg
    assert sugg[0] == "existing-dk"
    for label in sugg:  # every suggestion is really free
        assert check(label)["name_available"] is True
    # a name that holds only data of another type (MX) is in use too
    assert check("mx-only")["name_available"] is False


def test_registry_holds_the_name_for_its_request_only(check, configure_dns, handler_ctx, make_job):
    mine = make_job("subdomain.reserve", subdomain="dinkes")
    RESERVE.run(mine, handler_ctx)
    other = check("dinkes")
    assert other["name_available"] is False
    assert "permohonan lain" in other["name_reason"] and "another request" in other["name_reason"]
    assert "dinkes" not in other["name_suggestions"]
    assert check("dinkes", instance_id=mine.instance_id)["name_available"] is True


def test_a_wildcard_does_not_make_every_name_taken(check, dns_server):
    dns_server.reset_zone(RFC2136_ZONE, BASE_RECORDS + "* 300 IN A 192.0.2.50\n")
    assert check("brand-new")["name_available"] is True
    # names with data of their own stay taken: other data, or another type only
    assert check("existing")["name_available"] is False
    assert check("mx-only")["name_available"] is False
    # a wildcard CNAME too
    dns_server.reset_zone(RFC2136_ZONE, BASE_RECORDS + "* 300 IN CNAME www\n")
    assert check("brand-new")["name_available"] is True
    assert check("existing")["name_available"] is False


@pytest.mark.parametrize(
    ("name", "reason_id", "first_suggestion"),
    [
        ("www", "dicadangkan", None),
        ("Dinas Kesehatan", "spasi", "dinas-kesehatan"),
        ("dinas.kesehatan", "satu label", None),
        ("xn--abc", "IDN", None),
    ],
)
def test_refused_names_say_why_and_suggest(check, name, reason_id, first_suggestion):
    out = check(name)
    assert out["name_available"] is False
    assert reason_id in out["name_reason"] and " / " in out["name_reason"]
    if first_suggestion:
        assert out["name_suggestions"][0] == first_suggestion
    assert name not in out["name_suggestions"]


def test_reserved_labels_per_agency(check, set_agency_settings, configure_dns):
    set_agency_settings("kudus", names={"reserved_extra": ["dinkes"], "reserved_allow": ["api"]})
    assert "dicadangkan" in check("dinkes")["name_reason"]
    assert check("api")["name_available"] is True


def test_server_down_is_a_retriable_failure_not_free(check, dns_server):
    dns_server.stop()
    with pytest.raises(DnsServerUnreachable) as info:
        check("dinkes")
    assert "tidak menjawab" in str(info.value) and "did not answer" in str(info.value)
    assert f"127.0.0.1:{dns_server.port}" in str(info.value)


# ---------------------------------------------------------------------------- reserve
@pytest.fixture
def plain_ctx(clock, sessions, agencies):
    return HandlerContext(clock=clock, sessions=sessions, settings={})


def test_reserve_is_idempotent_and_exclusive(plain_ctx, make_job, sessions):
    job = make_job("subdomain.reserve", subdomain="Dinkes")
    assert RESERVE.run(job, plain_ctx) == {}
    assert RESERVE.run(job, plain_ctx) == {}  # a retry
    with pytest.raises(BpmnErrorRaised) as info:
        RESERVE.run(make_job("subdomain.reserve", subdomain="dinkes"), plain_ctx)
    assert info.value.code == "NAME_TAKEN"
    assert "dinkes.kuduskab.go.id" in info.value.message_en
    assert "permohonan lain" in info.value.message_en  # bilingual text
    with pytest.raises(BpmnErrorRaised) as info:
        RESERVE.run(make_job("subdomain.reserve", subdomain="ns1"), plain_ctx)
    assert info.value.code == "NAME_INVALID" and "dicadangkan" in info.value.message_en
    # the same label in another agency is another name
    RESERVE.run(make_job("subdomain.reserve", "tapin", subdomain="dinkes"), plain_ctx)
    with sessions() as s:
        rows = s.scalars(select(Subdomain).order_by(Subdomain.id)).all()
    assert [(r.label, r.fqdn, r.state, r.instance_id) for r in rows] == [
        ("dinkes", "dinkes.kuduskab.go.id", "reserved", job.instance_id),
        ("dinkes", "dinkes.tapinkab.go.id", "reserved", rows[1].instance_id),
    ]
    assert rows[0].business_key == job.business_key and rows[0].reserved_by == "test-worker"


def test_choosing_another_name_releases_the_first(plain_ctx, make_job, sessions):
    first = make_job("subdomain.reserve", subdomain="dinkes")
    RESERVE.run(first, plain_ctx)
    second = make_job("subdomain.reserve", instance_id=first.instance_id, subdomain="dinkes2")
    RESERVE.run(second, plain_ctx)
    # dinkes is free again for anyone
    RESERVE.run(make_job("subdomain.reserve", subdomain="dinkes"), plain_ctx)
    with sessions() as s:
        states = [(r.label, r.state) for r in s.scalars(select(Subdomain).order_by(Subdomain.id))]
    assert states == [("dinkes", "deleted"), ("dinkes2", "reserved"), ("dinkes", "reserved")]


def test_32_concurrent_reservations_exactly_one_wins(plain_ctx, make_job, sessions):
    n = 32
    jobs = [make_job("subdomain.reserve", subdomain="rebutan") for _ in range(n)]
    barrier = threading.Barrier(n)
    won: list[str] = []
    lost: list[str] = []
    other: list[BaseException] = []
    lock = threading.Lock()

    def attempt(job):
        barrier.wait()
        try:
            RESERVE.run(job, plain_ctx)
            with lock:
                won.append(job.instance_id)
        except BpmnErrorRaised as e:
            with lock:
                lost.append(e.code)
        except BaseException as e:  # noqa: BLE001 - reported below
            with lock:
                other.append(e)

    threads = [threading.Thread(target=attempt, args=(j,)) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert other == []
    assert len(won) == 1 and lost == ["NAME_TAKEN"] * (n - 1)
    with sessions() as s:
        rows = s.scalars(select(Subdomain).where(Subdomain.label == "rebutan")).all()
    assert [r.instance_id for r in rows] == won


# ---------------------------------------------------------------------------- sweep


def test_sweep_frees_names_of_ended_requests_only(engine, agencies, sessions, clock, caplog):
    engine.deploy(actor("admin_kudus", "kudus", "admin"), [("one.bpmn", one_task_bpmn("one_step"))])
    applicant = actor("ani", "kudus", "applicant")
    ended, running, done = (engine.start(applicant, "one_step") for _ in range(3))

    def hold(inst, label, state="reserved"):
        store.reserve(
            sessions,
            agency_id=agencies["kudus"],
            label=label,
            fqdn=f"{label}.kuduskab.go.id",
            instance_id=inst.id,
            business_key=inst.business_key,
            actor="test",
            now=clock.now(),
            state=state,
        )

    hold(ended, "ditolak")  # refused: the request ends without DNS
    hold(running, "masihjalan")
    hold(done, "terpakai", state="active")  # in DNS: must stay held
    officer = actor("budi", "kudus", "technical_officer")
    for inst in (ended, done):
        (task,) = engine.inbox(officer, instance_id=inst.id)
        engine.complete_task(officer, task.id, {})

    sweep = ReservationSweep(sessions, clock)
    with caplog.at_level(logging.INFO):
        assert sweep.tick() is False
    assert "ditolak.kuduskab.go.id released" in caplog.text
    with sessions() as s:
        states = {r.label: (r.state, r.deleted_by) for r in s.scalars(select(Subdomain))}
    assert states == {
        "ditolak": ("deleted", "sweep"),
        "masihjalan": ("reserved", None),
        "terpakai": ("active", None),
    }
    # the freed name can be reserved by another request; a second sweep finds nothing
    hold(running, "ditolak")
    assert store.release_abandoned(sessions, now=clock.now()) == []
