"""What ``website.verify`` looks at: the name at the agency's DNS server, then the page over HTTP.

Both steps return what they saw (never raise for something the site's owner can fix); the only
exception is :class:`DnsUnanswered`, a DNS server that did not answer, which the handler turns
into a report or a retriable failure depending on configuration.
"""

from __future__ import annotations

import http.client
import socket
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import dns.name
import dns.rcode
import dns.rdatatype

from handlers.dns.client import DnsClient
from handlers.dns.errors import DnsServerError, DnsServerUnreachable

USER_AGENT = "sopflow-website-verify/1"
_MAX_CNAMES = 8


# ---------------------------------------------------------------------- DNS
@dataclass
class Resolution:
    fqdn: str
    via: str  # "server DNS 127.0.0.1:53" or "resolver sistem"
    addresses: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)  # CNAME chain, if any
    problem: str | None = None  # why there is no address, in Indonesian


class DnsUnanswered(Exception):
    """The DNS server did not answer (timeout, connection refused), after every attempt."""

    def __init__(self, where: str, why: str, attempts: int) -> None:
        self.where, self.why, self.attempts = where, why, attempts
        super().__init__(f"DNS server {where} did not answer ({why}) after {attempts} attempt(s)")


def _addresses(response: Any, owner: dns.name.Name, rdtype: int) -> tuple[list[str], list[str]]:
    """Addresses of ``owner`` in an answer, following CNAMEs inside it; and the aliases seen
    (the last one is where the chain leaves the answer when there are no addresses)."""
    aliases: list[str] = []
    name = owner
    for _ in range(_MAX_CNAMES):
        found = _rrset(response, name, rdtype)
        if found is not None:
            return [rd.to_text() for rd in found], aliases
        cname = _rrset(response, name, dns.rdatatype.CNAME)
        if cname is None:
            break
        name = cname[0].target
        aliases.append(name.to_text(omit_final_dot=True))
    return [], aliases


def _rrset(response: Any, name: dns.name.Name, rdtype: int) -> Any:
    for rrset in response.answer:
        if rrset.name == name and rrset.rdtype == rdtype:
            return rrset
    return None


def resolve_at(
    fqdn: str,
    server: str,
    port: int,
    *,
    zone: str,
    agency: str,
    timeout: float,
    attempts: int = 2,
    pause: float = 0.5,
) -> Resolution:
    """Ask the agency's authoritative server for the A (then AAAA) records of ``fqdn``."""
    client = DnsClient(server, port, zone=zone, timeout=timeout, agency=agency)
    res = Resolution(fqdn, f"server DNS {client.where}")
    owner = dns.name.from_text(fqdn)
    for rdtype in ("A", "AAAA"):
        response = None
        for attempt in range(1, attempts + 1):
            try:
                rcode, response = client.query(fqdn, rdtype)
                break
            except DnsServerUnreachable as e:
                if attempt >= attempts:
                    why = "waktu habis" if "timed out" in e.message_en else _why(e)
                    raise DnsUnanswered(client.where, why, attempts)
                time.sleep(pause)
            except DnsServerError as e:
                res.problem = f"{res.via} menjawab dengan galat: {e.text('id')}"
                return res
        assert response is not None
        if rcode == dns.rcode.NXDOMAIN:
            res.problem = f"nama {fqdn} tidak ditemukan di {res.via} (NXDOMAIN)"
            return res
        addresses, aliases = _addresses(response, owner, dns.rdatatype.from_text(rdtype))
        res.aliases = aliases
        if addresses:
            res.addresses = addresses
            return res
        if aliases:  # the alias points outside the zone: ask the system resolver about it
            return _system(aliases[-1], res)
    res.problem = f"nama {fqdn} ada di {res.via} tetapi tanpa alamat (A/AAAA)"
    return res


def _why(e: Any) -> str:
    text = str(getattr(e, "message_id", "") or e)
    start, end = text.find("("), text.find(")")
    return text[start + 1 : end] if 0 <= start < end else text


def resolve_system(fqdn: str) -> Resolution:
    """When the agency has no DNS server configured: the system resolver."""
    return _system(fqdn, Resolution(fqdn, "resolver sistem"))


def _system(name: str, res: Resolution) -> Resolution:
    try:
        infos = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
    except OSError as e:
        res.problem = f"nama {name} tidak dapat di-resolve oleh resolver sistem ({e})"
        return res
    seen: list[str] = []
    for info in infos:
        addr = str(info[4][0])
        if addr not in seen:
            seen.append(addr)
    res.addresses = seen
    if res.aliases:
        res.via += " + resolver sistem"
    return res


# ---------------------------------------------------------------------- HTTP
@dataclass
class Fetch:
    url: str
    host: str
    status: int | None = None
    reason: str = ""
    title: str | None = None
    size: int = 0
    truncated: bool = False
    elapsed_ms: int = 0
    location: str | None = None
    problem: str | None = None  # why there is no HTTP answer, in Indonesian


class _Title(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._in = False
        self._parts: list[str] = []
        self.title: str | None = None

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "title" and self.title is None:
            self._in = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._in:
            self._in = False
            self.title = " ".join("".join(self._parts).split())

    def handle_data(self, data: str) -> None:
        if self._in:
            self._parts.append(data)


def page_title(body: bytes, content_type: str | None) -> str | None:
    if content_type and "html" not in content_type.lower():
        return None
    charset = "utf-8"
    for param in (content_type or "").split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.lower() == "charset" and value:
            charset = value.strip("\"' ")
    try:
        text = body.decode(charset, "replace")
    except LookupError:
        text = body.decode("utf-8", "replace")
    parser = _Title()
    parser.feed(text)  # html.parser does not raise on malformed markup
    parser.close()
    if parser.title is None and parser._in:
        parser.title = " ".join("".join(parser._parts).split())
    return parser.title[:160] if parser.title else parser.title


def fetch(
    address: str,
    port: int,
    fqdn: str,
    *,
    timeout: float,
    max_bytes: int,
    attempts: int = 2,
    pause: float = 0.5,
) -> Fetch:
    """GET / from ``address:port`` with ``Host: fqdn`` (no redirects followed); a timeout or a
    reset is tried again up to ``attempts`` times, a refused connection is not."""
    shown = f"[{address}]" if ":" in address else address
    url = f"http://{shown}:{port}/"
    host = fqdn if port == 80 else f"{fqdn}:{port}"
    out = Fetch(url, host)
    for attempt in range(1, attempts + 1):
        out = _fetch_once(address, port, url, host, timeout, max_bytes)
        if out.status is not None or "menolak koneksi" in (out.problem or ""):
            return out
        if attempt < attempts:
            time.sleep(pause)
    if attempts > 1 and out.problem:
        out.problem += f" (setelah {attempts} percobaan)"
    return out


def _fetch_once(
    address: str, port: int, url: str, host: str, timeout: float, max_bytes: int
) -> Fetch:
    out = Fetch(url, host)
    started = time.perf_counter()
    deadline = time.monotonic() + timeout
    conn = http.client.HTTPConnection(address, port, timeout=timeout)
    try:
        conn.request(
            "GET",
            "/",
            headers={
                "Host": host,
                "User-Agent": USER_AGENT,
                "Accept": "text/html,*/*;q=0.5",
                "Connection": "close",
            },
        )
        response = conn.getresponse()
        out.status, out.reason = response.status, response.reason
        out.location = response.getheader("Location")
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:
            if time.monotonic() > deadline:
                out.truncated = True
                break
            chunk = response.read(min(65536, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        body = b"".join(chunks)
        if len(body) > max_bytes:
            body, out.truncated = body[:max_bytes], True
        out.size = len(body)
        out.title = page_title(body, response.getheader("Content-Type"))
    except ConnectionRefusedError:
        out.problem = f"{url} menolak koneksi (Connection refused)"
    except TimeoutError:
        if out.status is None:
            out.problem = f"{url} tidak menjawab dalam {timeout:g} detik"
        else:
            out.truncated = True
    except (OSError, http.client.HTTPException) as e:
        if out.status is None:
            out.problem = f"{url} gagal: {type(e).__name__}: {e}".rstrip(": ")
    finally:
        conn.close()
        out.elapsed_ms = int((time.perf_counter() - started) * 1000)
    return out
