"""What a request may carry, and the one-line refusals (SPEC 6 limits).

Sizes answer 413 (body over 1 MiB, more than 1000 events, one event's text over
64 KiB); content answers 400 (not JSON) or 422 (JSON that is not a valid batch).
A whole batch is validated before anything is appended, so a refusal writes nothing.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson

from ..domain.events import MAX_TEXT, Event, EventError

MAX_BODY = 1024 * 1024
MAX_EVENTS = 1000
MAX_WAIT = 60.0


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


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
        if isinstance(d, dict):
            text = d.get("data", {}).get("text") if isinstance(d.get("data"), dict) else None
            if isinstance(text, str) and len(text) > MAX_TEXT:
                raise ApiError(413, f"event {i}: text is {len(text)} characters; the limit is {MAX_TEXT}")
            if "seq" in d:
                raise ApiError(422, f"event {i}: carries a seq; the server assigns it")
        try:
            e = Event.from_dict(d)
        except EventError as exc:
            raise ApiError(422, f"event {i}: {exc}") from None
        out.append(replace(e, author=author) if author else e)
    return out


def int_param(params: Any, name: str, default: int, lo: int, hi: int | None = None) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        v = int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be an integer, not {raw!r}") from None
    if v < lo or (hi is not None and v > hi):
        raise ApiError(400, f"{name} must be between {lo} and {hi}" if hi is not None else f"{name} must be >= {lo}")
    return v


def float_param(params: Any, name: str, default: float, hi: float) -> float:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        v = float(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be a number of seconds, not {raw!r}") from None
    if not 0 <= v <= hi:  # also refuses nan
        raise ApiError(400, f"{name} must be between 0 and {hi:g} seconds")
    return v
