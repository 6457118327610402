"""The IKM survey page: only the filer, once, after completion, with inline validation; the
mailed ``/survey/<id>`` link lands on it; the request page links to it while it may be answered.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select
from support import one_task_bpmn
from ui_support import csrf, post

from engine.actors import Actor
from web.survey.models import SurveyResponse

ALL_GOOD = {f"u{i}": "4" for i in range(1, 10)}


@pytest.fixture
def mini(engine: Any, make_user: Any) -> Any:
    """Start 'mini' as ``who``; ``finish(inst)`` lets an officer complete it."""
    make_user("ani", "kudus", "applicant")
    make_user("budi", "kudus", "technical_officer")
    for agency in ("kudus", "tapin"):
        engine.deploy(
            Actor(f"admin_{agency}", agency, frozenset({"admin"})), [("m.bpmn", one_task_bpmn())]
        )

    class Mini:
        @staticmethod
        def start(who: str = "ani", agency: str = "kudus") -> Any:
            return engine.start(Actor(who, agency, frozenset({"applicant"})), "mini")

        @staticmethod
        def finish(inst: Any, agency: str = "kudus") -> None:
            officer = Actor("budi", agency, frozenset({"technical_officer"}))
            [task] = engine.inbox(officer, instance_id=inst.id)
            engine.complete_task(officer, task.id, {})
            assert engine.get_instance(officer, inst.id).state == "completed"

    return Mini


def url(inst: Any) -> str:
    return f"/permohonan/{inst.id}/survei"


def responses(engine: Any) -> list[SurveyResponse]:
    with engine.sessions() as s:
        return list(s.scalars(select(SurveyResponse)))


def test_filer_answers_once_after_completion(engine, mini, client_for):
    inst = mini.start()
    ani = client_for("ani")
    detail = ani.get(f"/permohonan/{inst.id}").get_data(as_text=True)
    assert "survey-link" not in detail  # still running: no link yet
    page = ani.get(url(inst))
    assert page.status_code == 200
    assert "Survei dapat diisi setelah permohonan selesai." in page.get_data(as_text=True)
    assert 'name="u1"' not in page.get_data(as_text=True)
    r = post(ani, url(inst), ALL_GOOD)
    assert r.status_code == 409 and responses(engine) == []

    mini.finish(inst)
    detail = ani.get(f"/permohonan/{inst.id}").get_data(as_text=True)
    assert f'href="/permohonan/{inst.id}/survei"' in detail and "Isi survei kepuasan" in detail
    page = ani.get(url(inst)).get_data(as_text=True)
    for i in range(1, 10):
        assert len(re.findall(rf'type="radio" name="u{i}"', page)) == 4
    assert "Waktu penyelesaian" in page and "Sarana dan prasarana" in page

    answers = {**ALL_GOOD, "u1": "3", "u9": "2", "suggestion": "Pelayanan cepat, terima kasih"}
    r = post(ani, url(inst), answers)
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/permohonan/{inst.id}")
    [row] = responses(engine)
    assert row.answers() == [3, 4, 4, 4, 4, 4, 4, 4, 2]
    assert (row.instance_id, row.process_key, row.submitted_by) == (inst.id, "mini", "ani")
    assert row.suggestion == "Pelayanan cepat, terima kasih"
    assert row.submitted_at == engine.now()
    assert "Terima kasih, survei Anda telah kami terima." in ani.get(
        f"/permohonan/{inst.id}"
    ).get_data(as_text=True)

    again = ani.get(url(inst))
    assert again.status_code == 200
    assert "Anda sudah mengisi survei" in again.get_data(as_text=True)
    twice = post(ani, url(inst), {**ALL_GOOD, "u1": "1"})
    assert twice.status_code == 409 and "Anda sudah mengisi survei" in twice.get_data(as_text=True)
    assert [r.u1 for r in responses(engine)] == [3]
    assert "survey-link" not in ani.get(f"/permohonan/{inst.id}").get_data(as_text=True)


def test_validation_errors_are_shown_inline_and_answers_kept(engine, mini, client_for):
    inst = mini.start()
    mini.finish(inst)
    ani = client_for("ani")
    bad = {**ALL_GOOD, "u2": "3", "u5": "7"}
    del bad["u3"]
    r = post(ani, url(inst), {**bad, "suggestion": "x" * 2001})
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert 'id="err-u3"' in page and 'id="err-u5"' in page and 'id="err-u1"' not in page
    assert page.count("Pilih salah satu jawaban.") == 2
    assert 'id="err-suggestion"' in page
    assert re.search(r'name="u2" value="3" required checked', page)  # the answer is kept
    for value in ("0", "-1", "4.0", "", "abc"):
        r = post(ani, url(inst), {**ALL_GOOD, "u4": value})
        assert r.status_code == 422 and 'id="err-u4"' in r.get_data(as_text=True)
    assert responses(engine) == []


def test_english_page(mini, client_for):
    inst = mini.start()
    mini.finish(inst)
    ani = client_for("ani")
    assert post(ani, "/bahasa", {"lang": "en", "next": "/"}).status_code == 302
    page = ani.get(url(inst)).get_data(as_text=True)
    assert "Community satisfaction survey" in page
    assert "Completion time" in page and "Send survey" in page


def test_the_mailed_survey_link_opens_the_page(engine, mini, client_for, app):
    """Render the real ``survey_invite`` mail (default MAIL_SURVEY_URL) and follow its link."""
    from handlers.mail.outbox import Outbox

    inst = mini.start()
    mini.finish(inst)
    outbox = Outbox(app.config["SOPFLOW"], engine.clock)
    with engine.sessions() as s:
        agency = engine.agency(s, "kudus")
        ctx = outbox.context(s, agency, {}, instance_id=inst.id, business_key=inst.business_key)
    mail = outbox.renderer.render("survey_invite", "kudus", ctx)
    link = re.search(r"https?://\S+/survey/\S+", mail.body).group(0)
    path = "/" + link.split("/", 3)[3]
    ani = client_for("ani")
    r = ani.get(path)
    assert r.status_code == 302 and r.headers["Location"].endswith(url(inst))
    page = ani.get(r.headers["Location"])
    assert page.status_code == 200 and 'name="u9"' in page.get_data(as_text=True)


def test_who_may_answer(engine, mini, make_user, client_for, app):
    inst = mini.start()
    mini.finish(inst)
    make_user("eko", "kudus", "applicant")
    make_user("tono", "tapin", "applicant")
    assert client_for("eko").get(url(inst)).status_code == 404  # another applicant
    assert post(client_for("eko"), url(inst), ALL_GOOD).status_code == 404
    assert client_for("tono").get(url(inst)).status_code == 404  # another agency
    assert post(client_for("tono"), url(inst), ALL_GOOD).status_code == 404
    assert client_for("budi").get(url(inst)).status_code == 403  # an officer does not answer
    assert post(client_for("budi"), url(inst), ALL_GOOD).status_code == 403
    ani = client_for("ani")
    csrf(ani)
    assert ani.post(url(inst), data=ALL_GOOD).status_code == 400  # no CSRF token
    anonymous = app.test_client()
    r = anonymous.get(url(inst))
    assert r.status_code == 302 and "/masuk" in r.headers["Location"]
    assert ani.get("/permohonan/00000000-0000-0000-0000-000000000000/survei").status_code == 404
    assert responses(engine) == []
    # the other agency's own request is answered by its own filer only
    other = mini.start("tono", "tapin")
    assert client_for("ani").get(url(other)).status_code == 404
