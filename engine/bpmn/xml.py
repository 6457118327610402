"""Safe XML parsing of uploaded diagrams: no DTD, no entity expansion, no network, a size cap."""

from __future__ import annotations

import hashlib
import re

from lxml import etree

from ..errors import DeployError, Problem

MAX_DIAGRAM_BYTES = 5 * 1024 * 1024
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def safe_parse(data: bytes, filename: str | None = None) -> etree._ElementTree:
    """Parse XML with no DTD, no entity expansion and no network, or raise a located DeployError."""
    if len(data) > MAX_DIAGRAM_BYTES:
        raise DeployError(
            [
                Problem(
                    f"Diagram is larger than {MAX_DIAGRAM_BYTES // 1024 // 1024} MB",
                    f"Diagram lebih besar dari {MAX_DIAGRAM_BYTES // 1024 // 1024} MB",
                    filename=filename,
                )
            ],
            filename,
        )
    # UTF-16/32 put NULs between the ASCII bytes of "<!DOCTYPE": drop them to see it
    scan = data.replace(b"\x00", b"") if b"\x00" in data[:4] else data
    m = _DTD.search(scan)
    if m:
        line = scan[: m.start()].count(b"\n") + 1
        raise DeployError(
            [
                Problem(
                    "DTDs and entity declarations are not allowed in diagrams",
                    "DTD dan deklarasi entitas tidak diizinkan dalam diagram",
                    line=line,
                    filename=filename,
                )
            ],
            filename,
        )
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )
    try:
        tree = etree.ElementTree(etree.fromstring(data, parser=parser))
    except etree.XMLSyntaxError as e:
        raise DeployError(
            [
                Problem(
                    f"Not well-formed XML: {e.msg}",
                    f"XML tidak valid: {e.msg}",
                    line=e.lineno,
                    filename=filename,
                )
            ],
            filename,
        )
    if tree.docinfo.doctype:
        # reached only when the byte scan above could not see the DOCTYPE (an exotic encoding):
        # locate it in the decoded text so the analyst still gets a line
        try:
            text = data.decode(tree.docinfo.encoding or "utf-8")
            m_text = re.search(r"<!\s*DOCTYPE", text, re.IGNORECASE)
            line = text[: m_text.start()].count("\n") + 1 if m_text else 1
        except (LookupError, UnicodeDecodeError):
            line = 1
        raise DeployError(
            [
                Problem(
                    "DTDs are not allowed in diagrams",
                    "DTD tidak diizinkan dalam diagram",
                    line=line,
                    filename=filename,
                )
            ],
            filename,
        )
    return tree
