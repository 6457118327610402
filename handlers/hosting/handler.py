"""``hosting.create``: the web root, a placeholder page and an nginx server block for one site.

For ``<label>.<zone>`` (the ``subdomain`` input; or ``fqdn``) and the agency's web server
(``Agency.settings["hosting"]``, see :mod:`handlers.hosting.config`) it makes, under a lock on
the sites directory:

1. ``<web_root>/<fqdn>/`` with an owner file ``.sopflow-hosting.json`` (outside the document
   root, never served) and ``<web_root>/<fqdn>/public/`` with a placeholder ``index.html``
   (Indonesian, the OPD name, the name and the request number, HTML-escaped). An existing
   ``index.html`` is never overwritten: it may already be the uploaded site;
2. ``<nginx_sites_dir>/<fqdn>.conf`` from the template, written atomically (temporary file,
   fsync, rename), whose first line names the owning request;
3. ``nginx -t`` (when ``nginx_conf`` is set; a refusal restores the previous block, byte for
   byte, or removes the new one) and a reload.

Idempotent: the same request gets the same result however often it runs (a retry after a crash
between any two steps completes the rest). It never writes outside ``web_root`` and the sites
directory: every path is resolved, symbolic links included, and must be exactly the expected
file under its base.

BPMN errors (an uncaught one becomes an incident at once, without retries):

* ``NAME_INVALID``: the label or fqdn is not an acceptable host name, the fqdn is not inside
  the agency's own domain (its parent domain and DNS zone), or the request holds other names in
  the subdomain registry but not this one.
* ``NAME_TAKEN``: another request holds the label in the subdomain registry.

The label the registry is asked about is the one right below the agency's zone, also for an
``fqdn`` of several labels (``www.dinkes.<zone>`` is the site of ``dinkes``).
* ``HOSTING_EXISTS``: a server block or web root for the name exists and belongs to another
  request, or was not made by sopflow; nothing is overwritten.
* ``HOSTING_PATH_REFUSED``: a path resolves outside its base directory (a symbolic link).

Everything else (settings missing, nginx refusing the configuration, the reload failing, the
lock busy) is a retriable failure and, when retries run out, an incident.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from filelock import FileLock
from filelock import Timeout as LockTimeout

from engine.queries.recipients import AgencyInfo
from handlers.agency_settings import load_agency
from handlers.base import BpmnErrorRaised, Handler, HandlerContext, Job
from handlers.dns.config import dns_settings

from . import nginx
from .config import HostingSettings, hosting_settings, site_name
from .errors import HostingBusy, WebServerError
from .files import (
    OWNER_FILE,
    Owner,
    PathEscape,
    atomic_write,
    block_owner,
    inside,
    read_or_none,
    server_names,
    token,
)

log = logging.getLogger("sopflow.hosting")

LOCK_FILE = ".sopflow-hosting.lock"
_MAX_SCAN = 1 << 20  # bytes read from each other file of the sites directory


def placeholder_title(fqdn: str) -> str:
    return f"Situs sedang disiapkan: {fqdn}"


def own_label(agency: AgencyInfo, ctx: HandlerContext, fqdn: str) -> str:
    """The label right below the agency's zone that ``fqdn`` belongs to, or the BPMN error
    NAME_INVALID when ``fqdn`` is not strictly inside both the agency's parent domain and its
    DNS zone: a site is only ever made for a name of the agency's own domain, never for another
    agency's or anyone else's."""
    zone = str(dns_settings(agency, ctx.settings)["zone"]).rstrip(".").lower()
    parent = str(agency.parent_domain or "").rstrip(".").lower()
    outside = [d for d in dict.fromkeys((parent, zone)) if not d or not fqdn.endswith("." + d)]
    if outside:
        raise BpmnErrorRaised(
            "NAME_INVALID",
            f"Hosting untuk {fqdn} ditolak: nama itu tidak berada di bawah domain instansi "
            f"{agency.code} ({parent}); tidak ada yang dibuat / Hosting for {fqdn} refused: the "
            f"name is not inside the domain of agency {agency.code} ({parent}); nothing was "
            "made",
        )
    return fqdn[: -len(zone) - 1].rsplit(".", 1)[-1]


def _exists(fqdn: str, en: str, id: str) -> BpmnErrorRaised:
    return BpmnErrorRaised(
        "HOSTING_EXISTS",
        f"Hosting untuk {fqdn} tidak dibuat: {id}; tidak ada yang ditimpa. / "
        f"Hosting for {fqdn} not created: {en}; nothing was overwritten.",
    )


class HostingCreateHandler(Handler):
    topic = "hosting.create"
    description = (
        "Creates the site's web root with a placeholder page and an nginx server block from a "
        "template, for the agency's configured web server; tests the configuration and reloads "
        "nginx. Idempotent; never overwrites another request's site."
    )
    inputs: ClassVar[Mapping[str, str]] = {
        "subdomain": "the label; the site is <label>.<the agency's zone>",
        "fqdn": "optional instead of subdomain: the full name",
        "opd_name": "optional (process variable): the work unit, shown on the placeholder page",
    }
    outputs: ClassVar[Mapping[str, str]] = {
        "hosting_path": "the site's document root, where the site's files go",
    }
    errors: ClassVar[Mapping[str, str]] = {
        "NAME_INVALID": "the label or fqdn is not an acceptable host name, not inside the "
        "agency's domain, or not the name the request reserved",
        "NAME_TAKEN": "another request holds the label in the subdomain registry",
        "HOSTING_EXISTS": "a server block or web root for the name belongs to another request "
        "or was not made by sopflow",
        "HOSTING_PATH_REFUSED": "a path resolves outside its base directory",
    }

    def _run(self, job: Job, ctx: HandlerContext) -> Mapping[str, Any]:
        agency = load_agency(ctx.sessions, job.agency)
        cfg = hosting_settings(agency, ctx.settings)
        from handlers.names.labels import valid_label

        _label, fqdn = site_name(job, agency, ctx)
        # also from an fqdn: the label obeys the rules of subdomain.reserve (reserved labels)
        label = valid_label(own_label(agency, ctx, fqdn), agency, ctx)
        self._check_registry(ctx, job, agency, label, fqdn)
        owner = Owner.of(fqdn, agency.code, job.instance_id)
        try:
            site_dir = inside(cfg.web_root, fqdn)
            public = inside(cfg.web_root, fqdn, "public")
            conf_path = inside(cfg.sites_dir, f"{fqdn}.conf")
            logs = (
                (
                    inside(cfg.log_dir, f"{fqdn}.access.log"),
                    inside(cfg.log_dir, f"{fqdn}.error.log"),
                )
                if cfg.log_dir is not None
                else None
            )
        except PathEscape as e:
            raise BpmnErrorRaised(
                "HOSTING_PATH_REFUSED",
                f"Hosting untuk {fqdn} ditolak: path keluar dari direktori yang diizinkan ({e}) / "
                f"Hosting for {fqdn} refused: a path leaves its allowed directory ({e})",
            )
        lock = FileLock(str(cfg.sites_dir / LOCK_FILE), timeout=cfg.lock_timeout)
        try:
            with lock:
                self._create(job, ctx, agency, cfg, fqdn, owner, site_dir, public, conf_path, logs)
        except LockTimeout:
            raise HostingBusy(
                f"The sites directory {cfg.sites_dir} stayed locked for {cfg.lock_timeout:g} s",
                f"Direktori situs {cfg.sites_dir} tetap terkunci selama {cfg.lock_timeout:g} detik",
                agency=agency.code,
            )
        log.info("hosting.create %s for %s: %s", fqdn, job.business_key, public)
        return {"hosting_path": str(public)}

    # ------------------------------------------------------------------ steps
    @staticmethod
    def _check_registry(
        ctx: HandlerContext, job: Job, agency: AgencyInfo, label: str, fqdn: str
    ) -> None:
        from handlers.names import store
        from handlers.names.labels import held_reason

        row = store.holder(ctx.sessions, agency.id, label)
        if row is not None and row.instance_id not in (None, job.instance_id):
            raise BpmnErrorRaised("NAME_TAKEN", held_reason(fqdn).text())
        held = [r.label for r in store.held_by(ctx.sessions, agency.id, job.instance_id)]
        if held and label not in held:
            names = ", ".join(held)
            raise BpmnErrorRaised(
                "NAME_INVALID",
                f"Hosting untuk {fqdn} ditolak: permohonan ini memesan nama lain ({names}), "
                f"bukan {label} / Hosting for {fqdn} refused: this request reserved another "
                f"name ({names}), not {label}",
            )

    def _create(
        self,
        job: Job,
        ctx: HandlerContext,
        agency: AgencyInfo,
        cfg: HostingSettings,
        fqdn: str,
        owner: Owner,
        site_dir: Path,
        public: Path,
        conf_path: Path,
        logs: tuple[Path, Path] | None,
    ) -> None:
        # 1. every check before any write
        old_conf = read_or_none(conf_path)
        if old_conf is not None:
            holder = block_owner(old_conf.decode("utf-8", "replace"))
            if holder is None:
                raise _exists(
                    fqdn,
                    f"the server block {conf_path} was not written by sopflow",
                    f"server block {conf_path} bukan buatan sopflow",
                )
            if holder != owner:
                raise _exists(
                    fqdn,
                    f"the server block {conf_path} belongs to request {holder.describe()}",
                    f"server block {conf_path} milik permohonan {holder.describe()}",
                )
        other = self._other_block(cfg, fqdn, conf_path)
        if other is not None:
            raise _exists(
                fqdn,
                f"{other} already has a server block for this name",
                f"{other} sudah memuat server block untuk nama ini",
            )
        self._check_web_root(fqdn, owner, site_dir, public)

        # 2. the web root, its owner file and the placeholder
        site_dir.mkdir(mode=0o755, exist_ok=True)
        if not os.path.lexists(site_dir / OWNER_FILE):
            record = {
                "fqdn": fqdn,
                "agency": agency.code,
                "instance_id": job.instance_id,
                "business_key": job.business_key,
                "created_at": ctx.now().isoformat(),
            }
            atomic_write(site_dir / OWNER_FILE, json.dumps(record, indent=2).encode(), 0o640)
        public.mkdir(mode=0o755, exist_ok=True)
        if not any(os.path.lexists(public / n) for n in ("index.html", "index.htm")):
            opd = str(job.variables.get("opd_name") or "").strip()[:200]
            page = nginx.render(
                cfg,
                nginx.PLACEHOLDER_TEMPLATE,
                {
                    "title": placeholder_title(fqdn),
                    "fqdn": fqdn,
                    "opd_name": opd,
                    "agency_name": agency.name,
                    "business_key": job.business_key,
                },
            )
            atomic_write(public / "index.html", page.encode("utf-8"), 0o644)

        # 3. the server block, tested, rolled back when refused
        conf = nginx.render(
            cfg,
            nginx.SERVER_BLOCK_TEMPLATE,
            {
                "marker": owner.marker(),
                "business_key": token(job.business_key),
                "fqdn": fqdn,
                "listen": list(cfg.listen),
                "root": str(public),
                "access_log": str(logs[0]) if logs else "",
                "error_log": str(logs[1]) if logs else "",
            },
        ).encode("utf-8")
        if not conf.startswith(owner.marker().encode()):
            conf = owner.marker().encode() + b"\n" + conf  # a reworded template without it
        changed = conf != old_conf
        if changed:
            atomic_write(conf_path, conf, 0o644)
        check = nginx.check_command(cfg)
        if check is not None:
            try:
                nginx.run(
                    cfg,
                    check,
                    f"nginx refused the configuration with the server block for {fqdn}; the "
                    "block was rolled back",
                    f"nginx menolak konfigurasi dengan server block untuk {fqdn}; server block "
                    "dikembalikan",
                )
            except WebServerError:
                if changed:
                    if old_conf is None:
                        conf_path.unlink(missing_ok=True)
                    else:
                        atomic_write(conf_path, old_conf, 0o644)
                raise
        reload = nginx.reload_command(cfg)
        if reload is None:
            log.warning(
                "hosting.create %s: no nginx_conf or reload_command for agency %s; the server "
                "block was written but not loaded",
                fqdn,
                agency.code,
            )
            return
        nginx.run(
            cfg,
            reload,
            f"Reloading the web server after writing the server block for {fqdn} failed",
            f"Memuat ulang web server setelah menulis server block untuk {fqdn} gagal",
        )

    @staticmethod
    def _other_block(cfg: HostingSettings, fqdn: str, conf_path: Path) -> Path | None:
        """Another file of the sites directory that already serves ``fqdn``."""
        for entry in sorted(cfg.sites_dir.iterdir()):
            if entry == conf_path or entry.name.startswith(".") or not entry.is_file():
                continue
            try:
                with entry.open("rb") as f:
                    text = f.read(_MAX_SCAN).decode("utf-8", "replace")
            except OSError:
                continue
            if fqdn in server_names(text):
                return entry
        return None

    @staticmethod
    def _check_web_root(fqdn: str, owner: Owner, site_dir: Path, public: Path) -> None:
        if not os.path.lexists(site_dir):
            return
        from .files import root_owner

        holder = root_owner(site_dir)
        if holder is None:
            # a directory left by a crash between mkdir and the owner file is empty (or holds
            # an empty public/); anything else was made by someone else
            entries = [e.name for e in site_dir.iterdir()]
            empty_public = entries == ["public"] and not any(public.iterdir())
            if entries and not empty_public:
                raise _exists(
                    fqdn,
                    f"the web root {site_dir} exists and was not made by sopflow",
                    f"web root {site_dir} sudah ada dan bukan buatan sopflow",
                )
        elif holder != owner:
            raise _exists(
                fqdn,
                f"the web root {site_dir} belongs to request {holder.describe()}",
                f"web root {site_dir} milik permohonan {holder.describe()}",
            )
