"""Business keys (nomor permohonan): the generated ones and the rules for a caller-chosen one.

A key is unique per agency (``uq_instance_agency_business_key``), never across agencies: what
another agency filed can neither block nor be learnt by a filing here. The engine generates
``<AGENCYCODE>/<YYYY>/<NNNNNN>`` from ``business_key_sequence``; a number is taken in its own
short transaction, so it is never handed out twice, even when the start that used it fails.

A caller may choose a key (REST ``businessKey``) but never one of the generated shape, for any
agency code, in any letter case: so a chosen key can never take a number the sequence will give
out later (the denial of service of issue 11: an applicant of Tapin choosing
``KUDUS/2026/000003``), and nobody mistakes a chosen key for a generated one.
"""

from __future__ import annotations

import re
import unicodedata

from .errors import Conflict, SopflowError

MAX_LENGTH = 100  # ProcessInstance.business_key is String(100)

# <code>/<year>/<number>: what _next_business_key makes (``{n:06d}`` grows past six digits),
# refused in a chosen key whatever its case or the number of digits
GENERATED_SHAPE = re.compile(r"[A-Za-z0-9_.-]+/[0-9]{4}/[0-9]+")
# control, format (zero-width, bidi overrides), separators other than the space, surrogates,
# private use and unassigned characters
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


class InvalidBusinessKey(SopflowError):
    """A caller-chosen business key that is not acceptable (shape, length, characters)."""


class BusinessKeyTaken(Conflict):
    """A caller-chosen business key already used by a request of the caller's own agency."""

    def __init__(self, key: str) -> None:
        super().__init__(
            f"Business key '{key}' is already used in this agency; choose another or leave it "
            "empty for a generated one",
            f"Nomor permohonan '{key}' sudah dipakai di instansi ini; pilih nomor lain atau "
            "kosongkan agar nomor dibuat otomatis",
            business_key=key,
        )


def generated_key(agency_code: str, year: int, number: int) -> str:
    return f"{agency_code.upper()}/{year}/{number:06d}"


def is_generated_shape(key: str) -> bool:
    return GENERATED_SHAPE.fullmatch(key) is not None


def check_chosen(key: str) -> str:
    """``key`` if a caller may choose it, else InvalidBusinessKey saying why (both languages)."""
    if not isinstance(key, str):
        raise InvalidBusinessKey(
            "The business key must be a string", "Nomor permohonan harus berupa teks"
        )
    shown = ascii(key[:MAX_LENGTH])  # never echo control characters back
    if not key.strip():
        raise InvalidBusinessKey(
            "The business key is empty; leave it out for a generated one",
            "Nomor permohonan kosong; tidak usah diisi agar nomor dibuat otomatis",
        )
    if len(key) > MAX_LENGTH:
        raise InvalidBusinessKey(
            f"The business key has {len(key)} characters; at most {MAX_LENGTH} are allowed",
            f"Nomor permohonan terdiri dari {len(key)} karakter; paling banyak {MAX_LENGTH}",
        )
    bad = sorted({f"U+{ord(c):04X}" for c in key if unicodedata.category(c) in _REFUSED_CATEGORIES})
    if bad:
        raise InvalidBusinessKey(
            f"The business key {shown} contains control or invisible characters "
            f"({', '.join(bad[:5])})",
            f"Nomor permohonan {shown} memuat karakter kendali atau tak terlihat "
            f"({', '.join(bad[:5])})",
        )
    if key != key.strip():
        raise InvalidBusinessKey(
            f"The business key {shown} starts or ends with a space",
            f"Nomor permohonan {shown} diawali atau diakhiri spasi",
        )
    if is_generated_shape(key):
        raise InvalidBusinessKey(
            f"The business key {shown} has the shape of the keys the system generates "
            "(CODE/YEAR/NUMBER); choose another or leave it empty for a generated one",
            f"Nomor permohonan {shown} berbentuk nomor yang dibuat sistem (KODE/TAHUN/NOMOR); "
            "pilih nomor lain atau kosongkan agar nomor dibuat otomatis",
        )
    return key
