"""The agency's web server, from configuration, and the site name a job is about.

``AgencyInfo.settings["hosting"]`` (each key may instead come from the process settings as
``HOSTING_<KEY>``, i.e. the environment variable ``SOPFLOW_HOSTING_<KEY>``)::

    {"server_type": "nginx",                       # the only type supported today
     "web_root": "/srv/www",                       # sites go to <web_root>/<fqdn>/public
     "nginx_sites_dir": "/etc/nginx/sites-enabled", # server blocks go to <dir>/<fqdn>.conf
     "listen": "80",                               # or "127.0.0.1:8080", or a list of them
     "nginx_conf": "/etc/nginx/nginx.conf",        # optional: enables `nginx -t -c` and reload
     "nginx_prefix": "/etc/nginx",                 # optional: nginx -p
     "nginx_binary": "/usr/sbin/nginx",            # optional: default from PATH or /usr/sbin
     "reload_command": ["systemctl", "reload", "nginx"],   # optional, list or string
     "template_dir": "/etc/sopflow/hosting",       # optional: reworded templates
     "log_dir": "/var/log/nginx/sites"}            # optional: per-site access/error logs

Both directories must exist (sopflow never creates an administrator's directories) and must not
be the same. Without ``nginx_conf`` and ``reload_command`` the server block is written but
neither tested nor loaded (a deployment that reloads nginx itself).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import idna

from engine.queries.recipients import AgencyInfo
from handlers.agency_settings import agency_section, setting
from handlers.base import BpmnErrorRaised, HandlerContext, Job
from handlers.dns.config import dns_settings

from .errors import HostingConfigError

SERVER_TYPES = ("nginx",)
# host:port, [v6]:port, *:port or a bare port
_LISTEN = re.compile(
    r"^(?:(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]|\*|localhost):)?(?P<port>\d{1,5})$"
)
_LISTEN_FLAGS = frozenset({"default_server", "reuseport", "http2", "ipv6only=on", "ipv6only=off"})
# characters a path may not contain to be written, quoted, into an nginx configuration
_UNSAFE_PATH = re.compile(r"[\x00-\x1f\x7f\"'\\$;{}#`]")
_LDH_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


@dataclass(frozen=True)
class HostingSettings:
    agency: str
    server_type: str
    web_root: Path
    sites_dir: Path
    listen: tuple[str, ...]
    nginx_conf: Path | None
    nginx_prefix: Path | None
    nginx_binary: str | None
    reload_command: tuple[str, ...] | None
    template_dir: Path | None
    log_dir: Path | None
    lock_timeout: float = 30.0
    command_timeout: float = 30.0

    @property
    def port(self) -> int:
        """The port of the first ``listen`` (what ``website.verify`` connects to by default)."""
        return listen_port(self.listen[0])


def listen_port(listen: str) -> int:
    m = _LISTEN.match(listen.split()[0])
    return int(m.group("port")) if m else 80


def _err(agency: str, en: str, id: str) -> HostingConfigError:
    return HostingConfigError(
        f"Hosting settings of agency {agency}: {en}",
        f"Pengaturan hosting instansi {agency}: {id}",
        agency=agency,
    )


def _dir(agency: AgencyInfo, ctx_settings: Mapping[str, Any] | None, key: str) -> Path:
    raw = setting(ctx_settings, agency, "hosting", key)
    if not raw:
        raise _err(agency.code, f"'{key}' is not set", f"'{key}' belum diisi")
    path = Path(str(raw)).expanduser()
    if not path.is_absolute():
        raise _err(
            agency.code,
            f"'{key}' must be an absolute path, not {raw!r}",
            f"'{key}' harus path absolut, bukan {raw!r}",
        )
    path = path.resolve()
    if not path.is_dir():
        raise _err(
            agency.code,
            f"'{key}' {path} does not exist or is not a directory",
            f"'{key}' {path} tidak ada atau bukan direktori",
        )
    check_path_text(path, agency.code, key)
    return path


def check_path_text(path: Path, agency: str, what: str) -> None:
    """Refuse a path that cannot be written safely into an nginx configuration."""
    if _UNSAFE_PATH.search(str(path)) or any(c.isspace() for c in str(path)):
        raise _err(
            agency,
            f"'{what}' {str(path)!r} contains characters not allowed in a server block "
            "(quotes, backslash, $, ;, braces, #, spaces, control characters)",
            f"'{what}' {str(path)!r} memuat karakter yang tidak boleh ada di server block "
            "(tanda kutip, backslash, $, ;, kurung kurawal, #, spasi, karakter kontrol)",
        )


def _listen(agency: AgencyInfo, ctx_settings: Mapping[str, Any] | None) -> tuple[str, ...]:
    raw = setting(ctx_settings, agency, "hosting", "listen", "80")
    items = [raw] if isinstance(raw, (str, int)) else list(raw)
    out: list[str] = []
    for item in items:
        text = " ".join(str(item).split())
        head, *flags = text.split(" ") if text else [""]
        m = _LISTEN.match(head)
        if not m or not 0 < int(m.group("port")) < 65536 or not set(flags) <= _LISTEN_FLAGS:
            raise _err(
                agency.code,
                f"'listen' {item!r} is not host:port or a port",
                f"'listen' {item!r} bukan host:port atau nomor port",
            )
        out.append(text)
    if not out:
        raise _err(agency.code, "'listen' is empty", "'listen' kosong")
    return tuple(out)


def _command(raw: Any) -> tuple[str, ...] | None:
    if raw in (None, "", []):
        return None
    argv = shlex.split(raw) if isinstance(raw, str) else [str(a) for a in raw]
    if not argv:
        return None
    return tuple(argv)


def find_program(name: str) -> str | None:
    return shutil.which(name) or next(
        (
            str(p)
            for d in ("/usr/sbin", "/sbin", "/usr/local/sbin")
            if os.access(p := Path(d) / name, os.X_OK)
        ),
        None,
    )


def hosting_settings(
    agency: AgencyInfo, ctx_settings: Mapping[str, Any] | None = None
) -> HostingSettings:
    """The agency's web server settings, checked; a problem raises HostingConfigError."""
    block = agency_section(agency, "hosting")
    if block is not None and not isinstance(block, Mapping):
        raise _err(
            agency.code,
            "the 'hosting' section must be a mapping",
            "bagian 'hosting' harus berupa mapping",
        )
    server_type = str(setting(ctx_settings, agency, "hosting", "server_type", "nginx")).lower()
    if server_type not in SERVER_TYPES:
        raise _err(
            agency.code,
            f"unknown server_type '{server_type}' (supported: {', '.join(SERVER_TYPES)})",
            f"server_type '{server_type}' tidak dikenal (yang didukung: {', '.join(SERVER_TYPES)})",
        )
    web_root = _dir(agency, ctx_settings, "web_root")
    sites_dir = _dir(agency, ctx_settings, "nginx_sites_dir")
    if web_root == sites_dir or web_root in sites_dir.parents or sites_dir in web_root.parents:
        raise _err(
            agency.code,
            "'web_root' and 'nginx_sites_dir' must be separate directories (a server block "
            "must never be reachable over HTTP)",
            "'web_root' dan 'nginx_sites_dir' harus direktori terpisah (server block tidak "
            "boleh dapat diakses lewat HTTP)",
        )
    conf = setting(ctx_settings, agency, "hosting", "nginx_conf")
    prefix = setting(ctx_settings, agency, "hosting", "nginx_prefix")
    binary = setting(ctx_settings, agency, "hosting", "nginx_binary") or find_program("nginx")
    template_dir = setting(ctx_settings, agency, "hosting", "template_dir")
    log_dir = setting(ctx_settings, agency, "hosting", "log_dir")
    if log_dir:
        check_path_text(Path(str(log_dir)), agency.code, "log_dir")
    try:
        lock_timeout = float(setting(ctx_settings, agency, "hosting", "lock_timeout", 30.0))
        command_timeout = float(setting(ctx_settings, agency, "hosting", "command_timeout", 30.0))
    except (TypeError, ValueError) as e:
        raise _err(agency.code, f"bad timeout: {e}", f"batas waktu tidak sah: {e}")
    return HostingSettings(
        agency=agency.code,
        server_type=server_type,
        web_root=web_root,
        sites_dir=sites_dir,
        listen=_listen(agency, ctx_settings),
        nginx_conf=Path(str(conf)).expanduser().resolve() if conf else None,
        nginx_prefix=Path(str(prefix)).expanduser().resolve() if prefix else None,
        nginx_binary=str(binary) if binary else None,
        reload_command=_command(setting(ctx_settings, agency, "hosting", "reload_command")),
        template_dir=Path(str(template_dir)).expanduser() if template_dir else None,
        log_dir=Path(str(log_dir)).expanduser() if log_dir else None,
        lock_timeout=lock_timeout,
        command_timeout=command_timeout,
    )


# ---------------------------------------------------------------------- the site's name
def _invalid(raw: Any, en: str, id: str) -> BpmnErrorRaised:
    return BpmnErrorRaised(
        "NAME_INVALID", f"Nama {raw!r} tidak sah: {id} / Name {raw!r} is not valid: {en}"
    )


def check_fqdn(raw: Any) -> str:
    """A host name in canonical form (lower case, A-labels, no final dot), LDH checked: each
    label 1-63 letters, digits or hyphens, no leading or trailing hyphen, at most 253 in all,
    at least two labels. Anything else raises the BPMN error NAME_INVALID."""
    text = str(raw or "").strip().rstrip(".")
    if not text:
        raise _invalid(raw, "empty", "kosong")
    try:
        text = idna.encode(text, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as e:
        raise _invalid(raw, f"not a host name ({e})", f"bukan nama host ({e})")
    labels = text.split(".")
    if len(text) > 253 or len(labels) < 2 or not all(_LDH_LABEL.match(x) for x in labels):
        raise _invalid(
            raw,
            "only letters, digits and '-' in labels of 1-63 characters, at most 253 in all",
            "hanya huruf, angka dan '-' dalam label 1-63 karakter, paling banyak 253 karakter",
        )
    return text


def site_name(
    job: Job,
    agency: AgencyInfo,
    ctx: HandlerContext,
    prefer: tuple[str, str] = ("subdomain", "fqdn"),
) -> tuple[str | None, str]:
    """(label, fqdn) of the site a job is about, from the first of ``prefer`` that is set:
    ``subdomain`` is a label of the agency's zone, normalized and checked as
    ``subdomain.reserve`` does; ``fqdn`` a full host name (label None when it is not one label
    of the zone). Neither set, or not acceptable: the BPMN error NAME_INVALID."""
    from handlers.names.labels import valid_label  # checks syntax and reserved labels

    zone = str(dns_settings(agency, ctx.settings)["zone"])
    for key in prefer:
        raw = job.variables.get(key)
        if raw in (None, ""):
            continue
        if key == "subdomain":
            label = valid_label(raw, agency, ctx)
            return label, check_fqdn(f"{label}.{zone}")
        fqdn = check_fqdn(raw)
        rest = fqdn[: -len(zone) - 1] if fqdn.endswith("." + zone) else None
        return (rest if rest and "." not in rest else None), fqdn
    raise _no_site_name()


def require_site_name(job: Job) -> None:
    """The BPMN error NAME_INVALID when the job has neither ``subdomain`` nor ``fqdn``."""
    if all(job.variables.get(k) in (None, "") for k in ("subdomain", "fqdn")):
        raise _no_site_name()


def _no_site_name() -> BpmnErrorRaised:
    return BpmnErrorRaised(
        "NAME_INVALID",
        "Tugas ini memerlukan masukan 'subdomain' atau 'fqdn' / This task needs the input "
        "'subdomain' or 'fqdn'",
    )
