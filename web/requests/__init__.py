"""Applicants: the agency's service catalogue, filing a request from its start form, "my
requests" and the request page (timeline, submitted data, attachments)."""

from __future__ import annotations

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
    url_for,
)

from engine import access
from engine.access import Permission
from engine.errors import FormValidationError, NotFound
from engine.models import ProcessDefinition, ProcessInstance
from engine.states import HistoryKind, InstanceState
from web.context import engine

from .. import formview
from ..auth import login_required
from ..errorpages import engine_errors
from ..i18n import gettext

bp = Blueprint("requests", __name__)
engine_errors(bp)


def current_definitions() -> list[ProcessDefinition]:
    out = []
    for key in sorted({d.key for d in engine().definitions(g.actor)}):
        try:
            out.append(engine().current_definition(g.actor, key))
        except NotFound:
            continue  # every version suspended
    return out


def visible_instance(instance_id: str) -> ProcessInstance:
    """The instance, if this user may read it (engine/access.py: its work unit, the officers
    whose groups it passed, an administrator). Anything else is the engine's 404."""
    return engine().get_instance(g.actor, instance_id)


def is_overdue(inst: ProcessInstance) -> bool:
    if inst.sla_breached_at is not None:
        return True
    return (
        inst.state == InstanceState.RUNNING
        and inst.sla_due_at is not None
        and inst.sla_stopped_at is None
        and inst.sla_due_at < engine().now()
    )


def sla_clock(instances: list[ProcessInstance]) -> dict[str, dict[str, Any]]:
    """Per running instance with a deadline: overdue or not and whole working days left, on
    the agency's calendar (holidays, cuti bersama, overrides)."""
    out: dict[str, dict[str, Any]] = {}
    e = engine()
    now = e.now()
    with e.sessions() as s:
        cal = e.calendar(s, e.agency(s, g.actor.agency))
        for i in instances:
            late = is_overdue(i)
            days = None
            if (
                i.state == InstanceState.RUNNING
                and i.sla_due_at is not None
                and i.sla_stopped_at is None
            ):
                days = cal.working_days_between(now, i.sla_due_at)
            out[i.id] = {"overdue": late, "days_left": days}
    return out


@bp.get("/layanan")
@login_required
def catalogue() -> Any:
    return render_template("requests/catalogue.html", definitions=current_definitions())


@bp.route("/layanan/<key>/ajukan", methods=["GET", "POST"])
@login_required
def start(key: str) -> Any:
    from flask import request

    d = engine().current_definition(g.actor, key)
    if not access.allowed(g.actor, Permission.START):
        abort(403)  # before any upload is stored: a refused filing leaves nothing behind
    errors: list[Any] = []
    values: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        sub = formview.read_submission(d.start_form, {})
        values = {k: v for k, v in sub.values.items() if k not in sub.uploads}
        errors = formview.check(d.start_form, sub, {})
        if not errors:
            ids = formview.save_uploads(
                engine(), sub, agency_id=g.user.agency_id, username=g.user.username
            )
            try:
                inst = engine().start(g.actor, definition_id=d.id, values=sub.values)
            except FormValidationError as e:
                errors = list(e.errors)
            else:
                formview.link_uploads(engine(), ids, inst.id)
                flash(gettext("Permohonan %(key)s telah diajukan.", key=inst.business_key), "ok")
                return redirect(url_for("requests.detail", instance_id=inst.id))
        status = 422
    return (
        render_template(
            "requests/start.html",
            definition=d,
            fields=formview.field_views(d.start_form, values, errors),
            has_errors=bool(errors),
        ),
        status,
    )


@bp.get("/permohonan")
@login_required
def mine() -> Any:
    rows = engine().instances(g.actor, mine=True, limit=500)
    return render_template("requests/mine.html", instances=rows, sla=sla_clock(rows))


@bp.get("/permohonan/<instance_id>")
@login_required
def detail(instance_id: str) -> Any:
    inst = visible_instance(instance_id)
    history = engine().history(g.actor, inst.id)
    start_form = inst.definition.start_form
    submitted = formview.field_views(start_form, inst.variables)
    shown_ids = {f.id for f in submitted}
    extra = (
        sorted((k, v) for k, v in inst.variables.items() if k not in shown_ids)
        if g.user.is_officer
        else []
    )
    tasks = engine().inbox(g.actor, instance_id=inst.id)
    return render_template(
        "requests/detail.html",
        inst=inst,
        history=history,
        names=engine().element_names(g.actor, inst.definition_id),
        submitted=submitted,
        extra=extra,
        tasks=tasks,
        sla=sla_clock([inst])[inst.id],
        attachments=formview.attachments_of(
            engine(), g.user.agency_id, inst.id, inst.variables, sensitive=g.user.is_officer
        ),
    )


# -- the diagram on the request page (web/static/js/request-diagram.js) -----------------------
DONE_KINDS = frozenset(
    {
        HistoryKind.TASK_COMPLETED,
        HistoryKind.JOB_COMPLETED,
        HistoryKind.TIMER_FIRED,
        HistoryKind.MESSAGE_CORRELATED,
        HistoryKind.BPMN_ERROR,
    }
)


@bp.get("/permohonan/<instance_id>/diagram.xml")
@login_required
def diagram_xml(instance_id: str) -> Any:
    """The BPMN of the version this request runs on (not the current one)."""
    inst = visible_instance(instance_id)
    with engine().sessions() as s:
        d = s.get(ProcessDefinition, inst.definition_id)
        if d is None or d.agency_id != g.user.agency_id:
            abort(404)
        resp = Response(d.xml, mimetype="application/xml")
    # data for the viewer, never a page of its own
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    resp.headers["Content-Disposition"] = "attachment"
    return resp


@bp.get("/permohonan/<instance_id>/diagram.json")
@login_required
def diagram_state(instance_id: str) -> Any:
    """Element ids to highlight: what the request has passed (its workflow state, and the
    history for steps inside subprocesses) and what it waits on now, whoever's task it is —
    the applicant sees where the request waits."""
    inst = visible_instance(instance_id)
    passed = {
        h.element_id
        for h in engine().history(g.actor, inst.id)
        if h.kind in DONE_KINDS and h.element_id
    }
    done, waiting = engine().element_states(g.actor, inst.id)
    return jsonify(
        done=sorted((done | passed) - waiting), current=sorted(waiting), state=inst.state
    )
