"""Attachment downloads: only to users of the attachment's agency who may see its request."""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, abort, current_app, g, send_file

from engine.errors import NotFound

from .. import formview
from ..auth import login_required
from ..errorpages import engine_errors

bp = Blueprint("files", __name__)
engine_errors(bp)


@bp.get("/lampiran/<attachment_id>")
@login_required
def download(attachment_id: str) -> Any:
    engine = current_app.extensions["sopflow"]
    st = formview.store()
    with engine.sessions() as s:
        att = st.get(s, attachment_id, agency_id=g.user.agency_id)
        s.expunge(att)
    if att.sensitive and not g.user.is_officer:
        abort(404)
    if att.instance_id is not None:
        from ..requests import visible_instance

        visible_instance(att.instance_id)  # 404 unless this user may see the request
    elif att.created_by != g.user.username and not g.user.is_officer:
        abort(404)
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
