"""Notifications out (SPEC 11), end to end: `serve` over a store, events posted to its API,
a recording receiver on loopback. Nothing mocked; every wait is on a condition."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from typing import Any

import orjson
import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from incident_tui.domain.events import new_event, uuid7
from incident_tui.server.delivery.outbox import journal_path, read_journal

from .conftest import FAST, wait_until
from .receiver import Answer, Receiver

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


def life(incident: str) -> list[dict[str, Any]]:
    """Declare, escalate, change phase, assign, update, resolve: one event per trigger."""
    ev = [
        new_event(incident, "incident.declared", "alice", {"title": "Checkout errors", "severity": "SEV2"}),
        new_event(incident, "note", "alice", {"text": "not news"}),
        new_event(incident, "severity.set", "alice", {"severity": "SEV1"}),
        new_event(incident, "phase.set", "alice", {"phase": "mitigating"}),
        new_event(incident, "role.assigned", "alice", {"role": "commander", "user": "bob"}),
        new_event(incident, "update", "alice", {"text": "rolled back the deploy"}),
        new_event(incident, "phase.set", "alice", {"phase": "resolved"}),
    ]
    return [e.to_dict() for e in ev]


def notify(url: str, fmt: str = "slack", **extra: str) -> str:
    lines = [f'url = "{url}"', f'format = "{fmt}"'] + [f'{k} = "{v}"' for k, v in extra.items()]
    return "[[notify]]\n" + "\n".join(lines) + "\n"


def test_chat_hears_each_trigger_once_in_order(serve, receiver: Receiver) -> None:
    chat = notify(receiver.url("/slack"), name="chat", join="ssh -t -p 2222 warroom")
    s = serve(FAST + chat + notify(receiver.url("/teams"), "teams"))
    s.post(*life(uuid7()))
    slack = [h.json() for h in receiver.wait_accepted("/slack", 6)]
    texts = [m["text"] for m in slack]
    assert "INC-1 [SEV2] Checkout errors: declared at SEV2 by alice" in texts[0]
    assert "severity changed from SEV2 to SEV1" in texts[1]
    assert "phase changed from detected to mitigating" in texts[2]
    assert "bob is now commander" in texts[3]
    assert "status update: rolled back the deploy" in texts[4]
    assert "INC-1 resolved" in texts[5]
    assert all("blocks" in m for m in slack)
    assert "ssh -t -p 2222 warroom" in orjson.dumps(slack[0]["blocks"]).decode()
    teams = [h.json() for h in receiver.wait_accepted("/teams", 6)]
    card = teams[0]["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["type"] == "AdaptiveCard"
    assert "Checkout errors" in orjson.dumps(card).decode()
    # The note was not news; nothing more arrives (wait for a later marker event to be sure).
    s.post(new_event(uuid7(), "incident.declared", "alice", {"title": "marker", "severity": "SEV4"}).to_dict())
    receiver.wait_accepted("/slack", 7)
    assert len(receiver.hits_on("/slack")) == 7


def test_webhook_is_signed_per_standard_webhooks(serve, receiver: Receiver) -> None:
    s = serve(FAST + notify(receiver.url("/wh"), "webhook", secret=SECRET))
    s.post(*life(uuid7())[:3])
    hits = receiver.wait_accepted("/wh", 2)
    wh = Webhook(SECRET)
    for h in hits:
        payload = wh.verify(h.body, {k: v for k, v in h.headers.items() if k.startswith("webhook-")})
        assert payload["data"]["incident"]["ref"] == "INC-1"
    assert hits[0].json()["type"] == "incident.declared"
    assert hits[1].json()["data"]["event"]["kind"] == "severity.set"
    # A forged body fails the independent verifier.
    forged = hits[0].body.replace(b"Checkout", b"Checkoux")
    with pytest.raises(WebhookVerificationError):
        wh.verify(forged, {k: v for k, v in hits[0].headers.items() if k.startswith("webhook-")})


def test_5xx_408_and_timeouts_are_retried_with_a_stable_id_until_accepted(serve, receiver: Receiver) -> None:
    receiver.plan("/flaky", Answer(503), Answer(200, delay=1.5), Answer(500), Answer(408))
    s = serve(FAST + notify(receiver.url("/flaky"), "webhook"))
    s.post(life(uuid7())[0])
    ok = receiver.wait_accepted("/flaky", 1)
    # The timed-out try is recorded when its late answer is written: wait for all five.
    tries = receiver.wait(lambda: len(receiver.hits_on("/flaky")) >= 5 and receiver.hits_on("/flaky"))
    assert {h.headers["webhook-id"] for h in tries} == {ok[0].headers["webhook-id"]}
    statuses = [h.status for h in tries]
    assert statuses[0] == 503 and statuses[2] == 500 and statuses[3] == 408 and statuses[4] == 200
    assert tries[2].at - tries[1].at >= 0.45  # the second try was cut at the 0.5 s timeout


def test_429_waits_for_retry_after(serve, receiver: Receiver) -> None:
    receiver.plan("/rl", Answer(429, {"Retry-After": "1"}))
    s = serve(FAST + notify(receiver.url("/rl")))
    s.post(life(uuid7())[0])
    receiver.wait_accepted("/rl", 1)
    first, second = receiver.hits_on("/rl")[:2]
    assert second.at - first.at >= 0.95  # backoff alone would retry within 0.05-0.1 s


def test_4xx_is_not_retried_and_is_listed_as_dead(serve, receiver: Receiver, tmp_path) -> None:
    receiver.plan("/gone", Answer(404))
    s = serve(FAST + notify(receiver.url("/gone"), name="old-hook") + notify(receiver.url("/ok"), name="good"))
    incident = uuid7()
    s.post(life(incident)[0], life(incident)[2])
    receiver.wait_accepted("/ok", 2)
    receiver.wait_accepted("/gone", 1)  # the second message still goes: a 404 kills one delivery, not the lane
    assert [h.status for h in receiver.hits_on("/gone")] == [404, 200]
    wait_until(lambda: any(d.state == "dead" for d in (read_journal(journal_path(s.store)) or _empty()).items.values()))
    out = subprocess.run(
        [sys.executable, "-m", "incident_tui", "--store", str(s.store), "deliveries"],
        capture_output=True,
        text=True,
        env=dict(os.environ, INCIDENT_TUI_CONFIG=str(s.config)),
    )
    assert out.returncode == 0, out.stderr
    assert "DEAD" in out.stdout and "old-hook" in out.stdout and "HTTP 404" in out.stdout
    assert "good" not in out.stdout


def _empty() -> Any:
    from incident_tui.server.delivery.outbox import Journal

    return Journal()


def test_a_failing_destination_never_delays_the_others(serve, receiver: Receiver) -> None:
    receiver.default["/down"] = Answer(200, delay=3.0)  # every try times out (0.5 s)
    s = serve(FAST + notify(receiver.url("/down"), name="down") + notify(receiver.url("/up"), name="up"))
    incident = uuid7()
    events = life(incident)
    s.post(events[0])
    receiver.wait_accepted("/up", 1)

    def failing() -> list[dict[str, Any]]:
        return s.client.get(f"{s.api}/deliveries").json()["failing"]

    down = wait_until(failing, what="the down destination to be failing")
    assert [d["destination"] for d in down] == ["down"]
    assert "timed out" in down[0]["last_error"]
    s.post(*events[2:])
    receiver.wait_accepted("/up", 6, timeout=10)  # all of them, while "down" is still stuck on the first
    assert not receiver.accepted("/down")
    assert [d["destination"] for d in failing()] == ["down"]


def test_restart_mid_retry_neither_loses_nor_repeats_an_accepted_delivery(serve, receiver: Receiver) -> None:
    s = serve(FAST + notify(receiver.url("/chat")))
    incident = uuid7()
    events = life(incident)
    s.post(*events[:3])  # declared, note, severity: two messages
    receiver.wait_accepted("/chat", 2)
    receiver.default["/chat"] = Answer(503)
    s.post(events[3])  # phase: fails, retried
    receiver.wait(lambda: len([h for h in receiver.hits_on("/chat") if h.status == 503]) >= 2, what="retries")
    s.kill()
    # Written while the server is down, straight into the store: it must not be skipped.
    from incident_tui.store.jsonfile import JsonStore

    with JsonStore(s.store) as st:
        st.append([new_event(incident, "update", "bob", {"text": "written while serve was down"})])
    receiver.default["/chat"] = Answer(200)
    s.start()
    receiver.wait_accepted("/chat", 4)
    accepted = receiver.accepted("/chat")
    ids = [h.headers["webhook-id"] for h in accepted]
    assert len(ids) == len(set(ids)), "an accepted delivery was sent again after the restart"
    texts = [h.json()["text"] for h in accepted]
    assert "phase changed from detected to mitigating" in texts[2]
    assert "written while serve was down" in texts[3]
    failed_ids = {h.headers["webhook-id"] for h in receiver.hits_on("/chat") if h.status == 503}
    assert failed_ids == {ids[2]}  # the retried one kept its id across the restart


def test_turning_notifications_on_does_not_replay_history(serve, receiver: Receiver, tmp_path) -> None:
    from incident_tui.store.jsonfile import JsonStore

    with JsonStore(tmp_path / "store.jsonl") as st:
        st.append([new_event(uuid7(), "incident.declared", "alice", {"title": "old", "severity": "SEV1"})])
    s = serve(FAST + notify(receiver.url("/chat")))
    s.post(new_event(uuid7(), "incident.declared", "alice", {"title": "new", "severity": "SEV1"}).to_dict())
    hits = receiver.wait_accepted("/chat", 1)
    assert "new" in hits[0].json()["text"]
    s.post(new_event(uuid7(), "incident.declared", "alice", {"title": "marker", "severity": "SEV1"}).to_dict())
    receiver.wait_accepted("/chat", 2)
    assert not any("old" in h.json()["text"] for h in receiver.hits_on("/chat"))


def test_triggers_and_min_severity_filter_per_destination(serve, receiver: Receiver) -> None:
    cfg = FAST + notify(receiver.url("/all")) + notify(receiver.url("/sev1"), min_severity="SEV1")
    cfg += f'[[notify]]\nurl = "{receiver.url("/resolved")}"\non = ["resolved"]\n'
    s = serve(cfg)
    s.post(*life(uuid7()))
    receiver.wait_accepted("/all", 6)
    sev1 = [h.json()["text"] for h in receiver.wait_accepted("/sev1", 5)]
    assert "declared at SEV2" not in sev1[0]  # the declaration was SEV2: below this destination
    assert "severity changed from SEV2 to SEV1" in sev1[0]
    resolved = receiver.wait_accepted("/resolved", 1)
    assert "resolved" in resolved[0].json()["text"]
    assert len(receiver.hits_on("/resolved")) == 1


def test_reminder_for_an_incident_without_a_commander(serve, receiver: Receiver) -> None:
    cfg = FAST.replace("[delivery]\n", "[delivery]\nno_commander_minutes = 0.001\n")
    s = serve(cfg + notify(receiver.url("/chat")) + 'on = ["reminder"]\n')
    s.post(new_event(uuid7(), "incident.declared", "alice", {"title": "quiet", "severity": "SEV3"}).to_dict())
    hits = receiver.wait_accepted("/chat", 1)
    assert "has no commander" in hits[0].json()["text"]


def test_a_delivery_failing_past_dead_after_is_dead_lettered_and_the_lane_moves_on(serve, receiver: Receiver) -> None:
    receiver.default["/sick"] = Answer(503)
    s = serve(
        FAST.replace("[delivery]\n", "[delivery]\ndead_after = 1.0\n") + notify(receiver.url("/sick"), name="sick")
    )
    incident = uuid7()
    s.post(life(incident)[0])

    def dead() -> list[dict[str, Any]]:
        return s.client.get(f"{s.api}/deliveries").json()["dead"]

    gone = wait_until(dead, what="a dead letter")
    assert "gave up after" in gone[0]["last_error"] and "HTTP 503" in gone[0]["last_error"]
    tries = len(receiver.hits_on("/sick"))
    assert tries >= 2  # retried until the deadline, not refused at once
    receiver.default["/sick"] = Answer(200)
    s.post(life(incident)[2])  # the lane is not stuck behind the dead one
    hits = receiver.wait_accepted("/sick", 1)
    assert "severity changed" in hits[0].json()["text"]
