"""A writer process for the store tests: appends events and prints each acknowledged id.

usage: writer.py STORE NAME COUNT [BATCH]
A line `ack <id>` is printed (and flushed) only after `append` returned, so the parent
knows exactly which events the store acknowledged before it killed us.
"""

from __future__ import annotations

import sys

from incident_tui.domain.events import new_event
from incident_tui.store.jsonfile import JsonStore


def main() -> None:
    path, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    batch = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    store = JsonStore(path)
    print("ready", flush=True)
    for i in range(0, count, batch):
        events = [
            new_event("load", "note", name, {"text": f"{name} line {j} " + "x" * (j % 300)})
            for j in range(i, min(i + batch, count))
        ]
        for e in store.append(events):
            print(f"ack {e.id} {e.seq}", flush=True)


if __name__ == "__main__":
    main()
