"""Slow or silent clients cannot hold the server (issue 9, item 9).

Real sockets against a real uvicorn on loopback: silent connections, a head sent one
byte at a time (slowloris), more connections than the cap, and an event stream whose
client stops reading while the log grows by megabytes."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, suppress
from pathlib import Path

import httpx
import orjson
import pytest

from incident_tui.domain.commands import declare_event
from incident_tui.domain.events import new_event
from incident_tui.server.conn import STREAM_CHUNK
from incident_tui.store.jsonfile import JsonStore

from .conftest import ThreadServer, wait_until

D = declare_event("limits", "alice")


def connect(port: int, rcvbuf: int | None = None) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)  # before connect: sets the window
    s.connect(("127.0.0.1", port))
    return s


def read_until_closed(s: socket.socket, timeout: float) -> bytes:
    """Everything the server sends until it closes (or resets) the connection."""
    s.settimeout(timeout)
    data = b""
    with suppress(ConnectionResetError):
        while chunk := s.recv(1 << 20):
            data += chunk
    return data


@pytest.fixture
def sockets() -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


def healthy(s: ThreadServer) -> bool:
    return httpx.get(f"{s.url}/api/v1/health", timeout=5).status_code == 200


def test_silent_and_slowloris_connections_are_closed_after_the_header_timeout(
    thread_server: Callable[..., ThreadServer], sockets: ExitStack
) -> None:
    s = thread_server(header_timeout=1.0)
    silent = [sockets.enter_context(connect(s.port)) for _ in range(20)]
    slow = [sockets.enter_context(connect(s.port)) for _ in range(5)]
    head = f"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1:{s.port}\r\nX-Pad: {'a' * 200}\r\n\r\n".encode()
    stop = threading.Event()

    def drip() -> None:  # one byte per socket every 50 ms: the head would take 12 s
        for b in head:
            for sock in slow:
                with suppress(OSError):
                    sock.send(bytes([b]))
            if stop.wait(0.05):
                return

    t = threading.Thread(target=drip, daemon=True)
    t.start()
    try:
        for sock in silent + slow:
            answer = read_until_closed(sock, timeout=10)
            assert answer.startswith(b"HTTP/1.1 408"), answer[:80]
    finally:
        stop.set()
        t.join(5)
    assert s.limits.header_timeouts >= 25
    s.protocol.head_timeout = 60  # a loaded machine may stall this test's own client between connect and send
    assert healthy(s)


def test_a_kept_alive_connection_gets_the_same_head_deadline_for_its_next_request(
    thread_server: Callable[..., ThreadServer], sockets: ExitStack
) -> None:
    s = thread_server(header_timeout=1.0)
    sock = sockets.enter_context(connect(s.port))
    sock.sendall(f"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1:{s.port}\r\n\r\n".encode())
    sock.settimeout(10)
    assert sock.recv(4096).startswith(b"HTTP/1.1 200")
    sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHo")  # and then nothing more
    assert read_until_closed(sock, timeout=10).startswith(b"HTTP/1.1 408")


def test_connections_past_the_cap_are_refused_503_and_the_server_keeps_serving(
    thread_server: Callable[..., ThreadServer], sockets: ExitStack
) -> None:
    s = thread_server(max_connections=30, header_timeout=60)
    held = [sockets.enter_context(connect(s.port)) for _ in range(30)]
    wait_until(lambda: len(s.server.server_state.connections) == 30, 10, "30 connections held")
    extra = [sockets.enter_context(connect(s.port)) for _ in range(30)]
    for sock in extra:
        answer = read_until_closed(sock, timeout=10)
        assert answer.startswith(b"HTTP/1.1 503"), answer[:80]
        assert b"too many connections" in answer
    assert s.limits.refused_busy == 30
    for sock in held[:5]:
        sock.close()
    wait_until(lambda: len(s.server.server_state.connections) <= 25, 10, "the closed ones to be let go")
    assert healthy(s)


def test_a_stream_that_stops_reading_is_closed_at_its_buffer_cap_and_resumes_from_last_event_id(
    thread_server: Callable[..., ThreadServer], tmp_path: Path, sockets: ExitStack
) -> None:
    s = thread_server(JsonStore(tmp_path / "stall.jsonl"), stall_timeout=0.5)
    post = httpx.Client(base_url=s.url, timeout=30)
    assert post.post("/api/v1/events", json={"events": [D.to_dict()]}).status_code == 200
    sock = sockets.enter_context(connect(s.port, rcvbuf=4096))
    sock.sendall(f"GET /api/v1/stream?since=0 HTTP/1.1\r\nHost: 127.0.0.1:{s.port}\r\n\r\n".encode())
    text = "x" * 30_000
    posted = 0
    deadline = time.monotonic() + 60
    # Grow the log until the server gives up on the reader that never reads (the kernel's
    # socket buffers take the first few MB on loopback).
    while s.limits.stalled_closed == 0:
        assert time.monotonic() < deadline, f"the stalled stream was never closed ({posted} events posted)"
        batch = [new_event(D.incident, "note", "alice", {"text": text}).to_dict() for _ in range(20)]
        assert post.post("/api/v1/events", json={"events": batch}).status_code == 200
        posted += 20
        time.sleep(0.02)
    assert s.limits.stalled_buffer_max <= 64 * 1024 + STREAM_CHUNK + 40_000
    s.protocol.stall_limit = 60  # the resume below reads megabytes: a loaded machine may pause it
    # The client finds the stream ended, then resumes where it stopped.
    got = read_until_closed(sock, timeout=10)
    ids = [int(line[4:]) for line in got.split(b"\n") if line.startswith(b"id: ")]
    last = ids[-1] if ids else 0
    latest = s.app.state.hub.seq
    assert last < latest
    resumed: list[int] = []
    with post.stream("GET", "/api/v1/stream", headers={"Last-Event-ID": str(last)}) as resp:
        for line in resp.iter_lines():
            if line.startswith("id: "):
                resumed.append(int(line[4:]))
                if resumed[-1] == latest:
                    break
    assert resumed == list(range(last + 1, latest + 1))
    assert orjson.loads(post.get("/api/v1/health").content)["seq"] == latest
    post.close()


def test_a_head_over_the_cap_is_refused_431_and_a_large_body_is_not(
    thread_server: Callable[..., ThreadServer], sockets: ExitStack, tmp_path: Path
) -> None:
    s = thread_server(JsonStore(tmp_path / "head.jsonl"))
    sock = sockets.enter_context(connect(s.port))
    with suppress(OSError):  # the server may close while we still send
        sock.sendall(f"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1:{s.port}\r\nX-Big: ".encode() + b"a" * 300_000)
    assert read_until_closed(sock, timeout=10).startswith(b"HTTP/1.1 431")
    # A body near the 1 MiB limit, sent in one go with its head, is a body, not a head.
    events = [new_event(D.incident, "note", "alice", {"text": "b" * 60_000}).to_dict() for _ in range(15)]
    body = orjson.dumps({"events": [D.to_dict(), *events]})
    big = sockets.enter_context(connect(s.port))
    big.sendall(
        f"POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1:{s.port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    assert read_until_closed(big, timeout=30).startswith(b"HTTP/1.1 200")


def test_a_body_trickled_too_slowly_is_refused_408_and_writes_nothing(
    thread_server: Callable[..., ThreadServer], sockets: ExitStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("incident_tui.server.responses.BODY_TIMEOUT", 0.5)
    s = thread_server(JsonStore(tmp_path / "trickle.jsonl"))
    body = orjson.dumps({"events": [D.to_dict()]})
    sock = sockets.enter_context(connect(s.port))
    sock.sendall(
        f"POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1:{s.port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body[:10]
    )
    answer = read_until_closed(sock, timeout=10)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:80]
    assert s.store.latest_seq() == 0
