"""A store path that names no regular file is refused, and never replaced (issue 9, item 6)."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

from incident_tui.store.base import StoreError
from incident_tui.store.jsonfile import JsonStore


def test_a_fifo_a_directory_and_a_socket_are_refused_untouched(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    folder = tmp_path / "folder"
    folder.mkdir()
    sock_path = tmp_path / "sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        for path, what in ((fifo, "a FIFO"), (folder, "a directory"), (sock_path, "not a regular file")):
            before = path.lstat()
            with pytest.raises(StoreError) as info:
                JsonStore(path)
            assert what in str(info.value) and "\n" not in str(info.value)
            after = path.lstat()
            assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_a_character_device_is_refused_and_stays_a_device(tmp_path: Path) -> None:
    dev = tmp_path / "null"
    os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a /dev/null of our own
    with pytest.raises(StoreError, match="is a device"):
        JsonStore(dev)
    assert stat.S_ISCHR(dev.lstat().st_mode)


def test_a_symlink_to_an_empty_shared_file_is_followed_not_replaced(tmp_path: Path) -> None:
    shared = tmp_path / "shared" / "war.jsonl"
    shared.parent.mkdir()
    shared.touch()
    link = tmp_path / "mine.jsonl"
    link.symlink_to(shared)
    with JsonStore(link) as s:
        assert s.latest_seq() == 0
    assert link.is_symlink()
    assert shared.stat().st_size > 0  # the header went into the shared file itself
