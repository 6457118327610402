"""Deploy-time validation lives in :mod:`engine.bpmn`; these names stay importable from here."""

from .bpmn.diagram import ParsedDiagram, ParsedProcess, parse_diagram
from .topics import TopicPolicy

__all__ = ["ParsedDiagram", "ParsedProcess", "TopicPolicy", "parse_diagram"]
