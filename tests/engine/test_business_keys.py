"""Business keys (issue 11): unique per agency, never a chosen key of the generated shape, a
sequence that never hands a number out twice (not even after a failed start), and conflict
answers that say nothing of other agencies."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import inspect, select
from support import CORPUS, actor

from engine.business_keys import BusinessKeyTaken, InvalidBusinessKey, check_chosen
from engine.errors import FormValidationError, NotFound
from engine.models import BusinessKeySequence, ProcessInstance

KUDUS = actor("ani", "kudus", "applicant")
TAPIN = actor("tono", "tapin", "applicant")
TAPIN_ADMIN = actor("adm", "tapin", "admin")


def versioned() -> bytes:
    return (CORPUS / "versioned.bpmn").read_bytes().replace(b'label="LABEL"', b'label="Catatan"')


@pytest.fixture
def deployed(engine, admin):
    engine.deploy(admin, [("v.bpmn", versioned())])
    engine.deploy(TAPIN_ADMIN, [("v.bpmn", versioned())])
    engine.deploy(admin, [("s.bpmn", (CORPUS / "sla.bpmn").read_bytes())])
    return engine


def keys_of(sessions, agency_id):
    with sessions() as s:
        return list(
            s.scalars(
                select(ProcessInstance.business_key)
                .where(ProcessInstance.agency_id == agency_id)
                .order_by(ProcessInstance.started_at, ProcessInstance.business_key)
            )
        )


# ---------------------------------------------------------------- the reproduction of issue 11
def test_tapin_choosing_a_kudus_key_cannot_block_kudus(deployed, sessions, agencies):
    engine = deployed
    for _ in range(2):
        engine.start(KUDUS, "versioned")
    # the attack: Tapin takes the number Kudus will give out next
    with pytest.raises(InvalidBusinessKey) as err:
        engine.start(TAPIN, "versioned", business_key="KUDUS/2026/000003")
    assert "KODE/TAHUN/NOMOR" in err.value.message_id
    assert "CODE/YEAR/NUMBER" in err.value.message_en
    for shape in ("kudus/2026/000003", "TAPIN/2026/000001", "KUDUS/2026/3", "X/2031/1234567"):
        with pytest.raises(InvalidBusinessKey):
            engine.start(TAPIN, "versioned", business_key=shape)
    assert keys_of(sessions, agencies["tapin"]) == []

    # Kudus keeps filing, with its own next numbers
    third = engine.start(KUDUS, "versioned")
    fourth = engine.start(KUDUS, "versioned")
    assert (third.business_key, fourth.business_key) == ("KUDUS/2026/000003", "KUDUS/2026/000004")
    assert engine.start(TAPIN, "versioned").business_key == "TAPIN/2026/000001"


def test_a_key_of_another_agency_is_simply_usable(deployed, sessions, agencies):
    engine = deployed
    kudus = engine.start(KUDUS, "versioned", business_key="SURAT-421/1187")
    tapin = engine.start(TAPIN, "versioned", business_key="SURAT-421/1187")
    assert kudus.business_key == tapin.business_key and kudus.id != tapin.id
    assert keys_of(sessions, agencies["tapin"]) == ["SURAT-421/1187"]
    # each agency sees only its own
    assert engine.instance_by_business_key(TAPIN, "SURAT-421/1187").id == tapin.id
    assert engine.instance_by_business_key(KUDUS, "SURAT-421/1187").id == kudus.id


def test_a_key_used_in_the_own_agency_is_refused_and_says_nothing_else(deployed, sessions):
    engine = deployed
    engine.start(KUDUS, "versioned", business_key="ADUAN-7")
    engine.start(TAPIN, "versioned", business_key="ADUAN-8")
    with pytest.raises(BusinessKeyTaken) as err:
        engine.start(KUDUS, "versioned", business_key="ADUAN-7")
    text = str(err.value)
    assert "sudah dipakai di instansi ini" in text and "already used in this agency" in text
    assert "tapin" not in text.lower() and "kudus" not in text.lower()

    # a key another agency uses is not a conflict, and one nobody uses answers the same way
    # as one only another agency uses: nothing tells them apart
    a = engine.start(KUDUS, "versioned", business_key="ADUAN-8")
    b = engine.start(KUDUS, "versioned", business_key="ADUAN-9")
    assert {a.business_key, b.business_key} == {"ADUAN-8", "ADUAN-9"}
    with pytest.raises(BusinessKeyTaken) as err2:
        engine.start(KUDUS, "versioned", business_key="ADUAN-8")
    assert str(err2.value) == text.replace("ADUAN-7", "ADUAN-8")


@pytest.mark.parametrize(
    "key",
    [
        "",
        "   ",
        "x" * 101,
        "ADUAN\n7",
        "ADUAN\x007",
        "ADUAN\u202e7",  # right-to-left override
        "ADUAN\u200b7",  # zero-width space
        " ADUAN-7",
        "ADUAN-7 ",
    ],
)
def test_chosen_keys_are_checked(deployed, key):
    with pytest.raises(InvalidBusinessKey) as err:
        deployed.start(KUDUS, "versioned", business_key=key)
    assert err.value.message_en != err.value.message_id  # both languages
    assert "\n" not in str(err.value) and "\x00" not in str(err.value)


def test_acceptable_chosen_keys():
    for key in ("ADUAN-7", "SURAT 421/1187/23.01/2026", "x" * 100, "Permohonan Dinkes"):
        assert check_chosen(key) == key


# ---------------------------------------------------------------- the sequence
def test_a_failed_start_does_not_make_the_next_one_reuse_its_number(deployed, sessions, agencies):
    engine = deployed
    first = engine.start(KUDUS, "versioned")
    with pytest.raises(FormValidationError):  # rolled back after the number was taken
        engine.start(KUDUS, "sla_demo", values={"needed_by": "kemarin"})
    engine.start(KUDUS, "versioned", business_key="ADUAN-1")
    with pytest.raises(BusinessKeyTaken):
        engine.start(KUDUS, "versioned", business_key="ADUAN-1")
    with pytest.raises(NotFound):
        engine.start(KUDUS, "nonexistent")
    second = engine.start(KUDUS, "versioned")
    assert first.business_key == "KUDUS/2026/000001"
    # 2 went to the start with the bad form, 3 to the unknown process: gaps, never a reuse
    assert second.business_key == "KUDUS/2026/000004"
    with sessions() as s:
        seq = s.get(BusinessKeySequence, (agencies["kudus"], 2026))
        assert seq is not None and seq.last_value == 4
    assert engine.start(KUDUS, "versioned").business_key == "KUDUS/2026/000005"


def test_a_number_whose_key_exists_already_is_skipped(deployed, sessions, agencies):
    # a key chosen before chosen keys were refused the generated shape
    engine = deployed
    engine.start(KUDUS, "versioned", business_key="LAMA-1")
    with sessions.begin() as s:
        row = s.scalar(select(ProcessInstance).where(ProcessInstance.business_key == "LAMA-1"))
        row.business_key = "KUDUS/2026/000002"
    assert engine.start(KUDUS, "versioned").business_key == "KUDUS/2026/000001"
    assert engine.start(KUDUS, "versioned").business_key == "KUDUS/2026/000003"


def test_concurrent_starts_get_different_increasing_numbers(deployed, sessions, agencies):
    engine = deployed
    got: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def file(n: int) -> None:
        try:
            for _ in range(n):
                key = engine.start(KUDUS, "versioned").business_key
                with lock:
                    got.append(key)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=file, args=(4,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert sorted(got) == [f"KUDUS/2026/{n:06d}" for n in range(1, 17)]
    assert sorted(keys_of(sessions, agencies["kudus"])) == sorted(got)


def test_the_number_is_committed_before_the_start_transaction(deployed, db, agencies):
    """The number is taken in its own transaction before the start's: while a start is still
    inside its transaction, another connection already sees its number as used (SQLite too:
    no waiting on the single writer, no deadlock with the start's own transaction)."""
    engine = deployed
    original = engine.uow.advance
    inside = threading.Event()
    release = threading.Event()
    started: list[str] = []

    def slow_advance(*args, **kwargs):
        inside.set()
        release.wait(10)
        return original(*args, **kwargs)

    engine.uow.advance = slow_advance
    t = threading.Thread(
        target=lambda: started.append(engine.start(KUDUS, "versioned").business_key)
    )
    t.start()
    try:
        assert inside.wait(10)
        # a plain read on another connection (the engine's sessions begin every SQLite
        # transaction IMMEDIATE, which would queue behind the open start)
        raw = db.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute("SELECT agency_id, year, last_value FROM business_key_sequence")
            assert [tuple(r) for r in cur.fetchall()] == [(agencies["kudus"], 2026, 1)]
        finally:
            raw.close()
    finally:
        release.set()
        t.join(30)
        engine.uow.advance = original
    assert started == ["KUDUS/2026/000001"]


# ---------------------------------------------------------------- the schema
def test_the_unique_constraint_is_per_agency(db):
    uniques = inspect(db).get_unique_constraints("process_instance")
    assert [(u["name"], u["column_names"]) for u in uniques] == [
        ("uq_instance_agency_business_key", ["agency_id", "business_key"])
    ]
