"""Every REST route has its entry in web/rest/permissions.py, and docs/rest-permissions.md says
what the table says (regenerate it with the snippet in the failure message)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from web.rest import permissions

DOC = Path(__file__).resolve().parents[2] / "docs" / "rest-permissions.md"


def rest_rules(app: Any) -> list[tuple[str, str, str]]:
    return [
        (r.endpoint, ", ".join(sorted((r.methods or set()) - {"HEAD", "OPTIONS"})), r.rule)
        for r in app.url_map.iter_rules()
        if r.endpoint.startswith("engine_rest.")
    ]


def test_every_rest_route_declares_its_permission(app: Any) -> None:
    names = {endpoint.split(".", 1)[1] for endpoint, _, _ in rest_rules(app)}
    assert names - set(permissions.ENDPOINTS) == set()  # a new route needs its entry
    assert set(permissions.ENDPOINTS) - names == set()  # and no entry outlives its route
    assert permissions.needed("engine_rest.no_such_view") == permissions.P.ADMINISTER


def test_the_permissions_document_is_current(app: Any) -> None:
    expected = permissions.markdown(rest_rules(app))
    assert DOC.read_text(encoding="utf-8") == expected, (
        "docs/rest-permissions.md is stale: write permissions.markdown(rest_rules(app)) to it"
    )
