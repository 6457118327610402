"""Users and groups of the administrator's agency: create (with a password typed in or one
generated and shown once), edit name, e-mail and groups, deactivate and reactivate.

An administrator cannot lock themself out: deactivating their own account or removing their
own ``admin`` group is refused with a message, not done. A password reset or a deactivation
ends every session of that user (web/auth/sessions.py) and drops their checked REST
credentials, in the same request: a copied cookie or a cached Basic header stops at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engine import units
from engine.access import Role
from engine.actors import ADMIN_GROUP
from engine.catalogue import ROLES
from engine.models import User, UserGroup, WorkUnit

from .. import passwords
from ..auth import now
from ..auth.account import forget_credentials
from ..auth.sessions import revoke_user
from ..i18n import error_text, gettext
from ..seed import USERNAME
from . import bp
from .common import admin_required, engine

EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,253}\.[^@\s.]{2,63}")


@dataclass
class UserForm:
    username: str = ""
    display_name: str = ""
    email: str = ""
    groups: list[str] = field(default_factory=list)
    unit: str = ""  # the work unit's code ("" for none)
    errors: dict[str, str] = field(default_factory=dict)


# the catalogue's roles and the machine roles an administrator gives to API token users
ASSIGNABLE = (*ROLES, *(r.value for r in Role if r.value not in ROLES))


def _units() -> dict[str, WorkUnit]:
    """The agency's units, read once per request and before any write transaction (SQLite
    has one writer: a second connection inside it would wait for the first)."""
    if "admin_units" not in g:
        g.admin_units = {u.code: u for u in units.list_units(engine(), g.actor)}
    return dict(g.admin_units)


def _unit_id(form: UserForm) -> int | None:
    return _units()[form.unit].id if form.unit else None


def _unit_code(user: User) -> str:
    return next((c for c, u in _units().items() if u.id == user.work_unit_id), "")


def _agency_users() -> list[User]:
    with engine().sessions() as s:
        return list(
            s.scalars(
                select(User).where(User.agency_id == g.user.agency_id).order_by(User.username)
            )
        )


def _user(s: Any, user_id: int) -> User:
    user = s.get(User, user_id)
    if user is None or user.agency_id != g.user.agency_id:
        abort(404)
    return user


def _read_common(form: UserForm, allowed: set[str]) -> None:
    form.display_name = request.form.get("display_name", "").strip()[:200]
    form.email = request.form.get("email", "").strip()[:254]
    form.groups = sorted({x for x in request.form.getlist("groups") if x in allowed})
    form.unit = request.form.get("unit", "").strip()
    if form.unit and form.unit not in _units():
        form.errors["unit"] = gettext("Unit kerja tidak dikenal.")
    if form.email and not EMAIL.fullmatch(form.email):
        form.errors["email"] = gettext("Alamat e-mail tidak sah.")
    if not form.groups:
        form.errors["groups"] = gettext("Pilih minimal satu grup.")


def _list_page(form: UserForm, status: int = 200, new_password: str | None = None) -> Any:
    return (
        render_template(
            "admin/users.html",
            users=_agency_users(),
            roles=ASSIGNABLE,
            units=list(_units().values()),
            form=form,
            new_password=new_password,
        ),
        status,
    )


@bp.get("/pengguna")
@admin_required
def users() -> Any:
    return _list_page(UserForm(groups=["applicant"]))


@bp.post("/pengguna")
@admin_required
def create_user() -> Any:
    _units()  # before the write transaction
    form = UserForm(username=request.form.get("username", "").strip().lower())
    _read_common(form, set(ASSIGNABLE))
    if not USERNAME.fullmatch(form.username):
        form.errors["username"] = gettext(
            "Nama pengguna harus 2-64 huruf kecil, angka, atau . _ @ -"
        )
    password = request.form.get("password", "")
    generated = not password
    if generated:
        password = passwords.random_password()
    try:
        password_hash = passwords.hash_password(password)
    except passwords.WeakPassword as e:
        form.errors["password"] = error_text(e)
    if not form.errors:
        taken = False
        try:
            with engine().sessions.begin() as s:
                if s.scalar(select(User.id).where(User.username == form.username)) is not None:
                    taken = True
                else:
                    s.add(
                        User(
                            username=form.username,
                            agency_id=g.user.agency_id,
                            password_hash=password_hash,
                            display_name=form.display_name or None,
                            email=form.email or None,
                            active=True,
                            created_at=engine().now(),
                            groups=[UserGroup(group=x) for x in form.groups],
                            work_unit_id=_unit_id(form),
                        )
                    )
        except IntegrityError:
            taken = True
        if taken:
            form.errors["username"] = gettext(
                "Nama pengguna %(username)s sudah dipakai. Pilih nama lain.",
                username=form.username,
            )
    if form.errors:
        flash(gettext("Pengguna belum dibuat. Periksa kembali isian yang ditandai."), "error")
        return _list_page(form, 422)
    flash(gettext("Pengguna %(username)s dibuat.", username=form.username), "ok")
    if generated:
        # shown in this response only: never put in the session or a redirect
        return _list_page(UserForm(groups=["applicant"]), new_password=password)
    return redirect(url_for("admin.users"))


def _edit_page(
    user: User, form: UserForm, status: int = 200, new_password: str | None = None
) -> Any:
    extra = sorted({ug.group for ug in user.groups} - set(ASSIGNABLE))
    return (
        render_template(
            "admin/user_edit.html",
            user=user,
            roles=[*ASSIGNABLE, *extra],
            units=list(_units().values()),
            form=form,
            new_password=new_password,
        ),
        status,
    )


@bp.get("/pengguna/<int:user_id>")
@admin_required
def edit_user(user_id: int) -> Any:
    _units()  # before the session: SQLite begins every session IMMEDIATE
    with engine().sessions() as s:
        user = _user(s, user_id)
        form = UserForm(
            username=user.username,
            display_name=user.display_name or "",
            email=user.email or "",
            groups=[ug.group for ug in user.groups],
            unit=_unit_code(user),
        )
        return _edit_page(user, form)


@bp.post("/pengguna/<int:user_id>")
@admin_required
def save_user(user_id: int) -> Any:
    _units()  # before the write transaction
    with engine().sessions.begin() as s:
        user = _user(s, user_id)
        form = UserForm(username=user.username)
        _read_common(form, set(ASSIGNABLE) | {ug.group for ug in user.groups})
        if user.id == g.user.id and ADMIN_GROUP not in form.groups:
            form.errors["groups"] = gettext(
                "Anda tidak dapat menghapus grup admin dari akun Anda sendiri."
            )
        if form.errors:
            flash(
                gettext("Perubahan belum disimpan. Periksa kembali isian yang ditandai."), "error"
            )
            return _edit_page(user, form, 422)
        user.display_name = form.display_name or None
        user.email = form.email or None
        current = {ug.group: ug for ug in user.groups}
        user.groups = [current.get(x) or UserGroup(group=x) for x in form.groups]
        user.work_unit_id = _unit_id(form)
    flash(gettext("Pengguna %(username)s disimpan.", username=form.username), "ok")
    return redirect(url_for("admin.users"))


@bp.post("/pengguna/<int:user_id>/status")
@admin_required
def set_active(user_id: int) -> Any:
    active = request.form.get("active") == "1"
    with engine().sessions.begin() as s:
        user = _user(s, user_id)
        username = user.username
        if user.id == g.user.id and not active:
            flash(gettext("Anda tidak dapat menonaktifkan akun Anda sendiri."), "error")
            return redirect(url_for("admin.users"))
        user.active = active
        if not active:
            revoke_user(s, user.id, now())
    if not active:
        forget_credentials(username)
    if active:
        flash(gettext("Pengguna %(username)s diaktifkan kembali.", username=username), "ok")
    else:
        flash(gettext("Pengguna %(username)s dinonaktifkan.", username=username), "ok")
    return redirect(url_for("admin.users"))


@bp.post("/pengguna/<int:user_id>/sandi")
@admin_required
def reset_password(user_id: int) -> Any:
    """A new random password, shown in this response only (a forgotten password)."""
    _units()  # before the write transaction
    password = passwords.random_password()
    with engine().sessions.begin() as s:
        user = _user(s, user_id)
        user.password_hash = passwords.hash_password(password)
        # an administrator resetting their own password keeps the session doing it
        revoke_user(s, user.id, now(), keep=g.session_id if user.id == g.user.id else None)
        form = UserForm(
            username=user.username,
            display_name=user.display_name or "",
            email=user.email or "",
            groups=[ug.group for ug in user.groups],
        )
    forget_credentials(user.username)  # after the commit, so no old check refills the cache
    flash(gettext("Kata sandi %(username)s diganti.", username=user.username), "ok")
    return _edit_page(user, form, new_password=password)
