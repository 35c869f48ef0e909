"""Credentials typed into --remote (`https://user:secret@host/`) are used for requests and
never reach file names, the screen, logs or messages (issue 9, item 13)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from incident_tui.domain.events import new_event
from incident_tui.store.base import StoreError
from incident_tui.store.remote import RemoteStore

from .conftest import ThreadServer, free_port

SECRET = "hunter2-secret"


def _with_credentials(url: str) -> str:
    return url.replace("http://", f"http://ops:{SECRET}@")


def test_credentials_stay_out_of_names_files_and_errors(
    server: ThreadServer, client: Callable[..., RemoteStore], tmp_path: Path
) -> None:
    store = client(_with_credentials(server.url))
    assert SECRET not in store.location
    stored = store.append([new_event("inc", "note", "alice", {"text": "through a URL with credentials"})])
    assert stored[0].seq == 1  # the request itself went through
    assert SECRET not in store.live_server
    names = [str(p) for p in tmp_path.rglob("*")]
    assert names and not [n for n in names if SECRET in n]
    for p in tmp_path.rglob("*"):
        if p.is_file():
            assert SECRET.encode() not in p.read_bytes(), p

    dead = client(_with_credentials(f"http://127.0.0.1:{free_port()}"), user="bob")
    with pytest.raises(StoreError) as info:
        dead.read()
    assert SECRET not in str(info.value)
    assert SECRET not in dead.last_error


def test_a_bad_remote_url_is_named_without_its_password(cli) -> None:
    r = cli("--remote", f"ftp://ops:{SECRET}@example.com/", "list")
    assert r.returncode == 1 and "ftp://example.com" in r.stderr and SECRET not in r.stderr


@pytest.mark.parametrize(
    "password",
    ["S3C@hunter2RET", "S3C hunter2RET", "S3C,hunter2RET", "S3C#hunter2RET", "S3C/hunter2RET", "S3C\thunter2RET"],
)
def test_odd_characters_in_a_password_leak_nothing_and_are_one_line(cli, tmp_path: Path, password: str) -> None:
    """What the red team got past the first redaction: an unencoded "@", a space, a comma, or
    a "#" or "/" (which make the URL invalid: that was a traceback naming part of it)."""
    r = cli("--remote", f"http://ops:{password}@127.0.0.1:{free_port()}", "list")
    assert r.returncode in (1, 2) and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "hunter2" not in r.stderr
    for p in tmp_path.rglob("*"):
        assert "hunter2" not in p.name.lower(), p
