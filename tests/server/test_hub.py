"""The hub between the blocking store and the event loop."""

from __future__ import annotations

import asyncio
import os

from incident_tui.domain.commands import declare_event
from incident_tui.domain.events import new_event
from incident_tui.server.hub import Hub
from incident_tui.store.memory import MemoryStore


def rss_mib() -> float:
    with open(f"/proc/{os.getpid()}/status") as f:
        return int(f.read().split("VmRSS:")[1].split()[0]) / 1024


def test_encoded_log_costs_about_its_size_in_memory() -> None:
    # orjson's bytes keep a ~4 KiB allocation each; held for 30k events that was 118 MiB.
    store = MemoryStore()
    d = declare_event("mem", "alice")
    store.append([d, *(new_event(d.incident, "note", "alice", {"text": f"line {i}"}) for i in range(29_999))])

    async def load() -> float:
        before = rss_mib()
        hub = Hub(store)
        hub.start()
        try:
            assert hub.seq == 30_000
            return rss_mib() - before
        finally:
            hub.close()
            hub.join()

    assert asyncio.run(load()) < 40


def test_waiters_wake_on_append_and_time_out_when_quiet() -> None:
    store = MemoryStore()

    async def run() -> tuple[bool, bool]:
        hub = Hub(store)
        hub.start()
        try:
            quiet = await hub.wait(0, 0.1)
            loop = asyncio.get_running_loop()
            loop.call_later(0.05, store.append, [declare_event("x", "a")])
            woke = await hub.wait(0, 5)
            return quiet, woke
        finally:
            hub.close()
            hub.join()

    assert asyncio.run(run()) == (False, True)
