"""Fixtures for tests that drive the real UI in Chromium (Playwright, headless).

What a browser test gets:

- ``app`` / ``engine``: the Flask app from ``create_app`` on the suite's ``db_url`` (SQLite and
  PostgreSQL, like every other test), with the suite's frozen ``clock`` and no built-in
  workers (``WORKERS=0``): service tasks are played by the ``work`` fixture, so a test decides
  exactly when the automatic steps run.
- ``make_user(username, agency, *groups)`` and ``deploy(agency, key)``, as in tests/webui.
- ``live_server``: the base URL (``http://127.0.0.1:<port>``) of that app served by a threaded
  werkzeug server in a background thread, stopped after the test.
- ``browser`` (one Chromium per session, ``/usr/bin/chromium``; skipped with a reason when it is
  missing, failed when ``SOPFLOW_REQUIRE_INTEGRATION=1``), ``context`` and ``page`` (a fresh
  context per test, so no cookies leak between tests; ``context.new_page()`` gives a second
  person's window in the same login, ``browser.new_context()`` another login).
- ``console``: everything the page logged (console messages and uncaught errors) for every
  page of the test's context; ``console.csp_violations()`` lists the Content-Security-Policy
  refusals, which a test should assert empty.
- ``login(page, username)``: logs in through the real login form (``browser_support.login``).
- ``person(username, width=..., height=...)``: a new page in a context of its own (own cookies,
  watched by ``console``), logged in as ``username``: several people side by side in one test.
- ``browser_support.wait_until(condition, what)`` waits for background work (worker threads)
  and ``browser_support.screenshot(page, name)`` saves documentation screenshots when
  ``SOPFLOW_SCREENSHOT_DIR`` is set.

Every test here is marked ``integration`` automatically. Test modules import helpers from
``browser_support`` (never ``from conftest import``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from browser_support import CHROMIUM, PASSWORD, VENDOR, ConsoleLog
from browser_support import login as login_with
from support import unavailable
from werkzeug.serving import make_server

from engine.actors import Actor
from engine.models import User, UserGroup
from engine.runtime import TopicRequest
from web import create_app, passwords

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
WORKER = "browser-test-worker"
TOPICS = (
    "subdomain.check",
    "subdomain.reserve",
    "dns.create",
    "hosting.create",
    "website.verify",
    "mail.send",
    "letter.generate",
    "credentials.issue",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "METHOD", "scrypt:1024:8:1")


@pytest.fixture
def app(db_url: str, agencies: dict[str, int], clock: Any, tmp_path: Path) -> Iterator[Any]:
    app = create_app(
        {
            "DATABASE_URL": db_url,
            "SECRET_KEY": "test-secret-key-for-the-browser",
            "WORKERS": 0,
            "INSTANCE_DIR": tmp_path / "instance",
            "CLOCK": clock,
            "COOKIE_SECURE": "0",  # plain http on 127.0.0.1
        }
    )
    if "ui" not in app.blueprints:  # until create_app wires it
        from web import ui

        ui.register(app)
    yield app
    app.extensions["sopflow"].sessions.kw["bind"].dispose()


@pytest.fixture
def engine(app: Any) -> Any:
    return app.extensions["sopflow"]


@pytest.fixture
def make_user(app: Any, agencies: dict[str, int]) -> Callable[..., str]:
    """``make_user(username, agency="kudus", *groups)``; password: browser_support.PASSWORD."""

    def make(username: str, agency: str = "kudus", *groups: str, active: bool = True) -> str:
        with app.extensions["sopflow"].sessions.begin() as s:
            s.add(
                User(
                    username=username,
                    agency_id=agencies[agency],
                    password_hash=passwords.hash_password(PASSWORD),
                    display_name=username.title(),
                    active=active,
                    created_at=datetime.now(UTC),
                    groups=[UserGroup(group=g) for g in groups],
                )
            )
        return username

    return make


@pytest.fixture
def deploy(engine: Any) -> Callable[..., Any]:
    """``deploy(agency="kudus", key=None)``: bpmn/<key>.bpmn as that agency's administrator."""

    def run(agency: str = "kudus", key: str | None = None) -> Any:
        key = key or agency
        admin = Actor(f"admin_{agency}", agency, frozenset({"admin"}))
        return engine.deploy(admin, [(f"{key}.bpmn", (BPMN_DIR / f"{key}.bpmn").read_bytes())])

    return run


@pytest.fixture
def work(engine: Any) -> Callable[..., list[str]]:
    """Play the external worker: complete every available job (``outputs`` per topic) until
    the queue is empty; returns the element ids worked, in order."""

    def run(
        agency: str = "kudus",
        outputs: Mapping[str, Mapping[str, Any]] | None = None,
        topics: tuple[str, ...] = TOPICS,
    ) -> list[str]:
        done: list[str] = []
        for _ in range(50):
            jobs = engine.fetch_and_lock(
                WORKER, [TopicRequest(t, 60_000) for t in topics], max_tasks=10, agency=agency
            )
            if not jobs:
                return done
            for job in jobs:
                engine.complete_external(WORKER, job.id, dict((outputs or {}).get(job.topic, {})))
                done.append(job.element_id)
        raise AssertionError("the job queue never emptied")

    return run


@pytest.fixture
def live_server(app: Any) -> Iterator[str]:
    """The app on a loopback port; the base URL, without a trailing slash."""
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}"
    finally:
        srv.shutdown()
        thread.join(5)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        unavailable(f"Chromium is not installed at {CHROMIUM} (Debian package chromium)")
    if not (VENDOR / "viewer.js").exists() or not (VENDOR / "modeler.js").exists():
        unavailable(f"the bpmn-js bundles are not built in {VENDOR}: run `make assets`")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as e:  # pragma: no cover - the dev extra installs it
        unavailable(f"the playwright package is not installed: {e}")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def console() -> ConsoleLog:
    return ConsoleLog()


@pytest.fixture
def context(browser: Any, console: ConsoleLog) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="id-ID")
    ctx.set_default_timeout(15_000)
    ctx.on("page", console.watch)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


@pytest.fixture
def login(live_server: str) -> Callable[..., Any]:
    """``login(page, username, password=PASSWORD)`` against the live server."""

    def run(page: Any, username: str, password: str = PASSWORD) -> Any:
        return login_with(page, live_server, username, password)

    return run


@pytest.fixture
def person(browser: Any, console: ConsoleLog, login: Callable[..., Any]) -> Iterator[Any]:
    """``person(username, width=1280, height=860)``: a logged-in page with its own cookies."""
    contexts: list[Any] = []

    def open_as(username: str, width: int = 1280, height: int = 860) -> Any:
        ctx = browser.new_context(viewport={"width": width, "height": height}, locale="id-ID")
        ctx.set_default_timeout(15_000)
        ctx.on("page", console.watch)
        contexts.append(ctx)
        page = ctx.new_page()
        login(page, username)
        return page

    yield open_as
    for ctx in contexts:
        ctx.close()
