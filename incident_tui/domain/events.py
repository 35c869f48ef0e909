"""The event: the single source of truth (SPEC 3)."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

MAX_TEXT = 64 * 1024  # bytes of UTF-8: the schema's TEXT_MAX_BYTES (domain/schema.py)


# Every door validates through the one schema (domain/schema.py). The schema builds Events,
# so it imports this module and installs its check here as it loads (the domain package
# loads it first): no import circle between the two.
_VALIDATE: Callable[..., Event] | None = None


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


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def at_ms(text: str) -> int:
    """`at` as whole milliseconds since 1970 UTC: the wire form's precision, as a number
    that sorts as times do and packs into an array (the index keeps one per timeline row).
    -1 for a text that is no time (a placeholder's ""): it sorts first."""
    try:
        return (parse_at(text) - _EPOCH) // _MS
    except (ValueError, TypeError, OverflowError):
        return -1


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
        """Validate a wire/stored event against the one schema (domain/schema.py);
        raises EventError with a one-line reason."""
        if _VALIDATE is None:  # pragma: no cover - the domain package loads the schema first
            raise RuntimeError("incident_tui.domain.schema is not loaded")
        return _VALIDATE(d, require_seq=require_seq)


class _Unfrozen:
    """An Event's slots, in its order, without its frozen `__setattr__`: `build_event` fills
    one with plain attribute stores, then makes it the Event it describes (the two have one
    layout, so `__class__` may change)."""

    __slots__ = Event.__slots__  # type: ignore[attr-defined]


_new = object.__new__


def build_event(id: str, incident: str, at: str, author: str, kind: str, data: dict[str, Any], seq: int) -> Event:
    """An Event from already-checked fields, for loading a log: a million rows of a long
    incident are built when its postmortem is read. The frozen dataclass's __init__ sets
    each field through object.__setattr__, and the slots' own descriptors cost a call each;
    plain stores into an unfrozen twin, then the class set once, are ~2.5x faster than the
    descriptors (which were 2x faster than __init__): 0.65 s against 1.76 s for 900k."""
    e = _new(_Unfrozen)
    e.id = id
    e.incident = incident
    e.at = at
    e.author = author
    e.kind = kind
    e.data = data
    e.seq = seq
    e.__class__ = Event  # type: ignore[assignment]
    return e  # type: ignore[return-value]


def stored_event(d: dict[str, Any]) -> Event:
    """An event as a log holds it (a store's line, a server's stream). Only its `seq` is
    required, which places it in the log; whether it can be folded is the fold's question
    (`schema.check_foldable`), so one event a broken writer left never stops a reader.
    An envelope of the wrong shape gives a placeholder with no kind (strings and a dict
    throughout, so every reader can show and skip it). Raises KeyError, TypeError or
    ValueError when the line has no integer seq."""
    seq = d["seq"]
    if type(seq) is not int:
        raise ValueError("event field 'seq' must be an integer")
    get = d.get
    id_, incident, at, author, kind, data = (
        get("id"),
        get("incident"),
        get("at"),
        get("author"),
        get("kind"),
        get("data", {}),
    )
    if not (str is type(id_) is type(incident) is type(at) is type(author) is type(kind)) or type(data) is not dict:
        return placeholder_event(seq, id_ if type(id_) is str else "")
    return build_event(id_, incident, at, author, kind, data, seq)


def placeholder_event(seq: int, id: str = "") -> Event:
    """What a reader keeps at `seq` for a line it cannot read as an event: the fold skips
    it (it has no kind) and the log keeps its order."""
    return build_event(id, "", "", "", "", {}, seq)


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
