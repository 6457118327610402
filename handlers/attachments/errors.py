"""The attachment exceptions (``record``: the attachment's id). A reference that does not
exist, or belongs to another agency, is :class:`engine.errors.NotFound` (the web answers 404).

::

    AttachmentError             the stored file cannot be used
    ├── AttachmentFileMissing   the file is not in the store (``ATTACHMENT_DIR``)
    └── AttachmentCorrupt       the file no longer matches its hash
"""

from __future__ import annotations

from handlers.base import HandlerError


class AttachmentError(HandlerError):
    """The file of an attachment cannot be used."""


class AttachmentFileMissing(AttachmentError):
    """The file is missing from the store."""


class AttachmentCorrupt(AttachmentError):
    """The file does not match its recorded hash."""
