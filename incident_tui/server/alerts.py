"""Alerts in (SPEC 11): Alertmanager's webhook (version 4) and PagerDuty Events API v2.

An alert becomes an `alert` event `{status, fingerprint, labels, summary, url, starts_at,
ends_at, group, source}` on the incident of its group. Only a change is news: an alert
whose fingerprint already stands at that status on the incident is a duplicate (Alertmanager
resends the whole group on every change and every repeat_interval). A firing group with
no open incident is declared when it matches a declaring `[[alerts.rule]]`, or attached to
the newest open incident by a rule without `declare`; otherwise it is ignored (and
counted). A resolved alert is recorded but never resolves an incident: people do that.

Requests are handled one at a time. The next request must deduplicate against this one's
events before the server's folded view has caught up with them (the hub wakes at most
every 5-80 ms): what was appended is kept in a small overlay until the registry holds it.
A declaration waits for the registry instead (its INC number comes from there); measured,
waiting on every request held intake to a fifth of the event API's rate.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..domain.events import Event, EventError, format_at, new_event, parse_at, uuid7
from ..domain.fold import IncidentState
from ..store.base import StoreError
from .committer import Committer
from .hub import Hub
from .integrations import AlertRule
from .limits import ApiError

MAX_ALERTS = 1000
MAX_LABELS = 64
MAX_KEY = 128
MAX_VALUE = 1024
MAX_LABELS_TOTAL = 16 * 1024  # characters of all an alert's label names and values: one event stays small
MAX_SUMMARY = 4096
MAX_URL = 2048
MAX_GROUP = 1024
PD_SEVERITIES = ("critical", "error", "warning", "info")


@dataclass(frozen=True, slots=True)
class AlertIn:
    source: str  # alertmanager | events-v2
    group: str
    status: str  # firing | resolved
    fingerprint: str
    labels: dict[str, str]
    summary: str
    url: str
    starts_at: str
    ends_at: str

    def data(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "fingerprint": self.fingerprint,
            "labels": self.labels,
            "summary": self.summary,
            "url": self.url,
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "group": self.group,
            "source": self.source,
        }


@dataclass
class Batch:
    """One request's alerts, with what a declaration would be titled."""

    alerts: list[AlertIn]
    title: str
    truncated: int = 0


def _labels(where: str, v: Any) -> dict[str, str]:
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise ApiError(422, f"{where} must be an object of strings")
    if len(v) > MAX_LABELS:
        raise ApiError(413, f"{where} has {len(v)} entries; the limit is {MAX_LABELS}")
    out: dict[str, str] = {}
    for k, val in v.items():
        if not isinstance(val, str):
            raise ApiError(422, f"{where}.{str(k)[:40]} must be a string")
        if len(k) > MAX_KEY or len(val) > MAX_VALUE:
            raise ApiError(413, f"{where}.{str(k)[:40]} is over {MAX_KEY} (name) or {MAX_VALUE} (value) characters")
        out[k] = val
    if sum(len(k) + len(v) for k, v in out.items()) > MAX_LABELS_TOTAL:
        raise ApiError(413, f"{where} holds over {MAX_LABELS_TOTAL} characters in all")
    return out


def _str(where: str, v: Any, limit: int, default: str | None = None) -> str:
    if v is None and default is not None:
        return default
    if not isinstance(v, str):
        raise ApiError(422, f"{where} must be a string")
    if len(v) > limit:
        raise ApiError(413, f"{where} is {len(v)} characters; the limit is {limit}")
    return v


def _time(where: str, v: Any) -> str:
    """An RFC 3339 time, normalised; Alertmanager's zero time (endsAt of a firing alert) is ""."""
    s = _str(where, v, 64, "")
    if not s or s.startswith("0001-01-01"):
        return ""
    try:
        return format_at(parse_at(s))
    except ValueError:
        raise ApiError(422, f"{where} is not an RFC 3339 time: {s[:40]!r}") from None


def _link(v: str) -> str:
    """Keep a generator URL only when it is a plain http(s) link (it is shown and clicked)."""
    try:
        parts = urlsplit(v)
    except ValueError:
        return ""
    return v if parts.scheme in ("http", "https") and parts.netloc else ""


def _fingerprint(labels: dict[str, str]) -> str:
    return hashlib.sha256("\0".join(f"{k}={v}" for k, v in sorted(labels.items())).encode()).hexdigest()[:16]


def parse_alertmanager(doc: Any) -> Batch:
    if not isinstance(doc, dict):
        raise ApiError(422, "body must be an Alertmanager webhook object")
    version = doc.get("version", "4")
    if version != "4":
        raise ApiError(422, f'Alertmanager webhook version {str(version)[:10]!r}; this server reads version "4"')
    group = _str("groupKey", doc.get("groupKey"), MAX_GROUP)
    if not group:
        raise ApiError(422, "groupKey must be a non-empty string")
    raw = doc.get("alerts")
    if not isinstance(raw, list):
        raise ApiError(422, "alerts must be a list")
    if len(raw) > MAX_ALERTS:
        raise ApiError(413, f"{len(raw)} alerts in one request; the limit is {MAX_ALERTS}")
    common_labels = _labels("commonLabels", doc.get("commonLabels"))
    common_ann = _labels("commonAnnotations", doc.get("commonAnnotations"))
    truncated = doc.get("truncatedAlerts", 0)
    if not isinstance(truncated, int) or isinstance(truncated, bool) or truncated < 0:
        raise ApiError(422, "truncatedAlerts must be a non-negative integer")
    alerts = []
    for i, a in enumerate(raw):
        w = f"alerts[{i}]"
        if not isinstance(a, dict):
            raise ApiError(422, f"{w} must be an object")
        status = a.get("status")
        if status not in ("firing", "resolved"):
            raise ApiError(422, f"{w}.status must be firing or resolved")
        labels = _labels(f"{w}.labels", a.get("labels"))
        ann = _labels(f"{w}.annotations", a.get("annotations"))
        fp = _str(f"{w}.fingerprint", a.get("fingerprint"), 128, "") or _fingerprint(labels)
        summary = ann.get("summary") or ann.get("description") or labels.get("alertname") or "alert"
        alerts.append(
            AlertIn(
                "alertmanager",
                group,
                status,
                fp,
                labels,
                summary[:MAX_SUMMARY],
                _link(_str(f"{w}.generatorURL", a.get("generatorURL"), MAX_URL, "")),
                _time(f"{w}.startsAt", a.get("startsAt")),
                _time(f"{w}.endsAt", a.get("endsAt")),
            )
        )
    first = alerts[0].labels if alerts else {}
    name = common_labels.get("alertname") or first.get("alertname") or "alert"
    about = common_ann.get("summary") or (alerts[0].summary if len(alerts) == 1 else "")
    title = f"{name}: {about}" if about and about != name else name
    return Batch(alerts, title[:200], truncated)


def parse_events_v2(doc: Any) -> tuple[Batch, str, str]:
    """(batch, event_action, dedup_key) of a PagerDuty Events API v2 body."""
    if not isinstance(doc, dict):
        raise ApiError(422, "body must be an Events API v2 object")
    action = doc.get("event_action")
    if action not in ("trigger", "acknowledge", "resolve"):
        raise ApiError(422, "event_action must be trigger, acknowledge or resolve")
    routing = _str("routing_key", doc.get("routing_key"), 128, "")
    dedup = _str("dedup_key", doc.get("dedup_key"), 255, "")
    payload = doc.get("payload")
    if action == "trigger":
        if not isinstance(payload, dict):
            raise ApiError(422, "a trigger needs a payload object")
        summary = _str("payload.summary", payload.get("summary"), 1024)
        source = _str("payload.source", payload.get("source"), 255)
        severity = payload.get("severity")
        if severity not in PD_SEVERITIES:
            raise ApiError(422, f"payload.severity must be one of {', '.join(PD_SEVERITIES)}")
        labels = {"severity": severity, "source": source}
        for k in ("component", "group", "class"):
            if payload.get(k) is not None:
                labels[k] = _str(f"payload.{k}", payload[k], MAX_VALUE)
        details = payload.get("custom_details")
        if isinstance(details, dict):  # free-form; only its short string values can be matched
            for k, v in list(details.items())[:MAX_LABELS]:
                if isinstance(k, str) and isinstance(v, str) and len(k) <= MAX_KEY and len(v) <= MAX_VALUE:
                    labels.setdefault(k, v)
        starts = _time("payload.timestamp", payload.get("timestamp"))
        if not dedup:
            dedup = _fingerprint({"routing_key": routing, "summary": summary, "source": source})
    else:
        if not dedup:
            raise ApiError(422, f"{action} needs the dedup_key of the alert it settles")
        summary, labels, starts = "", {}, ""
    links = doc.get("links")
    url = ""
    if isinstance(links, list) and links and isinstance(links[0], dict) and isinstance(links[0].get("href"), str):
        url = _link(links[0]["href"][:MAX_URL])
    status = "resolved" if action == "resolve" else "firing"
    alert = AlertIn("events-v2", f"events-v2:{routing}:{dedup}", status, dedup, labels, summary, url, starts, "")
    return Batch([alert] if action != "acknowledge" else [], summary[:200] or dedup), action, dedup


@dataclass
class Outcome:
    recorded: int = 0
    duplicates: int = 0
    ignored: int = 0
    declared: list[str] = field(default_factory=list)
    incidents: list[str] = field(default_factory=list)

    def doc(self) -> dict[str, Any]:
        return {
            "recorded": self.recorded,
            "duplicates": self.duplicates,
            "ignored": self.ignored,
            "declared": self.declared,
            "incidents": self.incidents,
        }


class Intake:
    def __init__(self, hub: Hub, committer: Committer, rules: tuple[AlertRule, ...]) -> None:
        self.hub = hub
        self.committer = committer
        self.rules = rules
        self.lock = asyncio.Lock()
        self.received: Counter[tuple[str, str]] = Counter()  # (source, status) -> alerts received
        self.outcomes: Counter[str] = Counter()  # recorded | duplicate | ignored | declared
        # (seq, incident id, group, fingerprint, status) appended but maybe not yet in the registry
        self._recent: list[tuple[int, str, str, str, str]] = []

    def _overlay(self) -> tuple[dict[str, set[str]], dict[str, dict[str, str]]]:
        """Groups and alert statuses per incident that the registry may not hold yet."""
        last = self.hub.registry.last_seq
        self._recent = [r for r in self._recent if r[0] > last]
        groups: dict[str, set[str]] = {}
        status: dict[str, dict[str, str]] = {}
        for _, inc, group, fp, st in self._recent:
            groups.setdefault(inc, set()).add(group)
            status.setdefault(inc, {})[fp] = st
        return groups, status

    def _rule(self, alerts: list[AlertIn]) -> AlertRule | None:
        """The first declaring rule any firing alert matches, else the first attaching one."""
        hits = [r for r in self.rules if any(r.matches(a.labels) for a in alerts if a.status == "firing")]
        return next((r for r in hits if r.declare), hits[0] if hits else None)

    def _plan(self, batch: Batch, author: str) -> tuple[list[Event], Outcome]:
        reg = self.hub.registry
        out = Outcome()
        events: list[Event] = []
        by_group: dict[str, list[AlertIn]] = {}
        for a in batch.alerts:
            by_group.setdefault(a.group, []).append(a)
        extra_groups, extra_status = self._overlay()

        def statuses(s: IncidentState) -> dict[str, str]:
            return {**s.alert_status, **extra_status.get(s.id, {})}

        for group, alerts in by_group.items():
            holders = [s for s in reg.order if group in s.alert_groups or group in extra_groups.get(s.id, ())]
            target: IncidentState | None = next((s for s in reversed(holders) if s.active), None)
            incident_id: str | None = target.id if target else None
            known: dict[str, str] = statuses(target) if target else {}
            firing = [a for a in alerts if a.status == "firing"]
            if target is None and firing:
                rule = self._rule(alerts)
                if rule is not None and rule.declare:
                    incident_id = uuid7()
                    ev = new_event(
                        incident_id, "incident.declared", author, {"title": batch.title, "severity": rule.declare}
                    )
                    events.append(ev)
                    starts = [a.starts_at for a in firing if a.starts_at]
                    if starts:
                        # Back-dated to when the alert began: the postmortem's impact start.
                        first = min(starts)
                        at = min(parse_at(first), parse_at(ev.at))
                        text = f"{firing[0].source}: {batch.title} firing since {first}"
                        events.append(new_event(incident_id, "detected", author, {"text": text}, at=at))
                    out.declared.append(f"INC-{len(reg.order) + 1 + len(out.declared)}")
                    self.outcomes["declared"] += 1
                elif rule is not None:
                    active = reg.active()
                    if active:
                        target = active[-1]
                        incident_id, known = target.id, statuses(target)
            if incident_id is None and holders:
                # Only resolved alerts for a group whose incident is over: recorded there.
                target = holders[-1]
                incident_id, known = target.id, statuses(target)
            if incident_id is None:
                out.ignored += len(alerts)
                self.outcomes["ignored"] += len(alerts)
                continue
            if target is not None and target.ref not in out.incidents:
                out.incidents.append(target.ref)
            for a in alerts:
                if known.get(a.fingerprint) == a.status:
                    out.duplicates += 1
                    self.outcomes["duplicate"] += 1
                    continue
                known[a.fingerprint] = a.status
                events.append(new_event(incident_id, "alert", author, a.data()))
                out.recorded += 1
                self.outcomes["recorded"] += 1
        return events, out

    async def take(self, batch: Batch, author: str) -> Outcome:
        for a in batch.alerts:
            self.received[(a.source, a.status)] += 1
        async with self.lock:
            with self.hub.lock:
                events, out = self._plan(batch, author)
            if events:
                try:
                    stored = await self.committer.append(events)
                except EventError as exc:  # the store's own check at the door: refused, nothing written
                    # EventTooLarge (a size) is 413, anything else about the event 422, as POST /events answers.
                    raise ApiError(413 if type(exc).__name__ == "EventTooLarge" else 422, str(exc)) from None
                except StoreError as exc:
                    raise ApiError(500, f"store: {exc}") from None
                for e in stored:
                    if e.kind == "alert":
                        d = e.data
                        self._recent.append((e.seq or 0, e.incident, d["group"], d["fingerprint"], d["status"]))
                if out.declared:
                    # Its number, and the next request's view of it, come from the registry.
                    await self.hub.wait(max(e.seq or 0 for e in stored) - 1, 10.0)
                    with self.hub.lock:
                        refs = [
                            self.hub.registry.incidents[e.incident].ref for e in stored if e.kind == "incident.declared"
                        ]
                    out.declared = refs
                    out.incidents += [r for r in refs if r not in out.incidents]
        return out


def _json_body(body: bytes, content_type: str | None) -> Any:
    import orjson

    media = (content_type or "").split(";")[0].strip().lower()
    if media != "application/json":
        raise ApiError(415, f"Content-Type must be application/json, not {media or 'missing'!r}")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, f"body is not valid JSON: {exc}") from None


class AlertRoutes:
    """The two intake endpoints; the author is the token's name (or the source's)."""

    def __init__(self, intake: Intake) -> None:
        self.intake = intake

    async def alertmanager(self, request: Any) -> Any:
        from .responses import json_response, read_body

        doc = _json_body(await read_body(request), request.headers.get("content-type"))
        batch = parse_alertmanager(doc)
        author = request.scope.get("state", {}).get("author") or "alertmanager"
        out = await self.intake.take(batch, author)
        return json_response({**out.doc(), "truncated": batch.truncated})

    async def events_v2(self, request: Any) -> Any:
        from .responses import json_response, read_body

        doc = _json_body(await read_body(request), request.headers.get("content-type"))
        batch, action, dedup = parse_events_v2(doc)
        author = request.scope.get("state", {}).get("author") or "events-v2"
        out = await self.intake.take(batch, author)
        # PagerDuty's own answer shape, so senders written for it read ours.
        return json_response(
            {"status": "success", "message": "Event processed", "dedup_key": dedup, "action": action, **out.doc()}, 202
        )
