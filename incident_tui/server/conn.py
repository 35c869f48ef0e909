"""Connection limits uvicorn does not have: slow or silent clients cannot hold the server.

uvicorn (0.30+, httptools) waits for a request's head for ever, accepts connections
until the process runs out of descriptors (1,100 silent sockets were enough), and keeps
a response whose client stopped reading parked for ever. This protocol adds:

- a **header-read timeout**: a request's head (request line and headers) must arrive
  within `header_timeout` seconds of the connection opening or of its first byte
  (slowloris); otherwise 408 and close.
- a **cap on a request's head**: more than `MAX_HEAD` bytes before the headers end
  is answered 431 and closed (httptools itself would buffer any amount).
- a **cap on connections**: past `max_connections` a new connection is answered 503
  at once and closed, so descriptors stay for the clients already in.
- a **stall limit per response**: the transport stops taking writes once its buffer
  passes its high-water mark (64 KiB), so the server buffers at most that plus one
  chunk (streams write at most `STREAM_CHUNK` bytes at a time); a response whose
  client has not taken a byte for `stall_timeout` seconds while at that cap is closed.
  An SSE client then resumes from its `Last-Event-ID`.
"""

from __future__ import annotations

import asyncio
import logging
import resource

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("incident_tui.server")

HEADER_TIMEOUT = 10.0
MAX_CONNECTIONS = 1000
STALL_TIMEOUT = 30.0
MAX_HEAD = 64 * 1024  # bytes of request line and headers
STREAM_CHUNK = 256 * 1024  # bytes of SSE frames one stream writes at a time (at least one event)


def _answer(status: bytes, message: str) -> bytes:
    body = orjson.dumps({"error": message})
    return b"HTTP/1.1 %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n%s" % (
        status,
        len(body),
        body,
    )


_TIMEOUT = _answer(b"408 Request Timeout", "the request's headers took too long to arrive")
_TOO_BIG = _answer(b"431 Request Header Fields Too Large", f"the request's head is over {MAX_HEAD} bytes")
_BUSY = _answer(b"503 Service Unavailable", "too many connections; retry shortly")


class Counters:
    """What the limits did (for tests and the log); one per server."""

    def __init__(self) -> None:
        self.header_timeouts = 0
        self.refused_busy = 0
        self.stalled_closed = 0
        self.stalled_buffer_max = 0  # bytes the server held for a stalled response when it gave up


def raise_fd_limit() -> int:
    """Process policy for `serve`: lift the soft descriptor limit to the hard one (often
    1024 -> 4096 or more), so the connection cap, not EMFILE, is what refuses. Returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = 65536 if hard == resource.RLIM_INFINITY else hard
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header timeout, a connection cap and a stall limit.

    The limits are class attributes, read when used (`guarded_protocol` makes a subclass
    with its own): a test, or an operator's hook, may change them live."""

    counters = Counters()
    head_timeout = HEADER_TIMEOUT
    connection_cap = MAX_CONNECTIONS
    stall_limit = STALL_TIMEOUT
    _head_timer: asyncio.TimerHandle | None = None
    _stall_timer: asyncio.TimerHandle | None = None
    _refused = False
    _head_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.connection_cap:
            self._refused = True
            self.counters.refused_busy += 1
            transport.write(_BUSY)
            transport.close()
            return
        self._arm_head()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        super().data_received(data)
        # Still waiting for this request's headers after parsing the chunk: it was all head.
        # (httptools parses as bytes come, so what piles up is bounded by this check.)
        if self._head_timer is not None and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD:
                self._refused = True
                self._disarm_head()
                self.transport.write(_TOO_BIG)
                self.transport.close()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_head()  # a further request on a kept-alive connection: its head must come in time

    def on_headers_complete(self) -> None:
        self._disarm_head()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head()
        self._disarm_stall()
        super().connection_lost(exc)

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._stall_timer is None:
            self._stall_timer = self.loop.call_later(self.stall_limit, self._stalled)

    def resume_writing(self) -> None:
        self._disarm_stall()
        super().resume_writing()

    # -- timers ---------------------------------------------------------------

    def _arm_head(self) -> None:
        if self._head_timer is None:
            self._head_bytes = 0
            self._head_timer = self.loop.call_later(self.head_timeout, self._head_late)

    def _disarm_head(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _disarm_stall(self) -> None:
        if self._stall_timer is not None:
            self._stall_timer.cancel()
            self._stall_timer = None

    def _head_late(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.counters.header_timeouts += 1
            self.transport.write(_TIMEOUT)
            self.transport.close()

    def _stalled(self) -> None:
        self._stall_timer = None
        if not self.transport.is_closing():
            self.counters.stalled_closed += 1
            held = self.transport.get_write_buffer_size()
            self.counters.stalled_buffer_max = max(self.counters.stalled_buffer_max, held)
            client = f"{self.client[0]}:{self.client[1]}" if self.client else "a client"
            log.warning(
                "incident-tui: closed a response to %s that took nothing for %gs (%d bytes waiting)",
                client,
                self.stall_limit,
                held,
            )
            # abort, not close: close would wait to flush what the client will never read.
            self.transport.abort()


def guarded_protocol(
    *,
    header_timeout: float = HEADER_TIMEOUT,
    max_connections: int = MAX_CONNECTIONS,
    stall_timeout: float = STALL_TIMEOUT,
    counters: Counters | None = None,
) -> type[HttpToolsProtocol]:
    """An HTTP protocol class for `uvicorn.Config(http=...)` with these limits."""
    limits = {
        "counters": counters or Counters(),
        "head_timeout": header_timeout,
        "connection_cap": max_connections,
        "stall_limit": stall_timeout,
    }
    return type("GuardedProtocol", (GuardedProtocol,), limits)
