"""The user's own account pages: "Sesi aktif" (the logins still open, each can be ended, or all
but this one) and "Ganti kata sandi" (which ends every other session: whoever knew the old
password may be logged in somewhere).

Every page needs a login and acts on the logged-in user only: another user's session id is
"not found" (404), never ended. The POSTs carry the CSRF token like every form
(web/security.py)."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from engine.models import User

from .. import passwords
from ..i18n import add_translations, error_text, gettext
from . import (
    bp,
    client_address,
    end_cookie_session,
    engine,
    limiter,
    login_required,
    now,
    retry_minutes,
    session_limits,
)
from . import sessions as user_sessions

add_translations(
    {
        "Sesi aktif": "Active sessions",
        "Sesi ini": "This session",
        "Mulai": "Started",
        "Terakhir aktif": "Last active",
        "Peramban": "Browser",
        "Alamat": "Address",
        "Akhiri": "End",
        "Akhiri semua sesi lain": "End all other sessions",
        "Sesi diakhiri.": "Session ended.",
        "%(n)s sesi lain diakhiri.": "%(n)s other sessions ended.",
        "Tidak ada sesi lain.": "There are no other sessions.",
        "Sesi Anda telah diakhiri. Silakan masuk kembali.": (
            "Your session was ended. Please log in again."
        ),
        "Ganti kata sandi": "Change password",
        "Kata sandi saat ini": "Current password",
        "Kata sandi baru": "New password",
        "Ulangi kata sandi baru": "Repeat the new password",
        "Simpan": "Save",
        "Kata sandi saat ini salah.": "The current password is wrong.",
        "Kedua kata sandi baru tidak sama.": "The two new passwords differ.",
        "Kata sandi diganti. Sesi lain telah diakhiri.": (
            "Password changed. Your other sessions were ended."
        ),
        "Kata sandi belum diganti. Periksa kembali isian yang ditandai.": (
            "The password was not changed. Please check the marked fields."
        ),
    }
)


def forget_credentials(username: str) -> None:
    """Drop the user's checked REST credentials (the few-second cache the fast path serves
    from), after their password or state changed."""
    from ..rest.auth import credential_cache

    credential_cache(current_app).drop_user(username)


@bp.get("/akun/sesi")
@login_required
def sessions_page() -> Any:
    rows = user_sessions.active(engine().sessions, g.user.id, now(), session_limits())
    return render_template("auth/sessions.html", rows=rows, current=g.session_id)


@bp.post("/akun/sesi/<session_id>/akhiri")
@login_required
def end_session(session_id: str) -> Any:
    if len(session_id) > 36 or not user_sessions.revoke_one(
        engine().sessions, g.user.id, session_id, now()
    ):
        abort(404)
    if session_id == g.session_id:
        end_cookie_session()
        flash(gettext("Anda telah keluar."), "info")
        return redirect(url_for("auth.login"))
    flash(gettext("Sesi diakhiri."), "ok")
    return redirect(url_for("auth.sessions_page"))


@bp.post("/akun/sesi/akhiri-lainnya")
@login_required
def end_other_sessions() -> Any:
    with engine().sessions.begin() as s:
        ended = user_sessions.revoke_user(s, g.user.id, now(), keep=g.session_id)
    if ended:
        flash(gettext("%(n)s sesi lain diakhiri.", n=ended), "ok")
    else:
        flash(gettext("Tidak ada sesi lain."), "info")
    return redirect(url_for("auth.sessions_page"))


@bp.route("/akun/sandi", methods=["GET", "POST"])
@login_required
def change_password() -> Any:
    errors: dict[str, str] = {}
    if request.method == "GET":
        return render_template("auth/password.html", errors=errors)
    address = client_address()
    left = limiter().locked_for(g.user.username, address)
    if left > 0:  # guessing the current password through a stolen session counts too
        errors["current"] = gettext(
            "Terlalu banyak percobaan gagal. Coba lagi dalam %(minutes)s menit.",
            minutes=retry_minutes(left),
        )
        return render_template("auth/password.html", errors=errors), 429
    current = (request.form.get("current") or "")[: passwords.MAX_LENGTH]
    new = request.form.get("new") or ""
    repeat = request.form.get("repeat") or ""
    new_hash = None
    with engine().sessions.begin() as s:
        user = s.scalar(select(User).where(User.id == g.user.id))
        if user is None:
            abort(404)
        if not passwords.verify_password(user.password_hash, current):
            limiter().failed(g.user.username, address)
            errors["current"] = gettext("Kata sandi saat ini salah.")
        elif new != repeat:
            errors["repeat"] = gettext("Kedua kata sandi baru tidak sama.")
        else:
            try:
                new_hash = passwords.hash_password(new)
            except passwords.WeakPassword as e:
                errors["new"] = error_text(e)
        if new_hash is not None:
            user.password_hash = new_hash
            user_sessions.revoke_user(s, user.id, now(), keep=g.session_id)
    if errors:
        flash(gettext("Kata sandi belum diganti. Periksa kembali isian yang ditandai."), "error")
        return render_template("auth/password.html", errors=errors), 422
    limiter().succeeded(g.user.username, address)
    forget_credentials(g.user.username)
    flash(gettext("Kata sandi diganti. Sesi lain telah diakhiri."), "ok")
    return redirect(url_for("auth.sessions_page"))
