"""Fixtures for handler tests.

DNS: the real BIND ``named`` of tests/conftest.py (``dns_server``), with a dynamic zone for the
rfc2136 provider (kuduskab.go.id, agency kudus) and a static zone whose file the zonefile
provider edits (tapinkab.go.id, agency tapin; named reloads it with rndc). Each test starts from
fresh zone files.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from dns_server import RFC2136_ZONE, ZONEFILE_ZONE, NamedServer
from sqlalchemy import select

from engine.models import Agency
from handlers.base import HandlerContext, Job


@pytest.fixture
def set_agency_settings(sessions: Any, agencies: dict[str, int]) -> Callable[..., None]:
    def apply(code: str, **sections: Any) -> None:
        with sessions.begin() as s:
            agency = s.scalar(select(Agency).where(Agency.code == code))
            assert agency is not None
            agency.settings = {**(agency.settings or {}), **sections}

    return apply


@dataclass
class DnsEnv:
    """One agency wired to one provider of the test server."""

    kind: str
    agency: str
    zone: str
    server: NamedServer
    ctx: HandlerContext

    def fqdn(self, label: str) -> str:
        return f"{label}.{self.zone}"

    def a(self, label: str) -> list[str]:
        return self.server.query(self.fqdn(label), "A")


def _ctx(clock: Any, sessions: Any, server: NamedServer, **settings: Any) -> HandlerContext:
    return HandlerContext(
        clock=clock,
        sessions=sessions,
        settings={"TSIG_SOPFLOW_TEST": server.key_secret, **settings},
    )


@pytest.fixture
def handler_ctx(clock: Any, sessions: Any, dns_server: NamedServer) -> HandlerContext:
    return _ctx(clock, sessions, dns_server)


@pytest.fixture
def configure_dns(
    dns_server: NamedServer, set_agency_settings: Callable[..., None]
) -> Callable[..., None]:
    """Point kudus at the rfc2136 zone and tapin at the zone file (``extra`` for both)."""

    def apply(**extra: Any) -> None:
        set_agency_settings(
            "kudus", dns=dns_server.agency_settings(RFC2136_ZONE, "rfc2136", **extra)
        )
        set_agency_settings(
            "tapin", dns=dns_server.agency_settings(ZONEFILE_ZONE, "zonefile", **extra)
        )

    apply(default_target="192.0.2.80")
    return apply


@pytest.fixture(params=["rfc2136", "zonefile"])
def dns_env(
    request: pytest.FixtureRequest,
    configure_dns: Callable[..., None],
    handler_ctx: HandlerContext,
    dns_server: NamedServer,
) -> DnsEnv:
    if request.param == "rfc2136":
        return DnsEnv("rfc2136", "kudus", RFC2136_ZONE, dns_server, handler_ctx)
    return DnsEnv("zonefile", "tapin", ZONEFILE_ZONE, dns_server, handler_ctx)


@pytest.fixture
def make_job(clock: Any) -> Callable[..., Job]:
    """A job as a worker gets it; ``instance_id`` defaults to a new request each call."""

    def factory(
        topic: str,
        agency: str = "kudus",
        *,
        instance_id: str | None = None,
        business_key: str | None = None,
        job_id: str | None = None,
        **variables: Any,
    ) -> Job:
        instance_id = instance_id or str(uuid.uuid4())
        return Job(
            id=job_id or str(uuid.uuid4()),
            topic=topic,
            worker_id="test-worker",
            agency=agency,
            instance_id=instance_id,
            business_key=business_key or f"{agency.upper()}/2026/{instance_id[:6]}",
            definition_id="test:1",
            definition_key="test",
            element_id=topic.replace(".", "_"),
            variables=variables,
            retries=None,
            attempts=1,
            lock_expires_at=clock.now() + timedelta(minutes=5),
            priority=0,
        )

    return factory
