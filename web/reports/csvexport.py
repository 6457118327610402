"""CSV that Excel opens as intended in an Indonesian locale and that cannot run as a formula.

UTF-8 with a byte-order mark (without it Excel guesses the ANSI code page and mangles names),
comma-separated with a header row, and every text cell that starts with ``= + - @`` (or a tab
or carriage return, which Excel strips before looking) prefixed with ``'`` so that a value typed
by an applicant -- a suggestion, a username -- is shown as text, never evaluated.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

BOM = "\ufeff"
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    if text.startswith(DANGEROUS):
        return "'" + text
    return text


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([safe_cell(h) for h in header])
    for row in rows:
        w.writerow([safe_cell(v) for v in row])
    return BOM + buf.getvalue()
