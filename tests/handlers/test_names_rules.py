"""Name rules without a database or a server: normalization, refusals, suggestions."""

from __future__ import annotations

import pytest

from handlers.names.errors import NameRefused
from handlers.names.rules import (
    RESERVED_LABELS,
    abbreviations,
    normalize,
    reserved_labels,
    suggest,
)

PARENT = "kuduskab.go.id"


@pytest.mark.parametrize(
    ("raw", "label"),
    [
        ("dinkes", "dinkes"),
        ("Dinas-Pendidikan", "dinas-pendidikan"),
        ("  DINKES  ", "dinkes"),
        ("bücher", "xn--bcher-kva"),
        ("xn--bcher-kva", "xn--bcher-kva"),
        ("ＤＩＮＫＥＳ", "dinkes"),  # full-width letters, UTS-46 mapping
        ("dinkes.kuduskab.go.id", "dinkes"),  # the parent typed too
        ("dinkes.kuduskab.go.id.", "dinkes"),
        ("1000-pintu", "1000-pintu"),
        ("a" * 63, "a" * 63),
    ],
)
def test_normalize(raw, label):
    assert normalize(raw, PARENT) == label


@pytest.mark.parametrize(
    ("raw", "code", "word_id", "word_en"),
    [
        ("", "empty", "belum diisi", "empty"),
        (None, "empty", "belum diisi", "empty"),
        ("dinkes.kesehatan", "multi_label", "satu label", "single label"),
        ("-dinkes", "hyphen_edge", "diawali atau diakhiri", "start or end"),
        ("dinkes-", "hyphen_edge", "diawali atau diakhiri", "start or end"),
        ("dinas kesehatan", "invalid_chars", "spasi", "spaces"),
        ("dinas_kesehatan", "invalid_chars", "garis bawah", "underscores"),
        ("dinkes!", "invalid_chars", "hanya boleh", "may contain only"),
        ("ab--cd", "hyphen_34", "posisi 3-4", "positions 3-4"),
        ("xn--abc", "invalid_idn", "xn--", "xn--"),
        ("xn--", "hyphen_edge", "diawali atau diakhiri", "start or end"),
        ("a" * 64, "too_long", "terlalu panjang", "too long"),
        ("www", "reserved", "dicadangkan", "reserved"),
        ("LPSE", "reserved", "dicadangkan", "reserved"),
        ("ns3", "reserved", "dicadangkan", "reserved"),
        ("mta-sts", "reserved", "dicadangkan", "reserved"),
    ],
)
def test_refusals_say_why_in_both_languages(raw, code, word_id, word_en):
    with pytest.raises(NameRefused) as info:
        normalize(raw, PARENT)
    reason = info.value.reason
    assert reason.code == code
    assert word_id in reason.id and word_en in reason.en
    text = reason.text()
    assert text.index(reason.id) < text.index(reason.en)  # Indonesian first


def test_full_name_length_counts_the_parent():
    parent = ".".join(["p" * 61] * 3) + ".go.id"  # 191 characters
    with pytest.raises(NameRefused) as info:
        normalize("a" * 62, parent)
    assert info.value.reason.code == "name_too_long"
    assert normalize("a" * 61, parent) == "a" * 61  # 61 + 1 + 191 = 253


def test_reserved_list_is_configurable():
    assert {"www", "ns1", "ns4", "lpse", "sipd", "autodiscover"} <= RESERVED_LABELS
    labels = reserved_labels({"reserved_extra": ["dinkes"], "reserved_allow": "portal"})
    assert "dinkes" in labels and "portal" not in labels and "www" in labels
    assert reserved_labels({"reserved": "only"}) == {"only"}
    assert "satu" in reserved_labels(None, {"RESERVED_LABELS": "satu, dua"})
    with pytest.raises(NameRefused):
        normalize("dinkes", PARENT, labels)
    assert normalize("portal", PARENT, labels) == "portal"


def test_abbreviations_of_a_work_unit():
    assert abbreviations("Dinas Kesehatan") == ["dk", "dinkes"]
    assert abbreviations("Dinas Komunikasi dan Informatika") == ["dki", "dinkom"]
    assert abbreviations(None) == []


def test_suggestions_are_valid_free_and_bounded():
    taken = {"dinkes2", "dinkes-dk"}
    asked: list[str] = []

    def is_free(label: str) -> bool:
        asked.append(label)
        return label not in taken

    got = suggest("dinkes", PARENT, RESERVED_LABELS, is_free, opd_name="Dinas Kesehatan", year=2026)
    assert got == ["dinkes-dinkes", "dinkes3", "dinkes-2026"]
    assert "dinkes2" in asked and len(asked) <= 8
    # what was typed, cleaned up, comes first
    assert suggest("Dinas Kesehatan", PARENT, RESERVED_LABELS, lambda _l: True)[0] == (
        "dinas-kesehatan"
    )
    # reserved names get alternatives, never the reserved name itself
    assert "www" not in suggest("www", PARENT, RESERVED_LABELS, lambda _l: True)
    assert suggest("x", PARENT, RESERVED_LABELS, lambda _l: False) == []
