"""File-system failures are one line on stderr with exit 1, naming the path and what to do;
a store is only ever a regular file. Real files, real permissions, real processes (when
the suite runs as root, the child drops the capabilities that let root ignore file modes)."""

from __future__ import annotations

import ctypes
import os
import resource
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import incident_tui
from incident_tui.domain.commands import declare_event
from incident_tui.domain.events import new_event
from incident_tui.store.base import StoreError
from incident_tui.store.jsonfile import HEADER_LINE, JsonStore

from .test_json_store import note

AS_ROOT = os.geteuid() == 0
_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2


def _obey_file_modes() -> None:
    """In the child before exec: root without these capabilities is held to the mode bits."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


@pytest.fixture
def shared() -> Iterator[Path]:
    """A folder any user can reach (pytest's own tmp folders are private to root)."""
    d = Path(tempfile.mkdtemp(prefix="incident-tui-fs-"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def run_cli(*args: str, store: Path, preexec=None, unprivileged: bool = True) -> subprocess.CompletedProcess[str]:
    """`incident-tui` in a child process, held to file modes even when we are root."""
    env = {
        "PATH": "/usr/bin:/bin",
        "INCIDENT_TUI_STORE": str(store),
        "INCIDENT_TUI_USER": "alice",
        "HOME": str(store.parent),
        "XDG_DATA_HOME": str(store.parent / "xdg"),
        "XDG_CONFIG_HOME": str(store.parent / "xdg-config"),
        "PYTHONPATH": str(Path(incident_tui.__file__).resolve().parents[1]),  # the code under test
    }

    def setup() -> None:
        if preexec is not None:
            preexec()
        if unprivileged and AS_ROOT:
            _obey_file_modes()

    return subprocess.run(
        [sys.executable, "-m", "incident_tui", *args],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=setup,
        timeout=60,
    )


def assert_one_line(run: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert run.returncode == code, (run.returncode, run.stderr)
    assert "Traceback" not in run.stderr
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, run.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])


def readonly_for_them(path: Path) -> None:
    path.chmod(0o444)


def seeded(folder: Path) -> Path:
    store = folder / "war.jsonl"
    declared = declare_event("db down", "alice")
    JsonStore(store).append([declared, new_event(declared.incident, "note", "alice", {"text": "hello"})])
    for p in folder.iterdir():
        p.chmod(0o644)
    return store


def test_a_read_only_store_reads_and_refuses_writes_in_one_line(shared: Path) -> None:
    store = seeded(shared)
    readonly_for_them(store)
    before = store.read_bytes()
    events = run_cli("events", store=store)
    assert events.returncode == 0 and "hello" in events.stdout, events.stderr
    run = run_cli("declare", "db down", store=store)
    assert_one_line(run, 1, str(store), "read-only", "nothing was written")
    assert store.read_bytes() == before


def test_an_unreadable_store_is_one_line(shared: Path) -> None:
    store = seeded(shared)
    store.chmod(0o000)
    run = run_cli("list", store=store)
    assert_one_line(run, 1, str(store), "ermission denied", "ask its owner")


def test_a_store_in_an_unwritable_folder_is_one_line(shared: Path) -> None:
    folder = shared / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    run = run_cli("list", store=folder / "war.jsonl")
    assert_one_line(run, 1, str(folder / "war.jsonl"), "not writable for you", "--store")
    assert list(folder.iterdir()) == []


def test_a_directory_as_the_store_is_one_line(shared: Path) -> None:
    run = run_cli("list", store=shared, unprivileged=False)
    assert_one_line(run, 1, str(shared), "is a directory", "incidents.jsonl")


@pytest.mark.parametrize("kind", ["fifo", "device", "socket"])
def test_a_special_file_is_never_made_a_store(shared: Path, kind: str) -> None:
    path = shared / "special"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path = Path("/dev/null")
    else:
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(path))
    run = run_cli("declare", "x", store=path, unprivileged=False)
    assert_one_line(run, 1, str(path), "not a regular file")
    mode = path.stat().st_mode
    assert not stat.S_ISREG(mode)  # left as it was, never replaced by a file
    if kind == "device":
        assert stat.S_ISCHR(mode)


def test_a_symlink_to_an_empty_shared_file_is_followed_not_replaced(shared: Path) -> None:
    target = shared / "real" / "war.jsonl"
    target.parent.mkdir()
    target.touch()
    link = shared / "war.jsonl"
    link.symlink_to(target)
    run = run_cli("declare", "db down", store=link, unprivileged=False)
    assert run.returncode == 0, run.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes().startswith(HEADER_LINE) and b"db down" in target.read_bytes()


def test_new_files_in_a_group_writable_folder_are_group_writable(shared: Path) -> None:
    folder = shared / "warroom"
    folder.mkdir()
    folder.chmod(0o2775)  # the README's setgid jump-host folder
    old = os.umask(0o022)
    try:
        JsonStore(folder / "war.jsonl").append([note("x")])
    finally:
        os.umask(old)
    for name in ("war.jsonl", "war.jsonl.lock"):
        assert (folder / name).stat().st_mode & 0o060 == 0o060, name
    private = shared / "private"
    private.mkdir(mode=0o755)
    old = os.umask(0o022)
    try:
        JsonStore(private / "war.jsonl")
    finally:
        os.umask(old)
    assert (private / "war.jsonl").stat().st_mode & 0o020 == 0  # not widened elsewhere


def test_a_full_disk_is_one_line_and_writes_nothing(shared: Path) -> None:
    store = seeded(shared)
    store.chmod(0o666)
    size = store.stat().st_size
    limit = size + 100  # room for less than one more event

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    run = run_cli("log", "1", "x" * 500, store=store, preexec=small_files)
    assert_one_line(run, 1, str(store), "too large", "nothing was written")
    assert store.stat().st_size == size  # cut back to where the append began
    assert [e.data.get("text") for e in JsonStore(store).read()] == [None, "hello"]


def test_a_torn_tail_on_read_only_storage_still_reads(shared: Path) -> None:
    store = seeded(shared)
    with open(store, "ab") as f:
        f.write(b'{"seq":2,"id":"half')
    readonly_for_them(store)
    run = run_cli("events", store=store)
    assert run.returncode == 0 and "hello" in run.stdout
    assert "Traceback" not in run.stderr and "unfinished last write" in run.stderr
    assert run.stderr.count("\n") == 1


def test_a_failed_write_in_process_raises_store_error_and_is_cut_back(tmp_path: Path) -> None:
    store = JsonStore(tmp_path / "war.jsonl")
    store.append([note("a")])
    size = (tmp_path / "war.jsonl").stat().st_size
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + 50, hard))
    try:
        with pytest.raises(StoreError, match="nothing was written"):
            store.append([note("b" * 200), note("c")])
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert (tmp_path / "war.jsonl").stat().st_size == size
    assert [e.seq for e in store.append([note("d")])] == [2]
