"""The subdomain-name exceptions.

::

    NamesError              base; a HandlerError (retriable job failure)
    ├── NameRefused         the label is not acceptable (syntax, reserved); ``reason`` says why
    └── NameHeld            another request holds the label in the registry; ``row`` is its row

The handlers turn both into BPMN errors (``NAME_INVALID``, ``NAME_TAKEN``) that a diagram can
route; every error carries the name (``record``) and, where known, the agency.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from handlers.base import HandlerError

if TYPE_CHECKING:
    from .models import Subdomain
    from .rules import Reason


class NamesError(HandlerError):
    """Base of every subdomain-name failure."""


class NameRefused(NamesError, ValueError):
    """The label cannot be used; ``reason`` (code, Indonesian, English) says why."""

    def __init__(self, reason: Reason, **context: Any) -> None:
        self.reason = reason
        super().__init__(reason.en, reason.id, **context)

    def __str__(self) -> str:
        return self.reason.text()


class NameHeld(NamesError):
    """The label is held by another request."""

    def __init__(self, row: Subdomain) -> None:
        self.row = row
        holder = row.business_key or row.instance_id
        super().__init__(
            f"{row.fqdn} is held by {holder}",
            f"{row.fqdn} dipegang oleh {holder}",
            record=row.fqdn,
        )
