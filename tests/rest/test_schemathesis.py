"""A bounded schemathesis run (its Python API) on the app's own OpenAPI document against the live
server, as an applicant of another unit (b1) and as a worker token, on the permission matrix's
office (tests/rest/matrix_world.py): no answer is a server error, and none carries a1's
requests (their ids, business keys, distinctive values).

Every operation gets a few generated cases, and the same with its path parameters set to a1's
real ids (a request, its tasks and jobs), so the run knocks on a1's doors rather than only on
random ones. ``SOPFLOW_SCHEMATHESIS_EXAMPLES`` sets the examples per operation (default 3)."""

from __future__ import annotations

import os
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from matrix_world import World

EXAMPLES = int(os.environ.get("SOPFLOW_SCHEMATHESIS_EXAMPLES", "3"))


def _a1_doors(w: World) -> dict[str, str]:
    """Path parameters naming a1's things."""
    return {
        "instance_id": w.r1,
        "task_id": w.r1_task,
        "definition_id": w.definition,
        "key": "kudus",
        "tenant_id": "kudus",
        "name": "subdomain",
    }


def _secrets(w: World, sent: str) -> list[str]:
    """a1's markers, less what the request itself carried (an error may echo an id)."""
    return [m for m in w.a1_markers() if m not in sent]


@pytest.mark.parametrize("role", ["b1", "worker"])
def test_schemathesis_as_an_outsider_finds_no_500_and_no_leak(
    world: World, server: str, role: str
) -> None:
    world.app.config["REST_MAX_LONG_POLLS"] = 0  # a generated long poll answers at once
    schema = schemathesis.openapi.from_url(f"{server}/openapi.json")
    headers = world.auth(role)
    doors = _a1_doors(world)
    session = requests.Session()
    problems: list[str] = []

    def check(case: Any) -> None:
        response = case.call(base_url=server, session=session, headers=headers, timeout=10)
        request = response.request
        sent = f"{request.url} {request.body!r}"
        where = f"{case.method} {request.url}"
        if response.status_code >= 500:
            problems.append(f"{where}: {response.status_code} {response.text[:200]}")
        found = [m for m in _secrets(world, sent) if m in response.text]
        if found:
            problems.append(f"{where}: {response.status_code} carries a1's {found[:3]}")

    for result in schema.get_all_operations():
        operation = result.ok()
        names = {p.name for p in operation.path_parameters}
        strategies = [operation.as_strategy()]
        if names:
            fixed = {k: v for k, v in doors.items() if k in names}
            if fixed:
                strategies.append(operation.as_strategy(path_parameters=fixed))
        for strategy in strategies:
            run = settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )(given(case=strategy)(check))
            run()
    assert not problems, "\n".join(problems[:40])
