"""`GET /metrics` parsed by prometheus-client's own parser; chat text that cannot ping or
inject; the outbox journal read back after a torn write."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
from prometheus_client.parser import text_string_to_metric_families

from incident_tui.domain.events import new_event, uuid7
from incident_tui.domain.fold import fold
from incident_tui.domain.notices import notice_for, reminders
from incident_tui.server.delivery.formats import slack, teams
from incident_tui.server.delivery.outbox import Delivery, Outbox, read_journal

from .test_alerts import Server, am_alert, am_group


def test_metrics_parse_and_carry_aggregates_only(tmp_path: Path) -> None:
    srv = Server(
        tmp_path / "s.jsonl",
        (__import__("incident_tui.server.integrations").server.integrations.AlertRule({}, "SEV1"),),
    )
    try:
        srv.am(am_group(am_alert("SecretProjectDown", "fp-a")))
        inc = srv.state().resolve("INC-1")
        assert inc is not None
        srv.store.append(
            [
                new_event(inc.id, "role.assigned", "alice", {"role": "commander", "user": "alice"}),
                new_event(inc.id, "phase.set", "alice", {"phase": "resolved"}),
            ]
        )
        from .conftest import wait_until

        wait_until(lambda: srv.app.state.hub.seq >= 5)
        r = srv.client.get(f"{srv.url}/metrics", headers={"Authorization": "Bearer tok-alice-0123456789"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        text = r.text
        fams = {f.name: f for f in text_string_to_metric_families(text)}
        inc_rows = {(s.labels["phase"], s.labels["severity"]): s.value for s in fams["incident_tui_incidents"].samples}
        assert inc_rows[("resolved", "SEV1")] == 1 and inc_rows[("detected", "SEV1")] == 0
        ttr = {s.name: s.value for s in fams["incident_tui_time_to_resolve_seconds"].samples if not s.labels.get("le")}
        assert ttr["incident_tui_time_to_resolve_seconds_count"] == 1
        kinds = {s.labels["kind"]: s.value for s in fams["incident_tui_events"].samples if s.name.endswith("_total")}
        assert kinds["alert"] == 1 and kinds["incident.declared"] == 1
        got = {
            (s.labels["source"], s.labels["status"]): s.value
            for s in fams["incident_tui_alerts_received"].samples
            if s.name.endswith("_total")
        }
        assert got[("alertmanager", "firing")] == 1
        assert "incident_tui_clients" in fams
        # Aggregates only: no titles, labels of alerts, or people.
        assert "SecretProjectDown" not in text and "alice" not in text and "checkout" not in text
        assert srv.client.get(f"{srv.url}/metrics").status_code == 401  # behind the same tokens
    finally:
        srv.stop()


def _notice(title: str, text: str = "ok"):
    inc = uuid7()
    d = new_event(inc, "incident.declared", "eve", {"title": title, "severity": "SEV1"}).with_seq(1)
    u = new_event(inc, "update", "eve", {"text": text}).with_seq(2)
    reg = fold([d])
    st = reg.incidents[inc]
    from incident_tui.domain.notices import before

    prior = before(st)
    reg.apply(u)
    return notice_for(d, None, fold([d]).incidents[inc]), notice_for(u, prior, st)


def test_chat_text_cannot_ping_link_or_reach_a_terminal() -> None:
    declared, update = _notice("<!channel> @here <https://evil|click> \x1b[31mred", "@everyone <@U123> done")
    assert declared is not None and update is not None
    body = orjson.dumps(slack(declared, None)).decode() + orjson.dumps(slack(update, None)).decode()
    assert "<!channel>" not in body and "<@U123>" not in body and "<https://evil" not in body
    assert "@here" not in body and "@everyone" not in body
    assert "\\u001b" not in body and "\x1b" not in body
    card = orjson.dumps(teams(update, "ssh warroom")).decode()
    assert "\x1b" not in card and "ssh warroom" in card


def test_reminders_come_from_the_state() -> None:
    from datetime import timedelta

    inc = uuid7()
    d = new_event(inc, "incident.declared", "eve", {"title": "t", "severity": "SEV1"}).with_seq(1)
    st = fold([d]).incidents[inc]
    assert reminders(st, st.declared_at + timedelta(minutes=5)) == []
    kinds = [r.kind for r in reminders(st, st.declared_at + timedelta(minutes=31))]
    assert kinds == ["no-commander", "update-overdue"]


def test_outbox_survives_a_torn_last_line_and_remembers_what_was_accepted(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl.deliveries.jsonl"
    ob = Outbox(path)
    ob.start(0)
    d1 = Delivery("msg_1", "chat", 1, "e1", "declared", "INC-1", 1.0, b'{"text":"a"}')
    d2 = Delivery("msg_2", "chat", 2, "e2", "update", "INC-1", 1.0, b'{"text":"b"}')
    ob.queue([d1, d2], 2)
    ob.ok(ob.items["msg_1"], 200)
    ob.close()
    with open(path, "ab") as f:
        f.write(b'{"k":"ok","id":"msg_2","sta')  # a crash mid-write
    ob = Outbox(path)
    assert [d.id for d in ob.owed()] == ["msg_2"] and ob.cursor == 2
    assert not ob.queue([d1], 2)  # re-derived after a restart: already known, not queued again
    ob.close()
    assert os.stat(path).st_mode & 0o077 == 0  # as private as the store
    j = read_journal(path)
    assert j is not None and j.delivered == 1


def test_deliveries_verb_lists_failures_in_process(tmp_path: Path, capsys, monkeypatch) -> None:
    from incident_tui.cli import main

    monkeypatch.setenv("INCIDENT_TUI_CONFIG", str(tmp_path / "none.toml"))
    store = tmp_path / "s.jsonl"
    assert main(["--store", str(store), "deliveries"]) == 0
    assert "no delivery outbox" in capsys.readouterr().out
    ob = Outbox(Path(f"{store}.deliveries.jsonl"))
    ob.start(0)
    ob.queue(
        [
            Delivery("msg_a", "chat", 1, "e1", "declared", "INC-1", 1.0, b"{}"),
            Delivery("msg_b", "chat", 2, "e2", "update", "INC-1", 1.0, b"{}"),
            Delivery("msg_c", "pager\x1b[31m", 3, "e3", "update", "INC-1", 1.0, b"{}"),
        ],
        3,
    )
    ob.failed(ob.items["msg_a"], 503, "HTTP 503", 99.0)
    ob.dead_letter(ob.items["msg_c"], "HTTP 404: not retried \x1b]52;c;x\x07")
    ob.close()
    assert main(["--store", str(store), "deliveries"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2  # the queued, never-tried one is not a failure
    assert out[0].startswith("retrying chat") and "tries 1" in out[0] and "HTTP 503" in out[0]
    assert out[1].startswith("DEAD") and "HTTP 404" in out[1]
    assert not any("\x1b" in line for line in out)
    assert main(["--store", str(store), "deliveries", "--all", "--json"]) == 0
    rows = [orjson.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in rows] == ["msg_a", "msg_b", "msg_c"]
    assert {r["state"] for r in rows} == {"pending", "dead"}
