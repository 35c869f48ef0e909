"""`incident-tui deliveries`: what serve could not deliver, read from the outbox beside the
store (local) or from `GET /api/v1/deliveries` (--remote)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ...config import Config
from ...domain.text import safe_text
from ...store.base import StoreError
from ...store.remote.urls import API, base_urls, redact_url
from .outbox import journal_path, read_journal


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ") if ts else "-"


def _remote(config: Config) -> dict[str, Any]:
    import httpx

    assert config.remote is not None
    base = base_urls(config.remote)[0]  # the same parsing, and so the same redaction, as every verb
    url = base + API
    shown = redact_url(url)
    headers = {"Authorization": f"Bearer {config.token}"} if config.token else {}
    try:
        r = httpx.get(f"{url}/deliveries", headers=headers, timeout=10)
    except httpx.InvalidURL:
        # httpx's reason quotes the part it choked on, which may be the password's: not shown.
        raise StoreError(f"--remote {redact_url(base)}: not a valid URL (check its host and port)") from None
    except httpx.HTTPError as exc:
        raise StoreError(f"cannot reach {shown}: {redact_url(str(exc))}") from None
    if r.status_code != 200:
        raise StoreError(f"{shown}/deliveries answered {r.status_code}: {r.text[:200]}")
    doc: dict[str, Any] = r.json()
    return doc


def _local(config: Config) -> dict[str, Any] | None:
    j = read_journal(journal_path(config.store))
    if j is None:
        return None
    return {"owed": [d.view() for d in j.owed()], "dead": [d.view() for d in j.dead()]}


def deliveries_report(config: Config, *, everything: bool, as_json: bool) -> tuple[int, str]:
    doc = _remote(config) if config.remote else _local(config)
    if doc is None:
        return 0, "" if as_json else "no delivery outbox beside this store: serve has no [[notify]] destinations yet"
    owed = [d for d in doc["owed"] if everything or d["attempts"]]
    rows = owed + doc["dead"]
    if as_json:
        return 0, "\n".join(json.dumps(d, sort_keys=True) for d in rows)
    if not rows:
        return 0, "no failed deliveries"
    lines = []
    for d in rows:
        state = "DEAD" if d["state"] == "dead" else ("retrying" if d["attempts"] else "queued")
        nxt = f" next {_when(d['next_attempt_at'])}" if d["state"] == "pending" and d["attempts"] else ""
        # Everything here may come from a file or a server: shown, never obeyed by the terminal.
        err = safe_text(str(d["last_error"] or ""), 160, oneline=True)
        dest, inc, trig = (safe_text(str(d[k]), 40, oneline=True) for k in ("destination", "incident", "trigger"))
        lines.append(f"{state:8} {dest:<16} {inc:<8} {trig:<9} tries {d['attempts']}{nxt} {err}".rstrip())
    return 0, "\n".join(lines)
