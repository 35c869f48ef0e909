"""A Server-Sent Events reader that works on whole chunks of bytes.

httpx-sse decodes text and walks it line by line in Python, one `ServerSentEvent` object
per event; with 50 clients streaming 500 events a second each (bench/bench_load.py) that
parsing was the largest share of a client's CPU. The server writes everything that
arrived since its last wake as one chunk, so splitting whole chunks with `bytes.split`
does the same job with a handful of C calls per chunk. It follows the WHATWG parsing
rules the server and any proxy in between can produce: LF, CRLF or CR line ends,
comments, `data:` over several lines, an optional space after the colon.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Frames:
    """What one chunk completed: the data of each event (with its id), and whether any
    comment (a ping) came, which says the link is alive though no event did."""

    events: list[tuple[str | None, bytes]] = field(default_factory=list)
    comments: int = 0


class SSEParser:
    def __init__(self) -> None:
        self._buf = b""
        self._started = False  # a UTF-8 BOM may open the stream, and only there
        self._after_cr = False  # the last chunk ended in CR: an LF opening this one is its pair
        self.last_id: str | None = None
        self.retry_ms: int | None = None

    def feed(self, chunk: bytes) -> Frames:
        if not self._started:
            if len(self._buf + chunk) < 3 and b"\xef\xbb\xbf".startswith(self._buf + chunk):
                self._buf += chunk  # too short yet to tell a BOM from data
                return Frames()
            chunk, self._buf, self._started = (self._buf + chunk).removeprefix(b"\xef\xbb\xbf"), b"", True
        if self._after_cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]
        if b"\r" in chunk:
            # A CR ends a line at once (a CR-only server must not wait for its next chunk);
            # an LF right after it, even in the next chunk, is the same line end.
            self._after_cr = chunk.endswith(b"\r")
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        elif chunk:
            self._after_cr = False
        *blocks, self._buf = (self._buf + chunk).split(b"\n\n")
        out = Frames()
        for block in blocks:
            if block.startswith(b"id: "):
                # The server's own shape, `id: N` then one `data:` line: one split, no loop.
                head, sep, rest = block.partition(b"\ndata: ")
                if sep and b"\n" not in rest and b"\n" not in head and b"\0" not in head:
                    self.last_id = head[4:].decode("utf-8", "replace")
                    out.events.append((self.last_id, rest))
                    continue
            data: list[bytes] | None = None
            for line in block.split(b"\n"):
                if line.startswith(b"data:"):
                    value = line[6:] if line.startswith(b"data: ") else line[5:]
                    if data is None:
                        data = [value]
                    else:
                        data.append(value)
                elif line.startswith(b":"):
                    out.comments += 1
                elif line.startswith(b"id"):
                    name, _, value = line.partition(b":")
                    if name == b"id" and b"\0" not in value:
                        self.last_id = (value[1:] if value.startswith(b" ") else value).decode("utf-8", "replace")
                elif line.startswith(b"retry:"):
                    value = line[6:].strip()
                    if value.isdigit():
                        self.retry_ms = int(value)
                elif line == b"data":  # a field name alone means an empty value
                    data = [b""] if data is None else [*data, b""]
            if data is not None:
                out.events.append((self.last_id, b"\n".join(data)))
        return out
