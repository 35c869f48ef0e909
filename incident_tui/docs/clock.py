"""Times and durations as documents show them: the process's local zone, named."""

from __future__ import annotations

from datetime import datetime, timedelta


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
    d = local(dt)
    text = d.strftime("%H:%M:%S")
    if day is not None:
        ref = local(day)
        if d.date() != ref.date():
            text = d.strftime("%Y-%m-%d ") + text
        if d.utcoffset() != ref.utcoffset():
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
