"""One schema for every event kind and every field: what a door accepts, what a fold can use.

Every door that lets an event into a log (the command language, the CLI, a store's
append, the outbox, the HTTP API) calls `validate_event`: each field's type, its
allowed values, its size in UTF-8 bytes, `at` within a sane range, no field this
version does not know, and a cap on the whole event. A refusal is one `EventError`
whose message is one line (`EventTooLarge`, a subclass, when only a size is wrong:
the server answers that 413 rather than 422).

Readers call `check_foldable` before folding an event already in a log. It is the
same table with only what folding and showing the event rely on (types, allowed
values, a time that converts to UTC without overflow): a log written by an older or
broken writer may hold anything, and one event that cannot be folded is skipped by
the fold (named by its seq), never allowed to stop every reader.

Nesting is bounded by construction: a field is a string, an integer, a boolean, a list
of strings or an object of strings (alert labels), and a key not in the table is
refused, so validating never recurses.

To add an event kind or a field, add it to `KIND_SCHEMAS` below (and its test).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from . import events as _events
from .events import Event, EventError
from .model import LESSONS, PHASES, SEVERITIES, TEXT_KINDS

__all__ = [
    "EVENT_MAX_BYTES",
    "KIND_SCHEMAS",
    "NAME_MAX_BYTES",
    "TEXT_MAX_BYTES",
    "TITLE_MAX_BYTES",
    "EventError",
    "EventTooLarge",
    "Field",
    "check_foldable",
    "check_name",
    "validate_event",
]

TEXT_MAX_BYTES = 64 * 1024  # a note, a summary, an impact statement
TITLE_MAX_BYTES = 1024  # a title is one line in a list
NAME_MAX_BYTES = 64  # a person, a role, a checklist item id
SHORT_MAX_BYTES = 256  # a tag, a category, a checklist item's text line
ID_MAX_CHARS = 64
URL_MAX_BYTES = 2048
MAX_TAGS = 100
EVENT_MAX_BYTES = 256 * 1024  # the whole event, strings and keys counted in UTF-8 bytes
AT_MIN = datetime(2000, 1, 1, tzinfo=UTC)
AT_MAX = datetime(2100, 1, 1, tzinfo=UTC)
_NUMBER_MAX = 1_000_000
_SEQ_MAX = 2**53  # a JSON number every client can hold exactly

# Characters no name may carry: C0 (tab and newline included), DEL, C1, bidi controls,
# line and paragraph separators. Free text (a note, a title) may hold them, pasted from a
# log: it is data, and every renderer shows it through `safe_text`.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z._:\-]*\Z")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


class EventTooLarge(EventError):
    """An event refused only for its size (the API answers 413)."""


def _utf8_len(s: str, where: str) -> int:
    try:
        return len(s.encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate: no UTF-8 form, no JSON any reader agrees on
        raise EventError(f"{where} is not valid Unicode (a lone surrogate)") from None


def _sized(s: str, limit: int, where: str) -> int:
    # A character is at most 4 bytes: short strings skip the encode (the common case).
    n = _utf8_len(s, where) if len(s) * 4 > limit or not s.isascii() else len(s)
    if n > limit:
        raise EventTooLarge(f"{where} is {n} bytes; the limit is {limit}")
    return n


def check_name(value: str, where: str = "name", limit: int = NAME_MAX_BYTES) -> str:
    """A person's, role's or item's name: non-empty, one line, no control characters."""
    if not value.strip():
        raise EventError(f"{where} is empty")
    _sized(value, limit, where)
    if _CONTROL.search(value):
        raise EventError(f"{where} contains a control or bidi character")
    return value


@dataclass(frozen=True, slots=True)
class Field:
    """One data field: its JSON type, whether every event of the kind has it, and what
    values a door accepts (`check`, raising EventError). `allowed`, when set, is also
    what a fold relies on (a severity it can colour, a phase it can place)."""

    type: type
    required: bool = False
    max_bytes: int = TEXT_MAX_BYTES
    allowed: frozenset[str] | tuple[str, ...] | None = None
    check: Callable[[Any, str], object] | None = None
    lo: int = 0
    hi: int = _NUMBER_MAX


def _name(limit: int = NAME_MAX_BYTES) -> Callable[[Any, str], object]:
    return lambda v, where: check_name(v, where, limit)


def _tags(v: list, where: str) -> None:
    if len(v) > MAX_TAGS:
        raise EventTooLarge(f"{where} has {len(v)} tags; the limit is {MAX_TAGS}")
    for i, t in enumerate(v):
        check_name(t, f"{where}[{i}]", SHORT_MAX_BYTES)


_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f-\x9f]+\Z", re.IGNORECASE)


def _url(v: str, where: str) -> None:
    """A tracker link: an http(s) URL, or "" (no link). It is shown and clicked."""
    if v and not _URL.match(v):
        raise EventError(f"{where} is not an http(s) URL: {v[:60]!r}")


MAX_LABELS = 64


def _labels(v: dict, where: str) -> None:
    if len(v) > MAX_LABELS:
        raise EventTooLarge(f"{where} has {len(v)} entries; the limit is {MAX_LABELS}")
    for k, x in v.items():
        _sized(k, 512, f"{where} name")
        _sized(x, 4096, f"{where}.{k[:40]}")


def _due(v: str, where: str) -> None:
    try:
        if not _DATE.match(v):
            raise ValueError
        date.fromisoformat(v)
    except ValueError:
        raise EventError(f"{where} is not a date YYYY-MM-DD: {v[:20]!r}") from None


TEXT = Field(str, required=True)
TAGS = Field(list, check=_tags, max_bytes=MAX_TAGS * SHORT_MAX_BYTES)
NAME = Field(str, required=True, max_bytes=NAME_MAX_BYTES, check=_name())
NUMBER = Field(int, required=True, lo=1)

# Every kind and every field it may carry. A field not listed is refused at a door and
# ignored by a fold (a newer version may add optional fields).
KIND_SCHEMAS: dict[str, dict[str, Field]] = {
    **{k: {"text": TEXT, "tags": TAGS} for k in TEXT_KINDS},
    "followup": {
        "text": TEXT,
        "tags": TAGS,
        # "" is no owner, no due date (the fold reads both as none).
        "owner": Field(str, max_bytes=NAME_MAX_BYTES, check=lambda v, w: v and check_name(v, w)),
        "due": Field(str, max_bytes=10, check=lambda v, w: v and _due(v, w)),
        "link": Field(str, max_bytes=URL_MAX_BYTES, check=_url),
    },
    "followup.link": {"number": NUMBER, "url": Field(str, required=True, max_bytes=URL_MAX_BYTES, check=_url)},
    "why": {"text": TEXT, "tags": TAGS, "chain": Field(str, max_bytes=NAME_MAX_BYTES, check=_name())},
    "lesson": {"text": TEXT, "tags": TAGS, "lesson": Field(str, required=True, allowed=tuple(LESSONS))},
    "page": {"user": NAME, "text": Field(str), "tags": TAGS},
    "incident.declared": {
        "title": Field(str, required=True, max_bytes=TITLE_MAX_BYTES),
        "severity": Field(str, required=True, allowed=SEVERITIES),
        "summary": Field(str),
    },
    "hypothesis.confirmed": {"number": NUMBER, "text": Field(str), "tags": TAGS},
    "hypothesis.rejected": {"number": NUMBER, "text": Field(str), "tags": TAGS},
    "followup.done": {"number": NUMBER},
    "severity.set": {"severity": Field(str, required=True, allowed=SEVERITIES)},
    "phase.set": {"phase": Field(str, required=True, allowed=PHASES)},
    "title.set": {"value": Field(str, required=True, max_bytes=TITLE_MAX_BYTES)},
    "summary.set": {"value": Field(str, required=True)},
    "impact.set": {"value": Field(str, required=True)},
    "category.set": {"value": Field(str, required=True, max_bytes=SHORT_MAX_BYTES)},
    "role.assigned": {"role": NAME, "user": NAME},
    "role.released": {"role": NAME, "user": Field(str, max_bytes=NAME_MAX_BYTES, check=_name())},
    "checklist.set": {
        "phase": Field(str, required=True, allowed=PHASES),
        "item": Field(str, required=True, max_bytes=SHORT_MAX_BYTES, check=_name(SHORT_MAX_BYTES)),
        "done": Field(bool, required=True),
        "index": Field(int, lo=1, hi=10_000),
        "text": Field(str, max_bytes=4 * SHORT_MAX_BYTES),
    },
    # An alert from Alertmanager or Events API v2 (server/alerts.py sets the same limits
    # in characters; these are the bytes those characters can take).
    "alert": {
        "status": Field(str, required=True, allowed=("firing", "resolved")),
        "fingerprint": Field(str, required=True, max_bytes=1024),
        "labels": Field(dict, required=True, max_bytes=MAX_LABELS * 4608, check=_labels),
        "summary": Field(str, required=True, max_bytes=16 * 1024),
        "url": Field(str, required=True, max_bytes=8 * 1024),
        "group": Field(str, required=True, max_bytes=4096),
        "starts_at": Field(str, max_bytes=64),
        "ends_at": Field(str, max_bytes=64),
        "source": Field(str, max_bytes=64),
    },
    "snapshot": {
        "at_seq": Field(int, required=True, lo=0, hi=_SEQ_MAX),
        # "" when nobody held command before the handoff.
        "to": Field(str, max_bytes=NAME_MAX_BYTES, check=lambda v, w: v and check_name(v, w)),
        "from": Field(str, max_bytes=NAME_MAX_BYTES, check=lambda v, w: v and check_name(v, w)),
    },
}
KIND_NAMES = frozenset(KIND_SCHEMAS)


_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    bool: "true or false",
    list: "a list of strings",
    dict: "an object of strings",
}


def _type_ok(value: Any, typ: type) -> bool:
    # bool is an int subclass: a count must not be True, a flag must not be 1.
    return type(value) is typ


# At the doors, the one form SPEC 3 shows (what every client writes): RFC 3339 with a zone.
# Python reads many more (week dates, basic format, a space, "+2359"), which would reach
# `events --json` as typed; a stored event keeps whatever form it has.
_AT_FORM = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})")


def _at(raw: Any, strict: bool) -> datetime:
    if type(raw) is not str or not raw or len(raw) > 40:
        raise EventError("event field 'at' is missing or not an ISO 8601 time (a string of at most 40)")
    if strict and not _AT_FORM.fullmatch(raw):
        raise EventError(f"event field 'at' is not an ISO 8601 (RFC 3339) time like 2026-11-27T14:02:11.482Z: {raw!r}")
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if strict and parsed.tzinfo is None:
            raise EventError(f"event field 'at' has no time zone: {raw!r} (write Z or +HH:MM)")
        at = parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise EventError(f"event field 'at' is not an ISO 8601 time in range: {raw!r}") from None
    if not AT_MIN <= at < AT_MAX:
        raise EventError(f"event field 'at' is outside {AT_MIN.year}-{AT_MAX.year - 1}: {raw!r}")
    return at


def _data(kind: str, data: Any, strict: bool) -> int:
    """Check `data` against its kind's fields; returns its size in bytes (strict only)."""
    if type(data) is not dict:
        raise EventError(f"{kind} event: 'data' must be an object")
    fields = KIND_SCHEMAS[kind]
    size = 0
    for name, spec in fields.items():
        if spec.required and name not in data:
            raise EventError(f"{kind} event needs data.{name} ({spec.type.__name__})")
    for name, value in data.items():
        spec = fields.get(name)
        if spec is None:
            if strict:
                raise EventError(f"{kind} event has an unknown field data.{str(name)[:40]!r}")
            continue
        where = f"{kind} data.{name}"
        if not _type_ok(value, spec.type):
            raise EventError(f"{where} must be {_TYPE_NAMES[spec.type]}")
        if spec.type is list and any(type(x) is not str for x in value):
            raise EventError(f"{where} must be a list of strings")
        if spec.type is dict and any(type(x) is not str for x in value.values()):
            raise EventError(f"{where} must be an object of strings")
        if spec.allowed is not None and value not in spec.allowed:
            raise EventError(f"{kind} event has unknown {name} {str(value)[:40]!r} (one of {', '.join(spec.allowed)})")
        if spec.type is int and not spec.lo <= value <= spec.hi:
            raise EventError(f"{where} must be between {spec.lo} and {spec.hi}")
        if not strict:
            continue
        size += len(name) + 8
        if spec.type is str:
            size += _sized(value, spec.max_bytes, where)
        elif spec.type is list:
            size += sum(_sized(x, SHORT_MAX_BYTES, where) + 4 for x in value)
        elif spec.type is dict:
            size += sum(_utf8_len(k, where) + _utf8_len(x, where) + 8 for k, x in value.items())
        if spec.check is not None:
            spec.check(value, where)
    return size


def validate_event(obj: Any, *, require_seq: bool = False, allow_seq: bool = True) -> Event:
    """The door: a whole event as it arrives (a dict from JSON), checked against the
    schema; returns the Event or raises EventError with a one-line reason."""
    if type(obj) is not dict:
        raise EventError("an event must be a JSON object")
    for key in obj:
        if key not in _ENVELOPE:
            raise EventError(f"event has an unknown field {str(key)[:40]!r}")
    for key in ("id", "incident"):
        v = obj.get(key)
        if type(v) is not str or not v:
            raise EventError(f"event field {key!r} is missing or not a non-empty string")
        if len(v) > ID_MAX_CHARS or not _ID.match(v):
            raise EventError(f"event field {key!r} is not an id (up to {ID_MAX_CHARS} of A-Z a-z 0-9 . _ : -)")
    author = obj.get("author")
    if type(author) is not str or not author:
        raise EventError("event field 'author' is missing or not a non-empty string")
    check_name(author, "event field 'author'")
    kind = obj.get("kind")
    if type(kind) is not str or not kind:
        raise EventError("event field 'kind' is missing or not a non-empty string")
    if kind not in KIND_SCHEMAS:
        raise EventError(f"unknown event kind {kind[:40]!r}")
    _at(obj.get("at"), strict=True)
    size = _data(kind, obj.get("data", {}), strict=True)
    size += sum(len(obj[k]) for k in ("id", "incident", "at", "kind")) + len(author.encode()) + 64
    if size > EVENT_MAX_BYTES:
        raise EventTooLarge(f"{kind} event is {size} bytes; the limit is {EVENT_MAX_BYTES}")
    seq = obj.get("seq")
    if seq is not None:
        if not allow_seq:
            raise EventError("event carries a seq; the store assigns it")
        if type(seq) is not int or not 1 <= seq <= _SEQ_MAX:
            raise EventError("event field 'seq' must be a positive integer")
    elif require_seq:
        raise EventError("stored event has no seq")
    return Event(
        id=obj["id"],
        incident=obj["incident"],
        at=obj["at"],
        author=author,
        kind=kind,
        data=obj.get("data", {}),
        seq=seq,
    )


_ENVELOPE = frozenset(("id", "incident", "at", "author", "kind", "data", "seq"))


def _fold_table() -> dict[str, tuple[frozenset[str], dict[str, tuple[type, Any, int, int]]]]:
    """The schema as the fold reads it: per kind, its required names and, per field, the
    type, allowed values and integer range (no sizes: a reader shows any size safely)."""
    return {
        kind: (
            frozenset(n for n, f in fields.items() if f.required),
            {n: (f.type, f.allowed, f.lo, f.hi) for n, f in fields.items()},
        )
        for kind, fields in KIND_SCHEMAS.items()
    }


_FOLD: dict[str, tuple[frozenset[str], dict[str, tuple[type, Any, int, int]]]] = {}
_STR = frozenset((str,))  # `_STR.issuperset(map(type, xs))`: every x is exactly a str, checked in C
_FOLD_OF: dict[str, dict[str, Field]] = {}  # the KIND_SCHEMAS `_FOLD` was built from


def check_foldable(event: Event) -> datetime:
    """What a fold relies on, for an event already in a log: raises EventError (one
    line) when the event cannot be folded; returns its time in UTC.

    Every reader runs it on every event, so it is written for speed (a table lookup and
    type comparisons); the messages come from the door's checks, on the slow path."""
    global _FOLD, _FOLD_OF
    if not (str is type(event.id) is type(event.incident) is type(event.author) is type(event.kind)):
        raise EventError("event fields id, incident, author and kind must be strings")
    if _FOLD_OF is not KIND_SCHEMAS or len(_FOLD) != len(KIND_SCHEMAS):
        _FOLD, _FOLD_OF = _fold_table(), KIND_SCHEMAS  # built once (again if a kind is added)
    spec = _FOLD.get(event.kind)
    if spec is None:
        if not event.kind:
            raise EventError("no event kind (the line is not a readable event)")
        raise EventError(f"unknown event kind {event.kind[:40]!r}")
    raw = event.at
    try:
        at = datetime.fromisoformat(raw).astimezone(UTC)  # Python 3.11 reads the Z itself
    except (ValueError, OverflowError, TypeError):
        at = _at(raw, strict=False)  # raises with its reason
    if not (AT_MIN <= at < AT_MAX and type(raw) is str and len(raw) <= 40):
        _at(raw, strict=False)
    data = event.data
    required, fields = spec
    # Set comparisons and `map`s in C, not generators: 100k events folded in 260 ms, of
    # which a third was this function (bench_docs' incident, cProfile); 190 ms now.
    if type(data) is not dict or not data.keys() >= required:
        _data(event.kind, data, strict=False)  # raises with its reason
    for name, value in data.items():
        f = fields.get(name)
        if f is None:
            continue
        typ, allowed, lo, hi = f
        if (
            type(value) is not typ
            or (
                typ is not str  # the usual field: its type was all there was to check
                and (
                    (typ is list and not _STR.issuperset(map(type, value)))
                    or (typ is int and not lo <= value <= hi)
                    or (typ is dict and not _STR.issuperset(map(type, value.values())))
                )
            )
            or (allowed is not None and value not in allowed)
        ):
            _data(event.kind, data, strict=False)  # raises with its reason
    return at


_events._VALIDATE = validate_event  # Event.from_dict is this door too (see events.py)
