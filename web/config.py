"""Settings: ``SOPFLOW_*`` environment variables, overridable by a mapping passed in code.

Keys drop the ``SOPFLOW_`` prefix (``SOPFLOW_DATABASE_URL`` -> ``DATABASE_URL``). Every
``SOPFLOW_*`` variable is carried along, so handler settings (``SOPFLOW_HANDLERS``,
``SOPFLOW_DISABLED_TOPICS``, ...) reach :func:`handlers.registry.default_registry` unchanged;
the ones sopflow itself reads are typed and checked here, so a bad value fails at start-up.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from engine.errors import ConfigurationError

PREFIX = "SOPFLOW_"
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
FILE_ORIGINS = frozenset({"null", "file://"})  # what browsers send for a file:// page

DEFAULTS: dict[str, Any] = {
    "INSTANCE_DIR": "instance",
    "DATABASE_URL": None,  # sqlite:///<instance>/sopflow.db
    "SECRET_KEY": None,  # generated once into <instance>/secret_key
    "EXTERNAL_TOPICS": "",
    "STRICT_TOPICS": False,
    "WORKERS": 2,
    "TIMER_INTERVAL": 1.0,
}


def from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    return {
        k[len(PREFIX) :]: v
        for k, v in environ.items()
        if k.startswith(PREFIX) and len(k) > len(PREFIX)
    }


def split_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [p.strip() for p in value.split(",") if p.strip()]
    return [str(p).strip() for p in value if str(p).strip()]


def _number(name: str, value: Any, kind: type, minimum: float) -> Any:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        number = None
    if number is None or number < minimum:
        raise ConfigurationError(
            f"SOPFLOW_{name} must be a number >= {minimum}, not {value!r}",
            f"SOPFLOW_{name} harus berupa angka >= {minimum}, bukan {value!r}",
        )
    return number


def flag(name: str, value: Any) -> bool:
    """``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off`` (empty: off); anything
    else fails at start-up rather than silently meaning one or the other."""
    if isinstance(value, bool):
        return value
    text = str(value if value is not None else "").strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise ConfigurationError(
        f"SOPFLOW_{name} must be 1 or 0, not {value!r}",
        f"SOPFLOW_{name} harus 1 atau 0, bukan {value!r}",
    )


def load_settings(
    config: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    secret: bool = True,
) -> dict[str, Any]:
    """Defaults < environment < ``config``; returns a new dict with typed values.

    ``config`` keys may be given with or without the ``SOPFLOW_`` prefix. With ``secret`` the
    secret key is resolved too (see :func:`secret_key`), which may create the instance
    directory; commands that sign nothing pass ``secret=False``.
    """
    env = os.environ if environ is None else environ
    settings: dict[str, Any] = dict(DEFAULTS)
    settings.update(from_env(env))
    for key, value in (config or {}).items():
        settings[key[len(PREFIX) :] if key.startswith(PREFIX) else key] = value

    instance = Path(settings["INSTANCE_DIR"] or "instance").expanduser().resolve()
    settings["INSTANCE_DIR"] = instance
    if not settings.get("DATABASE_URL"):
        settings["DATABASE_URL"] = f"sqlite:///{instance / 'sopflow.db'}"
    settings["EXTERNAL_TOPICS"] = split_list(settings.get("EXTERNAL_TOPICS"))
    settings["STRICT_TOPICS"] = flag("STRICT_TOPICS", settings.get("STRICT_TOPICS"))
    settings["WORKERS"] = _number("WORKERS", settings.get("WORKERS"), int, 0)
    settings["TIMER_INTERVAL"] = _number(
        "TIMER_INTERVAL", settings.get("TIMER_INTERVAL"), float, 0.05
    )
    settings["CORS_ORIGINS"] = cors_origins(settings.get("CORS_ORIGINS"))
    if secret and not settings.get("SECRET_KEY"):
        settings["SECRET_KEY"] = secret_key(instance)
    return settings


def normal_origin(origin: str) -> str:
    """An origin as browsers send it: lower case, no trailing slash (``file://`` kept whole)."""
    o = origin.strip().lower()
    return o[:-1] if o.endswith("/") and not o.endswith("://") else o


def valid_origin(origin: str) -> bool:
    """``null``, ``file://`` or ``scheme://host[:port]`` with nothing after it."""
    o = normal_origin(origin)
    if o in FILE_ORIGINS:
        return True
    try:
        parts = urlsplit(o)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and not (parts.path or parts.query or parts.fragment or parts.username)
    )


def cors_origins(value: Any) -> frozenset[str]:
    """``SOPFLOW_CORS_ORIGINS``: exact origins (``https://host[:port]``, ``null``, ``file://``)
    whose pages may call the REST API with credentials; ``*`` or a URL with a path is refused at
    start-up, since a typo must not open the API to every site (web/rest/cors.py)."""
    origins = split_list(value)
    bad = [o for o in origins if not valid_origin(o)]
    if bad:
        raise ConfigurationError(
            f"SOPFLOW_CORS_ORIGINS takes exact origins like https://host:port, not {bad[0]!r}",
            f"SOPFLOW_CORS_ORIGINS berisi origin persis (https://host:port), bukan {bad[0]!r}",
        )
    return frozenset(normal_origin(o) for o in origins)


def secret_key(instance_dir: Path) -> str:
    """The key in ``<instance>/secret_key``, generated on first use with mode 0600.

    The file is written under a temporary name and linked into place, so two processes
    starting together agree on one key and nobody ever reads a half-written file.
    """
    path = instance_dir / SECRET_KEY_FILE
    try:
        existing = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        existing = ""
    except OSError as e:
        raise ConfigurationError(
            f"Cannot read the secret key file {path}: {e.strerror}",
            f"Berkas kunci rahasia {path} tidak dapat dibaca: {e.strerror}",
        )
    if existing:
        return existing
    instance_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    tmp = instance_dir / f".{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(key + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:  # another process won the race: use its key
            key = path.read_text(encoding="ascii").strip()
            if not key:
                raise ConfigurationError(
                    f"The secret key file {path} is empty; delete it or set SOPFLOW_SECRET_KEY",
                    f"Berkas kunci rahasia {path} kosong; hapus atau isi SOPFLOW_SECRET_KEY",
                )
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return key
