"""The completion fast path (web/rest/fastpath.py) answers exactly what Flask answers.

Every case is sent twice to the running server, once with the fast path switched off (Flask
answers) and once with it on, and the two answers are compared: status, body and headers. A
counter in front of Flask shows which path answered, so a case cannot pass by both requests
silently taking the same one."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from rest_support import PASSWORD

from web.rest.fastpath import FastPath

JSON = {"Content-Type": "application/json"}
VARS = {"variables": {"approved": {"value": True, "type": "Boolean"}, "comment": {"value": "ok"}}}


@pytest.fixture
def flask_calls(app: Any) -> Iterator[list[str]]:
    """Paths of the requests that reached Flask; the fast path answers the others itself."""
    fast = app.wsgi_app
    assert isinstance(fast, FastPath)
    inner = fast.wsgi_app
    calls: list[str] = []

    def counting(environ: dict[str, Any], start_response: Any) -> Any:
        calls.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    fast.wsgi_app = counting
    yield calls
    fast.wsgi_app = inner


@pytest.fixture
def officer(server: str, users: dict[str, str], deployed: dict[str, Any]) -> requests.Session:
    s = requests.Session()
    s.auth = (users["officer"], PASSWORD)
    assert s.get(f"{server}/task?maxResults=0", timeout=5).status_code == 200  # fills the cache
    return s


def start_task(s: requests.Session, server: str, key: str = "rest_user") -> tuple[str, str]:
    pid = s.post(f"{server}/process-definition/key/{key}/start", json={}, timeout=5).json()["id"]
    [task] = s.get(f"{server}/task", params={"processInstanceId": pid}, timeout=5).json()
    return pid, task["id"]


def both(app: Any, calls: list[str], send: Callable[[], requests.Response]) -> requests.Response:
    """``send`` answered by Flask, then by the fast path (checked by the counter); the two
    answers must be the same but for the Date header. Returns the fast path's."""
    app.config["REST_FAST_PATH"] = False
    before = len(calls)
    via_flask = send()
    assert len(calls) == before + 1, "the Flask request did not reach Flask"
    app.config["REST_FAST_PATH"] = True
    via_fast = send()
    assert len(calls) == before + 1, "the fast path handed the request to Flask"
    assert via_flask.status_code == via_fast.status_code
    assert via_flask.content == via_fast.content
    assert _headers(via_flask) == _headers(via_fast)
    return via_fast


def _headers(r: requests.Response) -> dict[str, str]:
    return {k.lower(): v for k, v in r.headers.items() if k.lower() != "date"}


def each_new_task(
    s: requests.Session, server: str, action: str, body: dict[str, Any]
) -> Callable[[], requests.Response]:
    """A sender that acts on a task of its own each time (one for Flask, one for the fast
    path), for actions that change the task."""
    tasks = iter([start_task(s, server)[1] for _ in range(2)])
    return lambda: s.post(f"{server}/task/{next(tasks)}/{action}", json=body, timeout=5)


def test_completions_answer_as_flask_does(
    app: Any, server: str, officer: requests.Session, flask_calls: list[str]
) -> None:
    # 204, the instance ends on either path
    started = [start_task(officer, server) for _ in range(2)]
    tasks = iter(started)
    done = both(
        app,
        flask_calls,
        lambda: officer.post(f"{server}/task/{next(tasks)[1]}/complete", json=VARS, timeout=5),
    )
    assert done.status_code == 204 and done.content == b""
    assert "Content-Type" not in done.headers
    assert done.headers["Cache-Control"] == "no-store"
    assert done.headers["X-Content-Type-Options"] == "nosniff"
    for pid, _ in started:
        hist = officer.get(f"{server}/history/process-instance/{pid}", timeout=5).json()
        assert hist["state"] == "COMPLETED"
        got = officer.get(f"{server}/history/variable-instance?processInstanceId={pid}").json()
        values = {v["name"]: v["value"] for v in got}
        assert values["approved"] is True and values["comment"] == "ok"

    # a task already completed is Camunda's 404 "Cannot find task" (the same task for both)
    _, task = started[0]
    again = both(
        app,
        flask_calls,
        lambda: officer.post(f"{server}/task/{task}/complete", json=VARS, timeout=5),
    )
    assert again.status_code == 404
    assert again.json() == {
        "type": "InvalidRequestException",
        "message": f"Cannot complete task {task}: Cannot find task with id {task}",
    }

    # withVariablesInReturn: 200 with the instance's typed variables; submit-form
    body = {**VARS, "withVariablesInReturn": True}
    returned = both(app, flask_calls, each_new_task(officer, server, "complete", body))
    assert returned.status_code == 200
    assert returned.json()["approved"] == {"value": True, "type": "Boolean", "valueInfo": {}}
    submitted = both(app, flask_calls, each_new_task(officer, server, "submit-form", VARS))
    assert submitted.status_code == 204


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        (b"{", 400, "The request body is not valid JSON"),
        (b"null", 400, "The request body is not valid JSON"),
        (b"\xff\xfe{", 400, "The request body is not valid JSON"),
        (b"[1, 2]", 400, "The request body must be a JSON object"),
        (b'{"variables": {"a\\u0000": {"value": 1}}}', 400, "NUL character"),
        (b'{"variables": {"n": {"value": "x", "type": "Integer"}}}', 400, ""),
        (b'{"variables": [1]}', 400, ""),
    ],
)
def test_bad_bodies_answer_as_flask_does(
    app: Any,
    server: str,
    officer: requests.Session,
    flask_calls: list[str],
    data: bytes,
    status: int,
    message: str,
) -> None:
    _, task = start_task(officer, server)  # refused bodies leave it open: both use it
    headers = {"Content-Type": "application/json"}
    answer = both(
        app,
        flask_calls,
        lambda: officer.post(f"{server}/task/{task}/complete", data=data, headers=headers),
    )
    assert answer.status_code == status
    assert message in answer.json()["message"] and answer.json()["type"]
    assert officer.get(f"{server}/task/{task}", timeout=5).status_code == 200  # still open


def test_refusals_answer_as_flask_does(
    app: Any,
    server: str,
    users: dict[str, str],
    officer: requests.Session,
    http: Callable[[str], requests.Session],
    flask_calls: list[str],
) -> None:
    _, task = start_task(officer, server)
    # another agency and an applicant (not even seeing another's task) get Camunda's 404
    for who, status in (("outsider", 404), ("applicant", 404)):
        s = http(users[who])
        s.get(f"{server}/version", timeout=5)
        s.get(f"{server}/task?maxResults=0", timeout=5)  # its credentials are cached
        answer = both(
            app, flask_calls, lambda s=s: s.post(f"{server}/task/{task}/complete", json=VARS)
        )
        assert answer.status_code == status, answer.text
    unknown = both(
        app, flask_calls, lambda: officer.post(f"{server}/task/no-such-task/complete", json=VARS)
    )
    assert unknown.status_code == 404
    assert officer.get(f"{server}/task/{task}", timeout=5).status_code == 200


def test_external_task_completion_answers_as_flask_does(
    app: Any,
    server: str,
    users: dict[str, str],
    officer: requests.Session,
    flask_calls: list[str],
) -> None:
    worker = requests.Session()
    worker.auth = (users["admin"], PASSWORD)
    for _ in range(2):
        r = worker.post(f"{server}/process-definition/key/rest_ext/start", json={}, timeout=5)
        assert r.status_code == 200, r.text
    fetch = {
        "workerId": "w1",
        "maxTasks": 2,
        "topics": [{"topicName": "rest.work", "lockDuration": 60_000}],
    }
    locked = worker.post(f"{server}/external-task/fetchAndLock", json=fetch, timeout=5).json()
    assert len(locked) == 2
    first = locked[0]["id"]
    for body in ({"workerId": "someone-else"}, {"variables": {}}):  # the task stays locked
        answer = both(
            app,
            flask_calls,
            lambda body=body: worker.post(f"{server}/external-task/{first}/complete", json=body),
        )
        assert answer.status_code in (400, 409) and answer.json()["type"]
    ids = iter(t["id"] for t in locked)
    done = {"workerId": "w1", "variables": {"result": {"value": 7}}}
    answer = both(
        app,
        flask_calls,
        lambda: worker.post(f"{server}/external-task/{next(ids)}/complete", json=done),
    )
    assert answer.status_code == 204
    assert worker.get(f"{server}/external-task?topicName=rest.work", timeout=5).json() == []
    got = worker.get(f"{server}/history/variable-instance?variableName=result", timeout=5)
    assert [v["value"] for v in got.json()] == [7, 7]


def test_what_the_fast_path_leaves_to_flask(
    app: Any,
    server: str,
    users: dict[str, str],
    officer: requests.Session,
    flask_calls: list[str],
) -> None:
    """Unknown credentials (the first request, a wrong password), a browser's Origin, a query
    string, another content type, a large body: Flask answers, with its 401, CORS and limits."""
    _, task = start_task(officer, server)
    url = f"{server}/task/{task}/complete"

    def flask_answers(send: Callable[[], requests.Response]) -> requests.Response:
        before = len(flask_calls)
        r = send()
        assert flask_calls[before:] == [f"/engine-rest/task/{task}/complete"]
        return r

    wrong = flask_answers(
        lambda: requests.post(url, json=VARS, auth=(users["officer"], "x"), timeout=5)
    )
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"].startswith("Basic")
    cors = flask_answers(
        lambda: officer.post(url, data="{", headers={"Origin": "null", **JSON}, timeout=5)
    )
    assert cors.status_code == 400 and cors.headers["Access-Control-Allow-Origin"] == "null"
    assert "Access-Control-Allow-Methods" not in cors.headers  # only on the preflight
    text = flask_answers(
        lambda: officer.post(url, data=json.dumps(VARS), headers={"Content-Type": "text/plain"})
    )
    assert text.status_code == 400 and text.json()["message"] == (
        "The request body is not valid JSON"
    )
    big = {**VARS, "padding": "x" * 300_000}  # over the fast path's size: Flask answers
    assert flask_answers(lambda: officer.post(url, json=big)).status_code == 204
    # a task already completed by Flask: the query string keeps the next one there too
    again = flask_answers(lambda: officer.post(url + "?x=1", json=VARS))
    assert again.status_code == 404


def test_a_new_worker_goes_through_flask_once(
    app: Any, server: str, users: dict[str, str], deployed: dict[str, Any], flask_calls: list[str]
) -> None:
    s = requests.Session()
    s.auth = (users["officer"], PASSWORD)
    admin = requests.Session()
    admin.auth = (users["admin"], PASSWORD)
    tasks = [start_task(admin, server)[1] for _ in range(3)]
    app.extensions["sopflow.rest_credentials"].clear()
    before = len(flask_calls)
    for task in tasks:
        assert s.post(f"{server}/task/{task}/complete", json=VARS, timeout=5).status_code == 204
    assert flask_calls[before:] == [f"/engine-rest/task/{tasks[0]}/complete"]


def test_an_unexpected_error_is_a_500_on_both_paths_and_logged(
    app: Any,
    server: str,
    officer: requests.Session,
    flask_calls: list[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, task = start_task(officer, server)

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(app.extensions["sopflow"], "complete_task", broken)
    with caplog.at_level(logging.ERROR, logger="sopflow.rest"):
        answer = both(
            app, flask_calls, lambda: officer.post(f"{server}/task/{task}/complete", json=VARS)
        )
    assert answer.status_code == 500
    assert answer.json() == {"type": "ProcessEngineException", "message": "disk on fire"}
    logged = [r for r in caplog.records if r.name == "sopflow.rest"]
    assert len(logged) == 2 and all(r.exc_info for r in logged)
