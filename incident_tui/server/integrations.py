"""The config file's integration tables (SPEC 11), checked once when `serve` starts.

```toml
[[notify]]                 # one table per destination
name = "ops-chat"          # optional; shown in `incident-tui deliveries` and /metrics
url = "https://hooks.slack.com/services/T000/B000/XXXX"
format = "slack"           # slack | teams | webhook
secret = "whsec_..."       # webhook: Standard Webhooks signing secret
on = ["declared", "severity", "phase", "role", "update", "resolved", "reminder"]
min_severity = "SEV3"      # default SEV5: everything
join = "ssh -t -p 2222 warroom.example.com"   # optional: how to join, on every message

[delivery]                 # optional tuning; the defaults suit a chat channel
timeout = 10.0             # seconds per request
backoff = 1.0              # first retry after ~this many seconds, doubling
backoff_max = 600.0        # never wait longer than this between tries
dead_after = 86400.0       # give up (dead-letter) a delivery this many seconds old
no_commander_minutes = 10  # reminder: no commander this long after declaration

[[alerts.rule]]
match = { severity = "critical" }
declare = "SEV2"           # without it, a matching alert only attaches
```

Any mistake is one line naming the table and the key (exit code 2); nothing starts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..config import ConfigError
from ..domain.model import normalize_severity
from ..domain.notices import NO_COMMANDER_MINUTES, TRIGGERS
from .delivery.formats import FORMATS, secret_key


@dataclass(frozen=True)
class Destination:
    name: str
    url: str
    format: str
    secret: bytes | None = None
    on: frozenset[str] = frozenset(TRIGGERS)
    min_severity: str = "SEV5"
    join: str | None = None

    @property
    def key(self) -> str:
        """What a delivery id is derived from: the name and URL (a moved URL is a new destination)."""
        return hashlib.sha256(f"{self.name}\0{self.url}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class DeliveryPolicy:
    timeout: float = 10.0
    backoff: float = 1.0
    backoff_max: float = 600.0
    dead_after: float = 86400.0
    no_commander_minutes: float = NO_COMMANDER_MINUTES
    reminder_every: float = 30.0  # seconds between looks at the state for reminders


@dataclass(frozen=True)
class AlertRule:
    match: dict[str, str]
    declare: str | None = None

    def matches(self, labels: dict[str, str]) -> bool:
        return all(labels.get(k) == v for k, v in self.match.items())


@dataclass(frozen=True)
class Integrations:
    destinations: tuple[Destination, ...] = ()
    policy: DeliveryPolicy = field(default_factory=DeliveryPolicy)
    rules: tuple[AlertRule, ...] = ()


def _str(where: str, key: str, v: Any) -> str:
    if not isinstance(v, str) or not v:
        raise ConfigError(f"{where}: {key} must be a non-empty string")
    return v


def _destination(i: int, t: Any, names: set[str]) -> Destination:
    where = f"[[notify]] #{i}"
    if not isinstance(t, dict):
        raise ConfigError(f"{where}: must be a table")
    known = {"name", "url", "format", "secret", "on", "min_severity", "join"}
    unknown = set(t) - known
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
    url = _str(where, "url", t.get("url"))
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where}: url must be an http:// or https:// URL")
    name = _str(where, "name", t.get("name", f"notify-{i}"))
    if name in names:
        raise ConfigError(f"{where}: a destination is already named {name!r}")
    names.add(name)
    fmt = _str(where, "format", t.get("format", "slack"))
    if fmt not in FORMATS:
        raise ConfigError(f"{where}: format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    secret = None
    if "secret" in t:
        if fmt != "webhook":
            raise ConfigError(f"{where}: secret signs the webhook format only (chat URLs carry their own secret)")
        try:
            secret = secret_key(_str(where, "secret", t["secret"]))
        except ValueError as exc:
            raise ConfigError(f"{where}: secret: {exc}") from None
    on = t.get("on", list(TRIGGERS))
    if not isinstance(on, list) or not on or not all(isinstance(x, str) for x in on):
        raise ConfigError(f"{where}: on must be a list of triggers: {', '.join(TRIGGERS)}")
    bad = [x for x in on if x not in TRIGGERS]
    if bad:
        raise ConfigError(f"{where}: unknown trigger(s) {', '.join(bad)}; known: {', '.join(TRIGGERS)}")
    sev = normalize_severity(_str(where, "min_severity", t.get("min_severity", "SEV5")))
    if sev is None:
        raise ConfigError(f"{where}: min_severity must be SEV1 ... SEV5")
    join = _str(where, "join", t["join"]) if "join" in t else None
    return Destination(name, url, fmt, secret, frozenset(on), sev, join)


def _policy(t: Any) -> DeliveryPolicy:
    if not isinstance(t, dict):
        raise ConfigError("[delivery]: must be a table")
    base = DeliveryPolicy()
    known = set(base.__dataclass_fields__)
    unknown = set(t) - known
    if unknown:
        raise ConfigError(f"[delivery]: unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
    values: dict[str, float] = {}
    for k, v in t.items():
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v < 10**7:
            raise ConfigError(f"[delivery]: {k} must be a positive number")
        values[k] = float(v)
    return DeliveryPolicy(**{**base.__dict__, **values})


def _rule(i: int, t: Any) -> AlertRule:
    where = f"[[alerts.rule]] #{i}"
    if not isinstance(t, dict):
        raise ConfigError(f"{where}: must be a table")
    unknown = set(t) - {"match", "declare"}
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; known: declare, match")
    match = t.get("match", {})
    if not isinstance(match, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in match.items()):
        raise ConfigError(f'{where}: match must be a table of label = "value" strings')
    declare = None
    if "declare" in t:
        declare = normalize_severity(t["declare"]) if isinstance(t["declare"], str) else None
        if declare is None:
            raise ConfigError(f"{where}: declare must be SEV1 ... SEV5")
    return AlertRule(dict(match), declare)


def parse_integrations(tables: dict[str, Any]) -> Integrations:
    notify = tables.get("notify", [])
    if not isinstance(notify, list):
        raise ConfigError("notify must be an array of tables: [[notify]]")
    names: set[str] = set()
    dests = tuple(_destination(i, t, names) for i, t in enumerate(notify, 1))
    policy = _policy(tables.get("delivery", {}))
    alerts = tables.get("alerts", {})
    if not isinstance(alerts, dict) or set(alerts) - {"rule"}:
        raise ConfigError("[alerts]: holds only [[alerts.rule]] tables")
    rules = alerts.get("rule", [])
    if not isinstance(rules, list):
        raise ConfigError("alerts.rule must be an array of tables: [[alerts.rule]]")
    return Integrations(dests, policy, tuple(_rule(i, t) for i, t in enumerate(rules, 1)))
