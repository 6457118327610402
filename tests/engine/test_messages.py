"""Message correlation as Camunda does it: to the waiting instance, or a message start event."""

from __future__ import annotations

import pytest
from support import CORPUS, actor

from engine.errors import Conflict

APPLICANT = actor("ani", "kudus", "applicant")
OFFICER = actor("budi", "kudus", "technical_officer")


@pytest.fixture
def deployed(engine, admin):
    engine.deploy(admin, [("m.bpmn", (CORPUS / "messages.bpmn").read_bytes())])


def test_message_reaches_the_waiting_instance_with_its_variables(engine, admin, deployed):
    a = engine.start(APPLICANT, "awaits_letter")
    b = engine.start(APPLICANT, "awaits_letter")
    assert engine.inbox(OFFICER) == []
    [got] = engine.correlate_message(
        admin, "letter_received", business_key=b.business_key, variables={"letter_no": "B/12"}
    )
    assert got.id == b.id and got.variables["letter_no"] == "B/12"  # process scope, as Camunda
    assert [t.instance_id for t in engine.inbox(OFFICER)] == [b.id]
    assert "message_correlated" in [h.kind for h in engine.history(admin, b.id)]
    # a's receive task still waits; the message is not silently reused
    with pytest.raises(Conflict):
        engine.correlate_message(admin, "letter_received", business_key=b.business_key)
    assert engine.get_instance(admin, a.id).waiting_messages == ",letter_received,"


def test_ambiguous_or_unmatched_messages_are_errors(engine, admin, deployed):
    engine.start(APPLICANT, "awaits_letter")
    engine.start(APPLICANT, "awaits_letter")
    with pytest.raises(Conflict):
        engine.correlate_message(admin, "letter_received")
    both = engine.correlate_message(admin, "letter_received", all=True)
    assert len(both) == 2 and len(engine.inbox(OFFICER)) == 2
    with pytest.raises(Conflict):
        engine.correlate_message(admin, "no_such_message")
    with pytest.raises(Conflict):  # another agency's instances are not candidates
        engine.correlate_message(actor("x", "tapin", "admin"), "request_withdrawn")


def test_boundary_message_interrupts_the_task(engine, admin, deployed):
    inst = engine.start(APPLICANT, "awaits_letter")
    engine.correlate_message(admin, "letter_received", process_instance_id=inst.id)
    [task] = engine.inbox(OFFICER)
    [done] = engine.correlate_message(admin, "request_withdrawn", business_key=inst.business_key)
    assert done.state == "completed"
    assert engine.get_task(admin, task.id).state == "cancelled"


def test_message_start_event_starts_a_new_instance(engine, admin, deployed):
    [inst] = engine.correlate_message(admin, "register_site", variables={"site": "dinkes"})
    assert inst.business_key.startswith("KUDUS/") and inst.variables["site"] == "dinkes"
    assert [t.element_id for t in engine.inbox(OFFICER)] == ["check_site"]


@pytest.mark.parametrize("name", ["%", "_", "letter%", "letter_receive_", "%_%", "\\", "/%"])
def test_wildcards_in_a_message_name_match_only_themselves(engine, admin, deployed, name):
    a = engine.start(APPLICANT, "awaits_letter")
    b = engine.start(APPLICANT, "awaits_letter")
    with pytest.raises(Conflict) as err:
        engine.correlate_message(admin, name, all=True)
    assert "no process instance waits for it" in err.value.message_en  # not "matches 2"
    for inst in (a, b):
        assert engine.get_instance(admin, inst.id).waiting_messages == ",letter_received,"
    # the real name still reaches both
    assert len(engine.correlate_message(admin, "letter_received", all=True)) == 2


def test_sql_wildcards_and_escapes_are_literal_in_the_query(engine, admin, deployed, sessions):
    from sqlalchemy import update

    from engine.models import ProcessInstance

    inst = engine.start(APPLICANT, "awaits_letter")
    with sessions.begin() as s:  # a waiting name with the characters LIKE treats specially
        s.execute(
            update(ProcessInstance)
            .where(ProcessInstance.id == inst.id)
            .values(waiting_messages=",a%b_c\\d/e,")
        )
    for name in ("a%b_c\\d/e",):
        with pytest.raises(Conflict) as err:  # found by the query, but not waited for by Spiff
            engine.correlate_message(admin, name)
        assert "no longer waits" in err.value.message_en
    for name in ("aXbYc\\d/e", "a%b_c\\\\d/e", "a%b_c_d/e", "a%"):
        with pytest.raises(Conflict) as err:
            engine.correlate_message(admin, name)
        assert "no process instance waits for it" in err.value.message_en
