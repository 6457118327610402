"""Constants shared by the REST tests (a conftest is not importable by name once another
test directory has its own conftest.py)."""

from __future__ import annotations

from pathlib import Path

PASSWORD = "kata-sandi-rahasia-1"
DATA = Path(__file__).resolve().parents[1] / "data" / "rest"
SMOKE = (DATA / "rest_smoke.bpmn").read_bytes()
# a Camunda Modeler diagram on a topic sopflow does not know (issue 12)
SMOKE_TOPIC = (DATA / "smoke_topic.bpmn").read_bytes()
