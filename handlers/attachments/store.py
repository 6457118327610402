"""Content-addressed file storage for attachments.

A file is stored once per content at ``<root>/<sha[:2]>/<sha[2:]>`` (``root`` is the configured
``ATTACHMENT_DIR``, by default ``<instance>/attachments``: outside any web root, served only by
views that check the agency). Writes go to a temporary file in the same directory, are fsynced
and renamed into place, so a reader never sees half a file and two writers of the same content
agree. The row in ``attachment`` carries the hash, the size, the type sniffed from the bytes (the
client's claim is ignored) and a cleaned file name; processes refer to it as ``att:<uuid>``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import secrets
import unicodedata
import zipfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from engine.errors import NotFound

from ..agency_settings import instance_dir
from .errors import AttachmentCorrupt, AttachmentFileMissing
from .models import Attachment

REF_PREFIX = "att:"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def make_ref(attachment_id: str) -> str:
    return f"{REF_PREFIX}{attachment_id}"


def parse_ref(ref: Any) -> str | None:
    """The attachment id in ``att:<uuid>``, or None for anything else."""
    if not isinstance(ref, str) or not ref.startswith(REF_PREFIX):
        return None
    ident = ref[len(REF_PREFIX) :].strip().lower()
    return ident if _UUID.fullmatch(ident) else None


def sniff_mime(data: bytes) -> str:
    """The media type by magic bytes. Office documents are ZIP files recognised by the part
    they must contain; anything unknown is ``application/octet-stream``."""
    head = data[:16]
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "application/x-ole-storage"  # legacy .doc/.xls
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = set(z.namelist())
        except zipfile.BadZipFile:
            return "application/zip"
        if "word/document.xml" in names:
            return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        if "xl/workbook.xml" in names:
            return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        if "ppt/presentation.xml" in names:
            return "application/vnd.openxmlformats-officedocument.presentationml.presentation"
        return "application/zip"
    chunk = data[:4096]
    if not chunk or b"\x00" in chunk:
        return "application/octet-stream"
    try:
        chunk.decode("utf-8")
    except UnicodeDecodeError as e:
        # a multi-byte character cut at the end of the sample is still text
        if len(data) <= len(chunk) or e.start < len(chunk) - 3:
            return "application/octet-stream"
    return "text/plain"


def clean_filename(name: str | None, default: str = "berkas") -> str:
    """A base name without directories, control characters or leading dots, at most 255 chars."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().lstrip(".")
    if not name:
        name = default
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 250 - len(ext)] + dot + ext) if dot and len(ext) < 16 else name[:255]
    return name


class AttachmentStore:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser().resolve()

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> AttachmentStore:
        configured = (settings or {}).get("ATTACHMENT_DIR") or os.environ.get(
            "SOPFLOW_ATTACHMENT_DIR"
        )
        return cls(configured or instance_dir(settings) / "attachments")

    def path_for(self, sha256: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256[2:]

    def write_blob(self, data: bytes) -> str:
        """Store ``data`` under its hash (once) and return the hash."""
        sha = hashlib.sha256(data).hexdigest()
        path = self.path_for(sha)
        if path.is_file() and path.stat().st_size == len(data):
            return sha
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
        tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        return sha

    def add(
        self,
        s: Session,
        *,
        agency_id: int,
        filename: str,
        data: bytes,
        now: datetime,
        instance_id: str | None = None,
        kind: str = "upload",
        sensitive: bool = False,
        created_by: str | None = None,
    ) -> Attachment:
        """Write the bytes and add the row (flushed, not committed: the caller's transaction
        decides). A rolled-back row leaves at most an unreferenced blob, never a dangling row."""
        sha = self.write_blob(data)
        att = Attachment(
            agency_id=agency_id,
            instance_id=instance_id,
            sha256=sha,
            size=len(data),
            mime_type=sniff_mime(data),
            filename=clean_filename(filename),
            kind=kind,
            sensitive=sensitive,
            created_by=created_by,
            created_at=now,
        )
        s.add(att)
        s.flush()
        return att

    def get(self, s: Session, ref: str, *, agency_id: int) -> Attachment:
        """The attachment ``ref`` (``att:<uuid>`` or a bare id) of this agency; another agency's
        attachment is indistinguishable from a missing one."""
        ident = parse_ref(ref) or (ref if _UUID.fullmatch(str(ref)) else None)
        att = s.get(Attachment, ident) if ident else None
        if att is None or att.agency_id != agency_id:
            raise NotFound(
                f"Attachment '{ref}' not found", f"Lampiran '{ref}' tidak ditemukan", ref=ref
            )
        return att

    def read(self, att: Attachment) -> bytes:
        """The bytes, checked against the stored hash (a changed file on disk is an error)."""
        try:
            data = self.path_for(att.sha256).read_bytes()
        except FileNotFoundError:
            raise AttachmentFileMissing(
                f"The file of attachment {att.id} is missing from {self.root}",
                f"Berkas lampiran {att.id} tidak ada di {self.root}",
                record=att.id,
            )
        if hashlib.sha256(data).hexdigest() != att.sha256:
            raise AttachmentCorrupt(
                f"The file of attachment {att.id} does not match its hash",
                f"Berkas lampiran {att.id} tidak cocok dengan hash-nya",
                record=att.id,
            )
        return data
