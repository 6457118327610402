"""Helpers for the Chromium tests, importable by name (``from browser_support import ...``)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app_fixtures import PASSWORD  # noqa: F401 - the password of every test user

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
VENDOR = ROOT / "web" / "static" / "vendor"


@dataclass
class ConsoleLog:
    """Console messages and uncaught page errors of every page it watches, as text."""

    messages: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def watch(self, page: Any) -> None:
        page.on("console", lambda m: self.messages.append(f"{m.type}: {m.text} @ {_where(m)}"))
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def csp_violations(self) -> list[str]:
        """Chromium logs every CSP refusal ("Refused to ... because it violates the following
        Content Security Policy directive") as a console error."""
        return [
            m
            for m in self.messages
            if "Content Security Policy" in m or "Content-Security-Policy" in m
        ]


def _where(message: Any) -> str:
    loc = message.location or {}
    return f"{loc.get('url', '')}:{loc.get('lineNumber', '')}:{loc.get('columnNumber', '')}"


def login(page: Any, base_url: str, username: str, password: str = PASSWORD) -> Any:
    """Log in through the real form; ends on the page the app redirects to."""
    page.goto(f"{base_url}/masuk")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    if "/masuk" in page.url:
        raise AssertionError(f"login as {username} failed: {page.url}")
    return page


def logout(page: Any) -> None:
    with page.expect_navigation():
        page.click("header form button[type=submit]")


def wait_until(
    condition: Callable[[], Any], what: str, timeout: float = 20.0, interval: float = 0.1
) -> Any:
    """Poll ``condition`` (background work: worker threads, timers) until it is truthy; its
    value, or an AssertionError naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def screenshot(page: Any, name: str, **options: Any) -> Path | None:
    """Save ``<SOPFLOW_SCREENSHOT_DIR>/<name>.png`` when that variable is set (documentation
    screenshots); otherwise nothing. ``options`` go to Playwright (``full_page=True``)."""
    folder = os.environ.get("SOPFLOW_SCREENSHOT_DIR")
    if not folder:
        return None
    path = Path(folder) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), **options)
    return path
