"""A program in a real pty: send keys, wait for text on the screen stream, time it.

The same clock as ttfp.py: what counts is when the bytes reach the terminal, escape
codes stripped. The pty answers the cursor-position and device-attribute queries a
real terminal would, so Textual never stalls waiting for them.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import termios
import time

ANSI = re.compile(
    rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)"
    rb"|\x1b[()][0-9A-Za-z]|\x1b[=>78cDEHMNOZ]"
)


class PtyProgram:
    def __init__(self, cmd: list[str], cols: int, rows: int, env: dict[str, str]) -> None:
        self.cols, self.rows = cols, rows
        self.started = time.perf_counter()
        pid, fd = pty.fork()
        if pid == 0:  # the child: become the program
            os.environ.update(env)
            os.environ.setdefault("TERM", "xterm-256color")
            os.execvp(cmd[0], cmd)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.raw = bytearray()  # everything ever received (for a screen dump)
        self._since = bytearray()  # received since the last mark()

    def _pump(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:
            return False
        if not chunk:
            return False
        if b"\x1b[6n" in chunk:
            os.write(self.fd, f"\x1b[{self.rows};{self.cols}R".encode())
        if b"\x1b[c" in chunk:
            os.write(self.fd, b"\x1b[?62;c")
        self.raw += chunk
        self._since += chunk
        return True

    def mark(self) -> None:
        """Forget what arrived so far: the next wait looks only at newer output."""
        self._since.clear()

    def drain(self, seconds: float) -> None:
        end = time.perf_counter() + seconds
        while (left := end - time.perf_counter()) > 0 and self._pump(left):
            pass
        self.mark()

    def wait_for(self, text: str, timeout: float) -> float | None:
        """perf_counter when `text` showed in output since the last mark, or None."""
        needle = text.encode()
        end = time.perf_counter() + timeout
        while (left := end - time.perf_counter()) > 0:
            if not self._pump(min(left, 0.05)):
                return None
            plain = ANSI.sub(b"", bytes(self._since)).replace(b"\r", b"").replace(b"\n", b"")
            if needle in plain:
                return time.perf_counter()
        return None

    def send(self, keys: str | bytes) -> float:
        data = keys.encode() if isinstance(keys, str) else keys
        t = time.perf_counter()
        os.write(self.fd, data)
        return t

    def screen(self) -> str:
        """The screen as a terminal would show it now (needs pyte; a debugging aid)."""
        import pyte

        scr = pyte.Screen(self.cols, self.rows)
        pyte.ByteStream(scr).feed(bytes(self.raw))
        return "\n".join(scr.display)

    def close(self, quit_keys: bytes = b"\x11") -> None:
        try:
            os.write(self.fd, quit_keys)
            end = time.perf_counter() + 2
            while time.perf_counter() < end:
                pid, _ = os.waitpid(self.pid, os.WNOHANG)
                if pid:
                    break
                self._pump(0.05)
            else:
                os.kill(self.pid, signal.SIGTERM)
                os.waitpid(self.pid, 0)
        except (OSError, ChildProcessError):
            pass
        os.close(self.fd)
