"""``/laporan/``: the agency's report page and its CSV exports, for officers only."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, abort, g, render_template, request

from engine.states import InstanceState
from web.context import engine

from ..auth import login_required
from ..i18n import gettext
from ..survey.questions import ELEMENTS
from . import bp, charts, metrics
from .csvexport import to_csv

CSV_KINDS = ("summary", "ikm", "requests")


def _officer() -> None:
    if not g.user.is_officer:
        abort(403)


def _period() -> tuple[date, date, list[str]]:
    """``from``/``to`` (ISO dates, inclusive) from the query; default: this year so far (on
    the engine's clock, in the agency's zone)."""
    today = engine().now().astimezone(ZoneInfo(g.user.timezone)).date()
    start, end = date(today.year, 1, 1), today
    errors: list[str] = []
    for name in ("from", "to"):
        raw = (request.args.get(name) or "").strip()
        if not raw:
            continue
        try:
            value = date.fromisoformat(raw)
        except ValueError:
            errors.append(gettext("Tanggal tidak sah: %(value)s", value=raw))
            continue
        if name == "from":
            start = value
        else:
            end = value
    if start > end:
        errors.append(gettext("Tanggal awal harus sebelum tanggal akhir."))
        start, end = date(today.year, 1, 1), today
    return start, end, errors


def _compute(start: date, end: date, key: str | None = None) -> dict[str, Any]:
    e = engine()
    since, until = metrics.period_bounds(start, end, g.user.timezone)
    with e.sessions() as s:
        cal = e.calendar(s, e.agency(s, g.actor.agency))
        instances = metrics.load_instances(s, g.user.agency_id, since, until, key, actor=g.actor)
        surveys = metrics.load_surveys(s, g.user.agency_id, since, until, key)
    overall, per_key = metrics.report(instances, surveys, cal.working_days_between)
    return {"overall": overall, "per_key": per_key, "instances": instances, "surveys": surveys}


def _charts(overall: metrics.Summary) -> dict[str, Any]:
    states = charts.bar_chart(
        gettext("Permohonan menurut status"),
        [
            (
                gettext(st_label),
                float(overall.by_state.get(st, 0)),
                str(overall.by_state.get(st, 0)),
            )
            for st, st_label in (
                (InstanceState.RUNNING, "berjalan"),
                (InstanceState.COMPLETED, "selesai"),
                (InstanceState.CANCELLED, "dibatalkan"),
            )
        ],
        css=("bar-running", "bar-completed", "bar-cancelled"),
    )
    nrr = charts.bar_chart(
        gettext("NRR per unsur"),
        [
            (e.code.upper(), v, metrics.show(v))
            for e, v in zip(ELEMENTS, overall.nrr or [None] * len(ELEMENTS), strict=True)
        ],
        scale_max=4.0,
        css="bar-nrr",
    )
    gauge = charts.ikm_gauge(
        gettext("Indeks Kepuasan Masyarakat"), overall.ikm, metrics.show(overall.ikm)
    )
    return {"states": states, "nrr": nrr, "gauge": gauge}


@bp.get("/")
@login_required
def index() -> Any:
    _officer()
    start, end, errors = _period()
    data = _compute(start, end)
    overall = data["overall"]
    return render_template(
        "reports/index.html",
        start=start,
        end=end,
        errors=errors,
        overall=overall,
        per_key=data["per_key"],
        elements=[
            (e, v, (v * metrics.WEIGHT if v is not None else None))
            for e, v in zip(ELEMENTS, overall.nrr, strict=True)
        ],
        charts=_charts(overall),
        show=metrics.show,
        kinds=CSV_KINDS,
    )


def cell(value: Any, digits: int = 2) -> str:
    """A CSV cell: empty when there is no value (Excel keeps the column numeric)."""
    return "" if value is None else metrics.show(value, digits)


def _summary_rows(data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    header = [
        "process_key",
        "process_name",
        "total",
        "running",
        "completed",
        "cancelled",
        "on_time",
        "late",
        "on_time_rate_pct",
        "median_lead_days",
        "median_lead_working_days",
        "respondents",
        "ikm",
        "grade",
        "performance",
    ]
    rows = []
    for s in [*data["per_key"], data["overall"]]:
        rows.append(
            [
                s.key or "(semua)",
                s.name,
                s.total,
                s.by_state.get(InstanceState.RUNNING, 0),
                s.by_state.get(InstanceState.COMPLETED, 0),
                s.by_state.get(InstanceState.CANCELLED, 0),
                s.on_time,
                s.late,
                cell(s.on_time_rate, 1),
                cell(s.median_days, 1),
                cell(s.median_working_days, 1),
                s.respondents,
                cell(s.ikm),
                s.grade or "",
                s.performance or "",
            ]
        )
    return header, rows


def _ikm_rows(data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    header = ["process_key", "element", "element_name", "respondents", "nrr", "nrr_weighted"]
    rows = []
    for s in [*data["per_key"], data["overall"]]:
        for e, v in zip(ELEMENTS, s.nrr, strict=True):
            weighted = v * metrics.WEIGHT if v is not None else None
            rows.append(
                [
                    s.key or "(semua)",
                    e.code.upper(),
                    e.title,
                    s.respondents,
                    cell(v),
                    cell(weighted, 4),
                ]
            )
        rows.append([s.key or "(semua)", "IKM", "", s.respondents, cell(s.ikm), s.grade or ""])
    return header, rows


def _request_rows(data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    header = [
        "business_key",
        "process_key",
        "state",
        "started_by",
        "started_at",
        "ended_at",
        "sla_due_at",
        "sla",
        "lead_days",
    ]
    rows = []
    for i in data["instances"]:
        rows.append(
            [
                i.business_key,
                i.process_key,
                i.state,
                i.started_by or "",
                _iso(i.started_at),
                _iso(i.ended_at),
                _iso(i.sla_due_at),
                metrics.sla_outcome(i) or "",
                cell(metrics.lead_days(i), 2),
            ]
        )
    return header, rows


def _iso(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(g.user.timezone)).isoformat(timespec="minutes")


@bp.get("/csv")
@login_required
def csv_export() -> Any:
    _officer()
    kind = request.args.get("kind", "summary")
    if kind not in CSV_KINDS:
        abort(400)
    start, end, errors = _period()
    if errors:
        abort(400)
    data = _compute(start, end)
    header, rows = {"summary": _summary_rows, "ikm": _ikm_rows, "requests": _request_rows}[kind](
        data
    )
    filename = f"laporan-{kind}-{g.user.agency_code}-{start.isoformat()}-{end.isoformat()}.csv"
    return Response(
        to_csv(header, rows),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
