"""The two small file routines every part shares: one warning line, one atomic replace.

They live with the stores (the lowest layer that does I/O) so the server, the UI and
the CLI use the same ones; the domain below stays free of files and terminals.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
import sys
from collections.abc import Iterable
from pathlib import Path

from ..domain.text import safe_text


def warn(message: str) -> None:
    """One warning line on stderr; the message may quote stored text, so it is made safe."""
    print(f"incident-tui: warning: {safe_text(message, 2000, oneline=True)}", file=sys.stderr)


def open_regular(path: Path | str, flags: int = os.O_RDONLY, mode: int = 0o600) -> int:
    """A descriptor on a regular file at `path` itself: never through a symlink (a member of
    a shared folder could plant one at a name we use) and never blocking on a FIFO planted
    there. Anything else raises OSError naming what it found."""
    fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK, mode)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    return fd


def read_regular(path: Path | str) -> bytes:
    """The bytes of the regular file at `path` (as `open_regular`); FileNotFoundError if none."""
    fd = open_regular(path)
    try:
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def write_all(fd: int, data: bytes) -> None:
    """Write all of `data` (a full disk takes part of a write and raises on the next)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def write_new(path: Path, data: bytes, mode: int = 0o600) -> None:
    """A file that must not exist yet (bytes kept aside: a torn tail, a damaged line): never
    through a symlink someone put in its place, never over another file."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        write_all(fd, data)
    finally:
        os.close(fd)


def replace_file(path: Path, data: bytes | Iterable[bytes], *, mode: int = 0o600, durable: bool = True) -> None:
    """Give `path` the content `data` so that a reader, or a crash, sees the old file or the
    new one whole, never half of one.

    The content goes to a new temporary file beside `path` and is renamed over it. The
    temporary name is random and opened O_EXCL|O_NOFOLLOW: in a shared folder another
    member could otherwise plant a symlink under a predictable name and have this process
    write through it into any file it may write. `durable` (records: an outbox, an index) also
    fsyncs the file before the rename and the folder after it, so the new content survives
    a power cut; without it (a draft, a cache, a status) a crash may leave the old content.
    Raises OSError, the temporary file removed."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        try:
            for chunk in [data] if isinstance(data, bytes | bytearray | memoryview) else data:
                write_all(fd, chunk)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except FileExistsError:
        raise  # not ours: leave whatever is there alone
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if durable:
        try:
            dfd = os.open(path.parent, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(dfd)
        except OSError:
            pass  # a folder some file systems cannot fsync: the file itself is durable
        finally:
            os.close(dfd)
