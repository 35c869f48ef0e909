"""A webhook receiver on loopback that records every request and fails on command.

Real HTTP (the standard library's threading server): each request is answered by the
next planned `Answer` (200 once the plan is empty), and recorded with what it was
answered, so tests can wait for "N accepted" and count tries per webhook-id.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering: longer than the sender's timeout is a timeout


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    status: int = 0

    def json(self) -> Any:
        return orjson.loads(self.body)


class Receiver:
    def __init__(self) -> None:
        self.hits: list[Hit] = []
        self.plans: dict[str, list[Answer]] = {}  # path -> answers to give, in order
        self.default: dict[str, Answer] = {}  # path -> answer once its plan is used up
        self.cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                n = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(n)
                hit = Hit(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.monotonic())
                with receiver.cond:
                    plan = receiver.plans.get(self.path) or []
                    answer = plan.pop(0) if plan else receiver.default.get(self.path, Answer())
                gone = False
                if answer.delay:
                    time.sleep(answer.delay)
                    gone = receiver._closed(self.connection)
                try:
                    if gone:
                        raise ConnectionResetError("the sender gave up waiting")
                    self.send_response(answer.status)
                    for k, v in answer.headers.items():
                        self.send_header(k, v)
                    self.send_header("content-length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    hit.status = -1  # the sender had given up (a timeout): not an answer it saw
                else:
                    hit.status = answer.status
                with receiver.cond:
                    receiver.hits.append(hit)
                    receiver.cond.notify_all()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @staticmethod
    def _closed(conn: socket.socket) -> bool:
        """True when the sender has hung up (it timed out): an answer now is never seen."""
        conn.setblocking(False)
        try:
            return conn.recv(1, socket.MSG_PEEK) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True
        finally:
            conn.setblocking(True)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def plan(self, path: str, *answers: Answer) -> None:
        with self.cond:
            self.plans.setdefault(path, []).extend(answers)

    def hits_on(self, path: str) -> list[Hit]:
        with self.cond:
            # In arrival order: a slow answer (a timeout) is recorded after later tries.
            return sorted((h for h in self.hits if h.path == path), key=lambda h: h.at)

    def accepted(self, path: str) -> list[Hit]:
        return [h for h in self.hits_on(path) if 200 <= h.status < 300]

    def wait(self, pred: Callable[[], Any], timeout: float = 20.0, what: str = "requests") -> Any:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                got = pred()
                if got:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out after {timeout}s waiting for {what}; hits: {self.summary()}")
                self.cond.wait(min(left, 0.5))

    def wait_accepted(self, path: str, n: int, timeout: float = 20.0) -> list[Hit]:
        self.wait(lambda: len(self.accepted(path)) >= n, timeout, f"{n} accepted on {path}")
        return self.accepted(path)

    def summary(self) -> list[tuple[str, int]]:
        return [(h.path, h.status) for h in self.hits]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
