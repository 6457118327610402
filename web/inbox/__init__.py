"""Officers' inbox: open tasks of their groups and assigned to them, claim / release, and the
task page (the task's form, what the applicant submitted, the attachments)."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from engine import access
from engine.errors import Conflict, FormValidationError
from engine.models import HumanTask, ProcessInstance
from engine.states import InstanceState, TaskState
from web.context import engine

from .. import formview
from ..auth import login_required
from ..errorpages import engine_errors
from ..i18n import error_text, gettext

bp = Blueprint("inbox", __name__)
engine_errors(bp)


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"may_release": may_release}


def workable_task(task_id: str) -> HumanTask:
    """The task this user may see (the engine's 404 otherwise) and work on now (403
    otherwise: a colleague holds it), as engine/access.py decides."""
    t = engine().get_task(g.actor, task_id)
    if not access.may_work(g.actor, t, engine().get_instance(g.actor, t.instance_id)):
        abort(403)
    return t


def may_release(t: HumanTask, inst: ProcessInstance | None) -> bool:
    """Whether the page offers "Lepas": never for a task returned to an applicant's unit."""
    return inst is not None and access.may_release(g.actor, t, inst)


HOLDER_FILTERS = ("saya", "belum")  # claimed by me, not claimed by anyone


@bp.get("/tugas")
@login_required
def index() -> Any:
    """The inbox with filters an office uses all day: overdue only, claimed by me or by nobody,
    one service. Filters are plain GET parameters, so a filtered inbox can be bookmarked."""
    overdue_only = request.args.get("terlambat") == "1"
    holder = request.args.get("pegang", "")
    holder = holder if holder in HOLDER_FILTERS else ""
    service = request.args.get("layanan", "")
    tasks = engine().inbox(g.actor, overdue=overdue_only)
    wanted = {t.instance_id for t in tasks}
    instances = {
        i.id: i
        for i in engine().instances(g.actor, state=InstanceState.RUNNING, limit=2000)
        if i.id in wanted
    }
    services = sorted(
        {(i.definition.key, i.definition.name or i.definition.key) for i in instances.values()}
    )
    if holder == "saya":
        tasks = [t for t in tasks if t.assignee == g.user.username]
    elif holder == "belum":
        tasks = [t for t in tasks if not t.assignee]
    if service:
        tasks = [
            t
            for t in tasks
            if t.instance_id in instances and instances[t.instance_id].definition.key == service
        ]
    return render_template(
        "inbox/index.html",
        tasks=tasks,
        instances=instances,
        now=engine().now(),
        overdue_only=overdue_only,
        holder=holder,
        service=service,
        services=services,
    )


@bp.post("/tugas/<task_id>/ambil")
@login_required
def claim(task_id: str) -> Any:
    workable_task(task_id)
    try:
        engine().claim(g.actor, task_id)
        flash(gettext("Tugas diambil."), "ok")
    except Conflict as e:
        flash(error_text(e), "error")
    return redirect(url_for("inbox.task", task_id=task_id))


@bp.post("/tugas/<task_id>/lepas")
@login_required
def unclaim(task_id: str) -> Any:
    workable_task(task_id)
    engine().unclaim(g.actor, task_id)
    flash(gettext("Tugas dilepas."), "ok")
    return redirect(url_for("inbox.index"))


@bp.route("/tugas/<task_id>", methods=["GET", "POST"])
@login_required
def task(task_id: str) -> Any:
    t = workable_task(task_id)
    if t.state != TaskState.OPEN:
        return redirect(url_for("requests.detail", instance_id=t.instance_id))
    inst = engine().get_instance(g.actor, t.instance_id)
    current = dict(inst.variables)
    errors: list[Any] = []
    values = dict(current)
    status = 200
    if request.method == "POST":
        sub = formview.read_submission(t.form, current)
        values.update({k: v for k, v in sub.values.items() if k not in sub.uploads})
        errors = formview.check(t.form, sub, current)
        if not errors:
            formview.save_uploads(
                engine(),
                sub,
                agency_id=g.user.agency_id,
                username=g.user.username,
                instance_id=inst.id,
            )
            try:
                engine().complete_task(g.actor, t.id, sub.values)
            except FormValidationError as e:
                errors = list(e.errors)
            else:
                flash(gettext("Tugas diselesaikan."), "ok")
                return redirect(url_for("inbox.index"))
        status = 422
    task_fields = formview.field_views(t.form, values, errors)
    in_form = {f.id for f in task_fields}
    submitted = [
        f for f in formview.field_views(inst.definition.start_form, current) if f.id not in in_form
    ]
    return (
        render_template(
            "inbox/task.html",
            task=t,
            inst=inst,
            fields=task_fields,
            submitted=submitted,
            has_errors=bool(errors),
            now=engine().now(),
            attachments=formview.attachments_of(
                engine(), g.user.agency_id, inst.id, current, sensitive=g.user.is_officer
            ),
        ),
        status,
    )
