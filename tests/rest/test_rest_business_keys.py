"""A chosen ``businessKey`` over REST (issue 11): the generated shape is a 400 in both languages,
keys are unique per agency, and a conflict says nothing of other agencies."""

from __future__ import annotations

from typing import Any

import requests
from rest_support import SMOKE


def _deploy(server: str, session: requests.Session) -> None:
    r = session.post(
        f"{server}/deployment/create",
        data={"deployment-name": "rest", "enable-duplicate-filtering": "true"},
        files={"data": ("rest_smoke.bpmn", SMOKE, "text/xml")},
        timeout=10,
    )
    assert r.status_code == 200, r.text


def _start(server: str, session: requests.Session, key: str | None = None) -> requests.Response:
    body: dict[str, Any] = {"variables": {}}
    if key is not None:
        body["businessKey"] = key
    return session.post(f"{server}/process-definition/key/rest_user/start", json=body, timeout=10)


def test_a_tapin_caller_cannot_take_kudus_numbers(
    server: str, users: dict[str, str], http: Any
) -> None:
    kudus, tapin = http(users["admin"]), http(users["outsider"])
    _deploy(server, kudus)
    _deploy(server, tapin)
    assert _start(server, kudus).json()["businessKey"] == "KUDUS/2026/000001"

    refused = _start(server, tapin, "KUDUS/2026/000002")
    assert refused.status_code == 400, refused.text
    message = refused.json()["message"]
    assert "berbentuk nomor yang dibuat sistem" in message  # Indonesian
    assert "has the shape of the keys the system generates" in message  # and English
    for bad in ("A\nB", "x" * 101, "tapin/2026/000001"):
        assert _start(server, tapin, bad).status_code == 400

    assert _start(server, kudus).json()["businessKey"] == "KUDUS/2026/000002"
    assert _start(server, tapin).json()["businessKey"] == "TAPIN/2026/000001"


def test_chosen_keys_are_unique_per_agency_and_conflicts_say_nothing_else(
    server: str, users: dict[str, str], http: Any
) -> None:
    kudus, tapin = http(users["admin"]), http(users["outsider"])
    _deploy(server, kudus)
    _deploy(server, tapin)
    assert _start(server, tapin, "SURAT-421").status_code == 200
    mine = _start(server, kudus, "SURAT-421")  # used in Tapin only: fine here
    assert mine.status_code == 200 and mine.json()["businessKey"] == "SURAT-421"

    again = _start(server, kudus, "SURAT-421")
    assert again.status_code == 400, again.text
    message = again.json()["message"]
    assert "sudah dipakai di instansi ini" in message and "already used in this agency" in message
    assert "tapin" not in message.lower()
    # a key used in Tapin only and a key used nowhere answer alike in Kudus
    assert _start(server, kudus, "SURAT-999").status_code == 200
