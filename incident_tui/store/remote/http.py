"""The HTTP side of the remote store: one client per use, one status mapping, the link state.

Every answer the server gives is read through `outcome`: 2xx/3xx is fine, 408, 429
and 5xx are transient (try again later with the same event ids), any other 4xx is
a refusal that resending the same bytes cannot change. Timeouts are explicit:
httpx's default 5 s read timeout would kill a quiet stream, so a stream may be silent
for three server ping intervals before it counts as lost.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Sequence
from typing import Literal

import httpx
import orjson

from ...domain.events import Event, EventError, stored_event
from ..base import LinkState, StoreError
from .urls import API, redact_url

STREAM_READ_TIMEOUT = 45.0  # three of the server's 15 s pings
OFFLINE_AFTER = 10.0  # seconds of failed attempts before "reconnecting" becomes "offline"


class Transient(Exception):
    """The server could not be reached or cannot answer now: try again later with the same ids."""


class Refused(Exception):
    """The server refused the request for good (4xx): resending the same bytes cannot help."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _tls(bases: Sequence[str]) -> ssl.SSLContext | bool:
    """What the clients verify TLS with. Loading the CA bundle costs ~60 ms per client, paid
    by every CLI run even for http:// URLs: plain HTTP gets a bare context (never used: it
    does no TLS and follows no redirect), https one verifying context shared by both clients."""
    if all(b.startswith("http://") for b in bases):
        return False
    return httpx.create_ssl_context()


def outcome(status: int) -> Literal["ok", "transient", "refused"]:
    """The one status mapping (SPEC 11's retry rule): 408, 429 and 5xx are worth retrying."""
    if status >= 500 or status in (408, 429):
        return "transient"
    if status >= 400:
        return "refused"
    return "ok"


def error_text(resp: httpx.Response) -> str:
    try:
        return str(resp.json()["error"])
    except Exception:
        return resp.text[:200].strip() or resp.reason_phrase


class Link:
    """What the last requests said about the server, as the header's link state."""

    def __init__(self) -> None:
        self.last_ok: float | None = None
        self.fail_since: float | None = None
        self.last_error = ""

    def ok(self) -> None:
        self.last_ok = time.monotonic()
        self.fail_since = None

    def fail(self, why: str) -> None:
        if self.fail_since is None:
            self.fail_since = time.monotonic()
        self.last_error = redact_url(why)  # shown on screen: an exception may quote the URL

    @property
    def down(self) -> bool:
        return self.fail_since is not None

    def state(self, live: bool, closed: bool) -> LinkState:
        if closed:
            return "offline"
        if self.fail_since is None:
            return "connected" if self.last_ok is not None or not live else "reconnecting"
        if live and time.monotonic() - self.fail_since < OFFLINE_AFTER:
            return "reconnecting"
        return "offline"


class Api:
    """The server's API through httpx: requests and POSTs on one client, streams on another.

    Given several servers (replicas of one log, SPEC 12), it talks to one at a time and
    moves to the next whenever the current one cannot answer (a transient failure): the
    log's seqs are the same on every replica, so the outbox and the stream's cursor
    carry over unchanged."""

    def __init__(self, bases: str | Sequence[str], token: str | None, link: Link, timeout: float = 10.0) -> None:
        self.bases = [bases] if isinstance(bases, str) else list(bases)
        self._current = 0
        self.link = link
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._headers = headers
        self._tls = _tls(self.bases)
        self._stream_http: httpx.Client | None = None
        self._stream_lock = threading.Lock()
        # Connect fails fast (a dead server should queue writes at once); reads allow a busy server.
        self.http = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout, connect=3.0), verify=self._tls)
        # A POST's request is built by hand from these: the client's own build_request
        # (URL merging and parsing, cookies) was a third of a POST's CPU, and bench_load's
        # clients are CPU-bound on a shared box (measured 840 -> 540 us a POST).
        self._post_urls = [httpx.URL(b + API + "/events") for b in self.bases]
        self._post_headers = httpx.Headers(
            {**headers, "Content-Type": "application/json", "Accept": "application/json", "User-Agent": "incident-tui"}
        )

    @property
    def stream_http(self) -> httpx.Client:
        """The client for the live stream (its own read timeout), made on first use: a CLI
        run, which never streams, builds one client."""
        with self._stream_lock:
            if self._stream_http is None:
                self._stream_http = httpx.Client(
                    headers=self._headers,
                    timeout=httpx.Timeout(10.0, connect=3.0, read=STREAM_READ_TIMEOUT),
                    verify=self._tls,
                )
            return self._stream_http

    @property
    def base(self) -> str:
        """The server in use now, as it may be shown (the header shows it when there are several)."""
        return redact_url(self.bases[self._current])

    def url(self, path: str) -> str:
        return self.bases[self._current] + API + path

    def fail_over(self) -> None:
        """The current server cannot answer: the next request goes to the next one."""
        if len(self.bases) > 1:
            self._current = (self._current + 1) % len(self.bases)

    def check(self, resp: httpx.Response) -> httpx.Response:
        """Raise Transient or Refused by the status; a refusal's body is read for its reason."""
        verdict = outcome(resp.status_code)
        if verdict == "ok":
            return resp
        if not resp.is_closed:
            resp.read()
        if verdict == "transient":
            self.link.fail(f"{self.base} answered {resp.status_code}: {error_text(resp)}")
            self.fail_over()
            raise Transient(str(resp.status_code))
        self.link.ok()  # the server is there; it said no
        raise Refused(resp.status_code, error_text(resp))

    def _send(self, build: Callable[[int], httpx.Request], client: httpx.Client | None = None) -> httpx.Response:
        """Send to the server in use; while it cannot answer, to each of the others in turn.

        `build(i)` makes the request for server i. Raises the last Transient when none can."""
        failure = Transient("no server")
        for _ in self.bases:
            try:
                resp = (client or self.http).send(build(self._current))
            except httpx.HTTPError as exc:
                self.link.fail(f"{self.base}: {type(exc).__name__}: {exc}".rstrip(": "))
                self.fail_over()
                failure = Transient(str(exc))
                continue
            try:
                self.check(resp)
            except Transient as exc:
                failure = exc
                continue
            self.link.ok()
            return resp
        raise failure

    def get(self, path: str, params: dict[str, object], *, streaming_client: bool = False) -> httpx.Response:
        client = self.stream_http if streaming_client else self.http
        return self._send(
            lambda i: client.build_request("GET", self.bases[i] + API + path, params=params),  # type: ignore[arg-type]
            client,
        )

    def post_events(self, batch: Sequence[Event]) -> list[Event]:
        """POST a batch; the stored copies (with seq), in the order sent."""
        body = orjson.dumps({"events": [e.to_dict() for e in batch]})
        resp = self._send(lambda i: httpx.Request("POST", self._post_urls[i], content=body, headers=self._post_headers))
        try:
            stored = [stored_event(d) for d in orjson.loads(resp.content)["events"]]
        except (ValueError, KeyError, TypeError, EventError) as exc:
            raise StoreError(f"{self.base} answered a POST with something unreadable: {exc}") from None
        if [e.id for e in stored] != [e.id for e in batch]:
            raise StoreError(f"{self.base} answered a POST with other events than were sent")
        return stored

    def close(self) -> None:
        self.http.close()
        try:
            if self._stream_http is not None:
                self._stream_http.close()
        except RuntimeError:  # a poller may still be inside it; it exits alone
            pass
