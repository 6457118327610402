"""Numbered PDF letters on the agency's letterhead (``letter.generate``)."""

from .generate import KINDS, GenerateLetter, format_number, next_number

__all__ = ["KINDS", "GenerateLetter", "format_number", "next_number"]
