"""Stores for the app benchmarks, written through the same domain and store API the app uses."""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from incident_tui.domain.checklists import default_runbooks
from incident_tui.domain.commands import Command, declare_event, parse, to_events
from incident_tui.domain.events import Event
from incident_tui.domain.fold import Registry
from incident_tui.store.jsonfile import JsonStore

AUTHORS = ("alice", "bob", "carol", "dave", "erin", "frank")
# Kinds a scribe logs all day; every line has a tag so filters have something to find.
LINES = (
    "p99 latency on checkout at {n} ms #checkout",
    "/obs connection pool at {n}/500 on orders-db-eu #db",
    "/action restarted worker {n} in eu-west-1 #mitigation",
    "/decision keep traffic on the standby for another {n} minutes #failover",
    "error budget burn {n}% in the last hour #slo",
)
# A scribe's long note (~300 characters): wraps to several rows at 80 columns.
LONG = (
    "/obs failover {n} finished but replica lag kept growing: the old primary accepted writes for "
    "about ninety seconds before fencing, so some orders exist only there; we will not fail back "
    "until the DBA team has diffed both sides and support has the affected orders by region #db"
)
BATCH = 2_000  # events per append: one flock + fsync each, as a busy writer would do


def _lines(count: int, rng: random.Random, long_every: int = 0) -> Iterator[tuple[str, str]]:
    for i in range(count):
        line = LONG if long_every and i % long_every == 0 else rng.choice(LINES)
        yield rng.choice(AUTHORS), line.format(n=i % 997)


def _fill(
    store: JsonStore, reg: Registry, incident: str, count: int, start: datetime, rng: random.Random, long_every: int
) -> None:
    runbooks = default_runbooks()
    state = reg.incidents[incident]
    step = (datetime.now().astimezone() - start) / max(count, 1)  # spread up to now, none in the future
    batch: list[Event] = []
    for i, (who, line) in enumerate(_lines(count, rng, long_every)):
        parsed = parse(line, start)
        batch.extend(to_events(Command(parsed.name, parsed.args, start + i * step), state, who, runbooks))
        if len(batch) >= BATCH:
            reg.extend(store.append(batch))
            batch = []
    if batch:
        reg.extend(store.append(batch))


def write_store(path: Path, incidents: int, events: int, seed: int = 7, long_every: int = 0) -> list[str]:
    """`incidents` declared incidents sharing `events` events in total; returns their uuids.
    `long_every`: every Nth line is a ~300-character note (0: none)."""
    rng = random.Random(seed)
    start = datetime.now().astimezone() - timedelta(hours=6)
    reg = Registry()
    ids: list[str] = []
    with JsonStore(path) as store:
        for n in range(incidents):
            sev = f"SEV{1 + n % 5}"
            declared = declare_event(f"Bench incident {n + 1}: degraded service {n}", "alice", sev, at=start)
            reg.extend(store.append([declared]))
            ids.append(declared.incident)
        per = (events - incidents) // max(incidents, 1)
        for incident in ids:
            _fill(store, reg, incident, per, start, rng, long_every)
    return ids


def append_live(
    path: Path, incident: str, rate: float, seconds: float, author: str = "pagerbot", long: bool = False
) -> int:
    """Append `rate` notes a second to `incident` for `seconds`, as another process would
    (`long`: ~300-character notes, which wrap)."""
    reg = Registry()
    count = 0
    with JsonStore(path) as store:
        reg.extend(store.read())
        state = reg.incidents[incident]
        runbooks = default_runbooks()
        print("live", flush=True)  # loaded: the reader may start its clock
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            line = LONG.format(n=count) if long else f"/obs live reading {count} from the load generator #live"
            store.append(to_events(line, state, author, runbooks))
            count += 1
            time.sleep(max(0.0, (count / rate) - (time.monotonic() - t0)))
    return count


def main(argv: list[str]) -> None:
    """`store PATH INCIDENTS EVENTS` writes a store; `live PATH INCIDENT RATE SECONDS [long]` appends live."""
    if argv[0] == "store":
        t = time.perf_counter()
        write_store(Path(argv[1]), int(argv[2]), int(argv[3]))
        print(f"wrote {argv[3]} events in {time.perf_counter() - t:.1f} s")
    elif argv[0] == "live":
        n = append_live(Path(argv[1]), argv[2], float(argv[3]), float(argv[4]), long=argv[5:6] == ["long"])
        print(f"appended {n} events")
    else:
        raise SystemExit(f"unknown mode {argv[0]!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
