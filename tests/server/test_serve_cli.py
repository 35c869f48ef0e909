"""`incident-tui serve` refuses settings it cannot run safely, in one line."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from incident_tui.cli import main
from incident_tui.domain.commands import declare_event
from incident_tui.store.jsonfile import JsonStore

from .conftest import ProcServer


def test_non_loopback_host_without_token_is_refused(cli, tmp_path: Path) -> None:
    r = cli("--store", str(tmp_path / "s.jsonl"), "serve", "--host", "0.0.0.0", "--port", "0")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1
    assert "without a token" in r.stderr


def test_malformed_token_file_is_a_one_line_usage_error(cli, tmp_path: Path) -> None:
    tf = tmp_path / "tokens"
    tf.write_text("alice tok-alice-0123456789\nbob\n")
    tf.chmod(0o600)
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
    tf.write_text("alice tok-alice-0123456789\nbob tok-bob-0123456789ab\n")
    tf.chmod(0o600)
    s: ProcServer = proc_server(token_file=tf)
    assert httpx.get(f"{s.url}/api/v1/health").status_code == 401
    ok = httpx.get(f"{s.url}/api/v1/health", headers={"Authorization": "Bearer tok-bob-0123456789ab"})
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


# -- token hygiene (issue 9, item 13): refused before anything listens, in one line, exit 2 --


def serve_err(capsys: pytest.CaptureFixture[str], tmp_path: Path, *args: str, token: str = "") -> tuple[int, str]:
    """`serve` in-process: these refusals come before it opens the store, which here cannot
    be opened (its folder is a file), so a check that wrongly passes ends with 1, not a server."""
    (tmp_path / "not-a-dir").write_text("")
    pre = [f"--token={token}"] if token else []
    rc = main(["--store", str(tmp_path / "not-a-dir" / "s.jsonl"), *pre, "serve", "--port", "0", *args])
    return rc, capsys.readouterr().err


@pytest.mark.parametrize("host", ["0.0.0.0", "127.0.0.1"])
def test_short_token_is_refused_on_any_host(capsys, tmp_path: Path, host: str) -> None:
    rc, err = serve_err(capsys, tmp_path, "--host", host, token="short-tok")
    assert rc == 2
    assert err.count("\n") == 1 and "at least 16" in err
    assert "short-tok" not in err  # a token is never echoed


def test_short_token_in_a_token_file_is_refused(capsys, tmp_path: Path) -> None:
    tf = tmp_path / "tokens"
    tf.write_text("alice 12345678\n")
    tf.chmod(0o600)
    rc, err = serve_err(capsys, tmp_path, "--token-file", str(tf))
    assert rc == 2 and f"{tf}:1" in err and "at least 16" in err and "12345678" not in err


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620])
def test_token_file_open_to_group_or_others_is_refused(capsys, tmp_path: Path, mode: int) -> None:
    tf = tmp_path / "tokens"
    tf.write_text("alice tok-alice-0123456789\n")
    tf.chmod(mode)
    rc, err = serve_err(capsys, tmp_path, "--token-file", str(tf))
    assert rc == 2
    assert err.count("\n") == 1 and "chmod 600" in err and f"{mode:04o}" in err


def test_token_file_that_is_a_fifo_is_refused_without_hanging(capsys, tmp_path: Path) -> None:
    fifo = tmp_path / "tokens"
    os.mkfifo(fifo, 0o600)
    rc, err = serve_err(capsys, tmp_path, "--token-file", str(fifo))
    assert rc == 2 and "not a regular file" in err


def test_token_and_token_file_together_are_a_usage_error(capsys, tmp_path: Path) -> None:
    tf = tmp_path / "tokens"
    tf.write_text("alice tok-alice-0123456789\n")
    tf.chmod(0o600)
    rc, err = serve_err(capsys, tmp_path, "--token-file", str(tf), token="tok-shared-0123456789")
    assert rc == 2
    assert err.count("\n") == 1 and "--token and --token-file" in err


@pytest.mark.parametrize(
    "opts", [["--public-url", "ftp://x"], ["--public-url", "warroom.example.com"], ["--allowed-host", "a b:c:d"]]
)
def test_unusable_public_url_or_allowed_host_is_a_usage_error(capsys, tmp_path: Path, opts: list[str]) -> None:
    rc, err = serve_err(capsys, tmp_path, *opts)
    assert rc == 2 and err.count("\n") == 1


def test_serve_honours_the_runbooks_flag(tmp_path: Path) -> None:
    """`incident-tui --runbooks DIR serve` serves the team's checklists, not the defaults."""
    books = tmp_path / "books"
    books.mkdir()
    book = 'phase = "detected"\nitems = [{ id = "page-db", text = "Page the DB team" }]\n'
    (books / "detected.toml").write_text(book)
    store_path = tmp_path / "s.jsonl"
    with JsonStore(store_path) as store:
        store.append([declare_event("Checkout down", "alice")])
    args = [sys.executable, "-m", "incident_tui", "--runbooks", str(books), "--store", str(store_path)]
    proc = subprocess.Popen([*args, "serve", "--port", "0"], stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline() if proc.stderr else ""
        url = re.search(r"http://\S+/api/v1", line)
        assert url, line
        doc = httpx.get(f"{url.group(0)}/incidents/1", timeout=10).json()
        assert [item["text"] for item in doc["checklist"]] == ["Page the DB team"]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(10)
