"""The store file under bad luck (issue 9, items 3, 6, 11 and 13): a deleted lock file or a
replaced store under running writers, a command whose events are half-written, a full
disk, read-only and unreadable files, and a shared folder's group bits. Real files and
real processes throughout; the CLI runs as the real program for the permission cases."""

from __future__ import annotations

import fcntl
import os
import resource
import shutil
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from incident_tui.domain.events import new_event
from incident_tui.store.base import StoreError
from incident_tui.store.jsonfile import JsonStore

from .test_json_store import _read_acks, assert_whole, start_writer


def note(text: str) -> object:
    return new_event("inc", "note", "alice", {"text": text})


def _wait_ready(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"


def test_deleting_the_lock_file_between_writers_splits_nothing(store_path: Path) -> None:
    """Writers used to lock a side file: writers started after it was deleted locked a new
    one while the older ones still held the old, and two events got one seq. Three
    generations of eight writers overlap here, the lock file deleted before each."""
    JsonStore(store_path).close()
    lock = Path(f"{store_path}.lock")
    procs: list[subprocess.Popen[str]] = []
    results: list[dict[str, int]] = []
    readers: list[threading.Thread] = []
    for generation in range(3):
        lock.unlink(missing_ok=True)
        fresh = [start_writer(store_path, f"g{generation}w{i}", 150, 2) for i in range(8)]
        for p in fresh:
            _wait_ready(p)
            results.append({})
            readers.append(threading.Thread(target=_read_acks, args=(p, results[-1])))
            readers[-1].start()
        procs += fresh
        # The next generation starts while this one writes.
        while sum(map(len, results[-8:])) < 40 and any(p.poll() is None for p in fresh):
            threading.Event().wait(0.005)
    for p in procs:
        assert p.wait(120) == 0
    for t in readers:
        t.join()
    acknowledged = {k: v for r in results for k, v in r.items()}
    assert len(acknowledged) == 24 * 150
    assert {e.id: e.seq for e in assert_whole(store_path)} == acknowledged


def test_a_store_replaced_under_running_writers_is_followed_never_split(store_path: Path) -> None:
    """A tool replacing the store under its lock (a copy renamed over it): writers that
    were waiting follow the new file; nothing acknowledged is lost from it."""
    JsonStore(store_path).close()

    def replace_twice(procs, results) -> None:
        for _ in range(2):
            while sum(map(len, results)) < 30 and any(p.poll() is None for p in procs):
                threading.Event().wait(0.005)
            fd = os.open(store_path, os.O_RDONLY)
            fcntl.flock(fd, fcntl.LOCK_EX)
            copy = store_path.with_name("copy.jsonl")
            shutil.copyfile(store_path, copy)
            os.replace(copy, store_path)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            for r in results:
                r.clear()  # count the acknowledgements after this replacement

    acks: dict[str, int] = {}
    procs = [start_writer(store_path, f"r{i}", 200, 2) for i in range(4)]
    for p in procs:
        _wait_ready(p)
    # Two views of each writer's acks: since the last replacement, and all of them.
    results: list[dict[str, int]] = [{} for _ in procs]
    seen: list[dict[str, int]] = [{} for _ in procs]
    threads = []
    for p, r, s in zip(procs, results, seen, strict=True):
        t = threading.Thread(target=_tee_acks, args=(p, r, s))
        t.start()
        threads.append(t)
    replace_twice(procs, results)
    for p in procs:
        assert p.wait(120) == 0
    for t in threads:
        t.join()
    for s in seen:
        acks.update(s)
    events = {e.id: e.seq for e in assert_whole(store_path)}
    assert len(acks) == 800 and events == acks


def _tee_acks(proc: subprocess.Popen[str], recent: dict[str, int], every: dict[str, int]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("ack "):
            _, eid, seq = line.split()
            recent[eid] = every[eid] = int(seq)


def test_a_deleted_store_is_one_line_not_a_new_empty_log(store_path: Path) -> None:
    store = JsonStore(store_path)
    store.append([note("a")])
    store_path.unlink()
    with pytest.raises(StoreError, match="has disappeared") as info:
        store.append([note("b")])
    assert "\n" not in str(info.value)
    assert not store_path.exists()


# -- a command's events: all or none ------------------------------------------------


def _batch_bytes(path: Path, texts: list[str]) -> bytes:
    """The lines one append of `texts` writes, taken from a scratch store."""
    scratch = path.with_name("scratch.jsonl")
    with JsonStore(scratch) as s:
        s.append([note("pad")])  # the store under test holds one event: the batch starts at seq 2
    start = scratch.stat().st_size
    with JsonStore(scratch) as s:
        s.append([note(t) for t in texts])
    data = scratch.read_bytes()[start:]
    scratch.unlink()
    return data


def test_a_half_written_batch_is_not_written_and_is_repaired(store_path: Path) -> None:
    with JsonStore(store_path) as s:
        s.append([note("one")])
    reader = JsonStore(store_path)
    batch = _batch_bytes(store_path, ["role", "snapshot", "third"])
    lines = batch.split(b"\n")
    assert b'"more":1' in lines[0] and b'"more":1' in lines[1] and b'"more"' not in lines[2]
    # The writer died after two whole lines of its three (seq 2 and 3 of this store).
    with open(store_path, "ab") as f:
        f.write(lines[0] + b"\n" + lines[1] + b"\n")
    assert [e.data["text"] for e in reader.read()] == ["one"]  # never a command's half
    warnings: list[str] = []
    with JsonStore(store_path, warn=warnings.append) as repaired:
        assert [e.data["text"] for e in repaired.read()] == ["one"]
        assert len(warnings) == 1 and "never completed" in warnings[0] and ":3" in warnings[0]
        assert [e.seq for e in repaired.append([note("next"), note("after")])] == [2, 3]
    assert [e.data["text"] for e in reader.read()] == ["one", "next", "after"]
    assert list(store_path.parent.glob("*.torn-*"))


def test_a_stray_batch_mark_in_the_middle_hides_nothing(store_path: Path) -> None:
    """Only a run of `more` lines at the very end is unfinished: a mark left in the middle
    (a hand edit, another tool) costs no event after it, and no writer cuts them."""
    with JsonStore(store_path) as s:
        s.append([note(str(i)) for i in range(1, 4)])
        s.append([note("4")])
    lines = store_path.read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b'{"seq":3,', b'{"seq":3,"more":1,', 1)  # seq 3 closed its batch
    store_path.write_bytes(b"\n".join(lines))
    with JsonStore(store_path) as s:
        assert [e.data["text"] for e in s.read()] == ["1", "2", "3", "4"]
        assert s.append([note("5")])[0].seq == 5


def test_a_batch_is_seen_whole_or_not_at_all_while_it_is_written(store_path: Path) -> None:
    """A reader polling while a writer appends big batches only ever sees whole ones."""
    JsonStore(store_path).close()
    reader = JsonStore(store_path)
    proc = start_writer(store_path, "big", 40 * 25, batch=40)
    _wait_ready(proc)
    seen = 0
    while proc.poll() is None or seen < 1000:
        seen = len(reader.read())
        assert seen % 40 == 0, f"a reader saw {seen} events: a batch of 40 in part"
        if proc.poll() is not None and seen == reader.latest_seq() and seen < 1000:
            break
    assert proc.wait(60) == 0 and len(reader.read()) == 1000


def test_a_complete_last_line_missing_only_its_newline_is_kept(store_path: Path) -> None:
    with JsonStore(store_path) as s:
        s.append([note("one"), note("two")])
        s.append([note("three")])
    data = store_path.read_bytes()
    store_path.write_bytes(data[:-1])  # an editor dropped the final newline
    warnings: list[str] = []
    with JsonStore(store_path, warn=warnings.append) as s:
        assert [e.data["text"] for e in s.read()] == ["one", "two", "three"]
        assert s.append([note("four")])[0].seq == 4
    assert len(warnings) == 1 and "newline" in warnings[0]
    assert store_path.read_bytes().startswith(data)


def _limit_fsize(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_full_disk_cuts_the_failed_write_back(store_path: Path) -> None:
    """RLIMIT_FSIZE stands in for a full disk: part of a batch fits, the rest does not."""
    with JsonStore(store_path) as s:
        s.append([note("kept")])
    size = store_path.stat().st_size
    code = (
        "import sys\n"
        "from incident_tui.domain.events import new_event\n"
        "from incident_tui.store.jsonfile import JsonStore\n"
        "from incident_tui.store.base import StoreError\n"
        "s = JsonStore(sys.argv[1])\n"
        "try:\n"
        "    s.append([new_event('inc', 'note', 'a', {'text': 'x' * 900}) for _ in range(4)])\n"
        "except StoreError as exc:\n"
        "    print(exc)\n"
        "    sys.exit(1)\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, str(store_path)],
        capture_output=True,
        text=True,
        preexec_fn=_limit_fsize(size + 2500),
        timeout=60,
    )
    assert r.returncode == 1, r.stderr
    assert "cannot write store" in r.stdout and "File too large" in r.stdout
    assert store_path.stat().st_size == size  # cut back: no line of the batch is left
    with JsonStore(store_path) as s:
        assert [e.data["text"] for e in s.read()] == ["kept"]


# -- file-system errors through the CLI: one line, exit 1 ----------------------------


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder outside pytest's private tmp root (the program may run with fewer rights)."""
    import tempfile

    d = Path(tempfile.mkdtemp(prefix="itui-fs-"))
    os.chmod(d, 0o777)
    yield d
    for p in [d, *d.rglob("*")]:
        if not p.is_symlink():
            os.chmod(p, 0o777 if p.is_dir() else 0o666)
    shutil.rmtree(d)


def program(store: Path, *args: str, fsize: int | None = None) -> subprocess.CompletedProcess[str]:
    """The real program; as root, without the right to ignore file modes (as a responder)."""
    cmd = [sys.executable, "-m", "incident_tui", *args]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: file modes would not apply")
        cmd = [setpriv, "--bounding-set=-dac_override,-dac_read_search", *cmd]
    env = {**os.environ, "INCIDENT_TUI_STORE": str(store), "INCIDENT_TUI_USER": "alice"}
    return subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        preexec_fn=None if fsize is None else _limit_fsize(fsize),
    )


def one_line_error(r: subprocess.CompletedProcess[str], *words: str) -> None:
    assert r.returncode == 1, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    for w in words:
        assert w in lines[0], lines[0]


def test_a_read_only_store_reads_and_refuses_writes_in_one_line(shared_dir: Path) -> None:
    store = shared_dir / "war.jsonl"
    assert program(store, "declare", "db down").returncode == 0
    os.chmod(store, 0o444)
    listed = program(store, "list")
    assert listed.returncode == 0 and "db down" in listed.stdout
    before = store.read_bytes()
    one_line_error(program(store, "log", "1", "a note"), "cannot write store", str(store), "Permission denied")
    assert store.read_bytes() == before


def test_a_torn_tail_on_a_read_only_store_is_read_with_a_warning(shared_dir: Path) -> None:
    store = shared_dir / "war.jsonl"
    assert program(store, "declare", "db down").returncode == 0
    with open(store, "ab") as f:
        f.write(b'{"seq":2,"id":"half')
    os.chmod(store, 0o444)
    r = program(store, "list")
    assert r.returncode == 0 and "db down" in r.stdout
    assert "unfinished last write" in r.stderr and "Traceback" not in r.stderr


def test_an_unreadable_store_is_one_line(shared_dir: Path) -> None:
    store = shared_dir / "war.jsonl"
    assert program(store, "declare", "db down").returncode == 0
    os.chmod(store, 0o000)
    one_line_error(program(store, "list"), "cannot read store", str(store), "Permission denied")


def test_a_store_in_an_unwritable_folder_is_one_line(shared_dir: Path) -> None:
    folder = shared_dir / "locked"
    folder.mkdir()
    os.chmod(folder, 0o555)
    one_line_error(program(folder / "war.jsonl", "declare", "db down"), "cannot create store", "Permission denied")
    assert not (folder / "war.jsonl").exists()


def test_a_full_disk_is_one_line_and_stores_nothing(shared_dir: Path) -> None:
    store = shared_dir / "war.jsonl"
    assert program(store, "declare", "db down").returncode == 0
    size = store.stat().st_size
    r = program(store, "log", "1", "y" * 3000, fsize=size + 1000)
    one_line_error(r, "cannot write store", "File too large", "nothing was acknowledged")
    assert store.stat().st_size == size


def test_a_new_store_in_a_group_writable_folder_is_group_writable(shared_dir: Path) -> None:
    folder = shared_dir / "team"
    folder.mkdir()
    os.chmod(folder, 0o2775)  # the README's setgid jump-host folder
    old = os.umask(0o022)
    try:
        with JsonStore(folder / "war.jsonl") as s:
            s.append([note("x")])
    finally:
        os.umask(old)
    mode = stat.S_IMODE((folder / "war.jsonl").stat().st_mode)
    assert mode & 0o060 == 0o060, oct(mode)
    private = shared_dir / "mine.jsonl"  # a folder the group cannot write: the umask decides
    os.chmod(shared_dir, 0o755)
    old = os.umask(0o022)
    try:
        JsonStore(private).close()
    finally:
        os.umask(old)
        os.chmod(shared_dir, 0o777)
    assert stat.S_IMODE(private.stat().st_mode) & 0o020 == 0


def test_an_index_built_in_chunks_keeps_batches_that_straddle_a_chunk(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The index is built a chunk at a time: a batch whose lines cross a chunk's end is mid-log,
    not unfinished (a store past 8 MB of batches failed to open: 'seq N where M was due')."""
    from incident_tui.store import jsonfile

    with JsonStore(store_path, index_min_bytes=1 << 40) as s:
        for b in range(40):
            s.append([note(f"{b}.{i} " + "x" * 50) for i in range(7)])
    monkeypatch.setattr(jsonfile, "_BUILD_CHUNK", 1000)  # many chunk ends fall inside batches
    with JsonStore(store_path, index_min_bytes=0) as s:
        got = [e.data["text"].split()[0] for e in s.read()]
        assert got == [f"{b}.{i}" for b in range(40) for i in range(7)]
        assert s.append([note("next")])[0].seq == 281


# -- found by this session's red team --------------------------------------------------


def test_a_dangling_symlink_is_refused_and_its_target_never_created(tmp_path: Path) -> None:
    """A member of a shared folder could point the store's name at a victim's dotfile."""
    target = tmp_path / "victim" / ".bash_logout"
    target.parent.mkdir()
    link = tmp_path / "war.jsonl"
    link.symlink_to(target)
    with pytest.raises(StoreError, match="symlink to a file that does not exist") as info:
        JsonStore(link)
    assert "\n" not in str(info.value)
    assert not target.exists() and link.is_symlink()


def test_a_planted_symlink_never_redirects_a_replaced_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """replace_file's temporary name is random, and even a guessed one is never written through."""
    from incident_tui.store import files

    victim = tmp_path / "precious.txt"
    victim.write_text("precious")
    monkeypatch.setattr(files.secrets, "token_hex", lambda n: "guessed")
    (tmp_path / ".war.jsonl.idx.guessed.tmp").symlink_to(victim)
    with pytest.raises(FileExistsError):
        files.replace_file(tmp_path / "war.jsonl.idx", b"index bytes")
    assert victim.read_text() == "precious" and not (tmp_path / "war.jsonl.idx").exists()


def test_a_line_that_is_not_json_but_holds_its_seq_is_skipped_not_fatal(store_path: Path) -> None:
    with JsonStore(store_path) as s:
        s.append([note("one")])
    with open(store_path, "ab") as f:
        f.write(b'{"seq":2,garbage \xff}\n')
    with JsonStore(store_path) as s:
        events = s.read()
        assert [e.seq for e in events] == [1, 2] and events[1].kind == ""  # a placeholder in its place
        assert s.append([note("three")])[0].seq == 3
        assert b"garbage" not in b"".join(s.raw_lines(0, 10))  # streamed as the placeholder


def test_a_writer_that_follows_an_empty_replacement_writes_the_header_first(store_path: Path) -> None:
    writer = JsonStore(store_path)
    writer.append([note("old")])
    store_path.rename(store_path.with_name("old.jsonl"))
    store_path.touch()  # a new, empty file (its creator has not written the header yet)
    writer.append([note("new")])
    with JsonStore(store_path) as s:
        assert [e.data["text"] for e in s.read()] == ["new"]


def test_a_store_cut_short_behind_a_writer_is_refused_not_reused(store_path: Path) -> None:
    writer = JsonStore(store_path)
    writer.append([note("a"), note("b")])
    writer.append([note("c")])
    size = len(store_path.read_bytes().split(b"\n")[0]) + 1
    os.truncate(store_path, size + 20)  # in the middle of the first event: history cut
    with pytest.raises(StoreError, match="shrank") as info:
        writer.append([note("d")])
    assert "\n" not in str(info.value)
    with JsonStore(store_path, warn=lambda m: None) as other:  # another writer fills it back up
        other.append([note("x" * 200)])
    assert store_path.stat().st_size > size + 20
    with pytest.raises(StoreError, match="shrank"):  # still refused: not the history it had read
        writer.append([note("e")])


def test_a_fifo_put_in_the_stores_place_is_refused_without_hanging(store_path: Path) -> None:
    reader = JsonStore(store_path)
    fifo = store_path.with_name("fifo")
    os.mkfifo(fifo)
    os.replace(fifo, store_path)
    with pytest.raises(StoreError, match="no longer a regular file"):
        reader.read()


@pytest.mark.parametrize("index", [False, True])
def test_lines_of_zeros_at_the_end_are_a_power_cuts_torn_write(
    store_path: Path, index: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last page of an append reached the disk, the first did not: zeros with newlines
    among them. Torn (cut, kept aside, one warning), not a store nobody can open."""
    from incident_tui.store import jsonfile

    with JsonStore(store_path) as s:
        s.append([note("kept")])
    with open(store_path, "ab") as f:
        f.write(b"\0" * 300 + b"\n" + b"\0" * 200 + b"\n" + b"\0" * 10)
    if index:
        monkeypatch.setattr(jsonfile, "_BUILD_CHUNK", 64)
    warnings: list[str] = []
    with JsonStore(store_path, warn=warnings.append, index_min_bytes=0 if index else None) as s:
        assert [e.data["text"] for e in s.read()] == ["kept"]
        assert s.append([note("next")])[0].seq == 2
    assert len(warnings) == 1 and "torn" in warnings[0]
