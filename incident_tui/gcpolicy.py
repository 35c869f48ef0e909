"""The process's policy for CPython's cyclic garbage collector, set at the entry points only.

`run_app`, `serve`, the short-lived CLI verbs and the benchmarks choose it; stores,
widgets, the server's parts and the domain never touch the collector (a library that
freezes or disables it changes every other user of the process: the test suite kept
every app it made alive). What each switch buys is measured by bench/bench_gc.py.

Why a policy at all: events, once held, live as long as the process. Building 100k of
them runs the collector hundreds of times over objects that all survive, and a full
collection walks every tracked object, so a held log makes each one slower (a server
holding 100k events stopped ~130 ms per full collection, and every acknowledgement
waiting then waited that long). `gc.freeze()` moves the objects that exist to a
permanent generation no collection walks again; collecting first freezes no garbage.
What freezing costs: a cycle among objects alive at that moment is never collected
when it later dies (one in-flight request's worth, per freeze).
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Iterator


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection while a log is loaded: every event built survives anyway."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def short_lived() -> None:
    """A CLI verb (list, show, log, postmortem ...): it exits in a moment, so cycles are
    freed by the exit and the collector would only re-walk the log it loaded."""
    gc.disable()


def freeze_held() -> None:
    """Collect what is garbage now, then exempt every survivor from later collections."""
    gc.collect()
    gc.freeze()


def freeze() -> None:
    """Exempt what exists now (a log just loaded) from later collections, without a
    collection first: called on the app's thread, where a full one would stall a frame."""
    gc.freeze()


class LogFreezer:
    """For a server that holds a log growing for ever: freezes again once `every` more
    events are held, so a full collection only ever walks the objects made since the last
    freeze (bounded, not growing with the log).

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

    def opened(self) -> None:
        """The log as opened is held for good: freeze it."""
        freeze_held()

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
