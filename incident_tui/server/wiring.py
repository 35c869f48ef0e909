"""SPEC 11 on the server: alert intake, delivery and metrics, added to the API's app.

Kept apart from app.py: the event API does not depend on any of it, and a server
without `[[notify]]` tables runs no delivery at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..store.deliveries import status_file
from ..store.files import replace_file
from .alerts import AlertRoutes, Intake
from .committer import Committer
from .delivery.outbox import Outbox, OutboxBusy, journal_path
from .delivery.worker import Deliverer
from .hub import Hub
from .integrations import Integrations
from .metrics import Metrics, labelled

log = logging.getLogger("incident_tui.server")


def status_path(store_location: str) -> Path:
    """Where the app of a local store reads delivery health (a header line when failing)."""
    return Path(status_file(store_location))


def write_status(path: Path, doc: dict[str, Any]) -> None:
    try:
        replace_file(path, orjson.dumps(doc), mode=0o644, durable=False)  # a status, not a record
    except OSError as exc:
        log.warning("incident-tui: cannot write %s: %s", path, exc)


class Integration:
    def __init__(
        self,
        hub: Hub,
        committer: Committer,
        integrations: Integrations,
        store_path: str | None,
        streams: Callable[[], int] = lambda: 0,
    ) -> None:
        self.hub = hub
        self.integrations = integrations
        self.intake = Intake(hub, committer, integrations.rules)
        self.alerts = AlertRoutes(self.intake)
        self.metrics = Metrics(hub)
        self.store_path = store_path
        self.deliverer: Deliverer | None = None
        self.streams = streams
        self.metrics.extra.append(self._collect)

    async def start(self) -> None:
        if not self.integrations.destinations or self.store_path is None:
            return
        try:
            outbox = Outbox(journal_path(self.store_path))
        except OutboxBusy as exc:
            log.warning("incident-tui: %s", exc)
            return
        except OSError as exc:  # e.g. a symlink or FIFO planted at the journal's name
            log.error("incident-tui: notifications are off: cannot use %s: %s", exc.filename, exc.strerror or exc)
            return
        self.deliverer = Deliverer(self.hub.store, self.hub, self.integrations, outbox)
        spath = status_path(self.store_path)
        self.deliverer.status_listeners.append(lambda doc: write_status(spath, doc))
        await self.deliverer.start()
        write_status(spath, self.deliverer.status())

    async def stop(self) -> None:
        if self.deliverer is not None:
            await self.deliverer.close()

    def routes(self, prefix: str) -> list[Route]:
        return [
            Route(f"{prefix}/alerts/alertmanager", self.alerts.alertmanager, methods=["POST"]),
            Route(f"{prefix}/alerts/events-v2", self.alerts.events_v2, methods=["POST"]),
            Route(f"{prefix}/deliveries", self.deliveries, methods=["GET"]),
            Route("/metrics", self.metrics.endpoint, methods=["GET"]),
        ]

    async def deliveries(self, request: Request) -> Response:
        d = self.deliverer
        if d is None:
            doc: dict[str, Any] = {"destinations": [], "failing": [], "owed": [], "dead": []}
        else:
            doc = d.status()
            doc["owed"] = [x.view() for x in d.outbox.owed()]
            doc["dead"] = [x.view() for x in d.outbox.dead()]
        return Response(orjson.dumps(doc), media_type="application/json")

    def _collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("incident_tui_clients", "Open event streams (SSE)", value=self.streams())
        rows = [([src, st], float(n)) for (src, st), n in sorted(self.intake.received.items())]
        yield labelled(
            CounterMetricFamily, "incident_tui_alerts_received", "Alerts received", ["source", "status"], rows
        )
        rows = [([k], float(n)) for k, n in sorted(self.intake.outcomes.items())]
        yield labelled(CounterMetricFamily, "incident_tui_alerts", "What became of received alerts", ["outcome"], rows)
        d = self.deliverer
        if d is None:
            return
        lanes = list(d.lanes.values())
        sent = [([ln.dest.name, "ok"], float(ln.sent)) for ln in lanes]
        sent += [([ln.dest.name, "dead"], float(ln.dead)) for ln in lanes]
        sent += [([ln.dest.name, "failed_try"], float(ln.failed_tries)) for ln in lanes]
        yield labelled(
            CounterMetricFamily,
            "incident_tui_deliveries",
            "Delivery outcomes since start",
            ["destination", "outcome"],
            sent,
        )
        owed = [([ln.dest.name], float(len(ln.items))) for ln in lanes]
        yield labelled(GaugeMetricFamily, "incident_tui_deliveries_owed", "Deliveries waiting", ["destination"], owed)
        failing = [([ln.dest.name], 1.0 if ln.failing_since is not None else 0.0) for ln in lanes]
        yield labelled(
            GaugeMetricFamily,
            "incident_tui_destination_failing",
            "1 while the last try failed",
            ["destination"],
            failing,
        )
