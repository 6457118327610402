"""The letter exceptions: all :class:`handlers.base.HandlerError` (retried, then an incident),
each with a bilingual message and its context (``record``: the template or number series,
``agency``, ``element``).

::

    LetterError                 a letter cannot be made (credentials_letter without its inputs)
    ├── UnknownLetterTemplate   the diagram names a letter template that does not exist
    └── LetterNumberUnavailable no number could be taken from the series (a lost race, retried)
"""

from __future__ import annotations

from handlers.base import HandlerError


class LetterError(HandlerError):
    """A letter cannot be made."""


class UnknownLetterTemplate(LetterError):
    """The diagram names a letter template that does not exist."""


class LetterNumberUnavailable(LetterError):
    """The series' counter could not be advanced (concurrent writers kept winning)."""
