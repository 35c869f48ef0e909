"""`incident-tui serve` refuses settings it cannot run safely, in one line."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx

from .conftest import ProcServer


def test_non_loopback_host_without_token_is_refused(cli, tmp_path: Path) -> None:
    r = cli("--store", str(tmp_path / "s.jsonl"), "serve", "--host", "0.0.0.0", "--port", "0")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1
    assert "without a token" in r.stderr


def test_malformed_token_file_is_a_one_line_usage_error(cli, tmp_path: Path) -> None:
    tf = tmp_path / "tokens"
    tf.write_text("alice tok-alice-123\nbob\n")
    r = cli("--store", str(tmp_path / "s.jsonl"), "serve", "--port", "0", "--token-file", str(tf))
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1
    assert f"{tf}:2" in r.stderr


def test_missing_token_file_is_a_usage_error(cli, tmp_path: Path) -> None:
    r = cli("--store", str(tmp_path / "s.jsonl"), "serve", "--token-file", str(tmp_path / "nope"))
    assert r.returncode == 2
    assert "cannot read token file" in r.stderr


def test_busy_port_is_a_runtime_error(cli, tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = cli("--store", str(tmp_path / "s.jsonl"), "serve", "--port", str(port))
    assert r.returncode == 1
    assert "cannot listen" in r.stderr


def test_serve_refuses_to_serve_a_remote(cli) -> None:
    r = cli("--remote", "http://127.0.0.1:9", "serve")
    assert r.returncode == 2
    assert "local store" in r.stderr


def test_token_file_server_accepts_each_person_and_names_them(proc_server, tmp_path: Path) -> None:
    tf = tmp_path / "tokens"
    tf.write_text("alice tok-alice-123\nbob tok-bob-4567\n")
    s: ProcServer = proc_server(token_file=tf)
    assert httpx.get(f"{s.url}/api/v1/health").status_code == 401
    ok = httpx.get(f"{s.url}/api/v1/health", headers={"Authorization": "Bearer tok-bob-4567"})
    assert ok.json() == {"ok": True, "seq": 0}


def test_keep_alive_answers_do_not_wait_for_a_delayed_ack(proc_server) -> None:
    # A listening socket made without proto=TCP gets no TCP_NODELAY from asyncio: ~40 ms a request.
    s: ProcServer = proc_server()
    with httpx.Client(base_url=s.url) as c:
        c.get("/api/v1/health")
        took = []
        for _ in range(9):
            t0 = time.perf_counter()
            c.post("/api/v1/events", json={"events": []})
            took.append(time.perf_counter() - t0)
    assert min(took) < 0.025  # with the bug every answer takes >= 40 ms; noise only adds


def test_interrupt_stops_the_server_promptly_with_streams_open(proc_server) -> None:
    s: ProcServer = proc_server()
    with httpx.Client(base_url=s.url, timeout=10) as c, c.stream("GET", "/api/v1/stream") as resp:
        assert resp.status_code == 200
        t0 = time.monotonic()
        s.stop()
        took = time.monotonic() - t0
    assert s.proc is not None and s.proc.returncode == 0
    assert took < 4
