"""What makes a subdomain label acceptable, and why not, in Indonesian and English.

:func:`normalize` turns what an applicant typed into the label that is registered and written
to DNS: trimmed, the parent domain dropped if it was typed too, lower-cased and mapped with
IDNA UTS-46 (``Dinas-Pendidikan`` -> ``dinas-pendidikan``, ``bücher`` -> ``xn--bcher-kva``).
It refuses, with a :class:`Reason`, anything that is not one LDH label of at most 63 octets
whose full name fits in 253, that starts or ends with a hyphen, that is an invalid ``xn--``
A-label, or that is reserved.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import idna

from .errors import NameRefused

# The starting list; agencies extend or trim it in settings (see reserved_labels).
# fmt: off
RESERVED_LABELS: frozenset[str] = frozenset((
    "www", "mail", "smtp", "imap", "pop", "mx", "ns", "ns1", "ns2", "ns3", "ns4", "dns",
    "ftp", "sftp", "cpanel", "whm", "webmail", "webdisk", "autodiscover", "autoconfig",
    "mta-sts", "postmaster", "hostmaster", "webmaster", "abuse", "localhost", "test",
    "admin", "root", "api", "vpn", "proxy", "sso", "portal", "ppid", "lpse", "spse", "jdih",
    "sirup", "lapor", "satudata", "data", "sipd",
))
# fmt: on
MAX_LABEL = 63
MAX_NAME = 253
_LDH = re.compile(r"^[a-z0-9-]+$")
# words that do not make an abbreviation ("Dinas Komunikasi dan Informatika" -> "dki")
_STOP_WORDS = frozenset({"dan", "dari", "di", "ke", "untuk", "the", "of", "and", "serta", "pada"})


@dataclass(frozen=True)
class Reason:
    """Why a name is refused (or accepted): a stable code and the text in both languages."""

    code: str
    id: str
    en: str

    def text(self) -> str:
        """Indonesian first, as every person-facing message of sopflow."""
        return f"{self.id} / {self.en}"

    def __str__(self) -> str:
        return self.text()


def _refuse(code: str, id: str, en: str) -> NameRefused:
    return NameRefused(Reason(code, id, en))


def reserved_labels(*sources: Mapping[str, Any] | None) -> frozenset[str]:
    """The default list, then for each source (agency ``names`` settings, handler settings):
    ``reserved`` replaces the list, ``reserved_extra`` / ``RESERVED_LABELS`` add to it,
    ``reserved_allow`` removes from it. Lists may be given as comma-separated strings."""
    labels = set(RESERVED_LABELS)

    def items(v: Any) -> list[str]:
        if not v:
            return []
        if isinstance(v, str):
            v = v.split(",")
        return [str(x).strip().lower() for x in v if str(x).strip()]

    for src in sources:
        if not src:
            continue
        if src.get("reserved") is not None:
            labels = set(items(src["reserved"]))
        labels |= set(items(src.get("reserved_extra"))) | set(items(src.get("RESERVED_LABELS")))
        labels -= set(items(src.get("reserved_allow")))
    return frozenset(labels)


def normalize(raw: Any, parent_domain: str, reserved: Iterable[str] = RESERVED_LABELS) -> str:
    """The label to register, or NameRefused saying why not."""
    if not isinstance(raw, str) or not raw.strip():
        raise _refuse(
            "empty",
            "Nama subdomain belum diisi.",
            "The subdomain name is empty.",
        )
    parent = parent_domain.strip().rstrip(".").lower()
    text = raw.strip()
    try:  # full-width letters, ideographic dots, upper case: what UTS-46 maps
        text = idna.uts46_remap(text, std3_rules=False, transitional=False)
    except idna.IDNAError:
        raise _refuse(
            "invalid_chars",
            f"Nama '{raw.strip()}' memuat karakter yang tidak diizinkan.",
            f"The name '{raw.strip()}' contains characters that are not allowed.",
        )
    text = text.rstrip(".")
    if text.endswith("." + parent):
        text = text[: -len(parent) - 1]
    elif text == parent:
        text = ""
    if not text:
        raise _refuse(
            "empty",
            "Nama subdomain belum diisi.",
            "The subdomain name is empty.",
        )
    if "." in text:
        raise _refuse(
            "multi_label",
            f"Nama '{text}' memuat titik; subdomain harus satu label tanpa titik "
            f"(misalnya 'dinkes', menjadi dinkes.{parent}).",
            f"The name '{text}' contains dots; a subdomain must be a single label without dots "
            f"(for example 'dinkes', giving dinkes.{parent}).",
        )
    if re.search(r"[\s_]", text):
        raise _refuse(
            "invalid_chars",
            f"Nama '{text}' memuat spasi atau garis bawah; gunakan huruf, angka dan tanda hubung "
            "(-) saja.",
            f"The name '{text}' contains spaces or underscores; use only letters, digits and "
            "hyphens (-).",
        )
    if text.startswith("-") or text.endswith("-"):
        raise _refuse(
            "hyphen_edge",
            f"Nama '{text}' tidak boleh diawali atau diakhiri tanda hubung (-).",
            f"The name '{text}' must not start or end with a hyphen (-).",
        )
    if text.isascii():
        label = text.lower()
        if not _LDH.match(label):
            raise _refuse(
                "invalid_chars",
                f"Nama '{text}' hanya boleh memuat huruf a-z, angka 0-9 dan tanda hubung (-).",
                f"The name '{text}' may contain only letters a-z, digits 0-9 and hyphens (-).",
            )
        if label.startswith("xn--"):
            try:
                ulabel = idna.decode(label)
                ok = idna.encode(ulabel, uts46=True, transitional=False).decode() == label
            except (idna.IDNAError, UnicodeError):
                ok = False
            if not ok:
                raise _refuse(
                    "invalid_idn",
                    f"Nama '{label}' diawali 'xn--' tetapi bukan nama domain internasional "
                    "(IDN) yang sah.",
                    f"The name '{label}' starts with 'xn--' but is not a valid "
                    "internationalized domain name (IDN).",
                )
        elif label[2:4] == "--":
            raise _refuse(
                "hyphen_34",
                f"Nama '{label}' memuat '--' pada posisi 3-4, yang dicadangkan untuk nama "
                "domain internasional (IDN).",
                f"The name '{label}' has '--' at positions 3-4, which is reserved for "
                "internationalized domain names (IDN).",
            )
    else:
        try:
            label = idna.encode(text, uts46=True, std3_rules=True, transitional=False).decode()
        except (idna.IDNAError, UnicodeError):
            raise _refuse(
                "invalid_idn",
                f"Nama '{text}' memuat karakter yang tidak dapat dijadikan nama domain "
                "internasional (IDN).",
                f"The name '{text}' contains characters that cannot form an internationalized "
                "domain name (IDN).",
            )
    if len(label) > MAX_LABEL:
        raise _refuse(
            "too_long",
            f"Nama '{text}' terlalu panjang: {len(label)} karakter, paling banyak {MAX_LABEL}.",
            f"The name '{text}' is too long: {len(label)} characters, at most {MAX_LABEL}.",
        )
    if len(label) + 1 + len(parent) > MAX_NAME:
        raise _refuse(
            "name_too_long",
            f"Nama lengkap {label}.{parent} melebihi {MAX_NAME} karakter.",
            f"The full name {label}.{parent} exceeds {MAX_NAME} characters.",
        )
    if label in set(reserved):
        raise _refuse(
            "reserved",
            f"Nama '{label}' dicadangkan untuk layanan atau keperluan khusus dan tidak dapat "
            "dipakai sebagai subdomain.",
            f"The name '{label}' is reserved for a service or special use and cannot be used as "
            "a subdomain.",
        )
    return label


def sanitize(raw: Any) -> str | None:
    """A best-effort valid label from what was typed ("Dinas Pendidikan" -> "dinas-pendidikan"),
    used only to suggest; None when nothing usable remains."""
    if not isinstance(raw, str):
        return None
    try:
        text = idna.uts46_remap(raw.strip(), std3_rules=False, transitional=False)
    except idna.IDNAError:
        return None
    text = re.sub(r"[\s_.]+", "-", text.lower())
    text = re.sub(r"[^\w-]|_", "", text)
    text = re.sub(r"-{2,}", "-", text).strip("-")[:MAX_LABEL].strip("-")
    return text or None


def abbreviations(opd_name: Any) -> list[str]:
    """Short forms of a work unit's name: initials, and the first syllables of the first two
    words ("Dinas Kesehatan" -> "dk", "dinkes")."""
    if not isinstance(opd_name, str):
        return []
    words = [w for w in re.findall(r"[a-z0-9]+", sanitize(opd_name.replace("-", " ")) or "")]
    words = [w for w in words if w not in _STOP_WORDS]
    out: list[str] = []
    if len(words) >= 2:
        out.append("".join(w[0] for w in words)[:12])
        out.append(words[0][:3] + words[1][:3])
    elif words:
        out.append(words[0][:12])
    return [a for a in dict.fromkeys(out) if a]


def candidates(
    label: str, *, opd_name: Any = None, year: int | None = None, agency: str | None = None
) -> list[str]:
    """Alternatives to a taken ``label``, most natural first."""
    base = label[: MAX_LABEL - 6].rstrip("-") or label
    out = [f"{base}-{a}" for a in abbreviations(opd_name)]
    out += [f"{base}{n}" for n in (2, 3)]
    if year:
        out.append(f"{base}-{year}")
    if agency:
        out.append(f"{base}-{agency}")
    out.append(f"{base}-online")
    return [c for c in dict.fromkeys(out) if c != label]


def suggest(
    label_or_raw: str,
    parent_domain: str,
    reserved: Iterable[str],
    is_free: Callable[[str], bool],
    *,
    opd_name: Any = None,
    year: int | None = None,
    agency: str | None = None,
    limit: int = 3,
    max_checks: int = 8,
) -> list[str]:
    """Up to ``limit`` free, valid alternatives, each checked with ``is_free`` (registry and
    live DNS); at most ``max_checks`` lookups are spent."""
    reserved = frozenset(reserved)
    pool: list[str] = []
    base = sanitize(label_or_raw) or ""
    try:
        ok_base = normalize(base, parent_domain, reserved)
        if ok_base != label_or_raw:
            pool.append(ok_base)  # the cleaned-up spelling of what was typed
    except NameRefused:
        pass
    if base:
        pool += candidates(base, opd_name=opd_name, year=year, agency=agency)
    out: list[str] = []
    checks = 0
    for cand in dict.fromkeys(pool):
        if len(out) >= limit or checks >= max_checks:
            break
        try:
            cand = normalize(cand, parent_domain, reserved)
        except NameRefused:
            continue
        if cand == label_or_raw or cand in out:
            continue
        checks += 1
        if is_free(cand):
            out.append(cand)
    return out
