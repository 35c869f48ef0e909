"""The chunk-level SSE reader against httpx-sse's line-level one on the same bytes."""

from __future__ import annotations

import random

import httpx
import pytest
from httpx_sse import EventSource

from incident_tui.store.sse import SSEParser

STREAMS = [
    b'retry: 1000\n: hello\n\nid: 1\ndata: {"a": 1}\n\nid: 2\ndata: {"b": 2}\n\n',
    b"id: 1\r\ndata: one\r\n\r\n: ping\r\n\r\nid: 2\r\ndata: two\r\n\r\n",
    b"id: 7\rdata: cr only\r\rdata:no space\n\n",
    b"data: first line\ndata: second line\nid: 9\n\n",
    b"data\n\ndata:\n\nevent: x\ndata: typed\n\n",
    b": only a comment\n\n: another\n\n",
    b"id: 3\ndata: unfinished",
]


def reference(raw: bytes) -> list[tuple[str, str]]:
    resp = httpx.Response(200, headers={"content-type": "text/event-stream"}, content=raw)
    return [(s.id, s.data) for s in EventSource(resp).iter_sse() if s.data or s.event != "message"]


def ours(raw: bytes, cuts: list[int]) -> tuple[list[tuple[str, str]], int]:
    p = SSEParser()
    out: list[tuple[str, str]] = []
    comments = 0
    prev = 0
    for cut in [*cuts, len(raw)]:
        frames = p.feed(raw[prev:cut])
        prev = cut
        comments += frames.comments
        out += [(i or "", d.decode()) for i, d in frames.events]
    return out, comments


@pytest.mark.parametrize("raw", STREAMS)
def test_same_events_as_httpx_sse_however_the_bytes_are_cut(raw: bytes) -> None:
    want = reference(raw)
    rng = random.Random(len(raw))
    for _ in range(50):
        cuts = sorted(rng.sample(range(1, len(raw)), min(len(raw) - 1, rng.randint(0, 6))))
        got, _ = ours(raw, cuts)
        assert [(i, d) for i, d in got if d] == [(i, d) for i, d in want if d], cuts
    # Every byte on its own, the hardest cut (a CR and its LF in separate chunks).
    got, _ = ours(raw, list(range(1, len(raw))))
    assert [(i, d) for i, d in got if d] == [(i, d) for i, d in want if d]


def test_comments_are_counted_so_pings_keep_the_link_alive() -> None:
    _, comments = ours(b": ping\n\n: ping\r\n\r\nid: 1\ndata: x\n\n", [3, 9])
    assert comments == 2


def test_an_unfinished_event_waits_for_its_blank_line() -> None:
    p = SSEParser()
    assert p.feed(b"id: 1\ndata: {}").events == []
    assert p.feed(b"\n").events == []
    assert p.feed(b"\n").events == [("1", b"{}")]
    assert p.last_id == "1"


def test_retry_and_last_id_are_remembered() -> None:
    p = SSEParser()
    p.feed(b"retry: 2500\nid: 41\ndata: a\n\ndata: b\n\n")
    assert p.retry_ms == 2500
    assert p.last_id == "41"


def test_a_bom_opening_the_stream_is_dropped_even_split_across_chunks() -> None:
    for cuts in ([], [1], [2], [1, 2], [3]):
        raw = b"\xef\xbb\xbfid: 1\ndata: x\n\n"
        p, out, prev = SSEParser(), [], 0
        for cut in [*cuts, len(raw)]:
            out += p.feed(raw[prev:cut]).events
            prev = cut
        assert out == [("1", b"x")], cuts


def test_a_cr_only_stream_is_delivered_without_waiting_for_the_next_chunk() -> None:
    p = SSEParser()
    assert p.feed(b"id: 4\rdata: y\r\r").events == [("4", b"y")]
    assert p.feed(b"\ndata: z\r\n\r\n").events == [("4", b"z")]  # a CRLF split: one line end, not two


def test_empty_data_is_an_event_the_client_skips() -> None:
    # `data:` alone is an event with empty data by the spec; the remote store skips such
    # events instead of failing to parse them as JSON (and reconnecting).
    assert SSEParser().feed(b"data:\n\n").events == [(None, b"")]
