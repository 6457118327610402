"""Files of a hosted site: paths that cannot leave their base directory, atomic writes, and the
marks that say which request owns a web root or a server block."""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OWNER_FILE = ".sopflow-hosting.json"  # in <web_root>/<fqdn>/, beside (not in) public/
# first line of every server block sopflow writes
MARKER_PREFIX = "# sopflow-hosting:"
_MARKER = re.compile(
    r"^# sopflow-hosting: fqdn=(?P<fqdn>\S+) agency=(?P<agency>\S+) instance=(?P<instance>\S+)"
)
_SAFE_TOKEN = re.compile(r"[^A-Za-z0-9._/:-]")
_SERVER_NAME = re.compile(r"(?:^|[;{}\s])server_name\s+([^;]*);")
_COMMENT = re.compile(r"#[^\n]*")


class PathEscape(ValueError):
    """A path that resolves outside the directory it must stay in."""


def inside(base: Path, *parts: str) -> Path:
    """``base/parts``, checked to be exactly that path once resolved: each part a plain name
    (no ``..``, no separator) and no symbolic link on the way that leads anywhere else, so the
    result is under ``base`` whatever the file system holds."""
    base = base.resolve()
    for part in parts:
        if not part or part in (".", "..") or "/" in part or "\\" in part or "\x00" in part:
            raise PathEscape(f"{part!r} is not a plain file name")
    path = base.joinpath(*parts)
    resolved = path.resolve()
    if resolved != path or base not in resolved.parents:
        raise PathEscape(f"{path} resolves to {resolved}, not a path inside {base}")
    return path


def token(value: Any) -> str:
    """A value made safe for one whitespace-free token in a comment line."""
    return _SAFE_TOKEN.sub("_", str(value))[:200] or "-"


@dataclass(frozen=True)
class Owner:
    fqdn: str
    agency: str
    instance_id: str

    @classmethod
    def of(cls, fqdn: Any, agency: Any, instance_id: Any) -> Owner:
        return cls(token(fqdn), token(agency), token(instance_id))

    def marker(self) -> str:
        return f"{MARKER_PREFIX} fqdn={self.fqdn} agency={self.agency} instance={self.instance_id}"

    def describe(self) -> str:
        return f"{self.agency}/{self.instance_id}"


def block_owner(text: str) -> Owner | None:
    """The owner written on a server block's first line, or None (not written by sopflow)."""
    first = text.split("\n", 1)[0]
    m = _MARKER.match(first)
    return Owner.of(m["fqdn"], m["agency"], m["instance"]) if m else None


def root_owner(site_dir: Path) -> Owner | None:
    try:
        data = json.loads((site_dir / OWNER_FILE).read_text(encoding="utf-8"))
        return Owner.of(data["fqdn"], data["agency"], data["instance_id"])
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        return Owner("?", "?", "?")  # unreadable: treat as someone else's


def server_names(text: str) -> set[str]:
    """The names of every ``server_name`` directive in an nginx configuration text."""
    clean = _COMMENT.sub("", text)
    return {n.lower().rstrip(".") for m in _SERVER_NAME.finditer(clean) for n in m.group(1).split()}


def atomic_write(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory, fsynced and
    renamed over it: a reader sees the old file or the new one, never half of one. The
    temporary name never ends in ``.conf``, so a half-written block is never included."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def read_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
