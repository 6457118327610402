"""The reproductions of issue 11, kept as regression tests with exact statuses, on the permission
matrix's office (tests/rest/matrix_world.py): a1 and a2 in unit A, b1 in unit B."""

from __future__ import annotations

from typing import Any

from matrix_world import SECRET_SUBDOMAIN, WORKER_ID, World, csrf, ui_client

from engine.runtime import TopicRequest

API = "/engine-rest"


def call(w: World, role: str, method: str, path: str, **kw: Any) -> Any:
    return w.app.test_client().open(API + path, method=method, headers=w.auth(role), **kw)


def test_1_an_applicant_reads_only_its_units_requests(world: World) -> None:
    w = world
    for role in ("b1", "a2"):
        listed = call(w, role, "GET", "/process-instance").get_json()
        ids = {row["id"] for row in listed}
        assert (w.r1 in ids) is (role == "a2"), role
        history = call(w, role, "GET", "/history/variable-instance").get_data(as_text=True)
        assert (SECRET_SUBDOMAIN in history) is (role == "a2"), role
    assert call(w, "b1", "GET", f"/process-instance/{w.r1}/variables").status_code == 404
    assert [u["id"] for u in call(w, "b1", "GET", "/user").get_json()] == ["m_b1"]
    assert len(call(w, "admin", "GET", "/user").get_json()) == 11  # every user of Kudus


def test_2_nobody_works_the_builtin_handlers_queue_over_rest(world: World) -> None:
    w = world
    fetch = {
        "workerId": "forger",
        "maxTasks": 5,
        "topics": [{"topicName": "letter.generate", "lockDuration": 60_000}],
    }
    for role in ("a1", "b1", "worker", "admin"):
        r = call(w, role, "POST", "/external-task/fetchAndLock", json=fetch)
        assert r.status_code == 403, (role, r.status_code)
    # the built-in handler holds the job; nobody completes it with forged variables or fails it
    (job,) = w.engine.fetch_and_lock(
        WORKER_ID, [TopicRequest("letter.generate", 600_000)], agency="kudus"
    )
    forged = {"workerId": WORKER_ID, "variables": {"letter_pdf": {"value": "palsu"}}}
    for role in ("a1", "worker", "admin"):
        r = call(w, role, "POST", f"/external-task/{job.id}/complete", json=forged)
        assert r.status_code == 403, (role, r.status_code)
        failure = {"workerId": WORKER_ID, "errorMessage": "x", "retries": 0}
        r = call(w, role, "POST", f"/external-task/{job.id}/failure", json=failure)
        assert r.status_code == 403, (role, r.status_code)
    (still,) = w.engine.external_tasks(w.actors["admin"], instance_id=w.r3)
    assert still.state == "locked" and still.worker_id == WORKER_ID
    # the worker works the external topics
    fetch["topics"] = [{"topicName": "rest.work", "lockDuration": 60_000}]
    fetch["workerId"] = "ext"
    (got,) = call(w, "worker", "POST", "/external-task/fetchAndLock", json=fetch).get_json()
    assert got["id"] == w.ext_job
    r = call(w, "worker", "POST", f"/external-task/{w.ext_job}/complete", json={"workerId": "ext"})
    assert r.status_code == 204


def test_3_an_applicant_rewrites_only_its_units_waiting_request(world: World) -> None:
    w = world
    put = {"json": {"value": "3374010101010001", "type": "String"}}
    assert call(w, "b1", "PUT", f"/process-instance/{w.r2}/variables/nik", **put).status_code == 404
    r1 = call(w, "a2", "PUT", f"/process-instance/{w.r1}/variables/nik", **put)
    assert r1.status_code == 403  # r1 waits on the Kepala Dinas, not on unit A
    assert call(w, "a2", "PUT", f"/process-instance/{w.r2}/variables/nik", **put).status_code == 204
    admin = w.actors["admin"]
    assert w.engine.get_instance(admin, w.r2).variables["nik"] == "3374010101010001"
    assert "nik" not in w.engine.get_instance(admin, w.r1).variables


def test_5_a_returned_task_is_never_released_to_other_units(world: World) -> None:
    w = world
    a1 = ui_client(w, "a1")
    page = a1.get(f"/tugas/{w.r2_task}").get_data(as_text=True)
    assert page and f"/tugas/{w.r2_task}/lepas" not in page  # no "Lepas" offered
    r = a1.post(f"/tugas/{w.r2_task}/lepas", data={"csrf_token": csrf(a1)})
    assert r.status_code == 403
    assert w.engine.get_task(w.actors["admin"], w.r2_task).assignee == "m_a1"
    b1 = ui_client(w, "b1")
    assert w.r2_task not in b1.get("/tugas").get_data(as_text=True)
    assert b1.get(f"/tugas/{w.r2_task}").status_code == 404
    r = b1.post(f"/tugas/{w.r2_task}", data={"subdomain": "curian", "csrf_token": csrf(b1)})
    assert r.status_code == 404
    # the unit answers together: a2 sees it and may submit it
    a2 = ui_client(w, "a2")
    assert w.r2_task in a2.get("/tugas").get_data(as_text=True)


def test_6_only_the_officers_of_a_request_read_it_and_its_credentials_letter(
    world: World,
) -> None:
    w = world
    for role, status in (
        ("analyst", 404),
        ("head_of_section", 404),  # an officer whose groups r1 never passed
        ("technical_officer", 404),
        ("a1", 404),  # the unit does not get a letter with a password
        ("head_of_office", 200),
        ("admin", 200),
    ):
        c = ui_client(w, role)
        assert c.get(f"/lampiran/{w.secret_letter}").status_code == status, role
        detail = c.get(f"/permohonan/{w.r1}")
        expected = 404 if role in ("analyst", "head_of_section", "technical_officer") else 200
        assert detail.status_code == expected, role
        assert ("kredensial-a1.pdf" in detail.get_data(as_text=True)) is (status == 200), role


def test_a_message_moves_only_a_request_the_caller_may_read(world: World) -> None:
    w = world
    body = {"messageName": "rest_go", "processInstanceId": w.msg_instance}
    r = call(w, "head_of_section", "POST", "/message", json=body)
    assert r.status_code == 400  # as if nothing waited
    admin = w.actors["admin"]
    assert w.engine.get_instance(admin, w.msg_instance).state == "running"
    assert call(w, "admin", "POST", "/message", json=body).status_code == 204
    assert w.engine.get_instance(admin, w.msg_instance).state == "completed"
