"""`GET /metrics`: Prometheus text from prometheus-client, aggregates only (SPEC 11).

Counts and durations, never titles, text or names of people: a metrics store is read by
more people than the war room. Each scrape folds nothing: it reads the hub's registry.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response

from ..domain.model import PHASES, SEVERITIES
from .hub import Hub

BUCKETS = (60.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0, 14400.0, 43200.0, 86400.0, 259200.0)


def _histogram(name: str, doc: str, values: list[float]) -> HistogramMetricFamily:
    counts, acc = [], 0
    ordered = sorted(values)
    i = 0
    for b in BUCKETS:
        while i < len(ordered) and ordered[i] <= b:
            i += 1
        acc = i
        counts.append((str(b), acc))
    counts.append(("+Inf", len(ordered)))
    return HistogramMetricFamily(name, doc, buckets=counts, sum_value=sum(ordered))


class Collector:
    def __init__(self, hub: Hub, extra: list[Callable[[], Iterator[Metric]]]) -> None:
        self.hub = hub
        self.extra = extra
        self._kinds_at = -1
        self._kinds: Counter[str] = Counter()

    def collect(self) -> Iterator[Metric]:
        hub = self.hub
        by = GaugeMetricFamily(
            "incident_tui_incidents", "Incidents by phase and severity", labels=["phase", "severity"]
        )
        tta, ttm, ttr = [], [], []
        with hub.lock:
            counts = Counter((s.phase, s.severity) for s in hub.registry.order)
            for s in hub.registry.order:
                if s.commander_first_at:
                    tta.append((s.commander_first_at - s.declared_at).total_seconds())
                if s.mitigated_at:
                    ttm.append((s.mitigated_at - s.declared_at).total_seconds())
                if s.resolved_at:
                    ttr.append((s.resolved_at - s.declared_at).total_seconds())
            if self._kinds_at != hub.registry.last_seq:
                self._kinds = Counter(e.kind for s in hub.registry.order for e in s.timeline)
                self._kinds_at = hub.registry.last_seq
            kinds = dict(self._kinds)
            seq = hub.seq
        for phase in PHASES:
            for sev in SEVERITIES:
                by.add_metric([phase, sev], counts.get((phase, sev), 0))
        yield by
        yield _histogram(
            "incident_tui_time_to_acknowledge_seconds",
            "Declaration to first commander, per incident",
            [max(v, 0) for v in tta],
        )
        yield _histogram(
            "incident_tui_time_to_mitigate_seconds", "Declaration to monitoring, per incident", [max(v, 0) for v in ttm]
        )
        yield _histogram(
            "incident_tui_time_to_resolve_seconds", "Declaration to resolved, per incident", [max(v, 0) for v in ttr]
        )
        ev = CounterMetricFamily("incident_tui_events", "Events in the log by kind", labels=["kind"])
        for k, n in sorted(kinds.items()):
            ev.add_metric([k], n)
        yield ev
        yield GaugeMetricFamily("incident_tui_log_seq", "The latest seq of the log", value=seq)
        for fn in self.extra:
            yield from fn()


class Metrics:
    def __init__(self, hub: Hub) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.extra: list[Callable[[], Iterator[Metric]]] = []
        self.registry.register(Collector(hub, self.extra))  # type: ignore[arg-type]

    async def endpoint(self, request: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


def gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def labelled(kind: type[Any], name: str, doc: str, labels: list[str], rows: list[tuple[list[str], float]]) -> Metric:
    m = kind(name, doc, labels=labels)
    for values, v in rows:
        m.add_metric(values, v)
    return m
