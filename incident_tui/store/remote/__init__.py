"""The remote store (SPEC 6), in parts: `store.py` is the Store; `http.py` the one HTTP
wrapper and status mapping; `mirror.py` the copy of the server's log; `sender.py` the
outbox sender; `reader.py` the live stream reader. Importing this package does not
import httpx: a store opens its parts on first use."""

from __future__ import annotations

from .store import RemoteStore, Transport

__all__ = ["RemoteStore", "Transport"]
