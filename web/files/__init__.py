"""Attachment downloads: only to users of the attachment's agency who may see its request."""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, abort, g, send_file

from engine import access
from engine.errors import NotFound
from web import context

from .. import formview
from ..auth import login_required
from ..errorpages import engine_errors

bp = Blueprint("files", __name__)
engine_errors(bp)


@bp.get("/lampiran/<attachment_id>")
@login_required
def download(attachment_id: str) -> Any:
    engine = context.engine()
    st = formview.store()
    with engine.sessions() as s:
        att = st.get(s, attachment_id, agency_id=g.user.agency_id)
        s.expunge(att)
    if att.instance_id is not None:
        from ..requests import visible_instance

        visible_instance(att.instance_id)  # 404 unless this user may read the request
        # a letter with a password: for the officers who may read the request, not the unit
        if att.sensitive and not access.is_officer(g.actor):
            abort(404)
    elif att.created_by != g.user.username:
        abort(404)  # an upload not yet part of a request is its uploader's
    try:
        data = st.read(att)
    except NotFound:
        abort(404)
    response = send_file(
        io.BytesIO(data),
        mimetype=att.mime_type,
        as_attachment=True,
        download_name=att.filename,
        max_age=0,
    )
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["Cache-Control"] = "private, no-store"
    return response
