"""Files that belong to a request (uploaded letters, generated PDFs), stored by content hash."""

from .store import (
    REF_PREFIX,
    AttachmentStore,
    make_ref,
    parse_ref,
    sniff_mime,
)

__all__ = ["REF_PREFIX", "AttachmentStore", "make_ref", "parse_ref", "sniff_mime"]
