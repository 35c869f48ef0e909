"""Delivery: events -> notices -> the outbox -> one sending lane per destination.

The deriving task follows the hub (the server's view of the log), folds its own copy of
the state to know what each change was "from", and queues one delivery per destination
that asked for the trigger at that severity, fsynced with the cursor. Each destination
has its own lane (task and HTTP client): a slow or failing destination holds up only
itself. Within a lane deliveries go out in order; a failed head is retried with
exponential backoff and jitter (honouring Retry-After), and the rest wait behind it, so a
chat channel never reads a resolution before the declaration.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from ... import __version__
from ...domain.fold import Registry
from ...domain.notices import Notice, before, notice_for, reminder_notice, reminders, severity_rank
from ...store.base import Store
from ..hub import Hub
from ..integrations import DeliveryPolicy, Destination, Integrations
from .formats import render, sign
from .outbox import Delivery, Outbox

log = logging.getLogger("incident_tui.server")
RETRY_STATUSES = frozenset({408, 429})
RECOVER_SECONDS = 1.0  # after an unexpected failure (a full disk), try again this much later
READ_BATCH = 1000


def delivery_id(dest: Destination, src: str) -> str:
    """Stable across retries and restarts: the same event and destination give the same id."""
    return "msg_" + hashlib.sha256(f"{dest.key}\0{src}".encode()).hexdigest()[:32]


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    v = value.strip()
    if v.isdigit():
        return float(v)
    try:
        when = parsedate_to_datetime(v)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when.timestamp() - now, 0.0)


class Lane:
    """One destination's queue, sender and health."""

    def __init__(self, dest: Destination, outbox: Outbox, policy: DeliveryPolicy, clock: Callable[[], float]) -> None:
        self.dest = dest
        self.outbox = outbox
        self.policy = policy
        self.clock = clock
        self.items: deque[Delivery] = deque()
        self.wake = asyncio.Event()
        self.failing_since: float | None = None
        self.last_error = ""
        self.sent = 0
        self.failed_tries = 0
        self.dead = 0
        self.latency: list[float] = []  # seconds from queued to accepted, recent deliveries
        self.client = httpx.AsyncClient(timeout=policy.timeout, follow_redirects=False)
        self.on_change: Callable[[], None] = lambda: None

    def push(self, d: Delivery) -> None:
        self.items.append(d)
        self.wake.set()

    async def run(self) -> None:
        while True:
            try:
                await self._step()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # e.g. the outbox cannot be written (disk full): say so, keep the lane
                self._failing(f"outbox: {type(exc).__name__}: {exc}"[:200])
                log.error("incident-tui: notify %s: %s", self.dest.name, exc)
                await asyncio.sleep(RECOVER_SECONDS)

    async def _step(self) -> None:
        if not self.items:
            self.wake.clear()
            await self.wake.wait()
            return
        head = self.items[0]
        delay = head.next_at - self.clock()
        if delay > 0:
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), delay)
            return
        if await self.attempt(head):
            self.items.popleft()

    def _headers(self, d: Delivery) -> dict[str, str]:
        ts = int(self.clock())
        h = {
            "content-type": "application/json",
            "user-agent": f"incident-tui/{__version__}",
            # Sent in every format: receivers of any kind can deduplicate on it.
            "webhook-id": d.id,
            "webhook-timestamp": str(ts),
        }
        if self.dest.secret is not None:
            h["webhook-signature"] = sign(self.dest.secret, d.id, ts, d.body)
        return h

    async def attempt(self, d: Delivery) -> bool:
        """One try; True when the delivery is settled (accepted or dead-lettered)."""
        status: int | None = None
        wait: float | None = None
        try:
            r = await self.client.post(self.dest.url, content=d.body, headers=self._headers(d))
            status = r.status_code
            await r.aclose()
        except httpx.TimeoutException:
            error = f"timed out after {self.policy.timeout:g} s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:200] or type(exc).__name__
        else:
            if 200 <= status < 300:
                await asyncio.to_thread(self.outbox.ok, d, status)
                self.sent += 1
                self.latency.append(self.clock() - d.created)
                del self.latency[:-256]
                self._healthy()
                return True
            error = f"HTTP {status}"
            if status not in RETRY_STATUSES and status < 500:
                # Another 4xx (or a redirect) will not change by asking again: a bad URL or payload.
                await asyncio.to_thread(self.outbox.dead_letter, d, f"{error}: not retried")
                self.dead += 1
                self._failing(error)
                return True
            wait = retry_after(r.headers.get("retry-after"), self.clock())
        self.failed_tries += 1
        now = self.clock()
        if now - d.created >= self.policy.dead_after:
            await asyncio.to_thread(
                self.outbox.dead_letter,
                d,
                f"gave up after {d.attempts + 1} tries over {self.policy.dead_after:g} s: {error}",
            )
            self.dead += 1
            self._failing(error)
            return True
        base = min(self.policy.backoff_max, self.policy.backoff * 2**d.attempts)
        delay = base / 2 + random.uniform(0, base / 2)  # jitter: lanes that failed together retry apart
        if wait is not None:
            delay = max(delay, min(wait, self.policy.dead_after))
        await asyncio.to_thread(self.outbox.failed, d, status, error, now + delay)
        self._failing(error)
        return False

    def _failing(self, error: str) -> None:
        self.last_error = error
        if self.failing_since is None:
            self.failing_since = self.clock()
            log.warning("incident-tui: notify %s: %s", self.dest.name, error)
        self.on_change()

    def _healthy(self) -> None:
        if self.failing_since is not None:
            self.failing_since = None
            self.last_error = ""
            log.warning("incident-tui: notify %s: delivering again", self.dest.name)
            self.on_change()

    def view(self) -> dict[str, Any]:
        return {
            "destination": self.dest.name,
            "format": self.dest.format,
            "failing_since": self.failing_since,
            "last_error": self.last_error,
            "owed": len(self.items),
            "sent": self.sent,
            "dead": self.dead,
        }


class Deliverer:
    """Owns the outbox and the lanes for a server's life (started by the app's lifespan)."""

    def __init__(self, store: Store, hub: Hub, integrations: Integrations, outbox: Outbox) -> None:
        self.store = store
        self.hub = hub
        self.integrations = integrations
        self.policy = integrations.policy
        self.outbox = outbox
        self.clock = time.time
        self.registry = Registry()
        self.seq = 0
        self._refold = False
        self.lanes = {d.name: Lane(d, outbox, self.policy, self.clock) for d in integrations.destinations}
        self.tasks: list[asyncio.Task[None]] = []
        self.status_listeners: list[Callable[[dict[str, Any]], None]] = []
        for lane in self.lanes.values():
            lane.on_change = self._status_changed

    async def start(self) -> None:
        # Fold what the journal already covers without notifying; a new journal starts at the end.
        head = await asyncio.to_thread(self.store.latest_seq)
        await asyncio.to_thread(self.outbox.start, head)
        await self._catch_up(self.outbox.cursor or 0)
        for d in self.outbox.owed():
            lane = self.lanes.get(d.dest)
            if lane is None:
                await asyncio.to_thread(self.outbox.dead_letter, d, f"destination {d.dest!r} is no longer configured")
            else:
                lane.items.append(d)
        for lane in self.lanes.values():
            self.tasks.append(asyncio.create_task(lane.run(), name=f"notify-{lane.dest.name}"))
        self.tasks.append(asyncio.create_task(self._derive(), name="notify-derive"))
        self.tasks.append(asyncio.create_task(self._remind(), name="notify-remind"))

    async def close(self) -> None:
        for t in self.tasks:
            t.cancel()
        for t in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        for lane in self.lanes.values():
            await lane.client.aclose()
        self.outbox.close()

    def _fanout(self, n: Notice) -> list[Delivery]:
        out = []
        for lane in self.lanes.values():
            dest = lane.dest
            if n.trigger not in dest.on or severity_rank(n.severity) > severity_rank(dest.min_severity):
                continue
            body = render(dest.format, n, dest.join)
            out.append(
                Delivery(delivery_id(dest, n.key), dest.name, n.seq, n.key, n.trigger, n.facts.ref, self.clock(), body)
            )
        return out

    async def _derive(self) -> None:
        while not self.hub.closing:
            try:
                await self._derive_step()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the store or the outbox failed: nothing is skipped, retry from the cursor
                log.error("incident-tui: notify: deriving deliveries failed: %s", exc)
                self.registry, self.seq = Registry(), 0
                self._refold = True
                await asyncio.sleep(RECOVER_SECONDS)

    async def _catch_up(self, cursor: int) -> None:
        """Fold, without notifying, what the journal already covers."""
        while self.seq < cursor:
            events = await asyncio.to_thread(self.store.read, self.seq, min(READ_BATCH * 10, cursor - self.seq))
            if not events:
                break
            self.registry.extend(events)
            self.seq = events[-1].seq or self.seq

    async def _derive_step(self) -> None:
        if self._refold:  # after a failure: rebuild the "before" states up to the journal's cursor
            await self._catch_up(self.outbox.cursor or 0)
            self._refold = False
        if self.hub.seq <= self.seq:
            await self.hub.wait(self.seq, 5.0)
            return
        events = await asyncio.to_thread(self.store.read, self.seq, READ_BATCH)
        if not events:
            return
        deliveries: list[Delivery] = []
        for e in events:
            st = self.registry.incidents.get(e.incident)
            prior = before(st) if st is not None else None
            after = self.registry.apply(e)
            if after is None:
                continue
            n = notice_for(e, prior, after)
            if n is not None:
                deliveries += self._fanout(n)
        last = events[-1].seq or self.seq
        fresh = await asyncio.to_thread(self.outbox.queue, deliveries, last)
        self.seq = last
        for d in fresh:
            self.lanes[d.dest].push(d)

    async def _remind(self) -> None:
        while True:
            try:
                await self.check_reminders()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error("incident-tui: notify: reminders: %s", exc)
            await asyncio.sleep(self.policy.reminder_every)

    async def check_reminders(self) -> None:
        now = datetime.fromtimestamp(self.clock(), UTC)
        for st in self.registry.active():
            for r in reminders(st, now, self.policy.no_commander_minutes):
                if r.key in self.outbox.srcs:
                    continue
                ds = self._fanout(reminder_notice(r, st))
                if ds:
                    for d in await asyncio.to_thread(self.outbox.queue, ds, None):
                        self.lanes[d.dest].push(d)
                else:
                    await asyncio.to_thread(self.outbox.seen, r.key)

    def status(self) -> dict[str, Any]:
        lanes = [lane.view() for lane in self.lanes.values()]
        return {
            "destinations": lanes,
            "failing": [v for v in lanes if v["failing_since"] is not None],
            "dead": sum(1 for d in self.outbox.items.values() if d.state == "dead"),
        }

    def _status_changed(self) -> None:
        doc = self.status()
        for listener in self.status_listeners:
            listener(doc)
