"""Issue 12 on the administrator's pages: a version on a topic no built-in handler works says
so on the version page (located, Indonesian and English), and the queue per topic shows how
many jobs wait, the age of the oldest and when a worker last fetched the topic; only for the
administrator's own agency."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from test_admin import REQUEST
from ui_support import post

from engine.actors import Actor
from engine.runtime import TopicRequest

SMOKE = (Path(__file__).resolve().parents[1] / "data" / "rest" / "smoke_topic.bpmn").read_bytes()
ADMIN = Actor("adm", "kudus", frozenset({"admin"}))
WORKER = Actor("bot", "kudus", frozenset({"worker"}))


@pytest.fixture
def office(make_user: Any, deploy: Any) -> None:
    deploy("kudus")
    make_user("adm", "kudus", "admin")
    make_user("ana", "kudus", "analyst")
    make_user("eve", "tapin", "admin")


def row(html: str, topic: str) -> str:
    m = re.search(rf'<tr id="topic-{re.escape(topic)}".*?</tr>', html, re.S)
    assert m, html
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", m.group(0))).strip()


def test_version_page_warns_about_the_unknown_topic(
    office: Any, client_for: Any, engine: Any
) -> None:
    engine.deploy(ADMIN, [("smoke.bpmn", SMOKE)])
    adm = client_for("adm")
    html = adm.get("/admin/versi/smoke_process").get_data(as_text=True)
    assert 'data-element-id="Task_external"' in html
    assert (
        "<code>Task_external</code>: Topic &#39;smoke-topic&#39;: tidak ada handler bawaan: "
        "pekerjaan menunggu worker eksternal"
    ) in html
    post(adm, "/bahasa", {"lang": "en"})
    html = adm.get("/admin/versi/smoke_process").get_data(as_text=True)
    assert "Topic &#39;smoke-topic&#39;: no built-in handler: jobs wait for an external worker" in (
        html
    )
    # a process on built-in topics only has no warning
    assert "admin-warning" not in adm.get("/admin/versi/kudus").get_data(as_text=True)


def test_queue_page_numbers(office: Any, client_for: Any, engine: Any, clock: Any) -> None:
    engine.deploy(ADMIN, [("smoke.bpmn", SMOKE)])
    for _ in range(3):
        engine.start(ADMIN, "smoke_process")
        clock.advance(minutes=10)
    engine.fetch_and_lock("bot-1", [TopicRequest("smoke-topic", 7_200_000)], 1, actor=WORKER)
    engine.start(ADMIN, "kudus", values=REQUEST)  # its first step is a built-in topic
    clock.advance(hours=1, minutes=2)  # a lock of 2 h: still held
    adm = client_for("adm")
    html = adm.get("/admin/antrean").get_data(as_text=True)
    # 2 waiting (the third was fetched), 1 locked; the oldest waiting started 1 h 22 min ago
    assert row(html, "smoke-topic").startswith(
        "smoke-topic worker eksternal 2 1 1 jam 22 menit lalu"
    )
    assert "1 jam 2 menit lalu" in row(html, "smoke-topic") and "bot-1" in row(html, "smoke-topic")
    # the kudus process's own first job runs in-process: marked, and no fetch to show
    builtin = row(html, "letter.generate")
    assert builtin.startswith("letter.generate handler bawaan") and builtin.endswith("-")
    post(adm, "/bahasa", {"lang": "en"})
    html = adm.get("/admin/antrean").get_data(as_text=True)
    assert "1 h 22 min ago" in row(html, "smoke-topic")
    assert row(html, "smoke-topic").startswith("smoke-topic external worker 2 1")


def test_queue_page_shows_a_topic_no_worker_fetches(
    office: Any, client_for: Any, engine: Any
) -> None:
    engine.deploy(ADMIN, [("smoke.bpmn", SMOKE)])
    engine.start(ADMIN, "smoke_process")
    html = client_for("adm").get("/admin/antrean").get_data(as_text=True)
    assert row(html, "smoke-topic").endswith("belum pernah")


def test_queue_page_is_the_admins_agency_only(office: Any, client_for: Any, engine: Any) -> None:
    engine.deploy(ADMIN, [("smoke.bpmn", SMOKE)])
    engine.start(ADMIN, "smoke_process")
    engine.fetch_and_lock("bot-1", [TopicRequest("smoke-topic")], 1, actor=WORKER)
    html = client_for("eve").get("/admin/antrean").get_data(as_text=True)
    assert "smoke-topic" not in html and "Tidak ada pekerjaan dalam antrean." in html
    assert client_for("ana").get("/admin/antrean").status_code == 403
