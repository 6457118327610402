"""The OpenAPI document lists the served endpoints; a bounded schemathesis run against the live
server finds no 500 (``not_a_server_error``)."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from rest_support import PASSWORD


def test_openapi_document(server: str, users: dict[str, str]) -> None:
    doc = requests.get(f"{server}/openapi.json", timeout=5).json()
    assert doc["openapi"].startswith("3.")
    for path in (
        "/deployment/create",
        "/process-definition/key/{key}/start",
        "/task/{task_id}/complete",
        "/external-task/fetchAndLock",
        "/message",
        "/history/process-instance",
    ):
        assert path in doc["paths"], path
    writes = doc["paths"]["/process-instance/{instance_id}/variables/{name}"]
    assert set(writes) == {"get", "put", "delete"}
    assert "File" in str(writes["put"]["requestBody"])
    assert "delete" in doc["paths"]["/process-instance/{instance_id}"]
    assert "put" in doc["paths"]["/external-task/{task_id}/retries"]
    assert "put" in doc["paths"]["/job/{job_id}/retries"]
    upload = doc["paths"]["/process-instance/{instance_id}/variables/{name}/data"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    fetch = doc["paths"]["/external-task/fetchAndLock"]["post"]["requestBody"]
    topic = fetch["content"]["application/json"]["schema"]["properties"]["topics"]["items"]
    assert "processVariables" in topic["properties"]


def test_schemathesis_finds_no_500(
    server: str, users: dict[str, str], deployed: dict[str, Any], tmp_path: Path
) -> None:
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    if st is None:
        pytest.skip("schemathesis is not installed")
    token = base64.b64encode(f"{users['officer']}:{PASSWORD}".encode()).decode()
    run = subprocess.run(
        [
            st,
            "run",
            f"{server}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            os.environ.get("SOPFLOW_SCHEMATHESIS_EXAMPLES", "10"),
            "--request-timeout",
            "10",
            "--phases",
            "examples,fuzzing",
            *(
                []
                if os.environ.get("SOPFLOW_SCHEMATHESIS_RANDOM")
                else ["--generation-deterministic"]
            ),
            "-H",
            f"Authorization: Basic {token}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
