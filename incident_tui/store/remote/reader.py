"""The live reader: keeps the mirror at the server's end through Server-Sent Events, or
long polls where something between us will not stream, reconnecting with backoff from
the last seq held (`Last-Event-ID`)."""

from __future__ import annotations

import contextlib
import random
import socket
import threading
from collections.abc import Callable
from typing import Literal

import httpx
import orjson

from ...domain.events import Event, EventError, stored_event
from ..base import StoreError
from ..sse import SSEParser
from .http import Api, Refused, Transient
from .mirror import BATCH_EVENTS, LogMirror
from .sender import BACKOFF_MAX, BACKOFF_MIN

Transport = Literal["sse", "poll"]
POLL_WAIT = 10.0  # a long poll's hold; also bounds how long close() waits for a poller


class StreamReader:
    def __init__(
        self, api: Api, mirror: LogMirror, transport: Transport, closed: threading.Event, caught_up: Callable[[], None]
    ) -> None:
        self._api = api
        self._mirror = mirror
        self.transport: Transport = transport
        self._closed = closed
        self._caught_up = caught_up  # after each catch-up: the sender may have waited for the link
        self._resp: httpx.Response | None = None
        self.connects = 0  # streams (or poll loops) opened: a reconnect counter for status and tests

    def run(self) -> None:
        backoff = BACKOFF_MIN
        link = self._api.link
        while not self._closed.is_set():
            try:
                self._mirror.fetch()  # catch up by paging first: a stream replays nothing it need not
                self._caught_up()
                if self.transport == "sse":
                    self._stream()
                else:
                    self._poll()
                backoff = BACKOFF_MIN  # the server ended the stream: come back at once
            except Transient as exc:  # the wrapper has already moved to the next server, if any
                if self._closed.is_set():
                    break
                link.fail(f"{self._api.base}: {type(exc).__name__}: {exc}".rstrip(": "))
            except (httpx.HTTPError, OSError) as exc:  # the stream broke mid-read
                if self._closed.is_set():
                    break
                link.fail(f"{self._api.base}: {type(exc).__name__}: {exc}".rstrip(": "))
                self._api.fail_over()
            except Refused as exc:
                link.fail(f"{self._api.base} refused ({exc.status}): {exc}")
                backoff = BACKOFF_MAX
            except StoreError as exc:
                link.fail(str(exc))
                backoff = BACKOFF_MAX
            self._closed.wait(backoff * random.uniform(0.5, 1.0))
            backoff = min(backoff * 2, BACKOFF_MAX)

    def _stream(self) -> None:
        have = len(self._mirror)
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-store"}
        if have:
            headers["Last-Event-ID"] = str(have)
        client = self._api.stream_http
        try:
            with client.stream("GET", self._api.url("/stream"), params={"since": have}, headers=headers) as resp:
                self._api.check(resp)
                if not resp.headers.get("content-type", "").startswith("text/event-stream"):
                    self.transport = "poll"  # something between us buffers or rewrites: poll instead
                    raise Transient("no event stream; falling back to long poll")
                self._resp = resp
                self.connects += 1
                self._api.link.ok()
                self._read(resp)
        finally:
            self._resp = None

    def _read(self, resp: httpx.Response) -> None:
        parser = SSEParser()
        for chunk in resp.iter_bytes():
            if self._closed.is_set():
                return
            lines = [data for _, data in parser.feed(chunk).events if data]
            try:
                # The server validated them on append: per streamed event, only the
                # checks the fold relies on (as when a store file is loaded).
                events = [stored_event(orjson.loads(line)) for line in lines]
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise Transient(f"unreadable stream event: {exc}") from None
            if events:
                self._mirror.merge(events)
                self._mirror.keep(events, lines)
            self._api.link.ok()  # an event or a ping: the link is alive

    def _poll(self) -> None:
        self.connects += 1
        while not self._closed.is_set():
            have = len(self._mirror)
            params = {"since": have, "limit": BATCH_EVENTS, "wait": POLL_WAIT}
            resp = self._api.get("/events", params, streaming_client=True)
            try:
                doc = resp.json()
                events: list[Event] = [stored_event(d) for d in doc["events"]]
            except (ValueError, KeyError, TypeError, EventError) as exc:
                raise Transient(f"unreadable poll answer: {exc}") from None
            if int(doc["seq"]) < have:
                self._mirror.reset()
                continue
            self._mirror.merge(events)
            self._mirror.keep()

    def interrupt(self) -> None:
        """Unblock a stream's socket read at once (closing the client from another thread would not)."""
        resp = self._resp
        if resp is None:
            return
        stream = resp.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
