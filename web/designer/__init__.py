"""Analysts: the web modeler (bpmn-js with the properties panel and the Camunda moddle),
drafts, validation located on the diagram, uploads from Camunda Modeler; administrators
publish a draft as a new version.

Analysts and administrators of an agency see that agency's drafts only (another agency's
draft is a 404). Validation runs the deploy checks (``engine.parse``) without deploying, so an
analyst sees on the diagram exactly what would refuse the publish. A published draft is kept,
marked with the version it became; editing it further and publishing again makes the next
version. Drafts may be deleted by their agency's analysts at any time.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from engine.errors import DeployError, NotFound, Problem
from web.context import engine

from ..auth import login_required
from ..errorpages import engine_errors
from ..i18n import add_translations, current_language, gettext
from . import drafts
from .models import DiagramDraft

bp = Blueprint("designer", __name__, url_prefix="/desain")
engine_errors(bp)

EN = {
    "Pemodel web belum terpasang di server ini (make assets memerlukan nodejs dan npm). Anda "
    "tetap dapat mengunduh draf, menyuntingnya di Camunda Modeler lalu mengunggahnya kembali.": (
        "The web modeler is not installed on this server (make assets needs nodejs and npm). "
        "You can still download the draft, edit it in Camunda Modeler and upload it again."
    ),
    "Desain proses": "Process design",
    "Proses yang berjalan": "Deployed processes",
    "Kunci": "Key",
    "Nama": "Name",
    "Versi": "Version",
    "Buka di pemodel": "Open in the modeler",
    "Draf": "Drafts",
    "Belum ada draf.": "No drafts yet.",
    "Belum ada proses yang di-deploy.": "No process has been deployed yet.",
    "Diubah": "Changed",
    "Oleh": "By",
    "Diterbitkan sebagai versi %(n)s": "Published as version %(n)s",
    "Unggah diagram": "Upload a diagram",
    "Berkas .bpmn dari Camunda Modeler (maks. 2 MB)": (
        "A .bpmn file from Camunda Modeler (max. 2 MB)"
    ),
    "Unggah": "Upload",
    "Pilih berkas .bpmn.": "Choose a .bpmn file.",
    "Diagram lebih besar dari 2 MB.": "The diagram is larger than 2 MB.",
    "Diagram diunggah sebagai draf.": "The diagram was uploaded as a draft.",
    "Pemodel": "Modeler",
    "Simpan": "Save",
    "Validasi": "Validate",
    "Unduh .bpmn": "Download .bpmn",
    "Hapus draf": "Delete draft",
    "Draf dihapus.": "Draft deleted.",
    "Revisi": "Revision",
    "Berdasarkan": "Based on",
    "Pemodel memerlukan JavaScript. Anda tetap dapat mengunduh draf, menyuntingnya di "
    "Camunda Modeler lalu mengunggahnya kembali.": (
        "The modeler needs JavaScript. You can still download the draft, edit it in Camunda "
        "Modeler and upload it again."
    ),
    "Masalah": "Problems",
    "Tersimpan.": "Saved.",
    "Menyimpan...": "Saving...",
    "Memvalidasi...": "Validating...",
    "Gagal menyimpan.": "Saving failed.",
    "Diagram valid: tidak ada masalah.": "The diagram is valid: no problems.",
    "Diagram valid, dengan %(n)s peringatan.": "The diagram is valid, with %(n)s warning(s).",
    "Peringatan": "Warnings",
    "Diagram memiliki %(n)s masalah.": "The diagram has %(n)s problem(s).",
    "Ada perubahan yang belum disimpan.": "There are unsaved changes.",
    "Diagram tidak dapat dibuka.": "The diagram could not be opened.",
    "Draf ini telah diubah oleh %(user)s sejak Anda membukanya. Muat ulang halaman untuk "
    "melihat versi terbaru; perubahan Anda belum disimpan.": (
        "This draft was changed by %(user)s since you opened it. Reload the page to see the "
        "latest version; your changes were not saved."
    ),
    "Terbitkan": "Publish",
    "Terbitkan sebagai versi baru": "Publish as a new version",
    "Tag versi": "Version tag",
    "Catatan": "Note",
    "Versi %(n)s diterbitkan.": "Version %(n)s published.",
    "Tidak ada perubahan: diagram sama dengan versi %(n)s yang berjalan, tidak ada versi baru.": (
        "Nothing changed: the diagram is the same as the running version %(n)s, no new "
        "version was made."
    ),
    "Diagram ditolak; perbaiki masalah berikut.": (
        "The diagram was refused; fix the following problems."
    ),
    "Lihat versi": "See versions",
    "Permintaan tidak berisi XML.": "The request has no XML.",
    "baris": "line",
    # the diagram on the request page (web/templates/requests/detail.html)
    "Diagram proses": "Process diagram",
    "Selesai": "Done",
    "Sedang berjalan": "In progress",
}
add_translations(EN)


@bp.before_request
def _analysts_only() -> None:
    # anonymous requests reach the views, whose @login_required sends them to the login page
    if g.get("user") is not None and not g.user.is_analyst:
        abort(403)


def problem_views(problems: list[Problem]) -> list[dict[str, Any]]:
    en = current_language() == "en"
    return [
        {
            "element_id": p.element_id,
            "line": p.line,
            "message": p.message_en if en else p.message_id,
        }
        for p in problems
    ]


def _draft_or_404(s: Any, draft_id: str) -> DiagramDraft:
    d = drafts.get_draft(s, g.user.agency_id, draft_id)
    if d is None:
        abort(404)
    return d


def _current_versions() -> list[Any]:
    latest: dict[str, Any] = {}
    for d in engine().definitions(g.actor):
        if d.key not in latest or d.version > latest[d.key].version:
            latest[d.key] = d
    current = {}
    for key in latest:
        try:
            current[key] = engine().current_definition(g.actor, key)
        except NotFound:  # every version suspended: show the latest
            current[key] = latest[key]
    return [current[k] for k in sorted(current)]


@bp.get("/")
@login_required
def index() -> Any:
    with engine().sessions() as s:
        rows = drafts.drafts_of(s, g.user.agency_id)
        s.expunge_all()
    return render_template(
        "designer/index.html", definitions=_current_versions(), drafts=rows, upload_error=None
    )


@bp.post("/buka")
@login_required
def open_definition() -> Any:
    definition_id = request.form.get("definition_id", "")
    with engine().sessions.begin() as s:
        d = drafts.definition_with_xml(s, g.user.agency_id, definition_id)
        if d is None:
            abort(404)
        draft = drafts.open_from_definition(s, d, g.user.username, engine().now())
        draft_id = draft.id
    return redirect(url_for("designer.draft", draft_id=draft_id))


@bp.post("/unggah")
@login_required
def upload() -> Any:
    f = request.files.get("file")
    error = None
    status = 400
    if f is None or not f.filename:
        error = gettext("Pilih berkas .bpmn.")
    else:
        data = f.stream.read(drafts.MAX_DIAGRAM_BYTES + 1)
        if len(data) > drafts.MAX_DIAGRAM_BYTES:
            error, status = gettext("Diagram lebih besar dari 2 MB."), 413
        else:
            try:
                info = drafts.sniff(data)
                text = drafts.as_text(data)
            except drafts.NotADiagram as e:
                error = e.message_en if current_language() == "en" else e.message_id
            else:
                now = engine().now()
                name = PurePath(f.filename.replace("\\", "/")).name[:255] or "diagram.bpmn"
                with engine().sessions.begin() as s:
                    draft = DiagramDraft(
                        agency_id=g.user.agency_id,
                        process_key=info.process_key,
                        name=info.name,
                        filename=name,
                        xml=text,
                        revision=1,
                        created_by=g.user.username,
                        created_at=now,
                        updated_by=g.user.username,
                        updated_at=now,
                    )
                    s.add(draft)
                    s.flush()
                    draft_id = draft.id
                flash(gettext("Diagram diunggah sebagai draf."), "ok")
                return redirect(url_for("designer.draft", draft_id=draft_id))
    with engine().sessions() as s:
        rows = drafts.drafts_of(s, g.user.agency_id)
        s.expunge_all()
    return (
        render_template(
            "designer/index.html",
            definitions=_current_versions(),
            drafts=rows,
            upload_error=error,
        ),
        status,
    )


def xml_response(xml: str) -> Response:
    """A diagram as data, never as a page: an uploaded file could carry XHTML that a browser
    would render if someone opened the URL, so it gets a sandbox CSP and no inline display."""
    resp = Response(xml, mimetype="application/xml")
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    resp.headers["Content-Disposition"] = "attachment"
    return resp


def _render_draft(draft: DiagramDraft, problems: list[Problem] | None = None, status: int = 200):
    return (
        render_template(
            "designer/modeler.html",
            draft=draft,
            problems=problem_views(problems or []),
            refused=problems is not None,
        ),
        status,
    )


@bp.get("/draf/<draft_id>")
@login_required
def draft(draft_id: str) -> Any:
    with engine().sessions() as s:
        d = _draft_or_404(s, draft_id)
        s.expunge(d)
    return _render_draft(d)


@bp.get("/draf/<draft_id>/xml")
@login_required
def draft_xml(draft_id: str) -> Any:
    with engine().sessions() as s:
        d = _draft_or_404(s, draft_id)
        resp = xml_response(d.xml)
        resp.headers["X-Draft-Revision"] = str(d.revision)
    return resp


@bp.get("/draf/<draft_id>/unduh")
@login_required
def download(draft_id: str) -> Any:
    with engine().sessions() as s:
        d = _draft_or_404(s, draft_id)
        name = d.filename if d.filename.endswith(".bpmn") else f"{d.process_key}.bpmn"
        resp = xml_response(d.xml)
    resp.headers["Content-Disposition"] = f'attachment; filename="{_ascii(name)}"'
    return resp


def _ascii(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name) or "diagram.bpmn"


def _posted_xml() -> tuple[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("xml"), str):
        abort(400)
    return body["xml"], body.get("revision")


@bp.route("/draf/<draft_id>/xml", methods=["PUT", "POST"])
@login_required
def save(draft_id: str) -> Any:
    xml, revision = _posted_xml()
    if not isinstance(revision, int):
        abort(400)
    with engine().sessions.begin() as s:
        d = _draft_or_404(s, draft_id)
        try:
            new = drafts.save(s, d, xml, revision, g.user.username, engine().now())
        except drafts.StaleDraft as e:
            return (
                jsonify(
                    error=gettext(
                        "Draf ini telah diubah oleh %(user)s sejak Anda membukanya. Muat ulang "
                        "halaman untuk melihat versi terbaru; perubahan Anda belum disimpan.",
                        user=e.current.updated_by,
                    ),
                    revision=e.current.revision,
                ),
                409,
            )
        except drafts.NotADiagram as e:
            msg = e.message_en if current_language() == "en" else e.message_id
            return jsonify(error=msg), 422
    return jsonify(ok=True, revision=new, message=gettext("Tersimpan."))


@bp.post("/draf/<draft_id>/validasi")
@login_required
def validate(draft_id: str) -> Any:
    xml, _ = _posted_xml()
    with engine().sessions() as s:
        d = _draft_or_404(s, draft_id)
        filename = d.filename
    try:
        parsed = engine().parse(filename, xml.encode("utf-8"))
    except DeployError as e:
        views = problem_views(e.problems)
        return jsonify(
            ok=False,
            problems=views,
            warnings=[],
            message=gettext("Diagram memiliki %(n)s masalah.", n=len(views)),
        )
    warnings = problem_views(parsed.warnings)
    message = (
        gettext("Diagram valid, dengan %(n)s peringatan.", n=len(warnings))
        if warnings
        else gettext("Diagram valid: tidak ada masalah.")
    )
    return jsonify(ok=True, problems=[], warnings=warnings, message=message)


@bp.post("/draf/<draft_id>/hapus")
@login_required
def delete(draft_id: str) -> Any:
    with engine().sessions.begin() as s:
        s.delete(_draft_or_404(s, draft_id))
    flash(gettext("Draf dihapus."), "ok")
    return redirect(url_for("designer.index"))


@bp.post("/draf/<draft_id>/terbitkan")
@login_required
def publish(draft_id: str) -> Any:
    if not g.user.is_admin:
        abort(403)
    tag = (request.form.get("version_tag") or "").strip()[:100] or None
    note = (request.form.get("note") or "").strip()[:2000] or None
    with engine().sessions() as s:
        d = _draft_or_404(s, draft_id)
        s.expunge(d)
    try:
        result = engine().deploy(
            g.actor,
            [(d.filename, d.xml.encode("utf-8"))],
            name=d.name or d.process_key,
            source="designer",
            version_tag=tag,
            note=note,
        )
    except DeployError as e:
        flash(gettext("Diagram ditolak; perbaiki masalah berikut."), "error")
        return _render_draft(d, e.problems, 422)
    if not result.deployed:
        version = result.unchanged[0].version if result.unchanged else "?"
        flash(
            gettext(
                "Tidak ada perubahan: diagram sama dengan versi %(n)s yang berjalan, tidak ada "
                "versi baru.",
                n=version,
            ),
            "info",
        )
        return redirect(url_for("designer.draft", draft_id=d.id))
    new = result.deployed[0]
    with engine().sessions.begin() as s:
        row = _draft_or_404(s, d.id)
        row.published_definition_id = new.id
        row.published_version = new.version
        row.published_by = g.user.username
        row.published_at = engine().now()
        row.based_on_definition_id = new.id
    flash(gettext("Versi %(n)s diterbitkan.", n=new.version), "ok")
    for w in problem_views(result.warnings):
        flash(f"{w['element_id']}: {w['message']}" if w["element_id"] else w["message"], "warning")
    return redirect(url_for("designer.draft", draft_id=d.id))
