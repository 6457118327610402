"""Deploy-time validation moved to :mod:`engine.bpmn`; these names stay importable from here."""

from .bpmn.diagram import (
    BPMN_NS,
    MAX_DIAGRAM_BYTES,
    ParsedDiagram,
    ParsedProcess,
    _locate,
    parse_diagram,
    safe_parse,
    xsd_problems,
)
from .topics import TopicPolicy

__all__ = [
    "BPMN_NS",
    "MAX_DIAGRAM_BYTES",
    "ParsedDiagram",
    "ParsedProcess",
    "TopicPolicy",
    "_locate",
    "parse_diagram",
    "safe_parse",
    "xsd_problems",
]
