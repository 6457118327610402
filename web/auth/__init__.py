"""Log in / log out, the per-request user, and ``login_required``.

The session (a signed cookie) holds the user id, the login time and the last activity; every
request reloads the user (groups, agency) from the database, so a deactivated user or a changed
group takes effect at once. Failed logins are counted per username and client address in
memory; too many lock that pair out for a while (each web process counts on its own).
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import func, select

from engine import access
from engine.actors import ADMIN_GROUP, Actor
from engine.models import User

from .. import passwords
from ..i18n import LANGUAGES, gettext
from ..security import is_rest, rotate_csrf_token

bp = Blueprint("auth", __name__)

F = TypeVar("F", bound=Callable[..., Any])

IDLE_MINUTES = 30
MAX_HOURS = 12
MAX_FAILURES = 5
FAILURE_WINDOW = 15 * 60
LOCKOUT_SECONDS = 15 * 60


def now() -> float:
    """Wall-clock seconds; tests replace it to age a session."""
    return time.time()


@dataclass(frozen=True)
class CurrentUser:
    id: int
    username: str
    display_name: str
    agency_id: int
    agency_code: str
    agency_name: str
    timezone: str
    groups: frozenset[str]
    unit_id: int | None = None

    @property
    def actor(self) -> Actor:
        return Actor(
            username=self.username,
            agency=self.agency_code,
            groups=self.groups,
            unit_id=self.unit_id,
        )

    @property
    def is_officer(self) -> bool:
        """Works tasks inside the office (an officer group or admin; engine/access.py): not an
        applicant, analyst, worker or integration only. Menus only: the engine decides."""
        return access.is_officer(self.actor)

    @property
    def is_admin(self) -> bool:
        return ADMIN_GROUP in self.groups

    @property
    def is_analyst(self) -> bool:
        """Analysts design diagrams; administrators may do everything an analyst does."""
        return bool(self.groups & {"analyst", ADMIN_GROUP})


class LoginLimiter:
    """Failures per (username, address): ``MAX_FAILURES`` within the window lock the pair."""

    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window: float = FAILURE_WINDOW,
        lockout: float = LOCKOUT_SECONDS,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.lockout = lockout
        self._failures: dict[tuple[str, str], list[float]] = {}
        self._locked: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def locked_for(self, key: tuple[str, str]) -> float:
        """Seconds left of a lockout, 0 when none."""
        with self._lock:
            until = self._locked.get(key, 0.0)
            left = until - now()
            if left <= 0:
                self._locked.pop(key, None)
                return 0.0
            return left

    def failed(self, key: tuple[str, str]) -> None:
        t = now()
        with self._lock:
            recent = [x for x in self._failures.get(key, []) if t - x < self.window]
            recent.append(t)
            if len(recent) >= self.max_failures:
                self._locked[key] = t + self.lockout
                recent = []
            self._failures[key] = recent
            if len(self._failures) > 10_000:  # bound memory under a spray of usernames
                for k in list(self._failures)[:5_000]:
                    del self._failures[k]

    def succeeded(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._failures.pop(key, None)


def limiter() -> LoginLimiter:
    return current_app.extensions["sopflow.login_limiter"]


def engine() -> Any:
    return current_app.extensions["sopflow"]


def load_user() -> None:
    """``before_request``: ``g.user`` (a :class:`CurrentUser` or None) and ``g.actor``."""
    g.user = None
    g.actor = None
    if is_rest():  # HTTP Basic or a token, never the cookie
        return
    uid = session.get("uid")
    if uid is None:
        return
    t = now()
    cfg = current_app.config
    idle = float(cfg.get("SOPFLOW_SESSION_IDLE_MINUTES", IDLE_MINUTES)) * 60
    max_age = float(cfg.get("SOPFLOW_SESSION_MAX_HOURS", MAX_HOURS)) * 3600
    seen = float(session.get("seen", 0))
    started = float(session.get("login_at", 0))
    if t - seen > idle or t - started > max_age:
        session.clear()
        g.session_expired = True
        return
    with engine().sessions() as s:
        user = s.get(User, int(uid))
        if user is None or not user.active:
            session.clear()
            return
        g.user = CurrentUser(
            id=user.id,
            username=user.username,
            display_name=user.display_name or user.username,
            agency_id=user.agency_id,
            agency_code=user.agency.code,
            agency_name=user.agency.name,
            timezone=user.agency.timezone,
            groups=frozenset(ug.group for ug in user.groups),
            unit_id=user.work_unit_id,
        )
    g.actor = g.user.actor
    if t - seen > 60:  # refresh the idle clock, at most once a minute (fewer cookie writes)
        session["seen"] = t


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("user") is None:
            if g.get("session_expired"):
                flash(gettext("Sesi Anda telah berakhir. Silakan masuk kembali."), "warning")
            else:
                flash(gettext("Silakan masuk untuk melanjutkan."), "info")
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host, no ``//``) may be the redirect target."""
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
            and "\\" not in target
        ):
            return target
    return url_for("ui.home")


@bp.route("/masuk", methods=["GET", "POST"])
def login() -> Any:
    if g.get("user") is not None and request.method == "GET":
        return redirect(url_for("ui.home"))
    error = None
    status = 200
    username = ""
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()[:64]
        password = request.form.get("password") or ""
        key = (username.lower(), request.remote_addr or "?")
        left = limiter().locked_for(key)
        if left > 0:
            minutes = max(1, int(left // 60) + (1 if left % 60 else 0))
            error = gettext(
                "Terlalu banyak percobaan gagal. Coba lagi dalam %(minutes)s menit.",
                minutes=minutes,
            )
            status = 429
        else:
            with engine().sessions() as s:
                user = s.scalar(select(User).where(func.lower(User.username) == username.lower()))
                ok = passwords.verify_password(
                    user.password_hash if user is not None else None, password[:1024]
                )
                ok = ok and user is not None and user.active
                uid = user.id if user is not None else None
            if ok:
                limiter().succeeded(key)
                lang = session.get("lang")
                session.clear()  # no fixation: a fresh session (and CSRF token) on login
                session.permanent = True
                session["uid"] = uid
                session["login_at"] = session["seen"] = now()
                if lang:
                    session["lang"] = lang
                rotate_csrf_token()
                return redirect(_safe_next(request.args.get("next")))
            limiter().failed(key)
            error = gettext("Nama pengguna atau kata sandi salah.")
            status = 401
    return (
        render_template("auth/login.html", error=error, username=username),
        status,
    )


@bp.post("/keluar")
def logout() -> Any:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(gettext("Anda telah keluar."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/bahasa")
def set_language() -> Any:
    lang = request.form.get("lang")
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(_safe_next(request.form.get("next")))


def init_app(app: Flask) -> None:
    app.extensions.setdefault("sopflow.login_limiter", LoginLimiter())
    app.before_request(load_user)
