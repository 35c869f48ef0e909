"""No web page can write to the war room or read it (issue 9, item 2).

Each request here is what a browser would send for a hostile page: a `text/plain` POST
(a "simple" request, no CORS preflight) from a foreign Origin, and a request whose Host
is the attacker's DNS name re-pointed at 127.0.0.1 (DNS rebinding). They go to a real
server on loopback as raw HTTP, so nothing in a client library tidies them up."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson
import pytest

from incident_tui.domain.commands import declare_event
from incident_tui.domain.events import new_event
from incident_tui.server.guard import HostPolicy
from incident_tui.store.jsonfile import JsonStore
from incident_tui.store.memory import MemoryStore

from .conftest import ThreadServer

D = declare_event("cross-site", "alice")


def raw_request(port: int, head: str, body: bytes = b"") -> tuple[int, bytes]:
    """One HTTP/1.1 request as bytes on a socket; (status, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head.replace("\n", "\r\n").encode("latin-1") + b"\r\n" + body)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
            head_end = data.find(b"\r\n\r\n")
            if head_end >= 0:
                headers = data[:head_end].decode("latin-1").lower()
                length = next(
                    (int(ln.split(":")[1]) for ln in headers.split("\r\n") if ln.startswith("content-length:")), None
                )
                if length is not None and len(data) >= head_end + 4 + length:
                    break
    status = int(data.split(b" ", 2)[1])
    return status, data[data.find(b"\r\n\r\n") + 4 :]


def note_body(text: str, author: str = "mallory") -> bytes:
    return orjson.dumps({"events": [new_event(D.incident, "note", author, {"text": text}).to_dict()]})


@pytest.fixture
def served(thread_server: Callable[..., ThreadServer], tmp_path: Path) -> ThreadServer:
    s = thread_server(JsonStore(tmp_path / "xs.jsonl"))
    assert httpx.post(f"{s.url}/api/v1/events", json={"events": [D.to_dict()]}).status_code == 200
    return s


def stored_texts(s: ThreadServer) -> list[str]:
    return [e.text for e in s.store.read() if e.kind == "note"]


def post_head(port: int, body: bytes, *, host: str | None = None, extra: str = "") -> str:
    return (
        f"POST /api/v1/events HTTP/1.1\nHost: {host or f'127.0.0.1:{port}'}\n{extra}"
        f"Content-Length: {len(body)}\nConnection: close\n"
    )


def test_text_plain_post_from_a_foreign_page_is_refused_and_writes_nothing(served: ThreadServer) -> None:
    body = note_body("forged by a web page")
    head = post_head(served.port, body, extra="Origin: http://evil.example\nContent-Type: text/plain;charset=UTF-8\n")
    status, answer = raw_request(served.port, head, body)
    assert status == 403
    assert "Origin" in orjson.loads(answer)["error"]
    assert stored_texts(served) == []


def test_text_plain_post_without_origin_is_refused_415(served: ThreadServer) -> None:
    # An old browser (or a form) that sends no Origin still cannot make a JSON content type.
    body = note_body("form post")
    status, answer = raw_request(served.port, post_head(served.port, body, extra="Content-Type: text/plain\n"), body)
    assert status == 415
    assert "application/json" in orjson.loads(answer)["error"]
    status, _ = raw_request(served.port, post_head(served.port, body), body)  # no Content-Type at all
    assert status == 415
    assert stored_texts(served) == []


def test_json_post_from_a_foreign_origin_is_refused(served: ThreadServer) -> None:
    # What a page could send after a preflight (which gets no CORS answer anyway).
    body = note_body("cross-origin fetch")
    for origin in ("http://evil.example", "null", f"http://localhost:{served.port + 1}", "http://127.0.0.1"):
        extra = f"Origin: {origin}\nContent-Type: application/json\n"
        status, _ = raw_request(served.port, post_head(served.port, body, extra=extra), body)
        assert status == 403, origin
    assert stored_texts(served) == []


def test_preflight_gets_no_cors_permission(served: ThreadServer) -> None:
    head = (
        f"OPTIONS /api/v1/events HTTP/1.1\nHost: 127.0.0.1:{served.port}\nOrigin: http://evil.example\n"
        "Access-Control-Request-Method: POST\nAccess-Control-Request-Headers: content-type\nConnection: close\n"
    )
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as s:
        s.sendall(head.replace("\n", "\r\n").encode() + b"\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert int(data.split(b" ", 2)[1]) == 403
    assert b"access-control-allow" not in data.lower()


def test_foreign_host_is_refused_for_reads_and_writes(served: ThreadServer) -> None:
    # DNS rebinding: evil.example now resolves to 127.0.0.1, so the page is "same origin".
    httpx.post(f"{served.url}/api/v1/events", json={"events": [orjson.loads(note_body("secret"))["events"][0]]})
    for path in ("/api/v1/incidents", "/api/v1/events", "/api/v1/health", "/api/v1/stream", "/api/v1/incidents/1"):
        head = f"GET {path} HTTP/1.1\nHost: evil.example:{served.port}\nConnection: close\n"
        status, answer = raw_request(served.port, head)
        assert status == 403, path
        assert b"secret" not in answer
        assert "Host" in orjson.loads(answer)["error"]
    body = note_body("rebound write")
    extra = f"Origin: http://evil.example:{served.port}\nContent-Type: application/json\n"
    status, _ = raw_request(
        served.port, post_head(served.port, body, host=f"evil.example:{served.port}", extra=extra), body
    )
    assert status == 403
    assert stored_texts(served) == ["secret"]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "LOCALHOST.", "127.0.0.2"])
def test_loopback_names_and_ip_literals_are_answered(served: ThreadServer, host: str) -> None:
    status, answer = raw_request(
        served.port, f"GET /api/v1/health HTTP/1.1\nHost: {host}:{served.port}\nConnection: close\n"
    )
    assert status == 200, answer
    assert orjson.loads(answer)["ok"] is True


def test_same_origin_page_and_plain_clients_are_answered(served: ThreadServer) -> None:
    body = note_body("from the server's own origin", author="alice")
    extra = f"Origin: http://127.0.0.1:{served.port}\nContent-Type: application/json; charset=utf-8\n"
    status, _ = raw_request(served.port, post_head(served.port, body, extra=extra), body)
    assert status == 200
    assert stored_texts(served) == ["from the server's own origin"]


def test_public_url_and_allowed_hosts_are_answered(thread_server: Callable[..., ThreadServer]) -> None:
    policy = HostPolicy(["warroom.internal"], public_url="https://warroom.example.com")
    s = thread_server(MemoryStore(), hosts=policy)
    ok = {"Host": "warroom.example.com", "Origin": "https://warroom.example.com"}
    assert httpx.post(f"{s.url}/api/v1/events", json={"events": [D.to_dict()]}, headers=ok).status_code == 200
    assert httpx.get(f"{s.url}/api/v1/health", headers={"Host": "warroom.internal:8765"}).status_code == 200
    assert httpx.get(f"{s.url}/api/v1/health", headers={"Host": "evil.example"}).status_code == 403
    foreign = {"Host": "warroom.example.com", "Origin": "https://evil.example"}
    assert httpx.post(f"{s.url}/api/v1/events", json={"events": []}, headers=foreign).status_code == 403


def test_hostile_header_values_come_back_as_one_short_escaped_line(served: ThreadServer) -> None:
    host = "evil\x9b31m" + "x" * 5000
    status, answer = raw_request(served.port, f"GET /api/v1/health HTTP/1.1\nHost: {host}\nConnection: close\n")
    assert status in (400, 403)
    if status == 403:
        err = orjson.loads(answer)["error"]
        assert "\x9b" not in err and "\n" not in err and len(err) < 300
