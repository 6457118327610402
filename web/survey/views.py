"""The IKM survey of one completed request: ``/permohonan/<id>/survei``.

Only the applicant who filed the request answers, once, after it completed. The mailed link
(``survey_invite``, ``MAIL_SURVEY_URL`` default ``{base_url}/survey/{instance_id}``) lands on
``/survey/<id>``, which redirects here, so the mail handler's default and this page agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engine.errors import NotFound
from engine.models import ProcessInstance
from engine.states import InstanceState
from web.context import engine

from ..auth import login_required
from ..errorpages import engine_errors
from ..i18n import gettext
from . import bp
from .models import SurveyResponse
from .questions import CODES, ELEMENTS, SUGGESTION_MAX, Element

engine_errors(bp)


@dataclass(frozen=True)
class Question:
    element: Element
    value: str
    error: str | None


def _filed_instance(instance_id: str) -> ProcessInstance:
    """The request, if this user filed it. Another agency's request is a 404 (from the engine);
    another applicant's too, as on the request page; an officer gets a 403."""
    inst = engine().get_instance(g.actor, instance_id)
    if inst.started_by != g.user.username:
        if not g.user.is_officer:
            abort(404)
        abort(403)
    return inst


def _existing(agency_id: int, instance_id: str) -> SurveyResponse | None:
    with engine().sessions() as s:
        return s.scalar(
            select(SurveyResponse).where(
                SurveyResponse.agency_id == agency_id, SurveyResponse.instance_id == instance_id
            )
        )


def may_answer(inst: ProcessInstance) -> bool:
    """For the request page: show the survey link to the filer of a completed, unanswered
    request."""
    user = g.get("user")
    if user is None or inst.state != InstanceState.COMPLETED or inst.started_by != user.username:
        return False
    return _existing(user.agency_id, inst.id) is None


@bp.app_context_processor
def _template_helpers() -> dict[str, Any]:
    return {"survey_allowed": may_answer}


def _validate(form: Any) -> tuple[dict[str, int], dict[str, str], str, str | None]:
    answers: dict[str, int] = {}
    errors: dict[str, str] = {}
    for code in CODES:
        raw = (form.get(code) or "").strip()
        if raw in ("1", "2", "3", "4"):
            answers[code] = int(raw)
        else:
            errors[code] = gettext("Pilih salah satu jawaban.")
    suggestion = (form.get("suggestion") or "").strip()
    suggestion_error = None
    if len(suggestion) > SUGGESTION_MAX:
        suggestion_error = gettext(
            "Saran terlalu panjang (maksimal %(n)s karakter).", n=SUGGESTION_MAX
        )
    return answers, errors, suggestion, suggestion_error


@bp.get("/survey/<instance_id>")
@login_required
def mailed_link(instance_id: str) -> Any:
    return redirect(url_for("survey.answer", instance_id=instance_id))


@bp.route("/permohonan/<instance_id>/survei", methods=["GET", "POST"])
@login_required
def answer(instance_id: str) -> Any:
    inst = _filed_instance(instance_id)
    done = _existing(g.user.agency_id, inst.id)
    status = 200
    notice = None
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    suggestion, suggestion_error = "", None
    if done is not None:
        notice = gettext("Anda sudah mengisi survei untuk permohonan ini. Terima kasih.")
        status = 409 if request.method == "POST" else 200
    elif inst.state != InstanceState.COMPLETED:
        notice = gettext("Survei dapat diisi setelah permohonan selesai.")
        status = 409 if request.method == "POST" else 200
    elif request.method == "POST":
        answers, errors, suggestion, suggestion_error = _validate(request.form)
        values = {k: str(request.form.get(k, "")) for k in CODES}
        if not errors and suggestion_error is None:
            if _save(inst, answers, suggestion):
                flash(gettext("Terima kasih, survei Anda telah kami terima."), "ok")
                return redirect(url_for("requests.detail", instance_id=inst.id))
            notice = gettext("Anda sudah mengisi survei untuk permohonan ini. Terima kasih.")
            status = 409
        else:
            status = 422
    questions = [Question(e, values.get(e.code, ""), errors.get(e.code)) for e in ELEMENTS]
    return (
        render_template(
            "survey/answer.html",
            inst=inst,
            notice=notice,
            done=done,
            can_answer=notice is None,
            questions=questions,
            has_errors=bool(errors) or suggestion_error is not None,
            suggestion=suggestion,
            suggestion_error=suggestion_error,
            suggestion_max=SUGGESTION_MAX,
        ),
        status,
    )


def _save(inst: ProcessInstance, answers: dict[str, int], suggestion: str) -> bool:
    """Store the answers; False when a concurrent submission got there first."""
    e = engine()
    try:
        with e.sessions.begin() as s:
            row = s.get(ProcessInstance, inst.id)
            if row is None or row.agency_id != g.user.agency_id:
                raise NotFound("Request not found", "Permohonan tidak ditemukan")
            s.add(
                SurveyResponse(
                    agency_id=g.user.agency_id,
                    instance_id=inst.id,
                    process_key=inst.definition.key,
                    suggestion=suggestion or None,
                    submitted_by=g.user.username,
                    submitted_at=e.now(),
                    **answers,
                )
            )
    except IntegrityError:
        return False
    return True
