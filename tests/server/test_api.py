"""The endpoints of SPEC 6 against a real server, with plain httpx."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
from httpx_sse import connect_sse

from incident_tui.domain.commands import declare_event
from incident_tui.domain.events import Event, new_event
from incident_tui.server import Tokens
from incident_tui.store.memory import MemoryStore

from .conftest import ThreadServer


def post(url: str, events: list[Event], token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{url}/api/v1/events", json={"events": [e.to_dict() for e in events]}, headers=headers)


def seeded(n: int = 3) -> tuple[Event, list[Event]]:
    d = declare_event("db down", "alice", "SEV2")
    return d, [d] + [new_event(d.incident, "note", "alice", {"text": f"n{i}"}) for i in range(n - 1)]


def test_health_answers_ok_and_latest_seq(server: ThreadServer) -> None:
    assert httpx.get(f"{server.url}/api/v1/health").json() == {"ok": True, "seq": 0}
    post(server.url, seeded()[1])
    assert httpx.get(f"{server.url}/api/v1/health").json() == {"ok": True, "seq": 3}


def test_post_answers_seqs_and_same_id_twice_answers_the_first_seq(server: ThreadServer) -> None:
    _, events = seeded()
    first = post(server.url, events)
    assert first.status_code == 200
    assert first.json()["seqs"] == [1, 2, 3]
    again = post(server.url, [events[1], *seeded()[1][:1]])
    assert again.json()["seqs"] == [2, 4]
    assert [e.id for e in server.store.read()] == [*(e.id for e in events), again.json()["events"][1]["id"]]


def test_get_events_pages_after_a_cursor(server: ThreadServer) -> None:
    post(server.url, seeded(5)[1])
    doc = httpx.get(f"{server.url}/api/v1/events", params={"since": 1, "limit": 2}).json()
    assert doc["seq"] == 5
    assert [e["seq"] for e in doc["events"]] == [2, 3]


def test_long_poll_returns_as_soon_as_an_event_arrives(server: ThreadServer) -> None:
    post(server.url, seeded(1)[1])
    d = server.store.read()[0]
    timer = threading.Timer(0.3, lambda: post(server.url, [new_event(d.incident, "note", "bob", {"text": "x"})]))
    timer.start()
    t0 = time.monotonic()
    doc = httpx.get(f"{server.url}/api/v1/events", params={"since": 1, "wait": 20}, timeout=30).json()
    took = time.monotonic() - t0
    timer.join()
    assert [e["seq"] for e in doc["events"]] == [2]
    assert 0.25 < took < 5


def test_long_poll_times_out_with_no_events(server: ThreadServer) -> None:
    doc = httpx.get(f"{server.url}/api/v1/events", params={"since": 0, "wait": 0.3}).json()
    assert doc == {"seq": 0, "events": []}


def test_stream_sends_ids_and_resumes_from_last_event_id(server: ThreadServer) -> None:
    post(server.url, seeded(4)[1])
    with httpx.Client(base_url=server.url, timeout=10) as c:
        with connect_sse(c, "GET", "/api/v1/stream", params={"since": 0}) as src:
            assert src.response.headers["content-type"].startswith("text/event-stream")
            got = []
            for sse in src.iter_sse():
                if not sse.data:  # the opening retry/comment and pings
                    continue
                got.append((sse.id, Event.from_dict(sse.json()).seq))
                if len(got) == 2:
                    break
        assert got == [("1", 1), ("2", 2)]
        with connect_sse(c, "GET", "/api/v1/stream", headers={"Last-Event-ID": "2"}) as src:
            it = (sse for sse in src.iter_sse() if sse.data)
            assert next(it).id == "3"
            assert next(it).id == "4"


def test_stream_pings_a_quiet_client(thread_server) -> None:
    s = thread_server(ping_interval=0.2)
    with httpx.Client(base_url=s.url, timeout=10) as c, c.stream("GET", "/api/v1/stream") as resp:
        lines = resp.iter_lines()
        seen = [next(lines) for _ in range(6)]
    assert ": ping" in seen


def test_incidents_by_number_ref_and_uuid(server: ThreadServer) -> None:
    d, events = seeded()
    post(server.url, events)
    doc = httpx.get(f"{server.url}/api/v1/incidents").json()
    assert [i["ref"] for i in doc] == ["INC-1"]
    for ref in ("INC-1", "1", d.incident):
        one = httpx.get(f"{server.url}/api/v1/incidents/{ref}")
        assert one.status_code == 200, ref
        assert one.json()["title"] == "db down"
        assert one.json()["severity"] == "SEV2"


def test_unknown_incident_and_route_answer_404_json(server: ThreadServer) -> None:
    for path in ("/api/v1/incidents/INC-9", "/api/v1/incidents/9/snapshot", "/api/v1/nothing"):
        r = httpx.get(server.url + path)
        assert r.status_code == 404, path
        assert "error" in r.json()


@pytest.mark.parametrize("path", ["snapshot?format=md", "snapshot?format=json", "postmortem", "postmortem?format=json"])
def test_documents_answer_or_say_not_implemented(server: ThreadServer, path: str) -> None:
    post(server.url, seeded()[1])
    r = httpx.get(f"{server.url}/api/v1/incidents/INC-1/{path}")
    if r.status_code == 501:  # the documents package has not landed in this build
        assert "error" in r.json()
        return
    assert r.status_code == 200
    assert "db down" in r.text


@pytest.mark.parametrize("doc", ["snapshot", "postmortem"])
def test_documents_refuse_an_unknown_format(server: ThreadServer, doc: str) -> None:
    post(server.url, seeded()[1])
    r = httpx.get(f"{server.url}/api/v1/incidents/INC-1/{doc}", params={"format": "pdf"})
    assert r.status_code in (400, 501)
    assert "error" in r.json()


def test_postmortem_json_over_the_api_is_the_documented_schema(server: ThreadServer) -> None:
    post(server.url, seeded()[1])
    r = httpx.get(f"{server.url}/api/v1/incidents/INC-1/postmortem", params={"format": "json"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    d = r.json()
    assert (d["schema"], d["version"], d["ref"], d["title"]) == ("incident-tui/postmortem", 1, "INC-1", "db down")


def test_per_person_token_sets_the_author(thread_server, tmp_path: Path) -> None:
    tf = tmp_path / "tokens"
    tf.write_text("# who may write\nalice tok-alice-0123456789\n\nbob tok-bob-0123456789ab\n")
    tf.chmod(0o600)
    s = thread_server(MemoryStore(), Tokens.from_file(tf))
    d, _ = seeded(1)
    forged = Event(**{**d.to_dict(), "author": "mallory"})
    r = post(s.url, [forged], token="tok-bob-0123456789ab")
    assert r.status_code == 200
    assert r.json()["events"][0]["author"] == "bob"
    assert s.store.read()[0].author == "bob"


def test_shared_token_keeps_authors_as_sent(thread_server) -> None:
    s = thread_server(MemoryStore(), Tokens.shared_token("shared-secret-0123456789"))
    r = post(s.url, seeded(1)[1], token="shared-secret-0123456789")
    assert r.json()["events"][0]["author"] == "alice"


@pytest.mark.parametrize(
    "header", [None, "Bearer wrong-token", "Basic dXNlcjpwYXNz", "Bearer  shared-secret-0123456789x"]
)
def test_wrong_or_missing_token_answers_401_and_writes_nothing(thread_server, header: str | None) -> None:
    s = thread_server(MemoryStore(), Tokens.shared_token("shared-secret-0123456789"))
    headers = {"Authorization": header} if header else {}
    for method, path in (("GET", "/api/v1/health"), ("POST", "/api/v1/events"), ("GET", "/api/v1/stream")):
        body = {"events": [e.to_dict() for e in seeded(1)[1]]} if method == "POST" else None
        r = httpx.request(method, s.url + path, json=body, headers=headers)
        assert r.status_code == 401, (method, path)
        assert "error" in r.json()
    assert s.store.latest_seq() == 0


def test_a_slow_postmortem_delays_no_acknowledgement(server: ThreadServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The postmortem renders off the event loop and outside the hub's lock: while one is
    stuck rendering, /health answers and a posted event is acknowledged and streamed."""
    import incident_tui.docs as docs

    rendering, release = threading.Event(), threading.Event()
    real = docs.postmortem_document

    def slow(*args: object, **kw: object) -> str:
        rendering.set()
        release.wait(30)
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(docs, "postmortem_document", slow)
    d, events = seeded(5)
    post(server.url, events)
    got: list[httpx.Response] = []
    pm = threading.Thread(
        target=lambda: got.append(httpx.get(f"{server.url}/api/v1/incidents/1/postmortem", timeout=60))
    )
    pm.start()
    try:
        assert rendering.wait(30)
        assert httpx.get(f"{server.url}/api/v1/health", timeout=5).json()["ok"]
        late = new_event(d.incident, "note", "bob", {"text": "while the postmortem renders"})
        ack = post(server.url, [late])
        assert ack.status_code == 200 and ack.json()["seqs"] == [6]
        polled = httpx.get(f"{server.url}/api/v1/events", params={"since": 5, "wait": 5}, timeout=10).json()
        assert [e["id"] for e in polled["events"]] == [late.id]
    finally:
        release.set()
        pm.join(60)
    assert got and got[0].status_code == 200 and "# " in got[0].text


def test_a_server_over_an_indexed_store_serves_every_event_as_stored(thread_server, tmp_path: Path) -> None:
    """The hub starts from the JSON store's index (no event parsed or re-encoded) and serves
    the indexed prefix from the log's own lines: the same events, in order, as the log alone."""
    from incident_tui.store.jsonfile import JsonStore

    path = tmp_path / "indexed.jsonl"
    d, events = seeded(2500)
    with JsonStore(path, index_min_bytes=0) as s:
        for i in range(0, len(events), 500):
            s.append(events[i : i + 500])
    JsonStore(path, index_min_bytes=0).close()  # the index now covers every line
    truth = [e.to_dict() for e in JsonStore(path, index_min_bytes=1 << 62).read()]
    srv = thread_server(JsonStore(path, index_min_bytes=0))
    assert srv.app.state.hub._base == 2500  # started from the index
    late = new_event(d.incident, "note", "bob", {"text": "after the start"})
    assert post(srv.url, [late]).json()["seqs"] == [2501]
    got: list[dict] = []
    while True:
        page = httpx.get(f"{srv.url}/api/v1/events", params={"since": len(got), "limit": 700}).json()
        if not page["events"]:
            break
        got.extend(page["events"])
    assert got[:-1] == truth and got[-1]["id"] == late.id and got[-1]["seq"] == 2501
    with httpx.Client() as c, connect_sse(c, "GET", f"{srv.url}/api/v1/stream", params={"since": 2490}) as sse:
        seen = []
        for ev in sse.iter_sse():
            if ev.data:
                seen.append(ev.json()["seq"])
            if len(seen) == 11:
                break
    assert seen == list(range(2491, 2502))
    assert httpx.get(f"{srv.url}/api/v1/incidents/1").json()["events"] == 2501
