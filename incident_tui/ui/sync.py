"""The one background loop that keeps the app in step with the store.

It runs in a thread worker (the store's `wait` blocks): the first read is folded there
too, so a 100k-event store never stalls the first paint; after that it posts only new
events, which the app folds on its own thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.message import Message

from ..domain.fold import Registry
from ..store import folded
from ..store.base import Store
from .messages import EventsArrived, LinkChanged, StoreLoaded, StoreNotice, SyncFailed

WAIT_SECONDS = 0.5
RETRY_SECONDS = 1.0


def live_server(store: Store) -> str:
    """host:port of the server in use when the store has several to choose from, else ""."""
    servers = getattr(store, "servers", ())
    if len(servers) < 2:
        return ""
    return str(getattr(store, "live_server", "")).split("://", 1)[-1]


def follow_store(
    store: Store,
    post: Callable[[Message], object],
    cancelled: Callable[[], bool],
    wait_seconds: float = WAIT_SECONDS,
    after: int | None = None,
) -> None:
    """Post StoreLoaded once, then EventsArrived/LinkChanged as they happen, until cancelled.

    `wait_seconds` bounds how long a cancelled loop lingers (the thread cannot be interrupted)."""
    registry = Registry()
    seq = after or 0
    loaded = after is not None  # the app folded the log itself, up to `after`
    link: tuple[str, int, str] | None = None
    take = getattr(store, "take_notices", None)  # a remote store's outbox notices
    if take is not None:
        take()  # claimed before the first read opens the store and drains its outbox
    while not cancelled():
        try:
            if not loaded:
                registry = folded(store)
                seq = registry.last_seq
                loaded = True
                post(StoreLoaded(registry))
            elif store.wait(seq, wait_seconds):
                events = store.read(seq)
                if events:
                    seq = events[-1].seq or seq
                    post(EventsArrived(events))
            for text in take() if take is not None else ():
                post(StoreNotice(text))
            pending = store.pending()
            now = (store.link_state(), len(pending), live_server(store))
            if now != link:
                link = now
                post(LinkChanged(now[0], pending, now[2]))
        except Exception as exc:  # a store hiccup must not kill live sync; say so and retry
            post(SyncFailed(f"{type(exc).__name__}: {exc}"))
            if cancelled():
                break
            time.sleep(RETRY_SECONDS)
