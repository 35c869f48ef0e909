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
        self.last_id: str | None = None
        self.retry_ms: int | None = None

    def feed(self, chunk: bytes) -> Frames:
        buf = self._buf + chunk
        if b"\r" in buf:
            # A lone CR at the very end may be the first half of a CRLF: keep it for later.
            tail = b"\r" if buf.endswith(b"\r") else b""
            if tail:
                buf = buf[:-1]
            buf = buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n") + tail
        *blocks, self._buf = buf.split(b"\n\n")
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
