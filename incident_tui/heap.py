"""Keeping CPython's cyclic garbage collector off an event log that only grows.

Events, once held, live as long as the process. A full collection walks every tracked
object, so holding a log makes every full collection slower: a server folding 100k
events stopped for ~130 ms each time (measured), and every acknowledgement waiting
then waited that long. `gc.freeze()` moves the objects that exist to a permanent
generation no collection walks again; collecting first means no garbage is frozen.
What freezing costs: a reference cycle among objects alive at that moment is never
collected when it later becomes garbage (one in-flight request's worth, per freeze).
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused(when: bool = True) -> Iterator[None]:
    """No cyclic collection while a log's events are built: they all live on, and
    allocating 100k of them otherwise runs the collector hundreds of times over them
    (a third of opening a 100k-event store, measured)."""
    paused = when and gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def freeze_held() -> None:
    """Collect what is garbage now, then exempt every survivor from later collections."""
    gc.collect()
    gc.freeze()


class LogFreezer:
    """Freezes again once `every` more events are held, so a full collection only ever
    walks the objects made since the last freeze (bounded, not growing with the log).

    A freeze also pins whatever else was alive then (a server's open connections): a
    cycle among those that later dies is never collected. `idle()`, called while nothing
    happens, undoes that once things have been quiet for `quiet_after` seconds: one full
    collection at a moment nobody waits on it (~130 ms per 100k events held)."""

    def __init__(self, every: int = 10_000, quiet_after: float = 5.0) -> None:
        self.every = every
        self.quiet_after = quiet_after
        self._since = 0
        self._pinned = False  # frozen since the last full collection
        self._last = time.monotonic()

    def held(self, count: int) -> bool:
        """Call after `count` more events are held for good; True when it froze."""
        self._last = time.monotonic()
        self._since += count
        if self._since < self.every:
            return False
        self._since = 0
        freeze_held()
        self._pinned = True
        return True

    def idle(self) -> bool:
        """Call when nothing is happening; True when it ran the full collection."""
        if not self._pinned or time.monotonic() - self._last < self.quiet_after:
            return False
        gc.unfreeze()
        freeze_held()
        self._pinned = False
        return True
