"""Plain helpers for tests, importable as ``support`` (conftest modules are not importable by name
once sub-directories have their own conftest.py)."""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

import pytest

from engine.actors import Actor
from engine.catalogue import TOPICS

ROOT = Path(__file__).resolve().parent.parent
# the shared BPMN corpus is vendored under tests/data/bpmn-corpus (CC-BY-3.0, see its README)
SHARED = Path(os.environ.get("SOPFLOW_SHARED_DIR", ROOT / "tests" / "data"))
CORPUS = ROOT / "tests" / "data" / "bpmn"
PG_ADMIN_URL = os.environ.get(
    "SOPFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


CATALOGUE_TOPICS = TOPICS


def actor(username: str, agency: str = "kudus", *groups: str) -> Actor:
    """An actor of ``agency`` in ``groups``."""
    return Actor(username=username, agency=agency, groups=frozenset(groups))


def integration_required() -> bool:
    return os.environ.get("SOPFLOW_REQUIRE_INTEGRATION") == "1"


def unavailable(reason: str) -> None:
    """Skip, or fail in CI: a missing server must never turn into a silently green run."""
    if integration_required():
        pytest.fail(f"integration part unavailable (SOPFLOW_REQUIRE_INTEGRATION=1): {reason}")
    pytest.skip(reason)


def one_task_bpmn(
    key: str = "mini", name: str = "Layanan mini", group: str = "technical_officer"
) -> bytes:
    """The smallest real request: start, one user task ``check`` for ``group``, end — for tests
    about what surrounds a request (reports, surveys, sweeps), not about the SOPs."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="D" targetNamespace="x">
  <bpmn:process id="{escape(key)}" name="{escape(name)}" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="check" name="Periksa" camunda:candidateGroups="{escape(group)}">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="check" />
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="e" />
  </bpmn:process>
</bpmn:definitions>
""".encode()


# What a Kudus work unit types into the start form (files apart): the tests that file a Kudus
# request through the pages or the engine share it.
KUDUS_REQUEST = {
    "opd_name": "Dinas Pendidikan, Kepemudaan dan Olahraga",
    "letter_number": "421/1187/23.01/2026",
    "letter_date": "2026-11-20",
    "subdomain": "disdikpora",
    "purpose": "Website informasi PPDB",
    "applicant_email": "ani@disdikpora.kuduskab.go.id",
    "applicant_phone": "0291-438921",
}
