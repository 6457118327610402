"""Numbered PDF letters on the agency's letterhead (``letter.generate``)."""

from .handler import KINDS, LetterGenerateHandler
from .numbering import format_number, next_number

__all__ = ["KINDS", "LetterGenerateHandler", "format_number", "next_number"]
