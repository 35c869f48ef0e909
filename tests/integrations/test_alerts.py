"""Alerts in (SPEC 11): Alertmanager's webhook (version 4) and Events API v2 bodies posted to
a real server on loopback; dedupe by fingerprint and status, declaring rules, auth."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from incident_tui.domain.fold import fold
from incident_tui.server import Tokens, create_app
from incident_tui.server.integrations import AlertRule, Integrations
from incident_tui.store.jsonfile import JsonStore

from .conftest import free_port, wait_until

AUTH = {"Authorization": "Bearer tok-alertmanager-1"}


def am_alert(name: str, fp: str, status: str = "firing", severity: str = "critical", **labels: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": name, "severity": severity, "instance": "checkout-1:9100", **labels},
        "annotations": {"summary": f"{name} on checkout", "description": "5xx above 5% for 5 minutes"},
        "startsAt": "2026-11-30T04:58:11.482Z",
        "endsAt": "2026-11-30T05:20:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=rate%28http_errors%5B5m%5D%29",
        "fingerprint": fp,
    }


def am_group(
    *alerts: dict[str, Any], group: str = '{}:{alertname="HighErrorRate"}', truncated: int = 0
) -> dict[str, Any]:
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    return {
        "version": "4",
        "groupKey": group,
        "truncatedAlerts": truncated,
        "status": status,
        "receiver": "incident-tui",
        "groupLabels": {"alertname": "HighErrorRate"},
        "commonLabels": {"alertname": "HighErrorRate", "severity": "critical"},
        "commonAnnotations": {"summary": "HighErrorRate on checkout"},
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
    }


class Server:
    def __init__(self, path: Path, rules: tuple[AlertRule, ...]) -> None:
        self.store = JsonStore(path)
        tokens = Tokens({"tok-alertmanager-1": "alertmanager", "tok-alice-0123456789": "alice"})
        self.app = create_app(self.store, tokens, integrations=Integrations(rules=rules))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cfg = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(cfg)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        wait_until(lambda: self.server.started, 10, "the server to start")
        self.client = httpx.Client(timeout=10)

    def am(self, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.client.post(
            f"{self.url}/api/v1/alerts/alertmanager", json=body, headers=AUTH if headers is None else headers
        )

    def pd(self, body: Any) -> httpx.Response:
        return self.client.post(f"{self.url}/api/v1/alerts/events-v2", json=body, headers=AUTH)

    def state(self):
        return fold(self.store.read())

    def alerts(self) -> list[dict[str, Any]]:
        return [e.data for e in self.store.read() if e.kind == "alert"]

    def stop(self) -> None:
        self.app.state.hub.close()
        self.server.should_exit = True
        self.thread.join(5)
        self.client.close()
        self.store.close()


RULES = (AlertRule({"severity": "critical"}, "SEV2"), AlertRule({"severity": "warning"}))


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[Server]:
    s = Server(tmp_path / "store.jsonl", RULES)
    yield s
    s.stop()


def test_a_firing_group_matching_a_declaring_rule_declares_an_incident(srv: Server) -> None:
    r = srv.am(am_group(am_alert("HighErrorRate", "fp-a"), am_alert("HighErrorRate", "fp-b", instance="checkout-2")))
    assert r.status_code == 200, r.text
    assert r.json()["declared"] == ["INC-1"] and r.json()["recorded"] == 2
    reg = srv.state()
    inc = reg.resolve("INC-1")
    assert inc is not None
    assert inc.title == "HighErrorRate: HighErrorRate on checkout" and inc.severity == "SEV2"
    assert inc.alert_counts() == (2, 0)
    assert all(e.author == "alertmanager" for e in inc.timeline)
    # Back-dated to when the alert began firing: the postmortem's impact start.
    assert inc.impact_started_at is not None and inc.impact_started_at.isoformat().startswith("2026-11-30T04:58:11")
    first = srv.alerts()[0]
    assert first["url"].startswith("http://prometheus:9090/graph")
    assert first["starts_at"] == "2026-11-30T04:58:11.482Z" and first["ends_at"] == ""


def test_repeats_are_deduplicated_by_fingerprint_and_status(srv: Server) -> None:
    body = am_group(am_alert("HighErrorRate", "fp-a"))
    srv.am(body)
    again = srv.am(copy.deepcopy(body))  # repeat_interval: the whole group again
    assert again.json()["recorded"] == 0 and again.json()["duplicates"] == 1
    grown = srv.am(am_group(am_alert("HighErrorRate", "fp-a"), am_alert("HighErrorRate", "fp-c", instance="x")))
    assert grown.json()["recorded"] == 1 and grown.json()["declared"] == []
    assert len(srv.alerts()) == 2 and len(srv.state().order) == 1


def test_resolved_alerts_are_recorded_but_never_resolve_the_incident(srv: Server) -> None:
    srv.am(am_group(am_alert("HighErrorRate", "fp-a")))
    r = srv.am(am_group(am_alert("HighErrorRate", "fp-a", status="resolved")))
    assert r.json()["recorded"] == 1
    inc = srv.state().resolve("INC-1")
    assert inc is not None and inc.phase == "detected" and inc.alert_counts() == (0, 1)
    assert srv.am(am_group(am_alert("HighErrorRate", "fp-a", status="resolved"))).json()["duplicates"] == 1
    # Firing again is news again.
    assert srv.am(am_group(am_alert("HighErrorRate", "fp-a"))).json()["recorded"] == 1


def test_truncated_group_records_the_alerts_it_carries(srv: Server) -> None:
    r = srv.am(am_group(am_alert("HighErrorRate", "fp-a"), truncated=12))
    assert r.status_code == 200 and r.json()["truncated"] == 12 and r.json()["recorded"] == 1


def test_rules_decide_declare_attach_or_ignore(srv: Server) -> None:
    info = am_group(am_alert("DiskFilling", "fp-i", severity="info"), group="g-info")
    assert srv.am(info).json()["ignored"] == 1  # no rule matches, no incident to join
    warn = am_group(am_alert("DiskFilling", "fp-w", severity="warning"), group="g-warn")
    assert srv.am(warn).json()["ignored"] == 1  # an attaching rule, but nothing open to attach to
    srv.am(am_group(am_alert("HighErrorRate", "fp-a")))
    attached = srv.am(warn).json()
    assert attached["recorded"] == 1 and attached["incidents"] == ["INC-1"] and attached["declared"] == []
    assert len(srv.state().order) == 1


def test_a_group_whose_incident_is_resolved_declares_a_new_one(srv: Server) -> None:
    srv.am(am_group(am_alert("HighErrorRate", "fp-a")))
    inc = srv.state().resolve("INC-1")
    assert inc is not None
    from incident_tui.domain.events import new_event

    srv.store.append([new_event(inc.id, "phase.set", "alice", {"phase": "resolved"})])
    wait_until(lambda: srv.app.state.hub.registry.resolve("INC-1").phase == "resolved")
    # The late resolved alert lands on the resolved incident; a new firing declares INC-2.
    assert srv.am(am_group(am_alert("HighErrorRate", "fp-a", status="resolved"))).json()["incidents"] == ["INC-1"]
    assert srv.am(am_group(am_alert("HighErrorRate", "fp-a"))).json()["declared"] == ["INC-2"]


def test_auth_content_type_and_bad_bodies_are_refused_and_write_nothing(srv: Server) -> None:
    body = am_group(am_alert("HighErrorRate", "fp-a"))
    assert srv.am(body, headers={}).status_code == 401
    assert srv.am(body, headers={"Authorization": "Bearer wrong-token-123"}).status_code == 401
    r = srv.client.post(
        f"{srv.url}/api/v1/alerts/alertmanager", content=b"{}", headers={**AUTH, "content-type": "text/plain"}
    )
    assert r.status_code == 415
    r = srv.client.post(
        f"{srv.url}/api/v1/alerts/alertmanager",
        content=b"{not json",
        headers={**AUTH, "content-type": "application/json"},
    )
    assert r.status_code == 400
    for bad in (
        {**body, "version": "3"},
        {**body, "groupKey": 7},
        {**body, "alerts": [{**body["alerts"][0], "status": "maybe"}]},
        {**body, "alerts": [{**body["alerts"][0], "labels": {"a": 1}}]},
        {**body, "alerts": [{**body["alerts"][0], "startsAt": "yesterday"}]},
        [],
    ):
        r = srv.am(bad)
        assert r.status_code == 422, (bad, r.text)
        assert "error" in r.json()
    huge = {**body, "alerts": [{**body["alerts"][0], "labels": {f"k{i}": "v" for i in range(500)}}]}
    assert srv.am(huge).status_code == 413
    wide = {**body, "alerts": [{**body["alerts"][0], "labels": {f"k{i}": "v" * 1000 for i in range(60)}}]}
    assert srv.am(wide).status_code == 413  # 60 labels of 1000 characters: one event would be too large
    assert srv.store.read() == []


def test_hostile_generator_url_is_not_kept_as_a_link(srv: Server) -> None:
    a = am_alert("HighErrorRate", "fp-a")
    a["generatorURL"] = "javascript:alert(1)"
    a["annotations"]["summary"] = "\x1b]52;c;cHduZWQ=\x07[@click=app.quit]"
    assert srv.am(am_group(a)).status_code == 200
    stored = srv.alerts()[0]
    assert stored["url"] == ""
    assert stored["summary"].startswith("\x1b]52")  # kept as data; every renderer passes it through safe_text


def test_events_v2_trigger_acknowledge_resolve(srv: Server) -> None:
    trig = {
        "routing_key": "R0UT1NGKEY",
        "event_action": "trigger",
        "dedup_key": "disk-sda1",
        "payload": {
            "summary": "Disk full on db-1",
            "source": "db-1",
            "severity": "critical",
            "timestamp": "2026-11-30T05:00:00.000+0000".replace("+0000", "+00:00"),
            "component": "postgres",
            "group": "prod-db",
            "class": "disk",
            "custom_details": {"free": "0%"},
        },
        "links": [{"href": "https://grafana.example/d/disk", "text": "dashboard"}],
    }
    r = srv.pd(trig)
    assert r.status_code == 202 and r.json()["status"] == "success" and r.json()["dedup_key"] == "disk-sda1"
    assert r.json()["declared"] == ["INC-1"]
    assert srv.pd(trig).json()["duplicates"] == 1
    ack = srv.pd({"routing_key": "R0UT1NGKEY", "event_action": "acknowledge", "dedup_key": "disk-sda1"})
    assert ack.status_code == 202 and ack.json()["recorded"] == 0
    res = srv.pd({"routing_key": "R0UT1NGKEY", "event_action": "resolve", "dedup_key": "disk-sda1"})
    assert res.json()["recorded"] == 1
    inc = srv.state().resolve("INC-1")
    assert inc is not None and inc.alert_counts() == (0, 1) and inc.phase == "detected"
    assert srv.alerts()[0]["url"] == "https://grafana.example/d/disk"
    assert srv.pd({"event_action": "resolve"}).status_code == 422
    assert (
        srv.pd({"event_action": "trigger", "payload": {"summary": "x", "source": "y", "severity": "bad"}}).status_code
        == 422
    )


def test_an_alert_the_event_schema_refuses_is_a_4xx_and_writes_nothing(srv: Server) -> None:
    """Within the intake's own limits, yet past the event schema's (sizes in UTF-8 bytes,
    names, control characters): refused like POST /events refuses, never a 5xx."""
    euro = "€" * 1000  # 1000 characters, 3000 bytes
    shapes = {
        "a title past 1 KB in bytes": am_alert(euro, "fp-t"),
        "labels past the event's size in bytes": am_alert(
            "HighErrorRate", "fp-l", **{f"k{i}": euro for i in range(15)}
        ),
        "a summary of wide characters": {
            **am_alert("HighErrorRate", "fp-s"),
            "annotations": {"summary": "€" * 4000, "description": "x"},
        },
    }
    shapes["control characters in a label"] = am_alert("HighErrorRate", "fp-c", team="\x1b[31mred\x00")
    shapes["a lone surrogate"] = am_alert("HighErrorRate", "fp-u", team="\ud800")
    shapes["an author-like name past 64 bytes"] = am_alert("HighErrorRate", "fp-n", severity="€" * 100)
    for name, alert in shapes.items():
        r = srv.client.post(  # json.dumps: a lone surrogate goes out as the escape a sender would write
            f"{srv.url}/api/v1/alerts/alertmanager",
            content=json.dumps(am_group(alert)).encode(),
            headers={**AUTH, "content-type": "application/json"},
        )
        assert r.status_code < 500, (name, r.status_code, r.text[:200])
        if r.status_code >= 400:
            assert "\n" not in r.json()["error"]
