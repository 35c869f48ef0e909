"""The Starlette app: routes of SPEC 6 over a `Hub` that watches the store."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ..domain.checklists import Runbooks, load_runbooks
from ..domain.events import now_utc
from ..domain.fold import IncidentState
from ..domain.serialize import incident_state, incident_summary
from ..store.base import Store, StoreError, StoreUnavailable
from .auth import Tokens
from .committer import Committer
from .conn import STREAM_CHUNK, Counters
from .documents import Renderer
from .guard import GuardMiddleware, HostPolicy
from .hub import Hub
from .integrations import Integrations
from .limits import MAX_EVENTS, MAX_WAIT, ApiError, float_param, int_param, parse_batch, parse_seq
from .responses import error, json_response, read_body

log = logging.getLogger("incident_tui.server")
MAX_PAGE = 4 * 1024 * 1024  # bytes of events in one GET /events answer (at least one event)
PING_INTERVAL = 15.0  # seconds between SSE comments on a quiet stream; clients time out at 3x this

if TYPE_CHECKING:
    from ..gcpolicy import LogFreezer


class AuthMiddleware:
    """Checks the bearer token of every /api request; puts the token's person in scope."""

    def __init__(self, app: ASGIApp, tokens: Tokens) -> None:
        self.app = app
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            header = None
            for k, v in scope["headers"]:
                if k == b"authorization":
                    header = v.decode("latin-1")
                    break
            ok, who = self.tokens.check(header)
            if not ok:
                msg = "wrong bearer token" if header else "missing bearer token (Authorization: Bearer TOKEN)"
                resp = error(401, msg)
                resp.headers["WWW-Authenticate"] = "Bearer"
                await resp(scope, receive, send)
                return
            scope.setdefault("state", {})["author"] = who
        await self.app(scope, receive, send)


class Api:
    def __init__(self, hub: Hub, runbooks: Runbooks, ping_interval: float) -> None:
        self.streams = 0  # open SSE streams, for /metrics
        self.hub = hub
        self.store = hub.store
        self.committer = Committer(hub.store, hub.check_continuity, hub.probe_seq)
        self.runbooks = runbooks
        self.ping_interval = ping_interval
        self.documents = Renderer(hub.store)

    def _refuse_if_split(self) -> None:
        if self.hub.split:
            raise ApiError(503, self.hub.split)

    async def health(self, request: Request) -> Response:
        if self.hub.split:
            return json_response({"ok": False, "seq": self.hub.seq, "error": self.hub.split}, 503)
        if self.store.link_state() == "offline":  # a replica that lost its database
            return json_response({"ok": False, "seq": self.hub.seq, "error": "database unavailable"}, 503)
        return json_response({"ok": True, "seq": self.hub.seq})

    async def post_events(self, request: Request) -> Response:
        self._refuse_if_split()
        body = await read_body(request)
        events = parse_batch(body, request.scope.get("state", {}).get("author"))
        if not events:
            return json_response({"seqs": [], "events": []})
        try:
            stored = await self.committer.append(events)
        except StoreUnavailable as exc:  # another replica may still reach the database: try it
            raise ApiError(503, str(exc)) from None
        except Exception as exc:
            # The events were valid (parse_batch checked each), so this is the store's
            # trouble (a full disk, a replaced file), not theirs: 503 tells the client to
            # keep them and retry, where a 4xx would have it set them aside for good.
            what = str(exc) if isinstance(exc, StoreError) else f"{type(exc).__name__}: {exc}"
            log.error("incident-tui: append failed: %s", what)
            raise ApiError(503, f"the store cannot take events now: {what}") from None
        return json_response({"seqs": [e.seq for e in stored], "events": [e.to_dict() for e in stored]})

    async def get_events(self, request: Request) -> Response:
        self._refuse_if_split()
        q = request.query_params
        since = int_param(q, "since", 0, 0)
        limit = int_param(q, "limit", MAX_EVENTS, 1, MAX_EVENTS)
        wait = float_param(q, "wait", 0.0, MAX_WAIT)
        if wait and self.hub.seq <= since:
            await self.hub.wait(since, wait)
        # A page is cut at MAX_PAGE bytes too (clients page on until they hold `seq`): a
        # thousand large events would otherwise be one answer of 100+ MB.
        lines = self.hub.lines(since, limit, MAX_PAGE)
        body = b'{"seq":%d,"events":[%s]}' % (self.hub.seq, b",".join(lines))
        return Response(body, media_type="application/json")

    async def stream(self, request: Request) -> Response:
        self._refuse_if_split()
        since = int_param(request.query_params, "since", 0, 0)
        resume = request.headers.get("last-event-id")
        if resume:
            since = parse_seq(resume, "Last-Event-ID")
        return StreamingResponse(
            self._frames(since),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    async def _frames(self, cursor: int) -> AsyncIterator[bytes]:
        # A reconnecting client should retry soon; it backs off on its own when refused.
        yield b"retry: 1000\n: incident-tui stream after seq %d\n\n" % cursor
        self.streams += 1
        try:
            async for frame in self._follow(cursor):
                yield frame
        finally:
            self.streams -= 1

    async def _follow(self, cursor: int) -> AsyncIterator[bytes]:
        hub = self.hub
        while not hub.closing and not hub.split:
            # At most STREAM_CHUNK bytes a write: what a client that stops reading leaves
            # buffered here is bounded by it (see conn.py), whatever the events' size.
            lines = hub.lines(cursor, MAX_EVENTS, STREAM_CHUNK)
            if lines:
                # Everything that arrived since the last wake goes out in one write.
                parts = []
                for line in lines:
                    cursor += 1
                    parts.append(b"id: %d\ndata: %s\n\n" % (cursor, line))
                yield b"".join(parts)
                continue
            if not await hub.wait(cursor, self.ping_interval) and not hub.closing:
                yield b": ping\n\n"

    def _state(self, ref: str) -> IncidentState:
        state = self.hub.registry.resolve(ref)
        if state is None:
            raise ApiError(404, f"unknown incident {ref!r}")
        return state

    async def incidents(self, request: Request) -> Response:
        now = now_utc()
        everything = request.query_params.get("all", "1") not in ("0", "false", "no")
        with self.hub.lock:
            states = self.hub.registry.order if everything else self.hub.registry.active()
            doc = [incident_summary(s, now) for s in states]
        return json_response(doc)

    async def incident(self, request: Request) -> Response:
        with self.hub.lock:
            doc = incident_state(self._state(request.path_params["ref"]), self.runbooks, now_utc())
        return json_response(doc)

    async def snapshot(self, request: Request) -> Response:
        try:
            from ..docs import IncidentNotFound
        except ImportError as exc:
            raise ApiError(501, f"snapshots are not available in this build: {exc}") from None
        fmt = request.query_params.get("format", "md")
        if fmt not in ("md", "json"):
            raise ApiError(400, f"format must be md or json, not {fmt!r}")
        with self.hub.lock:
            state = self._state(request.path_params["ref"]).copy()  # rendered outside the lock
        at_seq = int_param(request.query_params, "at_seq", 0, 1) or None
        if at_seq is not None and at_seq < state.declared_seq:
            raise ApiError(422, f"at_seq {at_seq} is before the incident was declared (seq {state.declared_seq})")
        try:
            text = await self.documents.render("snapshot", state, self.runbooks, now_utc(), fmt, at_seq)
        except IncidentNotFound as exc:
            raise ApiError(404, str(exc)) from None
        media = "application/json" if fmt == "json" else "text/markdown; charset=utf-8"
        return Response(text, media_type=media)

    async def postmortem(self, request: Request) -> Response:
        try:
            import incident_tui.docs  # noqa: F401
        except ImportError as exc:
            raise ApiError(501, f"postmortems are not available in this build: {exc}") from None
        fmt = request.query_params.get("format", "md")
        if fmt not in ("md", "json"):
            raise ApiError(400, f"format must be md or json, not {fmt!r}")
        # Rendered off the event loop from a copy taken under the hub's lock (a list copy, ~5 ms
        # at a million entries), in a thread, or a child process when big (documents.py): a
        # 1M-event postmortem takes seconds, and on the event loop, under the lock or holding
        # this process's GIL it held up every acknowledgement, stream and /health meanwhile.
        with self.hub.lock:
            state = self._state(request.path_params["ref"]).copy()
        text = await self.documents.render("postmortem", state, self.runbooks, now_utc(), fmt, None)
        media = "application/json" if fmt == "json" else "text/markdown; charset=utf-8"
        return Response(text, media_type=media)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error(exc.status, exc.message, **exc.extra)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error(exc.status_code, str(exc.detail))


async def _crash(request: Request, exc: Exception) -> Response:
    log.exception("incident-tui: unexpected error on %s", request.url.path)
    return error(500, f"internal error: {type(exc).__name__}")


def create_app(
    store: Store,
    tokens: Tokens | None = None,
    *,
    runbooks: Runbooks | str | Path | None = None,
    ping_interval: float = PING_INTERVAL,
    integrations: Integrations | None = None,
    store_path: str | None = None,
    hosts: HostPolicy | None = None,
    freezer: LogFreezer | None = None,
) -> Starlette:
    """The API over `store`. The app's lifespan starts and stops the hub; `app.state.hub` is it.

    `integrations` (SPEC 11) adds alert intake and /metrics; with `[[notify]]` destinations
    and a `store_path` (the delivery outbox lives beside the store) it delivers too.
    `hosts` says which Host names and Origins it answers (default: loopback names only).
    `freezer`: the process's collector policy for the held log (serve's; none in tests)."""
    from .wiring import Integration

    books = runbooks if isinstance(runbooks, dict) else load_runbooks(runbooks)
    hub = Hub(store, freezer=freezer)
    api = Api(hub, books, ping_interval)
    extra = Integration(hub, api.committer, integrations or Integrations(), store_path, lambda: api.streams)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        hub.start()
        await extra.start()
        try:
            yield
        finally:
            await extra.stop()
            api.documents.close()
            hub.close()
            await run_in_threadpool(hub.join)

    p = "/api/v1"
    routes = [
        Route(f"{p}/health", api.health),
        Route(f"{p}/events", api.get_events, methods=["GET"]),
        Route(f"{p}/events", api.post_events, methods=["POST"]),
        Route(f"{p}/stream", api.stream),
        Route(f"{p}/incidents", api.incidents),
        Route(f"{p}/incidents/{{ref}}", api.incident),
        Route(f"{p}/incidents/{{ref}}/snapshot", api.snapshot),
        Route(f"{p}/incidents/{{ref}}/postmortem", api.postmortem),
        *extra.routes(p),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={ApiError: _api_error, HTTPException: _http_error, Exception: _crash},
    )
    app.add_middleware(AuthMiddleware, tokens=tokens or Tokens.none())
    app.add_middleware(GuardMiddleware, policy=hosts or HostPolicy())  # added last: runs first
    app.state.hub = hub
    app.state.limits = Counters()  # filled by the connection protocol (conn.py) the server runs
    app.state.integration = extra
    app.state.documents = api.documents
    return app
