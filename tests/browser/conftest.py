"""Fixtures for tests that drive the real UI in Chromium (Playwright, headless).

What a browser test gets:

- ``app`` / ``engine`` / ``make_user`` / ``deploy`` / ``work``: the shared app fixtures of
  tests/app_fixtures.py (the app on the suite's database with its frozen clock and no built-in
  workers; service tasks are played by ``work``, or by a test's own worker threads), with
  session cookies allowed over plain http.
- ``live_server``: the base URL (``http://127.0.0.1:<port>``) of that app served by waitress (as
  ``sopflow serve`` does) in a background thread, stopped after the test.
- ``browser`` (one Chromium per test module, ``/usr/bin/chromium``; skipped with a reason when it is
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

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from app_fixtures import app, cheap_scrypt, deploy, engine, make_user, work  # noqa: F401
from browser_support import CHROMIUM, PASSWORD, VENDOR, ConsoleLog
from browser_support import login as login_with
from support import unavailable

from web.rest.server import start_in_thread


@pytest.fixture
def app_settings() -> dict[str, Any]:
    return {"COOKIE_SECURE": "0"}  # plain http on 127.0.0.1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def live_server(app: Any) -> Iterator[str]:
    """The app served as ``sopflow serve`` serves it (waitress) on a loopback port; the base
    URL, without a trailing slash."""
    srv = start_in_thread(app, threads=8)
    try:
        yield f"http://127.0.0.1:{srv.port}"
    finally:
        srv.shutdown()
        srv.thread.join(5)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # module, not session: Playwright's sync API keeps an asyncio loop running in this thread
    # while it is open, and later tests (the Camunda clients) need asyncio.run()
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
