"""``hosting.create`` against a real nginx (tests/nginx_server.py) on a loopback port: the web
root and placeholder, the server block, ``nginx -t`` and reload, idempotent retries, refusals
(another request's block, hand-made blocks and web roots, names and symbolic links that would
lead out of the allowed directories)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nginx_server import NginxServer, NginxUnavailable

from handlers.base import BpmnErrorRaised, HandlerContext
from handlers.hosting import HostingCreateHandler
from handlers.hosting.errors import HostingConfigError, WebServerError
from handlers.hosting.files import OWNER_FILE
from handlers.names import store
from handlers.registry import default_registry

FQDN = "dinas-kesehatan.kuduskab.go.id"


def unavailable(reason: str) -> None:
    """Skip, or fail when SOPFLOW_REQUIRE_INTEGRATION=1 (the policy of tests/conftest.py)."""
    if os.environ.get("SOPFLOW_REQUIRE_INTEGRATION") == "1":
        pytest.fail(f"integration part unavailable (SOPFLOW_REQUIRE_INTEGRATION=1): {reason}")
    pytest.skip(reason)


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[NginxServer]:
    server = NginxServer(tmp_path / "nginx")
    try:
        server.start()
    except NginxUnavailable as e:
        unavailable(f"nginx could not be started: {e}")
    yield server
    server.stop()


@pytest.fixture
def ctx(clock: Any, sessions: Any) -> HandlerContext:
    return HandlerContext(clock=clock, sessions=sessions, settings={})


@pytest.fixture
def hosting(nginx: NginxServer, set_agency_settings: Any) -> NginxServer:
    set_agency_settings("kudus", hosting=nginx.hosting_settings())
    return nginx


def create(ctx: HandlerContext, job: Any) -> dict[str, Any]:
    return dict(HostingCreateHandler().run(job, ctx))


def refusal(ctx: HandlerContext, job: Any) -> BpmnErrorRaised:
    with pytest.raises(BpmnErrorRaised) as err:
        HostingCreateHandler().run(job, ctx)
    return err.value


def test_registered_and_declared() -> None:
    registry = default_registry()
    handler = registry.get("hosting.create")
    assert isinstance(handler, HostingCreateHandler)
    assert handler.outputs == {"hosting_path": handler.outputs["hosting_path"]}
    assert "subdomain" in handler.inputs


def test_creates_web_root_placeholder_and_block_that_nginx_serves(hosting, ctx, make_job):
    job = make_job(
        "hosting.create",
        subdomain="Dinas-Kesehatan",
        opd_name='Dinas <b>Kesehatan</b> & "KB"',
        business_key="KUDUS/2026/000042",
    )
    out = create(ctx, job)

    public = hosting.web_root / FQDN / "public"
    assert out == {"hosting_path": str(public)}
    page = (public / "index.html").read_text()
    assert "<title>Situs sedang disiapkan: dinas-kesehatan.kuduskab.go.id</title>" in page
    assert "Dinas &lt;b&gt;Kesehatan&lt;/b&gt; &amp; &#34;KB&#34;" in page  # escaped, as text
    assert "<b>Kesehatan</b>" not in page
    assert "KUDUS/2026/000042" in page and 'lang="id"' in page
    owner = json.loads((hosting.web_root / FQDN / OWNER_FILE).read_text())
    assert owner["instance_id"] == job.instance_id and owner["agency"] == "kudus"

    conf = (hosting.sites / f"{FQDN}.conf").read_text()
    assert conf.startswith(
        f"# sopflow-hosting: fqdn={FQDN} agency=kudus instance={job.instance_id}\n"
    )
    assert f"server_name {FQDN};" in conf
    assert f'root "{public}";' in conf
    assert f"listen 127.0.0.1:{hosting.port};" in conf
    assert "autoindex off;" in conf and "server_tokens off;" in conf
    assert [p.name for p in hosting.sites.iterdir() if not p.name.startswith(".")] == [
        f"{FQDN}.conf"
    ]  # no temporary file left behind
    assert oct((public / "index.html").stat().st_mode & 0o777) == "0o644"

    # nginx was tested and reloaded: it serves the new site for that Host only
    status, headers, body = hosting.wait_for(FQDN)
    assert status == 200
    assert b"Situs sedang disiapkan" in body
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "SAMEORIGIN"
    assert "referrer-policy" in headers
    assert "text/html" in headers["content-type"] and "utf-8" in headers["content-type"]
    assert "nginx/" not in headers.get("server", "")  # server_tokens off
    assert hosting.get("other.kuduskab.go.id")[2] == b"default server\n"

    # no directory listing, no hidden files
    (public / "berkas").mkdir()
    (public / "berkas" / "a.txt").write_text("a")
    (public / ".env").write_text("SECRET=1")
    status, _h, listing = hosting.get(FQDN, "/berkas/")
    assert status in (403, 404) and b"a.txt" not in listing
    assert hosting.get(FQDN, "/berkas/a.txt")[0] == 200
    assert hosting.get(FQDN, "/.env")[0] == 403


def test_fqdn_input_and_retry_are_idempotent(hosting, ctx, make_job):
    job = make_job("hosting.create", fqdn=f"{FQDN}.", opd_name="Dinkes")
    first = create(ctx, job)
    conf_path = hosting.sites / f"{FQDN}.conf"
    conf = conf_path.read_bytes()
    mtime = conf_path.stat().st_mtime_ns
    hosting.wait_for(FQDN)

    # the officer uploads the real site; a retry of the same job changes nothing
    index = Path(first["hosting_path"]) / "index.html"
    index.write_text("<html><head><title>Situs resmi Dinkes</title></head></html>")
    again = make_job(
        "hosting.create",
        instance_id=job.instance_id,
        business_key=job.business_key,
        subdomain="dinas-kesehatan",
        opd_name="Dinkes",
    )
    assert create(ctx, again) == first
    assert conf_path.read_bytes() == conf and conf_path.stat().st_mtime_ns == mtime
    assert "Situs resmi Dinkes" in index.read_text()
    assert b"Situs resmi Dinkes" in hosting.wait_for(FQDN)[2]


def test_a_crash_after_mkdir_is_completed_by_the_retry(hosting, ctx, make_job):
    (hosting.web_root / FQDN / "public").mkdir(parents=True)  # made, then the worker died
    out = create(ctx, make_job("hosting.create", subdomain="dinas-kesehatan"))
    assert (Path(out["hosting_path"]) / "index.html").exists()
    assert hosting.wait_for(FQDN)[0] == 200


def test_another_requests_block_is_not_overwritten(hosting, ctx, make_job):
    first = make_job("hosting.create", subdomain="dinas-kesehatan", business_key="KUDUS/2026/1")
    create(ctx, first)
    conf_path = hosting.sites / f"{FQDN}.conf"
    before = conf_path.read_bytes()
    page = (hosting.web_root / FQDN / "public" / "index.html").read_bytes()

    err = refusal(ctx, make_job("hosting.create", subdomain="dinas-kesehatan"))
    assert err.code == "HOSTING_EXISTS"
    assert f"kudus/{first.instance_id}" in err.message_en
    assert "tidak ada yang ditimpa" in err.message_id and "nothing was overwritten" in str(err)
    assert conf_path.read_bytes() == before
    assert (hosting.web_root / FQDN / "public" / "index.html").read_bytes() == page

    # the first request may still retry
    assert create(ctx, first)["hosting_path"].endswith(f"{FQDN}/public")


def test_hand_made_blocks_and_web_roots_are_refused(hosting, ctx, make_job):
    conf_path = hosting.sites / f"{FQDN}.conf"
    conf_path.write_text(f"server {{ listen 127.0.0.1:{hosting.port}; server_name {FQDN}; }}\n")
    err = refusal(ctx, make_job("hosting.create", subdomain="dinas-kesehatan"))
    assert err.code == "HOSTING_EXISTS" and "bukan buatan sopflow" in str(err)
    conf_path.unlink()

    # a block under another file name that already serves the name
    other = hosting.sites / "lama.conf"
    other.write_text(
        "# lama\nserver {\n  listen 80;\n  server_name www.example.org  " + FQDN + ";\n}\n"
    )
    err = refusal(ctx, make_job("hosting.create", subdomain="dinas-kesehatan"))
    assert err.code == "HOSTING_EXISTS" and "lama.conf" in str(err)
    assert not conf_path.exists()
    other.unlink()

    # a web root someone made by hand
    site = hosting.web_root / FQDN
    (site / "public").mkdir(parents=True)
    (site / "public" / "index.php").write_text("<?php echo 1;")
    err = refusal(ctx, make_job("hosting.create", subdomain="dinas-kesehatan"))
    assert err.code == "HOSTING_EXISTS" and "web root" in str(err)
    assert not conf_path.exists()
    assert not (site / OWNER_FILE).exists()


@pytest.mark.parametrize(
    "variables",
    [
        {"subdomain": "../../etc"},
        {"subdomain": "a/b"},
        {"subdomain": "dinkes\nserver_name evil"},
        {"fqdn": "../../etc/passwd"},
        {"fqdn": "dinkes.kuduskab.go.id/../../x"},
        {"fqdn": "dinkes;include /etc/passwd"},
        {"fqdn": "-bad.kuduskab.go.id"},
        {},
    ],
)
def test_names_that_are_not_host_names_are_refused(hosting, ctx, make_job, variables):
    err = refusal(ctx, make_job("hosting.create", **variables))
    assert err.code == "NAME_INVALID"
    assert [p.name for p in hosting.web_root.iterdir()] == []
    assert [p.name for p in hosting.sites.iterdir() if p.suffix == ".conf"] == []


def test_symbolic_links_out_of_the_allowed_directories_are_refused(
    hosting, ctx, make_job, tmp_path
):
    outside = tmp_path / "outside"
    outside.mkdir()
    (hosting.web_root / FQDN).symlink_to(outside, target_is_directory=True)
    err = refusal(ctx, make_job("hosting.create", subdomain="dinas-kesehatan"))
    assert err.code == "HOSTING_PATH_REFUSED"
    assert list(outside.iterdir()) == []
    (hosting.web_root / FQDN).unlink()

    (hosting.sites / f"{FQDN}.conf").symlink_to(outside / "x.conf")
    err = refusal(ctx, make_job("hosting.create", subdomain="dinas-kesehatan"))
    assert err.code == "HOSTING_PATH_REFUSED"
    assert list(outside.iterdir()) == []
    assert not (hosting.web_root / FQDN).exists()


def test_a_name_held_by_another_request_is_refused(hosting, ctx, make_job, sessions, agencies):
    store.reserve(
        sessions,
        agency_id=agencies["kudus"],
        label="dinas-kesehatan",
        fqdn=FQDN,
        instance_id="someone-else",
        business_key="KUDUS/2026/7",
        actor="w",
        now=ctx.now(),
    )
    err = refusal(ctx, make_job("hosting.create", subdomain="dinas-kesehatan"))
    assert err.code == "NAME_TAKEN"
    mine = make_job("hosting.create", subdomain="dinas-kesehatan", instance_id="someone-else")
    assert create(ctx, mine)["hosting_path"].endswith("/public")


def test_a_configuration_nginx_refuses_is_rolled_back(hosting, ctx, make_job, set_agency_settings):
    job = make_job("hosting.create", subdomain="dinas-kesehatan")
    conf_path = hosting.sites / f"{FQDN}.conf"
    # per-site logs in a directory that does not exist: nginx -t fails to open them
    missing = hosting.root / "no-such-dir"
    set_agency_settings("kudus", hosting=hosting.hosting_settings(log_dir=str(missing)))
    with pytest.raises(WebServerError) as err:
        create(ctx, job)
    assert "nginx menolak konfigurasi" in str(err.value) and "refused" in str(err.value)
    assert "no-such-dir" in str(err.value)
    assert not conf_path.exists()  # removed again: nginx keeps a valid configuration

    set_agency_settings("kudus", hosting=hosting.hosting_settings())
    create(ctx, job)
    good = conf_path.read_bytes()
    set_agency_settings("kudus", hosting=hosting.hosting_settings(log_dir=str(missing)))
    with pytest.raises(WebServerError):
        create(ctx, job)
    assert conf_path.read_bytes() == good  # the previous block, byte for byte
    assert hosting.wait_for(FQDN)[0] == 200


def test_nginx_down_fails_retriably_and_the_retry_completes(hosting, ctx, make_job):
    job = make_job("hosting.create", subdomain="dinas-kesehatan")
    hosting.stop()
    with pytest.raises(WebServerError) as err:
        create(ctx, job)
    assert "Memuat ulang web server" in str(err.value) and "Reloading" in str(err.value)
    assert (hosting.sites / f"{FQDN}.conf").exists()  # valid (nginx -t passed): kept
    hosting.start()
    assert create(ctx, job)["hosting_path"].endswith("/public")
    assert hosting.wait_for(FQDN)[0] == 200


def test_custom_reload_command_and_template_dir(hosting, ctx, make_job, set_agency_settings):
    templates = hosting.root / "templates" / "kudus"
    templates.mkdir(parents=True)
    (templates / "placeholder.html.j2").write_text(
        "<html><head><title>Segera: {{ fqdn }}</title></head><body>{{ opd_name }}</body></html>"
    )
    set_agency_settings(
        "kudus",
        hosting=hosting.hosting_settings(
            nginx_conf=None,  # no nginx -t; the reload command is used as given
            reload_command=hosting.command("-s", "reload"),
            template_dir=str(hosting.root / "templates"),
        ),
    )
    create(ctx, make_job("hosting.create", subdomain="dinas-kesehatan", opd_name="<i>x</i>"))
    status, _h, body = hosting.wait_for(FQDN)
    assert status == 200 and body.startswith(b"<html><head><title>Segera: dinas-kesehatan")
    assert b"&lt;i&gt;x&lt;/i&gt;" in body


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"web_root": None}, "'web_root' belum diisi"),
        ({"web_root": "relative/www"}, "absolute path"),
        ({"nginx_sites_dir": "/nonexistent/sites"}, "does not exist"),
        ({"listen": "127.0.0.1:80; include /etc/passwd"}, "'listen'"),
        ({"server_type": "apache"}, "unknown server_type 'apache'"),
    ],
)
def test_bad_settings_are_retriable_failures(
    hosting, ctx, make_job, set_agency_settings, change, needle
):
    set_agency_settings("kudus", hosting={**hosting.hosting_settings(), **change})
    with pytest.raises(HostingConfigError) as err:
        create(ctx, make_job("hosting.create", subdomain="dinas-kesehatan"))
    assert needle in str(err.value)
    assert list(hosting.web_root.iterdir()) == []


def test_web_root_inside_sites_dir_is_refused(hosting, ctx, make_job, set_agency_settings):
    inner = hosting.sites / "www"
    inner.mkdir()
    set_agency_settings("kudus", hosting=hosting.hosting_settings(web_root=str(inner)))
    with pytest.raises(HostingConfigError, match="separate directories"):
        create(ctx, make_job("hosting.create", subdomain="dinas-kesehatan"))


# ---------------------------------------------------------------- names outside the agency (11)
@pytest.mark.parametrize(
    "fqdn",
    [
        "dinkes.tapinkab.go.id",  # another agency's zone
        "www.kemenkeu.go.id",  # anyone else's
        "kuduskab.go.id",  # the zone itself, not a name in it
        "dinkes.kuduskab.go.id.evil.example",  # the zone as a prefix
        "dinkeskuduskab.go.id",  # the zone as a suffix without the dot
        "go.id",
    ],
)
def test_an_fqdn_outside_the_agencys_domain_is_refused(hosting, ctx, make_job, fqdn):
    err = refusal(ctx, make_job("hosting.create", fqdn=fqdn))
    assert err.code == "NAME_INVALID"
    assert "tidak berada di bawah domain instansi kudus" in str(err)
    assert "not inside the domain of agency kudus" in str(err)
    assert [p.name for p in hosting.web_root.iterdir()] == []
    assert [p.name for p in hosting.sites.iterdir() if p.suffix == ".conf"] == []


def test_an_fqdn_of_a_reserved_label_is_refused(hosting, ctx, make_job):
    for fqdn in ("www.kuduskab.go.id", "mail.kuduskab.go.id", "x.lpse.kuduskab.go.id"):
        err = refusal(ctx, make_job("hosting.create", fqdn=fqdn))
        assert err.code == "NAME_INVALID", fqdn
    assert [p.name for p in hosting.sites.iterdir() if p.suffix == ".conf"] == []


def test_an_fqdn_below_another_requests_name_is_refused(hosting, ctx, make_job, sessions, agencies):
    store.reserve(
        sessions,
        agency_id=agencies["kudus"],
        label="dinas-kesehatan",
        fqdn=FQDN,
        instance_id="someone-else",
        business_key="KUDUS/2026/000007",
        actor="w",
        now=ctx.now(),
    )
    for fqdn in (FQDN, f"www.{FQDN}"):  # one label or several: the registry label decides
        err = refusal(ctx, make_job("hosting.create", fqdn=fqdn))
        assert err.code == "NAME_TAKEN", fqdn
    assert [p.name for p in hosting.sites.iterdir() if p.suffix == ".conf"] == []
    mine = make_job("hosting.create", fqdn=f"www.{FQDN}", instance_id="someone-else")
    assert create(ctx, mine)["hosting_path"].endswith(f"www.{FQDN}/public")


def test_only_the_name_the_request_reserved(hosting, ctx, make_job, sessions, agencies):
    job = make_job("hosting.create", fqdn="bappeda.kuduskab.go.id")
    store.reserve(
        sessions,
        agency_id=agencies["kudus"],
        label="dinas-kesehatan",
        fqdn=FQDN,
        instance_id=job.instance_id,
        business_key=job.business_key,
        actor="w",
        now=ctx.now(),
    )
    err = refusal(ctx, job)
    assert err.code == "NAME_INVALID"
    assert "memesan nama lain (dinas-kesehatan)" in str(err)
    assert "reserved another name (dinas-kesehatan)" in str(err)
    assert [p.name for p in hosting.sites.iterdir() if p.suffix == ".conf"] == []
    # the reserved one, as subdomain or fqdn, is made
    same = make_job(
        "hosting.create", instance_id=job.instance_id, business_key=job.business_key, fqdn=FQDN
    )
    assert create(ctx, same)["hosting_path"].endswith(f"{FQDN}/public")
    assert hosting.wait_for(FQDN)[0] == 200
