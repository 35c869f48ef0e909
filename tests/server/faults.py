"""Fault injection around the real app: 503 after the store committed, streams cut mid-frame."""

from __future__ import annotations

import asyncio
import random

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Faults:
    def __init__(
        self,
        app: ASGIApp,
        *,
        post_503: float = 0.0,
        get_503: float = 0.0,
        cut: float = 0.0,
        no_stream: bool = False,
        seed: int = 1,
    ):
        self.app = app
        self.post_503 = post_503
        self.get_503 = get_503
        self.cut = cut
        self.no_stream = no_stream  # a proxy that answers the stream with a buffered page
        self.rng = random.Random(seed)
        self.injected = {"post_503": 0, "get_503": 0, "cut": 0}

    async def _503(self, send: Send) -> None:
        body = orjson.dumps({"error": "injected fault"})
        await send({"type": "http.response.start", "status": 503, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/v1/"):
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        if path == "/api/v1/events" and method == "POST" and self.rng.random() < self.post_503:
            # The store commits, then the answer is lost: the client must retry with the same ids.
            async def swallow(message: Message) -> None:
                pass

            await self.app(scope, receive, swallow)
            self.injected["post_503"] += 1
            await self._503(send)
            return
        if path == "/api/v1/events" and method == "GET" and self.rng.random() < self.get_503:
            self.injected["get_503"] += 1
            await self._503(send)
            return
        if path == "/api/v1/stream" and self.no_stream:
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
            await send({"type": "http.response.body", "body": b"<html>buffered by a proxy</html>"})
            return
        if path == "/api/v1/stream" and self.cut:
            await self._cutting(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _cutting(self, scope: Scope, receive: Receive, send: Send) -> None:
        cut = asyncio.Event()

        async def cutting_send(message: Message) -> None:
            if cut.is_set():
                return
            if message["type"] == "http.response.body" and message.get("body") and self.rng.random() < self.cut:
                body = message["body"]
                self.injected["cut"] += 1
                cut.set()
                # Half a frame, then the end: what a dropped connection leaves the client.
                await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": False})
                return
            await send(message)

        async def cut_receive() -> Message:
            got = asyncio.ensure_future(receive())
            stop = asyncio.ensure_future(cut.wait())
            done, _ = await asyncio.wait({got, stop}, return_when=asyncio.FIRST_COMPLETED)
            if got in done:
                stop.cancel()
                return got.result()
            got.cancel()
            return {"type": "http.disconnect"}  # ends the app's stream generator

        await self.app(scope, cut_receive, cutting_send)
