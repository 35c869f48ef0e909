"""How the app learns that `serve` cannot deliver notifications (SPEC 11: "shown in the app").

For a local store, `serve` writes a small status file beside the store whenever a
destination starts or stops failing; for a remote store the server answers
`GET /api/v1/deliveries`. Either way the answer is one line for the app's header, or "".
"""

from __future__ import annotations

import os
from typing import Any

import orjson

from ..domain.text import safe_text
from .base import Store
from .files import read_regular


def status_file(location: str) -> str:
    return f"{location}.deliveries.status.json"


def trouble_line(doc: dict[str, Any]) -> str:
    """`notify failing: chat (HTTP 503), pager (timed out)` or ""."""
    failing = doc.get("failing") or []
    if not isinstance(failing, list):
        return ""
    parts = []
    for d in failing[:3]:
        if isinstance(d, dict):
            err = f" ({d.get('last_error')})" if d.get("last_error") else ""
            parts.append(f"{d.get('destination', '?')}{err}")
    more = f" +{len(failing) - 3}" if len(failing) > 3 else ""
    return safe_text(f"notify failing: {', '.join(parts)}{more}", 200, oneline=True) if parts else ""


class DeliveryWatch:
    """Polled from a worker thread: `check()` answers the current line, cheaply when unchanged."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._sig: tuple[int, int] | None = None
        self._line = ""

    def check(self) -> str:
        loc = getattr(self.store, "location", "")
        if loc.startswith(("http://", "https://")):
            return self._remote()
        if not loc or loc == ":memory:":
            return ""
        try:
            st = os.stat(status_file(loc))
        except OSError:
            self._sig, self._line = None, ""
            return ""
        sig = (st.st_mtime_ns, st.st_size)
        if sig != self._sig:
            self._sig = sig
            try:
                self._line = trouble_line(orjson.loads(read_regular(status_file(loc))))
            except (OSError, orjson.JSONDecodeError):
                self._line = ""
        return self._line

    def _remote(self) -> str:
        get = getattr(self.store, "get_json", None)
        if get is None:
            return ""
        try:
            doc = get("/deliveries")
            return trouble_line(doc) if isinstance(doc, dict) else ""
        except Exception:  # an old server, or none: the link state already says so
            return ""
