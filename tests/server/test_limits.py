"""Every refused request: the right status, a one-line JSON error, and the store unchanged."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import orjson
import pytest

from incident_tui.domain.commands import declare_event
from incident_tui.domain.events import MAX_TEXT, new_event
from incident_tui.store.jsonfile import JsonStore

from .conftest import ThreadServer

D = declare_event("limits", "alice")


def ev(**over: object) -> dict:
    return {**new_event(D.incident, "note", "alice", {"text": "ok"}).to_dict(), **over}


def batch(*events: dict) -> bytes:
    return orjson.dumps({"events": list(events)})


CASES: dict[str, tuple[int, Callable[[], bytes]]] = {
    "body over 1 MiB": (413, lambda: batch(*[ev(data={"text": "x" * 60_000}) for _ in range(20)])),
    "more than 1000 events": (413, lambda: batch(*[ev() for _ in range(1001)])),
    "one text over 64 KiB": (413, lambda: batch(ev(), ev(data={"text": "x" * (MAX_TEXT + 1)}))),
    "malformed JSON": (400, lambda: b'{"events": [}'),
    "not UTF-8": (400, lambda: b'{"events": ["\xff"]}'),
    "not an object": (422, lambda: b"[1, 2]"),
    "events not a list": (422, lambda: b'{"events": {}}'),
    "unknown kind": (422, lambda: batch(ev(), ev(kind="explode"))),
    "missing field": (422, lambda: batch(ev(), {k: v for k, v in ev().items() if k != "author"})),
    "bad severity": (422, lambda: batch(ev(kind="severity.set", data={"severity": "SEV9"}))),
    "bad time": (422, lambda: batch(ev(at="yesterday"))),
    "client-chosen seq": (422, lambda: batch(ev(seq=7))),
    "event not an object": (422, lambda: batch(ev(), "note")),  # type: ignore[arg-type]
}


@pytest.fixture
def loaded(thread_server: Callable[..., ThreadServer], tmp_path: Path) -> ThreadServer:
    s = thread_server(JsonStore(tmp_path / "limits.jsonl"))
    r = httpx.post(
        f"{s.url}/api/v1/events", content=batch(D.to_dict(), ev()), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 200
    return s


def snapshot(s: ThreadServer) -> tuple[int, bytes]:
    return s.store.latest_seq(), Path(s.store.location).read_bytes()


@pytest.mark.parametrize("name", list(CASES))
def test_refused_post_answers_json_error_and_writes_nothing(loaded: ThreadServer, name: str) -> None:
    status, body = CASES[name]
    before = snapshot(loaded)
    r = httpx.post(f"{loaded.url}/api/v1/events", content=body(), headers={"Content-Type": "application/json"})
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert isinstance(err, str) and err and "\n" not in err
    assert snapshot(loaded) == before


def test_chunked_body_over_the_limit_is_refused_while_it_streams(loaded: ThreadServer) -> None:
    before = snapshot(loaded)

    def chunks():
        yield b'{"events": [' + orjson.dumps(ev())
        for _ in range(40):
            yield b"," + orjson.dumps(ev(data={"text": "y" * 30_000}))
        yield b"]}"

    r = httpx.post(f"{loaded.url}/api/v1/events", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert "error" in r.json()
    assert snapshot(loaded) == before


@pytest.mark.parametrize(
    "query", ["since=-1", "since=abc", "limit=0", "limit=1001", "wait=61", "wait=nan", "wait=soon"]
)
def test_bad_query_parameters_answer_400(loaded: ThreadServer, query: str) -> None:
    r = httpx.get(f"{loaded.url}/api/v1/events?{query}")
    assert r.status_code == 400
    assert "error" in r.json()


def test_bad_last_event_id_answers_400(loaded: ThreadServer) -> None:
    r = httpx.get(f"{loaded.url}/api/v1/stream", headers={"Last-Event-ID": "x"})
    assert r.status_code == 400
    assert "error" in r.json()


def test_wrong_method_answers_405_json(loaded: ThreadServer) -> None:
    r = httpx.delete(f"{loaded.url}/api/v1/events")
    assert r.status_code == 405
    assert "error" in r.json()
