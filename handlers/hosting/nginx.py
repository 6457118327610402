"""nginx: render a server block and the placeholder page, test the configuration, reload.

Templates are Jinja2 files, looked up per agency first so an administrator can reword them
without code: ``<template_dir>/<agency code>/<name>``, ``<template_dir>/<name>``, then the
built-in ``handlers/hosting/templates/<name>``. The environment is sandboxed and undefined
variables are errors; the HTML page is autoescaped (an OPD name such as ``<b>Dinas & Co</b>``
is shown as text); the server block is not, so every value put into it is checked first (the
name is LDH, paths have no quotes, ``;``, braces, ``$`` or spaces, listen is host:port).
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from .config import HostingSettings
from .errors import HostingConfigError, WebServerError

BUILTIN_DIR = Path(__file__).parent / "templates"
SERVER_BLOCK_TEMPLATE = "nginx.conf.j2"
PLACEHOLDER_TEMPLATE = "placeholder.html.j2"


def _environment(cfg: HostingSettings) -> SandboxedEnvironment:
    paths: list[str] = []
    if cfg.template_dir is not None:
        paths += [str(cfg.template_dir / cfg.agency), str(cfg.template_dir)]
    paths.append(str(BUILTIN_DIR))
    return SandboxedEnvironment(
        loader=FileSystemLoader(paths),
        autoescape=lambda name: bool(name and name.endswith((".html.j2", ".html"))),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(cfg: HostingSettings, name: str, values: Mapping[str, Any]) -> str:
    try:
        return _environment(cfg).get_template(name).render(**values)
    except TemplateError as e:
        raise HostingConfigError(
            f"Hosting template {name} of agency {cfg.agency} cannot be rendered: {e}",
            f"Template hosting {name} instansi {cfg.agency} tidak dapat dibuat: {e}",
            agency=cfg.agency,
        )


def _nginx(cfg: HostingSettings) -> list[str]:
    if not cfg.nginx_binary:
        raise HostingConfigError(
            f"nginx is not installed or not found for agency {cfg.agency} "
            "(set hosting.nginx_binary)",
            f"nginx tidak terpasang atau tidak ditemukan untuk instansi {cfg.agency} "
            "(isi hosting.nginx_binary)",
            agency=cfg.agency,
        )
    argv = [cfg.nginx_binary]
    if cfg.nginx_prefix is not None:
        argv += ["-p", str(cfg.nginx_prefix)]
    assert cfg.nginx_conf is not None
    argv += ["-c", str(cfg.nginx_conf)]
    return argv


def check_command(cfg: HostingSettings) -> list[str] | None:
    """``nginx [-p prefix] -c conf -t``, when the main configuration is known."""
    return [*_nginx(cfg), "-t"] if cfg.nginx_conf is not None else None


def reload_command(cfg: HostingSettings) -> list[str] | None:
    """The configured command, else ``nginx [-p prefix] -c conf -s reload``, else None."""
    if cfg.reload_command:
        return list(cfg.reload_command)
    return [*_nginx(cfg), "-s", "reload"] if cfg.nginx_conf is not None else None


def run(cfg: HostingSettings, argv: Sequence[str], what_en: str, what_id: str) -> str:
    """Run a web server command; a failure raises WebServerError with its output."""
    try:
        done = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=cfg.command_timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError as e:
        raise WebServerError(
            f"{what_en}: program not found ({e.filename})",
            f"{what_id}: program tidak ditemukan ({e.filename})",
            agency=cfg.agency,
            command=" ".join(argv),
        )
    except subprocess.TimeoutExpired:
        raise WebServerError(
            f"{what_en}: no answer within {cfg.command_timeout:g} s",
            f"{what_id}: tidak selesai dalam {cfg.command_timeout:g} detik",
            agency=cfg.agency,
            command=" ".join(argv),
        )
    output = (done.stdout + done.stderr).strip()
    if done.returncode != 0:
        tail = "\n".join(output.splitlines()[-8:])
        raise WebServerError(
            f"{what_en} (exit {done.returncode}): {tail}",
            f"{what_id} (kode keluar {done.returncode}): {tail}",
            agency=cfg.agency,
            command=" ".join(argv),
        )
    return output
