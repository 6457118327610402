"""The BPMN 2.0 XSD (shipped with SpiffWorkflow): every schema error, located."""

from __future__ import annotations

import os
import threading

from lxml import etree
from SpiffWorkflow.bpmn import parser as _spiff_parser_pkg

from ..errors import Problem
from .namespaces import BPMN

_XSD_PATH = os.path.join(os.path.dirname(_spiff_parser_pkg.__file__ or ""), "schema", "BPMN20.xsd")


_schema_lock = threading.RLock()
_schema: etree.XMLSchema | None = None


def _xsd() -> etree.XMLSchema:
    global _schema
    with _schema_lock:
        if _schema is None:
            _schema = etree.XMLSchema(etree.parse(_XSD_PATH))
        return _schema


def xsd_problems(tree: etree._ElementTree, filename: str | None) -> list[Problem]:
    root = tree.getroot()
    by_line = {}
    for el in root.iter():
        if isinstance(el.tag, str) and el.get("id") and el.sourceline not in by_line:
            by_line[el.sourceline] = el.get("id")
    # the Spiff preprocess step: bpmn-js writes correlation retrieval expressions the XSD refuses
    for expr in root.iter(f"{BPMN}formalExpression"):
        parent = expr.getparent()
        if parent is not None and parent.tag == f"{BPMN}correlationPropertyRetrievalExpression":
            expr.tag = f"{BPMN}messagePath"
    with _schema_lock:
        schema = _xsd()
        ok = schema.validate(tree)
        errors = list(schema.error_log) if not ok else []
    problems = []
    for err in errors[:50]:
        msg = err.message.replace(BPMN, "bpmn:")
        problems.append(
            Problem(
                f"BPMN schema: {msg}",
                f"Skema BPMN: {msg}",
                element_id=by_line.get(err.line),
                line=err.line,
                filename=filename,
            )
        )
    return problems
