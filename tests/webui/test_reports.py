"""Reports: the IKM formula and grades, medians and on-time rate as pure functions; the page
and the CSV on known data, scoped to the user's agency; officers only; CSV safe for Excel."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from support import one_task_bpmn

from engine.actors import Actor
from engine.models import ProcessInstance
from web.reports import metrics
from web.reports.csvexport import BOM, safe_cell, to_csv
from web.survey.models import SurveyResponse

# ---------------------------------------------------------------- pure math


def test_ikm_formula_and_grade_of_known_answers():
    sheets = [[4] * 9, [3] * 8 + [4]]
    nrr = metrics.element_nrr(sheets)
    assert nrr == [3.5] * 8 + [4.0]
    # weighted NRR = NRR x 1/9, IKM = sum x 25 = (8 x 3.5 + 4) / 9 x 25 = 88.888...
    assert sum(v * metrics.WEIGHT for v in nrr) == pytest.approx(32 / 9)
    assert metrics.ikm_index(nrr) == 88.89
    assert metrics.grade(88.89) == ("A", "Sangat Baik")
    assert metrics.ikm_index(metrics.element_nrr([[4] * 9, [3] * 9])) == 87.5
    assert metrics.ikm_index(metrics.element_nrr([[1] * 9])) == 25.0
    assert metrics.ikm_index(metrics.element_nrr([[4] * 9])) == 100.0


@pytest.mark.parametrize(
    ("ikm", "letter"),
    [
        (100.0, "A"),
        (88.31, "A"),
        (88.30, "B"),
        (88.305, "A"),  # rounded to two decimals before grading: no gap between bands
        (76.61, "B"),
        (76.60, "C"),
        (65.00, "C"),
        (64.99, "D"),
        (25.00, "D"),
    ],
)
def test_grade_boundaries(ikm, letter):
    assert metrics.grade(ikm)[0] == letter


def test_grade_labels_and_empty():
    assert metrics.grade(80)[1] == "Baik"
    assert metrics.grade(70)[1] == "Kurang Baik"
    assert metrics.grade(50)[1] == "Tidak Baik"
    assert metrics.grade(None) is None
    assert metrics.ikm_index([]) is None
    assert metrics.ikm_index(metrics.element_nrr([])) is None


def test_median_and_rate():
    assert metrics.median([]) is None
    assert metrics.median([5, 1, 3]) == 3.0
    assert metrics.median([1, 2, 3, 10]) == 2.5
    assert metrics.rate(1, 2) == 50.0
    assert metrics.rate(0, 0) is None
    assert metrics.show(None) == "-"
    assert metrics.show(50.0, 1) == "50.0"
    assert metrics.show(3) == "3"


T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 09:00 WIB


def row(state: str, **kw: Any) -> metrics.InstanceRow:
    base = dict(
        id="i",
        business_key="K",
        process_key="p",
        process_name="P",
        state=state,
        started_by="ani",
        started_at=T0,
        ended_at=None,
        sla_due_at=None,
        sla_breached_at=None,
        sla_stopped_at=None,
    )
    base.update(kw)
    return metrics.InstanceRow(**base)


def test_sla_outcomes():
    assert metrics.sla_outcome(row("completed", sla_stopped_at=T0)) == "on_time"
    assert metrics.sla_outcome(row("completed", sla_stopped_at=T0, sla_breached_at=T0)) == "late"
    assert metrics.sla_outcome(row("running", sla_breached_at=T0)) == "late"
    assert metrics.sla_outcome(row("running")) is None  # no verdict yet
    assert metrics.sla_outcome(row("cancelled", sla_stopped_at=T0)) is None
    assert metrics.sla_outcome(row("cancelled", sla_stopped_at=T0, sla_breached_at=T0)) == "late"


def test_summary_of_known_rows_and_of_nothing():
    rows = [
        row("completed", ended_at=T0 + timedelta(days=2), sla_stopped_at=T0),
        row("completed", ended_at=T0 + timedelta(days=4), sla_stopped_at=T0, sla_breached_at=T0),
        row("running"),
        row("cancelled", sla_stopped_at=T0),
    ]
    s = metrics.summarize("p", "P", rows, [], lambda a, b: (b - a).days)
    assert s.by_state == {"running": 1, "completed": 2, "cancelled": 1}
    assert (s.on_time, s.late, s.on_time_rate) == (1, 1, 50.0)
    assert s.median_days == 3.0 and s.median_working_days == 3.0
    assert (s.respondents, s.ikm, s.grade) == (0, None, None)

    empty, per_key = metrics.report([], [])
    assert per_key == [] and empty.total == 0
    assert [metrics.show(v) for v in (empty.on_time_rate, empty.median_days, empty.ikm)] == [
        "-",
        "-",
        "-",
    ]


def test_csv_escapes_formulas_and_has_a_bom():
    for bad in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=x", "\r=x"):
        assert safe_cell(bad) == "'" + bad
    assert safe_cell("dinkes") == "dinkes" and safe_cell(None) == "" and safe_cell(3) == "3"
    text = to_csv(["a", "b"], [['=HYPERLINK("x")', 'quote " and, comma']])
    assert text.startswith(BOM)
    parsed = list(csv.reader(io.StringIO(text[1:])))
    assert parsed == [["a", "b"], ['\'=HYPERLINK("x")', 'quote " and, comma']]


# ---------------------------------------------------------------- the page and the CSV

APPLICANT = Actor("ani", "kudus", frozenset({"applicant"}))


@pytest.fixture
def known(engine: Any, make_user: Any, clock: Any, agencies: dict[str, int]) -> dict[str, Any]:
    """In kudus, filed in March 2026: 'mini' 1 completed on time (2 days), 1 completed late
    (4 days), 1 running, 1 cancelled; 'other' 1 running; two IKM answer sheets for 'mini'.
    In tapin: one completed request (must never show up in kudus' numbers)."""
    make_user("ani", "kudus", "applicant")
    make_user("budi", "kudus", "technical_officer")
    make_user("tina", "tapin", "technical_officer")
    make_user("tono", "tapin", "applicant")
    for agency in ("kudus", "tapin"):
        admin = Actor(f"admin_{agency}", agency, frozenset({"admin"}))
        engine.deploy(
            admin,
            [("m.bpmn", one_task_bpmn("mini", "Layanan mini"))],
        )
    engine.deploy(
        Actor("admin_kudus", "kudus", frozenset({"admin"})),
        [("o.bpmn", one_task_bpmn("other", "=1+1 Layanan lain"))],
    )
    ids = [engine.start(APPLICANT, "mini").id for _ in range(4)]
    other = engine.start(APPLICANT, "other").id
    foreign = engine.start(Actor("tono", "tapin", frozenset({"applicant"})), "mini").id
    day = timedelta(days=1)
    shape = {
        ids[0]: ("completed", T0 + 2 * day, T0 + 2 * day, None),
        ids[1]: ("completed", T0 + 4 * day, T0 + 4 * day, T0 + 3 * day),
        ids[2]: ("running", None, None, None),
        ids[3]: ("cancelled", T0 + day, T0 + day, None),
        other: ("running", None, None, None),
        foreign: ("completed", T0 + day, T0 + day, T0 + day),
    }
    with engine.sessions.begin() as s:
        for inst in s.scalars(select(ProcessInstance)):
            state, ended, stopped, breached = shape[inst.id]
            inst.state, inst.started_at, inst.ended_at = state, T0, ended
            inst.sla_stopped_at, inst.sla_breached_at = stopped, breached
        answers = [[4] * 9, [3] * 8 + [4]]
        for iid, sheet in zip(ids[:2], answers, strict=True):
            s.add(
                SurveyResponse(
                    agency_id=agencies["kudus"],
                    instance_id=iid,
                    process_key="mini",
                    submitted_by="ani",
                    submitted_at=T0 + 5 * day,
                    suggestion="=cmd|' /C calc'!A0",
                    **{f"u{i + 1}": v for i, v in enumerate(sheet)},
                )
            )
        s.add(
            SurveyResponse(
                agency_id=agencies["tapin"],
                instance_id=foreign,
                process_key="mini",
                submitted_by="tono",
                submitted_at=T0 + 5 * day,
                **{f"u{i}": 1 for i in range(1, 10)},
            )
        )
    return {"ids": ids, "other": other, "foreign": foreign}


PERIOD = "from=2026-01-01&to=2026-12-31"


def test_page_shows_the_known_numbers(known, client_for):
    r = client_for("budi").get(f"/laporan/?{PERIOD}")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert '<span class="kpi-value" id="kpi-total">5</span>' in page
    assert '<span class="kpi-value" id="kpi-ontime">50.0%</span>' in page
    assert '<span class="kpi-value" id="kpi-ikm">88.89</span>' in page
    assert "A · Sangat Baik" in page and "Responden: 2" in page
    assert '<span class="kpi-value" id="kpi-lead">3.0 hari</span>' in page
    assert "<svg" in page and "band-a" in page and "bar-nrr" in page
    assert " style=" not in page and "<script>" not in page  # CSP: no inline styles or scripts
    assert "=1+1 Layanan lain" in page  # text, escaped as any other
    # per-element table: U1..U8 3.50, U9 4.00
    table = page.split('id="table-ikm"', 1)[1].split("</table>", 1)[0]
    assert table.count("<td>3.50</td>") == 8 and table.count("<td>4.00</td>") == 1


def test_period_filter_and_agency_scope(known, client_for):
    budi = client_for("budi")
    page = budi.get("/laporan/?from=2026-04-01&to=2026-12-31").get_data(as_text=True)
    assert 'id="kpi-total">0<' in page and 'id="kpi-ikm">-<' in page
    assert "Belum ada data pada periode ini." in page
    tapin = client_for("tina").get(f"/laporan/?{PERIOD}").get_data(as_text=True)
    assert 'id="kpi-total">1<' in tapin and 'id="kpi-ikm">25.00<' in tapin
    assert 'id="kpi-ontime">0.0%<' in tapin
    bad = budi.get("/laporan/?from=kemarin&to=2026-01-01")
    assert bad.status_code == 200 and "Tanggal tidak sah: kemarin" in bad.get_data(as_text=True)
    default = budi.get("/laporan/").get_data(as_text=True)  # this year on the engine's clock
    assert 'value="2026-01-01"' in default and 'id="kpi-total">5<' in default


def test_applicants_may_not_see_reports(known, client_for, app):
    ani = client_for("ani")
    assert ani.get("/laporan/").status_code == 403
    assert ani.get("/laporan/csv?kind=summary").status_code == 403
    r = app.test_client().get("/laporan/")
    assert r.status_code == 302 and "/masuk" in r.headers["Location"]


def read_csv(response: Any) -> list[dict[str, str]]:
    raw = response.get_data()
    assert raw.startswith(BOM.encode("utf-8"))
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def test_csv_exports(known, client_for):
    budi = client_for("budi")
    r = budi.get(f"/laporan/csv?kind=summary&{PERIOD}")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.headers["Content-Disposition"].startswith("attachment;")
    assert "laporan-summary-kudus-2026-01-01-2026-12-31.csv" in r.headers["Content-Disposition"]
    rows = {x["process_key"]: x for x in read_csv(r)}
    assert set(rows) == {"mini", "other", "(semua)"}
    mini = rows["mini"]
    assert (mini["total"], mini["completed"], mini["running"], mini["cancelled"]) == (
        "4",
        "2",
        "1",
        "1",
    )
    assert (mini["on_time"], mini["late"], mini["on_time_rate_pct"]) == ("1", "1", "50.0")
    assert (mini["median_lead_days"], mini["median_lead_working_days"]) == ("3.0", "3.0")
    assert (mini["respondents"], mini["ikm"], mini["grade"]) == ("2", "88.89", "A")
    assert rows["other"]["process_name"] == "'=1+1 Layanan lain"  # formula defused
    assert (rows["other"]["ikm"], rows["other"]["on_time_rate_pct"]) == ("", "")
    assert rows["other"]["grade"] == ""
    assert rows["(semua)"]["total"] == "5"

    ikm = read_csv(budi.get(f"/laporan/csv?kind=ikm&{PERIOD}"))
    u9 = [x for x in ikm if x["process_key"] == "mini" and x["element"] == "U9"][0]
    assert (u9["nrr"], u9["nrr_weighted"], u9["respondents"]) == ("4.00", "0.4444", "2")
    total = [x for x in ikm if x["process_key"] == "(semua)" and x["element"] == "IKM"][0]
    assert total["nrr"] == "88.89"

    reqs = read_csv(budi.get(f"/laporan/csv?kind=requests&{PERIOD}"))
    assert len(reqs) == 5 and {x["state"] for x in reqs} == {"running", "completed", "cancelled"}
    assert sorted(x["sla"] for x in reqs) == ["", "", "", "late", "on_time"]
    assert all(x["started_by"] == "ani" for x in reqs)

    assert budi.get("/laporan/csv?kind=bogus").status_code == 400
    assert budi.get("/laporan/csv?kind=summary&from=x").status_code == 400


def test_csv_of_another_agency_is_its_own(known, client_for):
    rows = read_csv(client_for("tina").get(f"/laporan/csv?kind=requests&{PERIOD}"))
    assert [x["started_by"] for x in rows] == ["tono"]


def test_a_username_that_looks_like_a_formula_is_defused(engine, make_user, client_for):
    make_user("budi", "kudus", "technical_officer")
    make_user("@evil", "kudus", "applicant")
    engine.deploy(
        Actor("admin_kudus", "kudus", frozenset({"admin"})),
        [("m.bpmn", one_task_bpmn("mini", "Layanan mini"))],
    )
    engine.start(Actor("@evil", "kudus", frozenset({"applicant"})), "mini")
    rows = read_csv(client_for("budi").get("/laporan/csv?kind=requests"))
    assert [x["started_by"] for x in rows] == ["'@evil"]
