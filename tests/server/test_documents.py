"""Documents over the API: a big incident's are rendered by a child process that reads the
store file itself, and say exactly what the server's own thread would have said."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from incident_tui.domain.commands import declare_event
from incident_tui.domain.events import new_event
from incident_tui.store.jsonfile import JsonStore

from .conftest import ThreadServer
from .test_api import post

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DOCS = [
    ("postmortem", {}),
    ("postmortem", {"format": "json"}),
    ("snapshot", {}),
    ("snapshot", {"format": "json"}),
    ("snapshot", {"at_seq": "40"}),
]


@pytest.fixture
def big(thread_server: Callable[..., ThreadServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ThreadServer:
    """A server over a store file holding two incidents (interleaved, with runs of one)."""
    import incident_tui.server.app as app_module

    monkeypatch.setattr(app_module, "now_utc", lambda: NOW)  # passed to the child with the job
    s = thread_server(JsonStore(tmp_path / "server.jsonl", index_min_bytes=0))
    a, b = declare_event("db down", "alice", "SEV2"), declare_event("cdn slow", "bob", "SEV3")
    post(s.url, [a, b])
    for i in range(60):
        inc = b if i % 5 == 0 else a
        kind = ("note", "decision", "action", "obs", "update")[i % 5]
        post(s.url, [new_event(inc.incident, kind, "carol", {"text": f"{kind} {i} #db @bob_x", "tags": ["db"]})])
    return s


def test_a_big_incidents_documents_come_from_a_child_process_and_read_the_same(big: ThreadServer) -> None:
    docs = big.app.state.documents
    assert docs.path is not None
    wanted = [(ref, doc, params) for ref in ("INC-1", "INC-2") for doc, params in DOCS]

    def fetch(ref: str, doc: str, params: dict[str, str]) -> bytes:
        r = httpx.get(f"{big.url}/api/v1/incidents/{ref}/{doc}", params=params, timeout=60)
        assert r.status_code == 200, r.text
        return r.content

    threaded = [fetch(*w) for w in wanted]
    docs.process_rows = 0  # every document from a child process now
    assert [fetch(*w) for w in wanted] == threaded
    assert not docs._pools  # each child is gone with its document


def test_health_answers_while_a_child_renders(big: ThreadServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """While a child process renders, the server answers /health and acknowledges events."""
    import incident_tui.server.documents as documents

    started = threading.Event()
    real = documents.Renderer.render

    async def watched(self, *args, **kw):  # type: ignore[no-untyped-def]
        started.set()
        return await real(self, *args, **kw)

    monkeypatch.setattr(documents.Renderer, "render", watched)
    big.app.state.documents.process_rows = 0
    got: list[httpx.Response] = []
    t = threading.Thread(target=lambda: got.append(httpx.get(f"{big.url}/api/v1/incidents/1/postmortem", timeout=60)))
    t.start()
    try:
        assert started.wait(30)
        assert httpx.get(f"{big.url}/api/v1/health", timeout=5).json()["ok"]
        inc = big.store.read()[0].incident
        ack = post(big.url, [new_event(inc, "note", "bob", {"text": "while the child renders"})])
        assert ack.status_code == 200
    finally:
        t.join(60)
    assert got and got[0].status_code == 200 and got[0].text.startswith("# Postmortem: INC-1")


def test_big_documents_render_two_at_a_time(big: ThreadServer) -> None:
    """Four concurrent requests for big documents (two children render at a time) are all answered."""
    big.app.state.documents.process_rows = 0
    got: list[int] = []
    threads = [
        threading.Thread(
            target=lambda: got.append(httpx.get(f"{big.url}/api/v1/incidents/1/snapshot", timeout=120).status_code)
        )
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert got == [200] * 4
    assert not big.app.state.documents._pools
