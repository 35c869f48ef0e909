"""No event, posted or already stored, stops the server; one refused event fails only
itself (issue 9, items 1, 10 and 13 on the server).

The real server over a real JSON store file; the poison goes in through the API and
straight into the file, as an older or broken writer would have left it."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx
import orjson
import pytest

from incident_tui.domain.commands import declare_event
from incident_tui.domain.events import Event, new_event
from incident_tui.store.base import StoreError
from incident_tui.store.jsonfile import JsonStore

from .conftest import ThreadServer, wait_until

D = declare_event("poison", "alice")


def note(text: str = "ok", **data: object) -> dict:
    return new_event(D.incident, "note", "alice", {"text": text, **data}).to_dict()


def deep(levels: int) -> object:
    v: object = "bottom"
    for _ in range(levels):
        v = [v]
    return v


def poison_shapes() -> dict[str, dict]:
    followup = new_event(D.incident, "followup", "alice", {"text": "x", "number": 1}).to_dict()
    role = new_event(D.incident, "role.assigned", "alice", {"role": "scribe", "user": "bob"}).to_dict()
    return {
        "followup owner is an object": {**followup, "data": {**followup["data"], "owner": {"a": 1}}},
        "note tags is a number": note(tags=5),
        "role is a list": {**role, "data": {"role": ["scribe"], "user": "bob"}},
        "at in year 9999": {**note(), "at": "9999-12-31T23:59:59+14:00"},
        "at in year 1 with an offset": {**note(), "at": "0001-01-01T00:00:00-05:00"},
        "data nested 300 levels": note(deep=deep(300)),
        "data nested 200 levels": note(deep=deep(200)),
        "title of 900 KB": {**note(), "kind": "title.set", "data": {"value": "t" * 900_000}},
    }


@pytest.fixture
def served(thread_server: Callable[..., ThreadServer], tmp_path: Path) -> ThreadServer:
    s = thread_server(JsonStore(tmp_path / "poison.jsonl"))
    assert httpx.post(f"{s.url}/api/v1/events", json={"events": [D.to_dict()]}).status_code == 200
    return s


def post(s: ThreadServer, events: Sequence[dict]) -> httpx.Response:
    return httpx.post(f"{s.url}/api/v1/events", content=dumps({"events": list(events)}), headers=JSON, timeout=30)


JSON = {"Content-Type": "application/json"}


def dumps(doc: object) -> bytes:
    return json.dumps(doc).encode()  # the standard library nests deeper than orjson will


def assert_serving(s: ThreadServer) -> None:
    """A fresh note is acknowledged, streamed and folded: the hub is alive."""
    good = note("still alive")
    r = post(s, [good])
    assert r.status_code == 200, r.text
    seq = r.json()["seqs"][0]
    wait_until(lambda: httpx.get(f"{s.url}/api/v1/health").json()["seq"] >= seq, 10, "the hub to take the note")
    got = httpx.get(f"{s.url}/api/v1/events", params={"since": seq - 1}).json()["events"]
    assert [e["id"] for e in got] == [good["id"]]
    with httpx.Client(timeout=10) as c, c.stream("GET", f"{s.url}/api/v1/stream", params={"since": seq - 1}) as resp:
        buf = b""
        for chunk in resp.iter_bytes():
            buf += chunk
            if good["id"].encode() in buf:
                break
    assert httpx.get(f"{s.url}/api/v1/incidents/INC-1").status_code == 200


@pytest.mark.parametrize("name", list(poison_shapes()))
def test_no_posted_event_stops_the_server(served: ThreadServer, name: str) -> None:
    """Every shape is refused with a 4xx and a one-line reason, and nothing is written."""
    before = httpx.get(f"{served.url}/api/v1/health").json()["seq"]
    r = post(served, [poison_shapes()[name]])
    assert 400 <= r.status_code < 500, r.text[:300]
    err = r.json()["error"]
    assert isinstance(err, str) and "\n" not in err and len(err) < 500
    assert httpx.get(f"{served.url}/api/v1/health").json()["seq"] == before
    assert_serving(served)


def test_events_already_in_the_file_that_cannot_be_folded_or_encoded_do_not_stop_the_server(
    thread_server: Callable[..., ThreadServer], tmp_path: Path
) -> None:
    path = tmp_path / "old-writer.jsonl"
    with JsonStore(path) as st:
        st.append([Event.from_dict(D.to_dict())])
    # What an older or broken writer left, appended past every door.
    lines = [
        {**shape, "seq": i}
        for i, shape in enumerate(
            [
                poison_shapes()["followup owner is an object"],
                poison_shapes()["note tags is a number"],
                note(deep=deep(300)),
            ],
            start=2,
        )
    ]
    with open(path, "ab") as f:
        for line in lines:
            f.write(dumps(line) + b"\n")
    s = thread_server(JsonStore(path))
    assert httpx.get(f"{s.url}/api/v1/health").json()["seq"] == 4
    # Every seq is streamed (gap-free), whatever its data.
    got = httpx.get(f"{s.url}/api/v1/events").json()["events"]
    assert [e["seq"] for e in got] == [1, 2, 3, 4]
    assert_serving(s)


@pytest.mark.parametrize("value", ["9" * 5000, "١٢", "12" * 10, "-1", "1e3"])
def test_unusable_last_event_id_answers_400_in_one_line(served: ThreadServer, value: str) -> None:
    r = httpx.get(f"{served.url}/api/v1/stream", headers={"Last-Event-ID": value.encode("utf-8")})
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert "Last-Event-ID" in err and len(err) < 200


@pytest.mark.parametrize("param", ["since", "limit", "wait"])
def test_5000_digit_query_parameters_answer_400_in_one_line(served: ThreadServer, param: str) -> None:
    r = httpx.get(f"{served.url}/api/v1/events", params={param: "9" * 5000})
    assert r.status_code == 400
    assert len(r.json()["error"]) < 200


async def _burst(url: str, bodies: list[bytes]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(bodies), max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=60, limits=limits) as c:
        return await asyncio.gather(*(c.post(f"{url}/api/v1/events", content=b, headers=JSON) for b in bodies))


def test_one_refused_event_in_a_burst_fails_only_its_own_request(served: ThreadServer) -> None:
    goods = [note(f"good {i}") for i in range(199)]
    bad = note("bad", deep=deep(300))  # passes a type-only check; the store cannot encode it
    bodies = [orjson.dumps({"events": [g]}) for g in goods]
    bodies.insert(100, dumps({"events": [bad]}))
    answers = asyncio.run(_burst(served.url, bodies))
    bad_answer = answers.pop(100)
    assert 400 <= bad_answer.status_code < 500 and bad_answer.status_code not in (401, 403, 408, 429)
    assert bad_answer.json()["index"] == 0 and bad_answer.json()["id"] == bad["id"]
    assert [r.status_code for r in answers] == [200] * 199
    stored = {e.id for e in served.store.read()}
    assert {g["id"] for g in goods} <= stored and bad["id"] not in stored


class RefusingStore(JsonStore):
    """A real JSON store that refuses one event id, as a store with a stricter check (or a
    bug) would: the server must keep that refusal to the request that carried it."""

    def __init__(self, path: Path, refused: str) -> None:
        super().__init__(path)
        self.refused = refused
        self.joint_batches = 0

    def append(self, events: Sequence[Event]) -> list[Event]:
        if len({e.id for e in events}) > 1:
            self.joint_batches += 1
        if any(e.id == self.refused for e in events):
            raise StoreError(f"refused event {self.refused}: not today")
        return super().append(events)


def test_a_store_refusal_inside_a_group_commit_fails_only_its_request(
    thread_server: Callable[..., ThreadServer], tmp_path: Path
) -> None:
    goods = [note(f"good {i}") for i in range(150)]
    bad = note("refused by the store")
    store = RefusingStore(tmp_path / "refusing.jsonl", bad["id"])
    s = thread_server(store)
    assert post(s, [D.to_dict()]).status_code == 200
    bodies = [orjson.dumps({"events": [g]}) for g in goods]
    bodies.insert(75, orjson.dumps({"events": [bad]}))
    answers = asyncio.run(_burst(s.url, bodies))
    assert answers.pop(75).status_code == 503
    assert [r.status_code for r in answers] == [200] * 150
    assert {g["id"] for g in goods} <= {e.id for e in store.read()}
    assert os.path.getsize(store.location) > 0


def test_a_server_names_each_event_it_cannot_fold_at_start_and_live(tmp_path: Path, proc_server) -> None:
    """The README promises one warning naming the seq; a server started from the store's
    fold used to skip such events silently."""
    path = tmp_path / "named.jsonl"
    with JsonStore(path) as s:
        s.append([D])
    with open(path, "ab") as f:
        f.write(orjson.dumps({**note("odd"), "seq": 2, "kind": "bogus.kind"}) + b"\n")
    server = proc_server(path)
    wait_until(lambda: any("seq 2" in ln and "cannot fold" in ln for ln in server.log), 10, "the start warning")
    with open(path, "ab") as f:
        f.write(orjson.dumps({**note("odder"), "seq": 3, "kind": "bogus.kind"}) + b"\n")
    wait_until(lambda: any("seq 3" in ln and "cannot fold" in ln for ln in server.log), 10, "the live warning")
