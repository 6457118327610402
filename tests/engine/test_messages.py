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
