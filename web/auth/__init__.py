"""Log in / log out, the per-request user, and ``login_required``.

The cookie (signed) carries only a random session id, the CSRF token and the language; the
session itself is a row in ``user_session`` (web/auth/sessions.py), looked up on every request,
so logging out, a password change, an administrator's reset or a deactivation ends it at once.
Every request reloads the user (groups, agency) too, so a changed group takes effect at once.

Failed logins are counted in memory by :class:`LoginLimiter` (each web process counts on its
own), shared by the login page and REST HTTP Basic (web/rest/auth.py): failures on one count
on the other.
"""

from __future__ import annotations

import functools
import math
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
from web.context import engine

from .. import passwords
from ..i18n import LANGUAGES, gettext
from ..security import is_rest, rotate_csrf_token
from . import sessions as user_sessions

bp = Blueprint("auth", __name__)

F = TypeVar("F", bound=Callable[..., Any])

IDLE_MINUTES = 30
MAX_HOURS = 12
MAX_FAILURES = 5  # per (username, client address)
MAX_ADDRESS_FAILURES = 20  # per client address, whatever the usernames (a spray)
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
    """Failed logins within ``window`` seconds, per (username, address) and per address.

    ``max_failures`` for one username from one address lock that pair (another address may
    still log in, so nobody can lock a user out from afar); ``max_address_failures`` from one
    address, across any usernames (or unknown API tokens), lock the address. A lock lasts
    ``lockout`` seconds, and even the right password waits it out. ``listeners`` are called
    with the username (None for an address) when a lock starts: the REST credential cache
    drops that user, so a cached success is not served past the lock."""

    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window: float = FAILURE_WINDOW,
        lockout: float = LOCKOUT_SECONDS,
        max_address_failures: int = MAX_ADDRESS_FAILURES,
    ) -> None:
        self.max_failures = max_failures
        self.max_address_failures = max_address_failures
        self.window = window
        self.lockout = lockout
        self.listeners: list[Callable[[str | None], None]] = []
        self._failures: dict[tuple[str, ...], list[float]] = {}
        self._locked: dict[tuple[str, ...], float] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _keys(username: str | None, address: str) -> list[tuple[str, ...]]:
        keys: list[tuple[str, ...]] = [("address", address)]
        if username is not None:
            keys.append(("user", username.lower(), address))
        return keys

    def locked_for(self, username: str | None, address: str) -> float:
        """Seconds left of the longer lockout of the pair and the address, 0 when none."""
        t = now()
        left = 0.0
        with self._lock:
            for key in self._keys(username, address):
                until = self._locked.get(key, 0.0)
                if until - t <= 0:
                    self._locked.pop(key, None)
                else:
                    left = max(left, until - t)
        return left

    def failed(self, username: str | None, address: str) -> None:
        """A wrong password (``username`` given) or an unknown token (None: the address only)."""
        t = now()
        started: list[str | None] = []
        with self._lock:
            for key in self._keys(username, address):
                limit = self.max_failures if key[0] == "user" else self.max_address_failures
                recent = [x for x in self._failures.get(key, []) if t - x < self.window]
                recent.append(t)
                if len(recent) >= limit:
                    self._locked[key] = t + self.lockout
                    recent = []
                    started.append(key[1] if key[0] == "user" else None)
                self._failures[key] = recent
            if len(self._failures) > 10_000:  # bound memory under a spray of usernames
                for k in list(self._failures)[:5_000]:
                    del self._failures[k]
            if len(self._locked) > 10_000:
                for k in [k for k, until in self._locked.items() if until <= t]:
                    del self._locked[k]
        for who in started:
            for listener in self.listeners:
                listener(who)

    def succeeded(self, username: str, address: str) -> None:
        """Forget the pair's failures; the address's stay (one good account in a spray)."""
        with self._lock:
            self._failures.pop(("user", username.lower(), address), None)


def login_limiter(app: Flask) -> LoginLimiter:
    """The app's one limiter, shared by the login page and REST Basic."""
    found: LoginLimiter = app.extensions.setdefault("sopflow.login_limiter", LoginLimiter())
    return found


def limiter() -> LoginLimiter:
    return login_limiter(current_app)


def retry_minutes(left: float) -> int:
    return max(1, int(left // 60) + (1 if left % 60 else 0))


def session_limits() -> user_sessions.Limits:
    cfg = current_app.config
    return user_sessions.Limits(
        idle=float(cfg.get("SOPFLOW_SESSION_IDLE_MINUTES", IDLE_MINUTES)) * 60,
        max_age=float(cfg.get("SOPFLOW_SESSION_MAX_HOURS", MAX_HOURS)) * 3600,
    )


def client_address() -> str:
    return request.remote_addr or "?"


def end_cookie_session() -> None:
    """Clear the cookie, keeping only the chosen language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def load_user() -> None:
    """``before_request``: ``g.user`` (a :class:`CurrentUser` or None), ``g.actor`` and
    ``g.session_id`` (the public id of this login's ``user_session`` row)."""
    g.user = None
    g.actor = None
    g.session_id = None
    if is_rest():  # HTTP Basic or a token, never the cookie
        return
    raw = session.get("sid")
    if not isinstance(raw, str) or not raw:
        if "uid" in session:  # a cookie from before server-side sessions: log in again
            end_cookie_session()
        return
    t = now()
    limits = session_limits()
    with engine().sessions() as s:
        row = user_sessions.lookup(s, raw)
        user = user_sessions.user_of(s, row) if row is not None else None
        if row is None or row.revoked_at is not None or user is None or not user.active:
            end_cookie_session()
            g.session_ended = row is not None
            return
        if limits.expired(row, t):
            end_cookie_session()
            g.session_expired = True
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
    g.session_id = row.id
    user_sessions.touch(engine().sessions, row, t)


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("user") is None:
            if g.get("session_expired"):
                flash(gettext("Sesi Anda telah berakhir. Silakan masuk kembali."), "warning")
            elif g.get("session_ended"):
                flash(gettext("Sesi Anda telah diakhiri. Silakan masuk kembali."), "warning")
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
    headers: dict[str, str] = {}
    username = ""
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()[:64]
        password = request.form.get("password") or ""
        address = client_address()
        left = limiter().locked_for(username, address)
        if left > 0:
            error = gettext(
                "Terlalu banyak percobaan gagal. Coba lagi dalam %(minutes)s menit.",
                minutes=retry_minutes(left),
            )
            status = 429
            headers["Retry-After"] = str(max(1, math.ceil(left)))
        else:
            with engine().sessions() as s:
                user = s.scalar(select(User).where(func.lower(User.username) == username.lower()))
                ok = passwords.verify_password(
                    user.password_hash if user is not None else None, password[:1024]
                )
                ok = ok and user is not None and user.active
                uid = user.id if user is not None else None
            if ok and uid is not None:
                limiter().succeeded(username, address)
                raw = user_sessions.start(
                    engine().sessions,
                    uid,
                    now(),
                    session_limits(),
                    request.headers.get("User-Agent", ""),
                    address,
                )
                end_cookie_session()  # no fixation: a fresh session (and CSRF token) on login
                session.permanent = True
                session["sid"] = raw
                rotate_csrf_token()
                return redirect(_safe_next(request.args.get("next")))
            limiter().failed(username, address)
            error = gettext("Nama pengguna atau kata sandi salah.")
            status = 401
    return (
        render_template("auth/login.html", error=error, username=username),
        status,
        headers,
    )


@bp.post("/keluar")
def logout() -> Any:
    raw = session.get("sid")
    if isinstance(raw, str) and raw:
        user_sessions.revoke(engine().sessions, raw, now())
    end_cookie_session()
    flash(gettext("Anda telah keluar."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/bahasa")
def set_language() -> Any:
    lang = request.form.get("lang")
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(_safe_next(request.form.get("next")))


def init_app(app: Flask) -> None:
    login_limiter(app)
    app.before_request(load_user)


from . import account  # noqa: E402,F401 - its pages are routes of ``bp``
