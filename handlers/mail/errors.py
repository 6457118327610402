"""The mail exceptions: all :class:`handlers.base.HandlerError` (a job failure that is retried,
then an incident), each with a bilingual message and the context to act on (``record``: the
template or address concerned, ``agency``, ``element``).

::

    MailError               a message cannot be built (no recipient, a bad address, an unknown
    │                       attachment, credentials without their reference)
    └── UnknownTemplate     the diagram names a mail template that does not exist
"""

from __future__ import annotations

from handlers.base import HandlerError


class MailError(HandlerError):
    """A message cannot be built (no recipient, a bad address, an unknown attachment)."""


class UnknownTemplate(MailError):
    """The diagram names a mail template that does not exist."""
