"""letter.generate: PDF letters on the letterhead, read back with pypdf; letter numbers per
agency, series and year without duplicates or gaps under concurrency; attachments stored by hash."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime

import pytest
from mlc_helpers import SECRET, fake_job, pdf_text
from sqlalchemy import select

from engine.errors import ConfigurationError, NotFound
from engine.models import Agency
from handlers.attachments.models import Attachment
from handlers.attachments.store import AttachmentStore, clean_filename, parse_ref, sniff_mime
from handlers.base import HandlerContext
from handlers.letters.handler import LetterGenerateHandler
from handlers.letters.models import Letter
from handlers.letters.numbering import next_number

VARS = {
    "opd_name": "Bappeda Provinsi Kalimantan Barat",
    "subdomain": "bappeda",
    "fqdn": "bappeda.kalbarprov.go.id",
    "target": "103.10.20.30",
    "letter_number": "005/417/BAPPEDA-B/2026",
    "letter_date": "2026-11-20",
}


@pytest.fixture
def settings(tmp_path):
    return {"ATTACHMENT_DIR": str(tmp_path / "attachments"), "SECRET_KEY": SECRET}


@pytest.fixture
def ctx(sessions, clock, settings):
    return HandlerContext(clock=clock, sessions=sessions, settings=settings)


@pytest.fixture
def store(settings):
    return AttachmentStore.from_settings(settings)


def generate(ctx, agency="kalbar", template="confirmation", job=None, **variables):
    job = job or fake_job(agency, "letter.generate", {**VARS, "template": template, **variables})
    return LetterGenerateHandler().run(job, ctx)


def attachment(sessions, ref) -> Attachment:
    with sessions() as s:
        att = s.get(Attachment, parse_ref(ref))
        assert att is not None
        return att


def test_confirmation_letter_has_letterhead_number_and_content(ctx, agencies, sessions, store):
    with sessions.begin() as s:
        s.get(Agency, agencies["kalbar"]).settings = {
            "letter": {
                "address": "Jl. Ahmad Yani No. 1, Pontianak 78124",
                "email": "diskominfo@kalbarprov.go.id",
                "city": "Pontianak",
                "signatory_name": "Dr. H. Contoh, S.Kom., M.T.",
            }
        }
    out = generate(ctx)
    assert out["issued_letter_number"] == "B/000001/DISKOMINFO/2026"
    assert set(out) == {"letter_pdf", "issued_letter_number"}  # letter_number stays the applicant's
    att = attachment(sessions, out["letter_pdf"])
    data = store.read(att)
    text = pdf_text(data)
    for expected in (
        "PEMERINTAH PROVINSI KALIMANTAN BARAT",
        "DISKOMINFO PROVINSI KALIMANTAN BARAT",
        "Jl. Ahmad Yani No. 1, Pontianak 78124",
        "Laman: https://kalbarprov.go.id",
        "Pos-el: diskominfo@kalbarprov.go.id",
        "Pontianak, 23 November 2026",
        "Nomor : B/000001/DISKOMINFO/2026",
        "Konfirmasi aktivasi subdomain bappeda.kalbarprov.go.id",
        "Yth. Kepala Bappeda Provinsi Kalimantan Barat",
        "005/417/BAPPEDA-B/2026 tanggal 20 November 2026",
        "KALBAR/2026/000123",
        "Nama subdomain : bappeda.kalbarprov.go.id",
        "Mengarah ke : 103.10.20.30",
        "telah diaktifkan",
        "Dr. H. Contoh, S.Kom., M.T.",
    ):
        assert expected in text, expected

    # stored by hash, with its true size and type
    assert att.sha256 == hashlib.sha256(data).hexdigest()
    assert att.size == len(data)
    assert (att.mime_type, att.kind, att.sensitive) == ("application/pdf", "letter", False)
    assert att.filename == "confirmation-KALBAR-2026-000123.pdf"
    path = store.root / att.sha256[:2] / att.sha256[2:]
    assert path.read_bytes() == data
    with sessions() as s:
        [letter] = s.scalars(select(Letter)).all()
        assert (letter.number, letter.seq, letter.series, letter.year, letter.attachment_id) == (
            "B/000001/DISKOMINFO/2026",
            1,
            "surat",
            2026,
            att.id,
        )


def test_the_placeholder_address_shows_until_an_address_is_configured(
    ctx, agencies, sessions, store
):
    out = generate(ctx, agency="sulut")
    text = pdf_text(store.read(attachment(sessions, out["letter_pdf"])))
    assert "PEMERINTAH PROVINSI SULAWESI UTARA" in text
    assert "DKIPS PROVINSI SULAWESI UTARA" in text
    assert "Alamat kantor belum diatur" in text
    assert out["issued_letter_number"] == "B/000001/DKIPS/2026"


def test_disposition_sheet_uses_the_agenda_series(ctx, agencies, sessions, store):
    out = generate(
        ctx,
        agency="kudus",
        template="disposition_sheet",
        opd_name="Dinas Kesehatan Kabupaten Kudus",
        fqdn="",
        subdomain="dinkes",
        letter_number="421/1187/23.01/2026",
        purpose="Website profil dinas",
    )
    assert out["issued_letter_number"] == "000001/AGENDA/DISKOMINFO/2026"
    text = pdf_text(store.read(attachment(sessions, out["letter_pdf"])))
    for expected in (
        "PEMERINTAH KABUPATEN KUDUS",
        "LEMBAR REGISTER SURAT MASUK DAN DISPOSISI",
        "Nomor agenda: 000001/AGENDA/DISKOMINFO/2026",
        "Asal surat : Dinas Kesehatan Kabupaten Kudus",
        "Nomor surat : 421/1187/23.01/2026",
        "Permohonan subdomain dinkes.kuduskab.go.id",
        "Keperluan : Website profil dinas",
        "Kepala Bidang",
        "Isi disposisi",
    ):
        assert expected in text, expected
    # the outgoing-letter series is untouched
    assert generate(ctx, agency="kudus")["issued_letter_number"] == "B/000001/DISKOMINFO/2026"


def test_numbers_run_per_agency_and_restart_each_local_year(ctx, agencies, clock):
    assert [generate(ctx)["issued_letter_number"] for _ in range(3)] == [
        "B/000001/DISKOMINFO/2026",
        "B/000002/DISKOMINFO/2026",
        "B/000003/DISKOMINFO/2026",
    ]
    assert generate(ctx, agency="tapin")["issued_letter_number"] == "B/000001/DISKOMINFO/2026"
    # 31 Dec 2026 17:30 UTC is already 1 Jan 2027 in Pontianak (UTC+7)
    clock.set(datetime(2026, 12, 31, 17, 30, tzinfo=UTC))
    assert generate(ctx)["issued_letter_number"] == "B/000001/DISKOMINFO/2027"
    clock.set(datetime(2026, 12, 31, 16, 30, tzinfo=UTC))
    assert generate(ctx)["issued_letter_number"] == "B/000004/DISKOMINFO/2026"


def test_number_format_is_configurable_per_agency(ctx, agencies, sessions):
    with sessions.begin() as s:
        s.get(Agency, agencies["pekalongan"]).settings = {
            "letter": {"number_format": "{seq:03d}/{unit}/{roman_month}/{year}", "unit": "KOMINFO"}
        }
    out = generate(ctx, agency="pekalongan")
    assert out["issued_letter_number"] == "001/KOMINFO/XI/2026"
    ctx.settings["LETTER_NUMBER_FORMAT"] = "470/{seq}/{agency}/{year}"
    assert generate(ctx, agency="kudus")["issued_letter_number"] == "470/1/KUDUS/2026"
    ctx.settings["LETTER_NUMBER_FORMAT"] = "{seq.__class__}"
    with pytest.raises(ConfigurationError):
        generate(ctx, agency="kudus")
    ctx.settings["LETTER_NUMBER_FORMAT"] = "{rahasia}/{seq}"
    with pytest.raises(ConfigurationError):
        generate(ctx, agency="kudus")


def test_a_retried_job_gets_the_same_letter_not_a_new_number(ctx, agencies, sessions):
    job = fake_job("kalbar", "letter.generate", {**VARS, "template": "confirmation"})
    first = generate(ctx, job=job)
    again = generate(ctx, job=job)
    assert first == again
    assert generate(ctx)["issued_letter_number"] == "B/000002/DISKOMINFO/2026"
    with sessions() as s:
        assert len(s.scalars(select(Letter)).all()) == 2


def test_a_failed_letter_gives_its_number_back(ctx, agencies, sessions, monkeypatch):
    from handlers.letters import handler as module

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(module.AttachmentStore, "write_blob", broken)
    with pytest.raises(OSError):
        generate(ctx)
    monkeypatch.undo()
    assert generate(ctx)["issued_letter_number"] == "B/000001/DISKOMINFO/2026"


def test_concurrent_letters_have_no_duplicate_and_no_gap(ctx, agencies, sessions):
    threads, per_thread = 6, 5
    numbers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def work(agency: str) -> None:
        try:
            barrier.wait()
            for _ in range(per_thread):
                out = generate(ctx, agency=agency)
                with lock:
                    numbers.append(out["issued_letter_number"])
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    pool = [threading.Thread(target=work, args=("kalbar",)) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(120)
    assert errors == []
    expected = [f"B/{n:06d}/DISKOMINFO/2026" for n in range(1, threads * per_thread + 1)]
    assert sorted(numbers) == expected


def test_the_raw_sequence_under_concurrency(sessions, agencies):
    got: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def work() -> None:
        barrier.wait()
        for _ in range(10):
            with sessions.begin() as s:
                n = next_number(s, agencies["kudus"], "surat", 2030)
            with lock:
                got.append(n)

    pool = [threading.Thread(target=work) for _ in range(8)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(120)
    assert sorted(got) == list(range(1, 81))


def test_text_outside_latin1_does_not_break_the_pdf(ctx, agencies, sessions, store):
    out = generate(ctx, opd_name="Dinas “Kesehatan” — Kalbar 日本", letter_number="")
    text = pdf_text(store.read(attachment(sessions, out["letter_pdf"])))
    assert 'Dinas "Kesehatan" - Kalbar' in text


def test_a_newline_in_a_variable_cannot_add_markup(ctx, agencies, sessions, store):
    out = generate(ctx, opd_name="Dinas A\n~ PALSU\n# JUDUL PALSU")
    text = pdf_text(store.read(attachment(sessions, out["letter_pdf"])))
    assert "Dinas A ~ PALSU # JUDUL PALSU" in text


def test_unknown_template_is_refused(ctx, agencies):
    with pytest.raises(Exception, match="tidak dikenal"):
        generate(ctx, template="tidak_ada")
    with pytest.raises(Exception, match="tidak dikenal"):
        generate(ctx, template="../confirmation")


# ---------------------------------------------------------------------------- attachments
def test_attachments_are_stored_once_by_hash(store, sessions, agencies, clock):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    with sessions.begin() as s:
        a = store.add(
            s,
            agency_id=agencies["kudus"],
            filename="../../etc/scan.png",
            data=png,
            now=clock.now(),
            instance_id=None,
            created_by="ani",
        )
        b = store.add(
            s, agency_id=agencies["kudus"], filename="lagi.png", data=png, now=clock.now()
        )
    sha = hashlib.sha256(png).hexdigest()
    assert a.sha256 == b.sha256 == sha and a.id != b.id
    assert (a.size, a.mime_type, a.filename) == (len(png), "image/png", "scan.png")
    files = [p for p in store.root.rglob("*") if p.is_file()]
    assert files == [store.root / sha[:2] / sha[2:]]
    with sessions() as s:
        assert store.read(store.get(s, f"att:{a.id}", agency_id=agencies["kudus"])) == png
        with pytest.raises(NotFound):
            store.get(s, f"att:{a.id}", agency_id=agencies["tapin"])
        with pytest.raises(NotFound):
            store.get(s, "att:bukan-uuid", agency_id=agencies["kudus"])
    (store.root / sha[:2] / sha[2:]).write_bytes(b"diubah")
    with sessions() as s, pytest.raises(Exception, match="hash"):
        store.read(store.get(s, a.id, agency_id=agencies["kudus"]))


def test_type_is_sniffed_from_the_bytes():
    import io
    import zipfile

    def zipped(name: str) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr(name, "<x/>")
        return buf.getvalue()

    assert sniff_mime(b"%PDF-1.7\n...") == "application/pdf"
    assert sniff_mime(b"\xff\xd8\xff\xe0\x00\x10JFIF") == "image/jpeg"
    assert sniff_mime(b"GIF89a....") == "image/gif"
    assert sniff_mime(zipped("word/document.xml")).endswith("wordprocessingml.document")
    assert sniff_mime(zipped("xl/workbook.xml")).endswith("spreadsheetml.sheet")
    assert sniff_mime(zipped("lain.txt")) == "application/zip"
    assert sniff_mime(b"Surat permohonan") == "text/plain"
    assert sniff_mime(b"MZ\x90\x00\x03\x00\x00\x00") == "application/octet-stream"
    assert sniff_mime(b"") == "application/octet-stream"
    assert clean_filename("C:\\Users\\ani\\surat.pdf") == "surat.pdf"
    assert clean_filename("..\x00\n") == "berkas"
    long = clean_filename("a" * 300 + ".pdf")
    assert len(long) <= 255 and long.endswith("aaa.pdf")
