"""Times and durations as documents show them: the process's local zone, named."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..domain.events import format_at, parse_at


def wire(at: str) -> str:
    """An event's `at` in the one wire form (`2026-11-27T14:02:11.482Z`), which sorts
    as time; writers that used another ISO form are normalized (rare, so checked cheaply)."""
    if len(at) == 24 and at[-1] == "Z" and at[10] == "T" and at[19] == ".":
        return at
    return format_at(parse_at(at))


def local(dt: datetime) -> datetime:
    return dt.astimezone()


def zone(dt: datetime) -> str:
    """`CET (UTC+01:00)`; just `UTC` when the process runs in UTC."""
    d = local(dt)
    name = d.tzname() or ""
    offset = d.strftime("%z")
    utc = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    if name in ("UTC", "GMT") and offset in ("+0000", ""):
        return "UTC"
    if not name or name == utc or name.lstrip("+-").isdigit():
        return utc  # zones without an abbreviation report "+03"
    return f"{name} ({utc})"


def stamp(dt: datetime) -> str:
    """`2026-11-27 15:02:11 CET`: a full local time that names its zone."""
    d = local(dt)
    return d.strftime("%Y-%m-%d %H:%M:%S ") + _abbrev(d)


def clock(dt: datetime, day: datetime | None = None) -> str:
    """`15:02:11`, with the date in front when it is not `day`'s local date, and the
    zone after when it differs from `day`'s (a DST change inside the incident)."""
    return Clock(day)(dt)


class Clock:
    """`clock` with its reference day worked out once: a timeline formats 100k times.

    Everything but the seconds is the same for a whole minute (zone offsets are whole
    minutes), so it is memoized per UTC minute; a long timeline has far fewer minutes
    than lines."""

    __slots__ = ("_date", "_minutes", "_offset", "_wire_minutes")

    def __init__(self, day: datetime | None) -> None:
        ref = local(day) if day is not None else None
        self._date = ref.date() if ref else None
        self._offset = ref.utcoffset() if ref else None
        self._minutes: dict[int, str] = {}
        self._wire_minutes: dict[str, str] = {}

    def wire(self, at: str) -> str:
        """`__call__` for a `wire` string: one parse per minute, not per line."""
        head = self._wire_minutes.get(at[:16])
        if head is None:
            head = self._wire_minutes[at[:16]] = self._head(local(parse_at(at[:16] + ":00.000Z")))
        return head.replace("{s}", at[17:19], 1)

    def __call__(self, dt: datetime) -> str:
        key = int(dt.timestamp() // 60)
        head = self._minutes.get(key)
        if head is None:
            head = self._minutes[key] = self._head(local(dt))
        second = dt.second
        return head.replace("{s}", f"{second:02d}", 1)

    def _head(self, d: datetime) -> str:
        text = f"{d.hour:02d}:{d.minute:02d}:{{s}}"
        if self._date is None:
            return text
        if d.date() != self._date:
            text = f"{d.year:04d}-{d.month:02d}-{d.day:02d} {text}"
        if d.utcoffset() != self._offset:
            text += " " + _abbrev(d)
        return text


def _abbrev(d: datetime) -> str:
    name = d.tzname() or ""
    if not name or name.lstrip("+-").isdigit():
        off = d.strftime("%z")
        return f"UTC{off[:3]}:{off[3:]}"
    return name


def duration(td: timedelta | float) -> str:
    """`45s`, `25m`, `1h 03m`, `2d 4h`: precise enough for a postmortem's metrics."""
    s = int(td.total_seconds() if isinstance(td, timedelta) else td)
    sign = "-" if s < 0 else ""
    s = abs(s)
    if s < 60:
        return f"{sign}{s}s"
    if s < 3600:
        m, r = divmod(s, 60)
        return f"{sign}{m}m" + (f" {r:02d}s" if r else "")
    if s < 86400:
        h, r = divmod(s, 3600)
        return f"{sign}{h}h {r // 60:02d}m"
    d, r = divmod(s, 86400)
    return f"{sign}{d}d {r // 3600}h"
