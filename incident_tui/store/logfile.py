"""The store file itself: how it is opened, created, locked and told apart from a replacement.

Writers lock the store file, not a side file. A side lock file can be deleted while
writers run (it was: old writers then held a lock on the deleted file, new ones on a
fresh one, and two events got the same seq). The store file cannot go away under its
lock unnoticed: after taking the lock a writer checks that the path still names the
file it locked, and follows a replacement instead of writing beside it; after its
fsync it checks again, so a write into a file that was replaced meanwhile is reported
as not written (the caller retries by event id) rather than acknowledged and lost.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from pathlib import Path

from .base import StoreError

# The open errors that mean "read it, but you may not write it".
_READ_ONLY = {errno.EACCES, errno.EPERM, errno.EROFS}


def refuse_special(path: Path) -> None:
    """A store is a regular file: a directory, FIFO, device or socket is refused in one line."""
    try:
        mode = path.stat().st_mode  # follows a symlink: its target is what would be read
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError(f"cannot open store {path}: {exc.strerror}") from None
    if not stat.S_ISREG(mode):
        raise StoreError(f"store {path} is {_what(mode)}; give the path of a store file (it is created if missing)")


def _what(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def open_store(path: Path) -> tuple[int, str | None]:
    """A descriptor on the store file for locking and appending, creating an empty file if
    there is none (a symlink's target, never the link). Returns `(fd, read_only)` where
    `read_only` says why this process may only read (the fd is then read-only).

    Never replaces anything: creation is an O_CREAT open in place, so a path naming
    /dev/null, a FIFO or a shared file's symlink is refused or followed, not swapped."""
    refuse_special(path)
    read_only: str | None = None
    # O_NONBLOCK: a FIFO that appeared since the check must not hang the open.
    flags = os.O_RDWR | os.O_APPEND | os.O_NONBLOCK
    try:
        try:
            fd = os.open(path, flags)
        except FileNotFoundError:
            fd = _create(path, flags)
        except OSError as exc:
            if exc.errno not in _READ_ONLY:
                raise
            read_only = exc.strerror
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except StoreError:
        raise
    except OSError as exc:
        doing = "read" if exc.errno in _READ_ONLY else "open"
        raise StoreError(f"cannot {doing} store {path}: {exc.strerror}{_advice(exc)}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise StoreError(f"store {path} is {_what(mode)}; give the path of a store file (it is created if missing)")
    return fd, read_only


def _create(path: Path, flags: int) -> int:
    """A new store file at `path` itself: O_EXCL, so a symlink (a dangling one could point
    anywhere, e.g. a victim's ~/.bash_logout planted in a shared folder) is never followed
    into creating its target."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, 0o660)
    except FileExistsError:
        try:  # another process created it meanwhile
            return os.open(path, flags)
        except FileNotFoundError:
            raise StoreError(
                f"store {path} is a symlink to a file that does not exist; create the target first "
                "or give the target's path"
            ) from None
    except OSError as exc:
        raise StoreError(f"cannot create store {path}: {exc.strerror}{_advice(exc)}") from None
    share_with_group(fd, path.parent)
    try:
        dfd = os.open(Path(os.path.realpath(path)).parent, os.O_RDONLY)
        try:
            os.fsync(dfd)  # the new name survives a power cut too
        finally:
            os.close(dfd)
    except OSError:
        pass  # durability of the name is best effort; the first append fsyncs the file
    return fd


def share_with_group(fd: int, folder: Path) -> None:
    """A file this process just created takes the group's read and write bits when its
    folder is group-writable (a setgid jump-host folder shared by the responders): the
    umask would otherwise leave the README's shared store writable by its creator only."""
    try:
        if os.stat(folder).st_mode & stat.S_IWGRP:
            st = os.fstat(fd)
            if st.st_uid == os.geteuid():
                os.fchmod(fd, stat.S_IMODE(st.st_mode) | stat.S_IRGRP | stat.S_IWGRP)
    except OSError:
        pass  # a file system without modes: nothing to share


def _advice(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return " (ask for access, or give --store a file you can use)"
    if exc.errno == errno.EROFS:
        return " (the file system is read-only)"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return " (free some space, then retry: nothing was acknowledged)"
    return ""


def write_error(path: Path, exc: OSError) -> StoreError:
    """The one-line error for a write that failed (nothing of it was acknowledged)."""
    return StoreError(f"cannot write store {path}: {exc.strerror or exc}{_advice(exc)}")


class StoreLock:
    """An exclusive lock on the store file that follows the file the path names.

    A blocking flock: contended hand-over takes milliseconds, where polling locks take
    up to 1 s."""

    def __init__(self, path: Path, fd: int, read_only: str | None) -> None:
        self.path = path
        self.fd = fd
        self.read_only = read_only  # why this process may not write, if it may not

    def ino(self) -> tuple[int, int]:
        st = os.fstat(self.fd)
        return st.st_dev, st.st_ino

    def named(self) -> bool:
        """Whether the path still names the locked file."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return False
        return (st.st_dev, st.st_ino) == self.ino()

    def __enter__(self) -> StoreLock:
        while True:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            if self.named():
                return self
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            # Replaced (or deleted) since we opened it: lock what the path names now.
            if not self.path.exists():
                raise StoreError(f"store file {self.path} has disappeared")
            fd, read_only = open_store(self.path)
            os.close(self.fd)
            self.fd, self.read_only = fd, read_only

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self.fd)
