"""The credentials exceptions: :class:`handlers.base.HandlerError`, bilingual, with context
(``record``: the credentials reference or label, ``agency``, ``element``).

::

    CredentialsError            credentials cannot be issued (no valid site label)
    └── CredentialsUnavailable  a one-time link is unknown, already used or expired (``reason``)
"""

from __future__ import annotations

from typing import Any

from handlers.base import HandlerError


class CredentialsError(HandlerError):
    """Credentials cannot be issued or read."""


class CredentialsUnavailable(CredentialsError):
    """The link is unknown, already used, or expired (``reason``: unknown|used|expired)."""

    def __init__(self, reason: str, **context: Any) -> None:
        self.reason = reason
        en, id_ = {
            "unknown": ("This link is not valid", "Tautan ini tidak sah"),
            "used": (
                "This password has already been shown once; ask the officer for a new one",
                "Kata sandi ini sudah pernah ditampilkan; minta kata sandi baru kepada petugas",
            ),
            "expired": (
                "This link has expired; ask the officer for a new password",
                "Tautan ini sudah kedaluwarsa; minta kata sandi baru kepada petugas",
            ),
        }[reason]
        super().__init__(en, id_, **context)
