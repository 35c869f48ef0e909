"""The log freezer: held events leave the collector's walk; garbage is never frozen."""

from __future__ import annotations

import gc
import weakref

from incident_tui.gcpolicy import LogFreezer


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector can free it


def test_freezes_once_enough_events_are_held_and_not_before() -> None:
    gc.unfreeze()
    try:
        f = LogFreezer(every=100)
        assert not f.held(60)
        assert gc.get_freeze_count() == 0
        assert f.held(40)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_garbage_is_collected_before_the_freeze_not_kept_forever() -> None:
    gc.unfreeze()
    try:
        n = Node()
        gone = weakref.ref(n)
        del n
        LogFreezer(every=1).held(1)
        assert gone() is None
    finally:
        gc.unfreeze()


def test_a_cycle_pinned_by_a_freeze_is_freed_once_things_are_quiet() -> None:
    gc.unfreeze()
    try:
        f = LogFreezer(every=1, quiet_after=0.0)
        n = Node()  # alive at the freeze, like a server's open connection
        gone = weakref.ref(n)
        assert f.held(1)
        del n  # the connection closes: only the cyclic collector could free it now
        gc.collect()
        assert gone() is not None  # frozen: out of every collection's reach
        assert f.idle()
        assert gone() is None
        assert not f.idle()  # nothing frozen since: nothing to do
    finally:
        gc.unfreeze()


def test_idle_waits_until_the_log_has_been_quiet() -> None:
    gc.unfreeze()
    try:
        f = LogFreezer(every=1, quiet_after=60.0)
        assert f.held(1)
        assert not f.idle()  # events came just now
    finally:
        gc.unfreeze()
