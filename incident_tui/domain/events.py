"""The event: the single source of truth (SPEC 3)."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from .model import KIND_FIELDS, KINDS, LESSONS, PHASES, SEVERITIES

MAX_TEXT = 64 * 1024
# Roles are not listed: a team may name its own, and the fold shows whatever was assigned.
_ALLOWED_VALUES = {"severity": SEVERITIES, "phase": PHASES, "lesson": tuple(LESSONS)}


class EventError(ValueError):
    """An event that does not satisfy the event model."""


def uuid7() -> str:
    """A time-ordered UUIDv7 (RFC 9562); Python 3.11 has no uuid.uuid7."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return str(uuid.UUID(int=value))


def format_at(dt: datetime) -> str:
    """UTC, millisecond precision, `Z` suffix: the one wire format of `at`."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    incident: str
    at: str
    author: str
    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    seq: int | None = None

    @property
    def when(self) -> datetime:
        return parse_at(self.at)

    @property
    def text(self) -> str:
        return str(self.data.get("text", ""))

    def with_seq(self, seq: int) -> Event:
        return replace(self, seq=seq)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if self.seq is not None:
            d["seq"] = self.seq
        d.update(
            id=self.id,
            incident=self.incident,
            at=self.at,
            author=self.author,
            kind=self.kind,
            data=self.data,
        )
        return d

    @classmethod
    def from_dict(cls, d: Any, *, require_seq: bool = False) -> Event:
        """Validate a wire/stored event; raises EventError with a one-line reason."""
        if not isinstance(d, dict):
            raise EventError("an event must be a JSON object")
        for key in ("id", "incident", "at", "author", "kind"):
            if not isinstance(d.get(key), str) or not d[key]:
                raise EventError(f"event field {key!r} is missing or not a non-empty string")
        data = d.get("data", {})
        if not isinstance(data, dict):
            raise EventError("event field 'data' must be an object")
        kind = d["kind"]
        if kind not in KINDS:
            raise EventError(f"unknown event kind {kind!r}")
        for name, typ in KIND_FIELDS[kind].items():
            value = data.get(name)
            # bool is an int subclass; a checklist flag must be a real bool and a number not one.
            if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
                raise EventError(f"{kind} event needs data.{name} ({typ.__name__})")
        for name, allowed in _ALLOWED_VALUES.items():
            if name in KIND_FIELDS[kind] and data[name] not in allowed:
                raise EventError(f"{kind} event has unknown {name} {data[name]!r}")
        text = data.get("text")
        if isinstance(text, str) and len(text) > MAX_TEXT:
            raise EventError(f"event text is {len(text)} characters; the limit is {MAX_TEXT}")
        try:
            parse_at(d["at"])
        except ValueError:
            raise EventError(f"event field 'at' is not an ISO 8601 time: {d['at']!r}") from None
        seq = d.get("seq")
        if seq is not None and (not isinstance(seq, int) or isinstance(seq, bool) or seq < 1):
            raise EventError("event field 'seq' must be a positive integer")
        if require_seq and seq is None:
            raise EventError("stored event has no seq")
        return cls(
            id=d["id"],
            incident=d["incident"],
            at=d["at"],
            author=d["author"],
            kind=kind,
            data=data,
            seq=seq,
        )


_FIELDS = ("id", "incident", "at", "author", "kind", "data", "seq")
_SETTERS = tuple(Event.__dict__[f].__set__ for f in _FIELDS)  # the slots' own descriptors


def build_event(id: str, incident: str, at: str, author: str, kind: str, data: dict[str, Any], seq: int) -> Event:
    """An Event from already-checked fields, for loading a log. The frozen dataclass's
    __init__ sets each field through object.__setattr__; setting the slots directly
    halves what 100k events cost to build (61 ms against 116 ms, measured)."""
    e = object.__new__(Event)
    s_id, s_inc, s_at, s_author, s_kind, s_data, s_seq = _SETTERS
    s_id(e, id)
    s_inc(e, incident)
    s_at(e, at)
    s_author(e, author)
    s_kind(e, kind)
    s_data(e, data)
    s_seq(e, seq)
    return e


def stored_event(d: dict[str, Any]) -> Event:
    """An event a store already validated on append (a log line, a server's stream), with
    only the checks the fold relies on; raises KeyError, TypeError or ValueError."""
    if not (str is type(d["id"]) is type(d["incident"]) is type(d["at"]) is type(d["author"])):
        raise ValueError("event fields id, incident, at and author must be strings")
    kind, data = d["kind"], d["data"]
    for name, typ in KIND_FIELDS[kind].items():  # KeyError: an unknown kind or a missing field
        if type(data[name]) is not typ:
            raise ValueError(f"{kind} event needs data.{name} ({typ.__name__})")
    seq = d["seq"]
    if type(seq) is not int:
        raise ValueError("event field 'seq' must be an integer")
    return build_event(d["id"], d["incident"], d["at"], d["author"], kind, data, seq)


def new_event(
    incident: str,
    kind: str,
    author: str,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> Event:
    return Event(
        id=uuid7(),
        incident=incident,
        at=format_at(at or now_utc()),
        author=author,
        kind=kind,
        data=data or {},
    )
