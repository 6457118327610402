"""``website.verify`` against the real BIND (tests/dns_server.py) and a real nginx
(tests/nginx_server.py), and the pair hosting.create -> dns.create -> website.verify driven by
the engine's own workers, both branches of the diagram's gateway."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dns_server import BASE_RECORDS, RFC2136_ZONE, NamedServer
from nginx_server import NginxServer, NginxUnavailable
from support import actor

from engine.workers import WorkerPool
from handlers.base import BpmnErrorRaised, HandlerContext, HandlerError
from handlers.dns.handler import DnsCreateHandler
from handlers.hosting import HostingCreateHandler
from handlers.registry import HandlerRegistry, default_registry
from handlers.website import WebsiteVerifyHandler

FQDN = "dinkes.kuduskab.go.id"
TITLE = f"Situs sedang disiapkan: {FQDN}"


def unavailable(reason: str) -> None:
    """Skip, or fail when SOPFLOW_REQUIRE_INTEGRATION=1 (the policy of tests/conftest.py)."""
    if os.environ.get("SOPFLOW_REQUIRE_INTEGRATION") == "1":
        pytest.fail(f"integration part unavailable (SOPFLOW_REQUIRE_INTEGRATION=1): {reason}")
    pytest.skip(reason)


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[NginxServer]:
    server = NginxServer(tmp_path / "nginx")
    try:
        server.start()
    except NginxUnavailable as e:
        unavailable(f"nginx could not be started: {e}")
    yield server
    server.stop()


@pytest.fixture
def site(
    nginx: NginxServer, configure_dns: Any, set_agency_settings: Any, dns_server: NamedServer
) -> NginxServer:
    """kudus: DNS at the test BIND (rfc2136), hosting at the test nginx, quick retries."""
    set_agency_settings(
        "kudus", hosting=nginx.hosting_settings(), website={"retry_pause": 0.05, "timeout": 2}
    )
    return nginx


def in_zone(server: NamedServer, records: str) -> None:
    server.reset_zone(RFC2136_ZONE, BASE_RECORDS + records)


def verify(ctx: HandlerContext, job: Any) -> dict[str, Any]:
    return dict(WebsiteVerifyHandler().run(job, ctx))


def host(ctx: HandlerContext, make_job: Any, label: str = "dinkes", **kw: Any) -> Path:
    out = HostingCreateHandler().run(make_job("hosting.create", subdomain=label, **kw), ctx)
    return Path(out["hosting_path"])


def test_registered_and_declared() -> None:
    handler = default_registry().get("website.verify")
    assert isinstance(handler, WebsiteVerifyHandler)
    assert set(handler.outputs) == {"website_ok", "website_report"}


def test_hosted_and_in_dns_is_ok_with_what_was_seen(site, handler_ctx, make_job, dns_server):
    job = make_job("hosting.create", subdomain="dinkes", opd_name="Dinas Kesehatan")
    HostingCreateHandler().run(job, handler_ctx)
    site.wait_for(FQDN)
    # the name through the DNS handler, as the diagrams do
    created = DnsCreateHandler().run(
        make_job("dns.create", instance_id=job.instance_id, subdomain="dinkes", target="127.0.0.1"),
        handler_ctx,
    )
    assert created["fqdn"] == FQDN and dns_server.query(FQDN, "A") == ["127.0.0.1"]

    out = verify(handler_ctx, make_job("website.verify", fqdn=FQDN))
    report = out["website_report"]
    assert out["website_ok"] is True, report
    assert report.startswith(f"Berhasil: {FQDN} -> 127.0.0.1 (server DNS 127.0.0.1:")
    assert f"127.0.0.1:{dns_server.port}" in report
    assert f"http://127.0.0.1:{site.port}/ (Host: {FQDN}:{site.port}) menjawab HTTP 200 OK" in (
        report
    )
    assert f'judul "{TITLE}"' in report
    assert " byte; " in report and report.endswith(" ms.")
    size = int(report.split(" byte;")[0].rsplit("; ", 1)[1])
    assert size == len(site.get(FQDN)[2])


def test_subdomain_input_and_cname_inside_the_zone(site, handler_ctx, make_job, dns_server):
    host(handler_ctx, make_job, "layanan")
    site.wait_for(f"layanan.{RFC2136_ZONE}")
    in_zone(dns_server, "layanan 300 IN CNAME web1\nweb1 300 IN A 127.0.0.1\n")
    out = verify(handler_ctx, make_job("website.verify", subdomain="Layanan"))
    assert out["website_ok"] is True, out["website_report"]
    report = out["website_report"]
    assert f"layanan.{RFC2136_ZONE} (alias web1.{RFC2136_ZONE}) -> 127.0.0.1" in report


def test_name_not_in_dns_is_reported(site, handler_ctx, make_job, dns_server):
    host(handler_ctx, make_job)
    out = verify(handler_ctx, make_job("website.verify", fqdn=FQDN))
    assert out == {
        "website_ok": False,
        "website_report": f"Gagal: nama {FQDN} tidak ditemukan di server DNS "
        f"127.0.0.1:{dns_server.port} (NXDOMAIN).",
    }


def test_name_without_an_address_is_reported(site, handler_ctx, make_job):
    out = verify(handler_ctx, make_job("website.verify", fqdn=f"mx-only.{RFC2136_ZONE}"))
    assert out["website_ok"] is False
    assert "tanpa alamat (A/AAAA)" in out["website_report"]


def test_name_in_dns_but_not_hosted_gets_the_default_server(
    site, handler_ctx, make_job, dns_server
):
    in_zone(dns_server, "dinkes 300 IN A 127.0.0.1\n")
    out = verify(handler_ctx, make_job("website.verify", fqdn=FQDN))
    assert out["website_ok"] is False
    assert "menjawab HTTP 404 Not Found" in out["website_report"]
    assert out["website_report"].startswith("Gagal: ")


def test_web_server_down_is_reported(site, handler_ctx, make_job, dns_server):
    host(handler_ctx, make_job)
    in_zone(dns_server, "dinkes 300 IN A 127.0.0.1\n")
    site.stop()
    out = verify(handler_ctx, make_job("website.verify", fqdn=FQDN))
    assert out["website_ok"] is False
    assert out["website_report"] == (
        f"Gagal: {FQDN} -> 127.0.0.1 (server DNS 127.0.0.1:{dns_server.port}); "
        f"http://127.0.0.1:{site.port}/ menolak koneksi (Connection refused)."
    )


def test_dns_server_down_is_reported_or_retried_as_configured(
    site, handler_ctx, make_job, dns_server, configure_dns, set_agency_settings
):
    configure_dns(timeout=0.3)
    dns_server.stop()
    job = make_job("website.verify", fqdn=FQDN)
    out = verify(handler_ctx, job)
    assert out["website_ok"] is False
    assert out["website_report"].startswith(
        f"Gagal: server DNS 127.0.0.1:{dns_server.port} tidak menjawab ("
    )
    report = out["website_report"]
    assert report.endswith("2 percobaan); nama dinkes.kuduskab.go.id tidak dapat diperiksa.")

    set_agency_settings("kudus", website={"retry_pause": 0.05, "dns_unreachable": "retry"})
    with pytest.raises(HandlerError) as err:
        verify(handler_ctx, job)
    assert "tidak menjawab" in str(err.value) and "did not answer" in str(err.value)
    assert "tugas akan diulang" in str(err.value)


def test_a_web_server_that_never_answers_is_tried_again_then_reported(
    site, handler_ctx, make_job, dns_server, set_agency_settings
):
    in_zone(dns_server, "dinkes 300 IN A 127.0.0.1\n")
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts (the kernel does), never answers
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def take() -> None:
        silent.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(silent.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=take, daemon=True)
    t.start()
    try:
        set_agency_settings(
            "kudus",
            website={"port": silent.getsockname()[1], "timeout": 0.3, "retry_pause": 0.05},
        )
        out = verify(handler_ctx, make_job("website.verify", fqdn=FQDN))
    finally:
        stop.set()
        t.join()
        for c in accepted:
            c.close()
        silent.close()
    assert out["website_ok"] is False
    assert "tidak menjawab dalam 0.3 detik (setelah 2 percobaan)." in out["website_report"]
    assert len(accepted) == 2


def test_the_read_is_size_limited(site, handler_ctx, make_job, dns_server, set_agency_settings):
    public = host(handler_ctx, make_job)
    (public / "index.html").write_text("<title>Besar</title>" + "x" * 100_000)
    in_zone(dns_server, "dinkes 300 IN A 127.0.0.1\n")
    site.wait_for(FQDN, lambda s, h, b: s == 200 and b.startswith(b"<title>Besar"))
    set_agency_settings("kudus", website={"max_bytes": 1000})
    out = verify(handler_ctx, make_job("website.verify", fqdn=FQDN))
    assert out["website_ok"] is True
    assert 'judul "Besar"; 1000 byte (dipotong);' in out["website_report"]


@pytest.mark.parametrize("variables", [{}, {"fqdn": "bad name.kuduskab.go.id"}, {"fqdn": "x"}])
def test_no_usable_name_is_a_bpmn_error(site, handler_ctx, make_job, variables):
    with pytest.raises(BpmnErrorRaised) as err:
        verify(handler_ctx, make_job("website.verify", **variables))
    assert err.value.code == "NAME_INVALID"


# ---------------------------------------------------------------------- through the engine
DIAGRAM = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs_site"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="site_demo" name="Hosting baru" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:serviceTask id="create_hosting" name="Siapkan hosting" camunda:type="external"
        camunda:topic="hosting.create">
      <bpmn:extensionElements><camunda:inputOutput>
        <camunda:inputParameter name="subdomain">${subdomain}</camunda:inputParameter>
      </camunda:inputOutput></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:serviceTask id="create_dns" name="Beri nama subdomain" camunda:type="external"
        camunda:topic="dns.create">
      <bpmn:extensionElements><camunda:inputOutput>
        <camunda:inputParameter name="subdomain">${subdomain}</camunda:inputParameter>
      </camunda:inputOutput></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:serviceTask id="verify_website" name="Uji coba web" camunda:type="external"
        camunda:topic="website.verify">
      <bpmn:extensionElements><camunda:inputOutput>
        <camunda:inputParameter name="fqdn">${fqdn}</camunda:inputParameter>
      </camunda:inputOutput></bpmn:extensionElements>
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:exclusiveGateway id="gw_verified" name="Uji coba berhasil?" default="f_fix">
      <bpmn:incoming>f4</bpmn:incoming>
      <bpmn:outgoing>f_ok</bpmn:outgoing><bpmn:outgoing>f_fix</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:userTask id="announce" name="Umumkan situs" camunda:candidateGroups="technical_officer">
      <bpmn:incoming>f_ok</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="fix_website" name="Perbaiki web / hosting"
        camunda:candidateGroups="technical_officer">
      <bpmn:incoming>f_fix</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f5</bpmn:incoming><bpmn:incoming>f6</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="create_hosting" />
    <bpmn:sequenceFlow id="f2" sourceRef="create_hosting" targetRef="create_dns" />
    <bpmn:sequenceFlow id="f3" sourceRef="create_dns" targetRef="verify_website" />
    <bpmn:sequenceFlow id="f4" sourceRef="verify_website" targetRef="gw_verified" />
    <bpmn:sequenceFlow id="f_ok" sourceRef="gw_verified" targetRef="announce">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${website_ok}
      </bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_fix" sourceRef="gw_verified" targetRef="fix_website" />
    <bpmn:sequenceFlow id="f5" sourceRef="announce" targetRef="end" />
    <bpmn:sequenceFlow id="f6" sourceRef="fix_website" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def flow(engine, site, configure_dns, handler_ctx):
    """The diagram deployed for kudus; new names point at the test nginx's address."""
    configure_dns(default_target="127.0.0.1")
    engine.deploy(actor("admin_kudus", "kudus", "admin"), [("site.bpmn", DIAGRAM)])
    pool = WorkerPool(
        engine,
        HandlerRegistry([HostingCreateHandler(), DnsCreateHandler(), WebsiteVerifyHandler()]),
        context=handler_ctx,
    )

    def start(label: str) -> Any:
        return engine.start(
            actor("ani", "kudus", "applicant"),
            "site_demo",
            variables={"subdomain": label, "opd_name": "Dinas Kesehatan"},
        )

    return start, pool


def test_engine_flow_verified_site_goes_on(flow, engine, site, dns_server, admin):
    start, pool = flow
    inst = start("dinkes")
    assert pool.run_once() == 1  # hosting.create
    site.wait_for(FQDN)  # the reload reaches new connections
    assert pool.run_once() == 1  # dns.create
    assert pool.run_once() == 1  # website.verify
    assert pool.run_once() == 0
    variables = engine.get_instance(admin, inst.id).variables
    assert variables["hosting_path"] == str(site.web_root / FQDN / "public")
    assert variables["fqdn"] == FQDN
    assert variables["website_ok"] is True, variables["website_report"]
    assert f'judul "{TITLE}"' in variables["website_report"]
    assert dns_server.query(FQDN, "A") == ["127.0.0.1"]
    officer = actor("budi", "kudus", "technical_officer")
    assert [t.name for t in engine.inbox(officer)] == ["Umumkan situs"]
    assert engine.incidents(admin) == []


def test_engine_flow_unreachable_site_goes_to_fix(flow, engine, site, admin):
    start, pool = flow
    inst = start("dinkes")
    assert pool.run_once() == 1  # hosting.create
    site.stop()  # the web server goes down before the check
    while pool.run_once():
        pass
    variables = engine.get_instance(admin, inst.id).variables
    assert variables["website_ok"] is False
    assert "menolak koneksi" in variables["website_report"]
    officer = actor("budi", "kudus", "technical_officer")
    assert [t.name for t in engine.inbox(officer)] == ["Perbaiki web / hosting"]
    assert engine.incidents(admin) == []


def test_engine_flow_two_requests_for_one_name_one_hosting_and_one_incident(
    flow, engine, site, admin, handler_ctx
):
    start, pool = flow
    ids = {start("dinkes").id, start("dinkes").id}
    hosting_only = WorkerPool(
        engine, HandlerRegistry([HostingCreateHandler()]), context=handler_ctx
    )
    assert hosting_only.run_once() == 1
    assert hosting_only.run_once() == 1  # the other request's hosting.create
    [incident] = engine.incidents(admin)
    [winner] = ids - {incident.instance_id}
    assert incident.element_id == "create_hosting" and incident.kind == "unhandledBpmnError"
    assert "HOSTING_EXISTS" in incident.message
    assert f"milik permohonan kudus/{winner}" in (incident.details or "")
    assert (site.sites / f"{FQDN}.conf").read_text().split("\n", 1)[0].endswith(winner)

    site.wait_for(FQDN)
    while pool.run_once():
        pass
    assert engine.get_instance(admin, winner).variables["website_ok"] is True
    assert len(engine.incidents(admin)) == 1
