"""``/kredensial/<token>``: the page behind the one-time link of ``credentials.issue``.

The vault mails ``{base_url}/credentials/{token}`` by default (``CREDENTIALS_URL``); both paths
serve this page. GET only looks (:meth:`CredentialVault.check`: mail scanners follow links and
must not burn the password); the button POSTs (CSRF) and :meth:`CredentialVault.reveal_once`
shows the password exactly once, with ``Cache-Control: no-store``.

Login is required, as the applicant who filed the request the credentials belong to (same
agency). The vault row names its agency and request, so a leaked or forwarded link alone is not
enough; credentials issued without a request may be opened by any user of their agency. The
password is never logged; the token and the password never leave this request.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import abort, current_app, g, make_response, render_template
from sqlalchemy import select

from engine.models import ProcessInstance
from handlers.credentials.errors import CredentialsUnavailable
from handlers.credentials.models import SiteCredential
from handlers.credentials.vault import CredentialVault, token_hash
from web.context import engine

from ..auth import login_required
from ..i18n import gettext
from . import bp

log = logging.getLogger(__name__)

MESSAGES = {
    "unknown": "Tautan ini tidak sah.",
    "used": "Kata sandi ini sudah pernah ditampilkan. Minta kata sandi baru kepada petugas.",
    "expired": "Tautan ini sudah kedaluwarsa. Minta kata sandi baru kepada petugas.",
}
STATUS = {"valid": 200, "unknown": 404, "used": 410, "expired": 410}


def vault() -> CredentialVault:
    e = engine()
    return CredentialVault.from_settings(
        current_app.config.get("SOPFLOW") or {}, clock=e.clock, sessions=e.sessions
    )


def _row(token: str) -> SiteCredential | None:
    """The credential row of the link, if it belongs to this user; 403 for another applicant
    of the same agency. Another agency's link looks like an unknown one."""
    if not 20 <= len(token) <= 200:
        return None
    with engine().sessions() as s:
        row = s.scalar(select(SiteCredential).where(SiteCredential.token_hash == token_hash(token)))
        if row is None or row.agency_id != g.user.agency_id:
            return None
        inst = s.get(ProcessInstance, row.instance_id) if row.instance_id else None
        if inst is not None and inst.started_by != g.user.username:
            abort(403)
        s.expunge(row)
        return row


def _page(state: str, row: SiteCredential | None, revealed: Any = None) -> Any:
    resp = make_response(
        render_template(
            "survey/credentials.html",
            state=state,
            message=gettext(MESSAGES[state]) if state in MESSAGES else None,
            row=row,
            revealed=revealed,
        ),
        200 if revealed is not None else STATUS.get(state, 200),
    )
    # the page (and on POST the password) must not stay in a cache or travel in a Referer
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Pragma"] = "no-cache"
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["X-Robots-Tag"] = "noindex"
    return resp


@bp.get("/kredensial/<token>")
@bp.get("/credentials/<token>", endpoint="credentials_mailed")
@login_required
def credentials(token: str) -> Any:
    row = _row(token)
    if row is None:
        return _page("unknown", None)
    return _page(vault().check(token), row)


@bp.post("/kredensial/<token>")
@bp.post("/credentials/<token>", endpoint="credentials_reveal_mailed")
@login_required
def credentials_reveal(token: str) -> Any:
    row = _row(token)
    if row is None:
        return _page("unknown", None)
    try:
        revealed = vault().reveal_once(token)
    except CredentialsUnavailable as e:
        return _page(e.reason, row)
    log.info("credentials %s shown to %s", revealed.credentials_ref, g.user.username)
    return _page("revealed", row, revealed)
