"""What a request may carry, and the one-line refusals (SPEC 6 limits).

Sizes answer 413 (body over 1 MiB, more than 1000 events, one event's text over
64 KiB); content answers 400 (not JSON) or 422 (JSON that is not a valid batch).
A whole batch is validated before anything is appended, so a refusal writes nothing;
the refusal of one event names its index and id (`{"error", "index", "id"}`), so a
client sending a queue of events can set that one aside and send the rest again.
A value echoed in a message is cut and repr'd: a 5,000-character parameter answers
one short line.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson

from ..domain.events import MAX_TEXT, Event, EventError
from ..domain.schema import EventTooLarge

MAX_BODY = 1024 * 1024
MAX_EVENTS = 1000
MAX_WAIT = 60.0


class ApiError(Exception):
    def __init__(self, status: int, message: str, **extra: object) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra  # more fields of the JSON answer (which event was refused)


def _shown(raw: str, limit: int = 40) -> str:
    return repr(raw[:limit] + ("…" if len(raw) > limit else ""))


def parse_seq(raw: str, name: str) -> int:
    """A non-negative seq from a header or parameter: ASCII digits only (`int()` would take
    `١٢` or 5,000 digits, the latter raising), at most 18 of them (fits 64 bits)."""
    s = raw.strip()
    if not (s.isascii() and s.isdigit()) or len(s) > 18:
        raise ApiError(400, f"{name} must be a seq (a whole number of at most 18 digits), not {_shown(raw)}")
    return int(s)


def parse_batch(body: bytes, author: str | None) -> list[Event]:
    """The events of a POST body, validated; `author` (from a per-person token) overrides theirs."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, f"body is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("events"), list):
        raise ApiError(422, 'body must be a JSON object {"events": [...]}')
    raw: list[Any] = doc["events"]
    if len(raw) > MAX_EVENTS:
        raise ApiError(413, f"{len(raw)} events in one request; the limit is {MAX_EVENTS}")
    out: list[Event] = []
    for i, d in enumerate(raw):
        which: dict[str, object] = {"index": i}
        if isinstance(d, dict):
            if isinstance(d.get("id"), str):
                which["id"] = d["id"][:64]
            text = d.get("data", {}).get("text") if isinstance(d.get("data"), dict) else None
            if isinstance(text, str) and len(text) > MAX_TEXT:
                raise ApiError(413, f"event {i}: text is {len(text)} characters; the limit is {MAX_TEXT}", **which)
            if "seq" in d:
                raise ApiError(422, f"event {i}: carries a seq; the server assigns it", **which)
        try:
            e = Event.from_dict(d)
        except EventError as exc:
            raise ApiError(413 if isinstance(exc, EventTooLarge) else 422, f"event {i}: {exc}", **which) from None
        try:
            # What the store and every stream will write must encode: orjson refuses nesting
            # past 254 levels and lone surrogates, which it parses. Refuse here, alone,
            # rather than fail the store's group commit for everyone in it.
            orjson.dumps(e.to_dict())
        except orjson.JSONEncodeError as exc:
            raise ApiError(422, f"event {i}: cannot be stored: {exc}", **which) from None
        out.append(replace(e, author=author) if author else e)
    return out


def int_param(params: Any, name: str, default: int, lo: int, hi: int | None = None) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    s = raw.strip()
    digits = s[1:] if s[:1] == "-" else s
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 18:
        raise ApiError(400, f"{name} must be an integer, not {_shown(raw)}")
    v = int(s)
    if v < lo or (hi is not None and v > hi):
        raise ApiError(400, f"{name} must be between {lo} and {hi}" if hi is not None else f"{name} must be >= {lo}")
    return v


def float_param(params: Any, name: str, default: float, hi: float) -> float:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        if len(raw) > 40:
            raise ValueError
        v = float(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be a number of seconds, not {_shown(raw)}") from None
    if not 0 <= v <= hi:  # also refuses nan
        raise ApiError(400, f"{name} must be between 0 and {hi:g} seconds")
    return v
