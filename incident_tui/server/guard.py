"""Cross-site protection: no web page may write to the war room or read it.

A browser is the one client that carries someone else's intent: a page the user opens
can POST to http://127.0.0.1:8765 (a "simple" `text/plain` request needs no CORS
preflight), and a page on a name the attacker re-points at 127.0.0.1 (DNS rebinding)
reads every answer as same-origin. Tokens do not help on the default tokenless
loopback. So, before anything else runs:

- `Host` must be a name this server answers to: loopback names and IP literals (a
  rebinding attack needs a DNS name), plus the `--public-url` host and `--allowed-host`
  names. Anything else is 403.
- An `Origin` header (browsers send it on every cross-origin fetch and on every POST)
  must be this server's own origin: the request's own Host, or the `--public-url`
  origin. `Origin: null` (sandboxed frames, file:// pages) is 403 too.
- Writes need `Content-Type: application/json`: a browser can only send that cross-site
  after a CORS preflight, and the server answers no preflight (there is no CORS at all).
  Otherwise 415.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})  # the methods that carry a body
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOSTNAME = re.compile(r"[a-z0-9_]([a-z0-9_.-]{0,252})")  # a DNS name or an IPv4 literal, lowercased


def shown(value: str, limit: int = 60) -> str:
    """A client-supplied value for a one-line message: repr'd (escapes control and C1
    characters) and cut, so a hostile header cannot fill or style an error line."""
    return repr(value[:limit] + ("…" if len(value) > limit else ""))


def split_host(value: str) -> tuple[str, int | None] | None:
    """`name[:port]` or `[v6][:port]` -> (lowercased name without brackets, port); None if malformed."""
    v = value.strip().lower()
    if not v:
        return None
    port: str | None = None
    if v.startswith("["):
        end = v.find("]")
        if end < 0:
            return None
        name, rest = v[1:end], v[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                return None
            port = rest[1:]
    elif v.count(":") == 1:
        name, port = v.split(":")
    elif ":" in v:
        name = v  # a bare IPv6 literal
    else:
        name = v
    if port is not None and not (port.isascii() and port.isdigit() and len(port) <= 5):
        return None
    name = name.rstrip(".")
    if not (_HOSTNAME.fullmatch(name) or (":" in name and _is_ip(name))):
        return None
    return name, int(port) if port else None


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class HostPolicy:
    """Which `Host` names and which `Origin`s a server accepts."""

    def __init__(self, allowed_hosts: Iterable[str] = (), public_url: str | None = None) -> None:
        names = set(LOOPBACK_NAMES)
        self.any_host = False
        for h in allowed_hosts:
            if h.strip() == "*":
                self.any_host = True  # an explicit opt-out, for proxies that rewrite Host
                continue
            parsed = split_host(h)
            if parsed is None:
                raise ValueError(f"--allowed-host {shown(h)} is not a host name")
            names.add(parsed[0])
        self.public_origin: str | None = None
        if public_url:
            u = urlsplit(public_url)
            if u.scheme not in ("http", "https") or not u.hostname:
                raise ValueError(f"--public-url {shown(public_url)} is not an http(s) URL")
            names.add(u.hostname.lower().rstrip("."))
            port = u.port or _DEFAULT_PORTS[u.scheme]
            self.public_origin = f"{u.scheme}://{u.hostname.lower()}:{port}"
        self.names = frozenset(names)

    def host_ok(self, host: str) -> bool:
        if self.any_host:
            return True
        parsed = split_host(host)
        if parsed is None:
            return False
        name = parsed[0]
        return name in self.names or _is_ip(name) or name.endswith(".localhost")

    def origin_ok(self, origin: str, host: str | None) -> bool:
        try:
            u = urlsplit(origin.strip())
            port = u.port
        except ValueError:
            return False
        if u.scheme not in _DEFAULT_PORTS or not u.hostname or u.path or u.query:
            return False  # includes `null`
        port = port or _DEFAULT_PORTS[u.scheme]
        name = u.hostname.lower().rstrip(".")
        if self.public_origin is not None and f"{u.scheme}://{name}:{port}" == self.public_origin:
            return True
        if host is None:
            return False
        h = split_host(host)
        # Same origin: the page was served by this very host and port. The Host's scheme is
        # not sent; behind a TLS proxy the default port of either scheme is taken as its own.
        return h is not None and h[0] == name and (h[1] or _DEFAULT_PORTS[u.scheme]) == port


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


class GuardMiddleware:
    """Outermost middleware: refuses cross-site requests before auth or routing see them."""

    def __init__(self, app: ASGIApp, policy: HostPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = origin = ctype = None
        for k, v in scope["headers"]:
            if k == b"host":
                host = v.decode("latin-1")
            elif k == b"origin":
                origin = v.decode("latin-1")
            elif k == b"content-type":
                ctype = v.decode("latin-1")
        refusal: tuple[int, str] | None = None
        if host is not None and not self.policy.host_ok(host):
            refusal = (
                403,
                f"Host {shown(host)} is not a name this server answers to (DNS rebinding?); "
                "start serve with --public-url URL or --allowed-host NAME to add it",
            )
        elif origin is not None and not self.policy.origin_ok(origin, host):
            refusal = (403, f"cross-site request refused: Origin {shown(origin)} is not this server")
        elif scope["method"] in _WRITE_METHODS and (ctype is None or _media_type(ctype) != "application/json"):
            got = shown(ctype) if ctype is not None else "none"
            refusal = (415, f"writes need Content-Type: application/json (got {got})")
        if refusal is None:
            await self.app(scope, receive, send)
            return
        status, message = refusal
        body = orjson.dumps({"error": message})
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    # The request body (if any) is never read: end the connection rather
                    # than parse what follows it as the next request.
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
